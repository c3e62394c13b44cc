//! `examples/realtime/index.html` in headless Chromium (Debian's `chromium`, installed by
//! `e2e/services.sh`): the page follows `fox gateway` over a WebSocket and its table shows the
//! rows as they are, while rows are inserted, updated and deleted.

use std::time::Duration;

use fox_e2e::{Backend, TestDatabase};
use fox_operator::gateway::token::{Scope, mint};
use fox_operator::gateway::{Gateway, serve};
use foxdb::Database;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const SECRET: &[u8] = b"a test secret of at least thirty-two bytes";

/// Receives the page's reports: each POST body is the rendered table.
async fn report_server(listener: tokio::net::TcpListener, reports: mpsc::UnboundedSender<String>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let reports = reports.clone();
        tokio::spawn(async move {
            let mut received = Vec::new();
            let mut buffer = [0u8; 16384];
            loop {
                let Ok(n) = stream.read(&mut buffer).await else {
                    return;
                };
                if n == 0 {
                    return;
                }
                received.extend_from_slice(&buffer[..n]);
                let text = String::from_utf8_lossy(&received).into_owned();
                let Some(header_end) = text.find("\r\n\r\n") else {
                    continue;
                };
                let length = text[..header_end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .and_then(|v| v.trim().parse::<usize>().ok())
                    })
                    .unwrap_or(0);
                let body = &received[header_end + 4..];
                if body.len() >= length {
                    let _ = reports.send(String::from_utf8_lossy(&body[..length]).into_owned());
                    let _ = stream
                        .write_all(b"HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n")
                        .await;
                    return;
                }
            }
        });
    }
}

/// Waits for a report satisfying `wanted`.
async fn report_where(
    reports: &mut mpsc::UnboundedReceiver<String>,
    wanted: impl Fn(&str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut last = String::new();
    while let Ok(Some(report)) = tokio::time::timeout_at(deadline, reports.recv()).await {
        if wanted(&report) {
            return report;
        }
        last = report;
    }
    panic!("the page never rendered the expected rows; last rendered: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_page_shows_the_table_live_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok()
        })
        .expect("Chromium is installed (run e2e/services.sh, which installs Debian's chromium)");
    let test = TestDatabase::create(Backend::Sqlite).await;
    let db = Database::connect(test.url()).await.expect("connects");
    db.execute("PRAGMA journal_mode = WAL", &[])
        .await
        .expect("WAL");
    db.execute(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL)",
        &[],
    )
    .await
    .expect("creates items");
    test.install_capture(&db, "items").await;
    db.execute(
        "INSERT INTO items (id, name) VALUES (1, 'apple'), (2, 'banana')",
        &[],
    )
    .await
    .expect("inserts");

    let gateway_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let gateway_address = gateway_listener.local_addr().expect("address");
    let server = tokio::spawn(serve(
        gateway_listener,
        Gateway::start(db.clone(), SECRET.to_vec()),
    ));
    let report_listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let report_address = report_listener.local_addr().expect("address");
    let (sender, mut reports) = mpsc::unbounded_channel();
    let reporter = tokio::spawn(report_server(report_listener, sender));

    let token = mint(
        SECRET,
        &Scope {
            tables: vec!["items".into()],
            filters: Default::default(),
            exp: chrono::Utc::now().timestamp() + 600,
        },
    );
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/realtime/index.html")
        .canonicalize()
        .expect("the example page exists");
    let address = format!(
        "file://{}?gateway=ws://{gateway_address}&table=items&from=0&token={token}&report=http://{report_address}/",
        page.display()
    );
    let profile = tempfile::tempdir().expect("profile dir");
    let mut browser = tokio::process::Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-port=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(&address)
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starts chromium");

    // The log replayed from position 0: the rows as they are.
    report_where(&mut reports, |html| {
        html.contains("apple") && html.contains("banana")
    })
    .await;
    // Live changes.
    db.execute("UPDATE items SET name = 'apricot' WHERE id = 1", &[])
        .await
        .expect("updates");
    db.execute("DELETE FROM items WHERE id = 2", &[])
        .await
        .expect("deletes");
    db.execute("INSERT INTO items (id, name) VALUES (3, 'cherry')", &[])
        .await
        .expect("inserts");
    let shown = report_where(&mut reports, |html| {
        html.contains("apricot") && html.contains("cherry") && !html.contains("banana")
    })
    .await;
    assert!(!shown.contains("apple<"), "the old name is gone: {shown}");

    let _ = browser.kill().await;
    server.abort();
    reporter.abort();
}
