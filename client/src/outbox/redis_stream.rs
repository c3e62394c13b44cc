//! Publishing to a Redis stream: one `XADD` per message, a batch in one pipeline (`MULTI`
//! is not needed: the relay offers a failed batch again, and consumers deduplicate by id).
#![cfg(feature = "outbox-redis")]

use super::OutboxMessage;
use super::relay::{PublishError, Publisher};

/// How long connecting to Redis may take.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long one batch's pipeline may wait for Redis's answer (a batch of hundreds of `XADD`s
/// on a busy machine outlasts the client's default); a batch that times out is offered again.
const RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Publishes outbox messages to a Redis stream: each entry has the fields `id`, `aggregate`,
/// `topic`, `payload` and `created_at`.
pub struct RedisStreamPublisher {
    client: redis::Client,
    stream: String,
    connection: tokio::sync::Mutex<Option<redis::aio::MultiplexedConnection>>,
}

impl std::fmt::Debug for RedisStreamPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStreamPublisher")
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

impl RedisStreamPublisher {
    /// A publisher into `stream` of the Redis at `url` (`redis://[:password@]host:port/db`).
    /// Connects on first use.
    ///
    /// # Errors
    /// [`PublishError`] for a URL Redis cannot read (the message never repeats the password).
    pub fn new(url: &str, stream: impl Into<String>) -> Result<Self, PublishError> {
        let client = redis::Client::open(url).map_err(|error| {
            PublishError::new(format!(
                "invalid Redis URL {}: {:?}",
                crate::url::redact(url),
                error.kind()
            ))
        })?;
        Ok(Self {
            client,
            stream: stream.into(),
            connection: tokio::sync::Mutex::new(None),
        })
    }

    /// The stream.
    pub fn stream(&self) -> &str {
        &self.stream
    }
}

impl Publisher for RedisStreamPublisher {
    async fn publish(&self, batch: &[OutboxMessage]) -> Result<(), PublishError> {
        let mut held = self.connection.lock().await;
        let connection = match held.as_mut() {
            Some(connection) => connection,
            None => {
                let opened = self
                    .client
                    .get_multiplexed_async_connection_with_config(
                        &redis::AsyncConnectionConfig::new()
                            .set_connection_timeout(Some(CONNECT_TIMEOUT))
                            .set_response_timeout(Some(RESPONSE_TIMEOUT)),
                    )
                    .await
                    .map_err(|e| PublishError::new(format!("connecting to Redis: {}", e)))?;
                held.insert(opened)
            }
        };
        let mut pipe = redis::pipe();
        for message in batch {
            pipe.cmd("XADD")
                .arg(&self.stream)
                .arg("*")
                .arg("id")
                .arg(message.id)
                .arg("aggregate")
                .arg(&message.aggregate)
                .arg("topic")
                .arg(&message.topic)
                .arg("payload")
                .arg(&message.payload)
                .arg("created_at")
                .arg(message.created_at)
                .ignore();
        }
        let sent: redis::RedisResult<()> = pipe.query_async(connection).await;
        if let Err(error) = sent {
            // A broken connection is opened again next time.
            *held = None;
            return Err(PublishError::new(format!(
                "XADD to stream {}: {error}",
                self.stream
            )));
        }
        Ok(())
    }
}
