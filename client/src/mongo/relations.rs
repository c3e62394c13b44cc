//! Relations by reference: a child document holds its parent's key (`posts.author_id` →
//! `users._id`), and eager loading reads every parent's children with one `find` per level,
//! `{author_id: {$in: [keys]}}`, as the SQL side loads with one batched query.

use std::collections::HashMap;

use mongodb::bson::{Bson, Document, doc};

use super::crud::Target;
use super::filter::{check_model, filter_document};
use super::values::{field_path, to_bson};
use crate::connection::Value;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::relation::{Link, Relation};

/// The key a value groups under (values are not `Hash`: floats).
fn group_key(value: &Value) -> String {
    format!("{value:?}")
}

impl Target<'_> {
    /// Each parent's children along `relation`, in parent order: one `find` for all parents.
    pub(crate) async fn load_children<P: Model, C: Model>(
        &mut self,
        relation: &Relation<P, C>,
        parents: &[P],
    ) -> Result<Vec<Vec<C>>> {
        check_model::<C>()?;
        let Link::Direct {
            parent_key,
            foreign_key,
        } = relation.link
        else {
            return Err(Error::MongoUnsupported {
                feature: format!(
                    "many-to-many relations to {} (keep the child keys in an array field, or load the join collection's model with a has-many relation and then its children)",
                    C::TABLE
                ),
            });
        };
        let parent_values: Vec<Value> = parents
            .iter()
            .map(|parent| parent.value_of(parent_key).unwrap_or(Value::Null))
            .collect();
        let mut keys: Vec<Bson> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for value in &parent_values {
            if *value != Value::Null && seen.insert(group_key(value)) {
                keys.push(to_bson(value)?);
            }
        }
        if keys.is_empty() {
            return Ok(parents.iter().map(|_| Vec::new()).collect());
        }
        let mut filter = doc! { field_path::<C>(foreign_key): { "$in": keys } };
        if relation.filter.is_some() {
            filter = doc! { "$and": [filter, filter_document::<C>(relation.filter.as_ref())?] };
        }
        let mut sort = Document::new();
        for (column, descending) in &relation.order {
            sort.insert(field_path::<C>(column), if *descending { -1 } else { 1 });
        }
        let documents = self
            .find_filtered::<C>(filter, sort, None, None, None)
            .await?;
        let mut by_parent: HashMap<String, Vec<C>> = HashMap::new();
        for document in &documents {
            let child: C = super::values::model_of(document)?;
            let key = child.value_of(foreign_key).unwrap_or(Value::Null);
            by_parent.entry(group_key(&key)).or_default().push(child);
        }
        let limit = relation.limit.map_or(usize::MAX, |limit| {
            usize::try_from(limit).unwrap_or(usize::MAX)
        });
        Ok(parent_values
            .iter()
            .map(|value| {
                let mut children = by_parent
                    .get(&group_key(value))
                    .cloned()
                    .unwrap_or_default();
                children.truncate(limit);
                children
            })
            .collect())
    }
}
