//! Relations between models, loaded without N+1 queries: one query per relation level for any
//! number of parents (the keys as one array parameter on every engine), with
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

mod columns;
pub mod eager;
mod join;

use crate::query::EnumColumns;
use rustc_hash::FxHashMap;
use std::marker::PhantomData;

use crate::connection::Value;
use crate::error::Result;
use crate::executor::Executor;
use crate::model::{ColumnType, Model};
use crate::query::ast::{ColumnRef, Exists, Expr, Operator, OrderTerm};
use crate::query::render::push_order;
use crate::query::{Column, Condition, Order, Select, SqlWriter};

pub use columns::RelationColumns;
pub use eager::{AppendTo, Load, Nested, One, WithRelations};

const PARENT_ALIAS: &str = "_fox_parent";
const RANK_ALIAS: &str = "_fox_rank";
/// Parameters kept free of key lists, for values the statement binds besides the keys.
const PARAMETER_MARGIN: usize = 100;

/// How a child row is tied to its parent.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Link {
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

/// A join table as [`Link::Through`] names it: (table, column to the parent, column to the
/// child).
type JoinTable = (&'static str, &'static str, &'static str);

impl Link {
    /// The parent's column the link starts from.
    fn parent_key(self) -> &'static str {
        match self {
            Link::Direct { parent_key, .. } | Link::Through { parent_key, .. } => parent_key,
        }
    }

    /// The child's column the link ends at, and the join table on the way, if any.
    fn child_end(self) -> (&'static str, Option<JoinTable>) {
        match self {
            Link::Direct { foreign_key, .. } => (foreign_key, None),
            Link::Through {
                through,
                through_parent,
                through_child,
                child_key,
                ..
            } => (child_key, Some((through, through_parent, through_child))),
        }
    }
}

/// A relation from `P` rows to their `C` rows, with the child filter, order and per-parent
/// limit to load with, and `N`: the relations loaded under each child (`()` for none; added
/// with [`Relation::with`]).
#[derive(Clone, Debug)]
pub struct Relation<P, C, N = ()> {
    pub(crate) link: Link,
    pub(crate) filter: Option<Expr>,
    pub(crate) order: Vec<(&'static str, bool)>,
    pub(crate) limit: Option<u64>,
    nested: N,
    /// Set by [`Relation::all_tenants`] (or a query's `.all_tenants()` it loads under): the
    /// children are read without the tenant condition.
    all_tenants: bool,
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
            all_tenants: false,
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
    /// Vec<Tag>)`), up to eight (see [`AppendTo`]).
    pub fn with<R: Load<C> + AppendTo<N>>(self, mut relation: R) -> Relation<P, C, R::Level> {
        if self.all_tenants {
            relation.reach_all_tenants();
        }
        Relation {
            link: self.link,
            filter: self.filter,
            order: self.order,
            limit: self.limit,
            nested: relation.append_to(self.nested),
            all_tenants: self.all_tenants,
            _models: PhantomData,
        }
    }

    /// Loads every tenant's related rows, at this level and every level nested under it
    /// (see [`crate::Select::all_tenants`]): what a query with `.all_tenants()` does to the
    /// relations it loads, and what loading a relation with [`Relation::load_for`] outside a
    /// tenant handle needs when the related model is tenant-scoped.
    pub fn all_tenants(mut self) -> Self
    where
        N: Nested<C>,
    {
        self.reach_all_tenants();
        self
    }

    /// Loads each parent's first child as an `Option` instead of a list: for belongs-to and
    /// one-to-one relations, and for one child of a has-many (`User::posts()
    /// .order_by(Post::CREATED_AT.desc()).one()`: each user's newest post).
    ///
    /// # Guarantees
    /// - At most one child per parent leaves the database: the statement ranks each parent's
    ///   children and keeps the first (a per-parent [`Relation::limit`] of 1). A relation that
    ///   looks children up by their whole primary key (a belongs-to) finds at most one per
    ///   parent anyway and is not ranked.
    /// - The first child follows the relation's [`Relation::order_by`], then the child's
    ///   primary key (ascending) among ties or without an order: the same child on every run.
    pub fn one(mut self) -> One<Self> {
        self.limit = Some(self.limit.map_or(1, |limit| limit.min(1)));
        One::new(self)
    }

    /// A condition on parents: at least one related row (matching this relation's filter)
    /// exists. `User::find().filter(User::posts().filter(Post::PUBLISHED.eq(true)).exists())`.
    pub fn exists(&self) -> Condition<P> {
        let (child_column, through) = self.link.child_end();
        Condition::new(Expr::Exists(Box::new(Exists {
            parent_table: P::TABLE,
            parent_key: self.link.parent_key(),
            child_table: C::TABLE,
            child_column,
            through,
            filter: self.filter.clone(),
            child_casts: EnumColumns::of::<C>(),
        })))
    }

    /// The children of one parent, as a query (lazy loading; relations added with
    /// [`Relation::with`] are not part of it). With a limit it picks the rows eager loading
    /// picks: by the relation's order, then by the child's primary key.
    pub fn of(&self, parent: &P) -> Select<C> {
        let value = key_value::<P>(parent, self.link.parent_key());
        let (column, through) = self.link.child_end();
        let of_parent = match through {
            None => Expr::Compare {
                column,
                operator: Operator::Eq,
                value,
            },
            Some((through, through_parent, through_child)) => Expr::InThrough {
                column,
                through,
                through_parent,
                through_child,
                value,
            },
        };
        let mut query = crate::query::select::<C>().filter(Condition::new(of_parent));
        if self.all_tenants {
            query = query.all_tenants();
        }
        if let Some(filter) = &self.filter {
            query = query.filter(Condition::new(filter.clone()));
        }
        for (column, descending) in &self.order {
            query = query.order_by_column(column, *descending);
        }
        if self.limit.is_some() || self.is_many_to_many() {
            // The rows eager loading picks, and the order of many-to-many rows (which a join
            // table gives no order of its own): ties, and a relation without an order, are
            // broken by the child's primary key.
            for key in C::PRIMARY_KEY {
                if !self.order.iter().any(|(column, _)| column == key) {
                    query = query.order_by_column(key, false);
                }
            }
        }
        if let Some(limit) = self.limit {
            query = query.limit(limit);
        }
        query
    }

    /// The children of every parent, `result[i]` belonging to `parents[i]`: one query for
    /// this level (more only for keys with no array form, past the engine's parameter
    /// limit), then one per nested
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
    async fn load_children(&self, parents: &[P], executor: impl Executor) -> Result<Vec<Vec<C>>> {
        let link = self.link;
        self.load_grouped(
            parents,
            executor,
            |relation, backend, keys| relation.batch_sql(backend, keys),
            |row| {
                let child = C::from_row_in_order(&row)?;
                // A direct link's parent key is the child's own column; a join table's
                // comes as `_fox_parent`.
                let parent = match link {
                    Link::Direct { foreign_key, .. } => key_value::<C>(&child, foreign_key),
                    Link::Through { .. } => row_parent_key(&row)?,
                };
                Ok((parent, child))
            },
        )
        .await
    }

    /// Each parent's rows of this level, read by `sql` per batch of distinct keys and decoded
    /// by `decode` into (parent key, row).
    pub(crate) async fn load_grouped<T: Clone + Send>(
        &self,
        parents: &[P],
        mut executor: impl Executor,
        sql: impl Fn(&Self, crate::Backend, &[Value]) -> (String, Vec<Value>),
        decode: impl FnMut(crate::Row) -> Result<(Value, T)> + Send + Copy,
    ) -> Result<Vec<Vec<T>>> {
        let keys: Vec<Value> = parents
            .iter()
            .map(|p| key_value::<P>(p, self.link.parent_key()))
            .collect();
        let KeySlots {
            distinct,
            slots,
            of_parent,
        } = KeySlots::of(keys);
        // The children of each distinct key, in `distinct`'s order.
        let mut grouped: Vec<Vec<T>> = distinct.iter().map(|_| Vec::new()).collect();
        let backend = executor.backend();
        // All keys as one array parameter; keys with no array form (see
        // `SqlWriter::in_list_array_type`) bound one by one, in batches under the parameter
        // limit.
        let batch = if self.keys_as_array(backend, &distinct) {
            distinct.len().max(1)
        } else {
            self.batch_size(backend)
        };
        for chunk in distinct.chunks(batch) {
            let (sql, values) = sql(self, backend, chunk);
            let rows = executor.fetch_decoded(&sql, &values, decode).await?;
            for (parent, child) in rows {
                if let Some(&slot) = slots.get(&group_key(&parent)) {
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

    /// Keys per statement when bound one by one: the engine's parameter limit less what the
    /// filter binds.
    fn batch_size(&self, backend: crate::Backend) -> usize {
        let filter_parameters = self.filter.as_ref().map_or(0, |filter| {
            let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<C>());
            filter.render_qualified(&mut writer, C::TABLE);
            writer.finish().1.len()
        });
        crate::dialect::dialect_for(backend)
            .parameter_limit()
            .saturating_sub(filter_parameters + PARAMETER_MARGIN)
            .max(1)
    }

    /// The table and column holding each child row's parent key.
    fn parent_column(&self) -> (&'static str, &'static str) {
        match self.link.child_end() {
            (foreign_key, None) => (C::TABLE, foreign_key),
            (_, Some((through, through_parent, _))) => (through, through_parent),
        }
    }

    /// The column of `C` the keys are compared with, for its PostgreSQL cast (an enum
    /// column compares only with values cast to its type); `None` for a join table's column.
    fn compared_key_column(&self) -> Option<&'static str> {
        match self.parent_column() {
            (table, column) if table == C::TABLE => Some(column),
            _ => None,
        }
    }

    /// Whether `keys` go as one array parameter (`= ANY($1)` on PostgreSQL, a JSON array on
    /// MySQL and SQLite): one statement text whatever the number of keys, as hand-written sqlx
    /// does.
    fn keys_as_array(&self, backend: crate::Backend, keys: &[Value]) -> bool {
        SqlWriter::for_model(backend, EnumColumns::of::<C>())
            .in_list_array_type(self.compared_key_column(), keys)
            .is_some()
    }

    /// `SELECT child columns ... WHERE <parent key> IN (...)` (one array parameter where the
    /// keys have an array form, see [`SqlWriter::push_in_list`]),
    /// ranked per parent when ordered or limited. A join table's parent key is selected as
    /// `_fox_parent`; a direct link's is the child's own column.
    fn batch_sql(&self, backend: crate::Backend, keys: &[Value]) -> (String, Vec<Value>) {
        self.batch_sql_selecting(backend, keys, None)
    }

    /// [`Relation::batch_sql`] selecting `selection` (written through the child's table)
    /// instead of every child column, and then the parent key as `_fox_parent` on every link.
    pub(crate) fn batch_sql_selecting(
        &self,
        backend: crate::Backend,
        keys: &[Value],
        selection: Option<&dyn Fn(&mut SqlWriter)>,
    ) -> (String, Vec<Value>) {
        let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<C>());
        writer.set_all_tenants(self.all_tenants);
        let (parent_column_table, parent_column) = self.parent_column();
        // The parent key comes as `_fox_parent` through a join table and with a selection.
        let through = matches!(self.link, Link::Through { .. }) || selection.is_some();
        let window_limit = self.window_limit();
        if window_limit.is_some() {
            writer.push("SELECT * FROM (");
        }
        writer.push("SELECT ");
        match selection {
            Some(select_list) => {
                writer.scope_columns(Some(C::TABLE));
                select_list(&mut writer);
                writer.scope_columns(None);
            }
            None => writer.push_select_columns_of(Some(C::TABLE), C::COLUMNS),
        }
        if through {
            writer.push(", ");
            writer.push_qualified(parent_column_table, parent_column);
            writer.push(" AS ");
            writer.push_identifier(PARENT_ALIAS);
        }
        if window_limit.is_some() {
            writer.push(", ROW_NUMBER() OVER (PARTITION BY ");
            writer.push_qualified(parent_column_table, parent_column);
            self.push_order(&mut writer, true);
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
            writer.push_qualified(through, through_child);
            writer.push(" = ");
            writer.push_qualified(C::TABLE, child_key);
        }
        writer.push(" WHERE ");
        writer.push_identifier(parent_column_table);
        writer.push(".");
        writer.push_identifier(parent_column);
        writer.push_in_list(self.compared_key_column(), keys);
        writer.push_tenant_condition(Some(C::TABLE), " AND ");
        if let Some(filter) = &self.filter {
            writer.push(" AND ");
            filter.render_qualified(&mut writer, C::TABLE);
        }
        if let Some(limit) = window_limit {
            writer.push(") ");
            writer.push_identifier("_fox_ranked");
            writer.push(" WHERE ");
            writer.push_identifier(RANK_ALIAS);
            writer.push(&format!(" <= {limit}"));
            writer.push(" ORDER BY ");
            // The subquery's output names the parent key `_fox_parent` through a join table,
            // and by the child's own column otherwise.
            writer.push_identifier(if through { PARENT_ALIAS } else { parent_column });
            writer.push(", ");
            writer.push_identifier(RANK_ALIAS);
        } else {
            // Many-to-many rows come in the child's key order unless ordered otherwise: a join
            // table has no order of its own, so engines differ without one.
            self.push_order(&mut writer, self.is_many_to_many());
        }
        writer.finish()
    }

    /// Whether the children are reached through a join table.
    fn is_many_to_many(&self) -> bool {
        matches!(self.link, Link::Through { .. })
    }

    /// The per-parent limit the statement applies by ranking each parent's children: none
    /// without a limit, and none when each key matches at most one child anyway (a direct
    /// link to the child's whole primary key, as a belongs-to's) and the limit keeps one.
    fn window_limit(&self) -> Option<u64> {
        let limit = self.limit?;
        let one_child_per_key = matches!(
            self.link,
            Link::Direct { foreign_key, .. } if C::PRIMARY_KEY == [foreign_key]
        );
        (limit == 0 || !one_child_per_key).then_some(limit)
    }

    /// ` ORDER BY` the relation's order; nothing without one. With `tie_break` (for ranks),
    /// the child's primary key columns not in the order follow, so ties and an unordered
    /// relation rank the same way on every run.
    fn push_order(&self, writer: &mut SqlWriter, tie_break: bool) {
        let tie_breakers = C::PRIMARY_KEY
            .iter()
            .filter(|key| tie_break && !self.order.iter().any(|(column, _)| column == *key))
            .map(|key| (*key, false));
        let terms: Vec<OrderTerm> = self
            .order
            .iter()
            .copied()
            .chain(tie_breakers)
            .map(|(column, descending)| OrderTerm {
                column: ColumnRef::new(C::TABLE, column),
                aggregate: None,
                descending,
            })
            .collect();
        push_order(writer, &terms);
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
    /// The position in `distinct` of each key: looked up once per child row, so hashed with
    /// FxHash (a multiplication per word) rather than SipHash.
    slots: FxHashMap<GroupKey, usize>,
    /// Per parent, the position of its key in `distinct` (`None` for a NULL key).
    of_parent: Vec<Option<usize>>,
}

impl KeySlots {
    fn of(keys: Vec<Value>) -> Self {
        let mut distinct = Vec::with_capacity(keys.len());
        let mut slots = FxHashMap::with_capacity_and_hasher(keys.len(), rustc_hash::FxBuildHasher);
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

pub(crate) fn row_parent_key(row: &crate::Row) -> Result<Value> {
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
