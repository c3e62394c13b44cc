//! The relay: publishes what the outbox holds, batch by batch in id order, and marks each
//! batch sent in the transaction that read it.

use std::time::Duration;

use super::{OUTBOX_TABLE, Outbox, OutboxMessage};
use crate::connection::Value;
use crate::dialect::dialect_for;
use crate::error::Error;

/// A publisher could not deliver a batch.
#[derive(Debug, thiserror::Error)]
#[error("publishing outbox messages failed: {message}")]
pub struct PublishError {
    /// Why (the broker's error, never its credentials).
    pub message: String,
}

impl PublishError {
    /// A publish error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// What a relay step can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Reading or marking the outbox failed; nothing was marked.
    #[error(transparent)]
    Database(#[from] Error),
    /// The publisher failed; nothing was marked, the batch is published again next time.
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// Where messages go: a broker, or a callback.
pub trait Publisher: Send + Sync {
    /// Delivers `batch` in its order (ids increasing). Returns once the broker has every
    /// message; an error means some may have been delivered and all will be offered again.
    fn publish(
        &self,
        batch: &[OutboxMessage],
    ) -> impl Future<Output = Result<(), PublishError>> + Send;
}

/// A publisher that hands each batch to an async function (for tests, or a broker FoxDB does
/// not ship a publisher for).
pub struct CallbackPublisher<F> {
    callback: F,
}

impl<F> std::fmt::Debug for CallbackPublisher<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackPublisher").finish_non_exhaustive()
    }
}

impl<F, Fut> CallbackPublisher<F>
where
    F: Fn(Vec<OutboxMessage>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), PublishError>> + Send,
{
    /// Calls `callback` with every batch.
    pub fn new(callback: F) -> Self {
        Self { callback }
    }
}

impl<F, Fut> Publisher for CallbackPublisher<F>
where
    F: Fn(Vec<OutboxMessage>) -> Fut + Send + Sync,
    Fut: Future<Output = Result<(), PublishError>> + Send,
{
    fn publish(
        &self,
        batch: &[OutboxMessage],
    ) -> impl Future<Output = Result<(), PublishError>> + Send {
        (self.callback)(batch.to_vec())
    }
}

/// Publishes an [`Outbox`] through a [`Publisher`].
///
/// # Guarantees
/// Each step reads the oldest unsent messages in id order and locks them (`FOR UPDATE`; on
/// SQLite the write transaction), publishes them, then marks them sent in the same
/// transaction. A relay that dies or fails between publishing and committing leaves the batch
/// unsent, and it is published again: at least once, in id order. A second relay on the same
/// outbox waits for the first one's batch rather than publishing past it, so per-aggregate
/// order holds with several relays too.
#[derive(Debug)]
pub struct Relay<P> {
    outbox: Outbox,
    publisher: P,
    batch_size: u32,
    idle_wait: Duration,
}

impl<P: Publisher> Relay<P> {
    /// A relay of `outbox` into `publisher`, 100 messages a batch, polling every 100 ms when
    /// idle.
    pub fn new(outbox: Outbox, publisher: P) -> Self {
        Self {
            outbox,
            publisher,
            batch_size: 100,
            idle_wait: Duration::from_millis(100),
        }
    }

    /// Messages per batch (at least 1).
    #[must_use]
    pub fn batch_size(mut self, size: u32) -> Self {
        self.batch_size = size.max(1);
        self
    }

    /// How long to wait after finding nothing to publish.
    #[must_use]
    pub fn idle_wait(mut self, wait: Duration) -> Self {
        self.idle_wait = wait;
        self
    }

    /// The publisher.
    pub fn publisher(&self) -> &P {
        &self.publisher
    }

    /// Publishes one batch; returns how many messages it published (0: the outbox is empty).
    ///
    /// # Errors
    /// [`RelayError`]; nothing is marked sent then.
    pub async fn publish_batch(&self) -> Result<usize, RelayError> {
        let database = self.outbox.database();
        let dialect = dialect_for(database.backend());
        let select = format!(
            "SELECT id, aggregate, topic, payload, created_at FROM {OUTBOX_TABLE} WHERE sent_at IS NULL ORDER BY id{}{}",
            dialect.limit_offset(Some(u64::from(self.batch_size)), None),
            dialect.lock_rows_clause()
        );
        let mut tx = database.begin(None).await?;
        let rows = tx.fetch_all(&select, &[]).await?;
        let batch = rows
            .iter()
            .map(|row| {
                Ok(OutboxMessage {
                    id: row.get("id")?,
                    aggregate: row.get("aggregate")?,
                    topic: row.get("topic")?,
                    payload: row.get("payload")?,
                    created_at: row.get("created_at")?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        if batch.is_empty() {
            tx.rollback().await?;
            return Ok(0);
        }
        if let Err(error) = self.publisher.publish(&batch).await {
            let _ = tx.rollback().await;
            return Err(error.into());
        }
        let ids: Vec<String> = batch.iter().map(|m| m.id.to_string()).collect();
        let sent_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        tx.execute(
            &format!(
                "UPDATE {OUTBOX_TABLE} SET sent_at = {} WHERE id IN ({})",
                dialect.placeholder(1),
                ids.join(", ")
            ),
            &[Value::Int(sent_at)],
        )
        .await?;
        tx.commit().await?;
        Ok(batch.len())
    }

    /// Publishes until `stop` completes: batch after batch while messages wait, then polls.
    /// A failed step is logged and retried after the idle wait (doubling up to 5 s while it
    /// keeps failing).
    pub async fn run(&self, stop: impl Future<Output = ()>) {
        let mut stop = std::pin::pin!(stop);
        let mut backoff = self.idle_wait;
        loop {
            let wait = match self.publish_batch().await {
                Ok(0) => self.idle_wait,
                Ok(_) => {
                    backoff = self.idle_wait;
                    Duration::ZERO
                }
                Err(error) => {
                    tracing::warn!(%error, "outbox relay step failed; retrying");
                    backoff =
                        (backoff * 2).clamp(Duration::from_millis(50), Duration::from_secs(5));
                    backoff
                }
            };
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}
