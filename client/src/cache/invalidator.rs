//! Invalidation by writes made outside foxdb: a [`ChangeFeed`] (the real-time change log, or
//! anything that knows which tables changed) drives a [`CacheInvalidator`], which bumps the
//! changed tables' versions.
//!
//! # Expected flow
//! 1. Learn where the feed stands now (`foxdb::realtime::head_position`).
//! 2. [`CacheInvalidator::invalidate_all`]: changes committed while no invalidator ran were
//!    missed, so every cached result of the database is dropped once.
//! 3. [`CacheInvalidator::follow`] the feed from that position.
//!
//! The operator does exactly this for a FoxReplicaSet with `cache` set.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::QueryCache;
use crate::Backend;

/// How often an invalidator waiting for changes sends the version bumps Redis refused.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// One committed change: which table, at which position of the feed (an opaque, ordered
/// text such as a change-log id or an LSN).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The table written.
    pub table: String,
    /// Where the change is in the feed.
    pub position: String,
}

/// A source of committed changes, in commit order. The change log's subscription implements
/// it; so can a test or a program that learns about writes another way.
pub trait ChangeFeed: Send {
    /// The next change, waiting for one; `None` when the feed ended.
    ///
    /// [`CacheInvalidator::follow`] races it against a retry timer and drops it when the
    /// timer wins: it must lose nothing when dropped before it finished (a channel receive
    /// does not).
    fn next_change(&mut self) -> impl Future<Output = Option<Change>> + Send;
}

/// Bumps the cache versions of the tables a [`ChangeFeed`] reports, so cached reads of them
/// go to the database next time.
#[derive(Clone, Debug)]
pub struct CacheInvalidator {
    cache: QueryCache,
    database: String,
    invalidations: Arc<AtomicU64>,
    counter: Option<prometheus::IntCounter>,
}

impl CacheInvalidator {
    /// An invalidator for database `database` (its name, as in its URL) on `backend`.
    pub fn new(cache: QueryCache, backend: Backend, database: &str) -> Self {
        Self {
            cache,
            database: format!("{}:{database}", backend.as_str()),
            invalidations: Arc::default(),
            counter: None,
        }
    }

    /// An invalidator for the database `db` is connected to: the same versions as a
    /// [`crate::Database::with_cache`] handle of that database reads.
    pub fn for_database(cache: QueryCache, db: &crate::Database) -> Self {
        Self {
            cache,
            database: db.identity().to_string(),
            invalidations: Arc::default(),
            counter: None,
        }
    }

    /// Also counts every change it invalidates in `counter` (the operator's
    /// `fox_cache_invalidations_total`).
    #[must_use]
    pub fn counting(mut self, counter: prometheus::IntCounter) -> Self {
        self.counter = Some(counter);
        self
    }

    /// The cache it bumps.
    pub fn cache(&self) -> &QueryCache {
        &self.cache
    }

    /// Changes invalidated so far (by this invalidator and its clones).
    pub fn invalidations(&self) -> u64 {
        self.invalidations.load(Ordering::Relaxed)
    }

    /// Records one change: bumps its table's version (kept and retried while Redis is down).
    pub async fn invalidate(&self, change: &Change) {
        let table = [change.table.to_lowercase()];
        self.cache.bump(&self.database, Some(&table)).await;
        self.invalidations.fetch_add(1, Ordering::Relaxed);
        if let Some(counter) = &self.counter {
            counter.inc();
        }
        tracing::debug!(target: "foxdb::cache", table = %change.table, position = %change.position, "cache invalidated by a change");
    }

    /// Makes every cached result of the database stale (bumps its whole-database version):
    /// for changes this invalidator may have missed, before it starts following.
    pub async fn invalidate_all(&self) {
        self.cache.bump(&self.database, None).await;
    }

    /// Follows `feed` until it ends, invalidating each change; returns the last position
    /// seen, from which a restarted invalidator resumes. While no change comes, the bumps
    /// Redis refused are sent again every [`RETRY_INTERVAL`], so readers in other processes
    /// see them once Redis is back, without waiting for the next change.
    pub async fn follow(&self, mut feed: impl ChangeFeed) -> Option<String> {
        let mut last = None;
        let mut retry = tokio::time::interval(RETRY_INTERVAL);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                change = feed.next_change() => {
                    let Some(change) = change else {
                        return last;
                    };
                    self.invalidate(&change).await;
                    last = Some(change.position);
                }
                _ = retry.tick() => {
                    if self.cache.pending_bumps() > 0 {
                        self.cache.retry_pending().await;
                    }
                }
            }
        }
    }
}
