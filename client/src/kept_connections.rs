//! Connections [`crate::Database`] keeps between its statements: the next statement takes the
//! connection the last one used, without the pool's checkout and return.
//!
//! sqlx's pool puts a connection back from a task that dropping it spawns, and pings the
//! connection there first (a round trip to the server per statement). Until that task runs, the
//! next checkout finds no idle connection and opens another one, so statements run one after
//! the other rotate over several connections, and each connection prepares every statement
//! again (on MySQL, a 1,000-row `INSERT` decodes 2,000 parameter definitions per prepare).
//! A kept connection is taken back at once, with its prepared statements.
//!
//! # Guarantees
//! - A connection is kept only while the pool has an idle connection or room for another, so
//!   nothing waiting on the pool waits for a kept one; [`KeptConnections::release`] gives every
//!   kept connection back (transactions and other direct users of the pool call it through
//!   `Database::pool` when the pool is exhausted; `Database::close` always).
//! - A connection kept at least the pool's `ping_after_idle` is pinged before use, as the pool
//!   pings one that sat idle that long; one that fails is closed and another taken. A kept
//!   connection unused for that long goes back to the pool at the next statement, where the
//!   pool's idle timeout applies to it.
//! - A statement that failed leaves its connection to the pool, which tests it before
//!   handing it out again.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;

/// The kept connections of one pool.
pub(crate) struct KeptConnections<DB: sqlx::Database> {
    kept: Mutex<Vec<Kept<DB>>>,
    ping_after_idle: Duration,
    /// The pool keeps a minimum of connections: handing one back spawns a task even when
    /// the connection is detached.
    keeps_minimum: bool,
}

struct Kept<DB: sqlx::Database> {
    connection: PoolConnection<DB>,
    since: Instant,
}

impl<DB: sqlx::Database> std::fmt::Debug for KeptConnections<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeptConnections")
            .field("kept", &self.len())
            .field("ping_after_idle", &self.ping_after_idle)
            .finish()
    }
}

impl<DB: sqlx::Database> KeptConnections<DB> {
    /// None kept yet; one kept at least `ping_after_idle` is pinged before use; `keeps_minimum`
    /// when the pool's `min_connections` is above zero.
    pub(crate) fn new(ping_after_idle: Duration, keeps_minimum: bool) -> Self {
        Self {
            kept: Mutex::default(),
            ping_after_idle,
            keeps_minimum,
        }
    }

    /// The most recently kept connection, else one from `pool`; `now` is the statement's
    /// start (one clock read serves the statement's timing and this).
    ///
    /// # Errors
    /// The pool's: no connection within its acquire timeout, or opening one failed.
    pub(crate) async fn checkout(
        &self,
        pool: &sqlx::Pool<DB>,
        now: Instant,
    ) -> sqlx::Result<PoolConnection<DB>> {
        while let Some(kept) = self.take() {
            let mut connection = kept.connection;
            if now.saturating_duration_since(kept.since) < self.ping_after_idle {
                return Ok(connection);
            }
            match sqlx::Connection::ping(&mut *connection).await {
                Ok(()) => return Ok(connection),
                Err(error) => {
                    // Expected after a server restart: closed, and the next one tried.
                    tracing::debug!(%error, "a kept connection failed its ping");
                    connection.close_on_drop();
                }
            }
        }
        pool.acquire().await
    }

    fn take(&self) -> Option<Kept<DB>> {
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Keeps `connection` for the next statement, unless the pool is exhausted (something may
    /// be waiting for it) or closing: then it goes back to the pool. A kept connection unused for the ping
    /// window goes back to the pool now. `now` is the time the statement finished.
    pub(crate) fn keep(&self, pool: &sqlx::Pool<DB>, connection: PoolConnection<DB>, now: Instant) {
        // A closing pool waits for every connection: it gets this one back.
        if pool.is_closed() || exhausted(pool) {
            return;
        }
        let stale = {
            let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
            let stale = kept
                .first()
                .is_some_and(|oldest| {
                    now.saturating_duration_since(oldest.since) >= self.ping_after_idle
                })
                .then(|| kept.remove(0));
            kept.push(Kept {
                connection,
                since: now,
            });
            stale
        };
        // Dropped outside the lock: the pool's return starts here.
        drop(stale);
        // Closed since the check above: `Database::close` may have given the kept connections
        // back before this one was kept; the pool waits for it.
        if pool.is_closed() {
            self.release();
        }
    }

    /// Gives every kept connection back to the pool.
    pub(crate) fn release(&self) {
        let kept = std::mem::take(&mut *self.kept.lock().unwrap_or_else(PoisonError::into_inner));
        drop(kept);
    }

    /// Gives every kept connection back when the pool has no idle connection and no room for
    /// another: a caller about to take one from the pool directly would wait for them.
    pub(crate) fn release_if_exhausted(&self, pool: &sqlx::Pool<DB>) {
        if exhausted(pool) {
            self.release();
        }
    }

    /// Connections kept now.
    pub(crate) fn len(&self) -> usize {
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Whether `pool` has neither an idle connection nor room for another.
fn exhausted<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> bool {
    pool.num_idle() == 0 && pool.size() >= pool.options().get_max_connections()
}

impl<DB: sqlx::Database> Drop for KeptConnections<DB> {
    fn drop(&mut self) {
        // The pool returns a dropped connection from a task; without a runtime to run it
        // (a handle dropped after its runtime ended) the connections are closed here instead.
        if tokio::runtime::Handle::try_current().is_err() {
            let kept = std::mem::take(self.kept.get_mut().unwrap_or_else(PoisonError::into_inner));
            for kept in kept {
                if self.keeps_minimum {
                    // Detaching would spawn the pool's task for its minimum, which panics
                    // without a runtime: the connection goes with the process.
                    std::mem::forget(kept.connection);
                } else {
                    drop(kept.connection.detach());
                }
            }
        }
    }
}
