//! Loading some columns of related rows: `User::posts().select((Post::ID, Post::TITLE))` gives
//! each user a `Vec<(i64, String)>` instead of whole `Post`s, read by the same one statement per
//! level (batched keys, per-parent limits ranked in SQL) as a whole-row load.

use super::{Relation, row_parent_key};
use crate::error::Result;
use crate::executor::Executor;
use crate::model::Model;
use crate::query::Selection;
use crate::query::rendered_statements::StatementText;
use crate::relation::eager::{Load, One};

/// A relation loading a selection of each related row's columns; made by
/// [`Relation::select`]. Filters, order and limit are those of the relation it was made from.
#[derive(Debug)]
pub struct RelationColumns<P, C, S> {
    relation: Relation<P, C>,
    selection: S,
}

impl<P: Model, C: Model> Relation<P, C> {
    /// Loads only `selection` (columns and aggregates of `C`, as [`crate::Select::select`]
    /// takes) of each related row: `.with(User::posts().select((Post::ID, Post::TITLE)))`
    /// gives `(User, Vec<(i64, String)>)` rows. Set the relation's filter, order and limit
    /// first; the selected columns need not include the keys.
    ///
    /// Only columns of the related model are accepted:
    ///
    /// ```compile_fail
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "users")]
    /// # struct User { #[foxdb(primary_key)] id: i64, name: String }
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "posts")]
    /// # struct Post { #[foxdb(primary_key)] id: i64, author_id: i64, title: String }
    /// let posts = foxdb::Relation::<User, Post>::has_many(User::ID, Post::AUTHOR_ID);
    /// let wrong = posts.select((User::NAME,)); // a User column in a Post selection
    /// ```
    pub fn select<S: Selection<C>>(self, selection: S) -> RelationColumns<P, C, S> {
        RelationColumns {
            relation: self,
            selection,
        }
    }
}

impl<P: Model, C: Model> One<Relation<P, C>> {
    /// Loads only `selection` of each parent's related row (see [`Relation::select`]):
    /// `.with(User::profile().select((Profile::BIO,)))` gives each user an
    /// `Option<(Option<String>,)>`.
    pub fn select<S: Selection<C>>(self, selection: S) -> One<RelationColumns<P, C, S>> {
        One::new(self.into_list().select(selection))
    }
}

impl<P: Model, C: Model, S: Selection<C>> RelationColumns<P, C, S> {
    /// Loads each parent's first related row's selection as an `Option` (see
    /// [`Relation::one`]): at most one row per parent leaves the database.
    pub fn one(mut self) -> One<Self> {
        self.relation.limit = Some(self.relation.limit.map_or(1, |limit| limit.min(1)));
        One::new(self)
    }
}

impl<P, C, S> Load<P> for One<RelationColumns<P, C, S>>
where
    P: Model,
    C: Model,
    S: Selection<C> + Send,
    S::Output: Clone,
{
    type Output = Option<S::Output>;

    async fn load<E: Executor>(
        &self,
        parents: &[P],
        executor: E,
    ) -> Result<Vec<Option<S::Output>>> {
        let lists = self.list().load(parents, executor).await?;
        Ok(lists
            .into_iter()
            .map(|list| list.into_iter().next())
            .collect())
    }

    fn statements(&self, backend: crate::Backend, out: &mut Vec<(String, Vec<crate::Value>)>) {
        self.list().statements(backend, out);
    }

    fn reach_all_tenants(&mut self) {
        self.list_mut().reach_all_tenants();
    }
}

impl<P, C, S> Load<P> for RelationColumns<P, C, S>
where
    P: Model,
    C: Model,
    S: Selection<C> + Send,
    S::Output: Clone,
{
    type Output = Vec<S::Output>;

    async fn load<E: Executor>(&self, parents: &[P], executor: E) -> Result<Vec<Vec<S::Output>>> {
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let selection = &self.selection;
        self.relation
            .load_grouped(
                parents,
                executor,
                |relation, backend, keys| {
                    let (sql, values) = relation.batch_sql_selecting(
                        backend,
                        keys,
                        Some(&|writer| selection.render(writer)),
                    );
                    (StatementText::Rendered(sql), values)
                },
                |row| Ok((row_parent_key(&row)?, selection.decode(&row)?)),
            )
            .await
    }

    fn statements(&self, backend: crate::Backend, out: &mut Vec<(String, Vec<crate::Value>)>) {
        out.push(self.relation.batch_sql_selecting(
            backend,
            &[crate::Value::Int(0)],
            Some(&|writer| self.selection.render(writer)),
        ));
    }

    fn reach_all_tenants(&mut self) {
        self.relation.all_tenants = true;
    }
}
