//! Transactions: commit on `Ok`, roll back on `Err` or panic, savepoints for nesting, isolation
//! levels, and a retry helper for serialization failures.
//!
//! # Expected flow
//! ```no_run
//! # async fn demo(db: &foxdb::Database) -> foxdb::Result<()> {
//! use foxdb::ModelExt;
//! # #[derive(Clone, foxdb::Model)] #[foxdb(table = "accounts")] struct Account { #[foxdb(primary_key)] id: i64, balance: i64 }
//! db.transaction(async |tx| {
//!     Account::update().set(Account::BALANCE, 90).filter(Account::ID.eq(1)).exec(&mut *tx).await?;
//!     Account::update().set(Account::BALANCE, 110).filter(Account::ID.eq(2)).exec(&mut *tx).await?;
//!     Ok(())
//! })
//! .await
//! # }
//! ```

use crate::Backend;
use crate::backend::on_engine;
use crate::connection::{
    Value, bind_all, is_carried_decode_error, push_decoded, query_or_decode_error,
};
use crate::database::Database;
#[cfg(feature = "sqlite")]
use crate::dialect::Dialect as _;
use crate::error::{Error, Result};
use crate::executor::{Executed, Executor};
use crate::row::Row;

/// Isolation level of a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isolation {
    /// READ COMMITTED.
    ReadCommitted,
    /// REPEATABLE READ.
    RepeatableRead,
    /// SERIALIZABLE.
    Serializable,
}

impl Isolation {
    fn as_sql(self) -> &'static str {
        match self {
            Self::ReadCommitted => "READ COMMITTED",
            Self::RepeatableRead => "REPEATABLE READ",
            Self::Serializable => "SERIALIZABLE",
        }
    }
}

#[derive(Debug)]
enum Inner {
    #[cfg(feature = "postgres")]
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(sqlx::Transaction<'static, sqlx::MySql>),
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    #[cfg(feature = "postgres")]
    TokioPostgres(crate::backend::postgres_tokio::TokioPgTransaction),
}

/// An open transaction; dropped without commit, it rolls back.
#[derive(Debug)]
pub struct Transaction {
    inner: Inner,
    savepoints: u32,
    stats: std::sync::Arc<crate::stats::QueryStats>,
    /// The pool's statement counter: statements in a transaction count in
    /// [`Database::statement_count`] too.
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// What runs after commit: read-your-writes, cache version bumps.
    hooks: crate::commit_hooks::CommitHooks,
    /// Clears the audit actor before the transaction ends, where it would outlive it
    /// ([`Transaction::set_actor`]).
    clear_actor: Option<&'static str>,
    /// The tenant whose statements these are, for a transaction of a tenant handle
    /// ([`crate::Tenant::transaction`]): it fills [`Value::CurrentTenant`].
    pub(crate) tenant: Option<std::sync::Arc<str>>,
}

impl Database {
    /// Begins a transaction, optionally at an isolation level. On a handle with an actor
    /// ([`Database::with_actor`]) the transaction writes as that actor.
    ///
    /// # Errors
    /// Database errors; [`Error::Unsupported`] for an isolation level SQLite does not have.
    pub async fn begin(&self, isolation: Option<Isolation>) -> Result<Transaction> {
        let mut transaction = self.begin_plain(isolation).await?;
        if let Some(actor) = &self.actor {
            transaction.set_actor(actor).await?;
        }
        Ok(transaction)
    }

    /// A handle whose transactions write as `actor`: audit records of their writes name it
    /// (see [`crate::audit`]). Statements run outside a transaction record no actor.
    pub fn with_actor(&self, actor: impl Into<String>) -> Database {
        let mut handle = self.clone();
        handle.actor = Some(actor.into().into());
        handle
    }

    /// The actor this handle's transactions write as.
    pub fn actor(&self) -> Option<&str> {
        self.actor.as_deref()
    }

    async fn begin_plain(&self, isolation: Option<Isolation>) -> Result<Transaction> {
        if let Some((primary, session)) = self.current_primary() {
            // With replicas, a transaction runs on the primary; once it commits, the
            // session's reads wait for it.
            let mut transaction = Box::pin(primary.begin_plain(isolation)).await?;
            transaction.hooks = self.commit_hooks();
            transaction.hooks.session = Some(session);
            return Ok(transaction);
        }
        let backend = self.backend();
        let inner = match (self.pool(), isolation) {
            #[cfg(feature = "postgres")]
            (crate::database::PoolRef::TokioPostgres(p), isolation) => {
                let begin = match isolation {
                    None => "BEGIN".to_string(),
                    Some(level) => format!("BEGIN ISOLATION LEVEL {}", level.as_sql()),
                };
                crate::backend::postgres_tokio::TokioPgTransaction::begin(p, &begin)
                    .await
                    .map(Inner::TokioPostgres)
            }
            #[cfg(feature = "postgres")]
            (crate::database::PoolRef::Postgres(p), None) => p.begin().await.map(Inner::Postgres),
            #[cfg(feature = "postgres")]
            (crate::database::PoolRef::Postgres(p), Some(level)) => p
                .begin_with(sqlx::AssertSqlSafe(format!(
                    "BEGIN ISOLATION LEVEL {}",
                    level.as_sql()
                )))
                .await
                .map(Inner::Postgres),
            // The audit actor is a session variable on MySQL: every transaction starts without
            // one, in the same round trip, even on a connection whose last transaction was
            // dropped before it could clear its own.
            #[cfg(feature = "mysql")]
            (crate::database::PoolRef::MySql(p), None) => p
                .begin_with("SET @foxdb_actor = NULL; START TRANSACTION")
                .await
                .map(Inner::MySql),
            #[cfg(feature = "mysql")]
            (crate::database::PoolRef::MySql(p), Some(level)) => {
                // MySQL sets the level of the next transaction, then starts it.
                p.begin_with(sqlx::AssertSqlSafe(format!(
                    "SET @foxdb_actor = NULL; SET TRANSACTION ISOLATION LEVEL {}; START TRANSACTION",
                    level.as_sql()
                )))
                .await
                .map(Inner::MySql)
            }
            #[cfg(feature = "sqlite")]
            (crate::database::PoolRef::Sqlite(p), None | Some(Isolation::Serializable)) => {
                // SQLite transactions are always serializable; the dialect's BEGIN takes the
                // write lock at once (`BEGIN IMMEDIATE`).
                p.begin_with(crate::dialect::Sqlite.begin_transaction())
                    .await
                    .map(Inner::Sqlite)
            }
            #[cfg(feature = "sqlite")]
            (crate::database::PoolRef::Sqlite(_), Some(level)) => {
                return Err(Error::Unsupported {
                    backend,
                    feature: format!(
                        "isolation level {} (SQLite transactions are serializable)",
                        level.as_sql()
                    ),
                });
            }
        };
        inner
            .map(|inner| self.transaction_on(inner))
            .map_err(|e| Error::query(backend, Some("BEGIN"), e))
    }

    /// A transaction of this handle's running on `inner`.
    fn transaction_on(&self, inner: Inner) -> Transaction {
        Transaction {
            inner,
            savepoints: 0,
            stats: self.stats_handle(),
            statements: self.statements_handle(),
            hooks: self.commit_hooks(),
            clear_actor: None,
            tenant: None,
        }
    }

    /// Runs `work` in a transaction: commits when it returns `Ok`, rolls back when it returns
    /// `Err` or panics. The future is `Send` when `work`'s is, so it runs on spawned tasks.
    ///
    /// # Errors
    /// The work's error (after rollback), or the commit's.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction) -> Result<T, E>,
        E: From<Error>,
    {
        self.transaction_with(None, work).await
    }

    /// [`Database::transaction`] at an isolation level.
    ///
    /// # Errors
    /// The work's error (after rollback), or the commit's.
    pub async fn transaction_with<T, E, F>(
        &self,
        isolation: Option<Isolation>,
        work: F,
    ) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction) -> Result<T, E>,
        E: From<Error>,
    {
        let mut transaction = self.begin(isolation).await?;
        match work(&mut transaction).await {
            Ok(value) => {
                transaction.commit().await?;
                Ok(value)
            }
            Err(error) => {
                // The work's error is the one to report; a failed rollback ends the
                // connection's transaction anyway when it goes back to the pool.
                if let Err(rollback) = transaction.rollback().await {
                    tracing::warn!(error = %rollback, "rollback after a failed transaction failed");
                }
                Err(error)
            }
        }
    }

    /// Runs a transaction again (up to `attempts` times) when the engine aborts it for a
    /// serialization failure or deadlock, the errors that are meant to be retried.
    ///
    /// Each attempt runs a fresh clone of `work`. An async closure that captures shared
    /// references and clonable values is `Clone`; one that mutates what it captures is not
    /// (count attempts in an atomic instead). Taking `work` by clone rather than as an
    /// `AsyncFnMut` keeps the returned future `Send` when the closure borrows from its
    /// caller, so a retried transaction can run on a spawned task.
    ///
    /// ```no_run
    /// # async fn demo(db: &foxdb::Database) -> foxdb::Result<()> {
    /// use foxdb::{Isolation, ModelExt};
    /// # #[derive(Clone, foxdb::Model)] #[foxdb(table = "accounts")] struct Account { #[foxdb(primary_key)] id: i64, balance: i64 }
    /// let opening = Account { id: 7, balance: 100 };
    /// let shared = db.clone();
    /// tokio::spawn(async move {
    ///     shared
    ///         .retry_transaction(3, Some(Isolation::Serializable), async |tx| {
    ///             tx.upsert(&opening).await?;
    ///             Account::find().count(&mut *tx).await
    ///         })
    ///         .await
    /// });
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// The last error, or any other error at once.
    pub async fn retry_transaction<T, F>(
        &self,
        attempts: u32,
        isolation: Option<Isolation>,
        work: F,
    ) -> Result<T>
    where
        F: AsyncFnOnce(&mut Transaction) -> Result<T> + Clone,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut transaction = self.begin(isolation).await?;
            let outcome = match work.clone()(&mut transaction).await {
                Ok(value) => transaction.commit().await.map(|()| value),
                Err(error) => {
                    let _ = transaction.rollback().await;
                    Err(error)
                }
            };
            match outcome {
                Err(error) if attempt < attempts && is_retryable(&error) => continue,
                other => return other,
            }
        }
    }
}

/// Whether an error is a serialization failure, deadlock or lock timeout worth retrying: the
/// same as [`Error::is_retryable`].
pub fn is_retryable(error: &Error) -> bool {
    error.is_retryable()
}

impl Transaction {
    /// The engine.
    pub fn backend(&self) -> Backend {
        match self.inner {
            #[cfg(feature = "postgres")]
            Inner::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Inner::MySql(_) => Backend::MySql,
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Inner::TokioPostgres(_) => Backend::Postgres,
        }
    }

    /// Commits.
    ///
    /// # Errors
    /// Database errors.
    pub async fn commit(mut self) -> Result<()> {
        self.end_actor().await?;
        let backend = self.backend();
        let hooks = self.hooks;
        let committed = on_engine!(self.inner, Inner(t) => t.commit().await,
            Inner::TokioPostgres(t) => t.commit().await);
        // Also after a failed COMMIT: it may have committed before the connection broke.
        hooks.committed().await;
        committed.map_err(|e| Error::query(backend, Some("COMMIT"), e))
    }

    /// Rolls back.
    ///
    /// # Errors
    /// Database errors.
    pub async fn rollback(mut self) -> Result<()> {
        // Rolled back anyway: a failure to clear is the rollback's to report.
        let _ = self.end_actor().await;
        let backend = self.backend();
        let rolled_back = on_engine!(self.inner, Inner(t) => t.rollback().await,
            Inner::TokioPostgres(t) => t.rollback().await);
        rolled_back.map_err(|e| Error::query(backend, Some("ROLLBACK"), e))
    }

    /// Makes `actor` the actor of this transaction: the audit records of its writes from now
    /// on name it (PostgreSQL `SET LOCAL foxdb.actor`, a session variable on MySQL/MariaDB
    /// cleared before the transaction ends, a one-row table on SQLite emptied before commit).
    ///
    /// # Errors
    /// [`Error::InvalidActor`] for an empty actor or one longer than 255 characters; database
    /// errors.
    pub async fn set_actor(&mut self, actor: &str) -> Result<()> {
        let backend = self.backend();
        if actor.is_empty() || actor.chars().count() > 255 {
            return Err(Error::InvalidActor {
                actor: actor.chars().take(300).collect(),
            });
        }
        let capture = crate::audit::audit_capture_for(backend);
        for sql in capture.set_actor(actor) {
            self.run(&sql, &[]).await?;
        }
        self.clear_actor = capture.clear_actor();
        Ok(())
    }

    async fn end_actor(&mut self) -> Result<()> {
        if let Some(sql) = self.clear_actor.take() {
            self.run(sql, &[]).await?;
        }
        Ok(())
    }

    /// A transaction inside this one: [`Transaction::savepoint`] under the name
    /// [`Database::transaction`] has, so code written against either nests (commit on `Ok`
    /// releases the savepoint; `Err` undoes only the inner work).
    ///
    /// # Errors
    /// The work's error (after rolling back to the savepoint).
    pub async fn transaction<T, E, F>(&mut self, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction) -> Result<T, E>,
        E: From<Error>,
    {
        self.savepoint(work).await
    }

    /// Runs `work` inside a savepoint: on `Err` only its changes are undone and the
    /// transaction goes on.
    ///
    /// # Errors
    /// The work's error (after rolling back to the savepoint).
    pub async fn savepoint<T, E, F>(&mut self, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction) -> Result<T, E>,
        E: From<Error>,
    {
        self.savepoints += 1;
        let name = format!("fox_savepoint_{}", self.savepoints);
        if let Err(error) = self.run(&format!("SAVEPOINT {name}"), &[]).await {
            self.savepoints -= 1;
            return Err(error.into());
        }
        let outcome = work(self).await;
        let closed = match &outcome {
            Ok(_) => self.run(&format!("RELEASE SAVEPOINT {name}"), &[]).await,
            Err(_) => {
                self.run(&format!("ROLLBACK TO SAVEPOINT {name}"), &[])
                    .await
            }
        };
        self.savepoints -= 1;
        match (outcome, closed) {
            (Ok(value), Ok(_)) => Ok(value),
            (Ok(_), Err(error)) => Err(error.into()),
            // The work's error is the one to report.
            (Err(error), closed) => {
                if let Err(rollback) = closed {
                    tracing::warn!(error = %rollback, "rolling back to a savepoint failed");
                }
                Err(error)
            }
        }
    }

    /// Runs a query in the transaction and returns its rows; placeholders as for
    /// [`Database::fetch_all`].
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn fetch_all(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        Executor::fetch_all(&mut &mut *self, sql, values).await
    }

    /// Runs a statement in the transaction; returns the rows affected.
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64> {
        Ok(self.run(sql, values).await?.rows_affected)
    }

    /// Runs hand-written SQL in the transaction and decodes each row into `T`
    /// (`#[derive(foxdb::FromRow)]`), as [`Database::raw`] does.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn raw<T: crate::row::FromRow + Send>(
        &mut self,
        sql: &str,
        values: &[Value],
    ) -> Result<Vec<T>> {
        Executor::fetch_decoded(&mut &mut *self, sql, values, |row| T::from_row(&row)).await
    }

    async fn run(&mut self, sql: &str, values: &[Value]) -> Result<Executed> {
        self.statements
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.hooks.note_statement(sql);
        let started = std::time::Instant::now();
        let backend = self.backend();
        let bound = crate::tenant::bind_tenant(self.tenant.as_deref(), values);
        let values = bound.as_deref().unwrap_or(values);
        let known = self.stats.statement(sql);
        known.check_parameters(backend, sql, values)?;
        let statement = known.sql();
        let executed = on_engine!(&mut self.inner, Inner(t) => bind_all(sqlx::query(statement), values)
        .execute(&mut **t)
        .await
        .map(Executed::from),
        Inner::TokioPostgres(t) => t
            .session()
            .execute(sql, values)
            .await);
        self.stats
            .record_statement(&known, started.elapsed(), executed.is_err());
        executed.map_err(|e| Error::query(backend, Some(sql), e))
    }
}

impl Executor for &mut Transaction {
    fn backend(&self) -> Backend {
        Transaction::backend(self)
    }

    fn transaction(&mut self) -> Option<&mut Transaction> {
        Some(self)
    }

    async fn fetch_all(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        self.fetch_decoded(sql, values, Ok).await
    }

    async fn fetch_decoded<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &mut self,
        sql: &str,
        values: &[Value],
        mut decode: F,
    ) -> Result<Vec<T>> {
        self.statements
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.hooks.note_statement(sql);
        let started = std::time::Instant::now();
        let backend = Transaction::backend(self);
        let bound = crate::tenant::bind_tenant(self.tenant.as_deref(), values);
        let values = bound.as_deref().unwrap_or(values);
        let known = self.stats.statement(sql);
        known.check_parameters(backend, sql, values)?;
        let statement = known.sql();
        // Rows go into `decoded` as they arrive: the driver's stream wants `Unpin` items.
        let mut decoded = Vec::new();
        let fetched = on_engine!(&mut self.inner, Inner(t) => bind_all(sqlx::query(statement), values)
            .try_map(|row| push_decoded(&mut decoded, &mut decode, row))
            .fetch_all(&mut **t)
            .await
            .map(drop),
            Inner::TokioPostgres(t) => t
                .session()
                .for_each_row(sql, values, |row| push_decoded(&mut decoded, &mut decode, row))
                .await);
        self.stats.record_statement(
            &known,
            started.elapsed(),
            fetched.as_ref().is_err_and(|e| !is_carried_decode_error(e)),
        );
        match fetched {
            Ok(_) => Ok(decoded),
            Err(error) => Err(query_or_decode_error(backend, sql, error)),
        }
    }

    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<Executed> {
        self.run(sql, values).await
    }

    #[cfg(feature = "postgres")]
    fn copies_in(&self) -> bool {
        matches!(self.inner, Inner::TokioPostgres(_))
    }

    #[cfg(feature = "postgres")]
    async fn copy_in(&mut self, statement: &str, data: &str) -> Result<Option<u64>> {
        if !self.copies_in() {
            return Ok(None);
        }
        self.statements
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.hooks.note_statement(statement);
        let started = std::time::Instant::now();
        let known = self.stats.statement(statement);
        let copied = match &mut self.inner {
            Inner::TokioPostgres(t) => t.session().copy_in(statement, data).await,
            _ => return Ok(None),
        };
        self.stats
            .record_statement(&known, started.elapsed(), copied.is_err());
        copied
            .map(Some)
            .map_err(|e| Error::query(Backend::Postgres, Some(statement), e))
    }
}
