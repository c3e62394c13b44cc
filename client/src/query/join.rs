//! Joins along declared relations: inner and left joins over belongs-to, has-many and
//! many-to-many (through the join table) relations, with filters, order, grouping and
//! selections on the columns of every joined table.
//!
//! # Expected flow
//! ```ignore
//! // Titles of posts whose author writes from x.com, with the author's name.
//! let rows: Vec<(String, Option<String>)> = Post::find()
//!     .join(Post::author())                       // INNER JOIN users ON users.id = posts.author_id
//!     .filter(User::EMAIL.like("%@x.com"))        // a User condition: User is joined
//!     .order_by(Post::TITLE.asc())
//!     .select((Post::TITLE, User::NAME))
//!     .all(&db)
//!     .await?;
//! // Every user with their manager's name, if any: a self-join under an alias.
//! let managers: Vec<(String, Option<String>)> = User::find()
//!     .left_join(User::manager().aliased::<1>())  // LEFT JOIN users users_1 ON ...
//!     .select((User::NAME, User::NAME.aliased::<1>()))
//!     .all(&db)
//!     .await?;
//! ```
//!
//! # Guarantees
//! - A condition, order, group or selected column of a table the query does not join is a
//!   compile error, and so is a column of a table joined twice without an alias (which copy
//!   would it be?). Columns of a left-joined table decode into `Option`s.
//! - A table joined twice under one name (no alias) and a relation carrying an order or a
//!   per-parent limit (a join keeps every related row) are refused when the query runs, with an
//!   [`Error::Unsupported`] naming the table.
//! - `.all()` returns rows of the queried model, one per joined row: a has-many or
//!   many-to-many join repeats a parent once per related row. To keep parents that have a
//!   related row without repeating them, filter with `relation.exists()` instead.
//!
//! A column of a table that is not part of the query does not compile:
//!
//! ```compile_fail
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User { #[foxdb(primary_key)] id: i64, email: String }
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "posts")]
//! # struct Post { #[foxdb(primary_key)] id: i64, author_id: i64 }
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "tags")]
//! # struct Tag { #[foxdb(primary_key)] id: i64, name: String }
//! use foxdb::{ModelExt, Relation};
//! let author = Relation::belongs_to(Post::AUTHOR_ID, User::ID);
//! let wrong = Post::find().join(author).filter(Tag::NAME.eq("rust")); // error: tags not joined
//! ```
//!
//! nor does a column of a table joined twice without an alias:
//!
//! ```compile_fail
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User { #[foxdb(primary_key)] id: i64, name: String, manager_id: Option<i64> }
//! use foxdb::{ModelExt, Relation};
//! let manager = Relation::belongs_to(User::MANAGER_ID, User::ID);
//! let wrong = User::find().join(manager).filter(User::NAME.eq("Ada")); // error: which users?
//! ```
//!
//! With the alias, both copies are addressable:
//!
//! ```
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User { #[foxdb(primary_key)] id: i64, name: String, manager_id: Option<i64> }
//! use foxdb::{Backend, ModelExt, Relation};
//! let manager = Relation::belongs_to(User::MANAGER_ID, User::ID);
//! let query = User::find()
//!     .left_join(manager.aliased::<1>())
//!     .filter(User::NAME.aliased::<1>().eq("Ada"));
//! let (sql, _) = query.to_sql(Backend::Postgres).unwrap();
//! assert_eq!(
//!     sql,
//!     r#"SELECT "users"."id", "users"."name", "users"."manager_id" FROM "users" LEFT JOIN "users" "users_1" ON "users_1"."id" = "users"."manager_id" WHERE "users_1"."name" = $1"#
//! );
//! ```

use std::borrow::Cow;
use std::marker::PhantomData;

use super::ast::{ColumnRef, Expr, OrderTerm, SelectCore};
use super::column::{Column, IntoOrder};
use super::condition::Condition;
use super::join_path::{IntoJoinPath, JoinClause};
use super::render::{push_grouping, push_select_tail, push_where};
use super::rendered_statements::{JoinShape, StatementText, push_filter_values, text_of};
use super::select::Select;
use super::selection::JoinSelection;
use super::source::{Contains, Joined, LeftJoined, Root, Source};
use super::writer::{EnumColumns, SqlWriter};
use crate::Backend;
use crate::connection::Value;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::model::{ColumnType, Model};

/// A query for rows of `M` joined with other tables; `L` lists the query's tables (see
/// [`super::source`]). Start one with [`Select::join`] or [`Select::left_join`].
#[derive(Debug)]
pub struct JoinSelect<M, L> {
    joins: Vec<JoinClause>,
    problems: Vec<String>,
    /// Filter, grouping, order and limits, every column qualified by its table.
    core: SelectCore,
    _types: PhantomData<fn() -> (M, L)>,
}

impl<M: Model> Select<M> {
    /// Inner-joins the table `path` leads to (a relation of `M`, such as `Post::author()`):
    /// only rows with a related row remain, once per related row.
    pub fn join<J: IntoJoinPath<From = M>>(
        self,
        path: J,
    ) -> JoinSelect<M, (Joined<J::To>, Root<M>)> {
        JoinSelect::from_select(self).join(path)
    }

    /// Left-joins the table `path` leads to: rows without a related row remain, with NULLs for
    /// its columns (selected, they decode into `Option`s).
    pub fn left_join<J: IntoJoinPath<From = M>>(
        self,
        path: J,
    ) -> JoinSelect<M, (LeftJoined<J::To>, Root<M>)> {
        JoinSelect::from_select(self).left_join(path)
    }
}

impl<M: Model> JoinSelect<M, Root<M>> {
    /// The query so far, its conditions and order qualified by `M`'s table.
    fn from_select(query: Select<M>) -> Self {
        let mut core = query.core;
        core.filter = core.filter.map(Expr::qualified::<M>);
        core.having = core.having.map(Expr::qualified::<M>);
        let problems = query
            .schema
            .map(|schema| {
                format!(
                    "joins in a query of `{}` in schema `{schema}` (`.in_schema`): run the joined query on a connection whose current schema is `{schema}`",
                    M::TABLE
                )
            })
            .into_iter()
            .collect();
        Self {
            joins: Vec::new(),
            problems,
            core,
            _types: PhantomData,
        }
    }
}

impl<M: Model, L> JoinSelect<M, L> {
    fn retyped<L2>(self) -> JoinSelect<M, L2> {
        JoinSelect {
            joins: self.joins,
            problems: self.problems,
            core: self.core,
            _types: PhantomData,
        }
    }

    fn add_join<J: IntoJoinPath>(&mut self, path: J, left: bool) {
        let path = path.into_join_path();
        let name = J::To::name();
        let table = <J::To as Source>::Model::TABLE;
        if name == M::TABLE || self.joins.iter().any(|j| j.name == name) {
            self.problems.push(format!(
                "joining `{name}` twice under one name (join the second copy under an alias: `relation.aliased::<1>()`, its columns `Column::aliased::<1>()`)"
            ));
        }
        self.problems.extend(path.problem);
        self.joins.push(JoinClause {
            left,
            table,
            from: J::From::name(),
            link: path.link,
            filter: path.filter.map(Expr::qualified::<J::To>),
            joined: EnumColumns::of::<<J::To as Source>::Model>(),
            name,
        });
    }

    /// Inner-joins the table `path` leads to from a table the query already has.
    pub fn join<J: IntoJoinPath, I>(mut self, path: J) -> JoinSelect<M, (Joined<J::To>, L)>
    where
        L: Contains<J::From, I>,
    {
        self.add_join(path, false);
        self.retyped()
    }

    /// Left-joins the table `path` leads to from a table the query already has.
    pub fn left_join<J: IntoJoinPath, I>(mut self, path: J) -> JoinSelect<M, (LeftJoined<J::To>, L)>
    where
        L: Contains<J::From, I>,
    {
        self.add_join(path, true);
        self.retyped()
    }

    /// Keeps rows matching `condition` on one of the query's tables (several calls combine
    /// with AND).
    pub fn filter<S: Source, I>(mut self, condition: Condition<S>) -> Self
    where
        L: Contains<S, I>,
    {
        let condition = Condition::<()>::new(condition.expr.qualified::<S>());
        self.core.filter = Some(condition.and_after(self.core.filter.take()));
        self
    }

    /// Keeps rows matching at least one of the conditions, each on any of the query's tables:
    /// `.filter_any((Post::TITLE.like("%rust%"), User::NAME.eq("Ada")))`.
    pub fn filter_any<C: Alternatives<L, I>, I>(mut self, conditions: C) -> Self {
        let alternatives = conditions.conditions().into_iter().map(|c| c.expr);
        let condition = Condition::<()>::new(Expr::Or(alternatives.collect()));
        self.core.filter = Some(condition.and_after(self.core.filter.take()));
        self
    }

    /// Sorts by a column of one of the query's tables (several calls sort by each in turn),
    /// or, grouped, by an aggregate of one: `.order_by(count::<Post>().desc())`.
    pub fn order_by<S: Source, I>(mut self, order: impl IntoOrder<S>) -> Self
    where
        L: Contains<S, I>,
    {
        let term = order.into_order_term();
        self.core.order.push(OrderTerm {
            column: ColumnRef::new(S::name(), term.column),
            aggregate: term.aggregate,
            descending: term.descending,
        });
        self
    }

    /// Groups rows by a column of one of the query's tables.
    pub fn group_by<S: Source, T: ColumnType, I>(mut self, column: Column<S, T>) -> Self
    where
        L: Contains<S, I>,
    {
        self.core
            .group_by
            .push(ColumnRef::new(S::name(), column.name()));
        self
    }

    /// Keeps groups matching `condition` (comparisons of aggregates: `count::<Post>().gt(1)`).
    pub fn having<S: Source, I>(mut self, condition: Condition<S>) -> Self
    where
        L: Contains<S, I>,
    {
        let condition = Condition::<()>::new(condition.expr.qualified::<S>());
        self.core.having = Some(condition.and_after(self.core.having.take()));
        self
    }

    /// At most `count` rows.
    pub fn limit(mut self, count: u64) -> Self {
        self.core.limit = Some(count);
        self
    }

    /// Skips the first `count` rows.
    pub fn offset(mut self, count: u64) -> Self {
        self.core.offset = Some(count);
        self
    }

    /// Reads every tenant's rows, of every table of the query; see [`Select::all_tenants`].
    pub fn all_tenants(mut self) -> Self {
        self.core.all_tenants = true;
        self
    }

    /// Selects columns and aggregates of any of the query's tables, into tuples:
    /// `.select((Post::TITLE, User::NAME))` → `Vec<(String, String)>` (`Option`s for the
    /// columns of left-joined tables).
    pub fn select<S: JoinSelection<L, I>, I>(self, selection: S) -> JoinSelectColumns<M, L, S, I> {
        JoinSelectColumns {
            query: self,
            selection,
            _index: PhantomData,
        }
    }

    /// A writer for `backend`, or the first reason the query cannot run.
    fn writer(&self, backend: Backend) -> Result<SqlWriter> {
        match self.problems.first() {
            Some(problem) => Err(Error::Unsupported {
                backend,
                feature: problem.clone(),
            }),
            None => {
                let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<M>());
                writer.set_all_tenants(self.core.all_tenants);
                Ok(writer)
            }
        }
    }

    /// `FROM` the tables, without `WHERE`.
    fn render_from(&self, writer: &mut SqlWriter) {
        writer.push(" FROM ");
        writer.push_identifier(M::TABLE);
        for (index, join) in self.joins.iter().enumerate() {
            join.render(writer, index + 1);
        }
    }

    /// The SQL with a select list written by `select_list`.
    fn to_sql_with(
        &self,
        backend: Backend,
        select_list: impl FnOnce(&mut SqlWriter),
    ) -> Result<(String, Vec<Value>)> {
        let mut writer = self.writer(backend)?;
        writer.push("SELECT ");
        select_list(&mut writer);
        self.render_from(&mut writer);
        push_select_tail(&mut writer, &self.core, None);
        Ok(writer.finish())
    }

    /// The shape of this query's statement with the select list `selected` pushes; `None`
    /// when its text depends on more than a shape holds (see
    /// [`super::rendered_statements`]): a problem to report, `.all_tenants()`, a model with
    /// enum or tenant columns, an alias, a condition on a joined relation.
    fn shape(
        &self,
        backend: Backend,
        selected: impl FnOnce(&mut JoinShape) -> Option<()>,
    ) -> Option<JoinShape> {
        if !self.problems.is_empty() || self.core.all_tenants || !EnumColumns::of::<M>().is_empty()
        {
            return None;
        }
        let mut shape = JoinShape::of_join_select(backend, M::TABLE)?;
        selected(&mut shape)?;
        for join in &self.joins {
            let (Cow::Borrowed(name), Cow::Borrowed(from), None) =
                (&join.name, &join.from, &join.filter)
            else {
                return None;
            };
            if *name != join.table || !join.joined.is_empty() {
                return None;
            }
            let (names, count) = join.link.names();
            shape.push_join(join.left, join.table, from, &names[..count])?;
        }
        shape.push_select_core(backend, &self.core)?;
        Some(shape)
    }

    /// `render`'s statement, the text kept per shape when it depends on nothing else (see
    /// [`JoinSelect::shape`]): a repeated query only collects its values.
    fn statement(
        &self,
        backend: Backend,
        selected: impl FnOnce(&mut JoinShape) -> Option<()>,
        render: impl FnOnce() -> Result<(String, Vec<Value>)>,
    ) -> Result<(StatementText, Vec<Value>)> {
        let Some(shape) = self.shape(backend, selected) else {
            let (sql, values) = render()?;
            return Ok((StatementText::Rendered(sql), values));
        };
        let (text, rendered) = text_of(&shape, render)?;
        let values = rendered.unwrap_or_else(|| {
            let mut values = Vec::new();
            push_filter_values(backend, self.core.filter.as_ref(), &mut values);
            values
        });
        Ok((StatementText::Kept(text), values))
    }

    /// [`JoinSelect::statement`] of every column of `M`.
    fn model_statement(&self, backend: Backend) -> Result<(StatementText, Vec<Value>)> {
        self.statement(
            backend,
            |shape| shape.push_selected(M::COLUMNS),
            || self.to_sql(backend),
        )
    }

    /// The SQL (every column of `M`) and its parameters for `backend`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a table joined twice under one name, or a joined relation
    /// with an order or limit.
    pub fn to_sql(&self, backend: Backend) -> Result<(String, Vec<Value>)> {
        self.to_sql_with(backend, |writer| {
            writer.push_select_columns_of(Some(M::TABLE), M::COLUMNS);
        })
    }

    /// The engine's plan for this query.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`]; database errors.
    pub async fn explain(&self, database: &crate::Database) -> Result<Vec<String>> {
        let (sql, values) = self.to_sql(database.backend())?;
        database.explain(&sql, &values).await
    }

    /// Every matching row of `M`, once per joined row.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`]; database and decoding errors.
    pub async fn all(&self, mut database: impl Executor) -> Result<Vec<M>> {
        let (sql, values) = self.model_statement(database.backend())?;
        database
            .fetch_decoded(&sql, &values, |row| M::from_row_in_order(&row))
            .await
    }

    /// The first matching row of `M`, if any.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`]; database and decoding errors.
    pub async fn one(self, mut database: impl Executor) -> Result<Option<M>> {
        let query = self.limit(1);
        let (sql, values) = query.model_statement(database.backend())?;
        match database.fetch_all(&sql, &values).await?.first() {
            Some(row) => M::from_row(row).map(Some),
            None => Ok(None),
        }
    }

    /// How many joined rows match or, with `group_by`/`having`, how many groups (limit and
    /// offset ignored).
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`]; database errors.
    pub async fn count(&self, mut database: impl Executor) -> Result<i64> {
        let (sql, values) = self.count_to_sql(database.backend())?;
        let rows = database.fetch_all(&sql, &values).await?;
        rows.first().map_or(Ok(0), |row| row.get::<i64>("count"))
    }

    /// The SQL of [`JoinSelect::count`] for `backend`.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`].
    #[doc(hidden)]
    pub fn count_to_sql(&self, backend: Backend) -> Result<(String, Vec<Value>)> {
        let mut writer = self.writer(backend)?;
        writer.push("SELECT COUNT(*) AS ");
        writer.push_identifier("count");
        if self.core.is_grouped() {
            writer.push(" FROM (SELECT 1 AS ");
            writer.push_identifier("one");
            self.render_from(&mut writer);
            push_where(&mut writer, self.core.filter.as_ref(), None);
            push_grouping(&mut writer, &self.core, None);
            writer.push(") ");
            writer.push_identifier("_fox_groups");
        } else {
            self.render_from(&mut writer);
            push_where(&mut writer, self.core.filter.as_ref(), None);
        }
        Ok(writer.finish())
    }

    /// Whether any joined row (with `group_by`/`having`: any group) matches.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`]; database errors.
    pub async fn exists(&self, mut database: impl Executor) -> Result<bool> {
        let (sql, values) = self.exists_to_sql(database.backend())?;
        Ok(!database.fetch_all(&sql, &values).await?.is_empty())
    }

    /// The SQL of [`JoinSelect::exists`] for `backend`.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`].
    #[doc(hidden)]
    pub fn exists_to_sql(&self, backend: Backend) -> Result<(String, Vec<Value>)> {
        let mut writer = self.writer(backend)?;
        writer.push("SELECT 1 AS ");
        writer.push_identifier("found");
        self.render_from(&mut writer);
        push_where(&mut writer, self.core.filter.as_ref(), None);
        push_grouping(&mut writer, &self.core, None);
        writer.push(" LIMIT 1");
        Ok(writer.finish())
    }
}

/// Conditions on tables of the query with list `L`, for [`JoinSelect::filter_any`]: tuples of
/// two to four [`Condition`]s.
pub trait Alternatives<L, I> {
    /// The conditions, each qualified by its table: conditions on the whole query.
    fn conditions(self) -> Vec<Condition<L>>;
}

macro_rules! alternatives {
    ($($source:ident $index:ident => $n:tt),+) => {
        impl<L, $($source: Source, $index,)+> Alternatives<L, ($($index,)+)>
            for ($(Condition<$source>,)+)
        where
            $(L: Contains<$source, $index>,)+
        {
            fn conditions(self) -> Vec<Condition<L>> {
                vec![$(Condition::new(self.$n.expr.qualified::<$source>())),+]
            }
        }
    };
}

alternatives!(A IA => 0, B IB => 1);
alternatives!(A IA => 0, B IB => 1, C IC => 2);
alternatives!(A IA => 0, B IB => 1, C IC => 2, D ID => 3);

/// A joined query returning columns and aggregates of its tables as tuples.
#[derive(Debug)]
pub struct JoinSelectColumns<M, L, S, I> {
    query: JoinSelect<M, L>,
    selection: S,
    _index: PhantomData<fn() -> I>,
}

impl<M: Model, L, S: JoinSelection<L, I>, I> JoinSelectColumns<M, L, S, I> {
    /// The SQL and its parameters for `backend`.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`].
    pub fn to_sql(&self, backend: Backend) -> Result<(String, Vec<Value>)> {
        self.query
            .to_sql_with(backend, |writer| self.selection.render(writer))
    }

    /// [`JoinSelect::statement`] of the selection.
    fn statement(&self, backend: Backend) -> Result<(StatementText, Vec<Value>)> {
        self.query.statement(
            backend,
            |shape| {
                self.selection
                    .each_column(&mut |source, column| match source {
                        Cow::Borrowed(source) => shape.push_selected_column(source, column),
                        Cow::Owned(_) => None,
                    })
            },
            || self.to_sql(backend),
        )
    }

    /// Every matching row.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`]; database and decoding errors.
    pub async fn all(&self, mut database: impl Executor) -> Result<Vec<S::Output>> {
        let (sql, values) = self.statement(database.backend())?;
        database
            .fetch_decoded(&sql, &values, |row| self.selection.decode(&row))
            .await
    }

    /// The first matching row, if any.
    ///
    /// # Errors
    /// As for [`JoinSelect::to_sql`]; database and decoding errors.
    pub async fn one(self, mut database: impl Executor) -> Result<Option<S::Output>> {
        let query = JoinSelectColumns {
            query: self.query.limit(1),
            selection: self.selection,
            _index: PhantomData,
        };
        let (sql, values) = query.statement(database.backend())?;
        match database.fetch_all(&sql, &values).await?.first() {
            Some(row) => query.selection.decode(row).map(Some),
            None => Ok(None),
        }
    }
}
