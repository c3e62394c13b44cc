//! The transactional outbox on every engine, and a relay process SIGKILLed 20 times while
//! messages flow into a real Redis stream: every message arrives at least once, and after
//! deduplication by id exactly once, in order per aggregate.
//!
//! The kill test sends 2,000 messages by default; `FOX_OUTBOX_MESSAGES=10000` runs the full
//! acceptance size.

use std::collections::{BTreeMap, HashSet};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fox_e2e::{Backend, TestDatabase};
use foxdb::outbox::{
    CallbackPublisher, Outbox, OutboxMessage, OutgoingMessage, PublishError, Publisher,
    RedisStreamPublisher, Relay, RelayError,
};
use foxdb::{Database, Error, Value};

/// The environment variable that turns this test binary into a relay process:
/// `database-url|redis-url|stream`.
const CHILD: &str = "FOX_OUTBOX_RELAY";

async fn outbox_database(engine: Backend) -> (TestDatabase, Database, Outbox) {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    db.execute(
        "CREATE TABLE orders (id INT PRIMARY KEY, total INT NOT NULL)",
        &[],
    )
    .await
    .expect("creates orders");
    let outbox = Outbox::open(&db).await.expect("opens the outbox");
    (test, db, outbox)
}

/// A publisher that keeps what it is given.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<OutboxMessage>>>);

impl Publisher for Recorder {
    async fn publish(&self, batch: &[OutboxMessage]) -> Result<(), PublishError> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(batch);
        Ok(())
    }
}

fn recording() -> (Arc<Mutex<Vec<OutboxMessage>>>, Recorder) {
    let recorder = Recorder::default();
    (recorder.0.clone(), recorder)
}

#[tokio::test]
async fn a_message_is_stored_only_when_its_transaction_commits() {
    for engine in Backend::ALL {
        let (_test, db, outbox) = outbox_database(engine).await;
        db.transaction(async |tx| {
            tx.execute("INSERT INTO orders VALUES (1, 10)", &[]).await?;
            outbox
                .enqueue(
                    &mut *tx,
                    &OutgoingMessage::new("order-1", "order.created", "{}"),
                )
                .await?;
            Ok::<_, Error>(())
        })
        .await
        .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let failed: Result<(), Error> = db
            .transaction(async |tx| {
                tx.execute("INSERT INTO orders VALUES (2, 20)", &[]).await?;
                outbox
                    .enqueue(
                        &mut *tx,
                        &OutgoingMessage::new("order-2", "order.created", "{}"),
                    )
                    .await?;
                tx.execute("INSERT INTO orders VALUES (2, 20)", &[]).await?;
                Ok(())
            })
            .await;
        assert!(failed.is_err(), "{engine}");
        assert_eq!(outbox.unsent().await.expect("counts"), 1, "{engine}");
    }
}

#[tokio::test]
async fn the_relay_publishes_in_id_order_and_marks_every_message_sent() {
    for engine in Backend::ALL {
        let (_test, db, outbox) = outbox_database(engine).await;
        let mut ids = Vec::new();
        for n in 0..7 {
            let message =
                OutgoingMessage::new(format!("order-{}", n % 2), "order.updated", format!("{n}"));
            ids.push(outbox.enqueue(&db, &message).await.expect("enqueues"));
        }
        let (seen, publisher) = recording();
        let relay = Relay::new(outbox.clone(), publisher).batch_size(3);
        let mut published = 0;
        loop {
            let n = relay
                .publish_batch()
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"));
            if n == 0 {
                break;
            }
            published += n;
        }
        assert_eq!(published, 7, "{engine}");
        let seen: Vec<i64> = seen
            .lock()
            .expect("not poisoned")
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!(seen, ids, "{engine}");
        assert_eq!(outbox.unsent().await.expect("counts"), 0, "{engine}");
    }
}

#[tokio::test]
async fn a_failed_publish_marks_nothing_and_the_batch_is_offered_again() {
    let (_test, db, outbox) = outbox_database(Backend::Postgres).await;
    outbox
        .enqueue(&db, &OutgoingMessage::new("order-1", "order.created", "{}"))
        .await
        .expect("enqueues");
    let failing = CallbackPublisher::new(|_batch: Vec<OutboxMessage>| {
        std::future::ready(Err(PublishError::new("broker down")))
    });
    let outcome = Relay::new(outbox.clone(), failing).publish_batch().await;
    assert!(
        matches!(outcome, Err(RelayError::Publish(_))),
        "{outcome:?}"
    );
    assert_eq!(outbox.unsent().await.expect("counts"), 1);
    let (seen, publisher) = recording();
    assert_eq!(
        Relay::new(outbox.clone(), publisher)
            .publish_batch()
            .await
            .expect("publishes"),
        1
    );
    assert_eq!(seen.lock().expect("not poisoned").len(), 1);
}

#[tokio::test]
async fn an_empty_or_too_long_aggregate_is_refused_and_nothing_is_stored() {
    let (_test, db, outbox) = outbox_database(Backend::Sqlite).await;
    for aggregate in [String::new(), "a".repeat(201)] {
        let refused = outbox
            .enqueue(&db, &OutgoingMessage::new(aggregate, "t", "{}"))
            .await;
        assert!(
            matches!(refused, Err(Error::Unsupported { .. })),
            "{refused:?}"
        );
    }
    assert_eq!(outbox.unsent().await.expect("counts"), 0);
}

/// The relay process of the kill test: this test binary started again with [`CHILD`] set.
/// Without the variable (a normal test run) there is no process to be and it returns.
#[tokio::test]
async fn relay_process() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [database, redis, stream] = parts[..] else {
        panic!("{CHILD}: three fields expected in {spec:?}");
    };
    let db = Database::connect(database).await.expect("connects");
    let outbox = Outbox::open(&db).await.expect("opens");
    let publisher = RedisStreamPublisher::new(redis, stream).expect("a Redis URL");
    Relay::new(outbox, publisher)
        .batch_size(50)
        .idle_wait(Duration::from_millis(20))
        .run(std::future::pending())
        .await;
}

/// One entry of the stream: (id, aggregate, payload).
async fn read_stream(redis_url: &str, stream: &str) -> Vec<(i64, String, String)> {
    let client = redis::Client::open(redis_url).expect("a Redis URL");
    let mut connection = client
        .get_multiplexed_async_connection_with_config(
            &redis::AsyncConnectionConfig::new()
                .set_response_timeout(Some(Duration::from_secs(60))),
        )
        .await
        .expect("connects to Redis");
    let text = |value: &redis::Value| match value {
        redis::Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => panic!("a field of {other:?}"),
    };
    let mut read = Vec::new();
    // In pages: one reply of 10,000 entries outlasts the client's response timeout.
    let mut from = "-".to_string();
    loop {
        let page: redis::Value = redis::cmd("XRANGE")
            .arg(stream)
            .arg(&from)
            .arg("+")
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut connection)
            .await
            .expect("reads the stream");
        let redis::Value::Array(entries) = page else {
            panic!("XRANGE returned {page:?}");
        };
        if entries.is_empty() {
            break;
        }
        for entry in &entries {
            let redis::Value::Array(parts) = entry else {
                panic!("an entry of {entry:?}");
            };
            let redis::Value::Array(fields) = &parts[1] else {
                panic!("fields of {entry:?}");
            };
            let mut field: BTreeMap<String, String> = BTreeMap::new();
            for pair in fields.chunks(2) {
                field.insert(text(&pair[0]), text(&pair[1]));
            }
            read.push((
                field["id"].parse().expect("an id"),
                field["aggregate"].clone(),
                field["payload"].clone(),
            ));
            // Exclusive start of the next page.
            from = format!("({}", text(&parts[0]));
        }
    }
    let _: () = redis::cmd("DEL")
        .arg(stream)
        .query_async(&mut connection)
        .await
        .expect("deletes the stream");
    read
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_20_times_delivers_every_message_once_after_dedupe_in_order_per_aggregate() {
    let messages: usize = std::env::var("FOX_OUTBOX_MESSAGES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    const KILLS: usize = 20;
    const AGGREGATES: usize = 37;
    let (test, db, outbox) = outbox_database(Backend::Postgres).await;
    let redis_url = fox_e2e::redis_url();
    let stream = format!("fox-outbox-test-{}-{}", std::process::id(), test.name());
    let started = Instant::now();

    // The producer: each message in the transaction that writes its order, aggregates taking
    // turns; the payload is the aggregate's own sequence number.
    let producer = {
        let (db, outbox) = (db.clone(), outbox.clone());
        tokio::spawn(async move {
            for n in 0..messages {
                let aggregate = n % AGGREGATES;
                let sequence = n / AGGREGATES;
                db.transaction(async |tx| {
                    tx.execute(
                        "INSERT INTO orders VALUES ($1, $2)",
                        &[Value::Int(n as i64), Value::Int(sequence as i64)],
                    )
                    .await?;
                    let message = OutgoingMessage::new(
                        format!("order-{aggregate}"),
                        "order.updated",
                        sequence.to_string(),
                    );
                    outbox.enqueue(&mut *tx, &message).await?;
                    Ok::<_, Error>(())
                })
                .await
                .expect("writes an order and its message");
            }
        })
    };

    // The relay: a process of its own, killed with SIGKILL after a random while, 20 times.
    let spec = format!("{}|{redis_url}|{stream}", test.url());
    let mut seed = std::process::id() as u64;
    for _ in 0..KILLS {
        let mut relay = Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "relay_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, &spec)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts a relay process");
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        // Kills spread over the production: about 0.9 s a run for each 2,000 messages.
        let scale = (messages / 2_000).max(1) as u64;
        let runs_for = Duration::from_millis((300 + (seed >> 33) % 1_200) * scale);
        tokio::time::sleep(runs_for).await;
        relay.kill().expect("SIGKILLs the relay");
        relay.wait().expect("reaps it");
    }
    producer.await.expect("the producer finished");
    let unsent_after_kills = outbox.unsent().await.expect("counts");

    // A last relay, left to finish.
    let publisher = RedisStreamPublisher::new(&redis_url, &stream).expect("a Redis URL");
    let relay = Relay::new(outbox.clone(), publisher).batch_size(200);
    while relay.publish_batch().await.expect("publishes") > 0 {}
    assert_eq!(outbox.unsent().await.expect("counts"), 0);

    let delivered = read_stream(&redis_url, &stream).await;
    let stored: HashSet<i64> = db
        .fetch_all("SELECT id FROM _fox_outbox", &[])
        .await
        .expect("reads the outbox")
        .iter()
        .map(|row| row.get::<i64>("id").expect("id"))
        .collect();
    assert_eq!(stored.len(), messages);
    let mut seen = HashSet::new();
    let mut per_aggregate: BTreeMap<String, Vec<(i64, usize)>> = BTreeMap::new();
    for (id, aggregate, payload) in &delivered {
        if seen.insert(*id) {
            per_aggregate
                .entry(aggregate.clone())
                .or_default()
                .push((*id, payload.parse().expect("a sequence number")));
        }
    }
    assert_eq!(
        seen, stored,
        "every stored message was delivered, and nothing else"
    );
    for (aggregate, received) in &per_aggregate {
        let sequences: Vec<usize> = received.iter().map(|(_, s)| *s).collect();
        let expected: Vec<usize> = (0..sequences.len()).collect();
        assert_eq!(
            sequences, expected,
            "{aggregate}: out of order or missing after dedupe"
        );
        assert!(
            received.windows(2).all(|w| w[0].0 < w[1].0),
            "{aggregate}: ids out of order"
        );
    }
    eprintln!(
        "{messages} messages, {KILLS} relay kills ({unsent_after_kills} unsent after the last kill): {} deliveries, {} duplicates, in {:.1} s",
        delivered.len(),
        delivered.len() - seen.len(),
        started.elapsed().as_secs_f64()
    );
}
