//! `/metrics`, `/healthz` and `/readyz` over real HTTP; the metrics parse as Prometheus text.

use std::sync::Arc;

use fox_operator::telemetry::Metrics;
use fox_operator::telemetry::server::{Health, ServerLimits, TelemetryServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(address: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: fox\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn metrics_and_health_endpoints_answer_over_http() {
    let metrics = Metrics::new();
    metrics.observe_reconcile("FoxSchema", std::time::Duration::from_millis(12));
    metrics.observe_error("FoxSchema", "database");
    metrics
        .replica_lag
        .with_label_values(&["shop", "orders", "replica"])
        .set(2.5);
    let health = Arc::new(Health::default());
    let server = TelemetryServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        metrics.clone(),
        health.clone(),
    )
    .await
    .unwrap();
    let address = server.local_addr().unwrap();
    let task = tokio::spawn(server.serve());

    assert_eq!(get(address, "/healthz").await.0, 200);
    assert_eq!(
        get(address, "/readyz").await.0,
        503,
        "not ready before the manager says so"
    );
    health.set_ready(true);
    assert_eq!(get(address, "/readyz").await.0, 200);
    assert_eq!(get(address, "/nope").await.0, 404);

    let (status, body) = get(address, "/metrics").await;
    assert_eq!(status, 200);
    let lines = body.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text format");
    let value = |name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name)
            .map(|s| s.value.clone())
            .unwrap_or_else(|| panic!("{name} missing from {body}"))
    };
    assert!(
        matches!(value("fox_reconcile_total"), prometheus_parse::Value::Counter(c) if c == 1.0)
    );
    assert!(
        matches!(value("fox_reconcile_errors_total"), prometheus_parse::Value::Counter(c) if c == 1.0)
    );
    assert!(
        matches!(value("fox_replica_lag_seconds"), prometheus_parse::Value::Gauge(g) if g == 2.5)
    );
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "fox_reconcile_duration_seconds_count"
                || s.metric == "fox_reconcile_duration_seconds")
    );
    for name in [
        "fox_reconcile_total",
        "fox_leader",
        "fox_replica_lag_seconds",
    ] {
        assert!(scrape.docs.contains_key(name), "{name} has no HELP line");
    }

    health.set_failed();
    assert_eq!(get(address, "/healthz").await.0, 503);
    assert_eq!(get(address, "/readyz").await.0, 503);
    task.abort();
}

/// File descriptors this process holds now (Linux).
fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd lists this process's descriptors")
        .count()
}

/// Reads until the server closes the connection, for at most `limit`.
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: std::time::Duration) -> bool {
    let mut buffer = [0u8; 512];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn slow_clients_cannot_keep_the_server_from_answering_healthz() {
    use std::time::{Duration, Instant};
    const SLOW_CLIENTS: usize = 500;
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(2),
        max_connections: 16,
    };
    let server = TelemetryServer::bind(
        "127.0.0.1:0".parse().unwrap(),
        Metrics::new(),
        Arc::new(Health::default()),
    )
    .await
    .unwrap()
    .with_limits(limits);
    let address = server.local_addr().unwrap();
    let task = tokio::spawn(server.serve());

    // A keep-alive client that sent one request and then idles is closed too.
    let mut idle = tokio::net::TcpStream::connect(address).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: fox\r\n\r\n")
        .await
        .unwrap();

    let before = open_descriptors();
    let mut slow = Vec::with_capacity(SLOW_CLIENTS);
    for _ in 0..SLOW_CLIENTS {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        // Half a request, never finished.
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: fox\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let started = Instant::now();
    let (status, _) = tokio::time::timeout(Duration::from_secs(1), get(address, "/healthz"))
        .await
        .expect("/healthz answers at once while 500 slow clients are connected");
    assert_eq!(status, 200);
    let server_side = open_descriptors().saturating_sub(before + SLOW_CLIENTS);
    assert!(
        server_side <= limits.max_connections + 4,
        "the server holds {server_side} connections, at most {} expected",
        limits.max_connections
    );
    for (i, stream) in slow.iter_mut().enumerate() {
        let left = (limits.header_read_timeout * 3).saturating_sub(started.elapsed());
        assert!(
            closed_within(stream, left).await,
            "slow client {i} is closed within the header read timeout"
        );
    }
    assert!(
        closed_within(&mut idle, limits.header_read_timeout * 2).await,
        "an idle keep-alive connection is closed"
    );
    assert_eq!(get(address, "/healthz").await.0, 200);
    task.abort();
}

/// Every metric the operator exports is described (docs/reference/metrics.md is generated from
/// the descriptions by operator/tests/reference_docs.rs), also those without a series yet.
#[test]
fn every_exported_metric_is_described() {
    let metrics = Metrics::new();
    let described: Vec<String> = metrics.descriptions().into_iter().map(|d| d.name).collect();
    assert_eq!(described, metrics.names(), "descriptions vs the registry");
    assert!(
        metrics.render().contains(&format!(
            "fox_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{}",
        metrics.render()
    );
}
