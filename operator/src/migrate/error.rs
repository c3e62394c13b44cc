//! Why a migration command stopped.

use super::Direction;
use super::sql_split::SplitError;
use crate::engine::EngineError;

/// Why a migration command stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Lock, connection or database trouble.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The files and the database disagree.
    #[error("refusing to migrate:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Integrity {
        /// One line per problem.
        problems: Vec<String>,
    },
    /// `--to` names a version that no file has.
    #[error("version {to} is not among the migrations in the files{}; give one of their versions with --to", nearest_versions(*below, *above))]
    UnknownTarget {
        /// The version given.
        to: u64,
        /// The nearest version below it, if any.
        below: Option<u64>,
        /// The nearest version above it, if any.
        above: Option<u64>,
    },
    /// A migration's text cannot be cut into statements (nothing was run).
    #[error("migration {version} ({name}) {direction}: {error}; nothing was run")]
    Unreadable {
        /// Version.
        version: u64,
        /// Name.
        name: String,
        /// The step.
        direction: Direction,
        /// Why.
        error: SplitError,
    },
    /// A statement of a migration failed.
    #[error(
        "migration {version} ({name}) {direction} failed at statement {index} of {total} (line {line}): {first_line}\n  {message}\n  {outcome}"
    )]
    Failed {
        /// Version.
        version: u64,
        /// Name.
        name: String,
        /// The step that failed.
        direction: Direction,
        /// 1-based statement.
        index: usize,
        /// Statements in the step.
        total: usize,
        /// Line of the statement in the step's text.
        line: usize,
        /// The statement's first line.
        first_line: String,
        /// The server's message, with PostgreSQL's DETAIL and HINT.
        message: String,
        /// The state the database is in, and what to do.
        outcome: String,
    },
    /// A version cannot be rolled back.
    #[error("cannot roll back version {version} ({name}): {reason}")]
    Irreversible {
        /// Version.
        version: u64,
        /// Name.
        name: String,
        /// Why.
        reason: String,
    },
}

fn nearest_versions(below: Option<u64>, above: Option<u64>) -> String {
    match (below, above) {
        (Some(below), Some(above)) => format!(" (the nearest are {below} and {above})"),
        (Some(one), None) | (None, Some(one)) => format!(" (the nearest is {one})"),
        (None, None) => String::new(),
    }
}

impl From<foxdb::Error> for MigrateError {
    fn from(error: foxdb::Error) -> Self {
        Self::Engine(error.into())
    }
}

/// The server's message of a failed statement, without the statement (the migration error
/// names it once).
pub fn server_message(error: &foxdb::Error) -> String {
    match error.server_message() {
        Some((backend, message)) => format!("{backend} error: {message}"),
        None => error.to_string(),
    }
}
