//! A tokio-postgres connection's I/O, driven by the statements run on it rather than by a task
//! of its own.
//!
//! tokio-postgres splits a connection in two: a `Client`, which queues requests on a channel,
//! and a `Connection`, the future that writes them to the socket, reads the replies and hands
//! each to its request's channel. Spawned as a task, the `Connection` costs every statement two
//! hand-offs between tasks (the request to the connection's task, the reply back), each a
//! wake-up and a turn of the runtime's scheduler: a third of a one-row statement's
//! instructions. A pooled connection serves one statement at a time, so the statement polls the
//! `Connection` itself, inside its own poll ([`Driver::run`]).
//!
//! # Guarantees
//! - No wake-up is lost: whatever wakes the statement or the connection (a reply on the socket,
//!   a request queued, a full reply channel drained) while neither is being polled wakes the
//!   task that last ran a statement on the connection.
//! - Inside a poll a wake-up is handled in the same poll instead: the connection is polled
//!   again after the statement queued a request, the statement again after the connection
//!   handed it a reply. A statement costs its task one poll per wait for the server.
//! - Between statements nobody polls the connection. A wake-up then (the server closed the
//!   connection or sent a notice, a prepared statement's handle dropped and queued its close)
//!   is remembered, and [`Driver::refresh`] (the pool's checkout) polls the connection before
//!   it is handed out, so a connection the server closed is found closed there.
//! - A statement given up before it finished (its future dropped, as a timeout drops it)
//!   leaves its connection [`Driver::is_interrupted`]; the pool hands such a connection, with
//!   its slot, to a task that reads the rest of the reply before it is used again
//!   (`Pooled::drain`), so the server is not left blocked on a full socket.
//! - A connection dropped before it ended (closed by the pool) is handed to a task of the
//!   runtime, which sends the server its `Terminate` and closes the socket.
//! - A listener's connection waits for notifications between statements, so it keeps a task of
//!   its own ([`Link::drive_to_end`]).

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;
use sync_wrapper::SyncWrapper;
use tokio_postgres::tls::NoTlsStream;
use tokio_postgres::{AsyncMessage, Connection, Socket};

use super::tls::RustlsStream;

/// A connection's I/O: tokio-postgres' `Connection`, plain or encrypted.
pub(super) enum Link {
    Plain(Connection<Socket, NoTlsStream>),
    Tls(Connection<Socket, RustlsStream<Socket>>),
    /// It ended: the server closed it, it broke, or its `Client` went.
    Ended,
}

impl Link {
    /// Sends the requests queued, reads what arrived and hands each reply to its request,
    /// until nothing is left to do; notices are logged, notifications' payloads go to
    /// `notifications` in the order they arrive (a listener's) or are dropped (a session does
    /// not listen). An error or the end of the connection leaves it [`Link::Ended`]: its
    /// requests' channels close, and the statements waiting on them fail.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        notifications: Option<&tokio::sync::mpsc::UnboundedSender<String>>,
    ) {
        loop {
            let message = match self {
                Self::Plain(connection) => connection.poll_message(cx),
                Self::Tls(connection) => connection.poll_message(cx),
                Self::Ended => return,
            };
            match message {
                Poll::Pending => return,
                Poll::Ready(Some(Ok(AsyncMessage::Notification(notification)))) => {
                    if let Some(notifications) = notifications {
                        // The listener is gone: nobody waits for the payload.
                        let _ = notifications.send(notification.payload().to_string());
                    }
                }
                Poll::Ready(Some(Ok(AsyncMessage::Notice(notice)))) => {
                    tracing::debug!(target: "foxdb::postgres", %notice, "server notice");
                }
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(error))) => {
                    tracing::debug!(target: "foxdb::postgres", %error, "connection ended");
                    *self = Self::Ended;
                    return;
                }
                Poll::Ready(None) => {
                    *self = Self::Ended;
                    return;
                }
            }
        }
    }

    /// Drives the connection until it ends, as [`Link::poll`] does: a listener's task (the
    /// `notifications` channel closes when the connection ends, how a listener learns it
    /// dropped), or a dropped connection's, which sends `Terminate` once its `Client` is gone.
    pub(super) async fn drive_to_end(
        mut self,
        notifications: Option<tokio::sync::mpsc::UnboundedSender<String>>,
    ) {
        std::future::poll_fn(|cx| {
            self.poll(cx, notifications.as_ref());
            if matches!(self, Self::Ended) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
    }
}

/// What the two sides' wakers share: the task to wake, and whether a statement is polling.
struct Wakeups {
    /// Set while [`Driver::run`] polls: a wake-up is then handled in the same poll, not passed
    /// on to the task.
    polling: AtomicBool,
    /// The task that last ran a statement on the connection.
    task: AtomicWaker,
}

/// The waker of one side, the statement or the connection: it notes that its side was woken,
/// and passes the wake-up on to the task unless a poll is under way.
struct Side {
    woken: AtomicBool,
    wakeups: Arc<Wakeups>,
}

impl Wake for Side {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Sequentially consistent with `Driver::poll_run`'s end: either this sees the poll
        // under way (and the poll then sees `woken`), or the task is woken.
        self.woken.store(true, Ordering::SeqCst);
        if !self.wakeups.polling.load(Ordering::SeqCst) {
            self.wakeups.task.wake();
        }
    }
}

impl Side {
    /// Whether the side was woken since it was last polled; clears it.
    fn take(&self) -> bool {
        self.woken.swap(false, Ordering::SeqCst)
    }

    fn is_woken(&self) -> bool {
        self.woken.load(Ordering::SeqCst)
    }
}

/// A connection's I/O and the wakers it is polled with (made once per connection).
pub(super) struct Driver {
    /// Reached only through `&mut`: a `Connection` holds buffers that are `Send` but not
    /// `Sync`, and a session is shared by reference across awaits.
    link: SyncWrapper<Link>,
    /// The link ended (kept beside it: `is_ended` reads it through `&self`).
    ended: bool,
    /// A statement started and did not finish: its future was dropped (a timeout) while the
    /// server may still be sending its reply.
    interrupted: bool,
    wakeups: Arc<Wakeups>,
    statement: Arc<Side>,
    connection: Arc<Side>,
    statement_waker: Waker,
    connection_waker: Waker,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("ended", &self.is_ended())
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// Drives `link`.
    pub(super) fn new(link: Link) -> Self {
        let wakeups = Arc::new(Wakeups {
            polling: AtomicBool::new(false),
            task: AtomicWaker::new(),
        });
        // Woken to begin with: the connection was never polled, so nothing would tell
        // `refresh` what the server sends before the first statement.
        let side = || {
            Arc::new(Side {
                woken: AtomicBool::new(true),
                wakeups: wakeups.clone(),
            })
        };
        let (statement, connection) = (side(), side());
        Self {
            ended: matches!(link, Link::Ended),
            interrupted: false,
            link: SyncWrapper::new(link),
            statement_waker: Waker::from(statement.clone()),
            connection_waker: Waker::from(connection.clone()),
            wakeups,
            statement,
            connection,
        }
    }

    /// Whether the connection ended.
    pub(super) fn is_ended(&self) -> bool {
        self.ended
    }

    /// Whether the last statement was given up before it finished (see [`Driver::run`]).
    pub(super) fn is_interrupted(&self) -> bool {
        self.interrupted
    }

    /// Polls the link with the connection's waker.
    fn poll_link(&mut self) {
        let link = self.link.get_mut();
        link.poll(&mut Context::from_waker(&self.connection_waker), None);
        self.ended = matches!(link, Link::Ended);
    }

    /// Handles what woke the connection since its last statement (see the module's
    /// guarantees): costs nothing when nothing did.
    pub(super) fn refresh(&mut self) {
        if self.connection.take() {
            self.wakeups.polling.store(true, Ordering::SeqCst);
            self.poll_link();
            self.wakeups.polling.store(false, Ordering::SeqCst);
        }
    }

    /// Runs `operation`, a statement of this connection's `Client`, polling the connection
    /// inside its polls.
    pub(super) async fn run<F: Future>(&mut self, operation: F) -> F::Output {
        let mut operation = pin!(operation);
        // The first poll starts the statement (it queues its request), then the connection
        // sends it.
        self.statement.woken.store(true, Ordering::Relaxed);
        self.connection.woken.store(true, Ordering::Relaxed);
        // Cleared when the statement finishes: left set if its future is dropped first.
        self.interrupted = true;
        let output = std::future::poll_fn(|cx| self.poll_run(operation.as_mut(), cx)).await;
        self.interrupted = false;
        output
    }

    fn poll_run<F: Future>(
        &mut self,
        mut operation: Pin<&mut F>,
        cx: &mut Context<'_>,
    ) -> Poll<F::Output> {
        self.wakeups.task.register(cx.waker());
        self.wakeups.polling.store(true, Ordering::SeqCst);
        loop {
            // A side woken during its own poll asks for the scheduler's turn: looping on would
            // spin. (Tokio's I/O budget, once spent, wakes at once under `Runtime::block_on`;
            // on a worker the wake is deferred until the poll returns, and arrives as a
            // wake-up between polls.) The I/O driver on another worker marking the socket
            // ready just then costs one extra turn.
            let mut yields = false;
            if self.statement.take() {
                if let Poll::Ready(output) = operation
                    .as_mut()
                    .poll(&mut Context::from_waker(&self.statement_waker))
                {
                    self.wakeups.polling.store(false, Ordering::SeqCst);
                    return Poll::Ready(output);
                }
                yields |= self.statement.is_woken();
            }
            if self.connection.take() {
                self.poll_link();
                yields |= self.connection.is_woken();
            }
            self.wakeups.polling.store(false, Ordering::SeqCst);
            if yields {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // Woken during this pass (the reply handed over, the request queued), or as the
            // poll ended (not passed on): handled here.
            if !self.statement.is_woken() && !self.connection.is_woken() {
                return Poll::Pending;
            }
            self.wakeups.polling.store(true, Ordering::SeqCst);
        }
    }
}

impl Drop for Driver {
    /// A connection still open goes to a task that ends it (its `Client` is dropped first, so
    /// the connection sends `Terminate` and closes); without a runtime, it is just closed.
    fn drop(&mut self) {
        let link = std::mem::replace(self.link.get_mut(), Link::Ended);
        if matches!(link, Link::Ended) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(link.drive_to_end(None));
        }
    }
}
