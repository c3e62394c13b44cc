//! The operator's connection to one FoxReplicaSet member: a SQL pool ([`foxdb::Database`]) or,
//! for MongoDB, a document store ([`DocumentStore`]). This is the one place that tells the two
//! apart; health checks, metrics and pool bookkeeping go through it.
//!
//! # Expected flow
//! The controller reads a member's Secret into a [`MemberTarget`] (the engine decides which
//! kind), compares [`MemberTarget::fingerprint`] with the pool it has, and
//! [`MemberTarget::connect`]s when it changed.
//!
//! # Guarantees
//! Neither type shows a password in `Debug`; [`MemberTarget::fingerprint`] is a digest.

use std::time::Duration;

use fox_crds::replica_set::PoolSpec;
use foxdb::document_store::{DocumentStore, DocumentStoreOptions, DocumentStoreUrl};
use foxdb::{Database, DatabaseUrl, PoolOptions, TlsOptions};
use sha2::{Digest, Sha256};

/// Where a member is, as its Secret says.
#[derive(Clone, Debug)]
pub enum MemberTarget {
    /// A SQL server: its URL and the TLS material beside it in the Secret.
    Sql {
        /// The connection URL.
        url: DatabaseUrl,
        /// `ca.crt` / `tls.crt` / `tls.key` of the Secret.
        tls: TlsOptions,
    },
    /// A MongoDB server (TLS options go in the `mongodb://` URL).
    Document(DocumentStoreUrl),
}

/// An open connection pool to one member.
#[derive(Clone, Debug)]
pub enum MemberConnection {
    /// A SQL pool.
    Sql(Database),
    /// A MongoDB client talking to that member directly (a URL naming one host gets
    /// `directConnection`, so `replSetGetStatus` is answered by that member, not routed to
    /// the primary).
    Document(DocumentStore),
}

/// Connections of a member's pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberPoolState {
    /// Open (idle or in use).
    pub open: u32,
    /// Open and unused.
    pub idle: u32,
}

impl MemberTarget {
    /// Hosts and ports (and database), for messages.
    pub fn location(&self) -> String {
        match self {
            Self::Sql { url, .. } => url.location(),
            Self::Document(url) => url.target(),
        }
    }

    /// A digest of the URL, the TLS material and the pool settings: a different one means the
    /// pool must be rebuilt.
    pub fn fingerprint(&self, pool: &PoolSpec) -> String {
        let mut hasher = Sha256::new();
        let settings = format!(
            "{}/{}/{}/{}",
            pool.max_connections,
            pool.min_connections,
            pool.idle_timeout_seconds,
            pool.acquire_timeout_seconds
        );
        match self {
            Self::Sql { url, tls } => {
                hasher.update(format!("{}\n{settings}", url.expose()).as_bytes());
                // A changed certificate rebuilds the pool, like a changed URL.
                for pem in [&tls.ca_pem, &tls.client_cert_pem, &tls.client_key_pem] {
                    let pem = pem.as_deref().unwrap_or_default();
                    hasher.update((pem.len() as u64).to_le_bytes());
                    hasher.update(pem);
                }
            }
            Self::Document(url) => {
                hasher.update(format!("{}\n{settings}", url.expose()).as_bytes());
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Opens a pool to the member with the FoxReplicaSet's pool settings.
    ///
    /// # Errors
    /// The connection failure, as one line without credentials.
    pub async fn connect(&self, pool: &PoolSpec) -> Result<MemberConnection, String> {
        let acquire_timeout = Duration::from_secs(u64::from(pool.acquire_timeout_seconds));
        let idle_timeout = Duration::from_secs(u64::from(pool.idle_timeout_seconds));
        match self {
            Self::Sql { url, tls } => {
                let options = PoolOptions {
                    max_connections: pool.max_connections,
                    min_connections: pool.min_connections,
                    acquire_timeout,
                    idle_timeout,
                    slow_query_threshold: None,
                    tls: tls.clone(),
                    ..PoolOptions::default()
                };
                Database::connect_with(url.expose(), &options)
                    .await
                    .map(MemberConnection::Sql)
                    .map_err(|error| {
                        super::health::MemberProbe::unreachable(&error)
                            .message
                            .unwrap_or_default()
                    })
            }
            Self::Document(url) => {
                let options = DocumentStoreOptions {
                    max_connections: Some(pool.max_connections),
                    min_connections: Some(pool.min_connections),
                    idle_timeout: (pool.idle_timeout_seconds > 0).then_some(idle_timeout),
                    server_selection_timeout: Some(acquire_timeout),
                    direct_to_single_host: true,
                };
                DocumentStore::connect_with(url, &options)
                    .await
                    .map(MemberConnection::Document)
                    .map_err(|error| one_line(&error.to_string()))
            }
        }
    }
}

impl MemberConnection {
    /// The SQL pool, for what only SQL engines do (the cache invalidator's change log,
    /// distributed transaction recovery); `None` for MongoDB.
    pub fn sql(&self) -> Option<&Database> {
        match self {
            Self::Sql(database) => Some(database),
            Self::Document(_) => None,
        }
    }

    /// Connections open and idle now.
    pub fn pool_state(&self) -> MemberPoolState {
        match self {
            Self::Sql(database) => {
                let state = database.pool_state();
                MemberPoolState {
                    open: state.open,
                    idle: state.idle,
                }
            }
            Self::Document(store) => {
                let state = store.pool_state();
                MemberPoolState {
                    open: state.open,
                    idle: state.idle,
                }
            }
        }
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match self {
            Self::Sql(database) => database.close().await,
            Self::Document(store) => store.close().await,
        }
    }
}

/// A multi-line driver message as one line, URLs in it redacted.
pub(super) fn one_line(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    foxdb::url::redact_urls_in(&lines.join("; "))
}
