//! The pool of tokio-postgres connections behind a [`crate::Database`] whose
//! [`crate::PoolOptions::postgres_driver`] is [`crate::PostgresDriver::TokioPostgres`].
//!
//! # Guarantees
//! - At most `max_connections` connections are open or being opened; a checkout waits at most
//!   `acquire_timeout` for one.
//! - A connection goes back at once when its statement ends (the most recently used is handed
//!   out first, with its prepared statements); one that broke is closed instead.
//! - A connection idle at least `ping_after_idle`, or whose last statement failed, is pinged
//!   before use and replaced when the ping fails; one idle past `idle_timeout` is closed at the
//!   next checkout unless the pool would fall below `min_connections`.
//! - What wants a whole session of its own (a change-log listener, a two-phase-commit branch,
//!   reading the schema) gets a sqlx connection with the same settings: [`TokioPgPool::sessions`].

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::session::Session;
use super::tls::MakeRustls;

/// Pool settings.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) max_connections: u32,
    pub(crate) min_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) ping_after_idle: Duration,
}

/// A pool of tokio-postgres connections. Cloning shares it.
#[derive(Clone)]
pub(crate) struct TokioPgPool {
    shared: Arc<Shared>,
}

struct Shared {
    config: tokio_postgres::Config,
    tls: Option<MakeRustls>,
    settings: Settings,
    permits: Arc<tokio::sync::Semaphore>,
    idle: Mutex<Vec<Idle>>,
    open: AtomicU32,
    closed: AtomicBool,
    /// The sqlx pool for whole sessions (see the module's guarantees); opens no connection
    /// until one is asked for.
    sessions: sqlx::PgPool,
}

struct Idle {
    /// Boxed, as in [`Pooled`]: a session is moved on every checkout and return, and a
    /// `Session` is hundreds of bytes.
    session: Box<Session>,
    since: Instant,
    /// Its last statement failed: pinged before it is used again.
    suspect: bool,
}

impl std::fmt::Debug for TokioPgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (open, idle) = self.state();
        f.debug_struct("TokioPgPool")
            .field("open", &open)
            .field("idle", &idle)
            .field("settings", &self.shared.settings)
            .finish()
    }
}

impl TokioPgPool {
    /// A pool that opens connections as statements need them.
    pub(crate) fn new(
        config: tokio_postgres::Config,
        tls: Option<MakeRustls>,
        settings: Settings,
        sessions: sqlx::PgPool,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                config,
                tls,
                permits: Arc::new(tokio::sync::Semaphore::new(
                    settings.max_connections as usize,
                )),
                settings,
                idle: Mutex::default(),
                open: AtomicU32::new(0),
                closed: AtomicBool::new(false),
                sessions,
            }),
        }
    }

    /// Opens one connection outside the pool and closes it: what `Database::connect` checks
    /// the server with, so a refused password is reported at once with its cause.
    pub(crate) async fn probe(&self) -> Result<(), sqlx::Error> {
        Session::connect(&self.shared.config, self.shared.tls.as_ref())
            .await
            .map(drop)
    }

    /// The sqlx pool for work that holds a whole session.
    pub(crate) fn sessions(&self) -> &sqlx::PgPool {
        &self.shared.sessions
    }

    /// Connections open, and of those idle.
    pub(crate) fn state(&self) -> (u32, u32) {
        let idle = self
            .shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        (
            self.shared.open.load(Ordering::Relaxed),
            u32::try_from(idle).unwrap_or(u32::MAX),
        )
    }

    /// A connection: the most recently used idle one, else a new one. `now` is the
    /// statement's start.
    ///
    /// # Errors
    /// [`sqlx::Error::PoolTimedOut`] when none is free within the acquire timeout;
    /// [`sqlx::Error::PoolClosed`] after [`TokioPgPool::close`]; the server's error when
    /// opening a connection fails.
    pub(crate) async fn checkout(&self, now: Instant) -> Result<Pooled, sqlx::Error> {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        // The waits below are boxed: they are the rare paths, and the statement's future
        // (moved whole on every statement) stays small without them.
        let permit = match shared.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => Box::pin(tokio::time::timeout(
                shared.settings.acquire_timeout,
                shared.permits.clone().acquire_owned(),
            ))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)?
            .map_err(|_| sqlx::Error::PoolClosed)?,
        };
        loop {
            let Some(idle) = self.take_idle() else { break };
            let idle_for = now.saturating_duration_since(idle.since);
            let mut session = idle.session;
            if session.is_closed() {
                shared.open.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            if idle_for >= shared.settings.idle_timeout
                && shared.open.load(Ordering::Relaxed) > shared.settings.min_connections
            {
                shared.open.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            if (idle.suspect || idle_for >= shared.settings.ping_after_idle)
                && let Err(error) = Box::pin(session.ping()).await
            {
                // Expected after a server restart: closed, and the next one tried.
                tracing::debug!(%error, "an idle connection failed its ping");
                shared.open.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            return Ok(Pooled {
                session: Some(session),
                pool: self.shared.clone(),
                _permit: permit,
                suspect: false,
            });
        }
        let session = Box::new(
            Box::pin(tokio::time::timeout(
                shared.settings.acquire_timeout,
                Session::connect(&shared.config, shared.tls.as_ref()),
            ))
            .await
            .map_err(|_| sqlx::Error::PoolTimedOut)??,
        );
        shared.open.fetch_add(1, Ordering::Relaxed);
        Ok(Pooled {
            session: Some(session),
            pool: self.shared.clone(),
            _permit: permit,
            suspect: false,
        })
    }

    fn take_idle(&self) -> Option<Idle> {
        self.shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    /// Closes the idle connections and refuses further checkouts; connections in use close
    /// when their statement ends.
    pub(crate) async fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.permits.close();
        let idle = std::mem::take(
            &mut *self
                .shared
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        self.shared
            .open
            .fetch_sub(u32::try_from(idle.len()).unwrap_or(0), Ordering::Relaxed);
        drop(idle);
        self.shared.sessions.close().await;
    }
}

/// A connection taken from the pool; it goes back when dropped.
pub(crate) struct Pooled {
    session: Option<Box<Session>>,
    pool: Arc<Shared>,
    _permit: tokio::sync::OwnedSemaphorePermit,
    suspect: bool,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled")
            .field("suspect", &self.suspect)
            .finish_non_exhaustive()
    }
}

impl Pooled {
    /// The connection.
    #[allow(clippy::missing_panics_doc, reason = "taken only in Drop")]
    pub(crate) fn session(&mut self) -> &mut Session {
        self.session
            .as_mut()
            .expect("a pooled connection holds its session until dropped")
    }

    /// Marks the connection's last statement failed: it is pinged before its next use.
    pub(crate) fn failed(&mut self) {
        self.suspect = true;
    }

    /// Closes the connection instead of returning it (a transaction left open on it).
    pub(crate) fn discard(mut self) {
        if self.session.take().is_some() {
            self.pool.open.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Pooled {
    /// Gives the connection back, idle since `at` (the statement's end, already read).
    pub(crate) fn release_at(mut self, at: Instant) {
        self.give_back(at);
    }

    fn give_back(&mut self, at: Instant) {
        let Some(session) = self.session.take() else {
            return;
        };
        if session.is_closed() || self.pool.closed.load(Ordering::Acquire) {
            self.pool.open.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.pool
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Idle {
                session,
                since: at,
                suspect: self.suspect,
            });
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if self.session.is_some() {
            self.give_back(Instant::now());
        }
    }
}
