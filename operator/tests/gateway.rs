//! `fox gateway` against real databases: refusals before any row (401 without or with a bad
//! token, 403 outside the token's scope, 400 with the reason for a malformed filter), SSE
//! with filters and `Last-Event-ID` resume, WebSocket messages, and `/metrics`.

use std::collections::BTreeMap;
use std::time::Duration;

use fox_e2e::{Backend, TestDatabase};
use fox_operator::gateway::token::{Scope, mint};
use fox_operator::gateway::{Gateway, serve};
use foxdb::Database;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &[u8] = b"a test secret of at least thirty-two bytes";

async fn captured_items(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    db.execute(
        "CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(50) NOT NULL, team VARCHAR(10) NOT NULL)",
        &[],
    )
    .await
    .expect("creates items");
    test.install_capture(&db, "items").await;
    (test, db)
}

fn token(tables: &[&str], filters: &[(&str, &str)]) -> String {
    mint(
        SECRET,
        &Scope {
            tables: tables.iter().map(ToString::to_string).collect(),
            filters: filters
                .iter()
                .map(|(c, v)| ((*c).to_string(), (*v).to_string()))
                .collect::<BTreeMap<_, _>>(),
            exp: chrono::Utc::now().timestamp() + 600,
        },
    )
}

/// Sends a GET and returns the status and whatever arrives within `wait`.
async fn get(
    address: std::net::SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    wait: Duration,
) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut received = Vec::new();
    let mut buffer = [0u8; 8192];
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..n]);
    }
    let text = String::from_utf8_lossy(&received).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The `data:` lines of an SSE body, as JSON.
fn events(body: &str) -> Vec<serde_json::Value> {
    body.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str(data).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_refuses_before_reading_and_streams_what_a_token_grants() {
    for engine in Backend::ALL {
        let (_test, db) = captured_items(engine).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(serve(listener, Gateway::start(db.clone(), SECRET.to_vec())));
        tokio::time::sleep(Duration::from_millis(300)).await; // the shared reader starts
        let quick = Duration::from_millis(500);
        let team_a = token(&["items"], &[("team", "a")]);
        let bearer = format!("Bearer {team_a}");

        // Refusals, each before any row is read.
        assert_eq!(
            get(address, "/v1/changes?table=items", &[], quick).await.0,
            401,
            "{engine}"
        );
        let forged = format!("Bearer {}x", &team_a[..team_a.len() - 1]);
        assert_eq!(
            get(address, "/v1/changes", &[("Authorization", &forged)], quick)
                .await
                .0,
            401,
            "{engine}: a bad signature"
        );
        let other = format!("Bearer {}", token(&["others"], &[]));
        assert_eq!(
            get(
                address,
                "/v1/changes?table=items",
                &[("Authorization", &other)],
                quick
            )
            .await
            .0,
            403,
            "{engine}: a table outside the token"
        );
        assert_eq!(
            get(
                address,
                "/v1/changes?filter=team=b",
                &[("Authorization", &bearer)],
                quick
            )
            .await
            .0,
            403,
            "{engine}: a filter contradicting the token's"
        );
        let (status, body) = get(
            address,
            "/v1/changes?filter=team",
            &[("Authorization", &bearer)],
            quick,
        )
        .await;
        assert_eq!(status, 400, "{engine}");
        assert!(
            body.contains("column=value"),
            "{engine}: the reason: {body}"
        );

        // SSE: only team a's rows; then resume with Last-Event-ID.
        let sse = tokio::spawn(async move {
            get(
                address,
                "/v1/changes?table=items",
                &[(
                    "Authorization",
                    &format!("Bearer {}", token(&["items"], &[("team", "a")])),
                )],
                Duration::from_secs(3),
            )
            .await
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        for (id, team) in [(1, "a"), (2, "b"), (3, "a")] {
            db.execute(
                &format!("INSERT INTO items (id, name, team) VALUES ({id}, 'item {id}', '{team}')"),
                &[],
            )
            .await
            .expect("inserts");
        }
        let (status, body) = sse.await.expect("sse");
        assert_eq!(status, 200, "{engine}: {body}");
        let received = events(&body);
        let ids: Vec<i64> = received
            .iter()
            .filter_map(|e| e["new"]["id"].as_i64())
            .collect();
        assert_eq!(ids, [1, 3], "{engine}: team a only: {body}");
        assert_eq!(received[0]["op"], "insert");
        assert_eq!(received[0]["table"], "items");
        let first = received[0]["position"].as_i64().expect("position");
        let first_id = first.to_string();
        let (_, resumed) = get(
            address,
            "/v1/changes",
            &[("Authorization", &bearer), ("Last-Event-ID", &first_id)],
            Duration::from_secs(2),
        )
        .await;
        let resumed_ids: Vec<i64> = events(&resumed)
            .iter()
            .filter_map(|e| e["new"]["id"].as_i64())
            .collect();
        assert_eq!(
            resumed_ids,
            [3],
            "{engine}: resumes after the last event seen: {resumed}"
        );

        // WebSocket.
        let url = format!("ws://{address}/v1/changes/ws?table=items&access_token={team_a}");
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("upgrades");
        tokio::time::sleep(Duration::from_millis(300)).await;
        db.execute("UPDATE items SET name = 'renamed' WHERE id = 1", &[])
            .await
            .expect("updates");
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message")
            .expect("open")
            .expect("no error");
        let message: serde_json::Value =
            serde_json::from_str(message.to_text().expect("text")).expect("JSON");
        assert_eq!(message["op"], "update", "{engine}");
        assert_eq!(message["new"]["name"], "renamed", "{engine}");
        assert_eq!(message["old"]["name"], "item 1", "{engine}");
        drop(socket);

        let (_, metrics) = get(address, "/metrics", &[], quick).await;
        assert!(
            metrics.contains("fox_gateway_messages_total"),
            "{engine}: {metrics}"
        );
        assert!(
            metrics.contains("fox_gateway_refused_total{status=\"401\"} 2"),
            "{engine}: {metrics}"
        );
        server.abort();
    }
}
