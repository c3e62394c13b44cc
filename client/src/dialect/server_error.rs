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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{Dialect, MySql, Postgres, Sqlite};

    fn mysql(number: u32, code: &str, message: &str) -> (ServerErrorKind, Violation) {
        let error = ServerError {
            code: Some(code),
            number: Some(number),
            message,
            ..ServerError::default()
        };
        let kind = MySql.classify_server_error(&error);
        (kind, MySql.violation(kind, &error))
    }

    fn sqlite(code: &str, message: &str) -> (ServerErrorKind, Violation) {
        let error = ServerError {
            code: Some(code),
            message,
            ..ServerError::default()
        };
        let kind = Sqlite.classify_server_error(&error);
        (kind, Sqlite.violation(kind, &error))
    }

    #[test]
    fn postgres_reads_sqlstate_and_its_own_fields() {
        let error = ServerError {
            code: Some("23505"),
            message: "duplicate key value violates unique constraint \"users_email_key\"",
            constraint: Some("users_email_key"),
            table: Some("users"),
            detail: Some("Key (email, \"team\")=(a@x.org, 1) already exists."),
            ..ServerError::default()
        };
        let kind = Postgres.classify_server_error(&error);
        assert_eq!(kind, ServerErrorKind::UniqueViolation);
        assert_eq!(
            Postgres.violation(kind, &error),
            Violation {
                constraint: Some("users_email_key".into()),
                table: Some("users".into()),
                columns: vec!["email".into(), "team".into()],
            }
        );
        for (code, kind) in [
            ("23503", ServerErrorKind::ForeignKeyViolation),
            ("23502", ServerErrorKind::NotNullViolation),
            ("23514", ServerErrorKind::CheckViolation),
            ("40P01", ServerErrorKind::Deadlock),
            ("40001", ServerErrorKind::SerializationFailure),
            ("55P03", ServerErrorKind::LockTimeout),
            ("28P01", ServerErrorKind::AuthenticationFailed),
            ("3D000", ServerErrorKind::UnknownDatabase),
            ("42P01", ServerErrorKind::Other),
        ] {
            let error = ServerError {
                code: Some(code),
                ..ServerError::default()
            };
            assert_eq!(Postgres.classify_server_error(&error), kind, "{code}");
        }
    }

    #[test]
    fn mysql_reads_error_numbers_and_names_from_the_message() {
        let (kind, violation) = mysql(
            1062,
            "23000",
            "Duplicate entry 'a@x.org' for key 'users_email_key'",
        );
        assert_eq!(kind, ServerErrorKind::UniqueViolation);
        assert_eq!(violation.constraint.as_deref(), Some("users_email_key"));
        // MySQL 8 qualifies the key with its table.
        let (_, violation) = mysql(
            1062,
            "23000",
            "Duplicate entry 'a@x.org' for key 'users.users_email_key'",
        );
        assert_eq!(violation.constraint.as_deref(), Some("users_email_key"));
        assert_eq!(violation.table.as_deref(), Some("users"));

        let (kind, violation) = mysql(
            1452,
            "23000",
            "Cannot add or update a child row: a foreign key constraint fails (`blog`.`posts`, CONSTRAINT `posts_author_fk` FOREIGN KEY (`author_id`) REFERENCES `users` (`id`))",
        );
        assert_eq!(kind, ServerErrorKind::ForeignKeyViolation);
        assert_eq!(
            violation,
            Violation {
                constraint: Some("posts_author_fk".into()),
                table: Some("posts".into()),
                columns: vec!["author_id".into()],
            }
        );

        let (kind, violation) = mysql(1048, "23000", "Column 'email' cannot be null");
        assert_eq!(kind, ServerErrorKind::NotNullViolation);
        assert_eq!(violation.columns, ["email"]);

        let (kind, violation) = mysql(
            4025,
            "23000",
            "CONSTRAINT `age_positive` failed for `blog`.`users`",
        );
        assert_eq!(kind, ServerErrorKind::CheckViolation);
        assert_eq!(violation.constraint.as_deref(), Some("age_positive"));
        assert_eq!(violation.table.as_deref(), Some("users"));
        let (kind, violation) = mysql(
            3819,
            "HY000",
            "Check constraint 'age_positive' is violated.",
        );
        assert_eq!(kind, ServerErrorKind::CheckViolation);
        assert_eq!(violation.constraint.as_deref(), Some("age_positive"));
        // MySQL's own 4025 is another error (another SQLSTATE).
        assert_eq!(mysql(4025, "HY000", "").0, ServerErrorKind::Other);

        assert_eq!(mysql(1213, "40001", "").0, ServerErrorKind::Deadlock);
        assert_eq!(mysql(1205, "HY000", "").0, ServerErrorKind::LockTimeout);
        assert_eq!(
            mysql(1045, "28000", "").0,
            ServerErrorKind::AuthenticationFailed
        );
        assert_eq!(mysql(1049, "42000", "").0, ServerErrorKind::UnknownDatabase);
    }

    #[test]
    fn sqlite_reads_extended_result_codes_and_names_from_the_message() {
        let (kind, violation) = sqlite("2067", "UNIQUE constraint failed: users.team, users.email");
        assert_eq!(kind, ServerErrorKind::UniqueViolation);
        assert_eq!(
            violation,
            Violation {
                constraint: None,
                table: Some("users".into()),
                columns: vec!["team".into(), "email".into()],
            }
        );
        let (_, violation) = sqlite(
            "2067",
            "UNIQUE constraint failed: index 'users_lower_email'",
        );
        assert_eq!(violation.constraint.as_deref(), Some("users_lower_email"));
        assert_eq!(
            sqlite("1555", "UNIQUE constraint failed: users.id").0,
            ServerErrorKind::UniqueViolation
        );
        assert_eq!(
            sqlite("787", "FOREIGN KEY constraint failed"),
            (ServerErrorKind::ForeignKeyViolation, Violation::default())
        );
        let (kind, violation) = sqlite("1299", "NOT NULL constraint failed: users.email");
        assert_eq!(kind, ServerErrorKind::NotNullViolation);
        assert_eq!(violation.columns, ["email"]);
        let (kind, violation) = sqlite("275", "CHECK constraint failed: age_positive");
        assert_eq!(kind, ServerErrorKind::CheckViolation);
        assert_eq!(violation.constraint.as_deref(), Some("age_positive"));
        assert_eq!(sqlite("517", "").0, ServerErrorKind::SerializationFailure);
        for busy in ["5", "261", "6", "262"] {
            assert_eq!(sqlite(busy, "").0, ServerErrorKind::LockTimeout, "{busy}");
        }
        assert_eq!(
            sqlite("1", "no such column: emial").0,
            ServerErrorKind::Other
        );
        assert!(ServerErrorKind::LockTimeout.is_retryable());
        assert!(!ServerErrorKind::UniqueViolation.is_retryable());
    }
}
