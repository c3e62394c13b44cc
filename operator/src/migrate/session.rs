//! The connection, lock and bookkeeping location held for one migration command.

use std::time::Duration;

use foxdb::{Backend, Connection, DatabaseUrl};

use super::MigrateError;
use crate::engine::apply::connect;
use crate::engine::bookkeeping::{FoxTables, apply_bookkeeping};
use crate::engine::foreign_key_check::commit_after_foreign_key_check;
use crate::engine::lock::{DatabaseLock, acquire_lock};

/// Connection and lock held for one migration command.
pub struct Session {
    /// The connection migrations run on.
    pub connection: Connection,
    /// Where FoxDB's own tables are, fixed at the start.
    pub tables: FoxTables,
    lock: Option<DatabaseLock>,
}

impl Session {
    /// Connects, takes the lock, applies FoxDB's bookkeeping tables.
    ///
    /// # Errors
    /// Connection, lock and bookkeeping errors.
    pub async fn open(url: &DatabaseUrl, lock_timeout: Duration) -> Result<Self, MigrateError> {
        let mut connection = connect(url).await?;
        if connection.backend() == Backend::Sqlite {
            // As for applies: generated migrations rebuild tables; keys are checked as a whole
            // before commit instead of cascading while tables are swapped.
            connection.execute("PRAGMA foreign_keys = OFF").await?;
        }
        let lock = acquire_lock(
            &mut connection,
            &url.database_name(),
            url.sqlite_path().as_deref(),
            lock_timeout,
        )
        .await?;
        let tables = match apply_bookkeeping(&mut connection).await {
            Ok(()) => FoxTables::locate(&mut connection).await,
            Err(error) => Err(error),
        };
        let (tables, failure) = match tables {
            Ok(tables) => (tables, None),
            Err(error) => (FoxTables::unqualified(connection.backend()), Some(error)),
        };
        let session = Self {
            connection,
            tables,
            lock: Some(lock),
        };
        match failure {
            None => Ok(session),
            Some(error) => {
                let _ = session.close(false).await;
                Err(error.into())
            }
        }
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.connection.backend()
    }

    /// Ends the SQLite run transaction (commit after the foreign key check, or rollback),
    /// releases the lock, disconnects. A violation, or a foreign key check that cannot run,
    /// rolls the whole run back.
    ///
    /// # Errors
    /// Foreign key violations or a failed check (the SQLite run is rolled back), commit errors.
    pub async fn close(mut self, commit: bool) -> Result<(), MigrateError> {
        let mut outcome = Ok(());
        if self.backend() == Backend::Sqlite {
            outcome = self.end_sqlite_run(commit).await;
            let _ = self.connection.execute("PRAGMA foreign_keys = ON").await;
        }
        if let Some(lock) = self.lock.take() {
            let _ = lock.release(&mut self.connection).await;
        }
        self.connection.close().await;
        outcome
    }

    async fn end_sqlite_run(&mut self, commit: bool) -> Result<(), MigrateError> {
        if !commit {
            let _ = self.connection.rollback().await;
            return Ok(());
        }
        Ok(commit_after_foreign_key_check(&mut self.connection).await?)
    }
}
