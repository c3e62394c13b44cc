//! The query cache's invalidator, run by the operator for each FoxReplicaSet with `cache`: it
//! follows the primary's change log and bumps the Redis table versions of every change, so a
//! write made by any program (psql, another service, a migration) makes the cached reads of
//! that table stale in every application using the Redis (`foxdb::cache`).
//!
//! # Expected flow
//! 1. Each FoxReplicaSet reconcile reads the `cache.redis` Secret and, with a healthy primary,
//!    makes sure one invalidator runs for that Redis, key prefix and primary (a change of any
//!    of them replaces it).
//! 2. Starting, the invalidator reads the change log's head, bumps the whole database's
//!    version once (changes committed while none ran were missed) and follows the log from
//!    that head. A feed that ends (an unreadable change) starts over the same way.
//! 3. The reconcile reports the `CacheInvalidating` condition (Redis answers, tables with
//!    change capture) and `fox_cache_invalidator_up`; every change counts in
//!    `fox_cache_invalidations_total`.
//!
//! # Guarantees
//! - The Redis URL stays in memory: status, events, logs and metrics name `host:port` only.
//! - Only tables with change capture (`realtime: true` in the FoxSchema) are seen; writes to
//!   other tables made outside foxdb leave cached reads until their TTL (said in the
//!   condition when no table has capture).
//! - While Redis is down, bumps are kept and sent every second until it answers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fox_crds::FoxReplicaSet;
use fox_crds::replica_set::{CacheSpec, PublishedCache};
use foxdb::Database;
use foxdb::cache::{CacheInvalidator, QueryCache};
use foxdb::realtime::{TailOptions, captured_tables, head_position, tail};
use kube::ResourceExt;
use sha2::{Digest, Sha256};

use super::conditions::{ConditionType, ConditionUpdate, Reason};
use super::context::{Context, MemberPool};
use super::secrets::read_secret_text;

/// How long starting an invalidator (reading the log head, the first bump) may take within a
/// reconcile.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// The wait before a stopped change feed is followed again.
const RESTART_DELAY: Duration = Duration::from_secs(1);

/// The running invalidators, by `namespace/name` of their FoxReplicaSet.
#[derive(Clone, Default)]
pub struct CacheInvalidators {
    running: Arc<Mutex<HashMap<String, Running>>>,
}

impl std::fmt::Debug for CacheInvalidators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheInvalidators")
            .field("running", &self.keys())
            .finish()
    }
}

struct Running {
    /// Digest of the Redis URL, key prefix and primary pool.
    fingerprint: String,
    invalidator: CacheInvalidator,
    /// Why the feed stopped, until it follows again.
    failure: Arc<Mutex<Option<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CacheInvalidators {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Running>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `namespace/name` of every FoxReplicaSet with a running invalidator.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.lock().keys().cloned().collect();
        keys.sort();
        keys
    }

    /// Changes the invalidator of `namespace/name` made stale so far (`None`: none runs).
    pub fn invalidations(&self, namespace: &str, name: &str) -> Option<u64> {
        self.lock()
            .get(&key(namespace, name))
            .map(|r| r.invalidator.invalidations())
    }

    /// Stops the invalidator of `namespace/name`, if one runs.
    pub fn stop(&self, namespace: &str, name: &str) -> bool {
        self.lock().remove(&key(namespace, name)).is_some()
    }

    /// Stops the invalidators of FoxReplicaSets not in `live` (`(namespace, name)`).
    pub fn retain(&self, live: &std::collections::HashSet<(String, String)>) -> Vec<String> {
        let mut running = self.lock();
        let gone: Vec<String> = running
            .keys()
            .filter(|k| {
                let (namespace, name) = k.split_once('/').unwrap_or_default();
                !live.contains(&(namespace.to_string(), name.to_string()))
            })
            .cloned()
            .collect();
        for key in &gone {
            running.remove(key);
        }
        gone
    }
}

fn key(namespace: &str, name: &str) -> String {
    format!("{namespace}/{name}")
}

/// What one reconcile found about the cache: the condition to report (none without
/// `cache`) and what to publish in the routing ConfigMap.
#[derive(Debug, Default)]
pub struct CacheState {
    /// `CacheInvalidating`.
    pub condition: Option<ConditionUpdate>,
    /// The cache endpoint for `<name>-routing`.
    pub published: Option<PublishedCache>,
}

/// Makes sure the invalidator of `replicaset` runs as its `cache` says (see the module docs);
/// `primary` is the operator's pool to a healthy primary, if there is one.
pub async fn reconcile_cache(
    replicaset: &FoxReplicaSet,
    context: &Context,
    primary: Option<&MemberPool>,
) -> CacheState {
    let namespace = replicaset.namespace().unwrap_or_default();
    let name = replicaset.name_any();
    let invalidators = &context.cache_invalidators;
    let metrics = &context.metrics;
    let Some(spec) = &replicaset.spec.cache else {
        if invalidators.stop(&namespace, &name) {
            tracing::info!(
                namespace,
                replicaset = name,
                "cache removed; its invalidator stopped"
            );
        }
        metrics.forget_cache_invalidator(&namespace, &name);
        return CacheState::default();
    };
    let up = metrics
        .cache_invalidator_up
        .with_label_values(&[namespace.as_str(), name.as_str()]);
    let not_following = |reason: Reason, message: String| {
        up.set(0);
        CacheState {
            condition: Some(ConditionUpdate::no(
                ConditionType::CacheInvalidating,
                reason,
                message,
            )),
            published: None,
        }
    };
    let url = match read_secret_text(&context.client, &namespace, &spec.redis).await {
        Ok(url) => url,
        Err(error) => {
            invalidators.stop(&namespace, &name);
            return not_following(error.condition_reason(), error.to_string());
        }
    };
    let cache = match open_cache(&url, spec) {
        Ok(cache) => cache,
        Err(error) => {
            invalidators.stop(&namespace, &name);
            return not_following(
                Reason::InvalidRedisUrl,
                format!(
                    "Secret {namespace}/{} key {}: {error}",
                    spec.redis.name, spec.redis.key
                ),
            );
        }
    };
    let published = cache.endpoint().map(|endpoint| PublishedCache {
        host: endpoint.host,
        port: endpoint.port,
        database: endpoint.database,
        tls: endpoint.tls,
        key_prefix: cache.prefix().to_string(),
        default_ttl_seconds: spec.default_ttl_seconds,
    });
    let server = cache.server();
    let with_published = |condition: ConditionUpdate| CacheState {
        condition: Some(condition),
        published: published.clone(),
    };

    let Some((primary, database)) = primary.and_then(|p| p.connection.sql().map(|d| (p, d))) else {
        up.set(0);
        return with_published(ConditionUpdate::unknown(
            ConditionType::CacheInvalidating,
            Reason::PrimaryUnhealthy,
            "waiting for a healthy primary to follow its change log; writes made meanwhile \
             outside foxdb are invalidated once it answers",
        ));
    };
    let fingerprint = fingerprint(&url, spec, &primary.fingerprint);
    let existing = {
        let running = invalidators.lock();
        running
            .get(&key(&namespace, &name))
            .filter(|r| r.fingerprint == fingerprint && !r.task.is_finished())
            .map(|r| (r.failure.clone(), r.invalidator.cache().clone()))
    };
    // A running invalidator's cache is asked, so a check opens no new Redis connection.
    let (failure, cache) = match existing {
        Some(running) => running,
        None => {
            let counter = metrics
                .cache_invalidations
                .with_label_values(&[namespace.as_str(), name.as_str()]);
            let invalidator =
                CacheInvalidator::for_database(cache.clone(), database).counting(counter);
            match start(&invalidator, database).await {
                Ok((task, failure)) => {
                    tracing::info!(namespace, replicaset = name, redis = %server, "cache invalidator follows the change log");
                    invalidators.lock().insert(
                        key(&namespace, &name),
                        Running {
                            fingerprint,
                            invalidator,
                            failure: failure.clone(),
                            task,
                        },
                    );
                    (failure, cache)
                }
                Err(message) => {
                    invalidators.stop(&namespace, &name);
                    up.set(0);
                    return with_published(ConditionUpdate::no(
                        ConditionType::CacheInvalidating,
                        Reason::ChangeLogUnreadable,
                        message,
                    ));
                }
            }
        }
    };
    let condition = if let Some(problem) = failure.lock().ok().and_then(|f| f.clone()) {
        ConditionUpdate::no(
            ConditionType::CacheInvalidating,
            Reason::FeedStopped,
            problem,
        )
    } else if let Err(problem) = cache.ping().await {
        ConditionUpdate::no(
            ConditionType::CacheInvalidating,
            Reason::RedisUnreachable,
            format!(
                "Redis at {server} does not answer ({problem}); applications read from the \
                 database meanwhile, and the invalidator sends the version bumps once it answers"
            ),
        )
    } else {
        match captured_tables(database).await {
            Ok(tables) if tables.is_empty() => ConditionUpdate::no(
                ConditionType::CacheInvalidating,
                Reason::NoChangeCapture,
                "no table has change capture, so only writes through foxdb invalidate cached \
                 reads; turn `realtime` on for the cached tables in the FoxSchema",
            ),
            Ok(tables) => ConditionUpdate::yes(
                ConditionType::CacheInvalidating,
                Reason::Following,
                format!(
                    "writes to {} invalidate cached reads in Redis at {server}",
                    table_list(&tables)
                ),
            ),
            Err(error) => ConditionUpdate::unknown(
                ConditionType::CacheInvalidating,
                Reason::ChangeLogUnreadable,
                format!("the tables with change capture could not be listed: {error}"),
            ),
        }
    };
    up.set(i64::from(
        condition.status == super::conditions::ConditionStatus::True,
    ));
    with_published(condition)
}

/// `a, b and 3 more` for a condition message.
fn table_list(tables: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut sorted = tables.to_vec();
    sorted.sort();
    let shown = sorted
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match sorted.len().saturating_sub(SHOWN) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

fn open_cache(url: &str, spec: &CacheSpec) -> foxdb::Result<QueryCache> {
    Ok(
        QueryCache::new(url, spec.key_prefix.clone().unwrap_or_default())?
            .with_timeout(Duration::from_secs(1))
            .with_default_ttl(Duration::from_secs(u64::from(spec.default_ttl_seconds))),
    )
}

fn fingerprint(url: &str, spec: &CacheSpec, primary: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(url.as_bytes());
    hasher.update(b"\0");
    hasher.update(spec.key_prefix.as_deref().unwrap_or_default().as_bytes());
    hasher.update(b"\0");
    hasher.update(primary.as_bytes());
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

type Started = (tokio::task::JoinHandle<()>, Arc<Mutex<Option<String>>>);

/// Reads the log head, drops what is cached (missed changes), and spawns the follower.
async fn start(invalidator: &CacheInvalidator, db: &Database) -> Result<Started, String> {
    let head = tokio::time::timeout(START_TIMEOUT, head_position(db))
        .await
        .map_err(|_| "reading the change log's head timed out".to_string())?
        .map_err(|error| format!("the change log's head could not be read: {error}"))?;
    invalidator.invalidate_all().await;
    let failure: Arc<Mutex<Option<String>>> = Arc::default();
    let task = tokio::spawn(follow_forever(
        invalidator.clone(),
        db.clone(),
        head,
        failure.clone(),
    ));
    Ok((task, failure))
}

async fn follow_forever(
    invalidator: CacheInvalidator,
    db: Database,
    mut from: foxdb::realtime::Position,
    failure: Arc<Mutex<Option<String>>>,
) {
    let set_failure = |problem: Option<String>| {
        if let Ok(mut slot) = failure.lock() {
            *slot = problem;
        }
    };
    loop {
        let feed = tail(
            &db,
            TailOptions {
                tables: Vec::new(),
                from: Some(from),
            },
        );
        let last = invalidator.follow(feed).await;
        set_failure(Some(format!(
            "the change feed stopped after position {}; following it again from the head",
            last.as_deref().unwrap_or("(none)")
        )));
        tracing::warn!("the cache invalidator's change feed stopped; starting over");
        tokio::time::sleep(RESTART_DELAY).await;
        match head_position(&db).await {
            Ok(head) => {
                from = head;
                invalidator.invalidate_all().await;
                set_failure(None);
            }
            Err(error) => {
                set_failure(Some(format!(
                    "the change log's head could not be read: {error}"
                )));
            }
        }
    }
}
