//! Errors of the `foxdb` crate.

use crate::Backend;

/// Everything that can go wrong talking to a database. Messages name the database by host and
/// database name, never with credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL could not be understood.
    #[error("invalid database URL {url}: {reason}")]
    InvalidUrl {
        /// The URL with its password hidden.
        url: String,
        /// Why.
        reason: String,
    },
    /// The server could not be reached or refused the login.
    #[error("cannot connect to {backend} at {location}: {message}\n  hint: {hint}")]
    Connect {
        /// Engine.
        backend: Backend,
        /// Host and port, or file.
        location: String,
        /// The driver's message.
        message: String,
        /// What to check.
        hint: String,
    },
    /// A statement failed.
    #[error("{backend} error: {message}{}", statement.as_ref().map(|s| format!("\n  statement: {s}")).unwrap_or_default())]
    Query {
        /// Engine.
        backend: Backend,
        /// The engine's message (with PostgreSQL's DETAIL and HINT lines).
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver error.
        #[source]
        source: sqlx::Error,
    },
    /// The engine cannot do what was asked.
    #[error("{backend} does not support {feature}")]
    Unsupported {
        /// Engine.
        backend: Backend,
        /// What is not supported.
        feature: String,
    },
    /// The URL names an engine whose driver this build of foxdb leaves out: its cargo feature
    /// is off.
    #[error(
        "{backend} support is not compiled into this build of foxdb\n  hint: turn on foxdb's `{feature}` cargo feature (Cargo.toml: foxdb = {{ version = \"{version}\", features = [\"{feature}\"] }})",
        version = env!("CARGO_PKG_VERSION")
    )]
    BackendNotEnabled {
        /// Engine the URL names.
        backend: Backend,
        /// The foxdb cargo feature that compiles its driver in.
        feature: &'static str,
    },
    /// A column could not be decoded into the model's field.
    #[error("cannot decode column {column}: {message}")]
    Decode {
        /// The column.
        column: String,
        /// Why.
        message: String,
    },
    /// A query that must return a row returned none.
    #[error("no row found in {table}")]
    NotFound {
        /// The table queried.
        table: String,
    },
    /// The live database holds something FoxDB cannot map to its model.
    #[error("cannot read the schema of {backend} table {table}: {message}")]
    Introspection {
        /// Engine.
        backend: Backend,
        /// Table concerned.
        table: String,
        /// What could not be mapped.
        message: String,
    },
}

impl Error {
    /// Wraps a driver error raised by `statement`.
    pub fn query(backend: Backend, statement: Option<&str>, source: sqlx::Error) -> Self {
        let message = match &source {
            sqlx::Error::Database(db) => {
                #[cfg_attr(not(feature = "postgres"), expect(unused_mut))]
                let mut message = db.message().to_string();
                // PostgreSQL explains many errors in DETAIL and HINT fields; keep them.
                #[cfg(feature = "postgres")]
                if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    for (label, field) in [("DETAIL", pg.detail()), ("HINT", pg.hint())] {
                        if let Some(text) = field {
                            message.push_str(&format!("\n  {label}: {text}"));
                        }
                    }
                }
                message
            }
            other => other.to_string(),
        };
        Self::Query {
            backend,
            message,
            statement: statement.map(str::to_string),
            source,
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
