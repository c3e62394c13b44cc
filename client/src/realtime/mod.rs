//! Real-time subscriptions: every committed insert, update and delete of a table with capture
//! (`realtime: true` in its FoxSchema, installed by `fox apply`) as a stream of changes.
//!
//! # Expected flow
//! ```rust,ignore
//! use foxdb::realtime::{Operation::{Insert, Update}, Position};
//! use futures_util::StreamExt;
//!
//! let mut changes = db
//!     .subscribe::<User>()
//!     .events([Insert, Update])
//!     .filter(User::TEAM.eq("a"))
//!     .from(Position(0));
//! while let Some(change) = changes.next().await {
//!     let change = change?;
//!     println!("{} {:?} → {:?}", change.position, change.op, change.new);
//! }
//! ```
//!
//! # Guarantees
//! - Changes arrive in position order, positions strictly increase, and a position is given
//!   only after the change committed, after every change with a lower position is visible: a
//!   reader that delivered position N never later meets a change below N (a long transaction
//!   that commits after many short ones gets positions after theirs). Changes of one row come
//!   in the order their transactions committed.
//! - At least once: after a dropped connection the reader reconnects by itself (with backoff)
//!   and resumes after the last position it delivered; a new subscription resumes from any
//!   position still in the log ([`Subscribe::from`]). Deduplicate by position if you also
//!   persist positions yourself.
//! - Bounded memory: the reader fetches a batch at a time and waits while the consumer is
//!   behind; the durable log holds the backlog.
//! - Durable named subscribers ([`Subscribe::durable`]) store their acknowledged position in
//!   the database: a restart resumes after it, and pruning never deletes a change above it.
//!
//! How each engine captures and numbers changes is its [`ChangeCapture`] (see
//! docs/realtime.md).

pub(crate) mod capture;
mod durable;
mod mysql;
mod postgres;
mod sqlite;
mod subscribe;
mod tail;

pub use capture::{
    CHANGE_HEAD, CHANGE_LOG, ChangeCapture, ImageSource, LiveColumn, NOTIFY_CHANNEL, Numbering,
    SUBSCRIBERS, Wake, capture_for, in_tables,
};
pub use durable::{
    DurableSubscriber, acknowledge, acknowledged, durable_subscribers, remove_durable_subscriber,
};
pub use mysql::MySqlCapture;
pub use postgres::PostgresCapture;
pub use sqlite::SqliteCapture;
pub use subscribe::Subscribe;
pub use tail::{
    ChangeStream, TailOptions, captured_tables, head_position, prune, prune_tables, tail,
};

use crate::Backend;

/// What a change did to its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// A row was inserted.
    Insert,
    /// A row was updated.
    Update,
    /// A row was deleted.
    Delete,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 3] = [Self::Insert, Self::Update, Self::Delete];

    /// `insert`, `update` or `delete`, as logged.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Insert => "insert",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }

    /// Parses the logged spelling.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change's place in the change log of its database: positions strictly increase in the
/// order readers see changes. `Position(0)` is before the first change.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct Position(pub i64);

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Position {
    type Err = std::num::ParseIntError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.trim().parse().map(Self)
    }
}

/// One change as logged: row images as JSON (what the gateway sends).
#[derive(Clone, Debug, PartialEq)]
pub struct RawChange {
    /// Position in the log.
    pub position: Position,
    /// Table name.
    pub table: String,
    /// What happened.
    pub op: Operation,
    /// The row's primary key (`{"id": 7}`).
    pub primary_key: serde_json::Value,
    /// The row before (updates and deletes).
    pub old: Option<serde_json::Value>,
    /// The row after (inserts and updates).
    pub new: Option<serde_json::Value>,
    /// The writing transaction's id where the engine exposes one (PostgreSQL); `None` on
    /// MySQL/MariaDB and SQLite.
    pub transaction_id: Option<String>,
    /// When the change was seen committed: on PostgreSQL and MySQL/MariaDB when it was given
    /// its position (at most a few milliseconds after commit); on SQLite when it was written.
    pub committed_at: chrono::DateTime<chrono::Utc>,
}

/// One change of a row of `M`.
#[derive(Clone, Debug, PartialEq)]
pub struct Change<M> {
    /// What happened.
    pub op: Operation,
    /// Position in the log.
    pub position: Position,
    /// The row before (updates and deletes).
    pub old: Option<M>,
    /// The row after (inserts and updates).
    pub new: Option<M>,
    /// When the change was seen committed (see [`RawChange::committed_at`]).
    pub committed_at: chrono::DateTime<chrono::Utc>,
}

/// What can go wrong with a subscription.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The table has no change capture: set `realtime: true` on it in the FoxSchema and run
    /// `fox apply`.
    #[error(
        "table {table} has no change capture on this {backend} database: set `realtime: true` on it in its FoxSchema and run `fox apply`"
    )]
    NotCaptured {
        /// The table.
        table: String,
        /// The engine.
        backend: Backend,
    },
    /// A logged change could not be read back.
    #[error("change {position} of table {table}: {message}")]
    Decode {
        /// The change.
        position: Position,
        /// The table.
        table: String,
        /// What was wrong.
        message: String,
    },
    /// A durable subscriber's name is empty, longer than 191 characters or has control
    /// characters.
    #[error(
        "durable subscriber name {name:?} is not valid: use 1 to 191 characters, no control characters"
    )]
    SubscriberName {
        /// The name given.
        name: String,
    },
    /// No durable subscriber has this name (it registers when its subscription starts).
    #[error(
        "no durable subscriber named {name:?}: it is registered when a subscription with .durable({name:?}) starts"
    )]
    NoSuchSubscriber {
        /// The name given.
        name: String,
    },
    /// [`Subscribe::acknowledge`] on a subscription that is not durable.
    #[error("only a durable subscription (.durable(name)) stores acknowledged positions")]
    NotDurable,
    /// The database failed (the reader retries by itself; this is returned only when it cannot
    /// start).
    #[error(transparent)]
    Database(#[from] crate::Error),
}
