//! [`DatabaseBuilder`]: a primary, its replicas and their pool settings.

use std::sync::Arc;
use std::time::Duration;

use super::{Members, PoolConfig, ReadPreference, Replica, Router, Settings, spawn_health_checks};
use crate::database::Database;
use crate::error::{Error, Result};
use crate::url::DatabaseUrl;

/// Builds a [`Database`] over a primary and its replicas; see the [router](super) for where
/// each query goes. Made by [`Database::builder`].
#[derive(Clone, Debug)]
pub struct DatabaseBuilder {
    primary: Option<String>,
    replicas: Vec<String>,
    pool: PoolConfig,
    settings: Settings,
}

impl Default for DatabaseBuilder {
    fn default() -> Self {
        let routing = fox_crds::replica_set::RoutingSpec::default();
        Self {
            primary: None,
            replicas: Vec::new(),
            pool: PoolConfig::default(),
            settings: Settings {
                read_preference: routing.read_preference,
                max_lag: Duration::from_secs(u64::from(routing.max_replica_lag_seconds)),
                max_lag_distance: None,
                read_your_writes: Some(Duration::from_secs(u64::from(
                    routing.read_your_writes_seconds,
                ))),
            },
        }
    }
}

impl Database {
    /// A builder for a database with replicas:
    /// `Database::builder().primary(url).replica(url).connect().await`.
    pub fn builder() -> DatabaseBuilder {
        DatabaseBuilder::default()
    }
}

impl DatabaseBuilder {
    /// The primary's URL (required): writes, transactions and fallback reads go there.
    #[must_use]
    pub fn primary(mut self, url: impl Into<String>) -> Self {
        self.primary = Some(url.into());
        self
    }

    /// Adds a replica's URL (same engine as the primary).
    #[must_use]
    pub fn replica(mut self, url: impl Into<String>) -> Self {
        self.replicas.push(url.into());
        self
    }

    /// Adds several replicas' URLs.
    #[must_use]
    pub fn replicas<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.replicas.extend(urls.into_iter().map(Into::into));
        self
    }

    /// Pool settings of every member (default: those of a FoxReplicaSet's `spec.pool`).
    #[must_use]
    pub fn pool(mut self, config: PoolConfig) -> Self {
        self.pool = config;
        self
    }

    /// Replicas lagging more than this take no reads (default 10 s, as
    /// `routing.maxReplicaLagSeconds`).
    #[must_use]
    pub fn max_replica_lag(mut self, lag: Duration) -> Self {
        self.settings.max_lag = lag;
        self
    }

    /// Replicas further than this behind the primary take no reads: bytes of WAL on
    /// PostgreSQL, transactions on MariaDB (MySQL reports no distance; time alone counts
    /// there). Off by default.
    #[must_use]
    pub fn max_replica_lag_distance(mut self, distance: u64) -> Self {
        self.settings.max_lag_distance = Some(distance);
        self
    }

    /// After a session writes, its reads wait up to `wait` for a replica to have the write,
    /// then read from the primary (default 5 s, as `routing.readYourWritesSeconds`); `None`
    /// turns read-your-writes off (reads may then miss the session's own recent writes).
    #[must_use]
    pub fn read_your_writes(mut self, wait: Option<Duration>) -> Self {
        self.settings.read_your_writes = wait;
        self
    }

    /// Where reads go (default `ReplicaPreferred`).
    #[must_use]
    pub fn read_preference(mut self, preference: ReadPreference) -> Self {
        self.settings.read_preference = preference;
        self
    }

    /// Connects to the primary (retrying connection failures `retries` times with backoff),
    /// checks every replica once, and starts checking them every `health_check_interval`.
    ///
    /// A replica that cannot be reached at start-up is no error: it takes no reads (a
    /// warning says why) until a health check passes. Nothing waits longer than the pool's
    /// acquire timeout (replicas: that or the health check interval, whichever is shorter).
    ///
    /// # Errors
    /// No primary given; [`Error::InvalidUrl`] for any URL, also a replica whose engine is not
    /// the primary's; [`Error::Connect`] when the primary cannot be reached;
    /// [`Error::BackendNotEnabled`]; [`Error::Unsupported`] for SQLite with replicas.
    pub async fn connect(self) -> Result<Database> {
        let Some(primary_url) = self.primary.as_deref() else {
            return Err(Error::InvalidUrl {
                url: String::new(),
                reason: "Database::builder() needs a primary: call .primary(url)".into(),
            });
        };
        let primary_parsed = DatabaseUrl::parse(primary_url)?;
        let mut replicas = Vec::new();
        for url in &self.replicas {
            let parsed = DatabaseUrl::parse(url)?;
            if parsed.backend() != primary_parsed.backend() {
                return Err(Error::InvalidUrl {
                    url: crate::url::redact(url),
                    reason: format!(
                        "a replica of a {} primary must be {} too, not {}",
                        primary_parsed.backend(),
                        primary_parsed.backend(),
                        parsed.backend()
                    ),
                });
            }
            replicas.push((parsed.location(), url.as_str()));
        }
        let primary = connect_primary(primary_url, &self.pool).await?;
        let mut members = Vec::new();
        for (location, url) in replicas {
            let database = connect_replica(url, &self.pool, &primary)?;
            members.push(Arc::new(Replica::new(
                location.clone(),
                location,
                100,
                database,
            )));
        }
        Database::with_router(
            primary,
            primary_parsed.location(),
            members,
            self.settings,
            self.pool,
        )
        .await
    }
}

/// Connects the primary, retrying connection failures with backoff.
pub(crate) async fn connect_primary(url: &str, pool: &PoolConfig) -> Result<Database> {
    let options = pool.pool_options(pool.acquire_timeout);
    let mut attempt = 0;
    loop {
        match Database::connect_with(url, &options).await {
            Err(error @ Error::Connect { .. }) if attempt < pool.retries => {
                tracing::warn!(error = %error.to_string().lines().next().unwrap_or_default(), attempt, "connecting to the primary failed; retrying");
                tokio::time::sleep(PoolConfig::backoff(attempt)).await;
                attempt += 1;
            }
            result => return result,
        }
    }
}

/// A replica's pool, connected lazily (a replica that is down delays nothing), counting its
/// statements with the primary's.
pub(crate) fn connect_replica(
    url: &str,
    pool: &PoolConfig,
    primary: &Database,
) -> Result<Database> {
    let options = pool.pool_options(pool.replica_acquire_timeout());
    Ok(Database::connect_lazy_with(url, &options)?.counting_with(primary))
}

impl Database {
    /// The handle over `primary` and `replicas`, after one health check; the checks then go
    /// on in the background.
    pub(crate) async fn with_router(
        primary: Database,
        primary_location: String,
        replicas: Vec<Arc<Replica>>,
        settings: Settings,
        pool: PoolConfig,
    ) -> Result<Database> {
        let replication = if replicas.is_empty() {
            // Nothing to route: any engine will do, SQLite included.
            match crate::replication::for_server(&primary).await {
                Ok(replication) => Some(replication),
                Err(Error::Unsupported { .. }) => None,
                Err(error) => return Err(error),
            }
        } else {
            Some(crate::replication::for_server(&primary).await?)
        };
        let Some(replication) = replication else {
            return Ok(primary);
        };
        let router = Arc::new(Router::new(
            replication,
            Members {
                primary_probe: primary.uncounted(),
                primary: primary.clone(),
                primary_location,
                replicas,
            },
            settings,
            pool,
        ));
        router.check_health().await;
        for replica in router.members().replicas.iter() {
            if let Some(problem) = replica.state().problem.filter(|_| !replica.usable()) {
                tracing::warn!(replica = %replica.name, %problem, "replica takes no reads for now");
            }
        }
        spawn_health_checks(&router);
        Ok(primary.routed_by(router))
    }
}
