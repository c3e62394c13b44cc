//! The operator's one HTTP port: `/metrics`, `/healthz`, `/readyz`.
//!
//! `/healthz` answers 200 while the process runs its loops; `/readyz` answers 200 once the
//! manager reached the API server and found the FoxDB CRDs (a standby waiting for the leader
//! Lease is ready too: it can take over at once), 503 before.
//!
//! # Guarantees
//! Clients cannot hold the server (or the process's file descriptors) open: a request whose
//! headers are not complete within [`ServerLimits::header_read_timeout`] has its connection
//! closed, an idle keep-alive connection too, and at most [`ServerLimits::max_connections`]
//! connections are open at once: a new one takes the slot of the oldest connection that has not
//! sent a whole request, so clients that send nothing cannot keep `/healthz` from answering.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::Metrics;
use super::slots::Slots;

/// Health flags the endpoints report, set by the manager.
#[derive(Debug, Default)]
pub struct Health {
    ready: AtomicBool,
    failed: AtomicBool,
    /// Watches whose last answer was an error (a list or watch the API server refused, or a
    /// stream that broke); `/readyz` is 503 while any is here.
    failing_watches: std::sync::Mutex<std::collections::BTreeSet<String>>,
}

impl Health {
    /// Records the outcome of the latest answer of the watch named `watch`: an error makes
    /// `/readyz` 503 until that watch answers again.
    pub fn record_watch(&self, watch: &str, failed: bool) {
        let mut failing = self
            .failing_watches
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if failed {
            failing.insert(watch.to_string());
        } else if !failing.is_empty() {
            failing.remove(watch);
        }
    }

    /// The watches failing now.
    pub fn failing_watches(&self) -> Vec<String> {
        self.failing_watches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Whether `/readyz` answers 200.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
            && !self.failed.load(Ordering::Relaxed)
            && self
                .failing_watches
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty()
    }

    /// Marks the process ready (`/readyz` 200).
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// Marks a fatal failure (`/healthz` 503), so the kubelet restarts the pod.
    pub fn set_failed(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    fn is_alive(&self) -> bool {
        !self.failed.load(Ordering::Relaxed)
    }
}

/// How long and how many clients the server serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// A connection whose request headers are not complete this long after it opened (or after
    /// its previous response) is closed.
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for ServerLimits {
    /// 10 seconds for the headers (Prometheus and the kubelet send theirs at once) and 64
    /// connections (a scraper or two and the probes need a handful).
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 64,
        }
    }
}

/// A bound listener serving the endpoints.
#[derive(Debug)]
pub struct TelemetryServer {
    listener: TcpListener,
    metrics: Metrics,
    health: Arc<Health>,
    limits: ServerLimits,
}

impl TelemetryServer {
    /// Binds `address` (port 0 picks a free port; see [`TelemetryServer::local_addr`]).
    ///
    /// # Errors
    /// The address cannot be bound.
    pub async fn bind(
        address: SocketAddr,
        metrics: Metrics,
        health: Arc<Health>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        Ok(Self {
            listener,
            metrics,
            health,
            limits: ServerLimits::default(),
        })
    }

    /// Serves within `limits` instead of [`ServerLimits::default`].
    #[must_use]
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The bound address.
    ///
    /// # Errors
    /// The socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until the task is dropped; one connection's errors do not stop the server.
    pub async fn serve(self) {
        let Self {
            listener,
            metrics,
            health,
            limits,
        } = self;
        let slots = Arc::new(Slots::new(limits.max_connections));
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "metrics listener could not accept a connection");
                    // Out of descriptors, say: retrying at once would only spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let Some(slot) = slots.take() else {
                tracing::debug!(
                    "every metrics connection is answering a request; closing a new one"
                );
                continue;
            };
            let metrics = metrics.clone();
            let health = health.clone();
            let slots = slots.clone();
            tokio::spawn(async move {
                let in_service = slot.clone();
                let service = service_fn(move |request| {
                    in_service.mark_requested();
                    let response = respond(&request, &metrics, &health);
                    async move { Ok::<_, Infallible>(response) }
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(limits.header_read_timeout)
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    served = connection => {
                        if let Err(error) = served {
                            tracing::debug!(%error, "metrics connection ended with an error");
                        }
                    }
                    () = slot.evicted() => {}
                }
                slots.release(&slot);
            });
        }
    }
}

fn respond(
    request: &Request<Incoming>,
    metrics: &Metrics,
    health: &Health,
) -> Response<Full<Bytes>> {
    if request.method() != Method::GET {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET is served\n");
    }
    match request.uri().path() {
        "/metrics" => {
            let mut response = text(StatusCode::OK, &metrics.render());
            if let Ok(value) = "text/plain; version=0.0.4; charset=utf-8".parse() {
                response
                    .headers_mut()
                    .insert(http::header::CONTENT_TYPE, value);
            }
            response
        }
        "/healthz" if health.is_alive() => text(StatusCode::OK, "ok\n"),
        "/healthz" => text(StatusCode::SERVICE_UNAVAILABLE, "failed\n"),
        "/readyz" if health.is_ready() => text(StatusCode::OK, "ready\n"),
        "/readyz" => text(StatusCode::SERVICE_UNAVAILABLE, "not ready\n"),
        _ => text(
            StatusCode::NOT_FOUND,
            "not found; try /metrics, /healthz or /readyz\n",
        ),
    }
}

fn text(status: StatusCode, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
}
