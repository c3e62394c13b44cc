//! The engine session and bookkeeping location held for one migration command.

use std::time::Duration;

use foxdb::DatabaseUrl;

use super::MigrateError;
use crate::engine::bookkeeping::FoxTables;
use crate::engine::session::{EngineSession, commit_work};

/// Engine session (connection, lock, bookkeeping) held for one migration command.
pub struct Session {
    /// The session migrations run in.
    pub engine: EngineSession,
    /// Where FoxDB's own tables are, fixed at the start.
    pub tables: FoxTables,
}

impl Session {
    /// Opens the engine session (connect, lock, bookkeeping tables) and locates the
    /// bookkeeping tables.
    ///
    /// # Errors
    /// Connection, lock and bookkeeping errors.
    pub async fn open(url: &DatabaseUrl, lock_timeout: Duration) -> Result<Self, MigrateError> {
        let mut engine = EngineSession::open(url, lock_timeout).await?;
        match FoxTables::locate(&mut engine.connection).await {
            Ok(tables) => Ok(Self { engine, tables }),
            Err(error) => {
                let _ = engine.close().await;
                Err(error.into())
            }
        }
    }

    /// Ends the run's open transaction (SQLite's: the whole run) — committed after the foreign
    /// key check when `commit`, else rolled back — releases the lock, disconnects. A violation,
    /// or a foreign key check that cannot run, rolls the whole run back.
    ///
    /// # Errors
    /// Foreign key violations or a failed check (the SQLite run is rolled back), commit errors.
    pub async fn close(mut self, commit: bool) -> Result<(), MigrateError> {
        let mut outcome = Ok(());
        if commit && self.engine.connection.in_transaction() {
            outcome = commit_work(&mut self.engine.connection)
                .await
                .map_err(MigrateError::from);
        }
        // A lock that cannot be released goes with the connection.
        let _ = self.engine.close().await;
        outcome
    }
}
