//! The pool of tokio-postgres connections behind a [`crate::Database`] whose
//! [`crate::PoolOptions::postgres_driver`] is [`crate::PostgresDriver::TokioPostgres`].
//!
//! # Guarantees
//! - At most `max_connections` connections are open or being opened; a checkout waits at most
//!   `acquire_timeout` for one, and waiting checkouts are served in the order they came (a
//!   wait that ends, by its timeout or because its statement was dropped, just as a
//!   connection was handed to it, hands it on).
//! - A checkout takes its slot and an idle connection under one lock, and a return gives both
//!   back under one.
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

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
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
    /// The idle connections and the free slots, under one lock: a checkout takes a slot and
    /// an idle connection in one step, a return gives both back in one.
    slots: Mutex<Slots>,
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

/// What the pool's lock guards.
struct Slots {
    /// Idle connections, the most recently returned last.
    idle: Vec<Idle>,
    /// Slots no connection holds (of `max_connections`): a checkout takes one while it holds
    /// a connection, a listener for its life.
    free: u32,
    /// Checkouts waiting for a slot, oldest first: a returned slot goes to the first still
    /// waiting, before any new checkout can take it.
    waiting: VecDeque<tokio::sync::oneshot::Sender<()>>,
}

impl Slots {
    /// Gives a slot back: to the oldest checkout still waiting, else to the free ones.
    fn give_slot(&mut self) {
        while let Some(waiter) = self.waiting.pop_front() {
            if waiter.send(()).is_ok() {
                return;
            }
        }
        self.free += 1;
    }

    /// Takes a free slot, if there is one (none is free while checkouts wait).
    fn take_slot(&mut self) -> bool {
        let free = self.free > 0;
        if free {
            self.free -= 1;
        }
        free
    }
}

impl Shared {
    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a newly opened connection and puts it with the idle ones.
    fn keep_idle(&self, session: Session) {
        self.open.fetch_add(1, Ordering::Relaxed);
        self.slots().idle.push(Idle {
            session: Box::new(session),
            since: Instant::now(),
            suspect: false,
        });
    }

    /// A free slot now, if there is one.
    fn try_slot(self: &Arc<Self>) -> Option<Slot> {
        self.slots().take_slot().then(|| Slot {
            shared: Some(self.clone()),
        })
    }

    /// A slot, waiting at most `acquire_timeout` for one (first come, first served).
    ///
    /// # Errors
    /// [`sqlx::Error::PoolTimedOut`] when none came; [`sqlx::Error::PoolClosed`] when the
    /// pool closed meanwhile.
    async fn slot(self: &Arc<Self>) -> Result<Slot, sqlx::Error> {
        let receiver = {
            let mut slots = self.slots();
            if slots.take_slot() {
                return Ok(Slot {
                    shared: Some(self.clone()),
                });
            }
            if self.closed.load(Ordering::Acquire) {
                return Err(sqlx::Error::PoolClosed);
            }
            // Waits that ended without a slot (timed out, or their statement dropped) leave
            // their senders behind until a slot comes back: dropped here, so a pool that stays
            // full under load does not pile them up.
            slots.waiting.retain(|waiter| !waiter.is_closed());
            let (sender, receiver) = tokio::sync::oneshot::channel();
            slots.waiting.push_back(sender);
            receiver
        };
        let waiting = Waiting {
            shared: self,
            receiver,
        };
        match tokio::time::timeout(self.settings.acquire_timeout, waiting).await {
            Ok(Ok(())) => Ok(Slot {
                shared: Some(self.clone()),
            }),
            // The pool closed: it drops every waiting sender.
            Ok(Err(_)) => Err(sqlx::Error::PoolClosed),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }
}

/// One of the pool's `max_connections` slots, held by whoever holds a connection (or is
/// opening one); given back when dropped.
pub(crate) struct Slot {
    /// `None` once handed over to a [`Pooled`], which gives it back itself.
    shared: Option<Arc<Shared>>,
}

impl Slot {
    /// The pool, the slot now the caller's to give back.
    fn into_shared(mut self) -> Arc<Shared> {
        self.shared
            .take()
            .expect("a slot holds its pool until handed over")
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            shared.slots().give_slot();
        }
    }
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot").finish_non_exhaustive()
    }
}

/// A checkout waiting for a slot. Dropped after its slot was sent (its wait timed out, or
/// the statement was dropped, at that moment), it gives the slot on.
struct Waiting<'a> {
    shared: &'a Arc<Shared>,
    receiver: tokio::sync::oneshot::Receiver<()>,
}

impl Future for Waiting<'_> {
    type Output = Result<(), tokio::sync::oneshot::error::RecvError>;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let result = std::task::ready!(std::pin::Pin::new(&mut self.receiver).poll(cx));
        // Received: the slot is the caller's now, not this wait's to give on.
        self.receiver.close();
        std::task::Poll::Ready(result)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        // Closed under the lock, so no slot can be sent after the check.
        let mut slots = self.shared.slots();
        self.receiver.close();
        if self.receiver.try_recv().is_ok() {
            slots.give_slot();
        }
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
                slots: Mutex::new(Slots {
                    idle: Vec::new(),
                    free: settings.max_connections,
                    waiting: VecDeque::new(),
                }),
                settings,
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
                && let Some(slot) = shared.try_slot()
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
                drop(slot);
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
    /// never handed out for statements, it holds one of the pool's connections (the slot)
    /// for its life.
    ///
    /// # Errors
    /// As [`TokioPgPool::checkout`].
    pub(super) async fn connect_listening(
        &self,
        notifications: tokio::sync::mpsc::UnboundedSender<String>,
    ) -> Result<(tokio_postgres::Client, Slot), sqlx::Error> {
        let shared = &self.shared;
        if shared.closed.load(Ordering::Acquire) {
            return Err(sqlx::Error::PoolClosed);
        }
        let slot = shared.slot().await?;
        let client = tokio::time::timeout(
            shared.settings.acquire_timeout,
            super::session::open_listening(&shared.config, shared.tls.as_ref(), notifications),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
        Ok((client, slot))
    }

    /// Connections open, and of those idle.
    pub(crate) fn state(&self) -> (u32, u32) {
        let idle = self.shared.slots().idle.len();
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
        // A slot and the most recently used connection, in one step when both are there. The
        // slot is held by `pooled` from here: given back if anything below fails, or if the
        // statement is dropped meanwhile.
        let taken = {
            let mut slots = shared.slots();
            slots.take_slot().then(|| slots.idle.pop())
        };
        let (mut pooled, mut idle) = match taken {
            Some(idle) => (Pooled::holding_slot(shared.clone()), idle),
            // Boxed: the rare path, and the statement's future (moved whole on every
            // statement) stays small without it.
            None => (
                Pooled::holding_slot(Box::pin(shared.slot()).await?.into_shared()),
                None,
            ),
        };
        loop {
            let Some(mut idle) = idle.take().or_else(|| self.take_idle()) else {
                break;
            };
            let idle_for = now.saturating_duration_since(idle.since);
            // What the server sent while the connection was idle (nobody drives it between
            // statements): its end, if it closed the connection.
            idle.session.refresh();
            if idle.session.is_closed() {
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
            let ping = idle.suspect || idle_for >= shared.settings.ping_after_idle;
            pooled.session = Some(idle.session);
            if ping {
                // Still suspect if the statement is dropped during the ping.
                pooled.suspect = true;
                if let Err(error) = Box::pin(pooled.session().ping()).await {
                    // Expected after a server restart: closed, and the next one tried.
                    tracing::debug!(%error, "an idle connection failed its ping");
                    pooled.session = None;
                    shared.open.fetch_sub(1, Ordering::Relaxed);
                    self.keep_minimum();
                    continue;
                }
                pooled.suspect = false;
            }
            return Ok(pooled);
        }
        let session = Box::pin(tokio::time::timeout(
            shared.settings.acquire_timeout,
            Session::connect(&shared.config, shared.tls.as_ref()),
        ))
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)??;
        shared.open.fetch_add(1, Ordering::Relaxed);
        pooled.session = Some(Box::new(session));
        Ok(pooled)
    }

    fn take_idle(&self) -> Option<Idle> {
        self.shared.slots().idle.pop()
    }

    /// Closes the idle connections and refuses further checkouts; connections in use close
    /// when their statement ends.
    pub(crate) async fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        let (idle, waiting) = {
            let mut slots = self.shared.slots();
            (
                std::mem::take(&mut slots.idle),
                std::mem::take(&mut slots.waiting),
            )
        };
        // Their checkouts fail with `PoolClosed`.
        drop(waiting);
        self.shared
            .open
            .fetch_sub(u32::try_from(idle.len()).unwrap_or(0), Ordering::Relaxed);
        drop(idle);
        if let Some(sessions) = self.shared.sessions.pool.get() {
            sessions.close().await;
        }
    }
}

/// A connection taken from the pool; it goes back, with its slot, when dropped.
pub(crate) struct Pooled {
    session: Option<Box<Session>>,
    /// The pool, whose slot this holds until dropped.
    pool: Arc<Shared>,
    suspect: bool,
    /// Set by [`Pooled::release_at`]: idle since the statement's end.
    idle_since: Option<Instant>,
    /// Held by the task that reads what an interrupted statement left on the connection
    /// ([`Pooled::drain`]): interrupted again, the connection is closed instead.
    draining: bool,
}

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pooled")
            .field("suspect", &self.suspect)
            .finish_non_exhaustive()
    }
}

impl Pooled {
    /// Holds one of `pool`'s slots, with no connection yet.
    fn holding_slot(pool: Arc<Shared>) -> Self {
        Self {
            session: None,
            pool,
            suspect: false,
            idle_since: None,
            draining: false,
        }
    }

    /// The connection.
    #[allow(
        clippy::missing_panics_doc,
        reason = "a checkout hands it out holding its session, taken only in Drop"
    )]
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
        self.idle_since = Some(at);
    }
}

impl Pooled {
    /// Hands `session`, whose statement was given up before it finished, and this slot to a
    /// task that reads the rest of the statement's reply and a ping's (nobody reads a
    /// connection between statements, and a server blocked on a full socket keeps the
    /// statement's snapshot and locks), then gives both back. False without a runtime.
    fn drain(&self, session: Box<Session>) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let mut pooled = Self {
            session: Some(session),
            pool: self.pool.clone(),
            // Back to the pool only after the ping succeeded; given up again, it is closed.
            suspect: false,
            idle_since: None,
            draining: true,
        };
        runtime.spawn(async move {
            if let Err(error) = pooled.session().ping().await {
                tracing::debug!(%error, "a connection failed its ping after an interrupted statement");
                pooled.discard();
            }
        });
        true
    }
}

impl Drop for Pooled {
    /// Gives the connection (unless it closed, was discarded, or the pool closed) and the
    /// slot back, in one step; a connection whose statement was given up goes with its slot
    /// to a task that drains it first ([`Pooled::drain`]).
    fn drop(&mut self) {
        if let Some(session) = self
            .session
            .take_if(|session| session.is_interrupted() && !session.is_closed() && !self.draining)
        {
            if self.drain(session) {
                // The slot went with it.
                return;
            }
            self.pool.open.fetch_sub(1, Ordering::Relaxed);
        }
        let kept = self.session.take().and_then(|session| {
            if session.is_closed()
                || session.is_interrupted()
                || self.pool.closed.load(Ordering::Acquire)
            {
                self.pool.open.fetch_sub(1, Ordering::Relaxed);
                None
            } else {
                Some(Idle {
                    session,
                    since: self.idle_since.unwrap_or_else(Instant::now),
                    suspect: self.suspect,
                })
            }
        });
        let mut slots = self.pool.slots();
        slots.idle.extend(kept);
        slots.give_slot();
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use futures_util::FutureExt as _;

    use super::*;

    /// A pool of `max_connections` that never connects: only its slots are used.
    fn pool(max_connections: u32, acquire_timeout: Duration) -> TokioPgPool {
        let connect = sqlx::postgres::PgConnectOptions::new();
        TokioPgPool::new(
            tokio_postgres::Config::new(),
            None,
            Settings {
                max_connections,
                min_connections: 0,
                acquire_timeout,
                idle_timeout: Duration::from_secs(60),
                ping_after_idle: Duration::from_secs(1),
            },
            Sessions::new(sqlx::postgres::PgPoolOptions::new(), connect),
        )
    }

    fn free(pool: &TokioPgPool) -> u32 {
        pool.shared.slots().free
    }

    #[tokio::test]
    async fn a_returned_slot_goes_to_the_oldest_wait_first() {
        let pool = pool(1, Duration::from_secs(10));
        let held = pool.shared.try_slot().expect("the only slot");
        assert!(pool.shared.try_slot().is_none(), "one slot only");
        let mut first = Box::pin(pool.shared.slot());
        let mut second = Box::pin(pool.shared.slot());
        assert!((&mut first).now_or_never().is_none());
        assert!((&mut second).now_or_never().is_none());
        drop(held);
        assert!(
            (&mut second).now_or_never().is_none(),
            "the second waits on"
        );
        let first = first.await.expect("the first wait gets the slot");
        assert_eq!(free(&pool), 0);
        drop(first);
        let second = second.await.expect("then the second");
        drop(second);
        assert_eq!(free(&pool), 1);
    }

    #[tokio::test]
    async fn a_wait_dropped_after_its_slot_was_sent_gives_it_on() {
        let pool = pool(1, Duration::from_secs(10));
        let held = pool.shared.try_slot().expect("the only slot");
        let mut abandoned = Box::pin(pool.shared.slot());
        let mut next = Box::pin(pool.shared.slot());
        assert!((&mut abandoned).now_or_never().is_none());
        assert!((&mut next).now_or_never().is_none());
        // The slot is sent to the first wait, which is dropped before it looks.
        drop(held);
        drop(abandoned);
        let next = (&mut next)
            .now_or_never()
            .expect("the slot was given on")
            .expect("a slot");
        drop(next);
        assert_eq!(free(&pool), 1);
        // Without any wait left, the slot is free for the next checkout.
        let mut alone = Box::pin(pool.shared.slot());
        let _slot = (&mut alone).now_or_never().expect("free").expect("a slot");
        let mut lost = Box::pin(pool.shared.slot());
        assert!((&mut lost).now_or_never().is_none());
        drop(lost);
        assert_eq!(
            free(&pool),
            0,
            "a wait dropped before any slot came takes none"
        );
    }

    #[tokio::test]
    async fn ended_waits_do_not_pile_up_while_the_pool_stays_full() {
        let pool = pool(1, Duration::from_millis(1));
        let _held = pool.shared.try_slot().expect("the only slot");
        for _ in 0..100 {
            let timed_out = pool.shared.slot().await.expect_err("no slot comes");
            assert!(
                matches!(timed_out, sqlx::Error::PoolTimedOut),
                "{timed_out:?}"
            );
            let mut dropped = Box::pin(pool.shared.slot());
            assert!((&mut dropped).now_or_never().is_none());
        }
        assert!(pool.shared.slots().waiting.len() <= 1);
    }

    #[tokio::test]
    async fn a_wait_times_out_and_a_closed_pool_ends_every_wait() {
        let pool = pool(1, Duration::from_millis(50));
        let held = pool.shared.try_slot().expect("the only slot");
        let timed_out = pool.shared.slot().await.expect_err("no slot came");
        assert!(
            matches!(timed_out, sqlx::Error::PoolTimedOut),
            "{timed_out:?}"
        );
        let mut waiting = Box::pin(pool.shared.slot());
        assert!((&mut waiting).now_or_never().is_none());
        pool.close().await;
        let closed = waiting.await.expect_err("the pool closed");
        assert!(matches!(closed, sqlx::Error::PoolClosed), "{closed:?}");
        assert!(matches!(
            pool.shared.slot().await,
            Err(sqlx::Error::PoolClosed)
        ));
        drop(held);
        assert_eq!(free(&pool), 1);
    }
}
