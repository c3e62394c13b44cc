//! Why a connection could not be opened, said the same way by the pool ([`crate::Database`]) and
//! the single connection ([`crate::Connection`]): the cause the driver saw (connection refused,
//! a refused password, a missing database), a hint that fits it, and never the password.

use std::time::Duration;

use crate::dialect::{ServerErrorKind, dialect_for};
use crate::error::{ConnectFailure, Error};
use crate::url::DatabaseUrl;

/// Where the URL came from, for the hints that tell what to fix.
#[derive(Clone, Copy, Debug)]
pub(crate) enum UrlSource {
    /// An application's own configuration.
    Application,
    /// The operator's CLI or a FoxReplicaSet's Secret.
    Operator,
}

impl UrlSource {
    fn suffix(self) -> &'static str {
        match self {
            Self::Application => "",
            Self::Operator => " (--database, FOX_DATABASE_URL or the FoxReplicaSet's Secret)",
        }
    }
}

/// The error for a driver's failure to connect.
pub(crate) fn connect_error(url: &DatabaseUrl, source: UrlSource, error: &sqlx::Error) -> Error {
    let backend = url.backend();
    let (reason, message) = match error {
        sqlx::Error::Database(database) => {
            let server = crate::backend::server_error(database.as_ref());
            let reason = match dialect_for(backend).classify_server_error(&server.as_ref()) {
                ServerErrorKind::AuthenticationFailed => ConnectFailure::Authentication,
                ServerErrorKind::UnknownDatabase => ConnectFailure::UnknownDatabase,
                _ => ConnectFailure::Other,
            };
            (reason, database.message().to_string())
        }
        sqlx::Error::Io(io) => (
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => ConnectFailure::Refused,
                _ => ConnectFailure::Unreachable,
            },
            // "connection refused", not the OS's "Connection refused (os error 111)" alone:
            // the words users search for come first.
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => format!("connection refused ({io})"),
                _ => io.to_string(),
            },
        ),
        sqlx::Error::Tls(tls) => (ConnectFailure::Tls, format!("TLS: {tls}")),
        other => (ConnectFailure::Other, other.to_string()),
    };
    failure(url, source, reason, &message)
}

/// The error for a server that did not answer within `after`.
pub(crate) fn timed_out(url: &DatabaseUrl, source: UrlSource, after: Duration) -> Error {
    failure(
        url,
        source,
        ConnectFailure::Unreachable,
        &format!("no answer within {} s", after.as_secs_f32()),
    )
}

fn failure(url: &DatabaseUrl, source: UrlSource, reason: ConnectFailure, message: &str) -> Error {
    let backend = url.backend();
    let suffix = source.suffix();
    let hint = if backend.is_embedded() {
        "check that the directory exists and is writable".to_string()
    } else {
        match reason {
            ConnectFailure::Refused => format!(
                "is the server running and reachable at {}? nothing accepts connections there; check the host and port in the URL{suffix}",
                url.location()
            ),
            ConnectFailure::Unreachable => format!(
                "is the server running and reachable at {}? check the host name, the network and firewalls, and the URL{suffix}",
                url.location()
            ),
            ConnectFailure::Authentication => {
                format!("check the user and password in the URL{suffix}")
            }
            ConnectFailure::UnknownDatabase => format!(
                "the server has no database `{}`: create it first, or fix its name in the URL{suffix}",
                url.database_name()
            ),
            ConnectFailure::Tls => format!(
                "give the server's CA (sslrootcert= / ssl-ca= or TlsOptions::ca_pem), or name the TLS mode you accept in the URL{suffix}"
            ),
            ConnectFailure::Other => format!(
                "is the server running and reachable at {}? check the URL{suffix}",
                url.location()
            ),
        }
    };
    Error::Connect {
        backend,
        reason,
        location: url.target(),
        message: url.hide_password(message),
        hint,
    }
}
