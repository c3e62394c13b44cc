//! The driver's errors as [`crate::Error`]s: a duplicate key, an unreachable server, a
//! deployment without transactions each get the variant that names them.

use mongodb::error::{ErrorKind, WriteFailure};

use crate::error::{ConnectFailure, Error};

/// MongoDB's code for a duplicate key in a unique index.
const DUPLICATE_KEY: i32 = 11000;

/// The index a duplicate-key message names (`... index: email_1 dup key: ...`).
fn index_named(message: &str) -> Option<String> {
    let after = message.split("index: ").nth(1)?;
    let name = after.split_whitespace().next()?;
    Some(name.to_string())
}

fn duplicate_key(collection: &str, message: String) -> Error {
    Error::MongoDuplicateKey {
        collection: collection.to_string(),
        index: index_named(&message),
        message,
    }
}

/// The server's code and message behind a driver error, when the server answered.
fn server_code(error: &mongodb::error::Error) -> Option<(i32, String)> {
    match error.kind.as_ref() {
        ErrorKind::Command(command) => Some((command.code, command.message.clone())),
        ErrorKind::Write(WriteFailure::WriteError(write)) => {
            Some((write.code, write.message.clone()))
        }
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => {
            Some((concern.code, concern.message.clone()))
        }
        ErrorKind::InsertMany(insert) => insert
            .write_errors
            .as_ref()
            .and_then(|errors| errors.first())
            .map(|e| (e.code, e.message.clone())),
        _ => None,
    }
}

/// Wraps a driver error raised by `operation` on `collection` (`""` for a database command).
pub(crate) fn operation_error(
    operation: &str,
    collection: &str,
    error: mongodb::error::Error,
) -> Error {
    if let Some(failure) = connection_failure(&error) {
        return failure;
    }
    match server_code(&error) {
        Some((DUPLICATE_KEY, message)) => duplicate_key(collection, message),
        Some((code, message)) => Error::Mongo {
            operation: operation.to_string(),
            code: Some(code),
            message,
        },
        None => Error::Mongo {
            operation: operation.to_string(),
            code: None,
            message: error.kind.to_string(),
        },
    }
}

/// Where the driver could not reach or log in to the server: the connection error with a hint.
fn connection_failure(error: &mongodb::error::Error) -> Option<Error> {
    let (reason, message, hint) = match error.kind.as_ref() {
        ErrorKind::ServerSelection { message, .. } => {
            let refused = message.contains("refused");
            (
                if refused {
                    ConnectFailure::Refused
                } else {
                    ConnectFailure::Unreachable
                },
                message.clone(),
                if refused {
                    "nothing listens at that host and port: is mongod (or the wire server) running there?"
                } else {
                    "no server answered in time: check the host, the port, the firewall and the replicaSet option; raise serverSelectionTimeoutMS in the URL for a slow network"
                },
            )
        }
        ErrorKind::Authentication { message, .. } => (
            ConnectFailure::Authentication,
            message.clone(),
            "check the user and password in the URL and the authSource option",
        ),
        ErrorKind::InvalidTlsConfig { message, .. } => (
            ConnectFailure::Tls,
            message.clone(),
            "check tls=true and the CA file options in the URL",
        ),
        ErrorKind::DnsResolve { message, .. } => (
            ConnectFailure::Unreachable,
            message.clone(),
            "the host name could not be resolved",
        ),
        _ => return None,
    };
    Some(Error::MongoConnect {
        reason,
        location: String::new(),
        message,
        hint: hint.to_string(),
    })
}

/// [`operation_error`] with the connection variant's location filled in.
pub(crate) fn located(error: Error, location: &str) -> Error {
    match error {
        Error::MongoConnect {
            reason,
            message,
            hint,
            ..
        } => Error::MongoConnect {
            reason,
            location: location.to_string(),
            message,
            hint,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::index_named;

    #[test]
    fn the_index_is_read_out_of_a_duplicate_key_message() {
        assert_eq!(
            index_named("E11000 duplicate key error collection: t.users index: email_1 dup key: { email: \"a\" }").as_deref(),
            Some("email_1")
        );
        assert_eq!(index_named("duplicate key"), None);
    }
}
