//! The coordinator log: one row per decided distributed transaction, in a database the caller
//! names (any engine, SQLite included; it takes no part in the transactions it records).
//!
//! Presumed abort: a transaction without a row was never decided to commit, so its prepared
//! branches roll back. The row is keyed by the transaction id and written once: the coordinator
//! writes `commit` after every branch prepared and before it commits any; recovery writes
//! `abort` before it rolls back a branch it found without a row. Whichever comes first wins, so
//! a slow coordinator can never commit what recovery already rolled back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::id::{CoordinatorId, TransactionId};
use crate::connection::Value;
use crate::database::Database;
use crate::dialect::dialect_for;
use crate::error::{Error, Result};

/// The coordinator log's table.
pub const LOG_TABLE: &str = "_fox_coordinator_log";

/// The coordinators that log here. Recovery ends only their branches: a branch of a
/// coordinator logging elsewhere is decided by that log, and presuming abort here could roll
/// back what its own log committed.
pub const COORDINATORS_TABLE: &str = "_fox_coordinators";

/// What the log decided for a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Every branch prepared and the coordinator decided to commit: every branch commits.
    Commit,
    /// Recovery claimed the transaction before the coordinator decided: every branch rolls
    /// back.
    Abort,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Self::Commit => "commit",
            Self::Abort => "abort",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "commit" => Some(Self::Commit),
            "abort" => Some(Self::Abort),
            _ => None,
        }
    }
}

/// The coordinator log in one database.
#[derive(Clone, Debug)]
pub struct CoordinatorLog {
    database: Database,
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl CoordinatorLog {
    /// The log in `database`; creates its table when missing.
    ///
    /// # Errors
    /// [`Error::Query`]: the table cannot be created (no right to, a read-only database).
    pub async fn open(database: &Database) -> Result<Self> {
        // Portable DDL: the same text is valid on PostgreSQL, MySQL/MariaDB and SQLite.
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {LOG_TABLE} (\
             transaction_id VARCHAR(64) NOT NULL PRIMARY KEY, \
             coordinator VARCHAR(32) NOT NULL, \
             decision VARCHAR(8) NOT NULL, \
             branches INTEGER NOT NULL, \
             decided_at BIGINT NOT NULL)"
        );
        let database = database.on_primary();
        database.execute(&create, &[]).await?;
        database
            .execute(
                &format!(
                    "CREATE TABLE IF NOT EXISTS {COORDINATORS_TABLE} (coordinator VARCHAR(32) NOT NULL PRIMARY KEY)"
                ),
                &[],
            )
            .await?;
        Ok(Self { database })
    }

    /// Records that `coordinator` logs here (once; again is a no-op).
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn register(&self, coordinator: &CoordinatorId) -> Result<()> {
        let p = self.placeholders(1);
        let insert = format!(
            "INSERT INTO {COORDINATORS_TABLE} (coordinator) VALUES ({})",
            p[0]
        );
        match self
            .database
            .execute(&insert, &[Value::Text(coordinator.to_string())])
            .await
        {
            Ok(_) | Err(Error::UniqueViolation { .. }) => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// The coordinators that log here.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn coordinators(&self) -> Result<Vec<CoordinatorId>> {
        let rows = self
            .database
            .fetch_all(
                &format!("SELECT coordinator FROM {COORDINATORS_TABLE}"),
                &[],
            )
            .await?;
        rows.iter()
            .map(|row| Ok(CoordinatorId::new(row.get::<String>("coordinator")?)?))
            .collect()
    }

    fn placeholders(&self, count: usize) -> Vec<String> {
        let dialect = dialect_for(self.database.backend());
        (1..=count).map(|n| dialect.placeholder(n)).collect()
    }

    /// Records `decision` for `transaction` unless a decision is there already; returns the
    /// decision that stands.
    ///
    /// # Errors
    /// [`Error::Query`]: the log could not be written or read. The decision is then unknown
    /// (the write may have committed before the connection broke): read it again later.
    pub async fn decide(
        &self,
        transaction: &TransactionId,
        branches: usize,
        decision: Decision,
    ) -> Result<Decision> {
        let p = self.placeholders(5);
        let insert = format!(
            "INSERT INTO {LOG_TABLE} (transaction_id, coordinator, decision, branches, decided_at) VALUES ({}, {}, {}, {}, {})",
            p[0], p[1], p[2], p[3], p[4]
        );
        let values = [
            Value::Text(transaction.to_string()),
            Value::Text(transaction.coordinator().to_string()),
            Value::Text(decision.as_str().into()),
            Value::Int(i64::try_from(branches).unwrap_or(i64::MAX)),
            Value::Int(now_millis()),
        ];
        match self.database.execute(&insert, &values).await {
            Ok(_) => Ok(decision),
            Err(Error::UniqueViolation { .. }) => match self.decision(transaction).await? {
                Some(standing) => Ok(standing),
                // Forgotten between the two statements: only a finished commit is forgotten.
                None => Ok(Decision::Commit),
            },
            Err(error) => Err(error),
        }
    }

    /// The decision recorded for `transaction`, if any.
    ///
    /// # Errors
    /// [`Error::Query`]: the log could not be read.
    pub async fn decision(&self, transaction: &TransactionId) -> Result<Option<Decision>> {
        let p = self.placeholders(1);
        let rows = self
            .database
            .fetch_all(
                &format!(
                    "SELECT decision FROM {LOG_TABLE} WHERE transaction_id = {}",
                    p[0]
                ),
                &[Value::Text(transaction.to_string())],
            )
            .await?;
        match rows.first() {
            None => Ok(None),
            Some(row) => {
                let text = row.get::<String>("decision")?;
                Decision::parse(&text)
                    .map(Some)
                    .ok_or_else(|| Error::Decode {
                        column: format!("{LOG_TABLE}.decision"),
                        message: format!("unknown decision {text:?} for {transaction}"),
                    })
            }
        }
    }

    /// Removes the record of a transaction every branch of which committed.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn forget(&self, transaction: &TransactionId) -> Result<()> {
        let p = self.placeholders(1);
        self.database
            .execute(
                &format!("DELETE FROM {LOG_TABLE} WHERE transaction_id = {}", p[0]),
                &[Value::Text(transaction.to_string())],
            )
            .await
            .map(drop)
    }

    /// Removes abort records older than `retention`; returns how many. An abort record only
    /// guards against a coordinator deciding after recovery rolled its branches back, so it is
    /// needed no longer than a coordinator can stall. Commit records are never pruned: the
    /// coordinator forgets one when every branch committed, and one left by a crash stays, as
    /// a participant that was unreachable then may still hold a branch to commit.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn prune(&self, retention: Duration) -> Result<u64> {
        let p = self.placeholders(1);
        let cutoff =
            now_millis().saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        self.database
            .execute(
                &format!(
                    "DELETE FROM {LOG_TABLE} WHERE decision = 'abort' AND decided_at < {}",
                    p[0]
                ),
                &[Value::Int(cutoff)],
            )
            .await
    }

    /// Decisions recorded and not yet forgotten, oldest first (for operators and tests).
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn pending(&self) -> Result<Vec<(String, Decision)>> {
        let rows = self
            .database
            .fetch_all(
                &format!("SELECT transaction_id, decision FROM {LOG_TABLE} ORDER BY decided_at, transaction_id"),
                &[],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let id = row.get::<String>("transaction_id")?;
                let text = row.get::<String>("decision")?;
                let decision = Decision::parse(&text).ok_or_else(|| Error::Decode {
                    column: format!("{LOG_TABLE}.decision"),
                    message: format!("unknown decision {text:?} for {id}"),
                })?;
                Ok((id, decision))
            })
            .collect()
    }
}
