//! PostgreSQL on either driver ([`foxdb::PostgresDriver`]) against the real server: the pool
//! runs on the driver it was given, values and rows mean the same on both, and what the
//! tokio-postgres pool does on its own (transactions left open, prepared statements kept per
//! connection, TLS) holds, and a subscription's listener is woken by `NOTIFY` and listens again
//! after its connection is terminated on either driver. The whole client suite runs on the default (tokio-postgres) and again
//! with PostgreSQL on sqlx (`FOXDB_POSTGRES_DRIVER=sqlx`, `make test`).

mod support;

use std::time::Duration;

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, PoolOptions, PostgresDriver, Row, Value};

const DRIVERS: [PostgresDriver; 2] = [PostgresDriver::Sqlx, PostgresDriver::TokioPostgres];

async fn connect(test: &TestDatabase, driver: PostgresDriver, max_connections: u32) -> Database {
    let options = PoolOptions {
        max_connections,
        acquire_timeout: Duration::from_secs(5),
        postgres_driver: driver,
        ..PoolOptions::default()
    };
    Database::connect_with(test.url(), &options)
        .await
        .unwrap_or_else(|e| panic!("{driver:?}: {e}"))
}

#[tokio::test]
async fn the_pool_runs_on_the_driver_it_was_given() {
    let test = TestDatabase::create(Backend::Postgres).await;
    for driver in DRIVERS {
        let db = connect(&test, driver, 2).await;
        let rows = db.fetch_all("SELECT 1", &[]).await.expect("select");
        let on_tokio_postgres = matches!(rows[0], Row::TokioPostgres(_));
        assert_eq!(
            on_tokio_postgres,
            driver == PostgresDriver::TokioPostgres,
            "{driver:?}"
        );
        assert_eq!(rows[0].backend(), foxdb::Backend::Postgres);
    }
}

#[tokio::test]
async fn every_value_binds_and_reads_back_the_same_on_both_drivers() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let setup = connect(&test, PostgresDriver::Sqlx, 1).await;
    setup
        .execute(
            "CREATE TABLE kinds (id bigint PRIMARY KEY, small smallint, whole integer, flag boolean, \
             ratio double precision, single real, label text, name varchar(20), raw bytea, \
             key uuid, at timestamptz, local timestamp, day date, clock time, doc jsonb, \
             amount numeric(12, 3), note text)",
            &[],
        )
        .await
        .expect("table");
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-06T10:11:12.345678Z")
        .expect("instant")
        .with_timezone(&chrono::Utc);
    let row = |id: i64| {
        vec![
            Value::Int(id),
            Value::Int(-7),
            Value::Int(70_000),
            Value::Bool(true),
            Value::Float(2.5),
            Value::Float(0.25),
            Value::Text("fox ü ✓".into()),
            Value::Text("varchar".into()),
            Value::Bytes(vec![0, 159, 255]),
            Value::Uuid(uuid::Uuid::from_u128(0x0123_4567_89ab_cdef)),
            Value::TimestampTz(at),
            Value::Timestamp(at.naive_utc()),
            Value::Date(at.date_naive()),
            Value::Time(at.time()),
            Value::Json(serde_json::json!({"a": [1, 2, {"b": null}]})),
            Value::Decimal("12345.678".parse().expect("decimal")),
            Value::Null,
        ]
    };
    let insert = "INSERT INTO kinds VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)";
    for (id, driver) in [(1, DRIVERS[0]), (2, DRIVERS[1])] {
        let db = connect(&test, driver, 1).await;
        db.execute(insert, &row(id))
            .await
            .unwrap_or_else(|e| panic!("{driver:?}: {e}"));
    }
    let mut read = Vec::new();
    for driver in DRIVERS {
        let db = connect(&test, driver, 1).await;
        let rows = db
            .fetch_all("SELECT * FROM kinds ORDER BY id", &[])
            .await
            .unwrap_or_else(|e| panic!("{driver:?}: {e}"));
        assert_eq!(rows.len(), 2, "{driver:?}");
        for row in &rows {
            let values = (
                row.get::<i64>("id").expect("id"),
                // Any integer column into any integer field whose range holds the value.
                (
                    row.get::<i16>("small").expect("small"),
                    row.get::<i64>("small").expect("small"),
                ),
                (
                    row.get::<i32>("whole").expect("whole"),
                    row.get::<i64>("whole").expect("whole"),
                ),
                row.get::<bool>("flag").expect("flag"),
                row.get::<f64>("ratio").expect("ratio"),
                // A `real` column into an `f64` field too.
                (
                    row.get::<f32>("single").expect("single"),
                    row.get::<f64>("single").expect("single"),
                ),
                (
                    row.get::<String>("label").expect("label"),
                    row.get::<String>("name").expect("name"),
                ),
                row.get::<Vec<u8>>("raw").expect("raw"),
                row.get::<uuid::Uuid>("key").expect("key"),
                row.get::<chrono::DateTime<chrono::Utc>>("at").expect("at"),
                row.get::<chrono::NaiveDateTime>("local").expect("local"),
                (
                    row.get::<chrono::NaiveDate>("day").expect("day"),
                    row.get::<chrono::NaiveTime>("clock").expect("clock"),
                ),
                row.get::<serde_json::Value>("doc").expect("doc"),
                row.get::<rust_decimal::Decimal>("amount").expect("amount"),
                (
                    row.get::<Option<String>>("note").expect("note"),
                    row.get::<Option<i64>>("whole").expect("whole"),
                ),
            );
            let shown = format!(
                "{:?} {:?} {:?} {:?} {:?} {:?}",
                (values.1, values.2, values.3, values.4, values.5),
                (&values.6, &values.7, values.8),
                (values.9, values.10, values.11),
                &values.12,
                values.13,
                &values.14
            );
            read.push((driver, values.0, shown));
        }
        // Out of range and wrong types are refused, naming the column.
        let small = rows[0].get::<i16>("whole").expect_err("70000 in an i16");
        assert!(small.to_string().contains("whole"), "{driver:?}: {small}");
        let text = rows[0].get::<i64>("label").expect_err("text into i64");
        assert!(text.to_string().contains("label"), "{driver:?}: {text}");
        let null = rows[0].get::<String>("note").expect_err("NULL into String");
        assert!(null.to_string().contains("note"), "{driver:?}: {null}");
        let missing = rows[0].get::<String>("nope").expect_err("no such column");
        assert!(
            missing.to_string().contains("nope"),
            "{driver:?}: {missing}"
        );
    }
    // Both rows, read by both drivers, decode alike.
    assert_eq!(read.len(), 4);
    let first = &read[0].2;
    for (driver, id, values) in &read {
        assert_eq!(values, first, "{driver:?}, row {id}");
    }
}

#[tokio::test]
async fn a_null_takes_the_type_of_where_it_is_used_and_text_is_cast_by_the_statement() {
    let test = TestDatabase::create(Backend::Postgres).await;
    for driver in DRIVERS {
        let db = connect(&test, driver, 1).await;
        db.execute(
            "CREATE TABLE IF NOT EXISTS n (id bigint, at date, amount numeric)",
            &[],
        )
        .await
        .expect("table");
        db.execute(
            "INSERT INTO n VALUES ($1, $2, $3)",
            &[Value::Null, Value::Null, Value::Null],
        )
        .await
        .unwrap_or_else(|e| panic!("{driver:?}: untyped NULLs: {e}"));
        db.execute(
            "INSERT INTO n VALUES ($1, CAST($2 AS date), CAST($3 AS numeric))",
            &[
                Value::Int(1),
                Value::Text("2026-12-06".into()),
                Value::Text("1.50".into()),
            ],
        )
        .await
        .unwrap_or_else(|e| panic!("{driver:?}: text cast by the statement: {e}"));
        let rows = db
            .fetch_all(
                "SELECT CAST(amount AS text) FROM n WHERE id = $1",
                &[Value::Int(1)],
            )
            .await
            .expect("read");
        assert_eq!(
            rows[0].get_at::<String>(0).expect("amount"),
            "1.50",
            "{driver:?}"
        );
        db.execute("DROP TABLE n", &[]).await.expect("drop");
    }
}

#[tokio::test]
async fn a_transaction_dropped_open_is_rolled_back_and_its_connection_reused() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let db = connect(&test, PostgresDriver::TokioPostgres, 1).await;
    db.execute("CREATE TABLE t (id bigint PRIMARY KEY)", &[])
        .await
        .expect("table");
    {
        let mut tx = db.begin(None).await.expect("begin");
        tx.execute("INSERT INTO t VALUES (1)", &[])
            .await
            .expect("insert");
        // Dropped without commit.
    }
    // One connection: the next statement waits for the rollback, then runs on it.
    let count: i64 = db
        .fetch_all("SELECT count(*) FROM t", &[])
        .await
        .expect("count")[0]
        .get_at(0)
        .expect("count");
    assert_eq!(count, 0, "the dropped transaction's insert is gone");
    let state = db.pool_state();
    assert_eq!((state.open, state.idle), (1, 1), "{state:?}");
    // A failed statement inside a transaction aborts it; the rollback makes the connection
    // usable again.
    let mut tx = db
        .begin(Some(foxdb::Isolation::Serializable))
        .await
        .expect("begin");
    tx.execute("INSERT INTO t VALUES (2)", &[])
        .await
        .expect("insert");
    let duplicate = tx
        .execute("INSERT INTO t VALUES (2)", &[])
        .await
        .expect_err("duplicate");
    assert!(
        matches!(duplicate, foxdb::Error::UniqueViolation { .. }),
        "{duplicate:?}"
    );
    tx.rollback().await.expect("rollback");
    let mut tx = db.begin(None).await.expect("begin");
    tx.execute("INSERT INTO t VALUES (3)", &[])
        .await
        .expect("insert");
    tx.commit().await.expect("commit");
    let ids: Vec<i64> = db
        .fetch_all("SELECT id FROM t ORDER BY id", &[])
        .await
        .expect("ids")
        .iter()
        .map(|row| row.get_at(0).expect("id"))
        .collect();
    assert_eq!(ids, [3]);
}

#[tokio::test]
async fn many_statement_texts_on_one_connection_keep_running() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let db = connect(&test, PostgresDriver::TokioPostgres, 1).await;
    // More texts than a connection keeps prepared: the oldest are closed, and run again when
    // they come back.
    for round in 0..2 {
        for i in 0..600_i64 {
            let sql = format!("SELECT CAST($1 AS bigint) + {i}");
            let rows = db
                .fetch_all(&sql, &[Value::Int(round)])
                .await
                .expect("select");
            assert_eq!(rows[0].get_at::<i64>(0).expect("sum"), round + i);
        }
    }
    // The same text with other parameter types is prepared again for them.
    let typed = db
        .fetch_all("SELECT $1", &[Value::Int(5)])
        .await
        .expect("int");
    assert_eq!(typed[0].get_at::<i64>(0).expect("int"), 5);
    let texted = db
        .fetch_all("SELECT $1", &[Value::Text("five".into())])
        .await
        .expect("text");
    assert_eq!(texted[0].get_at::<String>(0).expect("text"), "five");
}

/// A statement given up while the server works on it (its future dropped, as a timeout drops
/// it): its connection goes back and the next statement on it reads its own reply, not the
/// abandoned one's. On tokio-postgres nobody reads the connection between statements (its
/// statements drive it), so the abandoned reply is read and dropped by the next statement.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_dropped_mid_flight_leaves_its_connection_to_the_next_statement() {
    let test = TestDatabase::create(Backend::Postgres).await;
    for driver in DRIVERS {
        let db = connect(&test, driver, 1).await;
        for round in 0..3_i64 {
            let abandoned = tokio::time::timeout(
                Duration::from_millis(20),
                db.fetch_all(
                    "SELECT CAST($1 AS bigint) FROM pg_sleep(0.2)",
                    &[Value::Int(-1)],
                ),
            )
            .await;
            assert!(
                abandoned.is_err(),
                "{driver:?}: the sleep outlived its timeout"
            );
            let rows = db
                .fetch_all("SELECT CAST($1 AS bigint)", &[Value::Int(round)])
                .await
                .unwrap_or_else(|e| panic!("{driver:?}: the next statement failed: {e}"));
            assert_eq!(rows.len(), 1, "{driver:?}");
            assert_eq!(
                rows[0].get_at::<i64>(0).expect("value"),
                round,
                "{driver:?}"
            );
        }
        let state = db.pool_state();
        assert!(state.open <= 1, "{driver:?}: {state:?}");
    }
}

/// A statement given up while its large result streams (a timeout) does not leave the server
/// blocked on a full socket, holding the statement's snapshot, while its connection sits idle:
/// on tokio-postgres, whose connections are read only by their statements, the connection goes
/// to a task that reads the rest before it is handed out again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_given_up_mid_result_leaves_the_server_idle() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let db = connect(&test, PostgresDriver::TokioPostgres, 1).await;
    let admin = connect(&test, PostgresDriver::Sqlx, 1).await;
    let pid: i64 = db
        .fetch_all("SELECT CAST(pg_backend_pid() AS bigint)", &[])
        .await
        .expect("pid")[0]
        .get_at(0)
        .expect("pid");
    let given_up = tokio::time::timeout(
        Duration::from_millis(5),
        db.fetch_all(
            "SELECT n, repeat('x', 1000) FROM generate_series(1, 40000) AS n",
            &[],
        ),
    )
    .await;
    assert!(given_up.is_err(), "40 MB arrived within 5 ms");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = admin
            .fetch_all(
                "SELECT state FROM pg_stat_activity WHERE pid = CAST($1 AS int)",
                &[Value::Int(pid)],
            )
            .await
            .expect("activity");
        let state: Option<String> = rows.first().map(|row| row.get_at(0).expect("state"));
        if state.as_deref() == Some("idle") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server is still {state:?} on the given-up statement"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again: i64 = db
        .fetch_all("SELECT CAST(pg_backend_pid() AS bigint)", &[])
        .await
        .expect("the next statement")[0]
        .get_at(0)
        .expect("pid");
    assert_eq!(again, pid, "the drained connection was kept");
}

/// A result far larger than the runtime's budget of I/O per poll arrives whole, on both kinds of
/// runtime, while other statements run on the pool's other connections: a connection driven by
/// its statement gives the scheduler its turn instead of spinning, and loses no row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_results_arrive_whole_beside_other_statements() {
    let test = TestDatabase::create(Backend::Postgres).await;
    for driver in DRIVERS {
        let db = connect(&test, driver, 4).await;
        let mut tasks = Vec::new();
        for task in 0..4_i64 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..3 {
                    let rows = db
                        .fetch_all(
                            "SELECT n, repeat('x', 64) FROM generate_series(1, CAST($1 AS bigint)) AS n",
                            &[Value::Int(50_000 + task)],
                        )
                        .await
                        .expect("large select");
                    assert_eq!(rows.len() as i64, 50_000 + task);
                    let last: i64 = rows[rows.len() - 1].get_at(0).expect("n");
                    assert_eq!(last, 50_000 + task);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap_or_else(|e| panic!("{driver:?}: {e}"));
        }
    }
}

#[tokio::test]
async fn a_pool_that_is_full_waits_then_gives_up_after_the_acquire_timeout() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let options = PoolOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_millis(300),
        postgres_driver: PostgresDriver::TokioPostgres,
        ..PoolOptions::default()
    };
    let db = Database::connect_with(test.url(), &options)
        .await
        .expect("connect");
    let held = db.begin(None).await.expect("the only connection");
    let started = std::time::Instant::now();
    let error = db
        .fetch_all("SELECT 1", &[])
        .await
        .expect_err("no connection free");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert!(error.to_string().contains("timed out"), "{error}");
    held.rollback().await.expect("rollback");
    db.fetch_all("SELECT 1", &[]).await.expect("free again");
}

#[tokio::test]
async fn waiting_statements_take_turns_and_abandoned_waits_lose_no_connection() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let db = connect(&test, PostgresDriver::TokioPostgres, 2).await;
    // Twenty statements on two connections: eighteen wait at any time, and every one runs.
    let statements = (0..20).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            let rows = db
                .fetch_all("SELECT $1::bigint AS n, pg_sleep(0.01)", &[Value::Int(i)])
                .await
                .expect("a waiting statement runs");
            rows[0].get::<i64>("n").expect("n")
        })
    });
    let mut ran = Vec::new();
    for statement in statements {
        ran.push(statement.await.expect("task"));
    }
    assert_eq!(ran, (0..20).collect::<Vec<_>>());
    // Waits dropped while waiting, some at the moment a connection is handed to them.
    for round in 0..30u64 {
        let held = db.begin(None).await.expect("one connection");
        let busy = {
            let db = db.clone();
            tokio::spawn(async move { db.fetch_all("SELECT pg_sleep(0.005)", &[]).await.map(drop) })
        };
        let abandoned = tokio::time::timeout(
            Duration::from_micros(4_000 + round * 100),
            db.fetch_all("SELECT 1", &[]),
        )
        .await;
        drop(abandoned);
        busy.await.expect("task").expect("the busy statement");
        held.rollback().await.expect("rollback");
    }
    // Both connections are still there to be held at once.
    let first = tokio::time::timeout(Duration::from_secs(2), db.begin(None))
        .await
        .expect("the first connection is free")
        .expect("begin");
    let second = tokio::time::timeout(Duration::from_secs(2), db.begin(None))
        .await
        .expect("the second connection is free: no wait lost it")
        .expect("begin");
    first.rollback().await.expect("rollback");
    second.rollback().await.expect("rollback");
}

#[tokio::test]
async fn a_wrong_password_is_refused_at_connect_with_its_cause_and_without_the_password() {
    let url = fox_e2e::postgres_server_url();
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    let wrong = format!("{scheme}://postgres:not-the-password-xyz@{host}");
    let options = PoolOptions {
        postgres_driver: PostgresDriver::TokioPostgres,
        ..PoolOptions::default()
    };
    match Database::connect_with(&wrong, &options).await {
        // A server that trusts local connections lets any password in.
        Ok(db) => {
            db.fetch_all("SELECT 1", &[]).await.expect("trusted");
        }
        Err(error) => {
            let message = error.to_string();
            assert!(!message.contains("not-the-password-xyz"), "{message}");
            assert!(matches!(error, foxdb::Error::Connect { .. }), "{error:?}");
        }
    }
}

#[test]
fn the_driver_is_named_as_the_environment_variable_names_it() {
    for driver in DRIVERS {
        assert_eq!(driver.as_str().parse::<PostgresDriver>(), Ok(driver));
    }
    let unknown = "libpq"
        .parse::<PostgresDriver>()
        .expect_err("no such driver");
    assert!(
        unknown.contains("libpq") && unknown.contains("tokio-postgres"),
        "{unknown}"
    );
}

/// The `items` table with capture installed, as `fox apply` installs it.
async fn captured_items(test: &TestDatabase, db: &Database) {
    db.execute("CREATE TABLE items (id BIGINT PRIMARY KEY)", &[])
        .await
        .expect("creates items");
    test.install_capture(db, "items").await;
}

/// The backends of the subscriber's listening connections (`LISTEN` is the last statement they
/// ran).
async fn listener_pids(admin: &Database) -> Vec<i32> {
    admin
        .fetch_all(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'foxdb-subscriber' AND datname = current_database() AND query LIKE 'LISTEN%'",
            &[],
        )
        .await
        .expect("lists listeners")
        .iter()
        .map(|row| row.get_at(0).expect("pid"))
        .collect()
}

/// What `probe` gives once it gives `Ok`, asking every 20 ms for up to `within`; panics with
/// `what` and the last `Err` (what the probe saw) after that.
async fn eventually<T, F, Probe>(within: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Probe,
    Probe: std::future::Future<Output = Result<T, String>>,
{
    let deadline = std::time::Instant::now() + within;
    loop {
        let seen = match probe().await {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        assert!(
            std::time::Instant::now() < deadline,
            "{what} within {within:?}: {seen}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The backend of the subscriber's one listening connection, other than `other_than`, once it
/// is listening.
async fn listener_pid(admin: &Database, other_than: Option<i32>) -> i32 {
    eventually(
        Duration::from_secs(20),
        "one new listening subscriber connection",
        || async move {
            let pids = listener_pids(admin).await;
            match pids[..] {
                [pid] if Some(pid) != other_than => Ok(pid),
                _ => Err(format!("{pids:?}")),
            }
        },
    )
    .await
}

/// Inserts `ids` one by one, each after the one before arrived; returns the longest wait.
async fn inserted_and_received(
    db: &Database,
    changes: &mut foxdb::realtime::ChangeStream<foxdb::realtime::RawChange>,
    ids: std::ops::Range<i64>,
) -> Duration {
    use futures_util::StreamExt as _;
    let mut longest = Duration::ZERO;
    for id in ids {
        let sent = std::time::Instant::now();
        db.execute("INSERT INTO items VALUES ($1)", &[Value::Int(id)])
            .await
            .expect("insert");
        let change = tokio::time::timeout(Duration::from_secs(20), changes.next())
            .await
            .expect("a change within 20 s")
            .expect("the stream goes on")
            .expect("a change, not an error");
        longest = longest.max(sent.elapsed());
        assert_eq!(
            (change.table.as_str(), change.op, change.new),
            (
                "items",
                foxdb::realtime::Operation::Insert,
                Some(serde_json::json!({ "id": id }))
            )
        );
    }
    longest
}

#[tokio::test]
async fn a_subscription_is_woken_by_notify_and_its_listener_survives_being_terminated() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let admin = connect(&test, PostgresDriver::Sqlx, 2).await;
    captured_items(&test, &admin).await;
    for (round, driver) in DRIVERS.into_iter().enumerate() {
        let db = connect(&test, driver, 2).await;
        let mut changes = foxdb::realtime::tail(&db, foxdb::realtime::TailOptions::default());
        let first = listener_pid(&admin, None).await;
        let base = i64::try_from(round).expect("round") * 100;
        // The reader looks by itself only once a second without a notification: five changes
        // each arriving well within that were announced.
        let longest = inserted_and_received(&db, &mut changes, base..base + 5).await;
        assert!(
            longest < Duration::from_millis(500),
            "{driver:?}: woken by NOTIFY, longest wait {longest:?}"
        );
        let subscriber_connections: i64 = admin
            .fetch_all(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'foxdb-subscriber' AND datname = current_database()",
                &[],
            )
            .await
            .expect("counts")[0]
            .get_at(0)
            .expect("count");
        assert!(
            (1..=2).contains(&subscriber_connections),
            "{driver:?}: the reader's own pool, listener included: {subscriber_connections}"
        );
        // Only the listening connection is ended from outside.
        let terminated: bool = admin
            .fetch_all(
                "SELECT pg_terminate_backend($1::int)",
                &[Value::Int(first.into())],
            )
            .await
            .expect("terminates")[0]
            .get_at(0)
            .expect("terminated");
        assert!(terminated, "{driver:?}");
        // The reader reads at once, and listens again on a new connection at its next wait.
        let _ = inserted_and_received(&db, &mut changes, base + 5..base + 6).await;
        let second = listener_pid(&admin, Some(first)).await;
        assert_ne!(second, first, "{driver:?}");
        let longest = inserted_and_received(&db, &mut changes, base + 6..base + 11).await;
        assert!(
            longest < Duration::from_millis(500),
            "{driver:?}: woken by NOTIFY after reconnecting, longest wait {longest:?}"
        );
        assert_eq!(
            changes.reconnects(),
            1,
            "{driver:?}: the listener reconnected by itself, counted once"
        );
        drop(changes);
        // The reader is gone with its connections before the next driver's starts.
        eventually(
            Duration::from_secs(20),
            &format!("{driver:?}: listener closed"),
            || async {
                let pids = listener_pids(&admin).await;
                pids.is_empty().then_some(()).ok_or(format!("{pids:?}"))
            },
        )
        .await;
    }
}

#[tokio::test]
async fn on_tokio_postgres_a_subscription_and_min_connections_open_no_sqlx_connection() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let admin = connect(&test, PostgresDriver::Sqlx, 1).await;
    captured_items(&test, &admin).await;
    admin.close().await;
    let options = PoolOptions {
        max_connections: 4,
        min_connections: 2,
        postgres_driver: PostgresDriver::TokioPostgres,
        ..PoolOptions::default()
    };
    let db = Database::connect_with(test.url(), &options)
        .await
        .expect("connects");
    let mut changes = foxdb::realtime::tail(&db, foxdb::realtime::TailOptions::default());
    // Listening: the reader started after the newest change of then.
    let _ = listener_pid(&db, None).await;
    let _ = inserted_and_received(&db, &mut changes, 1..3).await;
    // Time for a pool's background work to open what it would.
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Every backend is one of the pool's or one of the reader's two. A second pool of sqlx
    // connections (keeping min_connections of its own) would show among the others.
    let backends: Vec<(String, i64)> = db
        .fetch_all(
            "SELECT application_name::text, count(*) FROM pg_stat_activity WHERE datname = current_database() GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .expect("lists backends")
        .iter()
        .map(|row| (row.get_at(0).expect("name"), row.get_at(1).expect("count")))
        .collect();
    let pool = i64::from(db.pool_state().open);
    assert_eq!(
        backends,
        [("".to_string(), pool), ("foxdb-subscriber".to_string(), 2)]
    );
}

/// Backends of the test's database named `name`.
async fn backends_named(admin: &Database, name: &str) -> Vec<i32> {
    admin
        .fetch_all(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1",
            &[Value::Text(name.into())],
        )
        .await
        .expect("lists backends")
        .iter()
        .map(|row| row.get_at(0).expect("pid"))
        .collect()
}

/// Waits up to 10 s for `count` backends named `name`.
async fn until_backends(admin: &Database, name: &str, count: usize, context: &str) -> Vec<i32> {
    eventually(
        Duration::from_secs(10),
        &format!("{context}: {count} connections"),
        || async {
            let pids = backends_named(admin, name).await;
            if pids.len() == count {
                Ok(pids)
            } else {
                Err(format!("found {pids:?}"))
            }
        },
    )
    .await
}

/// Waits up to 10 s for the pool to count `count` open connections: a connection the server
/// already lists is counted once its client side has finished connecting.
async fn until_open(db: &Database, count: u32, context: &str) {
    eventually(
        Duration::from_secs(10),
        &format!("{context}: the pool counts {count} open"),
        || async {
            let open = db.pool_state().open;
            (open == count).then_some(()).ok_or(format!("{open} open"))
        },
    )
    .await;
}

#[tokio::test]
async fn min_connections_are_open_after_connect_and_opened_again_after_they_are_lost() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let admin = connect(&test, PostgresDriver::Sqlx, 1).await;
    let separator = if test.url().contains('?') { '&' } else { '?' };
    for driver in DRIVERS {
        let name = format!("foxdb-minimum-{driver:?}").to_lowercase();
        let options = PoolOptions {
            max_connections: 5,
            min_connections: 3,
            postgres_driver: driver,
            ..PoolOptions::default()
        };
        let url = format!("{}{separator}application_name={name}", test.url());
        let db = Database::connect_with(&url, &options)
            .await
            .unwrap_or_else(|e| panic!("{driver:?}: {e}"));
        // Before any statement: the pool opens its minimum by itself.
        let pids = until_backends(&admin, &name, 3, &format!("{driver:?} after connect")).await;
        until_open(&db, 3, &format!("{driver:?} after connect")).await;
        if driver == PostgresDriver::TokioPostgres {
            // The server ends them all (a restart, a failover): the next statement still runs,
            // and the pool is back at its minimum without waiting for more statements.
            for pid in &pids {
                admin
                    .execute(
                        "SELECT pg_terminate_backend($1::int)",
                        &[Value::Int((*pid).into())],
                    )
                    .await
                    .expect("terminates");
            }
            until_backends(&admin, &name, 0, "terminated").await;
            // A backend leaves pg_stat_activity a moment before its socket closes: a kept
            // connection the client has not seen closed yet fails the one statement it runs
            // and is discarded (as any connection that breaks inside `ping_after_idle`), and
            // the next statement takes another. Three were kept.
            let mut lost = 0;
            let rows = loop {
                match db.fetch_all("SELECT 1", &[]).await {
                    Ok(rows) => break rows,
                    Err(error)
                        if lost < 3
                            && error
                                .to_string()
                                .contains("the connection to the server was closed") =>
                    {
                        lost += 1;
                    }
                    Err(error) => panic!("runs after the loss: {error:?}"),
                }
            };
            assert_eq!(rows.len(), 1);
            let again = until_backends(&admin, &name, 3, "opened again").await;
            assert!(
                again.iter().all(|pid| !pids.contains(pid)),
                "{pids:?} {again:?}"
            );
            until_open(&db, 3, "opened again").await;
        }
        db.close().await;
        until_backends(&admin, &name, 0, &format!("{driver:?} closed")).await;
    }
}
