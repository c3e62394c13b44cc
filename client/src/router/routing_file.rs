//! [`Database::from_routing`]: the operator's `<name>-routing` ConfigMap, mounted as a file,
//! followed while the program runs.
//!
//! The file is the ConfigMap's `routing.json` (`fox_crds::PublishedRouting`): engine, primary
//! and readers by host and port, read preference, lag limit, read-your-writes. It holds no
//! credentials: those come from a URL whose host and port are replaced by each member's —
//! the environment variable `FOXDB_URL`, else a file `url` in the same directory (mount the
//! member Secret's `url` key and the ConfigMap into one projected volume; see
//! docs/operator.md).
//!
//! # Guarantees
//! - The file is read again every second; a changed table takes effect for the next query.
//!   Queries already running finish on the members they started on; members that left are
//!   closed once their queries end.
//! - A malformed file at start is an error; a malformed change while running is logged (a
//!   warning) and the last good table stays.
//! - A replica that cannot be reached takes no reads until a health check passes; nothing
//!   waits longer than the pool's acquire timeout.
//!
//! With the `cache` feature the query cache is attached:
//! - When the table publishes a cache (the FoxReplicaSet's `cache`, kept fresh by the
//!   operator's invalidator), with its key prefix and default lifetime; Redis is reached at
//!   `FOXDB_REDIS_URL`, else the file `redis-url` beside the routing file (the `cache.redis`
//!   Secret key, for a Redis with a password), else the published host and port.
//! - Otherwise when `FOXDB_REDIS_URL` or `redis-url` is there, its keys prefixed with
//!   `FOXDB_CACHE_PREFIX` (an application-run cache).
//!
//! The cache is chosen at start; a routing table that later adds, drops or moves it is
//! logged (a warning) and takes effect when the program restarts.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::Duration;

use fox_crds::replica_set::PublishedCache;
use fox_crds::{Engine, PublishedRouting, RoutedMember};

use super::builder::{connect_primary, connect_replica};
use super::{Members, PoolConfig, Replica, Router, Settings};
use crate::Backend;
use crate::database::Database;
use crate::error::Error;

/// How often the routing file is read again.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// The environment variable holding the URL that gives credentials and database name.
pub const URL_VARIABLE: &str = "FOXDB_URL";

/// The environment variable holding the Redis URL of the query cache (else a file
/// `redis-url` beside the routing file; neither: no cache).
#[cfg(feature = "cache")]
pub const REDIS_URL_VARIABLE: &str = "FOXDB_REDIS_URL";

/// The environment variable holding the cache's key prefix (a FoxReplicaSet's
/// `cache.keyPrefix`).
#[cfg(feature = "cache")]
pub const CACHE_PREFIX_VARIABLE: &str = "FOXDB_CACHE_PREFIX";

/// Why [`Database::from_routing`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum RoutingFileError {
    /// The file could not be read.
    #[error(
        "cannot read the routing file {path}: {source}\n  hint: mount the FoxReplicaSet's `<name>-routing` ConfigMap and give the path of its `routing.json`"
    )]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a routing table.
    #[error("the routing file {path} is not a FoxDB routing table: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The table names an engine this build cannot route.
    #[error("the routing file {path} names engine {engine}: {reason}")]
    Engine {
        /// The file.
        path: PathBuf,
        /// The engine named.
        engine: Engine,
        /// Why it cannot be used.
        reason: String,
    },
    /// No URL with credentials was found.
    #[error(
        "no credentials for the members of {path}: set {URL_VARIABLE} or put a file `url` beside it (the member Secret's `url` key)"
    )]
    NoCredentials {
        /// The routing file.
        path: PathBuf,
    },
    /// Connecting failed.
    #[error(transparent)]
    Database(#[from] Error),
}

impl Database {
    /// A database following the operator's routing table mounted at `path` (see
    /// [`routing_file`](self)), with the default pool settings.
    ///
    /// # Errors
    /// See [`RoutingFileError`]; no primary in the table is [`RoutingFileError::Malformed`].
    pub async fn from_routing(path: impl AsRef<Path>) -> Result<Database, RoutingFileError> {
        Self::from_routing_with(path, PoolConfig::default()).await
    }

    /// [`Database::from_routing`] with pool settings.
    ///
    /// # Errors
    /// See [`RoutingFileError`].
    pub async fn from_routing_with(
        path: impl AsRef<Path>,
        pool: PoolConfig,
    ) -> Result<Database, RoutingFileError> {
        let path = path.as_ref().to_path_buf();
        let text = std::fs::read_to_string(&path).map_err(|source| RoutingFileError::Read {
            path: path.clone(),
            source,
        })?;
        let table = parse_routing(&path, &text)?;
        let template = credentials(&path)?;
        let backend = engine_backend(&path, table.engine)?;
        let url_of = |member: &RoutedMember| member_url(&template, member);
        let template_backend = crate::DatabaseUrl::parse(&template)?.backend();
        if template_backend != backend {
            return Err(RoutingFileError::Engine {
                path,
                engine: table.engine,
                reason: format!("the credentials URL is for {template_backend}"),
            });
        }
        let Some(primary_member) = &table.primary else {
            return Err(RoutingFileError::Malformed {
                path,
                reason: "it names no primary (the operator found none healthy); try again later"
                    .into(),
            });
        };
        let primary = connect_primary(&url_of(primary_member)?, &pool).await?;
        let mut replicas = Vec::new();
        for reader in table
            .readers
            .iter()
            .filter(|r| !same_member(r, primary_member))
        {
            replicas.push(Arc::new(Replica::new(
                reader.name.clone(),
                location(reader),
                reader.weight,
                connect_replica(&url_of(reader)?, &pool, &primary)?,
            )));
        }
        let db = Database::with_router(
            primary,
            location(primary_member),
            replicas,
            settings(&table),
            pool,
        )
        .await?;
        if let Some(routed) = &db.routing {
            spawn_watch(
                &routed.router,
                path.clone(),
                text,
                template,
                table.cache.clone(),
            );
        }
        #[cfg(feature = "cache")]
        let db = match query_cache(&path, &table)? {
            Some(cache) => db.with_cache(cache),
            None => db,
        };
        Ok(db)
    }
}

/// The routing table in `text`, read from `path`.
pub(crate) fn parse_routing(path: &Path, text: &str) -> Result<PublishedRouting, RoutingFileError> {
    serde_json::from_str(text).map_err(|error| RoutingFileError::Malformed {
        path: path.to_path_buf(),
        reason: error.to_string(),
    })
}

fn engine_backend(path: &Path, engine: Engine) -> Result<Backend, RoutingFileError> {
    let refused = |reason: String| RoutingFileError::Engine {
        path: path.to_path_buf(),
        engine,
        reason,
    };
    let backend = Backend::try_from(engine)
        .map_err(|_| refused("a document store; foxdb routes SQL engines".into()))?;
    if !backend.is_enabled() {
        return Err(refused(backend.not_enabled().to_string()));
    }
    match backend {
        Backend::Sqlite => Err(refused("a SQLite file has no replicas to route to".into())),
        Backend::Postgres | Backend::MySql => Ok(backend),
    }
}

fn settings(table: &PublishedRouting) -> Settings {
    Settings {
        read_preference: table.read_preference,
        max_lag: Duration::from_secs(u64::from(table.max_replica_lag_seconds)),
        max_lag_distance: None,
        read_your_writes: table
            .read_your_writes
            .then(|| Duration::from_secs(u64::from(table.read_your_writes_seconds))),
    }
}

/// The URL with credentials: `FOXDB_URL`, else `url` beside the routing file.
pub(crate) fn credentials(path: &Path) -> Result<String, RoutingFileError> {
    if let Ok(url) = std::env::var(URL_VARIABLE)
        && !url.trim().is_empty()
    {
        return Ok(url.trim().to_string());
    }
    let beside = path.parent().unwrap_or(Path::new(".")).join("url");
    match std::fs::read_to_string(beside) {
        Ok(url) if !url.trim().is_empty() => Ok(url.trim().to_string()),
        _ => Err(RoutingFileError::NoCredentials {
            path: path.to_path_buf(),
        }),
    }
}

/// The query cache the table and the environment ask for (see the module docs).
#[cfg(feature = "cache")]
fn query_cache(
    path: &Path,
    table: &PublishedRouting,
) -> Result<Option<crate::cache::QueryCache>, RoutingFileError> {
    use crate::cache::{QueryCache, RedisEndpoint};
    let Some(published) = &table.cache else {
        return Ok(match redis_url(path) {
            Some(url) => {
                let prefix = std::env::var(CACHE_PREFIX_VARIABLE).unwrap_or_default();
                Some(QueryCache::new(&url, prefix)?)
            }
            None => None,
        });
    };
    let url = redis_url(path).unwrap_or_else(|| {
        RedisEndpoint {
            host: published.host.clone(),
            port: published.port,
            database: published.database,
            tls: published.tls,
        }
        .url()
    });
    if let Ok(prefix) = std::env::var(CACHE_PREFIX_VARIABLE)
        && prefix != published.key_prefix
    {
        tracing::warn!(
            path = %path.display(),
            "{CACHE_PREFIX_VARIABLE} is ignored: the operator's invalidator keeps the published key prefix fresh"
        );
    }
    let cache = QueryCache::new(&url, published.key_prefix.clone())?.with_default_ttl(
        Duration::from_secs(u64::from(published.default_ttl_seconds)),
    );
    Ok(Some(cache))
}

/// The query cache's Redis URL: `FOXDB_REDIS_URL`, else `redis-url` beside the routing file.
#[cfg(feature = "cache")]
fn redis_url(path: &Path) -> Option<String> {
    if let Ok(url) = std::env::var(REDIS_URL_VARIABLE)
        && !url.trim().is_empty()
    {
        return Some(url.trim().to_string());
    }
    let beside = path.parent().unwrap_or(Path::new(".")).join("redis-url");
    std::fs::read_to_string(beside)
        .ok()
        .map(|url| url.trim().to_string())
        .filter(|url| !url.is_empty())
}

fn location(member: &RoutedMember) -> String {
    if member.host.contains(':') {
        format!("[{}]:{}", member.host, member.port)
    } else {
        format!("{}:{}", member.host, member.port)
    }
}

fn same_member(a: &RoutedMember, b: &RoutedMember) -> bool {
    a.host == b.host && a.port == b.port
}

/// `template` with its host and port replaced by the member's.
fn member_url(template: &str, member: &RoutedMember) -> Result<String, Error> {
    let invalid = |reason: &str| Error::InvalidUrl {
        url: crate::url::redact(template),
        reason: reason.into(),
    };
    let (scheme, rest) = template
        .split_once("://")
        .ok_or_else(|| invalid("the credentials URL has no scheme"))?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let user_info = authority
        .rfind('@')
        .map(|at| &authority[..=at])
        .unwrap_or("");
    Ok(format!("{scheme}://{user_info}{}{tail}", location(member)))
}

/// Reads the file every [`WATCH_INTERVAL`] for as long as the router lives.
fn spawn_watch(
    router: &Arc<Router>,
    path: PathBuf,
    mut last: String,
    template: String,
    mut cache: Option<PublishedCache>,
) {
    let weak: Weak<Router> = Arc::downgrade(router);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(WATCH_INTERVAL).await;
            let Some(router) = weak.upgrade() else {
                return;
            };
            let Ok(text) = std::fs::read_to_string(&path) else {
                // A ConfigMap update swaps a symlink: the file may be missing for a moment.
                continue;
            };
            if text == last {
                continue;
            }
            match apply(&router, &path, &text, &template, &mut cache) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "routing table changed");
                    router.check_health().await;
                }
                Err(error) => {
                    tracing::warn!(path = %path.display(), %error, "routing table change ignored; the last good one stays");
                }
            }
            last = text;
        }
    });
}

/// Puts a changed table in place; members at the same host and port keep their pools.
fn apply(
    router: &Router,
    path: &Path,
    text: &str,
    template: &str,
    cache: &mut Option<PublishedCache>,
) -> Result<(), RoutingFileError> {
    let table = parse_routing(path, text)?;
    if *cache != table.cache {
        tracing::warn!(path = %path.display(), "the routing table's cache changed; it takes effect when the program restarts");
        cache.clone_from(&table.cache);
    }
    let old = router.members();
    let backend = engine_backend(path, table.engine)?;
    if backend != old.primary.backend() {
        return Err(RoutingFileError::Engine {
            path: path.to_path_buf(),
            engine: table.engine,
            reason: format!("this program started on {}", old.primary.backend()),
        });
    }
    let Some(primary_member) = &table.primary else {
        return Err(RoutingFileError::Malformed {
            path: path.to_path_buf(),
            reason: "it names no primary; writes stay with the last one".into(),
        });
    };
    let primary_location = location(primary_member);
    let primary = if primary_location == old.primary_location {
        old.primary.clone()
    } else {
        let options = router.pool().pool_options(router.pool().acquire_timeout);
        Database::connect_lazy_with(&member_url(template, primary_member)?, &options)?
            .counting_with(&old.primary)
    };
    let mut replicas = Vec::new();
    for reader in table
        .readers
        .iter()
        .filter(|r| !same_member(r, primary_member))
    {
        let at = location(reader);
        let replica = match old
            .replicas
            .iter()
            .find(|r| r.location == at && r.weight == reader.weight)
        {
            Some(kept) => kept.clone(),
            None => Arc::new(Replica::new(
                reader.name.clone(),
                at,
                reader.weight,
                connect_replica(&member_url(template, reader)?, router.pool(), &primary)?,
            )),
        };
        replicas.push(replica);
    }
    let replaced = router.replace(
        Members {
            primary_probe: primary.uncounted(),
            primary,
            primary_location,
            replicas,
        },
        settings(&table),
    );
    let current = router.members();
    // Members that left close once their running queries end (a pool's close waits for them).
    let mut leaving: Vec<Database> = replaced
        .replicas
        .iter()
        .filter(|r| !current.replicas.iter().any(|c| Arc::ptr_eq(c, r)))
        .map(|r| r.database.clone())
        .collect();
    if replaced.primary_location != current.primary_location {
        leaving.push(replaced.primary.clone());
    }
    tokio::spawn(async move {
        for database in leaving {
            database.close().await;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(host: &str, port: u16) -> RoutedMember {
        RoutedMember {
            name: "m".into(),
            host: host.into(),
            port,
            weight: 100,
        }
    }

    #[test]
    fn member_urls_keep_credentials_database_and_parameters() {
        let url = member_url(
            "postgres://app:s3cret@blog-rw:5432/blog?sslmode=require",
            &member("pg-1.pg", 5433),
        )
        .expect("url");
        assert_eq!(
            url,
            "postgres://app:s3cret@pg-1.pg:5433/blog?sslmode=require"
        );
        assert_eq!(
            member_url("mysql://root@x/fox", &member("::1", 3306)).expect("url"),
            "mysql://root@[::1]:3306/fox"
        );
        assert!(member_url("no scheme", &member("a", 1)).is_err());
    }

    #[test]
    fn engines_without_replicas_are_refused_by_name() {
        let path = Path::new("routing.json");
        let error = engine_backend(path, Engine::Mongodb).expect_err("mongodb");
        assert!(error.to_string().contains("document store"), "{error}");
        let error = engine_backend(path, Engine::Sqlite).expect_err("sqlite");
        assert!(error.to_string().contains("no replicas"), "{error}");
        for engine in [Engine::Postgresql, Engine::Mysql, Engine::Mariadb] {
            let backend = Backend::try_from(engine).expect("sql");
            assert_eq!(engine_backend(path, engine).is_ok(), backend.is_enabled());
        }
    }

    /// Runs in the build with one engine (`make test` runs the library's tests with only
    /// `sqlite`): a mounted table naming an engine compiled out is refused at once, by name and
    /// with the feature that compiles it in, before anything connects.
    #[cfg(not(all(feature = "postgres", feature = "mysql")))]
    #[tokio::test]
    async fn a_mounted_table_naming_an_engine_this_build_leaves_out_names_its_feature() {
        let directory = std::env::temp_dir().join(format!(
            "foxdb-routing-file-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        std::fs::create_dir_all(&directory).expect("directory");
        let missing = [
            (
                Engine::Postgresql,
                Backend::Postgres,
                "postgres://app@db:5432/blog",
            ),
            (Engine::Mariadb, Backend::MySql, "mysql://app@db:3306/blog"),
        ]
        .into_iter()
        .filter(|(_, backend, _)| !backend.is_enabled());
        let mut refused = 0;
        for (engine, backend, url) in missing {
            let file = directory.join("routing.json");
            std::fs::write(directory.join("url"), url).expect("url file");
            std::fs::write(
                &file,
                format!(
                    r#"{{"engine": "{engine}", "primary": {{"name": "db-0", "host": "db-0", "port": 1, "weight": 100}},
                        "readers": [], "readPreference": "replicaPreferred", "maxReplicaLagSeconds": 5,
                        "readYourWrites": true, "readYourWritesSeconds": 2, "observedGeneration": 1}}"#
                ),
            )
            .expect("routing file");
            let started = std::time::Instant::now();
            let error = Database::from_routing(&file)
                .await
                .expect_err("an engine compiled out");
            assert!(
                matches!(error, RoutingFileError::Engine { .. }),
                "{engine}: {error:?}"
            );
            let message = error.to_string();
            assert!(
                message.contains(&format!("names engine {engine}")),
                "{message}"
            );
            assert!(message.contains(backend.cargo_feature()), "{message}");
            assert!(started.elapsed() < std::time::Duration::from_secs(1));
            refused += 1;
        }
        let _ = std::fs::remove_dir_all(&directory);
        assert!(refused >= 1, "this build leaves out an engine");
    }
}
