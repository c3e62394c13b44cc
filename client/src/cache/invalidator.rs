//! Invalidation by writes made outside foxdb: a [`ChangeFeed`] (the real-time change log, or
//! anything that knows which tables changed) drives a [`CacheInvalidator`], which bumps the
//! changed tables' versions.

use std::future::Future;

use super::QueryCache;
use crate::Backend;

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
    fn next_change(&mut self) -> impl Future<Output = Option<Change>> + Send;
}

/// Bumps the cache versions of the tables a [`ChangeFeed`] reports, so cached reads of them
/// go to the database next time.
#[derive(Clone, Debug)]
pub struct CacheInvalidator {
    cache: QueryCache,
    database: String,
}

impl CacheInvalidator {
    /// An invalidator for database `database` (its name, as in its URL) on `backend`.
    pub fn new(cache: QueryCache, backend: Backend, database: &str) -> Self {
        Self {
            cache,
            database: format!("{}:{database}", backend.as_str()),
        }
    }

    /// Records one change: bumps its table's version (kept and retried while Redis is down).
    pub async fn invalidate(&self, change: &Change) {
        let table = [change.table.to_lowercase()];
        self.cache.bump(&self.database, Some(&table)).await;
        tracing::debug!(target: "foxdb::cache", table = %change.table, position = %change.position, "cache invalidated by a change");
    }

    /// Follows `feed` until it ends, invalidating each change; returns the last position
    /// seen, from which a restarted invalidator resumes.
    pub async fn follow(&self, mut feed: impl ChangeFeed) -> Option<String> {
        let mut last = None;
        while let Some(change) = feed.next_change().await {
            self.invalidate(&change).await;
            last = Some(change.position);
        }
        last
    }
}
