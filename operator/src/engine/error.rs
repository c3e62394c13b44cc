//! Errors of the schema engine: each says what failed, where, and what to do.

use std::time::Duration;

use super::diff::DiffError;

/// Everything that can stop a plan or an apply.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Talking to the database failed.
    #[error(transparent)]
    Database(#[from] foxdb::Error),
    /// Talking to a MongoDB database failed.
    #[error(transparent)]
    DocumentStore(#[from] foxdb::document_store::DocumentStoreError),
    /// Another applier holds the MongoDB lock document.
    #[error(
        "the database {database} is locked by another applier: {holder} (its lock expires at {expires}); gave up after policy.lockTimeoutSeconds"
    )]
    Locked {
        /// Hosts and database.
        database: String,
        /// Who holds it.
        holder: String,
        /// When its lock expires.
        expires: String,
    },
    /// A MongoDB command of a plan failed; the commands before it ran.
    #[error("command {index} of {total} ({change}) failed; the {} before it ran and stay applied, the next apply continues from there\n  {source}", index - 1)]
    CommandFailed {
        /// 1-based position.
        index: usize,
        /// Commands in the plan.
        total: usize,
        /// The change in words.
        change: String,
        /// The server's error.
        source: foxdb::document_store::DocumentStoreError,
    },
    /// Another applier holds the lock.
    #[error(
        "the database {database} is locked by another applier: {holder}; gave up after {} s (policy.lockTimeoutSeconds)",
        waited.as_secs()
    )]
    LockTimeout {
        /// Database name.
        database: String,
        /// How long we waited.
        waited: Duration,
        /// Who holds it, as far as the engine can tell.
        holder: String,
    },
    /// The declaration differs from the database in a way the engine does not apply.
    #[error(transparent)]
    Diff(#[from] DiffError),
    /// A statement failed; on PostgreSQL and SQLite nothing was changed.
    #[error("statement {index} of {total} failed; {outcome}\n  {source}")]
    StatementFailed {
        /// 1-based position.
        index: usize,
        /// Statements in the plan.
        total: usize,
        /// What state the database is in.
        outcome: String,
        /// The database error.
        source: foxdb::Error,
    },
    /// The plan has changes that cannot be applied as declared.
    #[error("the plan cannot be applied:\n{}", reasons.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Impossible {
        /// One line per change.
        reasons: Vec<String>,
    },
    /// Destructive changes without permission.
    #[error(
        "refusing to apply {} destructive change(s) (set policy.allowDestructive or pass --allow-destructive):\n{}",
        changes.len(),
        changes.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n")
    )]
    DestructiveRefused {
        /// One line per destructive change, with why.
        changes: Vec<String>,
    },
    /// Another FoxSchema has applied to this database; see [`super::ownership`].
    #[error(
        "the database is declared by FoxSchema/{owner}, which has applied to it; FoxSchema/{schema} would plan {owner}'s tables as undeclared (and drop them where destructive changes are allowed), so nothing was done. Declare all of the database's tables in one FoxSchema; if FoxSchema/{schema} replaces FoxSchema/{owner} (a rename), say so: `fox apply --replaces {owner}`, or the annotation foxdb.dev/replaces: {owner} on the FoxSchema"
    )]
    OwnedByAnotherSchema {
        /// The FoxSchema being applied.
        schema: String,
        /// The FoxSchema that applied before.
        owner: String,
    },
    /// The declaration exceeds what the engine can store; found while planning, before any
    /// statement ran.
    #[error(
        "the schema exceeds {backend} limits; nothing was changed:\n{}",
        problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n")
    )]
    StorageLimits {
        /// Engine.
        backend: foxdb::Backend,
        /// One line per problem, naming the table and column.
        problems: Vec<String>,
    },
    /// A foreign key is violated after a SQLite rebuild; nothing was changed.
    #[error("foreign key check failed after the change, rolled back: {0}")]
    ForeignKeyViolation(String),
}

impl EngineError {
    /// Short label for metrics and JSON output.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Database(_) | Self::DocumentStore(_) => "database",
            Self::Locked { .. } => "locked",
            Self::CommandFailed { .. } => "statement-failed",
            Self::LockTimeout { .. } => "lock-timeout",
            Self::Diff(_) => "unsupported-change",
            Self::StatementFailed { .. } => "statement-failed",
            Self::Impossible { .. } => "impossible-change",
            Self::DestructiveRefused { .. } => "destructive-refused",
            Self::OwnedByAnotherSchema { .. } => "owned-by-another-schema",
            Self::StorageLimits { .. } => "storage-limits",
            Self::ForeignKeyViolation(_) => "foreign-key-violation",
        }
    }
}
