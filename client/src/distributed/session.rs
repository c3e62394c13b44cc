//! One pooled connection held for a branch's whole life: XA binds a branch to the connection
//! that started it, and a PostgreSQL transaction lives on one session, so no statement of a
//! branch may go to another connection of the pool. On tokio-postgres the connection is one of
//! foxdb's own pool, and text statements run through the simple query protocol.

use sqlx::AssertSqlSafe;

use crate::Backend;
use crate::backend::on_engine;
use crate::connection::{
    Value, bind_all, check_parameter_count, push_decoded, query_or_decode_error,
};
use crate::database::{Database, PoolRef};
use crate::error::{Error, Result};
use crate::executor::Executed;
use crate::row::Row;

/// A connection taken from a [`Database`]'s pool. It goes back to the pool when dropped, or is
/// closed by [`Session::discard`] when it may hold an unfinished branch.
#[derive(Debug)]
pub(crate) enum Session {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::pool::PoolConnection<sqlx::MySql>),
    // Never opened for a branch (SQLite's dialect refuses two-phase commit before a session is
    // taken); here so the session is one enum over the drivers compiled in.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    /// PostgreSQL through tokio-postgres: a connection of foxdb's own pool.
    #[cfg(feature = "postgres")]
    TokioPostgres(crate::backend::postgres_tokio::Pooled),
}

impl Session {
    /// Takes a connection from `database`'s pool (its primary's, with replicas).
    pub(crate) async fn acquire(database: &Database) -> Result<Self> {
        if let Some((primary, _)) = database.current_primary() {
            return Box::pin(Self::acquire(&primary)).await;
        }
        let backend = database.backend();
        let acquired = match database.pool() {
            #[cfg(feature = "postgres")]
            PoolRef::Postgres(p) => p.acquire().await.map(Self::Postgres),
            #[cfg(feature = "mysql")]
            PoolRef::MySql(p) => p.acquire().await.map(Self::MySql),
            #[cfg(feature = "sqlite")]
            PoolRef::Sqlite(p) => p.acquire().await.map(Self::Sqlite),
            #[cfg(feature = "postgres")]
            PoolRef::TokioPostgres(p) => p
                .checkout(std::time::Instant::now())
                .await
                .map(Self::TokioPostgres),
        };
        acquired.map_err(|e| Error::query(backend, None, e))
    }

    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Backend::MySql,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Self::TokioPostgres(_) => Backend::Postgres,
        }
    }

    /// Closes the connection instead of returning it to the pool: the server then rolls back
    /// whatever it had open and not prepared.
    pub(crate) fn discard(self) {
        on_engine!(self, Self(c) => drop(c.detach()), Self::TokioPostgres(c) => c.discard());
    }

    /// Runs a statement as plain text (outside the prepared-statement protocol, which refuses
    /// XA statements), without parameters.
    pub(crate) async fn run_text(&mut self, sql: &str) -> Result<()> {
        let backend = self.backend();
        let statement = sqlx::raw_sql(AssertSqlSafe(sql.to_string()));
        let done = on_engine!(self, Self(c) => statement.execute(&mut **c).await.map(drop),
        Self::TokioPostgres(c) => {
            let done = c.session().batch(sql).await;
            noted(c, done)
        });
        done.map_err(|e| Error::query(backend, Some(sql), e))
    }

    /// Runs a query as plain text and reads one text column of every row (binary columns are
    /// read as UTF-8).
    pub(crate) async fn fetch_text_column(
        &mut self,
        sql: &str,
        column: &str,
    ) -> Result<Vec<String>> {
        let backend = self.backend();
        let statement = sqlx::raw_sql(AssertSqlSafe(sql.to_string()));
        let rows = on_engine!(self, Self(c) => statement.fetch_all(&mut **c).await.map(|rows| rows.into_iter().map(Row::from).collect::<Vec<_>>()),
        Self::TokioPostgres(c) => {
            // The simple query protocol sends every column as text.
            let texts = c.session().text_column(sql, column).await;
            return noted(c, texts).map_err(|e| Error::query(backend, Some(sql), e));
        });
        let rows = rows.map_err(|e| Error::query(backend, Some(sql), e))?;
        rows.iter()
            .map(|row| match row.get::<String>(column) {
                Ok(text) => Ok(text),
                Err(_) => row
                    .get::<Vec<u8>>(column)
                    .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
            })
            .collect()
    }

    pub(crate) async fn fetch_decoded<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &mut self,
        sql: &str,
        values: &[Value],
        mut decode: F,
    ) -> Result<Vec<T>> {
        let backend = self.backend();
        check_parameter_count(backend, sql, values)?;
        let statement = AssertSqlSafe(sql.to_string());
        // Rows go into `decoded` as they arrive: the driver's stream wants `Unpin` items.
        let mut decoded = Vec::new();
        let fetched = on_engine!(self, Self(c) => bind_all(sqlx::query(statement), values)
        .try_map(|row| push_decoded(&mut decoded, &mut decode, row))
        .fetch_all(&mut **c)
        .await
        .map(drop),
        Self::TokioPostgres(c) => {
            let fetched = c.session().for_each_row(sql, values, |row| push_decoded(&mut decoded, &mut decode, row))
            .await;
            noted(c, fetched)
        });
        match fetched {
            Ok(_) => Ok(decoded),
            Err(error) => Err(query_or_decode_error(backend, sql, error)),
        }
    }

    pub(crate) async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<Executed> {
        let backend = self.backend();
        check_parameter_count(backend, sql, values)?;
        let statement = AssertSqlSafe(sql.to_string());
        let executed = on_engine!(self, Self(c) => bind_all(sqlx::query(statement), values)
        .execute(&mut **c)
        .await
        .map(Executed::from),
        Self::TokioPostgres(c) => {
            let executed = c.session().execute(sql, values).await;
            noted(c, executed)
        });
        executed.map_err(|e| Error::query(backend, Some(sql), e))
    }
}

/// `outcome` of a statement on `connection`; a failed one marks the connection to be pinged
/// before it is used again.
#[cfg(feature = "postgres")]
fn noted<T>(
    connection: &mut crate::backend::postgres_tokio::Pooled,
    outcome: std::result::Result<T, sqlx::Error>,
) -> std::result::Result<T, sqlx::Error> {
    if outcome.is_err() {
        connection.failed();
    }
    outcome
}
