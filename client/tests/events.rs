//! The event store on every engine: appends with expected versions, reads per stream and in
//! global order, snapshots, concurrent writers on one stream, and a projection process
//! SIGKILLed mid-way that resumes and ends where an uninterrupted run ends.

use std::collections::{BTreeMap, HashSet};
use std::process::{Command, Stdio};
use std::time::Duration;

use fox_e2e::{Backend, TestDatabase};
use foxdb::dialect::dialect_for;
use foxdb::events::{
    Error, Event, EventStore, ExpectedVersion, NewEvent, Projection, ProjectionRunner,
    RecordedEvent, checkpoint,
};
use foxdb::{Database, Transaction, Value};
use serde::{Deserialize, Serialize};

/// The environment variable that turns this test binary into a projection process:
/// `database-url|projection-name`.
const CHILD: &str = "FOX_EVENTS_PROJECTION";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum Ledger {
    Deposited { cents: i64 },
    Withdrew { cents: i64 },
}

impl Event for Ledger {
    fn event_type(&self) -> &'static str {
        match self {
            Ledger::Deposited { .. } => "ledger.deposited",
            Ledger::Withdrew { .. } => "ledger.withdrew",
        }
    }
}

fn deposit(cents: i64) -> NewEvent {
    NewEvent::new(&Ledger::Deposited { cents }).expect("serializes")
}

async fn store(engine: Backend) -> (TestDatabase, Database, EventStore) {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    let store = EventStore::open(&db.with_actor("teller"))
        .await
        .expect("opens the event store");
    (test, db, store)
}

#[tokio::test]
async fn the_store_declares_its_own_tables_and_captures_its_event_table() {
    for engine in Backend::ALL {
        let (_test, db, store) = store(engine).await;
        // Opening again (another process, a restart) changes nothing.
        EventStore::open(&db).await.expect("opens again");
        for table in foxdb::events::tables::store_tables() {
            db.fetch_all(&format!("SELECT COUNT(*) AS n FROM {}", table.name), &[])
                .await
                .unwrap_or_else(|e| panic!("{engine:?}: {} exists: {e}", table.name));
        }
        let captured = foxdb::realtime::captured_tables(&db).await.expect("lists");
        assert!(
            captured
                .iter()
                .any(|t| t == foxdb::events::tables::EVENTS_TABLE),
            "{engine:?}: {captured:?}"
        );
        assert_eq!(store.head_position().await.expect("reads"), 0);
    }
}

#[tokio::test]
async fn appended_events_read_back_per_stream_both_ways_and_in_global_order() {
    for engine in Backend::ALL {
        let (_test, _db, store) = store(engine).await;
        let first = store
            .append(
                "account-1",
                ExpectedVersion::NoStream,
                &[
                    deposit(100).correlated_with("req-1"),
                    deposit(20).caused_by("cmd-9"),
                    NewEvent::new(&Ledger::Withdrew { cents: 5 })
                        .expect("serializes")
                        .actor("auditor"),
                ],
            )
            .await
            .expect("appends three");
        assert_eq!(
            (first.version, first.first_position, first.last_position),
            (3, 1, 3)
        );
        store
            .append("account-2", ExpectedVersion::Any, &[deposit(7), deposit(8)])
            .await
            .expect("appends to another stream");
        let last = store
            .append("account-1", ExpectedVersion::Exact(3), &[deposit(1)])
            .await
            .expect("appends at the expected version");
        assert_eq!((last.version, last.last_position), (4, 6));

        let forward = store
            .read_stream::<Ledger>("account-1", 2, 10)
            .await
            .expect("reads forward");
        let versions: Vec<u64> = forward.iter().map(|e| e.version).collect();
        assert_eq!(versions, [2, 3, 4], "{engine:?}");
        assert_eq!(forward[0].data, Ledger::Deposited { cents: 20 });
        assert_eq!(forward[0].event_type, "ledger.deposited");
        assert_eq!(forward[0].metadata.causation_id.as_deref(), Some("cmd-9"));
        assert_eq!(forward[0].metadata.actor.as_deref(), Some("teller"));
        assert_eq!(forward[1].metadata.actor.as_deref(), Some("auditor"));
        assert_eq!(forward[1].data, Ledger::Withdrew { cents: 5 });

        let backward = store
            .read_stream_backward::<Ledger>("account-1", u64::MAX, 2)
            .await
            .expect("reads backward");
        let versions: Vec<u64> = backward.iter().map(|e| e.version).collect();
        assert_eq!(versions, [4, 3], "{engine:?}");
        let from_two = store
            .read_stream_backward::<serde_json::Value>("account-1", 2, 10)
            .await
            .expect("reads backward from a version");
        assert_eq!(
            from_two.iter().map(|e| e.version).collect::<Vec<_>>(),
            [2, 1]
        );
        assert_eq!(
            from_two[1].metadata.correlation_id.as_deref(),
            Some("req-1"),
            "{engine:?}"
        );

        let all = store
            .read_all::<Ledger>(2, 100)
            .await
            .expect("reads everything after position 2");
        let order: Vec<(u64, &str, u64)> = all
            .iter()
            .map(|e| (e.position, e.stream_id.as_str(), e.version))
            .collect();
        assert_eq!(
            order,
            [
                (3, "account-1", 3),
                (4, "account-2", 1),
                (5, "account-2", 2),
                (6, "account-1", 4)
            ],
            "{engine:?}"
        );
        let ids: HashSet<&str> = all.iter().map(|e| e.metadata.event_id.as_str()).collect();
        assert_eq!(ids.len(), 4, "event ids are unique");
        assert_eq!(store.stream_version("account-1").await.expect("reads"), 4);
        assert_eq!(store.stream_version("nobody").await.expect("reads"), 0);
    }
}

#[tokio::test]
async fn a_stale_expected_version_is_a_typed_conflict_and_writes_nothing() {
    for engine in Backend::ALL {
        let (_test, db, store) = store(engine).await;
        store
            .append(
                "cart-1",
                ExpectedVersion::NoStream,
                &[deposit(1), deposit(2)],
            )
            .await
            .expect("appends");
        for (expected, stream) in [
            (ExpectedVersion::NoStream, "cart-1"),
            (ExpectedVersion::Exact(1), "cart-1"),
            (ExpectedVersion::Exact(3), "cart-1"),
            (ExpectedVersion::StreamExists, "cart-2"),
        ] {
            let refused = store.append(stream, expected, &[deposit(3)]).await;
            let actual = u64::from(stream == "cart-1") * 2;
            match refused {
                Err(Error::WrongExpectedVersion {
                    stream: s,
                    expected: e,
                    actual: a,
                }) => assert_eq!((s.as_str(), e, a), (stream, expected, actual), "{engine:?}"),
                other => panic!("{engine:?}: {expected} on {stream}: {other:?}"),
            }
        }
        // A duplicate event id is refused too, and leaves nothing.
        let duplicate = store
            .append(
                "cart-3",
                ExpectedVersion::Any,
                &[deposit(4).with_id("same"), deposit(5).with_id("same")],
            )
            .await;
        assert!(duplicate.is_err(), "{engine:?}: {duplicate:?}");
        let rows = db
            .fetch_all("SELECT COUNT(*) AS n FROM _fox_events", &[])
            .await
            .expect("counts");
        assert_eq!(rows[0].get::<i64>("n").expect("a count"), 2, "{engine:?}");
        // The refused appends gave back their positions: the next one is 3.
        let next = store
            .append("cart-1", ExpectedVersion::StreamExists, &[deposit(6)])
            .await
            .expect("appends");
        assert_eq!((next.version, next.last_position), (3, 3), "{engine:?}");
        let empty = store.append("cart-1", ExpectedVersion::Any, &[]).await;
        assert!(
            matches!(empty, Err(Error::InvalidInput { .. })),
            "{empty:?}"
        );
        let long = "s".repeat(201);
        let long = store
            .append(&long, ExpectedVersion::Any, &[deposit(1)])
            .await;
        assert!(matches!(long, Err(Error::InvalidInput { .. })), "{long:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_concurrent_writers_on_one_stream_leave_no_gap_and_no_duplicate_version() {
    const WRITERS: usize = 8;
    const APPENDS: usize = 25;
    for engine in Backend::ALL {
        let (_test, _db, store) = store(engine).await;
        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let store = store.clone();
            writers.push(tokio::spawn(async move {
                let mut conflicts = 0;
                for n in 0..APPENDS {
                    loop {
                        // Read, decide, append at the version read; on a conflict read again.
                        let version = store.stream_version("hot").await.expect("reads");
                        let event = deposit((writer * 1000 + n) as i64);
                        match store
                            .append("hot", ExpectedVersion::Exact(version), &[event])
                            .await
                        {
                            Ok(_) => break,
                            Err(Error::WrongExpectedVersion { .. }) => conflicts += 1,
                            Err(error) if error.is_retryable() => conflicts += 1,
                            Err(error) => panic!("{engine:?}: writer {writer}: {error}"),
                        }
                    }
                }
                conflicts
            }));
        }
        let mut conflicts = 0;
        for writer in writers {
            conflicts += writer.await.expect("a writer finished");
        }
        let events = store
            .read_stream::<Ledger>("hot", 1, 10_000)
            .await
            .expect("reads the stream");
        let total = WRITERS * APPENDS;
        let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
        assert_eq!(
            versions,
            (1..=total as u64).collect::<Vec<_>>(),
            "{engine:?}"
        );
        let payloads: HashSet<String> = events.iter().map(|e| format!("{:?}", e.data)).collect();
        assert_eq!(payloads.len(), total, "{engine:?}: every append once");
        let all = store
            .read_all::<Ledger>(0, 10_000)
            .await
            .expect("reads all");
        let positions: Vec<u64> = all.iter().map(|e| e.position).collect();
        assert_eq!(
            positions,
            (1..=total as u64).collect::<Vec<_>>(),
            "{engine:?}"
        );
        eprintln!(
            "{engine:?}: {total} appends by {WRITERS} writers, {conflicts} conflicts retried"
        );
    }
}

#[tokio::test]
async fn a_snapshot_keeps_the_latest_state_of_its_stream() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Balance {
        cents: i64,
    }
    for engine in Backend::ALL {
        let (_test, _db, store) = store(engine).await;
        assert_eq!(
            store.load_snapshot::<Balance>("acc").await.expect("reads"),
            None
        );
        store
            .append(
                "acc",
                ExpectedVersion::NoStream,
                &[deposit(5), deposit(6), deposit(7)],
            )
            .await
            .expect("appends");
        assert!(
            store
                .save_snapshot("acc", 2, &Balance { cents: 11 })
                .await
                .expect("saves")
        );
        assert!(
            store
                .save_snapshot("acc", 3, &Balance { cents: 18 })
                .await
                .expect("saves")
        );
        // An older state does not replace a newer one.
        assert!(
            !store
                .save_snapshot("acc", 1, &Balance { cents: 5 })
                .await
                .expect("keeps")
        );
        let snapshot = store
            .load_snapshot::<Balance>("acc")
            .await
            .expect("reads")
            .expect("a snapshot");
        assert_eq!(
            (snapshot.version, snapshot.state),
            (3, Balance { cents: 18 }),
            "{engine:?}"
        );
        let beyond = store.save_snapshot("acc", 4, &Balance { cents: 0 }).await;
        assert!(
            matches!(beyond, Err(Error::InvalidInput { .. })),
            "{beyond:?}"
        );
        // Replay after the snapshot: nothing left.
        let rest = store
            .read_stream::<Ledger>("acc", snapshot.version + 1, 100)
            .await
            .expect("reads");
        assert!(rest.is_empty());
    }
}

/// A read model per projection: per account the balance, how many events, and an
/// order-sensitive fold of (position, amount) that a skipped, repeated or reordered event
/// changes.
struct Balances {
    name: String,
    slow: Duration,
}

const READ_MODEL: &str = "CREATE TABLE balances (projection VARCHAR(50) NOT NULL, account VARCHAR(50) NOT NULL, balance BIGINT NOT NULL, applied BIGINT NOT NULL, fold BIGINT NOT NULL, PRIMARY KEY (projection, account))";

impl Projection for Balances {
    type Event = Ledger;

    fn name(&self) -> &str {
        &self.name
    }

    async fn apply(
        &mut self,
        tx: &mut Transaction,
        event: &RecordedEvent<Ledger>,
    ) -> Result<(), foxdb::events::HandlerError> {
        let dialect = dialect_for(tx.backend());
        let p = |n| dialect.placeholder(n);
        let key = [
            Value::Text(self.name.clone()),
            Value::Text(event.stream_id.clone()),
        ];
        let rows = tx
            .fetch_all(
                &format!(
                    "SELECT balance, applied, fold FROM balances WHERE projection = {} AND account = {}",
                    p(1),
                    p(2)
                ),
                &key,
            )
            .await?;
        let (balance, applied, fold) = match rows.first() {
            Some(row) => (
                row.get::<i64>("balance")?,
                row.get::<i64>("applied")?,
                row.get::<i64>("fold")?,
            ),
            None => {
                tx.execute(
                    &format!("INSERT INTO balances VALUES ({}, {}, 0, 0, 0)", p(1), p(2)),
                    &key,
                )
                .await?;
                (0, 0, 0)
            }
        };
        let amount = match event.data {
            Ledger::Deposited { cents } => cents,
            Ledger::Withdrew { cents } => -cents,
        };
        let fold = (fold * 31 + event.position as i64 * 7 + amount).rem_euclid(1_000_000_007);
        tx.execute(
            &format!(
                "UPDATE balances SET balance = {}, applied = {}, fold = {} WHERE projection = {} AND account = {}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            &[
                Value::Int(balance + amount),
                Value::Int(applied + 1),
                Value::Int(fold),
                key[0].clone(),
                key[1].clone(),
            ],
        )
        .await?;
        if !self.slow.is_zero() {
            tokio::time::sleep(self.slow).await;
        }
        Ok(())
    }
}

/// The projection process of the kill test: this test binary started again with [`CHILD`]
/// set. Without the variable (a normal test run) there is no process to be and it returns.
#[tokio::test]
async fn projection_process() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let (database, name) = spec.split_once('|').expect("url|name");
    let db = Database::connect(database).await.expect("connects");
    let store = EventStore::open(&db).await.expect("opens");
    let projection = Balances {
        name: name.into(),
        slow: Duration::from_millis(1),
    };
    ProjectionRunner::new(&store, projection)
        .batch_size(7)
        .run(std::future::pending())
        .await
        .expect("runs until killed");
}

async fn read_model(db: &Database, projection: &str) -> BTreeMap<String, (i64, i64, i64)> {
    let dialect = dialect_for(db.backend());
    db.fetch_all(
        &format!(
            "SELECT account, balance, applied, fold FROM balances WHERE projection = {}",
            dialect.placeholder(1)
        ),
        &[Value::Text(projection.into())],
    )
    .await
    .expect("reads the read model")
    .iter()
    .map(|row| {
        (
            row.get::<String>("account").expect("account"),
            (
                row.get::<i64>("balance").expect("balance"),
                row.get::<i64>("applied").expect("applied"),
                row.get::<i64>("fold").expect("fold"),
            ),
        )
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projection_killed_mid_way_resumes_and_ends_like_one_that_ran_straight_through() {
    const EVENTS: usize = 600;
    const ACCOUNTS: usize = 13;
    const KILLS: usize = 4;
    for engine in Backend::ALL {
        let (test, db, store) = store(engine).await;
        db.execute(READ_MODEL, &[])
            .await
            .expect("creates the read model");

        // The producer: appends while the projection process runs and is killed.
        let producer = {
            let store = store.clone();
            tokio::spawn(async move {
                for n in 0..EVENTS {
                    let account = format!("account-{}", n % ACCOUNTS);
                    let event = if n % 5 == 4 {
                        NewEvent::new(&Ledger::Withdrew { cents: n as i64 }).expect("serializes")
                    } else {
                        deposit(n as i64 * 3)
                    };
                    store
                        .append(&account, ExpectedVersion::Any, &[event])
                        .await
                        .expect("appends");
                    if n % 50 == 0 {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        };

        let spec = format!("{}|killed", test.url());
        let mut seed = u64::from(std::process::id());
        let mut checkpoints = Vec::new();
        for _ in 0..KILLS {
            let mut child = Command::new(std::env::current_exe().expect("the test binary"))
                .args([
                    "--exact",
                    "projection_process",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD, &spec)
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("starts a projection process");
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let runs_for = Duration::from_millis(400 + (seed >> 33) % 500);
            tokio::time::sleep(runs_for).await;
            child.kill().expect("SIGKILLs the projection");
            child.wait().expect("reaps it");
            checkpoints.push(checkpoint(&store, "killed").await.expect("reads"));
        }
        producer.await.expect("the producer finished");
        let head = store.head_position().await.expect("reads the head");
        assert_eq!(head, EVENTS as u64);
        assert!(
            checkpoints.iter().any(|c| *c > 0 && *c < head),
            "{engine:?}: a kill landed mid-way: checkpoints {checkpoints:?} of {head}"
        );
        assert!(
            checkpoints.windows(2).all(|w| w[0] <= w[1]),
            "{engine:?}: checkpoints never go back: {checkpoints:?}"
        );

        // The killed projection resumes to the end; another runs straight through.
        let mut resumed = ProjectionRunner::new(
            &store,
            Balances {
                name: "killed".into(),
                slow: Duration::ZERO,
            },
        );
        let rest = resumed.catch_up().await.expect("resumes");
        assert_eq!(
            rest,
            head - checkpoints[KILLS - 1],
            "{engine:?}: resumed at its checkpoint"
        );
        let mut straight = ProjectionRunner::new(
            &store,
            Balances {
                name: "straight".into(),
                slow: Duration::ZERO,
            },
        )
        .batch_size(50);
        assert_eq!(straight.catch_up().await.expect("runs"), head);

        let killed = read_model(&db, "killed").await;
        let expected = read_model(&db, "straight").await;
        assert_eq!(killed.len(), ACCOUNTS);
        assert_eq!(
            killed.values().map(|(_, applied, _)| applied).sum::<i64>(),
            EVENTS as i64,
            "{engine:?}: every event applied once"
        );
        assert_eq!(killed, expected, "{engine:?}");
        assert_eq!(checkpoint(&store, "killed").await.expect("reads"), head);
        eprintln!("{engine:?}: checkpoints at the kills {checkpoints:?} of {head}");
    }
}
