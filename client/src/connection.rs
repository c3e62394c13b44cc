//! One connection to one database, whatever the engine: connecting with clear errors, running
//! statements, binding portable values, transactions (begun in the form the engine's
//! [`crate::dialect::Dialect`] names, nested as savepoints), so no caller types `BEGIN` or `COMMIT`.
//!
//! The schema engine needs a single session (locks, transactions and session settings live on
//! it), so this is a connection, not a pool.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection as _, Row, SqlSafeStr};
use sqlx_core::transaction::TransactionManager;

use crate::Backend;
use crate::backend::on_engine;
use crate::dialect::dialect_for;
use crate::error::{Error, Result};
use crate::lexer::{self, Uncountable};
use crate::url::DatabaseUrl;

/// A value bound to a statement parameter.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// Boolean.
    Bool(bool),
    /// Whole number.
    Int(i64),
    /// Floating point number.
    Float(f64),
    /// Text (also dates, decimals, JSON, UUIDs; the statement casts it).
    Text(String),
    /// Binary data.
    Bytes(Vec<u8>),
    /// A UUID (bound natively on PostgreSQL, as hyphenated text elsewhere).
    Uuid(uuid::Uuid),
    /// An instant (`timestamptz`).
    TimestampTz(chrono::DateTime<chrono::Utc>),
    /// A date and time without zone (`timestamp`).
    Timestamp(chrono::NaiveDateTime),
    /// A date.
    Date(chrono::NaiveDate),
    /// A time of day.
    Time(chrono::NaiveTime),
    /// A JSON document.
    Json(serde_json::Value),
    /// An exact decimal (as text on SQLite, which has no exact decimal type).
    Decimal(rust_decimal::Decimal),
    /// The tenant of the executor running the statement: a [`crate::Tenant`] handle binds its
    /// tenant here (as text); every other executor refuses the statement with
    /// [`Error::TenantRequired`]. The query builder writes it for each tenant-scoped table a
    /// statement reads or writes ([`crate::Model::TENANT_COLUMN`]); hand-written SQL run
    /// through a tenant handle may bind it too.
    CurrentTenant,
}

/// Options for [`Connection::connect`].
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Shown by the server as the client's name (PostgreSQL `application_name`).
    pub application_name: String,
    /// Give up connecting after this long.
    pub connect_timeout: Duration,
    /// Open without the right to change anything: SQLite opens the file read-only, and a
    /// missing SQLite file reads as an empty database instead of being created; PostgreSQL and
    /// MySQL sessions are read-only. Plans and dry runs connect so.
    pub read_only: bool,
    /// Certificates besides the URL's (see [`crate::tls`]: connections to another machine use
    /// verified TLS unless the URL names a weaker mode).
    pub tls: crate::TlsOptions,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            application_name: "foxdb".into(),
            connect_timeout: Duration::from_secs(10),
            read_only: false,
            tls: crate::TlsOptions::default(),
        }
    }
}

/// An open connection. Only the engines compiled in (foxdb's `postgres`, `mysql` and `sqlite`
/// cargo features) have a variant.
#[derive(Debug)]
pub enum Connection {
    /// PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgConnection),
    /// MySQL / MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::MySqlConnection),
    /// SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqliteConnection),
}

impl Connection {
    /// Connects to `url`.
    ///
    /// # Errors
    /// [`Error::Connect`] naming the host (never the password) with a hint on what to check;
    /// [`Error::BackendNotEnabled`] for an engine this build of foxdb leaves out.
    pub async fn connect(url: &DatabaseUrl, options: &ConnectOptions) -> Result<Self> {
        let backend = url.backend();
        let source = crate::connect_failure::UrlSource::Operator;
        let driver_error =
            |error: sqlx::Error| crate::connect_failure::connect_error(url, source, &error);
        // Per engine: the driver's options; the rest of connecting is shared.
        // Certificates given here win over those that came with the URL.
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        let tls = if options.tls.is_empty() {
            url.tls()
        } else {
            &options.tls
        };
        let connecting = async {
            match backend {
                #[cfg(feature = "postgres")]
                Backend::Postgres => {
                    let connect_options: sqlx::postgres::PgConnectOptions =
                        url.expose().parse().map_err(driver_error)?;
                    let mut connect_options = crate::tls::secure_postgres(
                        connect_options.application_name(&options.application_name),
                        url,
                        tls,
                    );
                    if options.read_only {
                        connect_options =
                            connect_options.options([("default_transaction_read_only", "on")]);
                    }
                    sqlx::PgConnection::connect_with(&connect_options)
                        .await
                        .map(Self::Postgres)
                        .map_err(driver_error)
                }
                #[cfg(feature = "mysql")]
                Backend::MySql => {
                    let connect_options: sqlx::mysql::MySqlConnectOptions =
                        url.expose().parse().map_err(driver_error)?;
                    let connect_options = crate::tls::secure_mysql(connect_options, url, tls);
                    let mut connection = sqlx::MySqlConnection::connect_with(&connect_options)
                        .await
                        .map_err(driver_error)?;
                    if options.read_only {
                        sqlx::query("SET SESSION TRANSACTION READ ONLY")
                            .execute(&mut connection)
                            .await
                            .map_err(driver_error)?;
                    }
                    Ok(Self::MySql(connection))
                }
                #[cfg(feature = "sqlite")]
                Backend::Sqlite => {
                    let connect_options: sqlx::sqlite::SqliteConnectOptions =
                        url.expose().parse().map_err(driver_error)?;
                    let connect_options =
                        match (options.read_only, connect_options.get_filename().exists()) {
                            (false, _) => connect_options.create_if_missing(true),
                            (true, true) => connect_options.read_only(true),
                            // Nothing to read yet: an empty database, and no file left behind.
                            (true, false) => "sqlite::memory:"
                                .parse::<sqlx::sqlite::SqliteConnectOptions>()
                                .map_err(driver_error)?,
                        };
                    let connect_options = connect_options
                        .foreign_keys(true)
                        .busy_timeout(Duration::from_secs(5));
                    let mut connection = sqlx::SqliteConnection::connect_with(&connect_options)
                        .await
                        .map_err(driver_error)?;
                    crate::backend::SessionSetup::prepare_session(&mut connection)
                        .await
                        .map_err(driver_error)?;
                    Ok(Self::Sqlite(connection))
                }
                #[cfg(not(all(feature = "postgres", feature = "mysql", feature = "sqlite")))]
                compiled_out => Err(compiled_out.not_enabled()),
            }
        };
        match tokio::time::timeout(options.connect_timeout, connecting).await {
            Ok(connected) => connected,
            Err(_) => Err(crate::connect_failure::timed_out(
                url,
                source,
                options.connect_timeout,
            )),
        }
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Backend::MySql,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Runs one or more statements without parameters; returns the rows affected.
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn execute(&mut self, sql: &str) -> Result<u64> {
        let backend = self.backend();
        let statement = sqlx::raw_sql(AssertSqlSafe(sql.to_string()));
        let result =
            on_engine!(self, Self(c) => statement.execute(c).await.map(|r| r.rows_affected()));
        result.map_err(|e| Error::query(backend, Some(sql), e))
    }

    /// Runs one statement with bound parameters; returns the rows affected.
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn execute_with(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        let backend = self.backend();
        check_parameter_count(backend, sql, params)?;
        let sql_owned = AssertSqlSafe(sql.to_string());
        let result = on_engine!(self, Self(c) => bind_all(sqlx::query(sql_owned), params)
            .execute(c)
            .await
            .map(|r| r.rows_affected()));
        result.map_err(|e| Error::query(backend, Some(sql), e))
    }

    /// Runs a query whose columns are all text (cast them in SQL) and returns its rows.
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn fetch_text_rows(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<Vec<Option<String>>>> {
        let backend = self.backend();
        check_parameter_count(backend, sql, params)?;
        let sql_owned = AssertSqlSafe(sql.to_string());
        let result = on_engine!(self, Self(c) => bind_all(sqlx::query(sql_owned), params)
            .fetch_all(c)
            .await
            .map(|rows| rows.iter().map(|r| text_row(r, r.len())).collect()));
        result.map_err(|e| Error::query(backend, Some(sql), e))
    }

    /// Runs a query returning one integer (a count).
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn fetch_i64(&mut self, sql: &str, params: &[Value]) -> Result<i64> {
        let backend = self.backend();
        check_parameter_count(backend, sql, params)?;
        let sql_owned = AssertSqlSafe(sql.to_string());
        let result = on_engine!(self, Self(c) => bind_all(sqlx::query(sql_owned), params)
            .fetch_one(c)
            .await
            .and_then(|r| r.try_get::<i64, _>(0)));
        result.map_err(|e| Error::query(backend, Some(sql), e))
    }

    /// Begins a transaction, in the engine's form ([`crate::dialect::Dialect::begin_transaction`]: `BEGIN`, on
    /// SQLite `BEGIN IMMEDIATE`, which takes the write lock at once); inside an open transaction
    /// it sets a savepoint instead, so transactions nest. Each `begin` is ended by one
    /// [`Connection::commit`] or [`Connection::rollback`], innermost first.
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn begin(&mut self) -> Result<()> {
        let statement =
            (!self.in_transaction()).then(|| dialect_for(self.backend()).begin_transaction());
        self.begin_with(statement).await
    }

    /// Begins a transaction that keeps every other connection out, readers included, until it
    /// ends ([`crate::dialect::Dialect::begin_exclusive_transaction`]: SQLite `BEGIN EXCLUSIVE`). The schema
    /// engine's lock on SQLite is this transaction.
    ///
    /// # Errors
    /// [`Error::Unsupported`] on an engine without one (PostgreSQL and MySQL serialise with
    /// advisory locks) or inside an open transaction (it cannot nest); [`Error::Query`] when the
    /// lock is not granted within the busy timeout.
    pub async fn begin_exclusive(&mut self) -> Result<()> {
        let backend = self.backend();
        let Some(statement) = dialect_for(backend).begin_exclusive_transaction() else {
            return Err(Error::Unsupported {
                backend,
                feature: "an exclusive transaction (use an advisory lock)".into(),
            });
        };
        if self.in_transaction() {
            return Err(Error::Unsupported {
                backend,
                feature: "an exclusive transaction inside an open transaction".into(),
            });
        }
        self.begin_with(Some(statement)).await
    }

    async fn begin_with(&mut self, statement: Option<&'static str>) -> Result<()> {
        let backend = self.backend();
        let shown = statement.unwrap_or("SAVEPOINT");
        let begun = on_engine!(self, Self(c) => begin_on(c, statement).await);
        begun.map_err(|e| Error::query(backend, Some(shown), e))
    }

    /// Commits the innermost open transaction (releases its savepoint when nested). Without an
    /// open transaction it does nothing.
    ///
    /// # Errors
    /// [`Error::Query`]: the commit failed (a deferred constraint, a lost connection).
    pub async fn commit(&mut self) -> Result<()> {
        let backend = self.backend();
        let committed = on_engine!(self, Self(c) => commit_on(c).await);
        committed.map_err(|e| Error::query(backend, Some("COMMIT"), e))
    }

    /// Rolls back the innermost open transaction (back to its savepoint when nested). Without
    /// an open transaction it does nothing.
    ///
    /// # Errors
    /// [`Error::Query`]: the rollback failed (a lost connection; the server then ends the
    /// transaction itself).
    pub async fn rollback(&mut self) -> Result<()> {
        let backend = self.backend();
        let rolled_back = on_engine!(self, Self(c) => rollback_on(c).await);
        rolled_back.map_err(|e| Error::query(backend, Some("ROLLBACK"), e))
    }

    /// How many transactions are open: 0 outside one, 1 in one, one more per savepoint.
    pub fn transaction_depth(&self) -> usize {
        on_engine!(self, Self(c) => depth_of(c))
    }

    /// Whether a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.transaction_depth() > 0
    }

    /// Runs `work` in a transaction (a savepoint inside an open one): commits when it returns
    /// `Ok`, rolls back when it returns `Err`. The work's error is the one returned; a failed
    /// rollback is logged.
    ///
    /// # Errors
    /// The work's error (after rollback), or the begin's or commit's.
    pub async fn transaction<T, E, F>(&mut self, work: F) -> std::result::Result<T, E>
    where
        F: AsyncFnOnce(&mut Connection) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        self.begin().await?;
        match work(self).await {
            Ok(value) => {
                self.commit().await?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = self.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed transaction failed");
                }
                Err(error)
            }
        }
    }

    /// Closes the connection cleanly.
    pub async fn close(self) {
        let _ = on_engine!(self, Self(c) => c.close().await);
    }
}

// Transactions go through the driver's transaction manager, which counts them on the
// connection (nesting becomes savepoints), as sqlx's own `Transaction` does.

async fn begin_on<C: sqlx::Connection>(
    connection: &mut C,
    statement: Option<&'static str>,
) -> sqlx::Result<()> {
    <<C::Database as sqlx::Database>::TransactionManager as TransactionManager>::begin(
        connection,
        statement.map(SqlSafeStr::into_sql_str),
    )
    .await
}

async fn commit_on<C: sqlx::Connection>(connection: &mut C) -> sqlx::Result<()> {
    <<C::Database as sqlx::Database>::TransactionManager as TransactionManager>::commit(connection)
        .await
}

async fn rollback_on<C: sqlx::Connection>(connection: &mut C) -> sqlx::Result<()> {
    <<C::Database as sqlx::Database>::TransactionManager as TransactionManager>::rollback(
        connection,
    )
    .await
}

fn depth_of<C: sqlx::Connection>(connection: &C) -> usize {
    <<C::Database as sqlx::Database>::TransactionManager as TransactionManager>::get_transaction_depth(
        connection,
    )
}

/// Refuses a statement given another number of values than its placeholders take, before the
/// driver sees it: SQLite's binds missing values as NULL, and some drivers wait forever for
/// them. Placeholders are found the way the engine's lexer finds them (not in strings, quoted
/// identifiers or comments; see `lexer` for each engine's rules): `$n` on PostgreSQL,
/// where the highest `n` counts; `?` on MySQL; `?`, or numbered `?NNN` and `$NNN`, on SQLite.
///
/// # Errors
/// [`Error::Query`] with the statement: the counts differ, or it holds a placeholder foxdb cannot
/// bind (SQLite's named parameters). A statement whose text ends inside a string, quoted
/// identifier or comment passes: the server's syntax error says more.
pub(crate) fn check_parameter_count(backend: Backend, sql: &str, params: &[Value]) -> Result<()> {
    check_counted_parameters(
        backend,
        sql,
        &lexer::expected_parameters(backend, sql),
        params,
    )
}

/// [`check_parameter_count`] with the placeholders of `sql` already counted (`expected`, as
/// `lexer::expected_parameters` gives it): the pool and transactions remember the
/// count per statement text.
pub(crate) fn check_counted_parameters(
    backend: Backend,
    sql: &str,
    expected: &std::result::Result<usize, Uncountable>,
    params: &(impl StatementValues + ?Sized),
) -> Result<()> {
    // Not `contains`: that compares every value with `==`.
    if params
        .each()
        .any(|value| matches!(value, Value::CurrentTenant))
    {
        return Err(Error::TenantRequired {
            statement: sql.to_string(),
        });
    }
    let (message, reason) = match expected {
        Ok(expected) if *expected == params.count() => return Ok(()),
        Err(Uncountable::Unterminated) => return Ok(()),
        Ok(expected) => (
            format!(
                "statement has {expected} placeholders but {} parameters were given",
                params.count()
            ),
            "parameter count mismatch",
        ),
        Err(Uncountable::Unbindable { span, hint }) => (
            format!(
                "cannot bind placeholder `{}`: {hint}",
                sql.get(span.clone()).unwrap_or_default()
            ),
            "unbindable placeholder",
        ),
    };
    Err(Error::refused_statement(backend, sql, message, reason))
}

fn text_row<R>(row: &R, width: usize) -> Vec<Option<String>>
where
    R: Row,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    (0..width)
        .map(|i| row.try_get::<Option<String>, _>(i).ok().flatten())
        .collect()
}

/// A decoding error carried through the driver's row stream (decoding runs as rows arrive),
/// taken back out by [`query_or_decode_error`].
pub(crate) fn carry_decode_error(error: Error) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(error))
}

/// Decodes one row as the driver hands it over and keeps the result in `decoded`: what every
/// query's row callback does (rows go into `decoded` as they arrive, because the drivers'
/// streams want `Unpin` items). A decoding error is carried ([`carry_decode_error`]).
pub(crate) fn push_decoded<R, T>(
    decoded: &mut Vec<T>,
    decode: &mut impl FnMut(crate::row::Row) -> Result<T>,
    row: R,
) -> std::result::Result<(), sqlx::Error>
where
    crate::row::Row: From<R>,
{
    decoded.push(decode(crate::row::Row::from(row)).map_err(carry_decode_error)?);
    Ok(())
}

/// Whether `error` is a decoding error [`carry_decode_error`] put there: the statement itself
/// ran.
pub(crate) fn is_carried_decode_error(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Decode(source) if source.is::<Error>())
}

/// A carried decoding error as it was; any other driver error as [`Error::Query`] with the
/// statement.
pub(crate) fn query_or_decode_error(backend: Backend, sql: &str, error: sqlx::Error) -> Error {
    match error {
        sqlx::Error::Decode(source) => match source.downcast::<Error>() {
            Ok(decoding) => *decoding,
            Err(source) => Error::query(backend, Some(sql), sqlx::Error::Decode(source)),
        },
        other => Error::query(backend, Some(sql), other),
    }
}

/// How each engine binds what differs between drivers: an exact decimal (natively, or as text
/// where the driver has no decimal type: SQLite), and NULL (untyped where the engine infers the
/// type from the statement). Implemented per engine in `backend::{postgres,mysql,sqlite}`.
pub(crate) trait DecimalBinding: sqlx::Database {
    fn bind_decimal<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>,
        value: rust_decimal::Decimal,
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>;

    /// A UUID; by default as its hyphenated text (FoxDB stores UUIDs as `char(36)` on MySQL
    /// and as text on SQLite).
    fn bind_uuid<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>,
        value: uuid::Uuid,
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>
    where
        String: sqlx::Encode<'q, Self> + sqlx::Type<Self>,
    {
        query.bind(value.hyphenated().to_string())
    }

    /// NULL; by default a text-typed one, which MySQL and SQLite accept for any column.
    fn bind_null<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>,
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>
    where
        Option<String>: sqlx::Encode<'q, Self> + sqlx::Type<Self>,
    {
        query.bind(None::<String>)
    }
}

/// A statement's values in order: owned ones (`[Value]`), or a builder's own values lent
/// (`[&Value]`), so a statement built from an update or a filter binds them without copying
/// them first.
pub(crate) trait StatementValues: Sync {
    /// How many.
    fn count(&self) -> usize;

    /// The values in order.
    fn each(&self) -> impl ExactSizeIterator<Item = &Value> + Send;

    /// The values as one owned slice, when they are one.
    fn as_owned(&self) -> Option<&[Value]>;

    /// The values copied, where an owned slice is needed (replica routing).
    fn to_owned_values(&self) -> Vec<Value> {
        self.each().cloned().collect()
    }
}

impl StatementValues for [Value] {
    fn count(&self) -> usize {
        self.len()
    }

    fn each(&self) -> impl ExactSizeIterator<Item = &Value> + Send {
        self.iter()
    }

    fn as_owned(&self) -> Option<&[Value]> {
        Some(self)
    }
}

impl StatementValues for [&Value] {
    fn count(&self) -> usize {
        self.len()
    }

    fn each(&self) -> impl ExactSizeIterator<Item = &Value> + Send {
        self.iter().copied()
    }

    fn as_owned(&self) -> Option<&[Value]> {
        None
    }
}

/// Binds `params` in order, by reference: text, bytes and JSON are encoded from the values
/// themselves, not from copies.
pub(crate) fn bind_all<'q, DB, P: StatementValues + ?Sized>(
    mut query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    params: &'q P,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
where
    DB: DecimalBinding,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'a> &'a str: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    for<'a> &'a [u8]: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    uuid::Uuid: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    chrono::DateTime<chrono::Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    chrono::NaiveDateTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    chrono::NaiveDate: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    chrono::NaiveTime: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'a> &'a serde_json::Value: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    for param in params.each() {
        query = match param {
            Value::Null => DB::bind_null(query),
            Value::Bool(b) => query.bind(*b),
            Value::Int(i) => query.bind(*i),
            Value::Float(x) => query.bind(*x),
            Value::Text(s) => query.bind(s.as_str()),
            Value::Bytes(b) => query.bind(b.as_slice()),
            Value::Uuid(id) => DB::bind_uuid(query, *id),
            Value::TimestampTz(t) => query.bind(*t),
            Value::Timestamp(t) => query.bind(*t),
            Value::Date(d) => query.bind(*d),
            Value::Time(t) => query.bind(*t),
            Value::Json(j) => query.bind(j),
            Value::Decimal(d) => DB::bind_decimal(query, *d),
            // Refused before binding (`check_counted_parameters`); were it ever bound, NULL
            // matches no tenant's row.
            Value::CurrentTenant => DB::bind_null(query),
        };
    }
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(backend: Backend, sql: &str, params: &[Value]) -> String {
        match check_parameter_count(backend, sql, params) {
            Err(Error::Query {
                message, statement, ..
            }) => {
                assert_eq!(statement.as_deref(), Some(sql));
                message
            }
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn a_count_that_differs_is_refused_with_both_numbers() {
        assert_eq!(
            refusal(Backend::MySql, "SELECT ?, '?'", &[]),
            "statement has 1 placeholders but 0 parameters were given"
        );
        assert_eq!(
            refusal(Backend::Postgres, "SELECT $1, $2", &[Value::Int(1)]),
            "statement has 2 placeholders but 1 parameters were given"
        );
        assert!(
            check_parameter_count(Backend::Postgres, "SELECT $1 ? 'a'", &[Value::Int(1)]).is_ok()
        );
    }

    #[test]
    fn a_placeholder_foxdb_cannot_bind_is_named() {
        let message = refusal(
            Backend::Sqlite,
            "SELECT * FROM t WHERE id = :id",
            &[Value::Int(1)],
        );
        assert!(
            message
                .starts_with("cannot bind placeholder `:id`: foxdb binds parameters by position"),
            "{message}"
        );
    }

    #[test]
    fn unterminated_text_is_left_to_the_server() {
        assert!(check_parameter_count(Backend::MySql, "SELECT ? 'it\\'s", &[]).is_ok());
    }
}
