//! `make bench-realtime`: per engine, commit → callback latency (p50/p99) of FoxDB's change
//! stream at a fixed commit rate, sustained changes/s with four writers at full speed and the
//! lag left when they stop, and the write cost of capture (single-row insert throughput with
//! capture on vs off); on PostgreSQL raw trigger + LISTEN/NOTIFY measured the same way in the
//! same run; and the gateway's commit → WebSocket message latency with many clients, next to
//! a raw fan-out (a trigger notifying the row, a task per core writing one pre-encoded frame to
//! each of its sockets) with the same clients, interleaved per rate: the honest limit of this machine.
//!
//! Latency is measured from the moment the writer sends its autocommit INSERT (so it includes
//! the write's own round trip, the same for every path). Sizes: `FOX_BENCH_CHANGES` (2,000),
//! `FOX_BENCH_RATE` changes/s (1,000), `FOX_BENCH_CLIENTS` (1,000), `FOX_BENCH_SECONDS` (5);
//! the gateway at each of `FOX_BENCH_GATEWAY_RATES` changes/s (`10,50`: with 1,000 clients
//! 10,000 and 50,000 messages/s) for `FOX_BENCH_GATEWAY_SECONDS` (4) each, its clients in a
//! child process (this binary run with `--clients`), timed by the wall clock the writer puts
//! in each row.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fox_e2e::{Backend, TestDatabase};
use foxdb::realtime::{TailOptions, capture_for, tail};
use foxdb::{ConnectOptions, Connection, Database, DatabaseUrl, Value};
use futures_util::StreamExt;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

type Sent = Arc<Mutex<HashMap<i64, Instant>>>;

/// The machine's 1-minute load average when a figure was taken (the machine is shared: a
/// figure means little without it).
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(mut latencies: Vec<f64>) -> (f64, f64, usize) {
    latencies.sort_by(f64::total_cmp);
    (
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.len(),
    )
}

fn insert_sql(engine: Backend, table: &str) -> String {
    let placeholders = if engine == Backend::Postgres {
        "$1, $2"
    } else {
        "?, ?"
    };
    format!("INSERT INTO {table} (id, payload) VALUES ({placeholders})")
}

/// Microseconds since the Unix epoch: a clock two processes on one machine share.
fn micros_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Sends `count` single-row inserts at `rate` per second from `first_id`, recording when each
/// was sent.
async fn paced_writer(
    db: Database,
    engine: Backend,
    table: &str,
    first_id: i64,
    count: u64,
    rate: u64,
    sent: Sent,
) {
    let sql = insert_sql(engine, table);
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let start = tokio::time::Instant::now();
    for i in 0..count {
        tokio::time::sleep_until(start + period * i as u32).await;
        let id = first_id + i as i64;
        sent.lock().expect("lock").insert(id, Instant::now());
        // The wall-clock send time travels in the row, for readers in another process.
        db.execute(
            &sql,
            &[Value::Int(id), Value::Text(micros_now().to_string())],
        )
        .await
        .expect("insert");
    }
}

async fn setup(engine: Backend) -> anyhow::Result<(TestDatabase, Database)> {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await?;
    if engine == Backend::Sqlite {
        db.execute("PRAGMA journal_mode = WAL", &[]).await?;
    }
    for table in ["bench_items", "plain_items"] {
        db.execute(
            &format!("CREATE TABLE {table} (id BIGINT PRIMARY KEY, payload VARCHAR(100) NOT NULL)"),
            &[],
        )
        .await?;
    }
    let url = DatabaseUrl::parse(test.url())?;
    let mut connection = Connection::connect(&url, &ConnectOptions::default()).await?;
    let schema = foxdb::introspect::introspect_schema(&mut connection).await?;
    connection.close().await;
    let table = schema
        .table("bench_items")
        .ok_or_else(|| anyhow::anyhow!("bench_items missing"))?;
    for sql in capture_for(engine).install(table) {
        db.execute(&sql, &[]).await?;
    }
    Ok((test, db))
}

/// FoxDB: latency at a fixed rate.
async fn foxdb_latency(
    db: &Database,
    engine: Backend,
    first_id: i64,
    count: u64,
    rate: u64,
) -> (f64, f64, usize) {
    let mut stream = tail(
        db,
        TailOptions {
            tables: vec!["bench_items".into()],
            from: None,
        },
    );
    // Let the reader start (it begins at the newest change).
    let _ = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
    let sent: Sent = Arc::default();
    let writer = tokio::spawn(paced_writer(
        db.clone(),
        engine,
        "bench_items",
        first_id,
        count,
        rate,
        Arc::clone(&sent),
    ));
    let mut latencies = Vec::with_capacity(count as usize);
    while latencies.len() < count as usize {
        let Ok(Some(Ok(change))) =
            tokio::time::timeout(Duration::from_secs(30), stream.next()).await
        else {
            eprintln!(
                "{engine}: FoxDB stream stalled after {} changes",
                latencies.len()
            );
            break;
        };
        let now = Instant::now();
        if let Some(id) = change.primary_key["id"].as_i64()
            && let Some(at) = sent.lock().expect("lock").get(&id)
        {
            latencies.push(now.duration_since(*at).as_secs_f64() * 1000.0);
        }
    }
    let _ = writer.await;
    summary(latencies)
}

/// FoxDB: four writers at full speed for `seconds`; returns (written/s, received/s during the
/// run, changes behind when the writers stopped, seconds to catch up).
async fn foxdb_sustained(
    db: &Database,
    engine: Backend,
    first_id: i64,
    seconds: u64,
) -> (f64, f64, u64, f64) {
    let mut stream = tail(
        db,
        TailOptions {
            tables: vec!["bench_items".into()],
            from: None,
        },
    );
    let _ = tokio::time::timeout(Duration::from_millis(500), stream.next()).await;
    let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut writers = Vec::new();
    for w in 0..4i64 {
        let db = db.clone();
        let written = Arc::clone(&written);
        let sql = insert_sql(engine, "bench_items");
        writers.push(tokio::spawn(async move {
            let mut id = first_id + w * 10_000_000;
            while Instant::now() < deadline {
                if db
                    .execute(&sql, &[Value::Int(id), Value::Text("x".into())])
                    .await
                    .is_ok()
                {
                    written.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                id += 1;
            }
        }));
    }
    let started = Instant::now();
    let mut received = 0u64;
    while Instant::now() < deadline {
        if let Ok(Some(Ok(_))) =
            tokio::time::timeout(Duration::from_millis(50), stream.next()).await
        {
            received += 1;
        }
    }
    for writer in writers {
        let _ = writer.await;
    }
    let run = started.elapsed().as_secs_f64();
    let total = written.load(std::sync::atomic::Ordering::Relaxed);
    let behind = total.saturating_sub(received);
    let drain_start = Instant::now();
    let mut drained = received;
    while drained < total {
        match tokio::time::timeout(Duration::from_secs(30), stream.next()).await {
            Ok(Some(Ok(_))) => drained += 1,
            _ => break,
        }
    }
    (
        total as f64 / run,
        received as f64 / run,
        behind,
        drain_start.elapsed().as_secs_f64(),
    )
}

/// Raw trigger + LISTEN/NOTIFY on PostgreSQL, measured like FoxDB.
async fn raw_notify_latency(
    test: &TestDatabase,
    db: &Database,
    first_id: i64,
    count: u64,
    rate: u64,
) -> anyhow::Result<(f64, f64, usize)> {
    raw_notifying_table(db, "raw_items", "raw_bench", "NEW.id::text").await?;
    let mut listener = sqlx::postgres::PgListener::connect(test.url()).await?;
    listener.listen("raw_bench").await?;
    let sent: Sent = Arc::default();
    let writer = tokio::spawn(paced_writer(
        db.clone(),
        Backend::Postgres,
        "raw_items",
        first_id,
        count,
        rate,
        Arc::clone(&sent),
    ));
    let mut latencies = Vec::with_capacity(count as usize);
    while latencies.len() < count as usize {
        let notification = tokio::time::timeout(Duration::from_secs(30), listener.recv()).await??;
        let now = Instant::now();
        if let Ok(id) = notification.payload().parse::<i64>()
            && let Some(at) = sent.lock().expect("lock").get(&id)
        {
            latencies.push(now.duration_since(*at).as_secs_f64() * 1000.0);
        }
    }
    let _ = writer.await;
    Ok(summary(latencies))
}

/// A table like `bench_items` whose inserts a plain trigger notifies on `channel` with
/// `payload` (a PL/pgSQL expression): the raw paths FoxDB is compared with.
async fn raw_notifying_table(
    db: &Database,
    table: &str,
    channel: &str,
    payload: &str,
) -> anyhow::Result<()> {
    db.execute(
        &format!("CREATE TABLE IF NOT EXISTS {table} (id BIGINT PRIMARY KEY, payload VARCHAR(100) NOT NULL)"),
        &[],
    )
    .await?;
    db.execute(
        &format!("CREATE OR REPLACE FUNCTION {channel}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{channel}', {payload}); RETURN NULL; END $$"),
        &[],
    )
    .await?;
    db.execute(
        &format!("CREATE OR REPLACE TRIGGER {channel} AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {channel}()"),
        &[],
    )
    .await?;
    Ok(())
}

/// Single-row autocommit inserts per second into `table`.
async fn insert_rate(
    db: &Database,
    engine: Backend,
    table: &str,
    first_id: i64,
    count: u64,
) -> f64 {
    let sql = insert_sql(engine, table);
    let started = Instant::now();
    for i in 0..count {
        let id = first_id + i as i64;
        db.execute(
            &sql,
            &[Value::Int(id), Value::Text(format!("payload {id}"))],
        )
        .await
        .expect("insert");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// The gateway with `clients` WebSocket clients on loopback, the clients in a process of their
/// own (this binary with `--clients`), so the figure is the gateway's and not the cost of
/// receiving 1,000 sockets' messages on the gateway's threads: commit → message latency over
/// every message every client received, at each rate of `rates` changes/s for `seconds`.
async fn gateway_latency(
    db: &Database,
    clients: u64,
    first_id: i64,
    rates: &[u64],
    seconds: u64,
) -> anyhow::Result<Vec<(u64, (f64, f64, usize))>> {
    use fox_operator::gateway::token::{Scope, mint};
    let secret = b"bench secret of at least thirty-two bytes!".to_vec();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let gateway = fox_operator::gateway::Gateway::start(db.clone(), secret.clone());
    let server = tokio::spawn(fox_operator::gateway::serve(listener, gateway));
    let token = mint(
        &secret,
        &Scope {
            tables: vec!["bench_items".into()],
            filters: Default::default(),
            exp: i64::MAX / 2,
        },
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let url = format!("ws://{address}/v1/changes/ws?access_token={token}");
    let results = fan_out_latency(db, &url, "bench_items", clients, first_id, rates, seconds).await;
    server.abort();
    results
}

/// The honest limit of a gateway on this machine, measured like it: a raw trigger notifying
/// each row whole (`row_to_json`), one `LISTEN` connection, and one task per core writing the
/// same pre-encoded WebSocket frame to each of its share of the sockets in turn — no tokens,
/// filters, per-connection tasks or change log; the same client process.
async fn raw_fan_out_latency(
    test: &TestDatabase,
    db: &Database,
    clients: u64,
    first_id: i64,
    rates: &[u64],
    seconds: u64,
) -> anyhow::Result<Vec<(u64, (f64, f64, usize))>> {
    raw_notifying_table(
        db,
        "raw_fan_out_items",
        "raw_fan_out",
        "row_to_json(NEW)::text",
    )
    .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    // One writer task per core, each with its share of the sockets.
    let shards = std::thread::available_parallelism().map_or(2, usize::from);
    let sockets: Vec<Arc<tokio::sync::Mutex<Vec<tokio::net::TcpStream>>>> =
        (0..shards).map(|_| Arc::default()).collect();
    let accepting = sockets.clone();
    let acceptor = tokio::spawn(async move {
        let mut next = 0;
        while let Ok((stream, _)) = listener.accept().await {
            let shard = Arc::clone(&accepting[next % accepting.len()]);
            next += 1;
            tokio::spawn(async move {
                if let Ok(stream) = websocket_handshake(stream).await {
                    shard.lock().await.push(stream);
                }
            });
        }
    });
    let (frames, _) = tokio::sync::broadcast::channel::<Arc<Vec<u8>>>(4096);
    let mut writers = Vec::new();
    for shard in sockets {
        let mut receiver = frames.subscribe();
        writers.push(tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            while let Ok(frame) = receiver.recv().await {
                for socket in shard.lock().await.iter_mut() {
                    let _ = socket.write_all(&frame).await;
                }
            }
        }));
    }
    let mut notifications = sqlx::postgres::PgListener::connect(test.url()).await?;
    notifications.listen("raw_fan_out").await?;
    writers.push(tokio::spawn(async move {
        while let Ok(notification) = notifications.recv().await {
            let _ = frames.send(Arc::new(text_frame(notification.payload())));
        }
    }));
    let url = format!("ws://{address}/");
    let results = fan_out_latency(
        db,
        &url,
        "raw_fan_out_items",
        clients,
        first_id,
        rates,
        seconds,
    )
    .await;
    acceptor.abort();
    for writer in writers {
        writer.abort();
    }
    results
}

/// The server side of a WebSocket opening handshake (RFC 6455 §4.2), by hand: the raw
/// fan-out keeps the bare socket.
async fn websocket_handshake(
    mut stream: tokio::net::TcpStream,
) -> anyhow::Result<tokio::net::TcpStream> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.set_nodelay(true)?;
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await?;
        anyhow::ensure!(read > 0, "the client left during the handshake");
        request.extend_from_slice(&buffer[..read]);
    }
    let text = String::from_utf8_lossy(&request);
    let key = text
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_string())
        })
        .ok_or_else(|| anyhow::anyhow!("no Sec-WebSocket-Key"))?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    stream
        .write_all(
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await?;
    Ok(stream)
}

/// An unmasked WebSocket text frame (a server's).
fn text_frame(text: &str) -> Vec<u8> {
    let mut frame = vec![0x81];
    let length = text.len();
    if length < 126 {
        frame.push(length as u8);
    } else if length < 65_536 {
        frame.push(126);
        frame.extend_from_slice(&(length as u16).to_be_bytes());
    } else {
        frame.push(127);
        frame.extend_from_slice(&(length as u64).to_be_bytes());
    }
    frame.extend_from_slice(text.as_bytes());
    frame
}

/// Commit → message latency of `clients` WebSocket clients of `url` (in a child process),
/// with rows written into `table` at each of `rates` changes/s for `seconds`.
async fn fan_out_latency(
    db: &Database,
    url: &str,
    table: &str,
    clients: u64,
    first_id: i64,
    rates: &[u64],
    seconds: u64,
) -> anyhow::Result<Vec<(u64, (f64, f64, usize))>> {
    use tokio::io::AsyncBufReadExt;
    let mut results = Vec::new();
    let mut next_id = first_id;
    for &rate in rates {
        let count = (rate * seconds).max(1);
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args([
                "--clients",
                &clients.to_string(),
                "--url",
                url,
                "--count",
                &count.to_string(),
            ])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow::anyhow!("the client process has no stdout"))?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        match lines.next_line().await? {
            Some(line) if line == "ready" => {}
            other => anyhow::bail!("the client process did not connect: {other:?}"),
        }
        // Let the server subscribe every connection.
        tokio::time::sleep(Duration::from_millis(500)).await;
        paced_writer(
            db.clone(),
            Backend::Postgres,
            table,
            next_id,
            count,
            rate,
            Arc::default(),
        )
        .await;
        next_id += count as i64;
        let line = lines
            .next_line()
            .await?
            .ok_or_else(|| anyhow::anyhow!("the client process ended without figures"))?;
        let figures: Vec<f64> = line
            .strip_prefix("latency ")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let [p50, p99, n] = figures[..] else {
            anyhow::bail!("the client process reported {line:?}");
        };
        results.push((rate, (p50, p99, n as usize)));
        let _ = child.wait().await;
    }
    Ok(results)
}

/// `--clients N --url URL --count C`: the client side of [`gateway_latency`]. Connects `N`
/// WebSockets, prints `ready`, reads `C` messages on each and prints `latency p50 p99 n`
/// (milliseconds from the send time in each row's payload to the message's arrival).
async fn run_clients(clients: u64, url: &str, count: u64) -> anyhow::Result<()> {
    let mut sockets = Vec::new();
    for _ in 0..clients {
        // Nagle off, as a browser does for WebSockets; a read buffer of 4 KiB, not the
        // WebSocket library's 128 KiB, which it zero-fills before every read: at 1,000 sockets
        // that fill, not the gateway, was most of this process's time.
        let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(4096);
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(url, Some(config), true).await?;
        sockets.push(socket);
    }
    println!("ready");
    let mut readers = tokio::task::JoinSet::new();
    for mut socket in sockets {
        readers.spawn(async move {
            let mut latencies = Vec::with_capacity(count as usize);
            // One deadline for the run, not a timer per message (a timer's entry and removal
            // per message showed in this process's profile).
            let reading = async {
                let mut seen = 0;
                while seen < count {
                    let Some(Ok(message)) = socket.next().await else {
                        break;
                    };
                    let now = micros_now();
                    let Ok(text) = message.to_text() else {
                        continue;
                    };
                    if let Some(sent) = sent_micros(text) {
                        seen += 1;
                        latencies.push((now - sent) as f64 / 1000.0);
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(60 + count / 5), reading).await;
            latencies
        });
    }
    let mut latencies = Vec::new();
    while let Some(result) = readers.join_next().await {
        latencies.extend(result?);
    }
    let (p50, p99, n) = summary(latencies);
    println!("latency {p50} {p99} {n}");
    Ok(())
}

/// The send time in a gateway message's `new.payload` (microseconds since the epoch).
fn sent_micros(text: &str) -> Option<i64> {
    // A scan instead of a JSON parser: the client process should cost little.
    let start = text.find("\"payload\":\"")? + 11;
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A `--name value` argument.
fn argument(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(clients) = argument(&args, "--clients") {
        let url = argument(&args, "--url").ok_or_else(|| anyhow::anyhow!("--url is needed"))?;
        let count = argument(&args, "--count").and_then(|c| c.parse().ok());
        return run_clients(clients.parse()?, &url, count.unwrap_or(200)).await;
    }
    let count = setting("FOX_BENCH_CHANGES", 2_000);
    let rate = setting("FOX_BENCH_RATE", 1_000);
    let clients = setting("FOX_BENCH_CLIENTS", 1_000);
    let seconds = setting("FOX_BENCH_SECONDS", 5);
    let gateway_seconds = setting("FOX_BENCH_GATEWAY_SECONDS", 4);
    let gateway_rates: Vec<u64> = std::env::var("FOX_BENCH_GATEWAY_RATES")
        .unwrap_or_else(|_| "10,50".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    println!(
        "# FoxDB real-time benchmark ({count} changes at {rate}/s; {seconds} s at full speed with 4 writers)\n"
    );
    println!("| engine | path | p50 ms | p99 ms | changes | load |");
    println!("|---|---|---:|---:|---:|---:|");
    let mut throughput = Vec::new();
    let mut write_cost = Vec::new();
    for engine in Backend::ALL {
        let (test, db) = setup(engine).await?;
        let (p50, p99, n) = foxdb_latency(&db, engine, 1, count, rate).await;
        println!(
            "| {engine} | FoxDB subscribe | {p50:.2} | {p99:.2} | {n} | {} |",
            load()
        );
        if engine == Backend::Postgres {
            let (raw_p50, raw_p99, n) = raw_notify_latency(&test, &db, 1, count, rate).await?;
            println!(
                "| {engine} | raw trigger + LISTEN/NOTIFY | {raw_p50:.2} | {raw_p99:.2} | {n} | {} |",
                load()
            );
            println!(
                "| {engine} | FoxDB ÷ raw | {:.2}x | {:.2}x | | |",
                p50 / raw_p50,
                p99 / raw_p99
            );
        }
        throughput.push((
            engine,
            foxdb_sustained(&db, engine, 100_000_000, seconds).await,
            load(),
        ));
        // Ten alternating slices (each side first in turn), so load that comes and goes hits
        // both sides alike; the ratio is the median of the slices' ratios.
        let slices = 10u64;
        let per_slice = (count / slices).max(1);
        let (mut on, mut off, mut ratios) = (0.0, 0.0, Vec::new());
        for slice in 0..slices {
            let first = 1_000_000_000 + (slice * per_slice) as i64;
            let (on_rate, off_rate) = if slice % 2 == 0 {
                let on = insert_rate(&db, engine, "bench_items", first, per_slice).await;
                (
                    on,
                    insert_rate(&db, engine, "plain_items", first, per_slice).await,
                )
            } else {
                let off = insert_rate(&db, engine, "plain_items", first, per_slice).await;
                (
                    insert_rate(&db, engine, "bench_items", first, per_slice).await,
                    off,
                )
            };
            on += on_rate / slices as f64;
            off += off_rate / slices as f64;
            ratios.push(on_rate / off_rate);
        }
        ratios.sort_by(f64::total_cmp);
        let ratio = (ratios[ratios.len() / 2 - 1] + ratios[ratios.len() / 2]) / 2.0;
        write_cost.push((engine, on, off, ratio, load()));
        if engine == Backend::Postgres && clients > 0 {
            // Interleaved per rate, so load that comes and goes hits both alike.
            let (mut gateway, mut raw) = (Vec::new(), Vec::new());
            for (round, rate) in gateway_rates.iter().enumerate() {
                let first = 2_000_000_000 + round as i64 * 10_000_000;
                gateway
                    .extend(gateway_latency(&db, clients, first, &[*rate], gateway_seconds).await?);
                raw.extend(
                    raw_fan_out_latency(&test, &db, clients, first, &[*rate], gateway_seconds)
                        .await?,
                );
            }
            for ((rate, (p50, p99, n)), (_, (raw_p50, raw_p99, raw_n))) in
                gateway.into_iter().zip(raw)
            {
                let messages = rate * clients;
                println!(
                    "| {engine} | gateway → {clients} WebSocket clients (another process), {rate} changes/s = {messages} messages/s | {p50:.2} | {p99:.2} | {n} messages | {} |",
                    load()
                );
                println!(
                    "| {engine} | raw fan-out (NOTIFY with the row, a task per core writing one frame to its sockets), {messages} messages/s | {raw_p50:.2} | {raw_p99:.2} | {raw_n} messages | {} |",
                    load()
                );
                println!(
                    "| {engine} | gateway ÷ raw fan-out | {:.2}x | {:.2}x | | |",
                    p50 / raw_p50,
                    p99 / raw_p99
                );
            }
        }
        db.close().await;
    }
    println!(
        "\n| engine | written/s (4 writers) | received/s | behind at stop | caught up in s | load |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (engine, (written, received, behind, drain), load) in throughput {
        println!("| {engine} | {written:.0} | {received:.0} | {behind} | {drain:.2} | {load} |");
    }
    println!(
        "\n| engine | inserts/s capture on | inserts/s capture off | ratio (median of 10 alternating slices) | load |"
    );
    println!("|---|---:|---:|---:|---:|");
    for (engine, on, off, ratio, load) in write_cost {
        println!("| {engine} | {on:.0} | {off:.0} | {ratio:.2} | {load} |");
    }
    Ok(())
}
