//! [`MongoDatabase`]: one MongoDB database reached from a `mongodb://` URL, with the commands it
//! sent counted (the driver's command monitoring).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::event::command::CommandEvent;
use mongodb::options::ClientOptions;

use super::errors::{located, operation_error};
use crate::error::{Error, Result};

/// How long connecting waits for a server unless the URL says (`serverSelectionTimeoutMS`):
/// the driver's own default is 30 seconds, long for an application that should report a wrong
/// address at start.
pub const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// One MongoDB database: the models' collections in it, read and written with the same models
/// and builder conditions as SQL (see [`crate::mongo`]). Cheap to clone (the driver's client
/// is a pool). Its `Debug` and its errors name the hosts and the database, never the password.
#[derive(Clone)]
pub struct MongoDatabase {
    pub(crate) database: mongodb::Database,
    pub(crate) client: mongodb::Client,
    /// Hosts and database, for messages.
    pub(crate) location: String,
    commands: Arc<CommandCounts>,
    /// Where reads go; `None`: to the primary ([`super::read_routing`]).
    pub(crate) reads: Option<super::read_routing::ReadRouting>,
    /// When this handle or a clone last wrote, for read-your-writes.
    pub(crate) last_write: Arc<Mutex<Option<std::time::Instant>>>,
}

/// Commands sent, by name, from the driver's command-started events.
#[derive(Debug, Default)]
struct CommandCounts(Mutex<HashMap<String, u64>>);

impl CommandCounts {
    fn record(&self, name: &str) {
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(name.to_string()).or_default() += 1;
        }
    }

    fn get(&self, name: &str) -> u64 {
        self.0
            .lock()
            .map(|counts| counts.get(name).copied().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl std::fmt::Debug for MongoDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoDatabase")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// `url` with the password of its user replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, hosts)) => {
            let user = user_info
                .split_once(':')
                .map_or(user_info, |(user, _)| user);
            if user_info.contains(':') {
                format!("{scheme}://{user}:***@{hosts}{tail}")
            } else {
                format!("{scheme}://{user}@{hosts}{tail}")
            }
        }
        None => url.to_string(),
    }
}

/// The password in `url`, to keep it out of driver messages.
fn password_in(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let user_info = authority.rsplit_once('@')?.0;
    let password = user_info.split_once(':')?.1;
    (!password.is_empty()).then_some(password)
}

impl MongoDatabase {
    /// Connects to the database the URL names (`mongodb://user:password@host:27017/blog`) and
    /// checks the server answers (`ping`), so a wrong address fails here rather than at the
    /// first query. Unless the URL sets `serverSelectionTimeoutMS`, the server has
    /// [`DEFAULT_SERVER_SELECTION_TIMEOUT`] to answer.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] (with the password hidden) for a URL the driver does not accept or
    /// that names no database; [`Error::MongoConnect`] with a hint for a server that cannot be
    /// reached or refuses the login.
    pub async fn connect(url: &str) -> Result<Self> {
        let shown = redact_url(url);
        let hide = |message: String| match password_in(url) {
            Some(password) => message.replace(password, "***"),
            None => message,
        };
        let mut options = ClientOptions::parse(url)
            .await
            .map_err(|error| Error::InvalidUrl {
                url: shown.clone(),
                reason: hide(error.kind.to_string()),
            })?;
        let Some(name) = options.default_database.clone() else {
            return Err(Error::InvalidUrl {
                url: shown,
                reason: "the URL names no database: add it after the hosts (mongodb://host:27017/<database>)".into(),
            });
        };
        let hosts = options
            .hosts
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let location = format!("{hosts}/{name}");
        options
            .server_selection_timeout
            .get_or_insert(DEFAULT_SERVER_SELECTION_TIMEOUT);
        options
            .connect_timeout
            .get_or_insert(DEFAULT_SERVER_SELECTION_TIMEOUT);
        options.app_name.get_or_insert_with(|| "foxdb".to_string());
        let commands = Arc::new(CommandCounts::default());
        let counter = Arc::clone(&commands);
        options.command_event_handler = Some(mongodb::event::EventHandler::callback(
            move |event: CommandEvent| {
                if let CommandEvent::Started(started) = event {
                    counter.record(&started.command_name);
                }
            },
        ));
        let client = mongodb::Client::with_options(options).map_err(|error| Error::InvalidUrl {
            url: shown.clone(),
            reason: hide(error.kind.to_string()),
        })?;
        let database = client.database(&name);
        let this = Self {
            database,
            client,
            location,
            commands,
            reads: None,
            last_write: Arc::default(),
        };
        this.database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|error| this.error("ping", "", error))
            .map_err(|error| match error {
                Error::MongoConnect {
                    reason,
                    location,
                    message,
                    hint,
                } => Error::MongoConnect {
                    reason,
                    location,
                    message: hide(message),
                    hint,
                },
                other => other,
            })?;
        Ok(this)
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        self.database.name()
    }

    /// The driver's database, for what foxdb does not wrap (aggregation pipelines, GridFS).
    pub fn driver(&self) -> &mongodb::Database {
        &self.database
    }

    /// How many commands named `name` (`find`, `insert`, `update`, ...) this handle and its
    /// clones have sent since it connected, from the driver's command monitoring: how tests
    /// prove eager loading sends one `find` per relation level.
    pub fn commands_sent(&self, name: &str) -> u64 {
        self.commands.get(name)
    }

    /// Runs a database command and decodes its reply into `T` (any
    /// `serde::de::DeserializeOwned` type: a struct of the fields wanted, extra fields
    /// ignored): `db.run_command::<BuildInfo>(doc! { "buildInfo": 1 })`.
    ///
    /// # Errors
    /// [`Error::Mongo`] with the server's code for a refused command; [`Error::Decode`] for a
    /// reply that does not fit `T`.
    pub async fn run_command<T: serde::de::DeserializeOwned>(
        &self,
        command: Document,
    ) -> Result<T> {
        let name = command.keys().next().cloned().unwrap_or_default();
        let reply = self
            .database
            .run_command(command)
            .await
            .map_err(|error| self.error(&format!("command {name}"), "", error))?;
        mongodb::bson::deserialize_from_document(reply).map_err(|error| Error::Decode {
            column: format!("reply to {name}"),
            message: error.to_string(),
        })
    }

    /// Drops the whole database (every collection in it).
    ///
    /// # Errors
    /// Server errors.
    pub async fn drop_database(&self) -> Result<()> {
        self.database
            .drop()
            .await
            .map_err(|error| self.error("dropping the database", "", error))
    }

    /// A driver error as foxdb's, the connection variant naming this database's hosts.
    pub(crate) fn error(
        &self,
        operation: &str,
        collection: &str,
        error: mongodb::error::Error,
    ) -> Error {
        located(
            operation_error(operation, collection, error),
            &self.location,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{password_in, redact_url};

    #[test]
    fn passwords_never_show() {
        let url = "mongodb://app:s3cr%40t@db1:27017,db2:27017/blog?replicaSet=rs0";
        assert_eq!(
            redact_url(url),
            "mongodb://app:***@db1:27017,db2:27017/blog?replicaSet=rs0"
        );
        assert_eq!(password_in(url), Some("s3cr%40t"));
        assert_eq!(
            redact_url("mongodb://db:27017/blog"),
            "mongodb://db:27017/blog"
        );
        assert_eq!(redact_url("mongodb://app@db/blog"), "mongodb://app@db/blog");
    }
}
