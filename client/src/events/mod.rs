//! Event sourcing: an event store on PostgreSQL, MySQL/MariaDB and SQLite. Events are typed Rust
//! values (serde, stored as JSON) appended to streams with optimistic concurrency, read back
//! per stream (forward or backward) or all together in global order, with snapshots per
//! stream and projections that keep a durable checkpoint (see docs/event-sourcing.md).
//!
//! The store's tables (`_fox_events`, `_fox_event_head`, `_fox_event_snapshots`,
//! `_fox_projections`) are FoxDB's own: [`EventStore::open`] creates what is missing from
//! their declaration in [`tables`], and installs real-time capture on `_fox_events`, the change
//! log that wakes projections.
//!
//! # Expected flow
//! ```no_run
//! # async fn demo(db: &foxdb::Database) -> Result<(), foxdb::events::Error> {
//! use foxdb::events::{Event, EventStore, ExpectedVersion, NewEvent};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! enum Account {
//!     Opened { owner: String },
//!     Deposited { cents: i64 },
//! }
//! impl Event for Account {
//!     fn event_type(&self) -> &'static str {
//!         match self {
//!             Account::Opened { .. } => "account.opened",
//!             Account::Deposited { .. } => "account.deposited",
//!         }
//!     }
//! }
//!
//! let store = EventStore::open(&db.with_actor("billing")).await?;
//! let opened = NewEvent::new(&Account::Opened { owner: "ada".into() })?.correlated_with("req-1");
//! store.append("account-7", ExpectedVersion::NoStream, &[opened]).await?;
//! let history = store.read_stream::<Account>("account-7", 1, 100).await?;
//! let version = history.last().map_or(0, |e| e.version);
//! let deposit = NewEvent::new(&Account::Deposited { cents: 500 })?;
//! store.append("account-7", ExpectedVersion::Exact(version), &[deposit]).await?;
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//! - A stream's versions are 1, 2, 3, … with no gap and no duplicate, whatever the number of
//!   concurrent writers; an append whose expected version is stale writes nothing and fails
//!   with [`Error::WrongExpectedVersion`].
//! - Global positions are 1, 2, 3, … with no gap, handed out in commit order (an append
//!   holds the head row's lock until it commits), so [`EventStore::read_all`] after the last
//!   position read never skips an event that commits later. Appends are therefore serialized
//!   per database, as in single-writer event stores.
//! - A projection applies each event exactly once to what it writes in its transaction: the
//!   event's effects and the new checkpoint commit together ([`ProjectionRunner`]).

mod projection;
mod snapshot;
mod store;
pub mod tables;

pub use projection::{HandlerError, Projection, ProjectionRunner, checkpoint};
pub use snapshot::Snapshot;
pub use store::EventStore;

use serde::Serialize;

/// A typed event: serialized as JSON, stored with its type name.
pub trait Event: Serialize {
    /// The name stored with the event (`account.opened`), what readers dispatch on.
    fn event_type(&self) -> &'static str;
}

/// What an append expects the stream's version to be (its number of events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// Append whatever the version.
    Any,
    /// The stream has no event yet.
    NoStream,
    /// The stream has at least one event.
    StreamExists,
    /// The stream's newest event has exactly this version.
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream at version `actual` is what this expects.
    pub fn matches(self, actual: u64) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual == 0,
            Self::StreamExists => actual > 0,
            Self::Exact(version) => actual == version,
        }
    }
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Any => f.write_str("any version"),
            Self::NoStream => f.write_str("no stream"),
            Self::StreamExists => f.write_str("an existing stream"),
            Self::Exact(version) => write!(f, "version {version}"),
        }
    }
}

/// An event to append: its type, JSON payload and metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    event_type: String,
    payload: String,
    event_id: Option<String>,
    causation_id: Option<String>,
    correlation_id: Option<String>,
    actor: Option<String>,
}

impl NewEvent {
    /// `event`, serialized as JSON.
    ///
    /// # Errors
    /// [`Error::Encode`] when serde cannot serialize it.
    pub fn new<E: Event>(event: &E) -> Result<Self, Error> {
        let event_type = event.event_type();
        let payload = serde_json::to_string(event).map_err(|e| Error::Encode {
            event_type: event_type.into(),
            message: e.to_string(),
        })?;
        Ok(Self::from_json(event_type, payload))
    }

    /// An event of type `event_type` whose payload is the JSON text `payload` (not checked
    /// here: readers decode it).
    pub fn from_json(event_type: impl Into<String>, payload: impl Into<String>) -> Self {
        Self {
            event_type: event_type.into(),
            payload: payload.into(),
            event_id: None,
            causation_id: None,
            correlation_id: None,
            actor: None,
        }
    }

    /// Its id (up to 64 characters, unique in the store: appending it again is refused);
    /// without it a random UUID.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.event_id = Some(id.into());
        self
    }

    /// The id of the message or event that caused it.
    #[must_use]
    pub fn caused_by(mut self, id: impl Into<String>) -> Self {
        self.causation_id = Some(id.into());
        self
    }

    /// The id shared by everything one request or process caused.
    #[must_use]
    pub fn correlated_with(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Who caused it; without it the store's handle's actor ([`crate::Database::with_actor`]),
    /// or none.
    #[must_use]
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// The type name.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }
}

/// What is recorded with each event besides its payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Metadata {
    /// Unique in the store.
    pub event_id: String,
    /// See [`NewEvent::caused_by`].
    pub causation_id: Option<String>,
    /// See [`NewEvent::correlated_with`].
    pub correlation_id: Option<String>,
    /// See [`NewEvent::actor`].
    pub actor: Option<String>,
    /// When it was appended (the appending process's clock, UTC, microseconds).
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// A stored event, its payload decoded as `E`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedEvent<E> {
    /// Place in the store's global order (1, 2, 3, … without gap).
    pub position: u64,
    /// Its stream.
    pub stream_id: String,
    /// Place in its stream (1, 2, 3, … without gap).
    pub version: u64,
    /// See [`Event::event_type`].
    pub event_type: String,
    /// The payload.
    pub data: E,
    /// Ids, actor, time.
    pub metadata: Metadata,
}

/// What an append wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendResult {
    /// The stream's version now (its newest event's).
    pub version: u64,
    /// Global position of the first event appended.
    pub first_position: u64,
    /// Global position of the last event appended.
    pub last_position: u64,
    /// Each appended event's metadata, in order.
    pub metadata: Vec<Metadata>,
}

/// What can go wrong with the event store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stream's version is not what the append expected; nothing was written. Read the
    /// stream again, decide again, and retry.
    #[error("stream {stream}: expected {expected}, but it is at version {actual}")]
    WrongExpectedVersion {
        /// The stream.
        stream: String,
        /// What the append expected.
        expected: ExpectedVersion,
        /// Its version when the append looked.
        actual: u64,
    },
    /// A name or id is empty or too long, or an append has no event; nothing was written.
    #[error("invalid {what}: {message}")]
    InvalidInput {
        /// Which input.
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An event could not be serialized.
    #[error("event {event_type} cannot be serialized: {message}")]
    Encode {
        /// Its type.
        event_type: String,
        /// serde's message.
        message: String,
    },
    /// A stored event (or snapshot) is not the type it was read as.
    #[error("event {version} of stream {stream} ({event_type}) cannot be read: {message}")]
    Decode {
        /// The stream.
        stream: String,
        /// The event's version (the snapshot's, for a snapshot).
        version: u64,
        /// Its type name.
        event_type: String,
        /// serde's message.
        message: String,
    },
    /// A projection's handler failed; the batch was rolled back and the checkpoint stays.
    #[error("projection {projection} failed at position {position}: {source}")]
    Projection {
        /// The projection.
        projection: String,
        /// The event it failed on.
        position: u64,
        /// The handler's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] crate::Error),
}

impl Error {
    /// Whether retrying the same operation may succeed: a version conflict (after reading
    /// the stream again) or a deadlock, serialization failure or lock timeout.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::WrongExpectedVersion { .. } => true,
            Self::Database(error) => error.is_retryable(),
            _ => false,
        }
    }
}
