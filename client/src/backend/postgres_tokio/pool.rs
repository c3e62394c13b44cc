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
//! - `Database::connect` keeps the connection it checks the server with, and opens the rest of
//!   `min_connections` in the background; when connections are found closed, the pool opens
//!   new ones up to `min_connections` again (a lazily connected pool opens none ahead).
//! - A change-log listener ([`super::Listener`]) holds one of the pool's connections for its
//!   life and is never handed out for statements; a two-phase-commit branch holds a checked-out
//!   connection ([`Pooled`]) for its life, and [`Pooled::discard`] closes it.
//! - Only reading the schema (`Database::verify`, through the public sqlx `Connection`) gets a
//!   sqlx connection with the same settings: [`TokioPgPool::sessions`], a pool built, and a
//!   connection opened, only when one is first asked for; it opens no
//!   connection until one is asked for (and none to keep `min_connections` open).

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
    /// A task is opening connections up to `min_connections` ([`TokioPgPool::keep_minimum`]).
    filling: AtomicBool,
    /// The sqlx pool for whole sessions (see the module's guarantees).
    sessions: Sessions,
}

/// sqlx's pool for whole sessions, built when one is first asked for: until then a pool costs
/// neither a connection nor sqlx's maintenance task.
pub(crate) struct Sessions {
    options: sqlx::postgres::PgPoolOptions,
    connect: sqlx::postgres::PgConnectOptions,
    pool: std::sync::OnceLock<sqlx::PgPool>,
}

impl Sessions {
    /// A pool of `options` connecting with `connect`, once it is needed.
    pub(crate) fn new(
        options: sqlx::postgres::PgPoolOptions,
        connect: sqlx::postgres::PgConnectOptions,
    ) -> Self {
        Self {
            options,
            connect,
            pool: std::sync::OnceLock::new(),
        }
    }

    /// The pool (lazy itself: it opens a connection when one is acquired).
    fn pool(&self) -> &sqlx::PgPool {
        self.pool
            .get_or_init(|| self.options.clone().connect_lazy_with(self.connect.clone()))
    }
}

impl Shared {
    /// Counts a newly opened connection and puts it with the idle ones.
    fn keep_idle(&self, session: Session) {
        self.open.fetch_add(1, Ordering::Relaxed);
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Idle {
                session: Box::new(session),
                since: Instant::now(),
                suspect: false,
            });
    }
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
        sessions: Sessions,
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
                filling: AtomicBool::new(false),
                sessions,
            }),
        }
    }

    /// Opens a first connection and keeps it idle: what `Database::connect` checks the server
    /// with, so a refused password is reported at once with its cause (and the first statement
    /// finds a connection open). The rest of `min_connections` open in the background.
    pub(crate) async fn probe(&self) -> Result<(), sqlx::Error> {
        let session = Session::connect(&self.shared.config, self.shared.tls.as_ref()).await?;
        self.shared.keep_idle(session);
        self.keep_minimum();
        Ok(())
    }

    /// Opens connections in a task of their own until `min_connections` are open, as sqlx's
    /// pool does; the task stops early when the pool is closed or dropped, every connection is
    /// checked out (those count), or opening one fails (the next statement opens its own and
    /// reports why). Does nothing outside a tokio runtime.
    fn keep_minimum(&self) {
        let shared = &self.shared;
        if shared.open.load(Ordering::Relaxed) >= shared.settings.min_connections
            || tokio::runtime::Handle::try_current().is_err()
            || shared.filling.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let pool = Arc::downgrade(shared);
        tokio::spawn(async move {
            while let Some(shared) = pool.upgrade()
                && !shared.closed.load(Ordering::Acquire)
                && shared.open.load(Ordering::Relaxed) < shared.settings.min_connections
                && let Ok(permit) = shared.permits.clone().try_acquire_owned()
            {
                let opened = tokio::time::timeout(
                    shared.settings.acquire_timeout,
                    Session::connect(&shared.config, shared.tls.as_ref()),
                )
                .await;
                match opened {
                    Ok(Ok(session)) if !shared.closed.load(Ordering::Acquire) => {
                        shared.keep_idle(session);
                    }
                    Ok(Ok(_closed_meanwhile)) => break,
                    Ok(Err(error)) => {
                        tracing::debug!(%error, "opening a connection to keep min_connections failed");
                        break;
                    }
                    Err(_) => break,
                }
                drop(permit);
            }
            if let Some(shared) = pool.upgrade() {
                shared.filling.store(false, Ordering::Release);
            }
        });
    }

    /// The sqlx pool for work that holds a whole session.
    pub(crate) fn sessions(&self) -> &sqlx::PgPool {
        self.shared.sessions.pool()
    }

    /// A pool of its own, of at most `max_connections`, to the same database with the same
    /// settings and TLS, its connections carrying `application_name` (a long-running reader's).
    /// None opens before one is needed.
    pub(crate) fn dedicated(&self, max_connections: u32, application_name: &str) -> Self {
        let mut config = self.shared.config.clone();
        config.application_name(application_name);
        let sessions = Sessions::new(
            sqlx::postgres::PgPoolOptions::new().max_connections(max_connections),
            self.shared
                .sessions
                .connect
                .clone()
                .application_name(application_name),
        );
        Self::new(
            config,
            self.shared.tls.clone(),
            Settings {
                max_connections,
                min_connections: 0,
                acquire_timeout: Duration::from_secs(10),
                idle_timeout: self.shared.settings.idle_timeout,
                ping_after_idle: self.shared.settings.ping_after_idle,
            },
            sessions,
        )
    }

    /// Opens a connection whose notifications' payloads go to `notifications` (a listener's):
    /// never handed out for statements, it holds one of the pool's connections (the permit)
    /// for its life.
    ///
    /// # Errors
    /// As [`TokioPgPool::checkout`].
    pub(super) async fn connect_listening(
        &self,
        notifications: tokio::sync::mpsc::UnboundedSender<String>,
    ) -> Result<(tokio_postgres::Client, tokio::sync::OwnedSemaphorePermit), sqlx::Error> {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        let permit = tokio::time::timeout(
            shared.settings.acquire_timeout,
            shared.permits.clone().acquire_owned(),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
        .map_err(|_| sqlx::Error::PoolClosed)?;
        let client = tokio::time::timeout(
            shared.settings.acquire_timeout,
            super::session::open(&shared.config, shared.tls.as_ref(), Some(notifications)),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok((client, permit))
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
                self.keep_minimum();
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
                self.keep_minimum();
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
        if let Some(sessions) = self.shared.sessions.pool.get() {
            sessions.close().await;
        }
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
