//! Multi-document transactions: a session with a transaction open on it.
//!
//! MongoDB runs them only on a replica set or a sharded cluster; on a standalone server
//! [`MongoDatabase::begin`] returns [`Error::MongoUnsupported`] saying so, before anything is
//! written.

use mongodb::ClientSession;
use mongodb::error::ErrorKind;

use super::crud::Target;
use super::database::MongoDatabase;
use crate::error::{Error, Result};

/// A transaction on one MongoDB deployment: what runs through it commits together
/// ([`MongoTransaction::commit`]) or not at all ([`MongoTransaction::abort`], or dropping it
/// unfinished, which aborts). It has the database handle's reads and writes.
pub struct MongoTransaction {
    pub(crate) db: MongoDatabase,
    pub(crate) session: ClientSession,
}

impl std::fmt::Debug for MongoTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoTransaction")
            .field("location", &self.db.location)
            .finish_non_exhaustive()
    }
}

impl MongoDatabase {
    /// Starts a transaction (a session with `startTransaction`).
    ///
    /// # Errors
    /// [`Error::MongoUnsupported`] where the deployment has no transactions (a standalone
    /// server: they need a replica set or a sharded cluster); connection errors.
    pub async fn begin(&self) -> Result<MongoTransaction> {
        let mut session = self
            .client
            .start_session()
            .await
            .map_err(|error| self.unsupported_or("starting a session", error))?;
        session
            .start_transaction()
            .await
            .map_err(|error| self.unsupported_or("starting a transaction", error))?;
        Ok(MongoTransaction {
            db: self.clone(),
            session,
        })
    }

    fn unsupported_or(&self, operation: &str, error: mongodb::error::Error) -> Error {
        match error.kind.as_ref() {
            ErrorKind::Transaction { message, .. } => Error::MongoUnsupported {
                feature: format!(
                    "transactions on {}: {message} (MongoDB runs multi-document transactions only on a replica set or a sharded cluster)",
                    self.location
                ),
            },
            ErrorKind::SessionsNotSupported => Error::MongoUnsupported {
                feature: format!(
                    "sessions, so no transactions, on {} (the server reports no logical session support)",
                    self.location
                ),
            },
            _ => self.error(operation, "", error),
        }
    }
}

impl MongoTransaction {
    pub(crate) fn target(&mut self) -> Target<'_> {
        Target {
            db: &self.db,
            session: Some(&mut self.session),
        }
    }

    /// Commits everything written through the transaction.
    ///
    /// # Errors
    /// Server errors (a write conflict with another transaction: retry the whole transaction).
    pub async fn commit(mut self) -> Result<()> {
        self.session
            .commit_transaction()
            .await
            .map_err(|error| self.db.error("committing a transaction", "", error))
    }

    /// Drops everything written through the transaction.
    ///
    /// # Errors
    /// Server errors.
    pub async fn abort(mut self) -> Result<()> {
        self.session
            .abort_transaction()
            .await
            .map_err(|error| self.db.error("aborting a transaction", "", error))
    }
}
