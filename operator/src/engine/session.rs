//! One engine session: the connection, pragmas, lock and bookkeeping that `fox apply`,
//! `fox seed` and `fox migrate` each hold while they change a database.
//!
//! # Expected flow
//! 1. connect, naming the applier in the session where the engine shows it;
//! 2. on SQLite, turn `foreign_keys` off for the session: table rebuilds drop and re-create
//!    tables, so keys are checked as a whole before commit instead (see [`commit_work`]);
//! 3. take the database lock, waiting up to the timeout (on SQLite this begins the exclusive
//!    transaction the whole session then runs in);
//! 4. apply FoxDB's bookkeeping migrations if missing and record the lock's holder (MySQL).
//!
//! Work begins with [`begin_work`] and ends with [`commit_work`] or a rollback;
//! [`EngineSession::close`] rolls back whatever is still open, turns foreign keys back on,
//! releases the lock and disconnects.
//!
//! # Guarantees
//! Nothing is committed that the session did not commit itself: a refusal, an error or a kill
//! leaves the work undone (on MySQL, DDL that already ran stays, as each command documents).

use std::time::Duration;

use foxdb::dialect::dialect_for;
use foxdb::{Backend, ConnectOptions, Connection, DatabaseUrl};

use super::bookkeeping::apply_bookkeeping;
use super::clock::applier_identity;
use super::error::EngineError;
use super::foreign_key_check::commit_after_foreign_key_check;
use super::lock::{DatabaseLock, acquire_lock};

/// An open engine session; end it with [`EngineSession::close`].
#[derive(Debug)]
pub struct EngineSession {
    /// The connection the work runs on.
    pub connection: Connection,
    lock: Option<DatabaseLock>,
}

impl EngineSession {
    /// Connects, sets the session's pragmas, takes the lock and applies the bookkeeping tables;
    /// see the module docs.
    ///
    /// # Errors
    /// Connection errors; [`EngineError::LockTimeout`] naming the holder; bookkeeping errors
    /// (the session is closed again).
    pub async fn open(url: &DatabaseUrl, lock_timeout: Duration) -> Result<Self, EngineError> {
        let mut connection = connect(url).await?;
        if let Some((open, _)) = dialect_for(connection.backend()).rebuild_session_statements() {
            connection.execute(open).await?;
        }
        let lock = acquire_lock(
            &mut connection,
            &url.database_name(),
            url.sqlite_path().as_deref(),
            lock_timeout,
        )
        .await?;
        let mut session = Self {
            connection,
            lock: Some(lock),
        };
        if let Err(error) = session.prepare().await {
            let _ = session.close().await;
            return Err(error);
        }
        Ok(session)
    }

    async fn prepare(&mut self) -> Result<(), EngineError> {
        apply_bookkeeping(&mut self.connection).await?;
        if let Some(lock) = &self.lock {
            lock.record_holder(&mut self.connection).await?;
        }
        Ok(())
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.connection.backend()
    }

    /// Rolls back a transaction left open (refusals, errors, approvals awaited; on SQLite the
    /// lock's own), turns foreign keys back on (SQLite), releases the lock, disconnects.
    ///
    /// # Errors
    /// Releasing the lock failed (it goes with the connection anyway).
    pub async fn close(mut self) -> Result<(), EngineError> {
        if self.connection.in_transaction() {
            let _ = self.connection.rollback().await;
        }
        if let Some((_, close)) = dialect_for(self.backend()).rebuild_session_statements() {
            let _ = self.connection.execute(close).await;
        }
        let released = match self.lock.take() {
            Some(lock) => lock.release(&mut self.connection).await,
            None => Ok(()),
        };
        self.connection.close().await;
        released
    }
}

/// Connects for the engine, naming the applier in the session where the engine shows it.
///
/// # Errors
/// Connection errors.
pub async fn connect(url: &DatabaseUrl) -> Result<Connection, EngineError> {
    connect_with(url, false).await
}

/// [`connect`] for plans and dry runs: a read-only session (a missing SQLite file reads as an
/// empty database and is not created).
///
/// # Errors
/// Connection errors.
pub async fn connect_read_only(url: &DatabaseUrl) -> Result<Connection, EngineError> {
    connect_with(url, true).await
}

async fn connect_with(url: &DatabaseUrl, read_only: bool) -> Result<Connection, EngineError> {
    let options = ConnectOptions {
        application_name: format!("fox {}", applier_identity()),
        read_only,
        ..ConnectOptions::default()
    };
    Ok(Connection::connect(url, &options).await?)
}

/// Begins the transaction the session's work runs in, unless the lock already is one (SQLite's
/// exclusive transaction): either way one [`commit_work`] keeps the work and one
/// [`Connection::rollback`] undoes it.
///
/// # Errors
/// Database errors.
pub async fn begin_work(connection: &mut Connection) -> Result<(), foxdb::Error> {
    if connection.in_transaction() {
        return Ok(());
    }
    connection.begin().await
}

/// Commits the session's open transaction. SQLite sessions run with `foreign_keys` off, so
/// their keys are checked first and a violation rolls everything back
/// ([`commit_after_foreign_key_check`]); the other engines checked each statement as it ran.
///
/// # Errors
/// [`EngineError::ForeignKeyViolation`] (rolled back); the commit's error.
pub async fn commit_work(connection: &mut Connection) -> Result<(), EngineError> {
    match connection.backend() {
        Backend::Sqlite => commit_after_foreign_key_check(connection).await,
        Backend::Postgres | Backend::MySql => Ok(connection.commit().await?),
    }
}
