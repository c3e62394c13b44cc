//! `fox gateway`: the change stream of one database for browsers, over WebSocket
//! (`/v1/changes/ws`) and Server-Sent Events (`/v1/changes`, resumable with `Last-Event-ID`),
//! per-table and per-column-equality filters, JSON messages, HMAC bearer tokens scoped to
//! tables and filters, and Prometheus metrics on `/metrics`.
//!
//! # Expected flow
//! One reader follows the whole change log and fans changes out to the connections that
//! start from now; each change is serialized once per distinct filter set (connections share
//! the text, not a copy); a connection resuming from a position (`Last-Event-ID`, `from=`)
//! reads the log with a reader of its own. Every request needs `Authorization: Bearer <token>` (or
//! `access_token=`, for browsers' EventSource and WebSocket, which cannot set headers):
//! none or an invalid one is 401, a table or filter outside the token's scope 403, a
//! malformed request 400 with the reason — all before any row is read.

pub mod request;
pub mod token;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use foxdb::realtime::{ChangeStream, RawChange, TailOptions, captured_tables, tail};
use futures_util::{FutureExt, SinkExt, StreamExt};
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};
use tokio::sync::broadcast;

use request::{Refusal, Wanted, filter_key, message_text, parse_request};

/// Changes buffered for live connections; one that falls further behind is closed (it
/// resumes with `Last-Event-ID`).
const FAN_OUT_BUFFER: usize = 8192;

/// What the gateway serves.
#[derive(Debug)]
pub struct Gateway {
    secret: Vec<u8>,
    db: foxdb::Database,
    live: broadcast::Sender<Arc<Outgoing>>,
    metrics: Metrics,
}

/// A change on its way to connections, with its message text per filter set: the unfiltered
/// text rendered once by the reader before fan-out (no lock on the common path), a filtered
/// one by the first connection that needs it and shared by the rest.
#[derive(Debug)]
struct Outgoing {
    change: RawChange,
    unfiltered: Option<Utf8Bytes>,
    filtered: std::sync::Mutex<HashMap<Arc<str>, Option<Utf8Bytes>>>,
}

impl Outgoing {
    fn new(change: RawChange) -> Self {
        let unfiltered = message_text(&change, &BTreeMap::new()).map(Utf8Bytes::from);
        Self {
            change,
            unfiltered,
            filtered: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// The message for a connection that wants `wanted` (its filters keyed by `key`), or
    /// `None` when it does not want this change.
    fn message(&self, wanted: &Wanted, key: &Arc<str>) -> Option<Utf8Bytes> {
        if !wanted.tables.contains(&self.change.table) {
            return None;
        }
        if wanted.filters.is_empty() {
            return self.unfiltered.clone();
        }
        let mut filtered = self
            .filtered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(text) = filtered.get(key) {
            return text.clone();
        }
        let text = message_text(&self.change, &wanted.filters).map(Utf8Bytes::from);
        filtered.insert(Arc::clone(key), text.clone());
        text
    }
}

#[derive(Debug)]
struct Metrics {
    registry: Registry,
    connections: IntGauge,
    messages: IntCounter,
    refused: IntCounterVec,
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let connections = IntGauge::new(
            "fox_gateway_connections",
            "Open WebSocket and SSE connections",
        )
        .unwrap_or_else(|_| unreachable!());
        let messages = IntCounter::new(
            "fox_gateway_messages_total",
            "Change messages sent to clients",
        )
        .unwrap_or_else(|_| unreachable!());
        let refused = IntCounterVec::new(
            Opts::new(
                "fox_gateway_refused_total",
                "Requests refused, by HTTP status",
            ),
            &["status"],
        )
        .unwrap_or_else(|_| unreachable!());
        let metrics = Self {
            registry,
            connections,
            messages,
            refused,
        };
        for metric in metrics.collectors() {
            let _ = metrics.registry.register(metric);
        }
        metrics
    }

    /// Every metric, as registered.
    fn collectors(&self) -> Vec<Box<dyn prometheus::core::Collector>> {
        vec![
            Box::new(self.connections.clone()),
            Box::new(self.messages.clone()),
            Box::new(self.refused.clone()),
        ]
    }
}

/// Name, type, labels and help of every metric the gateway exports (docs/reference/metrics.md
/// is generated from it).
pub fn metric_descriptions() -> Vec<crate::telemetry::metrics::MetricDescription> {
    crate::telemetry::metrics::describe(&Metrics::new().collectors())
}

impl Gateway {
    /// A gateway over `db`, checking tokens with `secret`; starts the shared reader.
    pub fn start(db: foxdb::Database, secret: Vec<u8>) -> Arc<Self> {
        let (live, _) = broadcast::channel(FAN_OUT_BUFFER);
        let gateway = Arc::new(Self {
            secret,
            db: db.clone(),
            live: live.clone(),
            metrics: Metrics::new(),
        });
        tokio::spawn(async move {
            let mut changes = tail(&db, TailOptions::default());
            while let Some(change) = changes.next().await {
                match change {
                    // No receivers is fine: nobody is listening live.
                    Ok(change) => drop(live.send(Arc::new(Outgoing::new(change)))),
                    Err(error) => tracing::error!(%error, "the gateway's change reader stopped"),
                }
            }
        });
        gateway
    }

    /// The HTTP routes.
    pub fn router(self: &Arc<Self>) -> axum::Router {
        axum::Router::new()
            .route("/v1/changes", get(sse))
            .route("/v1/changes/ws", get(websocket))
            .route("/metrics", get(metrics))
            .route("/healthz", get(|| async { "ok" }))
            .with_state(Arc::clone(self))
    }

    fn refuse(&self, status: StatusCode, why: &str) -> Response {
        self.metrics
            .refused
            .with_label_values(&[status.as_str()])
            .inc();
        let body = serde_json::json!({ "error": why }).to_string();
        let mut response =
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }

    /// Authenticates and parses a request: the token (401), the query (400), the scope
    /// (403), and that every table has capture (400) — before anything is read.
    async fn authorise(
        &self,
        headers: &HeaderMap,
        pairs: &[(String, String)],
    ) -> Result<Wanted, Response> {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_string)
            .or_else(|| {
                pairs
                    .iter()
                    .find(|(k, _)| k == "access_token")
                    .map(|(_, v)| v.clone())
            });
        let Some(bearer) = bearer else {
            return Err(self.refuse(
                StatusCode::UNAUTHORIZED,
                "a bearer token is required (Authorization: Bearer <token>, or access_token=)",
            ));
        };
        let scope = token::verify(&self.secret, &bearer, chrono::Utc::now().timestamp())
            .map_err(|e| self.refuse(StatusCode::UNAUTHORIZED, &e.to_string()))?;
        let last_event_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
        let wanted =
            parse_request(pairs, last_event_id, &scope).map_err(|refusal| match refusal {
                Refusal::BadRequest(why) => self.refuse(StatusCode::BAD_REQUEST, &why),
                Refusal::Forbidden(why) => self.refuse(StatusCode::FORBIDDEN, &why),
            })?;
        let captured = captured_tables(&self.db).await.map_err(|error| {
            tracing::warn!(%error, "the gateway cannot list captured tables");
            self.refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable",
            )
        })?;
        if let Some(table) = wanted.tables.iter().find(|t| !captured.contains(t)) {
            return Err(self.refuse(
                StatusCode::BAD_REQUEST,
                &format!("table {table} has no change capture (realtime: true in its FoxSchema)"),
            ));
        }
        Ok(wanted)
    }

    /// Where a connection's changes come from: the shared reader, or its own from a position.
    fn source(&self, wanted: &Wanted) -> Source {
        match wanted.from {
            None => Source::Live(self.live.subscribe()),
            Some(from) => Source::Resumed(tail(
                &self.db,
                TailOptions {
                    tables: wanted.tables.clone(),
                    from: Some(from),
                },
            )),
        }
    }
}

enum Source {
    Live(broadcast::Receiver<Arc<Outgoing>>),
    Resumed(ChangeStream<RawChange>),
}

/// What a connection finds waiting without blocking.
enum Waiting {
    Change(Arc<Outgoing>),
    Nothing,
    /// The connection should end (as [`Source::next`] returning `None`).
    End,
}

impl Source {
    /// A change already waiting, without waiting for one.
    fn try_next(&mut self) -> Waiting {
        match self {
            Self::Live(receiver) => match receiver.try_recv() {
                Ok(change) => Waiting::Change(change),
                Err(broadcast::error::TryRecvError::Empty) => Waiting::Nothing,
                Err(_) => Waiting::End,
            },
            Self::Resumed(_) => match self.next().now_or_never() {
                Some(Some(change)) => Waiting::Change(change),
                Some(None) => Waiting::End,
                None => Waiting::Nothing,
            },
        }
    }

    /// The next change; `None` when the connection should end (its reader stopped, or it
    /// fell too far behind the shared reader: the client resumes by position).
    async fn next(&mut self) -> Option<Arc<Outgoing>> {
        match self {
            Self::Live(receiver) => receiver.recv().await.ok(),
            Self::Resumed(stream) => match stream.next().await {
                Some(Ok(change)) => Some(Arc::new(Outgoing::new(change))),
                Some(Err(error)) => {
                    tracing::warn!(%error, "a resumed gateway connection's reader stopped");
                    None
                }
                None => None,
            },
        }
    }
}

/// Counts a connection while it lives.
struct Connected<'a>(&'a Metrics);

impl<'a> Connected<'a> {
    fn new(metrics: &'a Metrics) -> Self {
        metrics.connections.inc();
        Self(metrics)
    }
}

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        self.0.connections.dec();
    }
}

async fn sse(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    let wanted = match gateway.authorise(&headers, &pairs).await {
        Ok(wanted) => wanted,
        Err(refused) => return refused,
    };
    let mut source = gateway.source(&wanted);
    let key: Arc<str> = filter_key(&wanted.filters).into();
    let stream = async_stream(move |sender| async move {
        let _connected = Connected::new(&gateway.metrics);
        while let Some(change) = source.next().await {
            let Some(message) = change.message(&wanted, &key) else {
                continue;
            };
            let event = Event::default()
                .id(change.change.position.to_string())
                .event("change")
                .data(message.as_str());
            if sender
                .send(Ok::<_, std::convert::Infallible>(event))
                .await
                .is_err()
            {
                return;
            }
            gateway.metrics.messages.inc();
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

async fn websocket(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let wanted = match gateway.authorise(&headers, &pairs).await {
        Ok(wanted) => wanted,
        Err(refused) => return refused,
    };
    let source = gateway.source(&wanted);
    upgrade
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| forward(gateway, socket, source, wanted))
}

/// Read buffer of a WebSocket connection. Clients send only control frames (close, ping); the
/// WebSocket layer zero-fills its whole read buffer before every read attempt, and a
/// connection attempts one after each write it makes, so the default 128 KiB cost a 128 KiB
/// fill per message per connection. Longer frames are still read, in chunks of this size.
const READ_BUFFER: usize = 4096;

/// Most changes a connection queues before it writes them out.
const WRITE_BATCH: usize = 64;

async fn forward(gateway: Arc<Gateway>, mut socket: WebSocket, mut source: Source, wanted: Wanted) {
    let _connected = Connected::new(&gateway.metrics);
    let key: Arc<str> = filter_key(&wanted.filters).into();
    'connection: loop {
        tokio::select! {
            change = source.next() => {
                let Some(mut change) = change else { break };
                // Queue this change and those already waiting, then write them with one
                // flush: a connection that fell behind catches up in few writes, not one
                // system call per change.
                let mut queued = 0u64;
                let mut end = false;
                let mut taken = 1;
                loop {
                    if let Some(message) = change.message(&wanted, &key) {
                        if socket.feed(Message::Text(message)).await.is_err() {
                            break 'connection;
                        }
                        queued += 1;
                    }
                    if taken == WRITE_BATCH {
                        break;
                    }
                    taken += 1;
                    change = match source.try_next() {
                        Waiting::Change(next) => next,
                        Waiting::Nothing => break,
                        Waiting::End => {
                            end = true;
                            break;
                        }
                    };
                }
                if queued > 0 {
                    if socket.flush().await.is_err() {
                        break;
                    }
                    gateway.metrics.messages.inc_by(queued);
                }
                if end {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

async fn metrics(State(gateway): State<Arc<Gateway>>) -> Response {
    let mut body = Vec::new();
    let _ = TextEncoder::new().encode(&gateway.metrics.registry.gather(), &mut body);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// A stream fed by a task through a bounded channel (the task stops when the client leaves).
fn async_stream<T, F, Fut>(produce: F) -> impl futures_util::Stream<Item = T> + Send + 'static
where
    T: Send + 'static,
    F: FnOnce(tokio::sync::mpsc::Sender<T>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (sender, mut receiver) = tokio::sync::mpsc::channel(256);
    let task = tokio::spawn(produce(sender));
    let guard = AbortOnDrop(task);
    futures_util::stream::poll_fn(move |cx| {
        let _ = &guard;
        receiver.poll_recv(cx)
    })
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves the gateway on `listener` until the process ends.
///
/// # Errors
/// The listener failed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    gateway: Arc<Gateway>,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Messages are small and one-way: without TCP_NODELAY, Nagle's algorithm holds a message
    // back until the client acknowledges the previous one (a delayed ACK: up to 40 ms).
    let listener = listener.tap_io(|stream| {
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY on a gateway connection");
        }
    });
    axum::serve(listener, gateway.router()).await
}
