//! The document store: a MongoDB database reached from a `mongodb://` URL, beside the SQL
//! [`crate::Backend`]s rather than one of them (it has no dialect). It runs database commands
//! (`create`, `collMod`, `createIndexes`, a migration's commands) and reads cursors; the schema
//! engine's introspection ([`crate::introspect::mongo`]) is built on it.
//!
//! # Expected flow
//! `DocumentStoreUrl::parse(url)?` → `DocumentStore::connect(&url).await?` (which asks the
//! server `ping`, so an unreachable server fails here, within the URL's
//! `serverSelectionTimeoutMS` or 5 seconds) → `store.run_command(doc).await?`.
//!
//! # Guarantees
//! Neither the URL's `Display`/`Debug` nor any error shows the password.

use std::fmt;
use std::time::Duration;

use mongodb::bson::{Document, doc};
use mongodb::options::ClientOptions;

/// The BSON types commands are written in.
pub use mongodb::bson;

/// How long a connection waits for a server when the URL does not say.
const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed `mongodb://` URL. Its `Display` and `Debug` never show the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DocumentStoreUrl {
    raw: String,
}

impl DocumentStoreUrl {
    /// Whether `raw` names a document store (its scheme is `mongodb` or `mongodb+srv`).
    pub fn is_document_store(raw: &str) -> bool {
        let scheme = raw.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        matches!(scheme.as_deref(), Some("mongodb" | "mongodb+srv"))
    }

    /// Parses `mongodb://[USER[:PASSWORD]@]HOST[:PORT][,HOST...]/DATABASE[?OPTIONS]`.
    ///
    /// # Errors
    /// [`DocumentStoreError::InvalidUrl`] for another scheme, `mongodb+srv://` (this build
    /// resolves no DNS seed lists), or a URL without a database name; the message does not
    /// echo credentials.
    pub fn parse(raw: &str) -> Result<Self, DocumentStoreError> {
        let invalid = |reason: &str| DocumentStoreError::InvalidUrl {
            url: crate::url::redact(raw),
            reason: reason.into(),
        };
        let Some((scheme, rest)) = raw.split_once("://") else {
            return Err(DocumentStoreError::InvalidUrl {
                url: "(not shown)".into(),
                reason: "it does not start with mongodb://".into(),
            });
        };
        match scheme.to_ascii_lowercase().as_str() {
            "mongodb" => {}
            "mongodb+srv" => {
                return Err(invalid(
                    "mongodb+srv:// needs DNS seed-list resolution, which this build leaves out; list the hosts with mongodb://HOST1,HOST2/DATABASE",
                ));
            }
            _ => {
                return Err(DocumentStoreError::InvalidUrl {
                    url: "(not shown)".into(),
                    reason: "it does not start with mongodb://".into(),
                });
            }
        }
        let after = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
        let (hosts, path) = after.split_once('/').unwrap_or((after, ""));
        if hosts.is_empty() {
            return Err(invalid(
                "expected mongodb://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE",
            ));
        }
        let database = path.split('?').next().unwrap_or("");
        if database.is_empty() {
            return Err(invalid(
                "the URL names no database: add /DATABASE after the host (mongodb://HOST:27017/blog)",
            ));
        }
        if database.contains(['/', '\\', '.', ' ', '"', '$']) {
            return Err(invalid(
                "the database name holds one of / \\ . space \" $, which MongoDB refuses",
            ));
        }
        Ok(Self {
            raw: raw.to_string(),
        })
    }

    /// The full URL, credentials included: only for handing to the driver.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The hosts and ports, for messages.
    pub fn location(&self) -> String {
        let rest = self.raw.split_once("://").map_or("", |(_, r)| r);
        let after = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
        after.split(['/', '?']).next().unwrap_or("").to_string()
    }

    /// The database name.
    pub fn database_name(&self) -> String {
        let rest = self.raw.split_once("://").map_or("", |(_, r)| r);
        let after = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
        after
            .split_once('/')
            .map(|(_, path)| path.split('?').next().unwrap_or("").to_string())
            .unwrap_or_default()
    }

    /// Hosts and database, for messages.
    pub fn target(&self) -> String {
        format!("{}/{}", self.location(), self.database_name())
    }

    /// This URL with another database on the same servers (tests make one database each).
    #[must_use]
    pub fn with_database(&self, database: &str) -> Self {
        let (scheme, rest) = self.raw.split_once("://").unwrap_or(("mongodb", ""));
        let at = rest.rfind('@').map_or(0, |at| at + 1);
        let (credentials, after) = rest.split_at(at);
        let (hosts, path) = after.split_once('/').unwrap_or((after, ""));
        let query = path.split_once('?').map(|(_, q)| q);
        let raw = match query {
            Some(query) => format!("{scheme}://{credentials}{hosts}/{database}?{query}"),
            None => format!("{scheme}://{credentials}{hosts}/{database}"),
        };
        Self { raw }
    }

    /// `message` with this URL's password replaced by `***` (driver messages may quote it).
    pub fn hide_password(&self, message: &str) -> String {
        let rest = self.raw.split_once("://").map_or("", |(_, r)| r);
        let password = rest
            .rfind('@')
            .and_then(|at| rest[..at].split_once(':'))
            .map(|(_, p)| p);
        let hidden = crate::url::redact_urls_in(message);
        match password {
            Some(password) if password.chars().count() >= 3 => hidden.replace(password, "***"),
            _ => hidden,
        }
    }
}

impl fmt::Display for DocumentStoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::url::redact(&self.raw))
    }
}

impl fmt::Debug for DocumentStoreUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DocumentStoreUrl({self})")
    }
}

/// Everything that can go wrong with a document store. Messages name the server by host and
/// database, never with credentials.
#[derive(Debug, thiserror::Error)]
pub enum DocumentStoreError {
    /// The URL could not be understood.
    #[error("invalid MongoDB URL {url}: {reason}")]
    InvalidUrl {
        /// The URL with its password hidden.
        url: String,
        /// Why.
        reason: String,
    },
    /// No server answered, or it refused the login.
    #[error("cannot connect to mongodb at {location}: {message}\n  hint: {hint}")]
    Connect {
        /// Hosts and ports.
        location: String,
        /// The driver's message, password hidden.
        message: String,
        /// What to check.
        hint: String,
    },
    /// The server refused or failed a command.
    #[error("mongodb {command} on {target} failed{}: {message}", code_name.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Command {
        /// The command's name (`create`, `collMod`, ...).
        command: String,
        /// Hosts and database.
        target: String,
        /// The server's error code, when it sent one.
        code: Option<i32>,
        /// The server's name for that code.
        code_name: Option<String>,
        /// The server's message, password hidden.
        message: String,
    },
    /// The server answered in a shape FoxDB cannot read.
    #[error("mongodb {command} on {target}: unexpected reply: {reason}")]
    Reply {
        /// The command's name.
        command: String,
        /// Hosts and database.
        target: String,
        /// What was missing or of the wrong type.
        reason: String,
    },
    /// The server does not offer what was asked.
    #[error("{feature} is not supported by the server at {target}: {reason}")]
    Unsupported {
        /// What was asked.
        feature: String,
        /// Hosts and database.
        target: String,
        /// What the server answered.
        reason: String,
    },
}

impl DocumentStoreError {
    /// The server's error code of a failed command.
    pub fn code(&self) -> Option<i32> {
        match self {
            Self::Command { code, .. } => *code,
            _ => None,
        }
    }
}

/// A connection to one MongoDB database.
#[derive(Clone)]
pub struct DocumentStore {
    client: mongodb::Client,
    database: mongodb::Database,
    url: DocumentStoreUrl,
    connections: std::sync::Arc<ConnectionCounts>,
}

/// How [`DocumentStore::connect_with`] connects, beyond what the URL says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocumentStoreOptions {
    /// Most connections per server (`maxPoolSize`); the driver's default when `None`.
    pub max_connections: Option<u32>,
    /// Connections kept open per server (`minPoolSize`).
    pub min_connections: Option<u32>,
    /// How long an unused connection stays open (`maxIdleTimeMS`).
    pub idle_timeout: Option<Duration>,
    /// How long an operation waits for a suitable server (`serverSelectionTimeoutMS`); 5 s
    /// when neither this nor the URL says.
    pub server_selection_timeout: Option<Duration>,
    /// Talk to the one server the URL names, whatever replica set it belongs to (the
    /// driver's `directConnection=true`), unless the URL says otherwise or names several
    /// hosts: how a health check asks one member about itself instead of being routed to the
    /// primary.
    pub direct_to_single_host: bool,
}

/// Connections of the driver's pools, counted from its connection-pool events.
#[derive(Debug, Default)]
struct ConnectionCounts {
    open: std::sync::atomic::AtomicU32,
    checked_out: std::sync::atomic::AtomicU32,
}

impl ConnectionCounts {
    fn record(&self, event: &mongodb::event::cmap::CmapEvent) {
        use mongodb::event::cmap::CmapEvent;
        use std::sync::atomic::Ordering::Relaxed;
        let change = |counter: &std::sync::atomic::AtomicU32, up: bool| {
            let _ = counter.fetch_update(Relaxed, Relaxed, |n| {
                Some(if up {
                    n.saturating_add(1)
                } else {
                    n.saturating_sub(1)
                })
            });
        };
        match event {
            CmapEvent::ConnectionCreated(_) => change(&self.open, true),
            CmapEvent::ConnectionClosed(_) => change(&self.open, false),
            CmapEvent::ConnectionCheckedOut(_) => change(&self.checked_out, true),
            CmapEvent::ConnectionCheckedIn(_) => change(&self.checked_out, false),
            _ => {}
        }
    }
}

/// Connections of a [`DocumentStore`]'s pools (over all the servers it talks to).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DocumentStorePoolState {
    /// Connections open (idle or in use).
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
}

impl fmt::Debug for DocumentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DocumentStore")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl DocumentStore {
    /// Connects to the database of `url` and checks that a server answers (`ping`).
    ///
    /// # Errors
    /// [`DocumentStoreError::Connect`] when no server answers within the URL's
    /// `serverSelectionTimeoutMS` (5 s unless given) or the login is refused.
    pub async fn connect(url: &DocumentStoreUrl) -> Result<Self, DocumentStoreError> {
        Self::connect_with(url, &DocumentStoreOptions::default()).await
    }

    /// [`Self::connect`] with pool limits and, for health checks, a direct connection (see
    /// [`DocumentStoreOptions`]).
    ///
    /// # Errors
    /// As [`Self::connect`].
    pub async fn connect_with(
        url: &DocumentStoreUrl,
        settings: &DocumentStoreOptions,
    ) -> Result<Self, DocumentStoreError> {
        let connect_error = |error: mongodb::error::Error| {
            DocumentStoreError::Connect {
            location: url.location(),
            message: url.hide_password(&error.to_string()),
            hint: "is a MongoDB server listening there, and are the user and password right? (`bash e2e/services.sh` starts nx-27017 on 127.0.0.1:27017)".into(),
        }
        };
        let mut options = ClientOptions::parse(url.expose()).await.map_err(|e| {
            DocumentStoreError::InvalidUrl {
                url: url.to_string(),
                reason: url.hide_password(&e.to_string()),
            }
        })?;
        if !url.raw.contains("serverSelectionTimeoutMS") {
            options.server_selection_timeout = Some(
                settings
                    .server_selection_timeout
                    .unwrap_or(DEFAULT_SERVER_SELECTION_TIMEOUT),
            );
        }
        if options.app_name.is_none() {
            options.app_name = Some("foxdb".into());
        }
        if settings.direct_to_single_host
            && options.direct_connection.is_none()
            && options.hosts.len() == 1
        {
            options.direct_connection = Some(true);
        }
        if let Some(max) = settings.max_connections {
            options.max_pool_size = Some(max.max(1));
        }
        if let Some(min) = settings.min_connections {
            options.min_pool_size = Some(min);
        }
        if let Some(idle) = settings.idle_timeout {
            options.max_idle_time = Some(idle);
        }
        let connections = std::sync::Arc::new(ConnectionCounts::default());
        let counter = std::sync::Arc::clone(&connections);
        options.cmap_event_handler = Some(mongodb::event::EventHandler::callback(
            move |event: mongodb::event::cmap::CmapEvent| counter.record(&event),
        ));
        let client = mongodb::Client::with_options(options).map_err(connect_error)?;
        let database = client.database(&url.database_name());
        database
            .run_command(doc! {"ping": 1})
            .await
            .map_err(connect_error)?;
        Ok(Self {
            client,
            database,
            url: url.clone(),
            connections,
        })
    }

    /// Connections open and idle now, from the driver's connection-pool events.
    pub fn pool_state(&self) -> DocumentStorePoolState {
        use std::sync::atomic::Ordering::Relaxed;
        let open = self.connections.open.load(Relaxed);
        DocumentStorePoolState {
            open,
            idle: open.saturating_sub(self.connections.checked_out.load(Relaxed)),
        }
    }

    /// Closes the driver's pools; clones of this store fail afterwards.
    pub async fn close(&self) {
        self.client.clone().shutdown().immediate(true).await;
    }

    /// What the server this store talks to is: a standalone server or a replica set member,
    /// with the set as it sees it (`replSetGetStatus` on `admin`; see
    /// [`crate::replication::mongodb`]).
    ///
    /// # Errors
    /// [`DocumentStoreError::Command`] when the server refuses (a replica set not initiated
    /// yet: code 94), [`DocumentStoreError::Reply`] for a reply of another shape.
    pub async fn server_topology(
        &self,
    ) -> Result<crate::replication::mongodb::ServerTopology, DocumentStoreError> {
        use crate::replication::mongodb::{
            NO_REPLICATION_ENABLED, ServerTopology, parse_replica_set_status,
        };
        let command = "replSetGetStatus";
        match self
            .client
            .database("admin")
            .run_command(doc! { "replSetGetStatus": 1 })
            .await
        {
            Ok(reply) => {
                parse_replica_set_status(&reply).map_err(|reason| DocumentStoreError::Reply {
                    command: command.into(),
                    target: self.url.target(),
                    reason,
                })
            }
            Err(error) => match self.command_error(command, &error) {
                refused if refused.code() == Some(NO_REPLICATION_ENABLED) => {
                    Ok(ServerTopology::Standalone)
                }
                other => Err(other),
            },
        }
    }

    /// The URL this store was opened with.
    pub fn url(&self) -> &DocumentStoreUrl {
        &self.url
    }

    /// The driver's handle on the database, for what [`Self::run_command`] does not cover.
    pub fn database(&self) -> &mongodb::Database {
        &self.database
    }

    /// The driver's handle on the database `name` of the same servers (`admin` for server
    /// commands).
    pub fn sibling_database(&self, name: &str) -> mongodb::Database {
        self.client.database(name)
    }

    /// Runs a database command and returns the server's reply.
    ///
    /// # Errors
    /// [`DocumentStoreError::Command`] with the server's code and message, also for a write
    /// command whose reply lists `writeErrors` (the first one's code and message).
    pub async fn run_command(&self, command: Document) -> Result<Document, DocumentStoreError> {
        let name = command_name(&command);
        let reply = self
            .database
            .run_command(command)
            .await
            .map_err(|e| self.command_error(&name, &e))?;
        // Write commands report failed documents in `writeErrors` of an `ok: 1` reply.
        let first_write_error = reply
            .get_array("writeErrors")
            .ok()
            .and_then(|errors| errors.first())
            .and_then(|error| error.as_document());
        if let Some(error) = first_write_error {
            return Err(DocumentStoreError::Command {
                command: name,
                target: self.url.target(),
                code: error.get_i32("code").ok(),
                code_name: error.get_str("codeName").ok().map(str::to_string),
                message: self.url.hide_password(
                    error
                        .get_str("errmsg")
                        .unwrap_or("a document was not written"),
                ),
            });
        }
        Ok(reply)
    }

    /// Runs a command that answers with a cursor (`listCollections`, `listIndexes`, `find`) and
    /// reads every document of it.
    ///
    /// # Errors
    /// [`DocumentStoreError::Command`] with the server's code and message.
    pub async fn run_cursor_command(
        &self,
        command: Document,
    ) -> Result<Vec<Document>, DocumentStoreError> {
        let name = command_name(&command);
        let mut cursor = self
            .database
            .run_cursor_command(command)
            .await
            .map_err(|e| self.command_error(&name, &e))?;
        let mut documents = Vec::new();
        while cursor
            .advance()
            .await
            .map_err(|e| self.command_error(&name, &e))?
        {
            documents.push(
                cursor
                    .deserialize_current()
                    .map_err(|e| self.command_error(&name, &e))?,
            );
        }
        Ok(documents)
    }

    /// Drops the whole database (tests clean up with it).
    ///
    /// # Errors
    /// [`DocumentStoreError::Command`].
    pub async fn drop_database(&self) -> Result<(), DocumentStoreError> {
        self.database
            .drop()
            .await
            .map_err(|e| self.command_error("dropDatabase", &e))
    }

    /// The error for `command` failing with the driver's `error`.
    pub fn command_error(
        &self,
        command: &str,
        error: &mongodb::error::Error,
    ) -> DocumentStoreError {
        let (code, code_name, message) = match error.kind.as_ref() {
            mongodb::error::ErrorKind::Command(failure) => (
                Some(failure.code),
                Some(failure.code_name.clone()).filter(|c| !c.is_empty()),
                failure.message.clone(),
            ),
            _ => (None, None, error.to_string()),
        };
        DocumentStoreError::Command {
            command: command.to_string(),
            target: self.url.target(),
            code,
            code_name,
            message: self.url.hide_password(&message),
        }
    }
}

/// A command's name: its first key.
fn command_name(command: &Document) -> String {
    command.keys().next().cloned().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_print_without_their_password() {
        let url = DocumentStoreUrl::parse("mongodb://fox:s3cret-pw@db:27017/blog?authSource=admin")
            .expect("parses");
        assert_eq!(
            url.to_string(),
            "mongodb://fox:***@db:27017/blog?authSource=admin"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(url.location(), "db:27017");
        assert_eq!(url.database_name(), "blog");
        assert_eq!(
            url.hide_password("auth failed for fox with s3cret-pw"),
            "auth failed for fox with ***"
        );
        assert_eq!(
            url.with_database("other").expose(),
            "mongodb://fox:s3cret-pw@db:27017/other?authSource=admin"
        );
    }

    #[test]
    fn urls_without_a_database_or_of_another_scheme_are_refused_without_echoing_them() {
        let error = DocumentStoreUrl::parse("mongodb://fox:s3cret@db:27017").expect_err("no db");
        assert!(error.to_string().contains("names no database"), "{error}");
        assert!(!error.to_string().contains("s3cret"));
        let error = DocumentStoreUrl::parse("postgres://a:b@c/d").expect_err("scheme");
        assert!(error.to_string().contains("mongodb://"));
        assert!(DocumentStoreUrl::is_document_store("MONGODB://h/d"));
        assert!(!DocumentStoreUrl::is_document_store("sqlite://x"));
    }
}
