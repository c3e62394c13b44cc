//! Replica routing against real primary/replica pairs started by each test (fox-e2e's
//! `PostgresPair` and `MariaDbPair`): where reads go, lag, read-your-writes, failover.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use fox_e2e::replica::{MariaDbPair, PostgresPair};
use foxdb::{Database, PoolConfig, Value};

const INTERVAL: Duration = Duration::from_millis(400);

fn pool() -> PoolConfig {
    PoolConfig {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(5),
        health_check_interval: INTERVAL,
        ..PoolConfig::default()
    }
}

async fn count(db: &Database, table: &str) -> i64 {
    let rows = db
        .fetch_all(&format!("SELECT COUNT(*) AS n FROM {table}"), &[])
        .await
        .expect("count");
    rows[0].get::<i64>("n").expect("n")
}

/// Whether a read through `db` was answered by a replica.
async fn answered_by_replica(db: &Database, sql: &str) -> bool {
    let rows = db.fetch_all(sql, &[]).await.expect("probe read");
    rows[0].get::<i64>("replica").expect("replica") != 0
}

const PG_IS_REPLICA: &str =
    "SELECT CASE WHEN pg_is_in_recovery() THEN 1::int8 ELSE 0::int8 END AS replica";
const MARIADB_IS_REPLICA: &str = "SELECT CAST(@@server_id = 2 AS SIGNED) AS replica";

async fn reads_go_to_the_replica_and_writes_to_the_primary(
    primary: String,
    replica: String,
    is_replica: &str,
) {
    let db = Database::builder()
        .primary(&primary)
        .replica(&replica)
        .pool(pool())
        .connect()
        .await
        .expect("connect");
    assert!(db.has_replicas());
    db.execute(
        "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(40))",
        &[],
    )
    .await
    .expect("create on the primary");
    db.execute("INSERT INTO notes VALUES (1, 'a')", &[])
        .await
        .expect("insert");
    // The session that wrote reads its write (from the replica once it has it).
    assert_eq!(count(&db, "notes").await, 1);
    // Another session, a plain read: the replica answers.
    let other = db.session();
    assert!(answered_by_replica(&other, is_replica).await);
    assert!(!answered_by_replica(&other.on_primary(), is_replica).await);
    let metrics = db.routing_metrics().expect("metrics");
    let replica_name = foxdb::DatabaseUrl::parse(&replica).expect("url").location();
    assert!(metrics.reads_from(&replica_name) >= 1);
    assert!(metrics.reads_from("primary") >= 1);
    let before = db.statement_count();
    db.check_replicas().await;
    assert_eq!(
        db.statement_count(),
        before,
        "health checks are not the application's statements"
    );
    // A transaction runs on the primary, and its commit counts as the session's write.
    db.transaction(async |tx| -> foxdb::Result<()> {
        tx.execute("INSERT INTO notes VALUES (2, 'b')", &[]).await?;
        Ok(())
    })
    .await
    .expect("transaction");
    assert_eq!(count(&db, "notes").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_reads_go_to_the_replica_and_writes_to_the_primary() {
    let pair = PostgresPair::start().expect("PostgreSQL pair");
    reads_go_to_the_replica_and_writes_to_the_primary(
        pair.primary_url(),
        pair.replica_url(),
        PG_IS_REPLICA,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_reads_go_to_the_replica_and_writes_to_the_primary() {
    let pair = MariaDbPair::start().expect("MariaDB pair");
    reads_go_to_the_replica_and_writes_to_the_primary(
        pair.primary_url(),
        pair.replica_url(),
        MARIADB_IS_REPLICA,
    )
    .await;
}

/// Polls until a fresh session's reads of `notes` see `expected` rows; returns how long it took.
async fn time_until_reads_see(db: &Database, expected: i64, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if count(&db.session(), "notes").await == expected {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "reads still miss the primary's rows after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_paused_replay_sends_reads_away_within_one_health_interval() {
    let pair = PostgresPair::start().expect("PostgreSQL pair");
    pair.primary_sql("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)")
        .expect("create");
    pair.catch_up().expect("catch up");
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(pool())
        // Time alone would wait for the lag to grow; the WAL distance sees it at once.
        .max_replica_lag(Duration::from_secs(60))
        .max_replica_lag_distance(64 * 1024)
        .connect()
        .await
        .expect("connect");
    assert_eq!(count(&db, "notes").await, 0);
    pair.pause_replay().expect("pause");
    // Another program writes: about a megabyte of WAL the replica does not replay.
    pair.primary_sql(
        "INSERT INTO notes SELECT g, repeat('x', 100) FROM generate_series(1, 5000) g",
    )
    .expect("insert");
    assert_eq!(
        pair.replica_sql("SELECT count(*) FROM notes")
            .expect("replica"),
        "0"
    );
    let took = time_until_reads_see(&db, 5000, INTERVAL * 4).await;
    assert!(
        took <= INTERVAL + Duration::from_millis(300),
        "took {took:?}"
    );
    eprintln!("reads left the paused replica after {took:?} (health interval {INTERVAL:?})");
    // Replay resumes: the replica takes reads again after a health check.
    pair.resume_replay().expect("resume");
    pair.catch_up().expect("catch up");
    db.check_replicas().await;
    assert!(answered_by_replica(&db.session(), PG_IS_REPLICA).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_stopped_sql_thread_sends_reads_away_within_one_health_interval() {
    let pair = MariaDbPair::start().expect("MariaDB pair");
    pair.primary_sql("CREATE TABLE fox.notes (id INT PRIMARY KEY, body TEXT)")
        .expect("create");
    pair.catch_up().expect("catch up");
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(pool())
        .connect()
        .await
        .expect("connect");
    assert_eq!(count(&db, "notes").await, 0);
    pair.stop_replica_sql_thread().expect("stop SQL thread");
    let stopped = Instant::now();
    pair.primary_sql("INSERT INTO fox.notes VALUES (1, 'a'), (2, 'b')")
        .expect("insert");
    let took = time_until_reads_see(&db, 2, INTERVAL * 4).await;
    let since_stop = stopped.elapsed();
    assert!(
        took <= INTERVAL + Duration::from_millis(300),
        "took {took:?}"
    );
    eprintln!(
        "reads left the stopped replica after {took:?} ({since_stop:?} since STOP SLAVE SQL_THREAD; interval {INTERVAL:?})"
    );
    pair.start_replica_sql_thread().expect("start SQL thread");
    pair.catch_up().expect("catch up");
    db.check_replicas().await;
    assert!(answered_by_replica(&db.session(), MARIADB_IS_REPLICA).await);
}

async fn a_session_reads_its_own_write_at_once_while_replay_is_stopped(db: Database) {
    let writer = db.session();
    let bystander = db.session();
    let started = Instant::now();
    writer
        .execute(
            "INSERT INTO notes VALUES ($1, 'mine')"
                .replace("$1", "42")
                .as_str(),
            &[],
        )
        .await
        .expect("insert");
    assert_eq!(
        count(&writer, "notes").await,
        1,
        "the writer sees its write"
    );
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(500),
        "read-your-writes took {took:?}"
    );
    // A session that did not write still reads the (stale) replica: the routing did not
    // simply give up on replicas.
    assert_eq!(count(&bystander, "notes").await, 0);
    let metrics = db.routing_metrics().expect("metrics");
    assert!(metrics.read_your_writes("primary") >= 1);
    eprintln!("write then read of the same session: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_session_reads_its_own_write_at_once_while_replay_is_paused() {
    let pair = PostgresPair::start().expect("PostgreSQL pair");
    pair.primary_sql("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)")
        .expect("create");
    pair.catch_up().expect("catch up");
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(pool())
        .max_replica_lag(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    pair.pause_replay().expect("pause");
    a_session_reads_its_own_write_at_once_while_replay_is_stopped(db).await;
    assert_eq!(
        pair.replica_sql("SELECT count(*) FROM notes")
            .expect("replica"),
        "0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_session_reads_its_own_write_at_once_while_the_sql_thread_is_stopped() {
    let pair = MariaDbPair::start().expect("MariaDB pair");
    pair.primary_sql("CREATE TABLE fox.notes (id INT PRIMARY KEY, body TEXT)")
        .expect("create");
    pair.catch_up().expect("catch up");
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(PoolConfig {
            // No health check during the test: the replica stays in the routing table and
            // only read-your-writes keeps the writer's reads right.
            health_check_interval: Duration::from_secs(3600),
            ..pool()
        })
        .connect()
        .await
        .expect("connect");
    pair.stop_replica_sql_thread().expect("stop SQL thread");
    a_session_reads_its_own_write_at_once_while_replay_is_stopped(db).await;
}

async fn killing_the_replica_during_reads_loses_none(db: Database, kill: impl FnOnce()) {
    for id in 1..=100 {
        db.execute(&format!("INSERT INTO notes VALUES ({id}, 'n{id}')"), &[])
            .await
            .expect("insert");
    }
    let reader = db.session();
    // Wait until the replica has the rows, so reads really go there.
    while count(&reader.session(), "notes").await != 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for task in 0..8_i64 {
        let reader = reader.session();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut wrong = 0;
            for n in 0..1250_i64 {
                let id = (task * 1250 + n) % 100 + 1;
                let rows = reader
                    .fetch_all(
                        "SELECT body FROM notes WHERE id = ?"
                            .replace('?', &id.to_string())
                            .as_str(),
                        &[],
                    )
                    .await
                    .expect("no read fails");
                if rows.len() != 1
                    || rows[0].get::<String>("body").expect("body") != format!("n{id}")
                {
                    wrong += 1;
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            wrong
        }));
    }
    while done.load(Ordering::Relaxed) < 2000 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    kill();
    let mut wrong = 0;
    for task in tasks {
        wrong += task.await.expect("task");
    }
    assert_eq!(done.load(Ordering::Relaxed), 10_000);
    assert_eq!(wrong, 0);
    let metrics = db.routing_metrics().expect("metrics");
    assert!(
        metrics.reads_from("primary") > 0,
        "reads went on on the primary"
    );
    assert!(
        metrics.fallbacks("failed") >= 1,
        "a read failed over from the killed replica"
    );
    eprintln!(
        "10000 reads, none lost; primary answered {}, failovers {}",
        metrics.reads_from("primary"),
        metrics.fallbacks("failed")
    );
    let _: &[Value] = &[];
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_killing_the_replica_during_10000_reads_loses_none() {
    let mut pair = PostgresPair::start().expect("PostgreSQL pair");
    pair.primary_sql("CREATE TABLE notes (id INT PRIMARY KEY, body TEXT)")
        .expect("create");
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(pool())
        .connect()
        .await
        .expect("connect");
    killing_the_replica_during_reads_loses_none(db, || pair.stop_replica()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_killing_the_replica_during_10000_reads_loses_none() {
    let mut pair = MariaDbPair::start().expect("MariaDB pair");
    pair.primary_sql("CREATE TABLE fox.notes (id INT PRIMARY KEY, body TEXT)")
        .expect("create");
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(pool())
        .connect()
        .await
        .expect("connect");
    killing_the_replica_during_reads_loses_none(db, || pair.stop_replica()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_replica_at_start_up_takes_no_reads_and_delays_nothing() {
    let pair = PostgresPair::start().expect("PostgreSQL pair");
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let started = Instant::now();
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(format!("postgres://postgres@127.0.0.1:{port}/fox"))
        .pool(PoolConfig {
            acquire_timeout: Duration::from_secs(2),
            ..pool()
        })
        .connect()
        .await
        .expect("a dead replica is no start-up error");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert!(!answered_by_replica(&db, PG_IS_REPLICA).await);
    assert_eq!(
        db.routing_metrics().expect("metrics").reads_from("primary"),
        1
    );
    let mixed = Database::builder()
        .primary(pair.primary_url())
        .replica("mysql://root@127.0.0.1:3306/fox")
        .connect()
        .await;
    let message = mixed.expect_err("engines differ").to_string();
    assert!(message.contains("must be postgresql too"), "{message}");
}

/// A directory with `routing.json` and the credentials file `url`, removed on drop.
struct RoutingDir(std::path::PathBuf);

impl RoutingDir {
    fn new(url: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "fox-routing-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("url"), url).expect("url file");
        Self(dir)
    }

    fn file(&self) -> std::path::PathBuf {
        self.0.join("routing.json")
    }

    /// Writes the table as the kubelet does: a new file moved into place.
    fn write(&self, table: &str) {
        let staged = self.0.join(".routing.json.new");
        std::fs::write(&staged, table).expect("write");
        std::fs::rename(staged, self.file()).expect("rename");
    }
}

impl Drop for RoutingDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn routing_table(engine: &str, primary: u16, readers: &[u16]) -> String {
    let member = |name: &str, port: u16| {
        format!(r#"{{"name": "{name}", "host": "127.0.0.1", "port": {port}, "weight": 100}}"#)
    };
    let readers: Vec<String> = readers.iter().map(|p| member("replica", *p)).collect();
    format!(
        r#"{{"engine": "{engine}", "primary": {}, "readers": [{}], "readPreference": "replicaPreferred",
            "maxReplicaLagSeconds": 5, "readYourWrites": true, "readYourWritesSeconds": 2, "observedGeneration": 1}}"#,
        member("primary", primary),
        readers.join(", ")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn from_routing_follows_the_mounted_table_without_dropping_running_queries() {
    let pair = PostgresPair::start().expect("PostgreSQL pair");
    // The credentials name another host and port: the table's replace them.
    let dir = RoutingDir::new("postgres://postgres@elsewhere.invalid:1/fox");
    dir.write(&routing_table(
        "postgresql",
        pair.primary_port(),
        &[pair.replica_port()],
    ));
    let db = Database::from_routing_with(dir.file(), pool())
        .await
        .expect("from_routing");
    assert!(answered_by_replica(&db.session(), PG_IS_REPLICA).await);
    db.execute("CREATE TABLE notes (id INT PRIMARY KEY)", &[])
        .await
        .expect("write");

    // A long read runs on the replica while the table drops the replica.
    let long = {
        let reader = db.session();
        tokio::spawn(async move {
            reader
                .fetch_all(
                    "SELECT CASE WHEN pg_is_in_recovery() THEN 1::int8 ELSE 0::int8 END AS replica, pg_sleep(2)::text AS slept",
                    &[],
                )
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    dir.write(&routing_table("postgresql", pair.primary_port(), &[]));
    let started = Instant::now();
    while answered_by_replica(&db.session(), PG_IS_REPLICA).await {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the change was not followed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = long
        .await
        .expect("task")
        .expect("the running read finished");
    assert_eq!(rows[0].get::<i64>("replica").expect("replica"), 1);

    // A malformed change is ignored: the last good table stays.
    dir.write("{ not json");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(count(&db, "notes").await, 0);

    // And the replica comes back with the next good table.
    dir.write(&routing_table(
        "postgresql",
        pair.primary_port(),
        &[pair.replica_port()],
    ));
    let started = Instant::now();
    while !answered_by_replica(&db.session(), PG_IS_REPLICA).await {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "the replica did not come back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn from_routing_refuses_bad_tables_with_clear_errors_and_at_once() {
    let dir = RoutingDir::new("postgres://postgres@127.0.0.1:5432/test");
    let started = Instant::now();
    let missing = Database::from_routing(dir.file())
        .await
        .expect_err("no file");
    assert!(
        missing.to_string().contains("cannot read the routing file"),
        "{missing}"
    );
    dir.write("{\"engine\": \"postgresql\"");
    let malformed = Database::from_routing(dir.file())
        .await
        .expect_err("malformed");
    assert!(
        malformed
            .to_string()
            .contains("is not a FoxDB routing table"),
        "{malformed}"
    );
    dir.write(&routing_table("mongodb", 27017, &[]));
    let mongo = Database::from_routing(dir.file())
        .await
        .expect_err("mongodb");
    assert!(
        mongo.to_string().contains("names engine mongodb"),
        "{mongo}"
    );
    dir.write(&routing_table("mysql", 3306, &[]));
    let other = Database::from_routing(dir.file())
        .await
        .expect_err("credentials of another engine");
    assert!(
        other
            .to_string()
            .contains("credentials URL is for postgresql"),
        "{other}"
    );
    dir.write(&routing_table("postgresql", 5432, &[]).replace(
        r#""primary": {"name": "primary", "host": "127.0.0.1", "port": 5432, "weight": 100}, "#,
        "",
    ));
    let no_primary = Database::from_routing(dir.file())
        .await
        .expect_err("no primary");
    assert!(
        no_primary.to_string().contains("names no primary"),
        "{no_primary}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "notes")]
struct Note {
    #[foxdb(primary_key)]
    id: i64,
    body: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "marks")]
struct Mark {
    #[foxdb(primary_key)]
    id: i64,
    note_id: i64,
}

#[derive(foxdb::FromRow, Debug, PartialEq)]
struct Body {
    body: String,
}

fn marks() -> foxdb::Relation<Note, Mark> {
    foxdb::Relation::has_many(Note::ID, Mark::NOTE_ID)
}

const NOTES_AND_MARKS: [&str; 2] = [
    "CREATE TABLE notes (id BIGINT PRIMARY KEY, body VARCHAR(40) NOT NULL)",
    "CREATE TABLE marks (id BIGINT PRIMARY KEY, note_id BIGINT NOT NULL)",
];

/// With replay stopped on the replica: every kind of read marked `.on_primary()` sees a row
/// the replica lacks, and reads without it still go to the replica.
async fn every_kind_of_read_marked_on_primary_reads_the_primary(db: Database) {
    use foxdb::ModelExt;
    let writer = db.session();
    writer
        .execute("INSERT INTO notes (id, body) VALUES (1, 'fresh')", &[])
        .await
        .expect("insert note");
    writer
        .execute("INSERT INTO marks (id, note_id) VALUES (1, 1)", &[])
        .await
        .expect("insert mark");
    let reader = db.session();
    let metrics = db.routing_metrics().expect("metrics");
    assert_eq!(
        Note::find().count(&reader).await.expect("count"),
        0,
        "a plain read goes to the (stale) replica"
    );
    let before = metrics.reads_from("primary");

    assert_eq!(
        Note::find()
            .on_primary()
            .count(&reader)
            .await
            .expect("count"),
        1
    );
    assert!(
        Note::find()
            .on_primary()
            .exists(&reader)
            .await
            .expect("exists")
    );
    let notes = Note::find().on_primary().all(&reader).await.expect("all");
    assert_eq!(notes[0].body, "fresh");
    let one = Note::find()
        .filter(Note::ID.eq(1))
        .on_primary()
        .one(&reader)
        .await
        .expect("one");
    assert!(one.is_some());
    let loaded: Vec<(Note, Vec<Mark>)> = Note::find()
        .with(marks())
        .on_primary()
        .all(&reader)
        .await
        .expect("eager");
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        loaded[0].1.len(),
        1,
        "the relation level reads the primary too"
    );
    let bodies: Vec<Body> = foxdb::query_as!(Body, "SELECT body FROM notes")
        .on_primary()
        .all(&reader)
        .await
        .expect("raw");
    assert_eq!(
        bodies,
        [Body {
            body: "fresh".into()
        }]
    );
    // count, exists, all, one, two statements of the eager load, the raw query.
    assert_eq!(metrics.reads_from("primary") - before, 7);

    // The handle itself still reads the replica.
    assert_eq!(Note::find().count(&reader).await.expect("count"), 0);
    assert!(Note::find().all(&reader).await.expect("all").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_on_primary_per_query_reads_the_primary_while_replay_is_paused() {
    let pair = PostgresPair::start().expect("PostgreSQL pair");
    for sql in NOTES_AND_MARKS {
        pair.primary_sql(sql).expect("create");
    }
    pair.catch_up().expect("catch up");
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(pool())
        .max_replica_lag(Duration::from_secs(3600))
        .connect()
        .await
        .expect("connect");
    pair.pause_replay().expect("pause");
    every_kind_of_read_marked_on_primary_reads_the_primary(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mariadb_on_primary_per_query_reads_the_primary_while_the_sql_thread_is_stopped() {
    let pair = MariaDbPair::start().expect("MariaDB pair");
    for sql in NOTES_AND_MARKS {
        pair.primary_sql(&sql.replace("TABLE ", "TABLE fox."))
            .expect("create");
    }
    pair.catch_up().expect("catch up");
    let db = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(PoolConfig {
            health_check_interval: Duration::from_secs(3600),
            ..pool()
        })
        .connect()
        .await
        .expect("connect");
    pair.stop_replica_sql_thread().expect("stop SQL thread");
    every_kind_of_read_marked_on_primary_reads_the_primary(db).await;
}
