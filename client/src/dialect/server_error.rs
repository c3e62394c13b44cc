//! What an engine's error codes mean, in words every engine shares: the driver reports a code
//! (PostgreSQL's SQLSTATE, MySQL/MariaDB's error number, SQLite's extended result code) and each
//! dialect says which [`ServerErrorKind`] it is ([`super::Dialect::classify_server_error`]) and which
//! constraint, table and columns it names ([`super::Dialect::violation`]).
//!
//! Nothing here needs a driver: the codes arrive as plain numbers and text, so the
//! classification is tested for every engine whatever foxdb's cargo features.

/// An error a database server (or SQLite's library) reported, as plain values the driver read
/// out of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerError<'a> {
    /// PostgreSQL and MySQL: the SQLSTATE (`23505`); SQLite: the extended result code in
    /// decimal (`2067`).
    pub code: Option<&'a str>,
    /// MySQL/MariaDB: the error number (`1062`).
    pub number: Option<u32>,
    /// The engine's message.
    pub message: &'a str,
    /// The constraint the engine named in a field of its own (PostgreSQL).
    pub constraint: Option<&'a str>,
    /// The table the engine named in a field of its own (PostgreSQL).
    pub table: Option<&'a str>,
    /// The column the engine named in a field of its own (PostgreSQL).
    pub column: Option<&'a str>,
    /// PostgreSQL's DETAIL (`Key (email)=(a@x.org) already exists.`).
    pub detail: Option<&'a str>,
}

/// What kind of failure a server error is, the same words on every engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerErrorKind {
    /// A UNIQUE constraint or primary key already holds the value.
    UniqueViolation,
    /// A foreign key has no referenced row, or a referenced row is still referenced.
    ForeignKeyViolation,
    /// NULL (or no value) for a NOT NULL column.
    NotNullViolation,
    /// A CHECK constraint refused the row.
    CheckViolation,
    /// The engine broke a deadlock by aborting this transaction.
    Deadlock,
    /// A serializable (or snapshot) transaction could not be ordered with another one.
    SerializationFailure,
    /// A lock was not granted in time (MySQL lock wait timeout, SQLite busy or locked,
    /// PostgreSQL lock not available).
    LockTimeout,
    /// The server refused the user or password.
    AuthenticationFailed,
    /// The database named in the URL does not exist.
    UnknownDatabase,
    /// Anything else.
    Other,
}

impl ServerErrorKind {
    /// Whether running the transaction again may succeed: deadlocks, serialization failures
    /// and lock timeouts.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Self::Deadlock | Self::SerializationFailure | Self::LockTimeout
        )
    }
}

/// The names a constraint violation gives, as far as the engine tells them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Violation {
    /// The constraint (or unique index) name: PostgreSQL and MySQL/MariaDB give it; SQLite
    /// names a CHECK constraint, and an index only for an expression index.
    pub constraint: Option<String>,
    /// The table: PostgreSQL and SQLite give it; MySQL for foreign keys and CHECKs (MariaDB)
    /// and, in MySQL 8, for unique keys.
    pub table: Option<String>,
    /// The columns: PostgreSQL and SQLite give them for unique and NOT NULL violations,
    /// MySQL/MariaDB for NOT NULL ones.
    pub columns: Vec<String>,
}

/// The text between the first pair of `quote`s after `marker` in `message`.
pub(crate) fn quoted_after(message: &str, marker: &str, quote: char) -> Option<String> {
    let rest = &message[message.find(marker)? + marker.len()..];
    let start = rest.find(quote)? + quote.len_utf8();
    let end = start + rest[start..].find(quote)?;
    Some(rest[start..end].to_string())
}

/// PostgreSQL's `Key (a, b)=(1, 2) already exists.` → `["a", "b"]`.
pub(crate) fn postgres_key_columns(detail: &str) -> Vec<String> {
    let Some(start) = detail.find("Key (") else {
        return Vec::new();
    };
    let rest = &detail[start + "Key (".len()..];
    let Some(end) = rest.find(")=(") else {
        return Vec::new();
    };
    rest[..end]
        .split(", ")
        .map(|c| c.trim_matches('"').to_string())
        .collect()
}
