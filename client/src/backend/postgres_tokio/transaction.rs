//! A transaction on a tokio-postgres connection of the pool.

use super::pool::{Pooled, TokioPgPool};
use super::session::Session;

/// An open transaction; dropped without commit or rollback, it is rolled back on its
/// connection before the connection is used again (or the connection is closed, which ends
/// the transaction on the server, when no runtime is left to roll it back on).
#[derive(Debug)]
pub(crate) struct TokioPgTransaction {
    connection: Option<Pooled>,
}

impl TokioPgTransaction {
    /// Takes a connection and runs `begin` (`BEGIN`, with an isolation level when asked) on it.
    pub(crate) async fn begin(pool: &TokioPgPool, begin: &str) -> Result<Self, sqlx::Error> {
        let mut connection = pool.checkout(std::time::Instant::now()).await?;
        if let Err(error) = connection.session().batch(begin).await {
            connection.failed();
            return Err(error);
        }
        Ok(Self {
            connection: Some(connection),
        })
    }

    /// The transaction's connection.
    #[allow(
        clippy::missing_panics_doc,
        reason = "taken only when the transaction ends"
    )]
    pub(crate) fn session(&mut self) -> &mut Session {
        self.connection
            .as_mut()
            .expect("an open transaction holds its connection")
            .session()
    }

    /// Commits.
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.end("COMMIT").await
    }

    /// Rolls back.
    pub(crate) async fn rollback(mut self) -> Result<(), sqlx::Error> {
        self.end("ROLLBACK").await
    }

    async fn end(&mut self, statement: &str) -> Result<(), sqlx::Error> {
        let Some(mut connection) = self.connection.take() else {
            return Ok(());
        };
        let ended = connection.session().batch(statement).await;
        if ended.is_err() {
            connection.failed();
        }
        ended
    }
}

impl Drop for TokioPgTransaction {
    fn drop(&mut self) {
        let Some(mut connection) = self.connection.take() else {
            return;
        };
        match tokio::runtime::Handle::try_current() {
            // tokio-postgres runs a connection's requests in order: the rollback is queued
            // behind anything still in flight, and the connection goes back once it is done.
            Ok(runtime) => {
                runtime.spawn(async move {
                    if connection.session().batch("ROLLBACK").await.is_err() {
                        connection.discard();
                    }
                });
            }
            Err(_) => connection.discard(),
        }
    }
}
