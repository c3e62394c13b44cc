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
use crate::query::rendered_statements::{
    StatementShape, StatementText, push_filter_values, text_of,
};
use crate::query::{ArrayType, Column, Condition, Order, Select, SqlWriter};
use crate::query::{array_type, push_list_values};

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

    /// This level alone: each distinct parent key's children, one statement per batch of
    /// distinct keys.
    pub(crate) async fn load_children(
        &self,
        parents: &[P],
        executor: impl Executor,
    ) -> Result<Level<C>> {
        let link = self.link;
        self.fetch_level(
            parents,
            executor,
            |relation, backend, keys| relation.batch_statement(backend, keys),
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
        executor: impl Executor,
        sql: impl Fn(&Self, crate::Backend, &[Value]) -> (StatementText, Vec<Value>),
        decode: impl FnMut(crate::Row) -> Result<(Value, T)> + Send,
    ) -> Result<Vec<Vec<T>>> {
        Ok(self
            .fetch_level(parents, executor, sql, decode)
            .await?
            .per_parent())
    }

    /// The rows of this level for the distinct keys of `parents`, read by `sql` per batch of
    /// keys and decoded by `decode` into (parent key, row), grouped by key.
    async fn fetch_level<T: Send>(
        &self,
        parents: &[P],
        mut executor: impl Executor,
        sql: impl Fn(&Self, crate::Backend, &[Value]) -> (StatementText, Vec<Value>),
        mut decode: impl FnMut(crate::Row) -> Result<(Value, T)> + Send,
    ) -> Result<Level<T>> {
        let parent_key = self.link.parent_key();
        let keys = KeySlots::of(parents.iter().map(|p| key_value::<P>(p, parent_key)));
        let backend = executor.backend();
        // All keys as one array parameter; keys with no array form (see
        // `SqlWriter::in_list_array_type`) bound one by one, in batches under the parameter
        // limit.
        let batch = if self.keys_as_array(backend, &keys.distinct) {
            keys.distinct.len().max(1)
        } else {
            self.batch_size(backend)
        };
        let mut rows: Vec<T> = Vec::new();
        // The position in `keys.distinct` of each row's key (`NO_SLOT`: none of them); room
        // for a row per key at once.
        let mut slots: Vec<usize> = Vec::with_capacity(keys.distinct.len());
        for chunk in keys.distinct.chunks(batch) {
            let (sql, values) = sql(self, backend, chunk);
            let index = &keys.index;
            let slots = &mut slots;
            // Rows of one key usually come one after the other: the last integer key's
            // position is reused without a lookup.
            let mut last: Option<(i64, usize)> = None;
            let fetched = executor
                .fetch_decoded(&sql, &values, |row| {
                    let (parent, row) = decode(row)?;
                    let slot = match parent {
                        Value::Int(key) => match last {
                            Some((last_key, slot)) if last_key == key => slot,
                            _ => {
                                let slot = index.get_integer(key).unwrap_or(NO_SLOT);
                                last = Some((key, slot));
                                slot
                            }
                        },
                        other => index.get(&other).unwrap_or(NO_SLOT),
                    };
                    slots.push(slot);
                    Ok(row)
                })
                .await?;
            if rows.is_empty() {
                rows = fetched;
            } else {
                rows.extend(fetched);
            }
        }
        Ok(Level::grouped(keys, rows, &slots))
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
        if C::ENUM_COLUMNS.is_empty() {
            // No column of `C` is cast: the writer would ask the same.
            return array_type(backend, keys).is_some();
        }
        SqlWriter::for_model(backend, EnumColumns::of::<C>())
            .in_list_array_type(self.compared_key_column(), keys)
            .is_some()
    }

    /// [`Relation::batch_sql`], the text kept per shape when it depends on nothing else (see
    /// [`crate::query::rendered_statements`]): a repeated load of this level only writes its
    /// keys' parameter.
    fn batch_statement(
        &self,
        backend: crate::Backend,
        keys: &[Value],
    ) -> (StatementText, Vec<Value>) {
        let Some((shape, array)) = self.statement_shape(backend, keys) else {
            let (sql, values) = self.batch_sql(backend, keys);
            return (StatementText::Rendered(sql), values);
        };
        let Ok((text, rendered)) = text_of(&shape, || {
            Ok::<_, std::convert::Infallible>(self.batch_sql(backend, keys))
        });
        let values = rendered.unwrap_or_else(|| {
            let mut values = Vec::with_capacity(1);
            push_list_values(array, keys, &mut values);
            push_filter_values(backend, self.filter.as_ref(), &mut values);
            values
        });
        (StatementText::Kept(text), values)
    }

    /// The shape of [`Relation::batch_sql`]'s statement for `keys`, and the form they are
    /// bound in; `None` when its text depends on more than a shape holds: a child model with
    /// tenant or enum columns (whose texts depend on the executor and on casts), a filter
    /// other than comparisons and lists joined by `AND`, or more parts than a shape keeps.
    fn statement_shape(
        &self,
        backend: crate::Backend,
        keys: &[Value],
    ) -> Option<(StatementShape, Option<ArrayType>)> {
        if C::TENANT_COLUMN.is_some() || !C::ENUM_COLUMNS.is_empty() {
            return None;
        }
        let array = array_type(backend, keys);
        let direct;
        let through;
        let link: &[&'static str] = match self.link {
            Link::Direct { foreign_key, .. } => {
                direct = [C::TABLE, foreign_key];
                &direct
            }
            Link::Through {
                through: table,
                through_parent,
                through_child,
                child_key,
                ..
            } => {
                through = [table, through_parent, through_child, child_key];
                &through
            }
        };
        let shape = StatementShape::of_relation(
            backend,
            C::TABLE,
            C::COLUMNS,
            link,
            self.filter.as_ref(),
            &self.order,
            self.window_limit(),
            (array, keys.len()),
        )?;
        Some((shape, array))
    }

    /// `SELECT child columns ... WHERE <parent key> IN (...)` (one array parameter where the
    /// keys have an array form, see [`SqlWriter::push_in_list`]),
    /// ranked per parent when ordered or limited. A join table's parent key is selected as
    /// `_fox_parent`; a direct link's is the child's own column.
    pub(crate) fn batch_sql(
        &self,
        backend: crate::Backend,
        keys: &[Value],
    ) -> (String, Vec<Value>) {
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
    // Not `unwrap_or(Value::Null)`: that builds and drops a `Value` per row.
    match model.value_of(column) {
        Some(value) => value,
        None => Value::Null,
    }
}

/// A row's key matching none of the parents' (dropped).
const NO_SLOT: usize = usize::MAX;

/// The parents' keys, each distinct key once: what a level's statements look up, and where
/// each parent's children are found.
struct KeySlots {
    /// Each key once, in first-seen order; NULL keys (an unset optional foreign key) match no
    /// row and are left out.
    distinct: Vec<Value>,
    /// The position in `distinct` of each key.
    index: KeyIndex,
    /// Per parent, the position of its key in `distinct` (`None` for a NULL key).
    of_parent: Vec<Option<usize>>,
    /// Whether some key is several parents' (many posts, one author).
    shared: bool,
}

impl KeySlots {
    fn of(keys: impl ExactSizeIterator<Item = Value>) -> Self {
        let mut distinct = Vec::with_capacity(keys.len());
        let mut index = KeyIndex::with_capacity(keys.len());
        let mut shared = false;
        let of_parent = keys
            .map(|key| {
                if matches!(key, Value::Null) {
                    return None;
                }
                let next = distinct.len();
                let slot = index.get_or_insert(&key, next);
                if slot == next {
                    distinct.push(key);
                } else {
                    shared = true;
                }
                Some(slot)
            })
            .collect();
        Self {
            distinct,
            index,
            of_parent,
            shared,
        }
    }
}

/// Positions of keys, equal keys sharing one whatever their Rust integer width, looked up
/// once per child row: hashed with FxHash (a multiplication per word) rather than SipHash,
/// and without a string per lookup.
struct KeyIndex {
    integers: FxHashMap<i64, usize>,
    /// Text keys, and UUIDs as their lower-case hyphenated text (MySQL and SQLite store
    /// UUIDs as text, which comes back as a text key).
    texts: FxHashMap<String, usize>,
    /// Keys of any other type, by their debug text.
    others: FxHashMap<String, usize>,
}

impl KeyIndex {
    /// Room for `keys` integer keys, the usual kind.
    fn with_capacity(keys: usize) -> Self {
        Self {
            integers: FxHashMap::with_capacity_and_hasher(keys, rustc_hash::FxBuildHasher),
            texts: FxHashMap::default(),
            others: FxHashMap::default(),
        }
    }

    /// The position of the integer key `key`, if it is one of the keys.
    fn get_integer(&self, key: i64) -> Option<usize> {
        self.integers.get(&key).copied()
    }

    /// The position of `key`, if it is one of the keys.
    fn get(&self, key: &Value) -> Option<usize> {
        match key {
            Value::Int(i) => self.integers.get(i),
            Value::Text(text) => self.texts.get(text.as_str()),
            Value::Uuid(id) => self.texts.get(
                &*id.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            ),
            other => self.others.get(&format!("{other:?}")),
        }
        .copied()
    }

    /// The position of `key`, given `next` when it is new.
    fn get_or_insert(&mut self, key: &Value, next: usize) -> usize {
        *match key {
            Value::Int(i) => self.integers.entry(*i).or_insert(next),
            Value::Text(text) => self.texts.entry(text.clone()).or_insert(next),
            Value::Uuid(id) => self
                .texts
                .entry(id.hyphenated().to_string())
                .or_insert(next),
            other => self.others.entry(format!("{other:?}")).or_insert(next),
        }
    }
}

/// One relation level's rows, those of each distinct parent key together (keys in
/// [`KeySlots::distinct`] order, rows in the order they came), and which parent gets which.
pub(crate) struct Level<T> {
    rows: Vec<T>,
    /// How many rows each distinct key has.
    counts: Vec<usize>,
    /// Per parent, the position of its key (`None`: NULL, no rows).
    of_parent: Vec<Option<usize>>,
    /// Whether some key is several parents'.
    shared: bool,
}

impl<T> Level<T> {
    /// `rows`, whose keys are at `slots` in `keys.distinct` ([`NO_SLOT`]: none, left out),
    /// grouped by key.
    fn grouped(keys: KeySlots, rows: Vec<T>, slots: &[usize]) -> Self {
        let mut counts = vec![0_usize; keys.distinct.len()];
        // Rows usually come grouped already (an index scan returns them in key order, which
        // is the parents' order): then they stay where they are.
        let mut in_order = true;
        let mut previous = 0;
        for &slot in slots {
            match counts.get_mut(slot) {
                Some(count) => *count += 1,
                None => in_order = false,
            }
            in_order &= slot >= previous;
            previous = slot;
        }
        let rows = if in_order {
            rows
        } else {
            // A stable counting sort: each key's rows at its offset, in the order they came.
            let mut next: Vec<usize> = counts
                .iter()
                .scan(0, |offset, count| {
                    let start = *offset;
                    *offset += count;
                    Some(start)
                })
                .collect();
            let mut placed: Vec<Option<T>> = std::iter::repeat_with(|| None)
                .take(counts.iter().sum())
                .collect();
            for (row, &slot) in rows.into_iter().zip(slots) {
                if let Some(position) = next.get_mut(slot) {
                    placed[*position] = Some(row);
                    *position += 1;
                }
            }
            placed.into_iter().flatten().collect()
        };
        Self {
            rows,
            counts,
            of_parent: keys.of_parent,
            shared: keys.shared,
        }
    }

    /// Whether some key's rows go to several parents.
    pub(crate) fn shared(&self) -> bool {
        self.shared
    }

    /// The rows, each key's together, and the [`Shares`] that deal them (or rows made from
    /// them, one for one in the same order) to the parents. With a shared key the parents
    /// would need copies: see [`Level::per_parent`].
    pub(crate) fn into_shares(self) -> (Vec<T>, Shares) {
        let shares = Shares {
            of_parent: self.of_parent,
            counts: self.counts,
        };
        (self.rows, shares)
    }

    /// Each parent's rows, `result[i]` for parent `i`: parents sharing a key (many posts, one
    /// author) each get its rows, cloned for all but the last of them, which takes them.
    pub(crate) fn per_parent(self) -> Vec<Vec<T>>
    where
        T: Clone,
    {
        if !self.shared {
            let (rows, shares) = self.into_shares();
            return shares.deal(rows);
        }
        let mut rows = self.rows.into_iter();
        let mut grouped: Vec<Vec<T>> = self
            .counts
            .iter()
            .map(|count| rows.by_ref().take(*count).collect())
            .collect();
        let mut sharing = vec![0_usize; grouped.len()];
        for slot in self.of_parent.iter().flatten() {
            sharing[*slot] += 1;
        }
        self.of_parent
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
            .collect()
    }
}

/// How many of a level's rows, taken in order, each parent gets.
pub(crate) struct Shares {
    /// Per parent, its entry in `counts` (`None`: no rows).
    of_parent: Vec<Option<usize>>,
    counts: Vec<usize>,
}

impl Shares {
    /// Parent `i` gets `counts[i]` rows.
    pub(crate) fn in_order(counts: Vec<usize>) -> Self {
        Self {
            of_parent: (0..counts.len()).map(Some).collect(),
            counts,
        }
    }

    /// `rows` dealt to the parents, `result[i]` for parent `i`. Each entry of `counts` is
    /// taken by one parent at most, in order.
    pub(crate) fn deal<U>(self, rows: Vec<U>) -> Vec<Vec<U>> {
        let mut rows = rows.into_iter();
        self.of_parent
            .into_iter()
            .map(|slot| match slot {
                Some(slot) => rows.by_ref().take(self.counts[slot]).collect(),
                None => Vec::new(),
            })
            .collect()
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
        let slots = KeySlots::of(keys.iter().cloned());
        assert_eq!(
            slots.distinct,
            [Value::Int(7), Value::Int(3), Value::Text("a".into())]
        );
        assert_eq!(
            slots.of_parent,
            [Some(0), None, Some(1), Some(0), Some(2), Some(2), None]
        );
        assert!(slots.shared);
        let none = KeySlots::of(vec![Value::Null].into_iter());
        assert!(none.distinct.is_empty() && !none.shared);
    }

    #[test]
    fn uuid_keys_find_the_text_of_their_uuid() {
        let id = uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0);
        let slots = KeySlots::of([Value::Uuid(id), Value::Int(1)].into_iter());
        let text = Value::Text(id.hyphenated().to_string());
        assert_eq!(slots.index.get(&text), Some(0));
        assert_eq!(slots.index.get(&Value::Uuid(id)), Some(0));
        assert_eq!(slots.index.get(&Value::Text("other".into())), None);
        assert_eq!(slots.index.get(&Value::Int(1)), Some(1));
    }

    /// The level of keys 10, 20 and 30 (parents in that order, a last parent with a NULL key)
    /// for rows `(key, name)` as they came.
    fn level(rows: &[(i64, &'static str)]) -> Level<&'static str> {
        let keys =
            KeySlots::of([Value::Int(10), Value::Int(20), Value::Int(30), Value::Null].into_iter());
        let slots: Vec<usize> = rows
            .iter()
            .map(|(key, _)| keys.index.get(&Value::Int(*key)).unwrap_or(NO_SLOT))
            .collect();
        Level::grouped(keys, rows.iter().map(|(_, name)| *name).collect(), &slots)
    }

    #[test]
    fn rows_are_dealt_to_their_parents_in_the_order_they_came() {
        let expected = vec![vec!["a", "b"], vec![], vec!["c", "d"], vec![]];
        // Grouped by key already, and mixed up, with a row of no parent's key.
        let grouped = level(&[(10, "a"), (10, "b"), (30, "c"), (30, "d")]);
        assert_eq!(grouped.per_parent(), expected);
        let mixed = level(&[(30, "c"), (10, "a"), (99, "x"), (30, "d"), (10, "b")]);
        assert_eq!(mixed.rows, ["a", "b", "c", "d"]);
        assert_eq!(mixed.per_parent(), expected);
    }

    #[test]
    fn parents_sharing_a_key_each_get_its_rows() {
        let keys = KeySlots::of([Value::Int(1), Value::Int(2), Value::Int(1)].into_iter());
        let slots = [1, 0, 0];
        let level = Level::grouped(keys, vec!["b", "a1", "a2"], &slots);
        assert!(level.shared());
        assert_eq!(
            level.per_parent(),
            vec![vec!["a1", "a2"], vec!["b"], vec!["a1", "a2"]]
        );
    }
}
