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
        /// Why, in words every engine shares.
        reason: ConnectFailure,
        /// Host and port, or file.
        location: String,
        /// The driver's message.
        message: String,
        /// What to check.
        hint: String,
    },
    /// A statement failed for a reason none of the variants below names (a syntax error, a
    /// missing table, a lost connection, a value of the wrong type).
    #[error("{backend} error: {message}{}", shown_statement(statement))]
    Query {
        /// Engine.
        backend: Backend,
        /// The engine's message (with PostgreSQL's DETAIL and HINT lines).
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// A UNIQUE constraint or primary key already holds the value (PostgreSQL `23505`,
    /// MySQL/MariaDB `1062`, SQLite `SQLITE_CONSTRAINT_UNIQUE`/`_PRIMARYKEY`).
    #[error(
        "{backend}: unique constraint violated{}: {message}{}",
        violation_names(constraint.as_deref(), table.as_deref(), columns),
        shown_statement(statement)
    )]
    UniqueViolation {
        /// Engine.
        backend: Backend,
        /// The constraint or unique index (PostgreSQL, MySQL/MariaDB; SQLite only for an
        /// expression index: it names the columns instead).
        constraint: Option<Box<str>>,
        /// The table (PostgreSQL, SQLite, MySQL 8).
        table: Option<Box<str>>,
        /// The columns (PostgreSQL, SQLite).
        columns: Vec<String>,
        /// The engine's message.
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// A foreign key has no referenced row, or a row to delete is still referenced
    /// (PostgreSQL `23503`, MySQL/MariaDB `1451`/`1452`, SQLite `SQLITE_CONSTRAINT_FOREIGNKEY`).
    #[error(
        "{backend}: foreign key violated{}: {message}{}",
        violation_names(constraint.as_deref(), table.as_deref(), columns),
        shown_statement(statement)
    )]
    ForeignKeyViolation {
        /// Engine.
        backend: Backend,
        /// The foreign key's name (PostgreSQL, MySQL/MariaDB; SQLite does not say).
        constraint: Option<Box<str>>,
        /// The referencing table (PostgreSQL, MySQL/MariaDB).
        table: Option<Box<str>>,
        /// The referencing columns (MySQL/MariaDB).
        columns: Vec<String>,
        /// The engine's message.
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// NULL, or no value, for a NOT NULL column (PostgreSQL `23502`, MySQL/MariaDB
    /// `1048`/`1364`, SQLite `SQLITE_CONSTRAINT_NOTNULL`).
    #[error("{backend}: NOT NULL violated{}: {message}{}", violation_names(None, table.as_deref(), columns), shown_statement(statement))]
    NotNullViolation {
        /// Engine.
        backend: Backend,
        /// The table (PostgreSQL, SQLite).
        table: Option<Box<str>>,
        /// The column (every engine names it).
        columns: Vec<String>,
        /// The engine's message.
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// A CHECK constraint refused the row (PostgreSQL `23514`, MySQL `3819`, MariaDB `4025`,
    /// SQLite `SQLITE_CONSTRAINT_CHECK`).
    #[error("{backend}: check constraint violated{}: {message}{}", violation_names(constraint.as_deref(), table.as_deref(), &[]), shown_statement(statement))]
    CheckViolation {
        /// The constraint's name (SQLite: its expression when it has no name).
        constraint: Option<Box<str>>,
        /// Engine.
        backend: Backend,
        /// The table (PostgreSQL, MariaDB).
        table: Option<Box<str>>,
        /// The engine's message.
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// The engine aborted the transaction to break a deadlock (PostgreSQL `40P01`,
    /// MySQL/MariaDB `1213`); retryable.
    #[error(
        "{backend}: deadlock, the transaction was rolled back: {message}{}",
        shown_statement(statement)
    )]
    Deadlock {
        /// Engine.
        backend: Backend,
        /// The engine's message.
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// A serializable transaction could not be ordered with a concurrent one (PostgreSQL
    /// `40001`, SQLite `SQLITE_BUSY_SNAPSHOT`); retryable.
    #[error(
        "{backend}: serialization failure: {message}{}",
        shown_statement(statement)
    )]
    SerializationFailure {
        /// Engine.
        backend: Backend,
        /// The engine's message.
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// A lock was not granted in time (PostgreSQL `55P03`, MySQL/MariaDB `1205`, SQLite
    /// `SQLITE_BUSY`/`SQLITE_LOCKED` after the busy timeout); retryable.
    #[error(
        "{backend}: lock not granted in time: {message}{}",
        shown_statement(statement)
    )]
    LockTimeout {
        /// Engine.
        backend: Backend,
        /// The engine's message.
        message: String,
        /// The statement that failed, when known.
        statement: Option<String>,
        /// The driver's error.
        #[source]
        source: DriverError,
    },
    /// Models and the live database disagree ([`crate::Database::verify`]): every mismatch,
    /// one per line.
    #[error("the {backend} database does not match the models:{}", mismatches.iter().map(|m| format!("\n  - {m}")).collect::<String>())]
    SchemaMismatch {
        /// Engine.
        backend: Backend,
        /// What differs.
        mismatches: Vec<crate::verify::Mismatch>,
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
    /// A statement on a tenant-scoped table ([`crate::Model::TENANT_COLUMN`]) ran on an
    /// executor without a tenant: run it through a tenant handle ([`crate::Database::tenant`]),
    /// or, to reach every tenant's rows on purpose, say `.all_tenants()` on the query.
    #[error(
        "a statement on a tenant-scoped table ran without a tenant: {statement}\n  hint: run it through `db.tenant(\"<id>\")`, or call `.all_tenants()` on the query to reach every tenant's rows"
    )]
    TenantRequired {
        /// The statement (its values are bound, never written into it).
        statement: String,
    },
    /// A tenant id FoxDB refuses ([`crate::Database::tenant`]).
    #[error("invalid tenant id \"{tenant}\": {reason}")]
    InvalidTenant {
        /// The id, escaped.
        tenant: String,
        /// Why it is refused.
        reason: String,
    },
    /// A query that must return a row returned none.
    #[error("no row found in {table}")]
    NotFound {
        /// The table queried.
        table: String,
    },
    /// A distributed transaction was rolled back on every participant by recovery before its
    /// coordinator decided to commit ([`crate::distributed`]).
    #[error("distributed transaction {transaction} was rolled back: {reason}")]
    TransactionAborted {
        /// The transaction id.
        transaction: String,
        /// Why.
        reason: String,
    },
    /// A distributed transaction's outcome is not settled yet: the commit is decided and some
    /// branch is still prepared, or the decision could not be confirmed. Recovery ends every
    /// branch as the coordinator log says ([`crate::distributed::recover`]).
    #[error("distributed transaction {transaction} is in doubt: {message}")]
    TransactionInDoubt {
        /// The transaction id.
        transaction: String,
        /// What happened and what finishes it.
        message: String,
    },
    /// A coordinator name or branch id was refused.
    #[error(transparent)]
    InvalidId(#[from] crate::distributed::IdError),
    /// An audit actor FoxDB will not record ([`crate::Transaction::set_actor`]).
    #[error(
        "invalid audit actor {actor:?}: an actor is 1 to 255 characters (a service or user name)"
    )]
    InvalidActor {
        /// The actor given.
        actor: String,
    },
    /// MongoDB ([`crate::mongo`]) refused a document because a unique index already holds its
    /// key (server code 11000): the document store's [`Error::UniqueViolation`]. MongoDB is a
    /// document store beside the SQL [`Backend`]s, so it has variants of its own;
    /// [`Error::is_constraint_violation`] covers both.
    #[error("mongodb: unique index violated{}: {message}", mongo_names(collection, index.as_deref()))]
    MongoDuplicateKey {
        /// The collection written.
        collection: String,
        /// The unique index, when the server names it.
        index: Option<String>,
        /// The server's message.
        message: String,
    },
    /// The MongoDB server could not be reached or refused the login ([`crate::mongo`]): the
    /// document store's [`Error::Connect`].
    #[error("cannot connect to mongodb at {location}: {message}\n  hint: {hint}")]
    MongoConnect {
        /// Why, in the words the SQL engines share.
        reason: ConnectFailure,
        /// Hosts and ports (never the credentials).
        location: String,
        /// The driver's message.
        message: String,
        /// What to check.
        hint: String,
    },
    /// A MongoDB operation failed for a reason none of the other `Mongo*` variants names.
    #[error("mongodb error in {operation}{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Mongo {
        /// What was being done (`find in users`, `insert into posts`).
        operation: String,
        /// The server's error code, when the server answered.
        code: Option<i32>,
        /// The server's or the driver's message.
        message: String,
    },
    /// MongoDB (or the server at hand) cannot do what was asked: the document store's
    /// [`Error::Unsupported`].
    #[error("mongodb does not support {feature}")]
    MongoUnsupported {
        /// What is not supported, and why.
        feature: String,
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

/// Why a connection could not be opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectFailure {
    /// Nothing listens at the host and port (`connection refused`), or the SQLite file's
    /// directory cannot be opened.
    Refused,
    /// The host did not answer in time, or could not be resolved or reached.
    Unreachable,
    /// The server refused the user or the password.
    Authentication,
    /// The database named in the URL does not exist.
    UnknownDatabase,
    /// TLS could not be set up (no TLS on the server, a certificate not trusted).
    Tls,
    /// Anything else.
    Other,
}

/// The driver's error behind a failed statement: the `source` of [`Error::Query`] and of the
/// constraint and transaction variants. Its text is the driver's; foxdb's variants carry
/// everything to act on, so code matches on them and never on the driver's types.
pub struct DriverError(Box<sqlx::Error>);

impl DriverError {
    pub(crate) fn new(error: sqlx::Error) -> Self {
        Self(Box::new(error))
    }

    /// The driver's error, for foxdb's own code that looks into it.
    pub(crate) fn get(&self) -> &sqlx::Error {
        &self.0
    }

    /// The engine's code: PostgreSQL's SQLSTATE (`23505`), MySQL/MariaDB's SQLSTATE, SQLite's
    /// extended result code (`2067`); `None` for errors that did not come from the engine.
    pub fn code(&self) -> Option<String> {
        match self.get() {
            sqlx::Error::Database(database) => database.code().map(|c| c.into_owned()),
            _ => None,
        }
    }
}

impl std::fmt::Debug for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

fn shown_statement(statement: &Option<String>) -> String {
    statement
        .as_ref()
        .map(|s| format!("\n  statement: {s}"))
        .unwrap_or_default()
}

fn mongo_names(collection: &str, index: Option<&str>) -> String {
    match index {
        Some(index) => format!(" (collection {collection}, index {index})"),
        None => format!(" (collection {collection})"),
    }
}

fn violation_names(constraint: Option<&str>, table: Option<&str>, columns: &[String]) -> String {
    let mut names = Vec::new();
    if let Some(constraint) = constraint {
        names.push(format!("constraint {constraint}"));
    }
    match (table, columns) {
        (Some(table), []) => names.push(format!("table {table}")),
        (Some(table), columns) => names.push(format!("{table}({})", columns.join(", "))),
        (None, []) => {}
        (None, columns) => names.push(format!("columns {}", columns.join(", "))),
    }
    if names.is_empty() {
        String::new()
    } else {
        format!(" ({})", names.join(", "))
    }
}

impl Error {
    /// Wraps a driver error raised by `statement`, classified by the engine's dialect
    /// ([`crate::dialect::Dialect::classify_server_error`]) into the variant that names it.
    pub(crate) fn query(backend: Backend, statement: Option<&str>, source: sqlx::Error) -> Self {
        use crate::dialect::{ServerErrorKind as Kind, dialect_for};
        let statement = statement.map(str::to_string);
        let sqlx::Error::Database(database) = &source else {
            return Self::Query {
                backend,
                message: source.to_string(),
                statement,
                source: DriverError::new(source),
            };
        };
        let server = crate::backend::server_error(database.as_ref());
        let dialect = dialect_for(backend);
        let kind = dialect.classify_server_error(&server.as_ref());
        let violation = dialect.violation(kind, &server.as_ref());
        let message = database.message().to_string();
        // PostgreSQL's DETAIL and HINT stay after the message (`Key (email)=(..) already exists.`).
        #[cfg(feature = "postgres")]
        let message = with_postgres_detail(message, database.as_ref());
        let source = DriverError::new(source);
        match kind {
            Kind::UniqueViolation => Self::UniqueViolation {
                backend,
                constraint: violation.constraint.map(Into::into),
                table: violation.table.map(Into::into),
                columns: violation.columns,
                message,
                statement,
                source,
            },
            Kind::ForeignKeyViolation => Self::ForeignKeyViolation {
                backend,
                constraint: violation.constraint.map(Into::into),
                table: violation.table.map(Into::into),
                columns: violation.columns,
                message,
                statement,
                source,
            },
            Kind::NotNullViolation => Self::NotNullViolation {
                backend,
                table: violation.table.map(Into::into),
                columns: violation.columns,
                message,
                statement,
                source,
            },
            Kind::CheckViolation => Self::CheckViolation {
                backend,
                constraint: violation.constraint.map(Into::into),
                table: violation.table.map(Into::into),
                message,
                statement,
                source,
            },
            Kind::Deadlock => Self::Deadlock {
                backend,
                message,
                statement,
                source,
            },
            Kind::SerializationFailure => Self::SerializationFailure {
                backend,
                message,
                statement,
                source,
            },
            Kind::LockTimeout => Self::LockTimeout {
                backend,
                message,
                statement,
                source,
            },
            Kind::AuthenticationFailed | Kind::UnknownDatabase | Kind::Other => Self::Query {
                backend,
                message,
                statement,
                source,
            },
        }
    }

    /// An error foxdb raises itself about a statement before the driver sees it (a parameter
    /// count that does not match).
    pub(crate) fn refused_statement(
        backend: Backend,
        statement: &str,
        message: String,
        reason: &str,
    ) -> Self {
        Self::Query {
            backend,
            message,
            statement: Some(statement.to_string()),
            source: DriverError::new(sqlx::Error::Protocol(reason.into())),
        }
    }

    /// Whether running the transaction again may succeed: a deadlock, a serialization failure
    /// or a lock not granted in time. [`crate::Database::retry_transaction`] retries exactly
    /// these.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Deadlock { .. } | Self::SerializationFailure { .. } | Self::LockTimeout { .. }
        )
    }

    /// Whether this is a constraint violation (unique, foreign key, NOT NULL or CHECK; a
    /// MongoDB duplicate key): the data was refused, the statement was fine.
    pub fn is_constraint_violation(&self) -> bool {
        matches!(
            self,
            Self::UniqueViolation { .. }
                | Self::ForeignKeyViolation { .. }
                | Self::NotNullViolation { .. }
                | Self::CheckViolation { .. }
                | Self::MongoDuplicateKey { .. }
        )
    }

    /// The engine and its message, for an error the database raised running a statement
    /// (any of the statement variants), without the statement.
    pub fn server_message(&self) -> Option<(Backend, &str)> {
        match self {
            Self::Query {
                backend, message, ..
            }
            | Self::UniqueViolation {
                backend, message, ..
            }
            | Self::ForeignKeyViolation {
                backend, message, ..
            }
            | Self::NotNullViolation {
                backend, message, ..
            }
            | Self::CheckViolation {
                backend, message, ..
            }
            | Self::Deadlock {
                backend, message, ..
            }
            | Self::SerializationFailure {
                backend, message, ..
            }
            | Self::LockTimeout {
                backend, message, ..
            } => Some((*backend, message)),
            _ => None,
        }
    }
}

/// PostgreSQL explains many errors in DETAIL and HINT fields: they are kept after the message.
#[cfg(feature = "postgres")]
fn with_postgres_detail(mut message: String, error: &dyn sqlx::error::DatabaseError) -> String {
    if let Some(pg) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        for (label, field) in [("DETAIL", pg.detail()), ("HINT", pg.hint())] {
            if let Some(text) = field {
                message.push_str(&format!("\n  {label}: {text}"));
            }
        }
    }
    if let Some(pg) = error.try_downcast_ref::<crate::backend::postgres_tokio::ServerError>() {
        for (label, field) in [("DETAIL", pg.detail()), ("HINT", pg.hint())] {
            if let Some(text) = field {
                message.push_str(&format!("\n  {label}: {text}"));
            }
        }
    }
    message
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
