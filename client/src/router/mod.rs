//! Replica routing: one [`crate::Database`] handle over a primary and its replicas.
//!
//! Writes, transactions and anything that is not a plain read (see [`statement`]) go to the
//! primary. Plain reads go to a replica that passed its last health check within the lag
//! limit (time; and bytes of WAL on PostgreSQL or transactions on MariaDB where a distance
//! limit is set), chosen round robin by weight; `.on_primary()` on a query (builder, join,
//! eager loading, typed raw SQL; see [`on_primary`]) or on the handle (`db.on_primary()`)
//! sends it to the primary. A replica that fails a read for a connection reason is marked down and the read
//! runs on the next replica, then on the primary, with no error to the caller; the replica
//! takes reads again once a health check passes.
//!
//! # Read-your-writes
//! A handle is a session (its clones share it; [`crate::Database::session`] starts a new
//! one). After the session writes, its next read learns the primary's write position and
//! reads from a replica only once that replica has applied it: known from the last health
//! check, or waited for on the replica ([`crate::replication::Replication::wait_for`]) up to
//! the read-your-writes limit; then it reads from the primary. So no read of a session
//! returns data older than its own last write.
//!
//! # Expected flow
//! ```no_run
//! # async fn demo() -> foxdb::Result<()> {
//! use std::time::Duration;
//! use foxdb::{Database, PoolConfig};
//!
//! let db = Database::builder()
//!     .primary("postgres://app@db-0:5432/blog")
//!     .replica("postgres://app@db-1:5432/blog")
//!     .pool(PoolConfig { max_connections: 20, ..PoolConfig::default() })
//!     .max_replica_lag(Duration::from_secs(2))
//!     .connect()
//!     .await?;
//! db.execute("INSERT INTO posts (title) VALUES ($1)", &[foxdb::Value::Text("Hello".into())]).await?;
//! // Sees the insert: from a replica that has it, else from the primary.
//! let rows = db.fetch_all("SELECT title FROM posts", &[]).await?;
//! // Always the primary:
//! let rows = db.on_primary().fetch_all("SELECT count(*) FROM posts", &[]).await?;
//! # Ok(()) }
//! ```

mod builder;
mod config;
mod metrics;
pub mod on_primary;
pub mod routing_file;
pub mod statement;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::Duration;

pub use builder::DatabaseBuilder;
pub use config::PoolConfig;
pub use fox_crds::replica_set::ReadPreference;
pub use metrics::RoutingMetrics;
pub use on_primary::OnPrimary;

use crate::connection::Value;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::replication::Replication;
use crate::row::Row;
use crate::stats::Statement;

/// Where reads may go and how fresh they must be.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Settings {
    pub read_preference: ReadPreference,
    pub max_lag: Duration,
    pub max_lag_distance: Option<u64>,
    /// How long a read after the session's write waits for a replica; `None`: no
    /// read-your-writes.
    pub read_your_writes: Option<Duration>,
}

/// One replica.
#[derive(Debug)]
pub(crate) struct Replica {
    pub name: String,
    /// `host:port`, to tell whether a new routing table names the same server.
    pub location: String,
    pub weight: u32,
    pub database: Database,
    /// The same pool, for health checks and waits: not counted with the application's
    /// statements.
    probe: Database,
    /// This replica's series of `foxdb_reads_total`, looked up once.
    reads: std::sync::OnceLock<prometheus::IntCounter>,
    /// Passed its last health check within the lag limits, and failed no read since. Read
    /// before every read without a lock; written under `state`'s lock, so a check's verdict
    /// and its problem change together.
    usable: AtomicBool,
    state: Mutex<ReplicaState>,
}

#[derive(Clone, Debug, Default)]
struct ReplicaState {
    problem: Option<String>,
    applied: Option<String>,
}

impl Replica {
    pub(crate) fn new(name: String, location: String, weight: u32, database: Database) -> Self {
        Self {
            name,
            location,
            weight,
            probe: database.uncounted(),
            reads: std::sync::OnceLock::new(),
            database,
            usable: AtomicBool::new(false),
            state: Mutex::new(ReplicaState {
                problem: Some("not checked yet".into()),
                ..ReplicaState::default()
            }),
        }
    }

    fn state(&self) -> ReplicaState {
        self.state.lock().map(|s| s.clone()).unwrap_or_default()
    }

    fn usable(&self) -> bool {
        self.usable.load(Ordering::Acquire)
    }

    fn applied(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.applied.clone())
    }

    fn mark_down(&self, problem: String) {
        if let Ok(mut state) = self.state.lock() {
            if self.usable.swap(false, Ordering::AcqRel) {
                tracing::warn!(replica = %self.name, %problem, "replica marked down; reads go elsewhere until it passes a health check");
            }
            state.problem = Some(problem);
        }
    }

    fn record_check(&self, usable: bool, problem: Option<String>, applied: Option<String>) {
        if let Ok(mut state) = self.state.lock() {
            match (self.usable.swap(usable, Ordering::AcqRel), usable) {
                (false, true) => tracing::info!(replica = %self.name, "replica takes reads"),
                (true, false) => {
                    tracing::warn!(replica = %self.name, problem = problem.as_deref().unwrap_or(""), "replica takes no reads")
                }
                _ => {}
            }
            state.problem = problem;
            if applied.is_some() {
                state.applied = applied;
            }
        }
    }
}

/// The members at one moment; replaced whole when the routing table changes.
#[derive(Debug)]
pub(crate) struct Members {
    pub primary: Database,
    /// The primary's pool, for position queries: not counted with the application's
    /// statements.
    pub primary_probe: Database,
    /// `host:port` of the primary.
    pub primary_location: String,
    pub replicas: Vec<Arc<Replica>>,
}

/// The members and the settings at one moment: what a statement reads once, under one lock
/// (a routing table that changes replaces both at once).
#[derive(Debug)]
pub(crate) struct Routing {
    pub members: Arc<Members>,
    pub settings: Settings,
}

/// A replicated database: its members, their health, the routing settings.
#[derive(Debug)]
pub(crate) struct Router {
    replication: &'static dyn Replication,
    routing: RwLock<Arc<Routing>>,
    pool: PoolConfig,
    next: AtomicUsize,
    metrics: RoutingMetrics,
    /// The primary's series of `foxdb_reads_total`, looked up once.
    primary_reads: std::sync::OnceLock<prometheus::IntCounter>,
}

/// What a handle adds to the router: its session, and whether it reads from the primary.
#[derive(Clone, Debug)]
pub(crate) struct Routed {
    pub router: Arc<Router>,
    pub session: Arc<Session>,
    pub on_primary: bool,
}

/// Read-your-writes state of one session.
#[derive(Debug, Default)]
pub(crate) struct Session {
    state: Mutex<SessionState>,
    writes: AtomicU64,
}

#[derive(Clone, Debug, Default)]
enum SessionState {
    /// No write yet (or none since reads caught up).
    #[default]
    Clean,
    /// Wrote; the primary's position is fetched by the next read.
    Wrote,
    /// Reads need `position`; `reached_by` names replicas known to have it.
    At {
        position: String,
        reached_by: Vec<String>,
    },
}

/// What a read must see.
enum Wanted {
    Anything,
    Position(String),
    Primary,
}

impl Session {
    /// The session wrote (or may have): its next reads must see it.
    pub(crate) fn note_write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut state) = self.state.lock() {
            *state = SessionState::Wrote;
        }
    }

    fn state(&self) -> SessionState {
        self.state
            .lock()
            .map(|s| s.clone())
            .unwrap_or(SessionState::Wrote)
    }

    /// No write yet: the state never returns to `Clean`, so the write counter tells without a
    /// lock (it is counted before the state changes).
    fn is_clean(&self) -> bool {
        self.writes.load(Ordering::SeqCst) == 0
    }

    fn reached(&self, replica: &str, position: &str) {
        if let Ok(mut state) = self.state.lock()
            && let SessionState::At {
                position: p,
                reached_by,
            } = &mut *state
            && p == position
            && !reached_by.iter().any(|r| r == replica)
        {
            reached_by.push(replica.to_string());
        }
    }
}

impl Router {
    pub(crate) fn new(
        replication: &'static dyn Replication,
        members: Members,
        settings: Settings,
        pool: PoolConfig,
    ) -> Self {
        Self {
            replication,
            routing: RwLock::new(Arc::new(Routing {
                members: Arc::new(members),
                settings,
            })),
            pool,
            next: AtomicUsize::new(0),
            metrics: RoutingMetrics::new(),
            primary_reads: std::sync::OnceLock::new(),
        }
    }

    /// The members and settings now (one lock read and one reference count per statement).
    pub(crate) fn routing(&self) -> Arc<Routing> {
        self.routing
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn members(&self) -> Arc<Members> {
        self.routing().members.clone()
    }

    /// Puts `members` and `settings` in place together; queries running on the old members
    /// finish there. Returns the old members.
    pub(crate) fn replace(&self, members: Members, settings: Settings) -> Arc<Members> {
        let routing = Arc::new(Routing {
            members: Arc::new(members),
            settings,
        });
        let mut current = self
            .routing
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::replace(&mut *current, routing).members.clone()
    }

    pub(crate) fn pool(&self) -> &PoolConfig {
        &self.pool
    }

    pub(crate) fn metrics(&self) -> &RoutingMetrics {
        &self.metrics
    }

    /// Usable replicas, the first one picked round robin by weight, the others after it in
    /// order. Allocates nothing: it runs before every read.
    fn readable<'m>(&self, members: &'m Members) -> impl Iterator<Item = &'m Arc<Replica>> {
        let replicas = &members.replicas;
        let takes_reads = |r: &Arc<Replica>| r.weight > 0 && r.usable();
        let total: usize = replicas
            .iter()
            .filter(|r| takes_reads(r))
            .map(|r| r.weight as usize)
            .sum();
        let first = if total == 0 {
            0
        } else {
            let mut ticket = self.next.fetch_add(1, Ordering::Relaxed) % total;
            replicas
                .iter()
                .position(|r| {
                    if !takes_reads(r) {
                        return false;
                    }
                    let weight = r.weight as usize;
                    if ticket < weight {
                        true
                    } else {
                        ticket -= weight;
                        false
                    }
                })
                .unwrap_or(0)
        };
        replicas[first..]
            .iter()
            .chain(&replicas[..first])
            .filter(move |r| takes_reads(r))
    }

    /// Checks every replica once (concurrently, each within the replica acquire limit) and
    /// records which may take reads.
    pub(crate) async fn check_health(&self) {
        let routing = self.routing();
        let (members, settings) = (&routing.members, &routing.settings);
        if members.replicas.is_empty() {
            return;
        }
        let limit = self.pool.replica_acquire_timeout() + Duration::from_secs(1);
        let primary_position = match tokio::time::timeout(
            limit,
            self.replication.primary_position(&members.primary_probe),
        )
        .await
        {
            Ok(Ok(position)) => position,
            _ => None,
        };
        let mut checks = tokio::task::JoinSet::new();
        for replica in &members.replicas {
            let replica = replica.clone();
            let replication = self.replication;
            checks.spawn(async move {
                let probe = tokio::time::timeout(limit, replication.probe(&replica.probe)).await;
                (replica, probe)
            });
        }
        while let Some(Ok((replica, probe))) = checks.join_next().await {
            let probe = match probe {
                Ok(Ok(probe)) => probe,
                Ok(Err(error)) => {
                    replica.record_check(false, Some(one_line(&error)), None);
                    continue;
                }
                Err(_) => {
                    replica.record_check(false, Some(format!("no answer within {limit:?}")), None);
                    continue;
                }
            };
            let distance = match (&primary_position, &probe.applied) {
                (Some(primary), Some(applied)) => self.replication.distance(primary, applied),
                _ => None,
            };
            let problem = if let Some(problem) = probe.problem.clone() {
                Some(problem)
            } else if !probe.replicating {
                Some("not replicating".to_string())
            } else if let Some(lag) = probe
                .lag_seconds
                .filter(|l| *l > settings.max_lag.as_secs_f64())
            {
                Some(format!(
                    "lags {lag:.1} s, more than the limit of {:?}",
                    settings.max_lag
                ))
            } else if probe.lag_seconds.is_none() {
                Some("lag unknown".to_string())
            } else if let (Some(limit), Some(distance)) = (settings.max_lag_distance, distance)
                && distance > limit
            {
                Some(format!(
                    "{distance} behind the primary ({}), more than the limit of {limit}",
                    self.replication.name()
                ))
            } else {
                None
            };
            replica.record_check(problem.is_none(), problem, probe.applied);
        }
    }

    /// Runs a read on the primary, again after connection failures (`retries`, backoff).
    async fn read_primary<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &self,
        members: &Members,
        statement: &Statement,
        sql: &str,
        values: &[Value],
        decode: &mut F,
    ) -> Result<Vec<T>> {
        let mut attempt = 0;
        loop {
            match members
                .primary
                .fetch_statement(statement, sql, values, decode)
                .await
            {
                Err(error) if attempt < self.pool.retries && is_member_failure(&error) => {
                    tokio::time::sleep(PoolConfig::backoff(attempt)).await;
                    attempt += 1;
                }
                result => {
                    if result.is_ok() {
                        self.primary_reads
                            .get_or_init(|| self.metrics.reads_counter("primary"))
                            .inc();
                    }
                    return result;
                }
            }
        }
    }
}

impl Routed {
    /// Runs a query (`statement` is what the handle's statistics know of `sql`): reads as
    /// described in the [module documentation](self), anything else on the primary.
    ///
    /// What runs before every read allocates nothing and takes no lock but one read lock: the
    /// plain-read verdict is worked out once per statement text, the members and settings are
    /// one snapshot, a replica's health and the session's cleanliness are atomics. The
    /// read-your-writes steps, needed only after the session wrote, are boxed so the common
    /// read's future stays small.
    pub(crate) async fn fetch<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &self,
        statement: &Statement,
        sql: &str,
        values: &[Value],
        mut decode: F,
    ) -> Result<Vec<T>> {
        let router = &*self.router;
        let routing = router.routing();
        let (members, settings) = (&*routing.members, &routing.settings);
        if !statement.is_plain_read() {
            let result = members
                .primary
                .fetch_statement(statement, sql, values, &mut decode)
                .await;
            self.session.note_write();
            return result;
        }
        if self.on_primary || settings.read_preference == ReadPreference::Primary {
            return router
                .read_primary(members, statement, sql, values, &mut decode)
                .await;
        }
        let wanted = if settings.read_your_writes.is_none() || self.session.is_clean() {
            Wanted::Anything
        } else {
            Box::pin(self.wanted(members)).await
        };
        if matches!(wanted, Wanted::Primary) {
            router.metrics.waited("primary");
            return router
                .read_primary(members, statement, sql, values, &mut decode)
                .await;
        }
        let mut candidates = router.readable(members).peekable();
        if candidates.peek().is_none() && !members.replicas.is_empty() {
            router.metrics.fallback("unavailable");
        }
        for replica in candidates {
            if let Wanted::Position(position) = &wanted {
                match Box::pin(self.wait_on(replica.as_ref(), position, settings)).await {
                    Ok(true) => {}
                    Ok(false) => {
                        router.metrics.waited("primary");
                        return router
                            .read_primary(members, statement, sql, values, &mut decode)
                            .await;
                    }
                    Err(error) => {
                        replica.mark_down(one_line(&error));
                        router.metrics.fallback("failed");
                        continue;
                    }
                }
            }
            match replica
                .database
                .fetch_statement(statement, sql, values, &mut decode)
                .await
            {
                Ok(rows) => {
                    replica
                        .reads
                        .get_or_init(|| router.metrics.reads_counter(&replica.name))
                        .inc();
                    return Ok(rows);
                }
                Err(error) if is_member_failure(&error) => {
                    replica.mark_down(one_line(&error));
                    router.metrics.fallback("failed");
                }
                Err(error) => return Err(error),
            }
        }
        if settings.read_preference == ReadPreference::Replica {
            return Err(Error::Connect {
                backend: members.primary.backend(),
                reason: crate::ConnectFailure::Unreachable,
                location: "replicas".into(),
                message: "no replica is healthy within the lag limit".into(),
                hint: "the read preference is `replica`, which never reads from the primary; \
                       check the replicas' health, or prefer `replicaPreferred`"
                    .into(),
            });
        }
        router
            .read_primary(members, statement, sql, values, &mut decode)
            .await
    }

    /// A statement that returns no rows: on the primary, and the session has written.
    pub(crate) async fn execute(&self, sql: &str, values: &[Value]) -> Result<crate::Executed> {
        let routing = self.router.routing();
        let result = routing.members.primary.run_direct(sql, values).await;
        self.session.note_write();
        result
    }

    /// The position this session's reads need, once it wrote.
    async fn wanted(&self, members: &Members) -> Wanted {
        match self.session.state() {
            SessionState::Clean => Wanted::Anything,
            SessionState::At { position, .. } => Wanted::Position(position),
            SessionState::Wrote => {
                let writes = self.session.writes.load(Ordering::SeqCst);
                let limit = self.router.pool.replica_acquire_timeout() + Duration::from_secs(1);
                let position = tokio::time::timeout(
                    limit,
                    self.router
                        .replication
                        .primary_position(&members.primary_probe),
                )
                .await;
                match position {
                    Ok(Ok(Some(position))) => {
                        // Kept only when no write came in meanwhile: a later write may lie
                        // past this position.
                        if let Ok(mut state) = self.session.state.lock()
                            && self.session.writes.load(Ordering::SeqCst) == writes
                        {
                            *state = SessionState::At {
                                position: position.clone(),
                                reached_by: Vec::new(),
                            };
                        }
                        Wanted::Position(position)
                    }
                    _ => Wanted::Primary,
                }
            }
        }
    }

    /// Whether `replica` has the session's `position` (waiting for it up to the
    /// read-your-writes limit); an error is a connection failure of the replica.
    async fn wait_on(
        &self,
        replica: &Replica,
        position: &str,
        settings: &Settings,
    ) -> Result<bool> {
        if let SessionState::At { reached_by, .. } = self.session.state()
            && reached_by.contains(&replica.name)
        {
            return Ok(true);
        }
        let router = &*self.router;
        let known = replica
            .applied()
            .and_then(|applied| router.replication.covers(&applied, position));
        if known == Some(true) {
            self.session.reached(&replica.name, position);
            router.metrics.waited("reached");
            return Ok(true);
        }
        let wait = settings.read_your_writes.unwrap_or_default();
        let limit = wait + router.pool.replica_acquire_timeout();
        match tokio::time::timeout(
            limit,
            router.replication.wait_for(&replica.probe, position, wait),
        )
        .await
        {
            Ok(Ok(true)) => {
                self.session.reached(&replica.name, position);
                router.metrics.waited("reached");
                Ok(true)
            }
            Ok(Ok(false)) | Err(_) => Ok(false),
            Ok(Err(error)) if is_member_failure(&error) => Err(error),
            Ok(Err(error)) => {
                tracing::warn!(replica = %replica.name, error = %one_line(&error), "read-your-writes wait failed; reading from the primary");
                Ok(false)
            }
        }
    }
}

/// Checks the replicas every health check interval for as long as the router lives.
pub(crate) fn spawn_health_checks(router: &Arc<Router>) {
    let weak: Weak<Router> = Arc::downgrade(router);
    let interval = router
        .pool
        .health_check_interval
        .max(Duration::from_millis(50));
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(interval).await;
            let Some(router) = weak.upgrade() else {
                return;
            };
            router.check_health().await;
        }
    });
}

/// Whether `error` says the member failed (connection lost or refused, server shutting down,
/// a standby cancelling a read for replay) rather than the statement: such a read is worth
/// running elsewhere.
pub(crate) fn is_member_failure(error: &Error) -> bool {
    match error {
        Error::Connect { .. } => true,
        // A standby cancels a read that conflicts with replay with SQLSTATE 40001.
        Error::SerializationFailure { .. } => true,
        Error::Query { source, .. } => match source.get() {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(database) => database.code().is_some_and(|code| {
                // SQLSTATE classes 08 (connection exception) and 57 (operator intervention:
                // shutdown, cannot connect now).
                code.starts_with("08") || code.starts_with("57")
            }),
            _ => false,
        },
        _ => false,
    }
}

/// The first line of an error, for logs and health problems (never a URL with a password:
/// foxdb's errors hide them).
fn one_line(error: &Error) -> String {
    error
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_fifty_milliseconds_up_to_two_seconds() {
        assert_eq!(PoolConfig::backoff(0), Duration::from_millis(50));
        assert_eq!(PoolConfig::backoff(1), Duration::from_millis(100));
        assert_eq!(PoolConfig::backoff(3), Duration::from_millis(400));
        assert_eq!(PoolConfig::backoff(30), Duration::from_secs(2));
    }

    #[test]
    fn lost_connections_are_member_failures_but_bad_statements_are_not() {
        let backend = crate::Backend::Postgres;
        let lost = Error::query(
            backend,
            Some("SELECT 1"),
            sqlx::Error::Io(std::io::Error::other("reset")),
        );
        assert!(is_member_failure(&lost));
        assert!(is_member_failure(&Error::query(
            backend,
            None,
            sqlx::Error::PoolTimedOut
        )));
        let decode = Error::Decode {
            column: "a".into(),
            message: "bad".into(),
        };
        assert!(!is_member_failure(&decode));
        let not_found = Error::query(backend, None, sqlx::Error::RowNotFound);
        assert!(!is_member_failure(&not_found));
    }
}
