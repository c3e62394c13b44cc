//! `SELECT` queries of one model.

use std::marker::PhantomData;

use super::ast::{ColumnRef, OrderTerm, SelectCore};
use super::column::{Column, IntoOrder, OrderTermOf};
use super::condition::Condition;
use super::render::{push_select_tail, push_where};
use super::rendered_statements::{
    BuilderValues, StatementShape, StatementText, lend_filter_values, push_filter_values, text_of,
};
use super::writer::{EnumColumns, SqlWriter};
use crate::Backend;
use crate::connection::Value;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::model::Model;

/// A query for rows of `M`.
#[derive(Debug)]
pub struct Select<M> {
    /// Filter, grouping, order and limits; group and order columns named through `M`'s table.
    pub(crate) core: SelectCore,
    /// The schema the table is read in ([`Select::in_schema`]).
    pub(crate) schema: Option<String>,
    _model: PhantomData<fn() -> M>,
}

/// Starts a query for rows of `M` (also `M::find()` through [`crate::ModelExt`]).
pub fn select<M: Model>() -> Select<M> {
    Select {
        core: SelectCore::default(),
        schema: None,
        _model: PhantomData,
    }
}

impl<M: Model> Select<M> {
    /// Keeps rows matching `condition` (several calls combine with AND).
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.core.filter = Some(condition.and_after(self.core.filter.take()));
        self
    }

    /// Groups rows by `column` (several calls group by each); select the group columns and
    /// aggregates with [`Select::select`].
    pub fn group_by<T: crate::model::ColumnType>(mut self, column: Column<M, T>) -> Self {
        self.core
            .group_by
            .push(ColumnRef::new(M::TABLE, column.name()));
        self
    }

    /// Keeps groups matching `condition` (comparisons of aggregates: `count().gt(1)`).
    pub fn having(mut self, condition: Condition<M>) -> Self {
        self.core.having = Some(condition.and_after(self.core.having.take()));
        self
    }

    /// Sorts by `order` (several calls sort by each in turn): a column (`User::NAME.asc()`)
    /// or, in a grouped query, an aggregate (`count().desc()`, `Post::LIKES.sum().desc()`),
    /// selected or not.
    ///
    /// Only sort keys of `M` are accepted:
    ///
    /// ```compile_fail
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "users")]
    /// # struct User { #[foxdb(primary_key)] id: i64 }
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "posts")]
    /// # struct Post { #[foxdb(primary_key)] id: i64, author_id: i64 }
    /// use foxdb::ModelExt;
    /// let wrong = User::find().order_by(foxdb::count::<Post>().desc()); // a Post aggregate
    /// ```
    pub fn order_by(mut self, order: impl IntoOrder<M>) -> Self {
        let term = order.into_order_term();
        // Qualified: a PostgreSQL enum read back as text must still sort as the enum.
        self.core.order.push(OrderTerm {
            column: ColumnRef::new(M::TABLE, term.column),
            aggregate: term.aggregate,
            descending: term.descending,
        });
        self
    }

    pub(crate) fn order_by_column(self, column: &'static str, descending: bool) -> Self {
        self.order_by(OrderTermOf::<M>::new(column, None, descending))
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

    /// Reads every tenant's rows: the query leaves out the tenant condition of tenant-scoped
    /// tables ([`Model::TENANT_COLUMN`]), its own and those it joins or filters by, and runs
    /// on any executor (administration, reports across tenants). Without it a query of a
    /// tenant-scoped model runs only through a tenant handle ([`crate::Database::tenant`]);
    /// elsewhere it fails with [`Error::TenantRequired`]. Through a tenant handle on
    /// PostgreSQL the database's row-level security still keeps it to that tenant.
    pub fn all_tenants(mut self) -> Self {
        self.core.all_tenants = true;
        self
    }

    /// Reads the table in `schema` rather than in the connection's current schema: a
    /// PostgreSQL schema, a MySQL/MariaDB database, an SQLite database (`main`, `temp` or the
    /// name of an attached one). The table is named `"schema"."table"`, and so are the tables
    /// of relation filters in the query (`User::posts().any(..)`), which must be in the same
    /// schema; a PostgreSQL enum column's type is the one in `schema` too. Bound values and
    /// conditions are as without it.
    ///
    /// ```
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "users")]
    /// # struct User { #[foxdb(primary_key)] id: i64, email: String }
    /// use foxdb::{Backend, ModelExt};
    /// let (sql, _) = User::find().in_schema("acme").filter(User::ID.eq(1)).to_sql(Backend::Postgres);
    /// assert_eq!(sql, r#"SELECT "id", "email" FROM "acme"."users" WHERE "id" = $1"#);
    /// ```
    ///
    /// Joins ([`Select::join`]) and eager loads ([`Select::with`]) of a query in a schema are
    /// refused with [`Error::Unsupported`] when run, never sent unqualified.
    pub fn in_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// A writer for this query's statements on `backend`.
    fn writer(&self, backend: Backend) -> SqlWriter {
        let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<M>());
        writer.set_all_tenants(self.core.all_tenants);
        writer.set_schema(self.schema.as_deref());
        writer
    }

    fn render_from_where(&self, writer: &mut SqlWriter) {
        writer.push(" FROM ");
        writer.push_table(M::TABLE);
        push_where(writer, self.core.filter.as_ref(), None);
    }

    /// The SQL and its parameters for `backend`.
    pub fn to_sql(&self, backend: Backend) -> (String, Vec<Value>) {
        self.to_sql_columns(backend, M::COLUMNS)
    }

    pub(crate) fn to_sql_columns(
        &self,
        backend: Backend,
        columns: &[&str],
    ) -> (String, Vec<Value>) {
        self.to_sql_with(backend, |writer| writer.push_select_columns(columns))
    }

    /// The SQL with a select list written by `select_list`.
    pub(crate) fn to_sql_with(
        &self,
        backend: Backend,
        select_list: impl FnOnce(&mut SqlWriter),
    ) -> (String, Vec<Value>) {
        let mut writer = self.writer(backend);
        writer.push("SELECT ");
        select_list(&mut writer);
        writer.push(" FROM ");
        writer.push_table(M::TABLE);
        push_select_tail(&mut writer, &self.core, None);
        writer.finish()
    }

    /// The engine's plan for this query.
    ///
    /// # Errors
    /// Database errors.
    pub async fn explain(&self, database: &crate::Database) -> Result<Vec<String>> {
        let (sql, values) = self.to_sql(database.backend());
        database.explain(&sql, &values).await
    }

    /// Every matching row.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn all(&self, database: impl Executor) -> Result<Vec<M>> {
        let (sql, values) = self.statement(database.backend());
        // By position: the columns are the model's, in field order.
        fetch_in_order(database, &sql, values).await
    }

    /// [`Select::to_sql`], the text kept per shape when it depends on nothing else (see
    /// [`super::rendered_statements`]): a repeated query only collects its values.
    fn statement(&self, backend: Backend) -> (StatementText, BuilderValues<'_>) {
        let shaped = self.schema.is_none()
            && !self.core.all_tenants
            && M::TENANT_COLUMN.is_none()
            && M::ENUM_COLUMNS.is_empty();
        let shape = shaped
            .then(|| StatementShape::of_select(backend, M::TABLE, M::COLUMNS, &self.core))
            .flatten();
        let Some(shape) = shape else {
            let (sql, values) = self.to_sql(backend);
            return (StatementText::Rendered(sql), BuilderValues::Built(values));
        };
        let Ok((text, rendered)) = text_of(&shape, || {
            Ok::<_, std::convert::Infallible>(self.to_sql(backend))
        });
        let filter = self.core.filter.as_ref();
        let values = match rendered {
            Some(values) => BuilderValues::Built(values),
            None => BuilderValues::of_kept_text(
                |lent| lend_filter_values(backend, filter, lent),
                |values| push_filter_values(backend, filter, values),
                || Some(self.to_sql(backend).1),
            ),
        };
        (StatementText::Kept(text), values)
    }

    /// The first matching row, if any.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn one(self, database: impl Executor) -> Result<Option<M>> {
        let query = self.limit(1);
        let (sql, values) = query.statement(database.backend());
        let rows = fetch_in_order(database, &sql, values).await?;
        Ok(rows.into_iter().next())
    }

    /// The first matching row; [`Error::NotFound`] when there is none.
    ///
    /// # Errors
    /// Database and decoding errors, no row.
    pub async fn one_required(self, database: impl Executor) -> Result<M> {
        self.one(database).await?.ok_or_else(|| Error::NotFound {
            table: M::TABLE.to_string(),
        })
    }

    /// The SQL of [`Select::count`] for `backend`.
    #[doc(hidden)]
    pub fn count_to_sql(&self, backend: Backend) -> (String, Vec<Value>) {
        let mut writer = self.writer(backend);
        writer.push("SELECT COUNT(*) AS ");
        writer.push_identifier("count");
        self.render_from_where(&mut writer);
        writer.finish()
    }

    /// The SQL of [`Select::exists`] for `backend`.
    #[doc(hidden)]
    pub fn exists_to_sql(&self, backend: Backend) -> (String, Vec<Value>) {
        let mut writer = self.writer(backend);
        writer.push("SELECT 1 AS ");
        writer.push_identifier("found");
        self.render_from_where(&mut writer);
        writer.push(" LIMIT 1");
        writer.finish()
    }

    /// The SQL that reads the matching rows locked until the transaction ends, where the
    /// engine can (`FOR UPDATE`; SQLite's write transactions are serializable).
    #[doc(hidden)]
    pub fn to_sql_for_update(&self, backend: Backend) -> (String, Vec<Value>) {
        let (mut sql, values) = self.to_sql(backend);
        sql.push_str(crate::dialect::dialect_for(backend).lock_rows_clause());
        (sql, values)
    }

    /// How many rows match (ignoring limit and offset).
    ///
    /// # Errors
    /// Database errors.
    pub async fn count(&self, mut database: impl Executor) -> Result<i64> {
        let (sql, values) = self.count_to_sql(database.backend());
        let rows = database.fetch_all(&sql, &values).await?;
        rows.first().map_or(Ok(0), |row| row.get::<i64>("count"))
    }

    /// Whether any row matches.
    ///
    /// # Errors
    /// Database errors.
    pub async fn exists(&self, mut database: impl Executor) -> Result<bool> {
        let (sql, values) = self.exists_to_sql(database.backend());
        Ok(!database.fetch_all(&sql, &values).await?.is_empty())
    }
}

/// Runs a select of `M`'s columns and decodes each row by position (the columns are the
/// model's, in field order), its values lent where they are the builder's.
async fn fetch_in_order<M: Model>(
    mut database: impl Executor,
    sql: &str,
    values: BuilderValues<'_>,
) -> Result<Vec<M>> {
    let built = values.lend_built();
    let lent = values.lent().unwrap_or(&built);
    database
        .fetch_lent(sql, lent, values.built(), |row| M::from_row_in_order(&row))
        .await
}
