//! The reader: a task that waits for wake-ups, reads the log after the last position it
//! delivered (on MySQL/MariaDB the read numbers committed changes first) and hands changes over
//! through a bounded channel. After an
//! error it reconnects with backoff and resumes after the last delivered position.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::capture::{ChangeCapture, LiveColumn, Numbering, Wake, capture_for};
use super::{Error, Operation, Position, RawChange};
use crate::connection::Value;
use crate::database::Database;
use crate::row::{FromColumn, Row};

/// Changes a reader fetches per query.
const BATCH: i64 = 500;
/// Changes handed over but not yet taken by the consumer, at most.
const CHANNEL: usize = 1024;
/// Longest wait between polls while idle (engines without notifications).
const MAX_POLL: Duration = Duration::from_millis(8);
/// Shortest wait between polls, right after activity.
const MIN_POLL: Duration = Duration::from_micros(500);
/// How long after the last change polls stay at [`MIN_POLL`] before they back off: writes
/// come in bursts, and a reader that backed off after a few empty polls adds up to
/// [`MAX_POLL`] to the first change of the next one.
const BUSY_WINDOW: Duration = Duration::from_millis(250);
/// With notifications: look anyway this often (a notification sent while reconnecting is lost).
#[cfg(feature = "postgres")]
const SAFETY_POLL: Duration = Duration::from_secs(1);
/// The reader's first wait before reconnecting, doubled after each failed attempt up to
/// [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);
/// The reader's longest wait before reconnecting.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// `application_name` of the reader's PostgreSQL connections.
pub(crate) const APPLICATION_NAME: &str = "foxdb-subscriber";

/// Which changes a [`tail`] reads.
#[derive(Clone, Debug, Default)]
pub struct TailOptions {
    /// Only these tables (each must have capture); empty: every table.
    pub tables: Vec<String>,
    /// Start after this position; `None`: after the newest change now (only new changes).
    pub from: Option<Position>,
}

/// A stream of changes (or errors) from a reader task; dropping it stops the task.
#[derive(Debug)]
pub struct ChangeStream<T> {
    receiver: tokio::sync::mpsc::Receiver<Result<T, Error>>,
    control: Arc<Control>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Debug, Default)]
struct Control {
    reconnect: std::sync::atomic::AtomicBool,
    reconnects: std::sync::atomic::AtomicU64,
}

impl<T> ChangeStream<T> {
    /// Makes the reader drop its connections and open new ones, as it does by itself after an
    /// error (it resumes after the last change it delivered). For a SQLite file replaced on
    /// disk, and for tests.
    pub fn reconnect(&self) {
        self.control
            .reconnect
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many times the reader reconnected so far: all its connections after an error, or
    /// PostgreSQL's listener alone after its connection dropped.
    pub fn reconnects(&self) -> u64 {
        self.control
            .reconnects
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl<T> Drop for ChangeStream<T> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<T> futures_core::Stream for ChangeStream<T> {
    type Item = Result<T, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.receiver.poll_recv(cx)
    }
}

/// Turns a batch of logged changes into what the stream carries (typed rows for
/// [`super::Subscribe`]).
pub(crate) trait Decoder: Send + 'static {
    type Item: Send + 'static;

    /// Reads what it needs once per connection (live column types).
    fn prepare(
        &mut self,
        db: &Database,
        capture: &'static dyn ChangeCapture,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    fn decode(
        &mut self,
        db: &Database,
        capture: &'static dyn ChangeCapture,
        batch: Vec<RawChange>,
    ) -> impl Future<Output = Result<Vec<Self::Item>, Error>> + Send;
}

/// Hands logged changes over as they are.
#[derive(Debug)]
struct AsLogged;

impl Decoder for AsLogged {
    type Item = RawChange;

    async fn prepare(&mut self, _: &Database, _: &'static dyn ChangeCapture) -> Result<(), Error> {
        Ok(())
    }

    async fn decode(
        &mut self,
        _: &Database,
        _: &'static dyn ChangeCapture,
        batch: Vec<RawChange>,
    ) -> Result<Vec<RawChange>, Error> {
        Ok(batch)
    }
}

/// Every change of the given tables as logged (row images as JSON), from a reader task of
/// its own with its own connections (at most two on PostgreSQL, one elsewhere).
///
/// # Errors
/// The first item is [`Error::NotCaptured`] when a table has no capture, or
/// [`Error::Database`] when the database cannot be reached at the start; later connection
/// errors are retried by the reader, not returned.
pub fn tail(db: &Database, options: TailOptions) -> ChangeStream<RawChange> {
    start(db, options, None, AsLogged)
}

/// Starts a reader; a `durable` subscriber starts after its acknowledged position (registered
/// at `options.from`, or the newest change, the first time).
pub(crate) fn start<D: Decoder>(
    db: &Database,
    options: TailOptions,
    durable: Option<String>,
    decoder: D,
) -> ChangeStream<D::Item> {
    let (sender, receiver) = tokio::sync::mpsc::channel(CHANNEL);
    let control = Arc::new(Control::default());
    let task = tokio::spawn(run(
        db.clone(),
        options,
        durable,
        decoder,
        sender,
        Arc::clone(&control),
    ));
    ChangeStream {
        receiver,
        control,
        task,
    }
}

/// The tables of `db` with capture installed.
///
/// # Errors
/// A query failed.
pub async fn captured_tables(db: &Database) -> crate::Result<Vec<String>> {
    let capture = capture_for(db.backend());
    let rows = db.fetch_all(capture.captured_tables(), &[]).await?;
    rows.iter()
        .map(|row| text_at(row, 0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| crate::Error::query(db.backend(), Some(capture.captured_tables()), e))
}

/// The newest position of `db`'s change log (0 when empty or missing).
///
/// # Errors
/// A query failed.
pub async fn head_position(db: &Database) -> crate::Result<Position> {
    let capture = capture_for(db.backend());
    if captured_tables(db).await?.is_empty() && !log_exists(db).await? {
        return Ok(Position(0));
    }
    let rows = db.fetch_all(capture.head_position(), &[]).await?;
    let head = rows
        .first()
        .map(|row| i64::from_column_at(row, 0))
        .transpose()
        .map_err(|e| crate::Error::query(db.backend(), Some(capture.head_position()), e))?
        .unwrap_or(0);
    Ok(Position(head))
}

async fn log_exists(db: &Database) -> crate::Result<bool> {
    let capture = capture_for(db.backend());
    // The head query reads the log's own bookkeeping; a missing log fails it.
    Ok(db.fetch_all(capture.head_position(), &[]).await.is_ok())
}

/// Deletes numbered changes committed before `before`, keeping every change a durable
/// subscriber has not acknowledged; returns how many.
///
/// # Errors
/// A query failed (a database without a change log has nothing to prune: 0).
pub async fn prune(db: &Database, before: chrono::DateTime<chrono::Utc>) -> crate::Result<u64> {
    prune_tables(db, before, &[]).await
}

/// [`prune`] of the changes of `tables` only (every table when empty): one table's retention.
///
/// # Errors
/// A query failed (a database without a change log has nothing to prune: 0).
pub async fn prune_tables(
    db: &Database,
    before: chrono::DateTime<chrono::Utc>,
    tables: &[String],
) -> crate::Result<u64> {
    if !log_exists(db).await? {
        return Ok(0);
    }
    let capture = capture_for(db.backend());
    db.execute(capture.create_subscribers(), &[]).await?;
    let cutoff = before.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let sql = capture
        .prune()
        .replace("{tables}", &super::capture::in_tables(db.backend(), tables));
    db.execute(&sql, &[Value::Text(cutoff)]).await
}

fn text_at(row: &Row, index: usize) -> Result<String, sqlx::Error> {
    String::from_column_at(row, index)
}

fn optional_text_at(row: &Row, index: usize) -> Result<Option<String>, sqlx::Error> {
    Option::<String>::from_column_at(row, index)
}

/// The reader's connections: a pool of its own (not the application's), on the source's
/// driver, plus PostgreSQL's listener.
struct Session {
    db: Database,
    capture: &'static dyn ChangeCapture,
    #[cfg(feature = "postgres")]
    listener: Option<Listener>,
    version: Option<i64>,
    poll: Duration,
    /// When the last read found changes.
    active_at: tokio::time::Instant,
    /// The last read found changes: read again at once (more may have committed meanwhile).
    found: bool,
}

impl Session {
    async fn open(source: &Database) -> Result<Self, Error> {
        let capture = capture_for(source.backend());
        let listens = matches!(capture.wake(), Wake::Notify(_));
        let db = source
            .dedicated(if listens { 2 } else { 1 }, APPLICATION_NAME)
            .await?;
        #[cfg(feature = "postgres")]
        let listener = match capture.wake() {
            Wake::Notify(channel) => Listener::open(&db, channel)
                .await
                .map_err(|e| crate::Error::query(db.backend(), Some("LISTEN"), e))?,
            _ => None,
        };
        // Changes an earlier capture left without a position get theirs now (the listener
        // is up, so their notification is not missed).
        if let Numbering::AtCommit { leftovers } = capture.numbering() {
            db.fetch_all(leftovers, &[]).await?;
        }
        Ok(Self {
            db,
            capture,
            #[cfg(feature = "postgres")]
            listener,
            version: None,
            poll: MIN_POLL,
            active_at: tokio::time::Instant::now(),
            found: false,
        })
    }

    async fn close(self) {
        #[cfg(feature = "postgres")]
        if let Some(listener) = self.listener {
            drop(listener);
        }
        self.db.close().await;
    }

    /// Waits until there may be something new (or a safety interval passed); returns the
    /// payloads of the notifications that woke it, in the order they were sent (none when
    /// the engine polls, or a wait ended without one).
    async fn wait(&mut self, control: &Control) -> Result<Vec<String>, Error> {
        match self.capture.wake() {
            Wake::Notify(_) => {
                #[cfg(feature = "postgres")]
                if let Some(listener) = &mut self.listener {
                    let mut waited = Duration::ZERO;
                    // Short slices, so a reconnect request is seen soon.
                    while waited < SAFETY_POLL {
                        if control.reconnect.load(std::sync::atomic::Ordering::SeqCst) {
                            return Ok(Vec::new());
                        }
                        let slice = Duration::from_millis(100);
                        match tokio::time::timeout(slice, listener.recv()).await {
                            Err(_) => waited += slice,
                            // The connection dropped; the next receive reconnects. Read now:
                            // notifications sent meanwhile are lost.
                            Ok(Ok(None)) => {
                                control
                                    .reconnects
                                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                                return Ok(Vec::new());
                            }
                            Ok(Ok(Some(payloads))) => return Ok(payloads),
                            Ok(Err(error)) => {
                                return Err(crate::Error::query(
                                    self.db.backend(),
                                    Some("LISTEN"),
                                    error,
                                )
                                .into());
                            }
                        }
                    }
                    return Ok(Vec::new());
                }
                tokio::time::sleep(MAX_POLL).await;
                Ok(Vec::new())
            }
            Wake::Version(query) => loop {
                if control.reconnect.load(std::sync::atomic::Ordering::SeqCst) {
                    return Ok(Vec::new());
                }
                let rows = self.db.fetch_all(query, &[]).await?;
                let version = rows
                    .first()
                    .map(|row| i64::from_column_at(row, 0))
                    .transpose()
                    .map_err(|e| crate::Error::query(self.db.backend(), Some(query), e))?;
                if version != self.version {
                    self.version = version;
                    self.poll = MIN_POLL;
                    return Ok(Vec::new());
                }
                self.idle().await;
            },
            Wake::Read => {
                if !std::mem::take(&mut self.found) {
                    self.idle().await;
                }
                Ok(Vec::new())
            }
        }
    }

    /// Waits one poll interval; the interval doubles up to [`MAX_POLL`] once nothing came for
    /// [`BUSY_WINDOW`].
    async fn idle(&mut self) {
        tokio::time::sleep(self.poll).await;
        if self.active_at.elapsed() >= BUSY_WINDOW {
            self.poll = (self.poll * 2).min(MAX_POLL);
        }
    }

    /// Reads up to a batch of changes after `after`.
    async fn read(&self, tables: &str, after: Position) -> Result<Vec<RawChange>, Error> {
        let sql = self.capture.read_changes().replace("{tables}", tables);
        let rows = self
            .db
            .fetch_all(&sql, &[Value::Int(after.0), Value::Int(BATCH)])
            .await?;
        let backend = self.db.backend();
        rows.iter()
            .map(|row| decode_change(row).map_err(|e| crate::Error::query(backend, Some(&sql), e)))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .collect()
    }
}

/// The reader's `LISTEN` connection, on the driver the reader's pool runs on.
#[cfg(feature = "postgres")]
enum Listener {
    Sqlx(sqlx::postgres::PgListener),
    TokioPostgres(crate::backend::postgres_tokio::Listener),
}

#[cfg(feature = "postgres")]
impl Listener {
    /// Listens on `channel` on a connection to `db` (`None` when `db` is not PostgreSQL).
    async fn open(db: &Database, channel: &str) -> Result<Option<Self>, sqlx::Error> {
        match db.pool() {
            crate::database::PoolRef::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(channel).await?;
                Ok(Some(Self::Sqlx(listener)))
            }
            crate::database::PoolRef::TokioPostgres(pool) => {
                crate::backend::postgres_tokio::Listener::listen(pool, channel)
                    .await
                    .map(|listener| Some(Self::TokioPostgres(listener)))
            }
            #[allow(unreachable_patterns, reason = "one arm per engine compiled in")]
            _ => Ok(None),
        }
    }

    /// Waits for notifications: the payloads of every one that arrived, in the order they were
    /// sent, or `None` when the connection dropped (the next call reconnects and listens
    /// again; on tokio-postgres it then returns no payload, so the log is read once the
    /// listener is back). Cancel-safe.
    async fn recv(&mut self) -> Result<Option<Vec<String>>, sqlx::Error> {
        match self {
            Self::Sqlx(listener) => {
                let Some(first) = listener.try_recv().await? else {
                    return Ok(None);
                };
                let mut payloads = vec![first.payload().to_string()];
                while let Some(next) = listener.next_buffered() {
                    payloads.push(next.payload().to_string());
                }
                Ok(Some(payloads))
            }
            Self::TokioPostgres(listener) => listener.recv().await,
        }
    }
}

fn decode_change(row: &Row) -> Result<Result<RawChange, Error>, sqlx::Error> {
    let position = Position(i64::from_column_at(row, 0)?);
    let table = text_at(row, 1)?;
    let operation = text_at(row, 2)?;
    let json = |text: Option<String>| -> Result<Option<serde_json::Value>, String> {
        text.map(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            .transpose()
    };
    let failed = |message: String| Error::Decode {
        position,
        table: table.clone(),
        message,
    };
    let Some(op) = Operation::parse(&operation) else {
        return Ok(Err(failed(format!("unknown operation {operation:?}"))));
    };
    let primary_key = match json(optional_text_at(row, 3)?) {
        Ok(key) => key.unwrap_or(serde_json::Value::Null),
        Err(message) => return Ok(Err(failed(message))),
    };
    let (old, new) = match (
        json(optional_text_at(row, 4)?),
        json(optional_text_at(row, 5)?),
    ) {
        (Ok(old), Ok(new)) => (old, new),
        (Err(message), _) | (_, Err(message)) => return Ok(Err(failed(message))),
    };
    let transaction_id = optional_text_at(row, 6)?;
    let committed = optional_text_at(row, 7)?.unwrap_or_default();
    let committed_at = match chrono::DateTime::parse_from_rfc3339(&committed) {
        Ok(time) => time.with_timezone(&chrono::Utc),
        Err(e) => return Ok(Err(failed(format!("commit time {committed:?}: {e}")))),
    };
    Ok(Ok(RawChange {
        position,
        table: table.clone(),
        op,
        primary_key,
        old,
        new,
        transaction_id,
        committed_at,
    }))
}

/// Checks that every table has capture.
async fn check_capture(db: &Database, tables: &[String]) -> Result<(), Error> {
    let captured = captured_tables(db).await?;
    for table in tables {
        if !captured.contains(table) {
            return Err(Error::NotCaptured {
                table: table.clone(),
                backend: db.backend(),
            });
        }
    }
    Ok(())
}

/// The live columns of `table` with their native types.
pub(crate) async fn live_columns(
    db: &Database,
    capture: &'static dyn ChangeCapture,
    table: &str,
) -> Result<Vec<LiveColumn>, Error> {
    let rows = db
        .fetch_all(capture.live_columns(), &[Value::Text(table.to_string())])
        .await?;
    rows.iter()
        .map(|row| {
            Ok(LiveColumn {
                name: text_at(row, 0)?,
                native_type: text_at(row, 1)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|e| crate::Error::query(db.backend(), Some(capture.live_columns()), e).into())
}

async fn run<D: Decoder>(
    source: Database,
    options: TailOptions,
    durable: Option<String>,
    mut decoder: D,
    sender: tokio::sync::mpsc::Sender<Result<D::Item, Error>>,
    control: Arc<Control>,
) {
    // Start: the tables must have capture; a failure here is the stream's only item.
    let start = async {
        check_capture(&source, &options.tables).await?;
        let from = match options.from {
            Some(position) => position,
            None => head_position(&source).await?,
        };
        match &durable {
            Some(name) => super::durable::register(&source, name, from).await,
            None => Ok::<_, Error>(from),
        }
    };
    let mut after = match start.await {
        Ok(from) => from,
        Err(error) => {
            let _ = sender.send(Err(error)).await;
            return;
        }
    };
    let tables = capture_for(source.backend()).table_filter(&options.tables);
    let mut backoff = MIN_BACKOFF;
    let mut first = true;
    loop {
        let mut session = match Session::open(&source).await {
            Ok(session) => session,
            Err(error) => {
                tracing::warn!(%error, "change reader cannot connect; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        if !first {
            control
                .reconnects
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        first = false;
        let (opened, opened_after) = (tokio::time::Instant::now(), after);
        let outcome = follow(
            &mut session,
            &mut after,
            &options,
            &tables,
            &mut decoder,
            &sender,
            &control,
        )
        .await;
        session.close().await;
        // A session that delivered changes, or lasted, was a good one: the next failure
        // waits the shortest time again, not the longest an earlier outage reached.
        if after != opened_after || opened.elapsed() >= MAX_BACKOFF {
            backoff = MIN_BACKOFF;
        }
        match outcome {
            Ok(Stop::ConsumerGone) => return,
            Ok(Stop::Reconnect) => {
                control
                    .reconnect
                    .store(false, std::sync::atomic::Ordering::SeqCst);
            }
            Err(Error::Decode { .. }) | Err(Error::NotCaptured { .. }) => {
                if let Err(error) = outcome {
                    let _ = sender.send(Err(error)).await;
                }
                return;
            }
            Err(error) => {
                tracing::debug!(%error, "change reader lost its connection; reconnecting");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

enum Stop {
    ConsumerGone,
    Reconnect,
}

/// Reads, decodes and hands over changes until an error, a reconnect request or the consumer
/// leaving.
async fn follow<D: Decoder>(
    session: &mut Session,
    after: &mut Position,
    options: &TailOptions,
    tables: &str,
    decoder: &mut D,
    sender: &tokio::sync::mpsc::Sender<Result<D::Item, Error>>,
    control: &Control,
) -> Result<Stop, Error> {
    decoder.prepare(&session.db, session.capture).await?;
    let mut read = true;
    loop {
        while read {
            let batch = session.read(tables, *after).await?;
            let full = i64::try_from(batch.len()).unwrap_or(i64::MAX) >= BATCH;
            let Some(last) = batch.last().map(|c| c.position) else {
                break;
            };
            // Activity: poll soon again (engines that poll).
            session.poll = MIN_POLL;
            session.active_at = tokio::time::Instant::now();
            session.found = true;
            if hand_over(session, decoder, sender, batch).await? {
                return Ok(Stop::ConsumerGone);
            }
            *after = last;
            read = full;
        }
        if sender.is_closed() {
            return Ok(Stop::ConsumerGone);
        }
        if control.reconnect.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(Stop::Reconnect);
        }
        let notified = session.wait(control).await?;
        if control.reconnect.load(std::sync::atomic::Ordering::SeqCst) {
            return Ok(Stop::Reconnect);
        }
        read = match notified_batch(session.capture, &notified, *after, &options.tables) {
            Some((batch, last)) => {
                if !batch.is_empty() && hand_over(session, decoder, sender, batch).await? {
                    return Ok(Stop::ConsumerGone);
                }
                *after = last;
                false
            }
            None => true,
        };
    }
}

/// Decodes a batch and sends it on; `true` when the consumer is gone.
async fn hand_over<D: Decoder>(
    session: &Session,
    decoder: &mut D,
    sender: &tokio::sync::mpsc::Sender<Result<D::Item, Error>>,
    batch: Vec<RawChange>,
) -> Result<bool, Error> {
    for item in decoder.decode(&session.db, session.capture, batch).await? {
        if sender.send(Ok(item)).await.is_err() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The changes that notifications carried whole, when they continue the log right after
/// `after` without a hole (positions follow commit order, so position `after + 1` notified
/// means nothing below it is still to come), with the last position they cover; `None` when
/// the log must be read: a notification of a position only, a position past a hole (a change
/// missed while reconnecting, or a number a failed commit used up), or no notification (a
/// safety interval, a poll).
fn notified_batch(
    capture: &'static dyn ChangeCapture,
    payloads: &[String],
    after: Position,
    tables: &[String],
) -> Option<(Vec<RawChange>, Position)> {
    if payloads.is_empty() {
        return None;
    }
    let mut last = after;
    let mut batch = Vec::new();
    for payload in payloads {
        match capture.notified_change(payload) {
            Some(change) if change.position <= last => {}
            Some(change) if change.position.0 == last.0 + 1 => {
                last = change.position;
                if tables.is_empty() || tables.contains(&change.table) {
                    batch.push(change);
                }
            }
            Some(_) => return None,
            None => match payload.parse::<i64>() {
                Ok(position) if position <= last.0 => {}
                _ => return None,
            },
        }
    }
    Some((batch, last))
}

/// The change log drives the query cache: `CacheInvalidator::follow(tail(&db, options))` bumps
/// the cached tables as changes commit, also those written outside foxdb.
#[cfg(feature = "cache")]
impl crate::cache::ChangeFeed for ChangeStream<RawChange> {
    async fn next_change(&mut self) -> Option<crate::cache::Change> {
        use futures_core::Stream as _;
        let item = std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await?;
        match item {
            Ok(change) => Some(crate::cache::Change {
                table: change.table,
                position: change.position.to_string(),
            }),
            Err(error) => {
                tracing::warn!(%error, "the change feed of the query cache stopped");
                None
            }
        }
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;
    use crate::realtime::postgres::PostgresCapture;

    fn whole(position: i64, table: &str) -> String {
        format!(
            r#"{{"p": {position}, "t": "{table}", "o": "insert", "k": {{"id": {position}}}, "b": null, "a": {{"id": {position}}}, "x": "7", "c": "2026-12-06T07:10:00.000001Z"}}"#
        )
    }

    #[test]
    fn notified_changes_are_delivered_only_when_they_continue_the_log() {
        static CAPTURE: PostgresCapture = PostgresCapture;
        let none: &[String] = &[];
        // Contiguous whole changes: delivered, other tables skipped but counted.
        let (batch, last) = notified_batch(
            &CAPTURE,
            &[whole(11, "users"), whole(12, "posts"), whole(13, "users")],
            Position(10),
            &["users".to_string()],
        )
        .expect("no read needed");
        assert_eq!(
            batch.iter().map(|c| c.position.0).collect::<Vec<_>>(),
            [11, 13]
        );
        assert_eq!(last, Position(13));
        // Already delivered ones are skipped.
        let (batch, last) = notified_batch(
            &CAPTURE,
            &[whole(9, "users"), whole(11, "users")],
            Position(10),
            none,
        )
        .expect("no read needed");
        assert_eq!(batch.len(), 1);
        assert_eq!(last, Position(11));
        // A hole, a position only, or nothing: read the log.
        assert!(notified_batch(&CAPTURE, &[whole(12, "users")], Position(10), none).is_none());
        assert!(notified_batch(&CAPTURE, &["11".to_string()], Position(10), none).is_none());
        assert!(notified_batch(&CAPTURE, &["numbered".to_string()], Position(10), none).is_none());
        assert!(notified_batch(&CAPTURE, &[], Position(10), none).is_none());
        // A position already read is no reason to read again.
        assert!(notified_batch(&CAPTURE, &["10".to_string()], Position(10), none).is_some());
    }
}
