//! A connection that `LISTEN`s on one channel: its driving task hands the payloads of the
//! notifications it receives to the listener, in the order they arrive (the order the server
//! sent them in). When the connection drops, the listener says so at once and starts
//! reconnecting; its next wait ends when it listens again, and says that too (both times its
//! owner reads what it may have missed).

use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

use super::errors::driver_error;
use super::pool::TokioPgPool;

/// A listening connection: one of its pool's, never handed out for statements (it holds its
/// session for its whole life).
pub(crate) struct Listener {
    pool: TokioPgPool,
    channel: String,
    state: State,
}

enum State {
    Listening(Listening),
    /// Reconnecting, in a task of its own: a wait cut short does not cut the reconnect short.
    Connecting(JoinHandle<Result<Listening, sqlx::Error>>),
    /// Reconnecting failed: the next wait tries again.
    Lost,
}

struct Listening {
    /// Kept for the connection's life: the connection ends when its last client goes.
    _client: tokio_postgres::Client,
    /// The pool's connection it counts as.
    _slot: super::pool::Slot,
    notifications: UnboundedReceiver<String>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match self.state {
            State::Listening(_) => "listening",
            State::Connecting(_) => "connecting",
            State::Lost => "lost",
        };
        f.debug_struct("Listener")
            .field("channel", &self.channel)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// Connects with `pool`'s settings and runs `LISTEN channel`: once it returns, no
    /// notification sent on the channel is missed.
    ///
    /// # Errors
    /// Connecting or `LISTEN` failed.
    pub(crate) async fn listen(pool: &TokioPgPool, channel: &str) -> Result<Self, sqlx::Error> {
        let listening = connect(pool.clone(), channel.to_string()).await?;
        Ok(Self {
            pool: pool.clone(),
            channel: channel.to_string(),
            state: State::Listening(listening),
        })
    }

    /// Waits for notifications and returns the payloads of every one that arrived, in the order
    /// they were sent; `Ok(None)` when the connection dropped (notifications sent meanwhile
    /// are lost), and it starts reconnecting. The call after a drop waits until it listens
    /// again, then returns no payload: what was sent while it was not listening is lost, and
    /// the caller reads. Cancel-safe: dropped while waiting, nothing is lost, and a reconnect
    /// goes on.
    ///
    /// # Errors
    /// Reconnecting or `LISTEN` failed (the next call tries again).
    pub(crate) async fn recv(&mut self) -> Result<Option<Vec<String>>, sqlx::Error> {
        loop {
            match &mut self.state {
                State::Listening(listening) => {
                    let Some(first) = listening.notifications.recv().await else {
                        self.reconnect();
                        return Ok(None);
                    };
                    let mut payloads = vec![first];
                    while let Ok(next) = listening.notifications.try_recv() {
                        payloads.push(next);
                    }
                    return Ok(Some(payloads));
                }
                State::Connecting(connecting) => match connecting.await {
                    // Listening again: what was sent meanwhile is lost, so the caller reads.
                    Ok(Ok(listening)) => {
                        self.state = State::Listening(listening);
                        return Ok(Some(Vec::new()));
                    }
                    Ok(Err(error)) => {
                        self.state = State::Lost;
                        return Err(error);
                    }
                    Err(_) => {
                        self.state = State::Lost;
                        return Err(sqlx::Error::WorkerCrashed);
                    }
                },
                State::Lost => self.reconnect(),
            }
        }
    }

    /// Starts reconnecting (the old connection, if any, is gone).
    fn reconnect(&mut self) {
        self.state = State::Connecting(tokio::spawn(connect(
            self.pool.clone(),
            self.channel.clone(),
        )));
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        if let State::Connecting(connecting) = &self.state {
            connecting.abort();
        }
    }
}

/// Opens a listening connection of `pool`'s and listens on `channel`.
async fn connect(pool: TokioPgPool, channel: String) -> Result<Listening, sqlx::Error> {
    let (sender, notifications) = tokio::sync::mpsc::unbounded_channel();
    let (client, slot) = pool.connect_listening(sender).await?;
    client
        .batch_execute(&format!("LISTEN {}", quoted(&channel)))
        .await
        .map_err(driver_error)?;
    Ok(Listening {
        _client: client,
        _slot: slot,
        notifications,
    })
}

/// `name` as a quoted identifier.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
