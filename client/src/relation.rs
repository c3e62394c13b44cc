//! Relations between models, loaded without N+1 queries: one query per relation level for any
//! number of parents (the keys as one array on PostgreSQL, a batched `IN` elsewhere), with
//! per-parent ordering and limits done in SQL by a window function. Relations nest
//! ([`Relation::with`]) and several load side by side at one level; see [`eager`] for the
//! shape of the results.
//!
//! # Expected flow
//! ```ignore
//! // With relations from `fox generate client`, or `Relation::has_many(User::ID, Post::AUTHOR_ID)`.
//! let users = User::find().all(&db).await?;
//! // Each user's five newest published posts: one query for all users.
//! let posts = User::posts()
//!     .filter(Post::PUBLISHED.eq(true))
//!     .order_by(Post::CREATED_AT.desc())
//!     .limit(5)
//!     .load_for(&users, &db)
//!     .await?; // posts[i] belongs to users[i]
//! // Users, their posts and each post's comments: three queries in all.
//! let tree: Vec<(User, Vec<(Post, Vec<Comment>)>)> = User::find()
//!     .with(User::posts().limit(5).with(Post::comments()))
//!     .all(&db)
//!     .await?;
//! // Lazy: one user's posts.
//! let mine = User::posts().of(&users[0]).all(&db).await?;
//! ```

pub mod eager;
mod join;

use std::collections::HashMap;
use std::marker::PhantomData;

use crate::connection::Value;
use crate::error::Result;
use crate::executor::Executor;
use crate::model::{ColumnType, Model};
use crate::query::condition::{Exists, Expr};
use crate::query::{Column, Condition, Order, Select, SqlWriter};

pub use eager::{Append, Load, Nested, One, WithRelations};

const PARENT_ALIAS: &str = "_fox_parent";
const RANK_ALIAS: &str = "_fox_rank";
/// Parameters kept free of key lists, for values the statement binds besides the keys.
const PARAMETER_MARGIN: usize = 100;

/// How a child row is tied to its parent.
#[derive(Clone, Copy, Debug)]
enum Link {
    /// The child holds `foreign_key` → the parent's `parent_key` (one-to-many, one-to-one).
    Direct {
        parent_key: &'static str,
        foreign_key: &'static str,
    },
    /// A join table `through` holds (`through_parent` → parent's `parent_key`,
    /// `through_child` → child's `child_key`) (many-to-many).
    Through {
        parent_key: &'static str,
        through: &'static str,
        through_parent: &'static str,
        through_child: &'static str,
        child_key: &'static str,
    },
}

/// A relation from `P` rows to their `C` rows, with the child filter, order and per-parent
/// limit to load with, and `N`: the relations loaded under each child (`()` for none; added
/// with [`Relation::with`]).
#[derive(Clone, Debug)]
pub struct Relation<P, C, N = ()> {
    link: Link,
    filter: Option<Expr>,
    order: Vec<(&'static str, bool)>,
    limit: Option<u64>,
    nested: N,
    _models: PhantomData<fn() -> (P, C)>,
}

impl<P: Model, C: Model> Relation<P, C> {
    /// One-to-many (or one-to-one): `C.foreign_key` references `P.parent_key`. The key types
    /// must agree: `Relation::has_many(User::ID, Post::AUTHOR_ID)`.
    pub fn has_many<K: ColumnType, F: ColumnType<Compared = K::Compared>>(
        parent_key: Column<P, K>,
        foreign_key: Column<C, F>,
    ) -> Self {
        Self::with_link(Link::Direct {
            parent_key: parent_key.name(),
            foreign_key: foreign_key.name(),
        })
    }

    /// Many-to-one: `P.foreign_key` references `C.key` (each parent has at most one child,
    /// loaded as a list of zero or one, or as an `Option` with [`Relation::one`]):
    /// `Relation::belongs_to(Post::AUTHOR_ID, User::ID)`.
    pub fn belongs_to<F: ColumnType, K: ColumnType<Compared = F::Compared>>(
        foreign_key: Column<P, F>,
        key: Column<C, K>,
    ) -> Self {
        Self::with_link(Link::Direct {
            parent_key: foreign_key.name(),
            foreign_key: key.name(),
        })
    }

    /// Many-to-many through the join model `J`:
    /// `Relation::many_to_many(Post::ID, PostTag::POST_ID, PostTag::TAG_ID, Tag::ID)`.
    pub fn many_to_many<J, PK, JP, JC, CK>(
        parent_key: Column<P, PK>,
        through_parent: Column<J, JP>,
        through_child: Column<J, JC>,
        child_key: Column<C, CK>,
    ) -> Self
    where
        J: Model,
        PK: ColumnType,
        JP: ColumnType<Compared = PK::Compared>,
        CK: ColumnType,
        JC: ColumnType<Compared = CK::Compared>,
    {
        Self::with_link(Link::Through {
            parent_key: parent_key.name(),
            through: J::TABLE,
            through_parent: through_parent.name(),
            through_child: through_child.name(),
            child_key: child_key.name(),
        })
    }

    fn with_link(link: Link) -> Self {
        Self {
            link,
            filter: None,
            order: Vec::new(),
            limit: None,
            nested: (),
            _models: PhantomData,
        }
    }
}

impl<P: Model, C: Model, N> Relation<P, C, N> {
    /// Loads only children matching `condition`.
    pub fn filter(mut self, condition: Condition<C>) -> Self {
        self.filter = Some(condition.and_after(self.filter.take()));
        self
    }

    /// Orders each parent's children.
    pub fn order_by(mut self, order: Order<C>) -> Self {
        self.order.push((order.column, order.descending));
        self
    }

    /// At most `count` children per parent.
    pub fn limit(mut self, count: u64) -> Self {
        self.limit = Some(count);
        self
    }

    /// Also loads `relation` under every child: one more query for all children of all
    /// parents. Each child then comes with what `relation` loads for it, so
    /// `User::posts().with(Post::comments())` gives each user a `Vec<(Post, Vec<Comment>)>`;
    /// a second call loads another relation beside the first (`(Post, Vec<Comment>,
    /// Vec<Tag>)`), up to four.
    pub fn with<R: Load<C>>(self, relation: R) -> Relation<P, C, N::Output>
    where
        N: Append<R>,
    {
        Relation {
            link: self.link,
            filter: self.filter,
            order: self.order,
            limit: self.limit,
            nested: self.nested.append(relation),
            _models: PhantomData,
        }
    }

    /// Loads each parent's first child (in the relation's order) as an `Option` instead of a
    /// list: for belongs-to and one-to-one relations. On a has-many, add `.limit(1)` so the
    /// others are not fetched at all.
    pub fn one(self) -> One<Self> {
        One::new(self)
    }

    fn parent_key(&self) -> &'static str {
        match self.link {
            Link::Direct { parent_key, .. } | Link::Through { parent_key, .. } => parent_key,
        }
    }

    /// A condition on parents: at least one related row (matching this relation's filter)
    /// exists. `User::find().filter(User::posts().filter(Post::PUBLISHED.eq(true)).exists())`.
    pub fn exists(&self) -> Condition<P> {
        let (child_column, through) = match self.link {
            Link::Direct { foreign_key, .. } => (foreign_key, None),
            Link::Through {
                through,
                through_parent,
                through_child,
                child_key,
                ..
            } => (child_key, Some((through, through_parent, through_child))),
        };
        Condition::new(Expr::Exists(Box::new(Exists {
            parent_table: P::TABLE,
            parent_key: self.parent_key(),
            child_table: C::TABLE,
            child_column,
            through,
            filter: self.filter.clone(),
            child_casts: C::PG_TYPES,
        })))
    }

    /// The children of one parent, as a query (lazy loading; relations added with
    /// [`Relation::with`] are not part of it).
    pub fn of(&self, parent: &P) -> Select<C> {
        let key = key_value::<P>(parent, self.parent_key());
        let mut query = crate::query::select::<C>();
        query = match self.link {
            Link::Direct { foreign_key, .. } => query.filter(Condition::new(Expr::Compare {
                column: foreign_key,
                operator: "=",
                value: key,
            })),
            Link::Through {
                through,
                through_parent,
                through_child,
                child_key,
                ..
            } => query.filter(Condition::new(Expr::InThrough {
                column: child_key,
                through,
                through_parent,
                through_child,
                value: key,
            })),
        };
        if let Some(filter) = &self.filter {
            query = query.filter(Condition::new(filter.clone()));
        }
        for (column, descending) in &self.order {
            query = query.order_by_column(column, *descending);
        }
        if let Some(limit) = self.limit {
            query = query.limit(limit);
        }
        query
    }

    /// The children of every parent, `result[i]` belonging to `parents[i]`: one query for
    /// this level (more only past the engine's parameter limit), then one per nested
    /// relation level. Without nested relations each entry is a `Vec<C>`; with them, a
    /// `Vec` of the rows [`Nested`] describes (`(C, Vec<D>)`, ...).
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn load_for(&self, parents: &[P], executor: impl Executor) -> Result<Vec<Vec<N::Row>>>
    where
        N: Nested<C>,
    {
        self.load(parents, executor).await
    }

    /// This level alone: each parent's children, one statement per batch of distinct keys.
    async fn load_children(
        &self,
        parents: &[P],
        mut executor: impl Executor,
    ) -> Result<Vec<Vec<C>>> {
        let keys: Vec<Value> = parents
            .iter()
            .map(|p| key_value::<P>(p, self.parent_key()))
            .collect();
        let KeySlots {
            distinct,
            slots,
            of_parent,
        } = KeySlots::of(keys);
        // The children of each distinct key, in `distinct`'s order.
        let mut grouped: Vec<Vec<C>> = distinct.iter().map(|_| Vec::new()).collect();
        let backend = executor.backend();
        let array = self.key_array_type(backend, &distinct);
        let batch = match array {
            Some(_) => distinct.len().max(1),
            None => self.batch_size(backend),
        };
        let link = self.link;
        for chunk in distinct.chunks(batch) {
            let (sql, values) = self.batch_sql(backend, chunk, array);
            let rows = executor
                .fetch_decoded(&sql, &values, |row| {
                    let child = C::from_row_in_order(&row)?;
                    // A direct link's parent key is the child's own column; a join table's
                    // comes as `_fox_parent`.
                    let parent = match link {
                        Link::Direct { foreign_key, .. } => key_value::<C>(&child, foreign_key),
                        Link::Through { .. } => row_parent_key(&row)?,
                    };
                    Ok((group_key(&parent), child))
                })
                .await?;
            for (parent, child) in rows {
                if let Some(&slot) = slots.get(&parent) {
                    grouped[slot].push(child);
                }
            }
        }
        // Parents sharing a key (many posts, one author) each get the rows: cloned for all
        // but the last of them, which takes them.
        let mut sharing = vec![0_usize; distinct.len()];
        for slot in of_parent.iter().flatten() {
            sharing[*slot] += 1;
        }
        Ok(of_parent
            .into_iter()
            .map(|slot| {
                let Some(slot) = slot else {
                    return Vec::new();
                };
                sharing[slot] -= 1;
                if sharing[slot] == 0 {
                    std::mem::take(&mut grouped[slot])
                } else {
                    grouped[slot].clone()
                }
            })
            .collect())
    }

    /// Keys per statement: the engine's parameter limit less what the filter binds.
    fn batch_size(&self, backend: crate::Backend) -> usize {
        let filter_parameters = self.filter.as_ref().map_or(0, |filter| {
            let mut writer = SqlWriter::for_model(backend, C::PG_TYPES);
            filter.render_qualified(&mut writer, C::TABLE);
            writer.finish().1.len()
        });
        crate::query::parameter_limit(backend)
            .saturating_sub(filter_parameters + PARAMETER_MARGIN)
            .max(1)
    }

    /// The table and column holding each child row's parent key.
    fn parent_column(&self) -> (&'static str, &'static str) {
        match self.link {
            Link::Direct { foreign_key, .. } => (C::TABLE, foreign_key),
            Link::Through {
                through,
                through_parent,
                ..
            } => (through, through_parent),
        }
    }

    /// On PostgreSQL, the array type the keys are sent as (`= ANY($1)`: one parameter and one
    /// statement text whatever the number of keys, as hand-written sqlx does); `None` for an
    /// `IN` list: other engines, and keys PostgreSQL would need a cast to compare (a column
    /// of an enum type, keys other than integers, UUIDs and text).
    fn key_array_type(&self, backend: crate::Backend, keys: &[Value]) -> Option<&'static str> {
        let (table, column) = self.parent_column();
        if table == C::TABLE && C::PG_TYPES.iter().any(|(c, _)| *c == column) {
            return None;
        }
        crate::query::array_type(backend, keys)
    }

    /// `SELECT child columns ... WHERE <parent key> IN (...)` (`= ANY(...)` with an array),
    /// ranked per parent when ordered or limited. A join table's parent key is selected as
    /// `_fox_parent`; a direct link's is the child's own column.
    fn batch_sql(
        &self,
        backend: crate::Backend,
        keys: &[Value],
        array: Option<&'static str>,
    ) -> (String, Vec<Value>) {
        let mut writer = SqlWriter::for_model(backend, C::PG_TYPES);
        let (parent_column_table, parent_column) = self.parent_column();
        let through = matches!(self.link, Link::Through { .. });
        let ranked = self.limit.is_some();
        if ranked {
            writer.push("SELECT * FROM (");
        }
        writer.push("SELECT ");
        writer.push_select_columns_of(Some(C::TABLE), C::COLUMNS);
        if through {
            writer.push(", ");
            writer.push_identifier(parent_column_table);
            writer.push(".");
            writer.push_identifier(parent_column);
            writer.push(" AS ");
            writer.push_identifier(PARENT_ALIAS);
        }
        if ranked {
            writer.push(", ROW_NUMBER() OVER (PARTITION BY ");
            writer.push_identifier(parent_column_table);
            writer.push(".");
            writer.push_identifier(parent_column);
            self.push_order(&mut writer);
            writer.push(") AS ");
            writer.push_identifier(RANK_ALIAS);
        }
        writer.push(" FROM ");
        writer.push_identifier(C::TABLE);
        if let Link::Through {
            through,
            through_child,
            child_key,
            ..
        } = self.link
        {
            writer.push(" JOIN ");
            writer.push_identifier(through);
            writer.push(" ON ");
            writer.push_identifier(through);
            writer.push(".");
            writer.push_identifier(through_child);
            writer.push(" = ");
            writer.push_identifier(C::TABLE);
            writer.push(".");
            writer.push_identifier(child_key);
        }
        writer.push(" WHERE ");
        writer.push_identifier(parent_column_table);
        writer.push(".");
        writer.push_identifier(parent_column);
        match array {
            Some(array_type) => {
                writer.push_any_array(keys, array_type);
            }
            None => {
                writer.push(" IN (");
                for (i, key) in keys.iter().enumerate() {
                    if i > 0 {
                        writer.push(", ");
                    }
                    writer.push_value(key.clone());
                }
                writer.push(")");
            }
        }
        if let Some(filter) = &self.filter {
            writer.push(" AND ");
            filter.render_qualified(&mut writer, C::TABLE);
        }
        if ranked {
            writer.push(") ");
            writer.push_identifier("_fox_ranked");
            writer.push(" WHERE ");
            writer.push_identifier(RANK_ALIAS);
            writer.push(&format!(" <= {}", self.limit.unwrap_or(u64::MAX)));
            writer.push(" ORDER BY ");
            // The subquery's output names the parent key `_fox_parent` through a join table,
            // and by the child's own column otherwise.
            writer.push_identifier(if through { PARENT_ALIAS } else { parent_column });
            writer.push(", ");
            writer.push_identifier(RANK_ALIAS);
        } else if !self.order.is_empty() {
            self.push_order(&mut writer);
        }
        writer.finish()
    }

    fn push_order(&self, writer: &mut SqlWriter) {
        if self.order.is_empty() {
            return;
        }
        writer.push(" ORDER BY ");
        for (i, (column, descending)) in self.order.iter().enumerate() {
            if i > 0 {
                writer.push(", ");
            }
            writer.push_identifier(C::TABLE);
            writer.push(".");
            writer.push_identifier(column);
            writer.push(if *descending { " DESC" } else { " ASC" });
        }
    }
}

/// The value of `column` of a model.
fn key_value<M: Model>(model: &M, column: &str) -> Value {
    model.value_of(column).unwrap_or(Value::Null)
}

/// The parents' keys, each distinct key once: what a level's statements look up, and where
/// each parent's children are found.
struct KeySlots {
    /// Each key once, in first-seen order; NULL keys (an unset optional foreign key) match no
    /// row and are left out.
    distinct: Vec<Value>,
    /// The position in `distinct` of each key.
    slots: HashMap<GroupKey, usize>,
    /// Per parent, the position of its key in `distinct` (`None` for a NULL key).
    of_parent: Vec<Option<usize>>,
}

impl KeySlots {
    fn of(keys: Vec<Value>) -> Self {
        let mut distinct = Vec::new();
        let mut slots = HashMap::new();
        let of_parent = keys
            .into_iter()
            .map(|key| {
                if key == Value::Null {
                    return None;
                }
                let next = distinct.len();
                let slot = *slots.entry(group_key(&key)).or_insert(next);
                if slot == next {
                    distinct.push(key);
                }
                Some(slot)
            })
            .collect();
        Self {
            distinct,
            slots,
            of_parent,
        }
    }
}

fn row_parent_key(row: &crate::Row) -> Result<Value> {
    // Keys are integers, text or UUIDs.
    if let Ok(i) = row.get::<i64>(PARENT_ALIAS) {
        return Ok(Value::Int(i));
    }
    if let Ok(i) = row.get::<i32>(PARENT_ALIAS) {
        return Ok(Value::Int(i64::from(i)));
    }
    if let Ok(i) = row.get::<i16>(PARENT_ALIAS) {
        return Ok(Value::Int(i64::from(i)));
    }
    // Text before UUID: MySQL and SQLite store UUIDs as text, which the UUID decoder would also
    // accept and normalise, so a text key that merely looks like a UUID would no longer match
    // its parent. (foxdb writes UUIDs as lower-case hyphenated text, as `group_key` compares.)
    if let Ok(text) = row.get::<String>(PARENT_ALIAS) {
        return Ok(Value::Text(text));
    }
    row.get::<uuid::Uuid>(PARENT_ALIAS).map(Value::Uuid)
}

/// A grouping key that equal keys share whatever their Rust integer width.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum GroupKey {
    Int(i64),
    Text(String),
    Other(String),
}

fn group_key(value: &Value) -> GroupKey {
    match value {
        Value::Int(i) => GroupKey::Int(*i),
        Value::Uuid(id) => GroupKey::Text(id.hyphenated().to_string()),
        Value::Text(text) => GroupKey::Text(text.clone()),
        other => GroupKey::Other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_across_integer_widths_and_nulls_are_left_out() {
        let keys = [
            Value::Int(7),
            Value::Null,
            Value::Int(3),
            Value::Int(7),
            Value::Text("a".into()),
            Value::Text("a".into()),
            Value::Null,
        ];
        let slots = KeySlots::of(keys.to_vec());
        assert_eq!(
            slots.distinct,
            [Value::Int(7), Value::Int(3), Value::Text("a".into())]
        );
        assert_eq!(
            slots.of_parent,
            [Some(0), None, Some(1), Some(0), Some(2), Some(2), None]
        );
        assert!(KeySlots::of(vec![Value::Null]).distinct.is_empty());
    }
}
