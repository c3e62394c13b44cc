//! tokio-postgres's errors in the driver error type the rest of foxdb reads (`sqlx::Error`), so a
//! unique violation, a refused password or a broken connection is classified, worded and
//! retried the same whichever PostgreSQL driver ran the statement.

use std::borrow::Cow;

use tokio_postgres::error::DbError;

/// A PostgreSQL server error reported through tokio-postgres.
#[derive(Debug)]
pub(crate) struct ServerError(Box<DbError>);

impl ServerError {
    /// The server's DETAIL field.
    pub(crate) fn detail(&self) -> Option<&str> {
        self.0.detail()
    }

    /// The server's HINT field.
    pub(crate) fn hint(&self) -> Option<&str> {
        self.0.hint()
    }

    /// The column the error is about.
    pub(crate) fn column(&self) -> Option<&str> {
        self.0.column()
    }
}

impl std::fmt::Display for ServerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.message())
    }
}

impl std::error::Error for ServerError {}

impl sqlx::error::DatabaseError for ServerError {
    fn message(&self) -> &str {
        self.0.message()
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.0.code().code()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn constraint(&self) -> Option<&str> {
        self.0.constraint()
    }

    fn table(&self) -> Option<&str> {
        self.0.table()
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use sqlx::error::ErrorKind;
        match self.0.code().code() {
            "23505" => ErrorKind::UniqueViolation,
            "23503" => ErrorKind::ForeignKeyViolation,
            "23502" => ErrorKind::NotNullViolation,
            "23514" => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

/// tokio-postgres's error as foxdb's driver error: server errors keep their code, constraint,
/// table, column, detail and hint; a connection that broke or could not be opened is an I/O
/// error (with its kind, so "connection refused" reads as such); TLS failures are TLS errors.
pub(crate) fn driver_error(error: tokio_postgres::Error) -> sqlx::Error {
    if error.as_db_error().is_some() {
        return match error
            .into_source()
            .map(|source| source.downcast::<DbError>())
        {
            Some(Ok(server)) => sqlx::Error::Database(Box::new(ServerError(server))),
            Some(Err(other)) => sqlx::Error::Protocol(other.to_string()),
            None => sqlx::Error::Protocol("server error without details".into()),
        };
    }
    if error.is_closed() {
        return sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "the connection to the server was closed",
        ));
    }
    let message = error.to_string();
    let tls = message.starts_with("error performing TLS handshake");
    match error.into_source() {
        Some(source) if tls => sqlx::Error::Tls(source),
        Some(source) => match source.downcast::<std::io::Error>() {
            // A certificate the client refused surfaces as an I/O error around rustls's.
            Ok(io)
                if io
                    .get_ref()
                    .is_some_and(|inner| inner.is::<rustls::Error>()) =>
            {
                sqlx::Error::Tls(io)
            }
            Ok(io) => sqlx::Error::Io(*io),
            Err(source) => sqlx::Error::Protocol(format!("{message}: {source}")),
        },
        None if tls => sqlx::Error::Tls(message.into()),
        None => sqlx::Error::Protocol(message),
    }
}
