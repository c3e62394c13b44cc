//! The Redis query cache: `.cache(ttl)` on a read keeps its result in Redis, and a write
//! makes it stale at once.
//!
//! # How a result is found
//! The key is a SHA-256 over the engine, the database name, the statement (or the whole
//! query with its relations), its parameters, and the **version of every table it reads**.
//! Versions live in Redis (`<prefix>fox:v:<engine>:<database>:<table>`, plus one for the
//! whole database); a write through foxdb bumps the versions of the tables it wrote after it
//! commits (a statement on the pool at once, a transaction at commit), so the next read
//! computes another key and goes to the database. Writes made by other programs bump them
//! through a [`CacheInvalidator`] fed by the change log. Values are MessagePack
//! (`rmp-serde`) of the result type, which must be `serde::Serialize` and `Deserialize`.
//!
//! # Guarantees
//! - Never an error: Redis down, slow (past [`QueryCache::with_timeout`], 100 ms by
//!   default) or returning something undecodable sends the query to the database, with a
//!   warning and `foxdb_cache_errors_total`. After a failure Redis is left alone for a second.
//! - Not stale after a write through this process: a version bump that fails (Redis down) is
//!   kept and retried; until it succeeds no cached result of that database is served.
//! - Single flight: concurrent misses of one key in this process run the query once; the
//!   others wait and read its result.
//! - The optional in-process tier ([`QueryCache::with_local_tier`]) is keyed the same way
//!   and checked only after the versions were read from Redis: as fresh as Redis.
//! - Misses read from the primary when the database has replicas: a result cached under the
//!   new versions is never one a lagging replica returned.
//!
//! # Expected flow
//! ```no_run
//! # async fn demo(db: foxdb::Database) -> foxdb::Result<()> {
//! # #[derive(Clone, Debug, serde::Serialize, serde::Deserialize, foxdb::Model)]
//! # #[foxdb(table = "users")] struct User { #[foxdb(primary_key)] id: i64 }
//! use std::time::Duration;
//! use foxdb::{ModelExt, cache::QueryCache};
//!
//! let db = db.with_cache(QueryCache::new("redis://127.0.0.1:6379/", "blog:")?);
//! let users = User::find().cache(Duration::from_secs(300)).all(&db).await?;
//! # Ok(()) }
//! ```

mod invalidator;
mod metrics;
mod query;
pub mod tables;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

pub use invalidator::{CacheInvalidator, Change, ChangeFeed, RETRY_INTERVAL};
pub use metrics::CacheMetrics;
pub use query::Cached;

use crate::error::{Error, Result};

/// The version key naming the whole database (bumped by writes whose tables are unknown).
const WHOLE_DATABASE: &str = "*";
/// How long Redis is left alone after it failed.
const BACKOFF: Duration = Duration::from_secs(1);
/// The lifetime of results cached without one of their own, unless set
/// ([`QueryCache::with_default_ttl`]); a FoxReplicaSet's `cache.defaultTtlSeconds` default.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60);

/// Where a [`QueryCache`]'s Redis listens, without credentials: what the operator publishes
/// in the `<name>-routing` ConfigMap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisEndpoint {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Redis database number.
    pub database: i64,
    /// Whether the connection uses TLS (`rediss://`).
    pub tls: bool,
}

impl RedisEndpoint {
    /// The URL of this endpoint without credentials (for a Redis that needs none).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{host}:{}/{}", self.port, self.database)
    }
}

/// A Redis query cache, shared by clones. Connects lazily: Redis being down when the program
/// starts is no error.
#[derive(Clone)]
pub struct QueryCache {
    inner: Arc<Inner>,
}

struct Inner {
    client: redis::Client,
    prefix: String,
    timeout: Duration,
    connection: tokio::sync::Mutex<Option<redis::aio::ConnectionManager>>,
    /// Until when Redis is skipped after a failure.
    resting_until: Mutex<Option<Instant>>,
    /// Version bumps that failed: `(database identity, table)`, retried before any hit.
    pending: Mutex<HashSet<(String, String)>>,
    flights: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The last Redis failure, for [`QueryCache::ping`] (never holds the URL).
    last_error: Mutex<Option<String>>,
    /// The lifetime of results cached without one of their own (`.cached()`).
    default_ttl: Duration,
    /// The optional in-process tier: encoded values by key, with their expiry.
    local: Option<Mutex<LocalTier>>,
    metrics: CacheMetrics,
}

/// Values kept in this process, in front of Redis. Keys carry the table versions, which are
/// still read from Redis on every read, so a local value is as fresh as a Redis one.
#[derive(Debug, Default)]
struct LocalTier {
    capacity: usize,
    entries: HashMap<String, (Instant, Arc<Vec<u8>>)>,
}

impl LocalTier {
    fn get(&mut self, key: &str) -> Option<Arc<Vec<u8>>> {
        match self.entries.get(key) {
            Some((expires, bytes)) if *expires > Instant::now() => Some(bytes.clone()),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&mut self, key: String, bytes: Arc<Vec<u8>>, ttl: Duration) {
        if self.capacity == 0 {
            return;
        }
        if self.entries.len() >= self.capacity {
            let now = Instant::now();
            self.entries.retain(|_, (expires, _)| *expires > now);
        }
        if self.entries.len() >= self.capacity
            && let Some(evicted) = self.entries.keys().next().cloned()
        {
            self.entries.remove(&evicted);
        }
        self.entries.insert(key, (Instant::now() + ttl, bytes));
    }
}

impl std::fmt::Debug for QueryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The Redis URL may hold a password: never printed.
        f.debug_struct("QueryCache")
            .field("prefix", &self.inner.prefix)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl QueryCache {
    /// A cache in the Redis at `url` (`redis://[:password@]host:port/db`), its keys starting
    /// with `prefix` (a FoxReplicaSet's `cache.keyPrefix`; several databases can share one
    /// Redis). Nothing is connected yet.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when `url` is not a Redis URL (the message hides its password).
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self> {
        let client = redis::Client::open(url).map_err(|error| Error::InvalidUrl {
            url: crate::url::redact(url),
            reason: format!("not a Redis URL ({:?})", error.kind()),
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                prefix: prefix.into(),
                timeout: Duration::from_millis(100),
                connection: tokio::sync::Mutex::new(None),
                resting_until: Mutex::new(None),
                pending: Mutex::default(),
                flights: Mutex::default(),
                last_error: Mutex::default(),
                default_ttl: DEFAULT_TTL,
                local: None,
                metrics: CacheMetrics::new(),
            }),
        })
    }

    /// How long one Redis command may take before the query goes to the database instead
    /// (default 100 ms). Call before sharing the cache.
    #[must_use]
    pub fn with_timeout(self, timeout: Duration) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.timeout = timeout;
                Self {
                    inner: Arc::new(inner),
                }
            }
            Err(inner) => Self { inner },
        }
    }

    /// Keeps up to `entries` results in this process too (in front of Redis): a hit then
    /// costs one Redis round trip (the table versions) instead of two, and no transfer of the
    /// value. Call before sharing the cache.
    #[must_use]
    pub fn with_local_tier(self, entries: usize) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.local = Some(Mutex::new(LocalTier {
                    capacity: entries,
                    entries: HashMap::new(),
                }));
                Self {
                    inner: Arc::new(inner),
                }
            }
            Err(inner) => Self { inner },
        }
    }

    /// The lifetime of results cached with `.cached()` (no lifetime of their own): `ttl`
    /// instead of [`DEFAULT_TTL`]. [`crate::Database::from_routing`] sets the FoxReplicaSet's
    /// `cache.defaultTtlSeconds`. Call before sharing the cache.
    #[must_use]
    pub fn with_default_ttl(self, ttl: Duration) -> Self {
        match Arc::try_unwrap(self.inner) {
            Ok(mut inner) => {
                inner.default_ttl = ttl;
                Self {
                    inner: Arc::new(inner),
                }
            }
            Err(inner) => Self { inner },
        }
    }

    /// The lifetime of results cached with `.cached()`.
    pub fn default_ttl(&self) -> Duration {
        self.inner.default_ttl
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }

    /// Where Redis listens, without credentials; `None` for a Unix socket.
    pub fn endpoint(&self) -> Option<RedisEndpoint> {
        let info = self.inner.client.get_connection_info();
        let database = info.redis_settings().db();
        match info.addr() {
            redis::ConnectionAddr::Tcp(host, port) => Some(RedisEndpoint {
                host: host.clone(),
                port: *port,
                database,
                tls: false,
            }),
            redis::ConnectionAddr::TcpTls { host, port, .. } => Some(RedisEndpoint {
                host: host.clone(),
                port: *port,
                database,
                tls: true,
            }),
            _ => None,
        }
    }

    /// `host:port` (or the socket path) of Redis, for messages: never credentials.
    pub fn server(&self) -> String {
        self.inner.client.get_connection_info().addr().to_string()
    }

    /// Asks Redis whether it answers (within the timeout).
    ///
    /// # Errors
    /// Why it does not: the Redis error or `timed out` (never the URL).
    pub async fn ping(&self) -> std::result::Result<(), String> {
        let answered = self
            .command("ping", |mut connection| async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut connection)
                    .await
            })
            .await;
        match answered {
            Some(_) => Ok(()),
            None => Err(self
                .inner
                .last_error
                .lock()
                .ok()
                .and_then(|e| e.clone())
                .unwrap_or_else(|| "Redis failed less than a second ago".into())),
        }
    }

    /// Version bumps that failed and wait to be sent again.
    pub fn pending_bumps(&self) -> usize {
        self.inner.pending.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Sends the version bumps that failed before; `true` when none is left. (Reads and
    /// bumps do this first by themselves; an invalidator with nothing to do calls it.)
    pub async fn retry_pending(&self) -> bool {
        self.flush_pending().await
    }

    /// Hits, misses and errors.
    pub fn metrics(&self) -> &CacheMetrics {
        &self.inner.metrics
    }

    /// A connection, unless Redis failed less than a second ago.
    async fn connection(&self) -> Option<redis::aio::ConnectionManager> {
        if let Ok(resting) = self.inner.resting_until.lock()
            && resting.is_some_and(|until| Instant::now() < until)
        {
            return None;
        }
        let mut slot = self.inner.connection.lock().await;
        if let Some(connection) = &*slot {
            return Some(connection.clone());
        }
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.inner.timeout))
            .set_response_timeout(Some(self.inner.timeout))
            .set_number_of_retries(1);
        match tokio::time::timeout(
            self.inner.timeout * 2,
            redis::aio::ConnectionManager::new_with_config(self.inner.client.clone(), config),
        )
        .await
        {
            Ok(Ok(connection)) => {
                *slot = Some(connection.clone());
                Some(connection)
            }
            Ok(Err(error)) => {
                self.failed("connect", &error.to_string());
                None
            }
            Err(_) => {
                self.failed("connect", "timed out");
                None
            }
        }
    }

    fn failed(&self, operation: &str, message: &str) {
        self.inner.metrics.error(operation);
        if let Ok(mut last) = self.inner.last_error.lock() {
            *last = Some(format!("{operation}: {message}"));
        }
        tracing::warn!(target: "foxdb::cache", operation, error = message, "Redis failed; queries go to the database");
        // A value that does not encode or decode says nothing about Redis.
        if matches!(operation, "encode" | "decode") {
            return;
        }
        if let Ok(mut resting) = self.inner.resting_until.lock() {
            *resting = Some(Instant::now() + BACKOFF);
        }
    }

    /// Runs one Redis command within the timeout; `None` (after a warning) when it fails.
    async fn command<T, F, Fut>(&self, operation: &str, run: F) -> Option<T>
    where
        F: FnOnce(redis::aio::ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let connection = self.connection().await?;
        match tokio::time::timeout(self.inner.timeout, run(connection)).await {
            Ok(Ok(value)) => Some(value),
            Ok(Err(error)) => {
                self.failed(operation, &error.to_string());
                None
            }
            Err(_) => {
                self.failed(operation, "timed out");
                None
            }
        }
    }

    fn version_key(&self, database: &str, table: &str) -> String {
        format!("{}fox:v:{database}:{table}", self.inner.prefix)
    }

    /// Bumps the versions of `tables` (or of the whole database for `None`) of `database`
    /// (`engine:name`), after a write committed. A failure is kept and retried.
    pub(crate) async fn bump(&self, database: &str, tables: Option<&[String]>) {
        let whole = [WHOLE_DATABASE.to_string()];
        let tables = tables.unwrap_or(&whole);
        if let Ok(mut pending) = self.inner.pending.lock() {
            for table in tables {
                pending.insert((database.to_string(), table.clone()));
            }
        }
        self.flush_pending().await;
    }

    /// Sends the version bumps not yet made; `true` when none is left.
    async fn flush_pending(&self) -> bool {
        let pending: Vec<(String, String)> = match self.inner.pending.lock() {
            Ok(pending) if pending.is_empty() => return true,
            Ok(pending) => pending.iter().cloned().collect(),
            Err(_) => return false,
        };
        let keys: Vec<String> = pending
            .iter()
            .map(|(d, t)| self.version_key(d, t))
            .collect();
        let done = self
            .command("bump", |mut connection| async move {
                let mut pipe = redis::pipe();
                for key in &keys {
                    pipe.incr(key, 1).ignore();
                }
                pipe.query_async::<()>(&mut connection).await
            })
            .await
            .is_some();
        if done && let Ok(mut left) = self.inner.pending.lock() {
            for entry in &pending {
                left.remove(entry);
            }
            return left.is_empty();
        }
        false
    }

    /// The result of `load`, from Redis when a fresh one is there, else from `load` (then
    /// kept for `ttl`). `identity` is what else makes the result (statement and parameters,
    /// or the query with its relations); `tables` what it reads.
    pub(crate) async fn get_or_load<T, F, Fut>(
        &self,
        database: &str,
        identity: &str,
        tables: &[String],
        ttl: Duration,
        load: F,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Send,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let metrics = &self.inner.metrics;
        if !self.flush_pending().await {
            metrics.bypass();
            return load().await;
        }
        let mut version_keys: Vec<String> = tables
            .iter()
            .map(|t| self.version_key(database, t))
            .collect();
        version_keys.push(self.version_key(database, WHOLE_DATABASE));
        let lookup = version_keys.clone();
        let Some(versions) = self
            .command("versions", |mut connection| async move {
                connection.mget::<_, Vec<Option<u64>>>(&lookup).await
            })
            .await
        else {
            metrics.bypass();
            return load().await;
        };
        let mut hasher = Sha256::new();
        hasher.update(b"foxdb-cache/1\0");
        hasher.update(database.as_bytes());
        hasher.update(b"\0");
        hasher.update(identity.as_bytes());
        for (table, version) in tables.iter().zip(&versions) {
            hasher.update(format!("\0{table}={}", version.unwrap_or(0)).as_bytes());
        }
        hasher
            .update(format!("\0*={}", versions.last().copied().flatten().unwrap_or(0)).as_bytes());
        let key = format!("{}fox:q:{:x}", self.inner.prefix, hasher.finalize());

        if let Some(value) = self.read(&key, ttl).await {
            metrics.hit();
            return Ok(value);
        }
        // Single flight: one load per key at a time in this process.
        let flight = match self.inner.flights.lock() {
            Ok(mut flights) => flights.entry(key.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        let _guard = flight.lock().await;
        if let Some(value) = self.read(&key, ttl).await {
            metrics.hit();
            return Ok(value);
        }
        metrics.miss();
        let result = load().await;
        if let Ok(value) = &result {
            match rmp_serde::to_vec(value) {
                Ok(bytes) => {
                    let seconds = ttl.as_secs().max(1);
                    self.keep_locally(&key, &Arc::new(bytes.clone()), ttl);
                    let key = key.clone();
                    self.command("store", |mut connection| async move {
                        connection.set_ex::<_, _, ()>(&key, bytes, seconds).await
                    })
                    .await;
                }
                Err(error) => self.failed("encode", &error.to_string()),
            }
        }
        if let Ok(mut flights) = self.inner.flights.lock() {
            flights.remove(&key);
        }
        result
    }

    fn keep_locally(&self, key: &str, bytes: &Arc<Vec<u8>>, ttl: Duration) {
        if let Some(tier) = &self.inner.local
            && let Ok(mut tier) = tier.lock()
        {
            tier.put(key.to_string(), bytes.clone(), ttl);
        }
    }

    async fn read<T: DeserializeOwned>(&self, key: &str, ttl: Duration) -> Option<T> {
        let local = self
            .inner
            .local
            .as_ref()
            .and_then(|tier| tier.lock().ok().and_then(|mut tier| tier.get(key)));
        let bytes = match local {
            Some(bytes) => bytes,
            None => {
                let owned = key.to_string();
                let bytes = Arc::new(
                    self.command("read", |mut connection| async move {
                        connection.get::<_, Option<Vec<u8>>>(&owned).await
                    })
                    .await??,
                );
                self.keep_locally(key, &bytes, ttl);
                bytes
            }
        };
        match rmp_serde::from_slice(&bytes) {
            Ok(value) => Some(value),
            Err(error) => {
                self.failed("decode", &error.to_string());
                None
            }
        }
    }
}
