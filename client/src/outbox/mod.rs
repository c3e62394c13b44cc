//! The transactional outbox: an outgoing message is written in the same local transaction as
//! the rows it is about, so the message exists exactly when the write committed; a [`Relay`]
//! then publishes every message at least once, in order per aggregate, and marks it sent.
//! Works on every engine (SQLite included), and is the way to pair a database write with a
//! broker, or with a database that cannot take part in two-phase commit.
//!
//! # Expected flow
//! ```no_run
//! # async fn demo(db: &foxdb::Database) -> foxdb::Result<()> {
//! use foxdb::outbox::{Outbox, OutgoingMessage};
//!
//! let outbox = Outbox::open(db).await?;
//! db.transaction(async |tx| {
//!     tx.execute("INSERT INTO orders (id, total) VALUES (42, 990)", &[]).await?;
//!     let message = OutgoingMessage::new("order-42", "order.created", r#"{"total":990}"#);
//!     outbox.enqueue(&mut *tx, &message).await?;
//!     Ok::<_, foxdb::Error>(())
//! })
//! .await?;
//! // elsewhere, in one process per outbox: Relay::new(outbox, publisher).run(stop).await
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//! - A message is stored if and only if the transaction that enqueued it committed.
//! - Every stored message is published at least once; a relay that dies after publishing and
//!   before marking publishes the batch again, so consumers deduplicate by
//!   [`OutboxMessage::id`] (unique, increasing in enqueue order).
//! - Messages of one aggregate are published in the order their transactions enqueued them
//!   (by id); after deduplication a consumer sees them exactly once, in that order.

mod redis_stream;
mod relay;

#[cfg(feature = "outbox-redis")]
pub use redis_stream::RedisStreamPublisher;
pub use relay::{CallbackPublisher, PublishError, Publisher, Relay, RelayError};

use fox_crds::ColumnType;

use crate::connection::Value;
use crate::database::Database;
use crate::dialect::{create_table_statement, dialect_for};
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::schema::{Column, Index, Table};

/// The outbox table.
pub const OUTBOX_TABLE: &str = "_fox_outbox";

/// Longest aggregate and topic names.
pub const MAX_NAME_LEN: usize = 200;

/// A message to enqueue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
    /// What the message is about (`order-42`): messages of one aggregate keep their order.
    pub aggregate: String,
    /// What kind of message it is (`order.created`).
    pub topic: String,
    /// The body, usually JSON.
    pub payload: String,
}

impl OutgoingMessage {
    /// A message about `aggregate` of kind `topic`.
    pub fn new(
        aggregate: impl Into<String>,
        topic: impl Into<String>,
        payload: impl Into<String>,
    ) -> Self {
        Self {
            aggregate: aggregate.into(),
            topic: topic.into(),
            payload: payload.into(),
        }
    }
}

/// A stored message, as a relay publishes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMessage {
    /// Unique and increasing in enqueue order: what consumers deduplicate by.
    pub id: i64,
    /// See [`OutgoingMessage::aggregate`].
    pub aggregate: String,
    /// See [`OutgoingMessage::topic`].
    pub topic: String,
    /// See [`OutgoingMessage::payload`].
    pub payload: String,
    /// When it was enqueued, in milliseconds since the Unix epoch.
    pub created_at: i64,
}

/// The outbox of one database.
#[derive(Clone, Debug)]
pub struct Outbox {
    database: Database,
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The outbox table as FoxDB's schema model, rendered per engine by its dialect.
fn outbox_table() -> Table {
    let column = |name: &str, ty: ColumnType, nullable: bool| Column {
        name: name.into(),
        ty,
        nullable,
        default: None,
    };
    Table {
        name: OUTBOX_TABLE.into(),
        columns: vec![
            column("id", ColumnType::BigSerial, false),
            column("aggregate", ColumnType::Varchar(MAX_NAME_LEN as u32), false),
            column("topic", ColumnType::Varchar(MAX_NAME_LEN as u32), false),
            column("payload", ColumnType::Text, false),
            column("created_at", ColumnType::BigInt, false),
            column("sent_at", ColumnType::BigInt, true),
        ],
        primary_key: vec!["id".into()],
        // The relay's query: unsent messages in id order.
        indexes: vec![Index {
            name: "_fox_outbox_unsent".into(),
            columns: vec!["sent_at".into(), "id".into()],
            unique: false,
            constraint: false,
        }],
        ..Table::default()
    }
}

impl Outbox {
    /// The outbox of `database`; creates its table when missing.
    ///
    /// # Errors
    /// [`Error::Query`]: the table cannot be created.
    pub async fn open(database: &Database) -> Result<Self> {
        let database = database.on_primary();
        let exists = format!("SELECT COUNT(*) AS n FROM {OUTBOX_TABLE} WHERE 1 = 0");
        if database.fetch_all(&exists, &[]).await.is_err() {
            let dialect = dialect_for(database.backend());
            let table = outbox_table();
            let created = async {
                database
                    .execute(&create_table_statement(dialect, &table), &[])
                    .await?;
                for index in &table.indexes {
                    database
                        .execute(&dialect.create_index(&table.name, index), &[])
                        .await?;
                }
                Ok::<_, Error>(())
            };
            if let Err(error) = created.await {
                // Another process may have created it meanwhile.
                if database.fetch_all(&exists, &[]).await.is_err() {
                    return Err(error);
                }
            }
        }
        Ok(Self { database })
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Stores `message` through `executor`: pass the open transaction (`&mut *tx`) that writes
    /// the rows the message is about, so both commit or neither does. Returns its id.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an empty or too long aggregate or topic; [`Error::Query`].
    pub async fn enqueue<E: Executor>(
        &self,
        mut executor: E,
        message: &OutgoingMessage,
    ) -> Result<i64> {
        let backend = executor.backend();
        for (what, name) in [("aggregate", &message.aggregate), ("topic", &message.topic)] {
            if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
                return Err(Error::Unsupported {
                    backend,
                    feature: format!(
                        "an outbox message {what} of {} characters (1 to {MAX_NAME_LEN})",
                        name.chars().count()
                    ),
                });
            }
        }
        let dialect = dialect_for(backend);
        let p: Vec<String> = (1..=4).map(|n| dialect.placeholder(n)).collect();
        let values = [
            Value::Text(message.aggregate.clone()),
            Value::Text(message.topic.clone()),
            Value::Text(message.payload.clone()),
            Value::Int(now_millis()),
        ];
        let columns = "aggregate, topic, payload, created_at";
        let insert = format!(
            "INSERT INTO {OUTBOX_TABLE} ({columns}) VALUES ({}, {}, {}, {})",
            p[0], p[1], p[2], p[3]
        );
        if dialect.supports_returning() {
            let rows = executor
                .fetch_all(&format!("{insert} RETURNING id"), &values)
                .await?;
            let row = rows.first().ok_or_else(|| Error::NotFound {
                table: OUTBOX_TABLE.into(),
            })?;
            return row.get::<i64>("id");
        }
        let executed = executor.execute(&insert, &values).await?;
        executed
            .last_insert_id
            .and_then(|id| i64::try_from(id).ok())
            .ok_or_else(|| Error::NotFound {
                table: OUTBOX_TABLE.into(),
            })
    }

    /// How many messages wait to be published.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn unsent(&self) -> Result<i64> {
        let rows = self
            .database
            .fetch_all(
                &format!("SELECT COUNT(*) AS n FROM {OUTBOX_TABLE} WHERE sent_at IS NULL"),
                &[],
            )
            .await?;
        rows.first().map_or(Ok(0), |row| row.get::<i64>("n"))
    }

    /// Deletes messages sent more than `age` ago; returns how many.
    ///
    /// # Errors
    /// [`Error::Query`].
    pub async fn purge_sent(&self, age: std::time::Duration) -> Result<u64> {
        let placeholder = dialect_for(self.database.backend()).placeholder(1);
        let cutoff =
            now_millis().saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
        self.database
            .execute(
                &format!(
                    "DELETE FROM {OUTBOX_TABLE} WHERE sent_at IS NOT NULL AND sent_at < {placeholder}"
                ),
                &[Value::Int(cutoff)],
            )
            .await
    }
}
