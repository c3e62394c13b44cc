//! Real-time subscriptions on PostgreSQL, MariaDB and SQLite: typed changes, filters, the typed
//! error without capture, no gaps behind a long transaction, and the acceptance run — eight
//! writers, long transactions among them, one subscriber receiving every change once in
//! commit order per row, also while its connection is killed again and again.
//!
//! Size: `FOX_REALTIME_CHANGES` (default 4,000; the acceptance size is 50,000) and
//! `FOX_REALTIME_KILLS` (default 100).

mod support;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use fox_e2e::{Backend, TestDatabase};
use foxdb::realtime::{Change, Error, Operation, Position};
use foxdb::{ConnectOptions, Connection, Database, DatabaseUrl, ModelExt, Value};
use futures_util::StreamExt;

#[derive(Clone, Debug, PartialEq, foxdb::Model, serde::Serialize, serde::Deserialize)]
#[foxdb(table = "accounts")]
struct Account {
    #[foxdb(primary_key)]
    id: i64,
    owner: String,
    balance: i64,
    team: String,
}

#[derive(Debug, foxdb::FromRow)]
struct ProcessId {
    id: i64,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "plain")]
struct Plain {
    #[foxdb(primary_key)]
    id: i64,
}

/// A database with the `accounts` table under capture (installed as `fox apply` does) and an
/// uncaptured `plain` table.
async fn captured(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    if engine == Backend::Sqlite {
        db.execute("PRAGMA journal_mode = WAL", &[])
            .await
            .expect("WAL");
    }
    db.execute(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, owner VARCHAR(100) NOT NULL, balance BIGINT NOT NULL, team VARCHAR(20) NOT NULL)",
        &[],
    )
    .await
    .expect("creates accounts");
    db.execute("CREATE TABLE plain (id BIGINT PRIMARY KEY)", &[])
        .await
        .expect("creates plain");
    test.install_capture(&db, "accounts").await;
    (test, db)
}

fn account(id: i64, balance: i64, team: &str) -> Account {
    Account {
        id,
        owner: format!("owner {id}"),
        balance,
        team: team.into(),
    }
}

async fn next<M>(
    stream: &mut (impl futures_util::Stream<Item = Result<Change<M>, Error>> + Unpin),
) -> Change<M> {
    tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("a change within 20 s")
        .expect("the stream goes on")
        .expect("a change, not an error")
}

#[tokio::test]
async fn inserts_updates_and_deletes_arrive_as_typed_rows_in_order() {
    for engine in Backend::ALL {
        let (_test, db) = captured(engine).await;
        let mut changes = db.subscribe::<Account>().from(Position(0));
        db.insert(&account(1, 10, "a")).await.expect("insert");
        db.save(&account(1, 15, "a")).await.expect("update");
        db.remove(&account(1, 15, "a")).await.expect("delete");
        let inserted = next(&mut changes).await;
        let updated = next(&mut changes).await;
        let deleted = next(&mut changes).await;
        assert_eq!(
            (inserted.op, inserted.old.clone(), inserted.new.clone()),
            (Operation::Insert, None, Some(account(1, 10, "a"))),
            "{engine}"
        );
        assert_eq!(
            (updated.op, updated.old.clone(), updated.new.clone()),
            (
                Operation::Update,
                Some(account(1, 10, "a")),
                Some(account(1, 15, "a"))
            ),
            "{engine}"
        );
        assert_eq!(
            (deleted.op, deleted.old.clone(), deleted.new.clone()),
            (Operation::Delete, Some(account(1, 15, "a")), None),
            "{engine}"
        );
        assert!(
            inserted.position < updated.position && updated.position < deleted.position,
            "{engine}: positions increase"
        );
        let age = chrono::Utc::now() - deleted.committed_at;
        assert!(
            age < chrono::Duration::seconds(60) && age > chrono::Duration::seconds(-5),
            "{engine}: commit time {}",
            deleted.committed_at
        );
    }
}

/// Every change of the live tail of `db` until `count` arrived.
async fn tailed(
    stream: &mut foxdb::realtime::ChangeStream<foxdb::realtime::RawChange>,
    count: usize,
) -> Vec<foxdb::realtime::RawChange> {
    let mut changes = Vec::new();
    while changes.len() < count {
        let change = tokio::time::timeout(Duration::from_secs(20), stream.next())
            .await
            .expect("a change within 20 s")
            .expect("the stream goes on")
            .expect("a change, not an error");
        changes.push(change);
    }
    changes
}

#[tokio::test]
async fn live_changes_equal_the_logged_ones_for_small_big_and_many_rows() {
    for engine in Backend::ALL {
        let (test, db) = captured(engine).await;
        let mut live = foxdb::realtime::tail(&db, foxdb::realtime::TailOptions::default());
        // Let the reader start at the head (it reads once, then waits).
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut notifications = if engine == Backend::Postgres {
            let mut listener = sqlx::postgres::PgListener::connect(test.url())
                .await
                .expect("listens");
            listener.listen("fox_changes").await.expect("listens");
            Some(listener)
        } else {
            None
        };
        // One row (on PostgreSQL its notification carries it whole), a transaction of 100
        // rows (more than are notified whole), and an owner too long for a notification.
        db.insert(&account(1, 10, "a")).await.expect("insert");
        let mut tx = db.begin(None).await.expect("begin");
        for id in 2..102 {
            tx.insert(&account(id, id, "b")).await.expect("insert");
        }
        tx.commit().await.expect("commit");
        db.execute("ALTER TABLE accounts ADD COLUMN note TEXT", &[])
            .await
            .expect("adds a column");
        // As `fox apply` does after a new column: capture refreshed (row images list columns
        // on MySQL/MariaDB and SQLite).
        test.install_capture(&db, "accounts").await;
        db.execute(
            "INSERT INTO accounts (id, owner, balance, team, note) VALUES (200, 'big', 1, 'c', $1)"
                .replace(
                    "$1",
                    if engine == Backend::Postgres {
                        "$1"
                    } else {
                        "?"
                    },
                )
                .as_str(),
            &[Value::Text("x".repeat(20_000))],
        )
        .await
        .expect("a row over 8 kB writes");
        db.insert(&account(201, 1, "d"))
            .await
            .expect("insert after the big one");
        let delivered = tailed(&mut live, 103).await;
        if let Some(listener) = &mut notifications {
            // Whole, 64 whole and then the transaction's first position, a position for the
            // row too long, whole.
            let mut kinds = String::new();
            for _ in 0..68 {
                let notification = tokio::time::timeout(Duration::from_secs(10), listener.recv())
                    .await
                    .expect("a notification")
                    .expect("received");
                kinds.push(if notification.payload().starts_with('{') {
                    'w'
                } else {
                    'p'
                });
            }
            assert_eq!(kinds, format!("w{}ppw", "w".repeat(64)), "{engine}");
        }
        let mut logged_stream = foxdb::realtime::tail(
            &db,
            foxdb::realtime::TailOptions {
                tables: Vec::new(),
                from: Some(Position(0)),
            },
        );
        let logged = tailed(&mut logged_stream, 103).await;
        assert_eq!(
            delivered, logged,
            "{engine}: live changes are the logged ones"
        );
        let keys: Vec<i64> = delivered
            .iter()
            .map(|c| c.primary_key["id"].as_i64().expect("id"))
            .collect();
        let expected: Vec<i64> = (1..102).chain([200, 201]).collect();
        assert_eq!(keys, expected, "{engine}");
        assert!(
            delivered.windows(2).all(|w| w[0].position < w[1].position),
            "{engine}: positions increase"
        );
        assert_eq!(
            delivered[101].new.as_ref().expect("new")["note"]
                .as_str()
                .map(str::len),
            Some(20_000),
            "{engine}"
        );
    }
}

#[tokio::test]
async fn events_filters_and_one_record_narrow_the_stream() {
    for engine in Backend::ALL {
        let (_test, db) = captured(engine).await;
        let mut team_a_updates = db
            .subscribe::<Account>()
            .events([Operation::Update])
            .filter(Account::TEAM.eq("a"))
            .from(Position(0));
        let mut second = db.subscribe_to(&account(2, 0, "b")).from(Position(0));
        for id in 1..=3 {
            db.insert(&account(id, 0, if id == 3 { "b" } else { "a" }))
                .await
                .expect("insert");
        }
        db.save(&account(1, 5, "a")).await.expect("update");
        db.save(&account(3, 5, "b"))
            .await
            .expect("update of team b");
        db.save(&account(2, 7, "b"))
            .await
            .expect("update moving 2 out of team a");
        let first = next(&mut team_a_updates).await;
        assert_eq!(first.new, Some(account(1, 5, "a")), "{engine}");
        // Team b's update is skipped; the row leaving team a is delivered (its old row matched).
        let leaving = next(&mut team_a_updates).await;
        assert_eq!(
            (leaving.old, leaving.new),
            (Some(account(2, 0, "a")), Some(account(2, 7, "b"))),
            "{engine}"
        );
        let inserted = next(&mut second).await;
        let updated = next(&mut second).await;
        assert_eq!(inserted.new, Some(account(2, 0, "a")), "{engine}");
        assert_eq!(updated.new, Some(account(2, 7, "b")), "{engine}");
        assert!(
            tokio::time::timeout(Duration::from_millis(300), second.next())
                .await
                .is_err(),
            "{engine}: nothing about other rows"
        );
    }
}

#[tokio::test]
async fn a_table_without_capture_is_a_typed_error() {
    for engine in Backend::ALL {
        let (_test, db) = captured(engine).await;
        let mut changes = db.subscribe::<Plain>();
        let first = tokio::time::timeout(Duration::from_secs(10), changes.next())
            .await
            .expect("answers")
            .expect("one item");
        match first {
            Err(Error::NotCaptured { table, .. }) => assert_eq!(table, "plain", "{engine}"),
            other => panic!("{engine}: expected NotCaptured, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_long_transaction_committing_after_short_ones_is_not_skipped() {
    for engine in Backend::ALL {
        let (test, db) = captured(engine).await;
        let mut changes = db.subscribe::<Account>().from(Position(0));
        let url = DatabaseUrl::parse(test.url()).expect("url");
        let mut long = Connection::connect(&url, &ConnectOptions::default())
            .await
            .expect("connects");
        long.begin().await.expect("begins");
        long.execute(
            "INSERT INTO accounts (id, owner, balance, team) VALUES (1000, 'long', 0, 'a')",
        )
        .await
        .expect("the long transaction writes first");
        // Short transactions written after it commit before it (SQLite, one writer at a time,
        // makes them wait for it instead).
        let short = tokio::spawn({
            let db = db.clone();
            async move {
                for id in 1..=50 {
                    db.insert(&account(id, 0, "a")).await.expect("short insert");
                }
            }
        });
        let mut seen = Vec::new();
        if engine != Backend::Sqlite {
            short.await.expect("short writers");
            while seen.len() < 50 {
                seen.push(next(&mut changes).await);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            long.commit()
                .await
                .expect("the long transaction commits last");
        } else {
            tokio::time::sleep(Duration::from_millis(200)).await;
            long.commit().await.expect("commits");
            short.await.expect("short writers");
        }
        long.close().await;
        while seen.len() < 51 {
            seen.push(next(&mut changes).await);
        }
        let positions: Vec<Position> = seen.iter().map(|c| c.position).collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{engine}: positions strictly increase: {positions:?}"
        );
        let ids: HashSet<i64> = seen
            .iter()
            .filter_map(|c| c.new.as_ref().map(|a| a.id))
            .collect();
        assert_eq!(ids.len(), 51, "{engine}: every change once");
        assert!(
            ids.contains(&1000),
            "{engine}: the late commit is delivered"
        );
        if engine != Backend::Sqlite {
            assert_eq!(
                seen.last().and_then(|c| c.new.as_ref()).map(|a| a.id),
                Some(1000),
                "{engine}: the late commit comes after the 50 earlier commits"
            );
        }
    }
}

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const SHARED_ROWS: i64 = 64;

/// One writer: updates of shared rows (balance + 1 each), inserts and deletes of its own rows,
/// and every 40th step a long transaction (several updates, then a pause before commit).
/// Returns the changes it committed.
async fn write(url: DatabaseUrl, writer: i64, changes: usize) -> usize {
    let mut connection = Connection::connect(&url, &ConnectOptions::default())
        .await
        .expect("writer connects");
    let mut committed = 0;
    let mut own: Vec<i64> = Vec::new();
    let mut next_own = writer * 1_000_000;
    let mut step: u64 = writer.unsigned_abs() * 7919;
    while committed < changes {
        step = step
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let pick = (step >> 33) % 100;
        let long = (step >> 20).is_multiple_of(40);
        let mut statements: Vec<(String, Vec<Value>)> = Vec::new();
        if long {
            let mut rows: Vec<i64> = (0..8)
                .map(|k| ((step >> (k * 5)) % SHARED_ROWS as u64) as i64 + 1)
                .collect();
            rows.sort_unstable(); // one lock order for every writer: no deadlocks
            for row in rows {
                statements.push((
                    "UPDATE accounts SET balance = balance + 1 WHERE id = $1".into(),
                    vec![Value::Int(row)],
                ));
            }
        } else if pick < 10 || own.is_empty() {
            next_own += 1;
            statements.push((
                "INSERT INTO accounts (id, owner, balance, team) VALUES ($1, 'own', 0, 'w')".into(),
                vec![Value::Int(next_own)],
            ));
        } else if pick < 18 {
            let id = own.remove(0);
            statements.push((
                "DELETE FROM accounts WHERE id = $1".into(),
                vec![Value::Int(id)],
            ));
        } else {
            let row = ((step >> 40) % SHARED_ROWS as u64) as i64 + 1;
            statements.push((
                "UPDATE accounts SET balance = balance + 1 WHERE id = $1".into(),
                vec![Value::Int(row)],
            ));
        }
        let backend = url.backend();
        let outcome: foxdb::Result<()> = async {
            connection.begin().await?;
            for (sql, params) in &statements {
                let sql = if backend == Backend::Postgres {
                    sql.clone()
                } else {
                    sql.replace("$1", "?")
                };
                connection.execute_with(&sql, params).await?;
            }
            if long {
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            connection.commit().await
        }
        .await;
        match outcome {
            Ok(()) => {
                committed += statements.len();
                if let [(sql, params)] = statements.as_slice()
                    && sql.starts_with("INSERT")
                    && let Value::Int(id) = params[0]
                {
                    own.push(id);
                }
            }
            Err(error) => {
                // A deadlock or busy timeout: nothing of it committed; try another step.
                let _ = connection.rollback().await;
                eprintln!("writer {writer}: retrying after {error}");
            }
        }
    }
    connection.close().await;
    committed
}

/// Kills the subscriber's connections from outside: `pg_terminate_backend` / `KILL`; on
/// SQLite the reader reopens its file handle.
async fn kill_subscriber(
    engine: Backend,
    admin: &Database,
    subscription: &foxdb::realtime::Subscribe<Account>,
    keep: &HashSet<i64>,
) {
    match engine {
        Backend::Postgres => {
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'foxdb-subscriber' AND datname = current_database()",
                    &[],
                )
                .await
                .expect("terminates");
        }
        Backend::MySql => {
            let rows: Vec<ProcessId> = admin
                .raw(
                    "SELECT CAST(ID AS SIGNED) AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()",
                    &[],
                )
                .await
                .expect("lists connections");
            for ProcessId { id } in rows {
                if !keep.contains(&id) {
                    // The connection may have ended meanwhile.
                    let _ = admin.execute(&format!("KILL {id}"), &[]).await;
                }
            }
        }
        Backend::Sqlite => subscription.reconnect(),
    }
}

async fn acceptance(engine: Backend, kills: usize) {
    let per_writer = setting("FOX_REALTIME_CHANGES", 4_000) / 8;
    let (test, db) = captured(engine).await;
    for id in 1..=SHARED_ROWS {
        db.insert(&account(id, 0, "shared"))
            .await
            .expect("shared row");
    }
    let admin = Database::connect_with(
        test.url(),
        &foxdb::PoolOptions {
            max_connections: 1,
            ..Default::default()
        },
    )
    .await
    .expect("admin connects");
    let mut subscription = db.subscribe::<Account>().from(Position(0));
    let url = DatabaseUrl::parse(test.url()).expect("url");
    // MySQL kills every connection of the database but the writers' and the admin's.
    let mut keep = HashSet::new();
    let mut writers = Vec::new();
    for writer in 1..=8 {
        let url = url.clone();
        writers.push(tokio::spawn(write(url, writer, per_writer)));
    }
    if engine == Backend::MySql {
        // The writers' and the application pool's connections stay; only the subscriber's go.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rows: Vec<ProcessId> = admin
            .raw(
                "SELECT CAST(ID AS SIGNED) AS id FROM information_schema.PROCESSLIST WHERE DB = DATABASE()",
                &[],
            )
            .await
            .expect("lists connections");
        keep.extend(rows.into_iter().map(|p| p.id));
    }
    let started = std::time::Instant::now();
    let mut received: BTreeMap<Position, Change<Account>> = BTreeMap::new();
    let mut duplicates = 0usize;
    let mut last = Position(0);
    let mut kills_done = 0usize;
    let mut kill_tick = tokio::time::interval(Duration::from_millis(40));
    let mut expected: Option<usize> = None;
    loop {
        if expected.is_none() && writers.iter().all(tokio::task::JoinHandle::is_finished) {
            let mut total = SHARED_ROWS as usize;
            for writer in writers.drain(..) {
                total += writer.await.expect("writer");
            }
            expected = Some(total);
        }
        if let Some(total) = expected
            && received.len() >= total
            && kills_done >= kills
        {
            break;
        }
        tokio::select! {
            item = subscription.next() => {
                let change = item.expect("the stream goes on").expect("a change");
                assert!(change.position > last || received.contains_key(&change.position),
                    "{engine}: position {} after {last}", change.position);
                if change.position <= last {
                    duplicates += 1;
                    continue;
                }
                last = change.position;
                received.insert(change.position, change);
            }
            // Kills start once the reader is up (it delivered a change): a reader killed
            // while it first connects only retries, it has nothing to reconnect.
            _ = kill_tick.tick(), if kills_done < kills && !received.is_empty() => {
                kill_subscriber(engine, &admin, &subscription, &keep).await;
                kills_done += 1;
            }
            // Writers still running are checked again.
            () = tokio::time::sleep(Duration::from_millis(200)), if expected.is_none() => {}
            () = tokio::time::sleep(Duration::from_secs(60)) => {
                panic!("{engine}: stalled with {} changes received, expected {expected:?}, {kills_done} kills", received.len());
            }
        }
    }
    let elapsed = started.elapsed();
    let total = expected.expect("writers finished");
    assert_eq!(received.len(), total, "{engine}: every change, none extra");
    // Per row: shared rows count up by one with each update, in commit order; own rows are
    // inserted before they are deleted.
    let mut balances: BTreeMap<i64, i64> = BTreeMap::new();
    let mut alive: HashSet<i64> = HashSet::new();
    for change in received.values() {
        match change.op {
            Operation::Insert => {
                let row = change.new.as_ref().expect("insert has new");
                assert!(alive.insert(row.id), "{engine}: inserted twice: {}", row.id);
                balances.insert(row.id, row.balance);
            }
            Operation::Update => {
                let new = change.new.as_ref().expect("update has new");
                let old = change.old.as_ref().expect("update has old");
                let before = balances.get(&new.id).copied();
                assert_eq!(before, Some(old.balance), "{engine}: row {} order", new.id);
                assert_eq!(new.balance, old.balance + 1, "{engine}: row {}", new.id);
                balances.insert(new.id, new.balance);
            }
            Operation::Delete => {
                let old = change.old.as_ref().expect("delete has old");
                assert!(
                    alive.remove(&old.id),
                    "{engine}: deleted before insert: {}",
                    old.id
                );
            }
        }
    }
    // The subscriber's view equals the table.
    let stored: Vec<(i64, i64)> = Account::find()
        .order_by(Account::ID.asc())
        .all(&db)
        .await
        .expect("reads the table")
        .into_iter()
        .map(|a| (a.id, a.balance))
        .collect();
    let seen: Vec<(i64, i64)> = alive
        .iter()
        .map(|id| (*id, balances[id]))
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    assert_eq!(seen, stored, "{engine}: the stream replays to the table");
    eprintln!(
        "{engine}: {total} changes from 8 writers in {:.1} s ({:.0}/s), {kills_done} kills, {} reconnects, {duplicates} duplicates dropped",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        subscription.reconnects(),
    );
    if kills > 0 {
        assert!(
            subscription.reconnects() > 0,
            "{engine}: the reader reconnected"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_writers_one_subscriber_every_change_once_in_row_order() {
    for engine in Backend::ALL {
        acceptance(engine, 0).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_change_once_while_the_subscriber_connection_is_killed() {
    let kills = setting("FOX_REALTIME_KILLS", 100);
    for engine in Backend::ALL {
        acceptance(engine, kills).await;
    }
}

#[tokio::test]
async fn the_change_log_invalidates_the_query_cache_for_writes_made_elsewhere() {
    use foxdb::cache::{CacheInvalidator, QueryCache};
    for engine in Backend::ALL {
        let (test, db) = captured(engine).await;
        db.insert(&account(1, 10, "a")).await.expect("insert");
        let prefix = format!("fox-realtime-test-{}-{}", std::process::id(), test.name());
        let cache = QueryCache::new(&fox_e2e::redis_url(), prefix).expect("redis url");
        let cached = db.clone().with_cache(cache.clone());
        let read = || Account::find().cache(Duration::from_secs(600));
        assert_eq!(read().all(&cached).await.expect("miss")[0].balance, 10);
        let name = DatabaseUrl::parse(test.url()).expect("url").database_name();
        let invalidator = CacheInvalidator::new(cache, engine, &name);
        let feed = foxdb::realtime::tail(
            &db,
            foxdb::realtime::TailOptions {
                tables: vec!["accounts".into()],
                from: None,
            },
        );
        let following = tokio::spawn(async move { invalidator.follow(feed).await });
        tokio::time::sleep(Duration::from_millis(500)).await;
        // A write the cache cannot see: another connection, raw SQL.
        let url = DatabaseUrl::parse(test.url()).expect("url");
        let mut other = Connection::connect(&url, &ConnectOptions::default())
            .await
            .expect("connects");
        other
            .execute("UPDATE accounts SET balance = 99 WHERE id = 1")
            .await
            .expect("updates");
        other.close().await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let balance = read().all(&cached).await.expect("read")[0].balance;
            if balance == 99 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{engine}: the cached read never saw the change (still {balance})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Stop the feed and close the pool while the runtime still runs, so the connections
        // roll back what the aborted feed held open before the test database is dropped
        // (MariaDB's DROP DATABASE waits for metadata locks of open transactions).
        following.abort();
        let _ = following.await;
        cached.close().await;
        db.close().await;
    }
}

/// Runs `sql` through the engine's own command-line client, `psql` or `mariadb`: another
/// program entirely, as someone at a terminal would write.
fn write_with_the_command_line_client(engine: Backend, url: &str, sql: &str) {
    let parsed = DatabaseUrl::parse(url).expect("url");
    let mut client = match engine {
        Backend::Postgres => {
            let mut psql = std::process::Command::new("psql");
            psql.arg(url)
                .args(["--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1"])
                .arg("--command")
                .arg(sql);
            psql
        }
        Backend::MySql => {
            let location = parsed.location();
            let (host, port) = location.rsplit_once(':').unwrap_or((&location, "3306"));
            let credentials = url
                .split_once("://")
                .and_then(|(_, rest)| rest.split_once('@'))
                .map_or("root", |(credentials, _)| credentials);
            let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
            let mut mariadb = std::process::Command::new("mariadb");
            mariadb
                .args(["--no-defaults", "--protocol=tcp"])
                .arg(format!("--host={host}"))
                .arg(format!("--port={port}"))
                .arg(format!("--user={user}"))
                .arg(parsed.database_name())
                .arg("--execute")
                .arg(sql)
                // The password stays off the command line.
                .env("MYSQL_PWD", password);
            mariadb
        }
        Backend::Sqlite => unreachable!("no server to write to"),
    };
    let output = client
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{engine}: starting the command-line client: {e}"));
    assert!(
        output.status.success(),
        "{engine}: {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn a_write_by_psql_or_the_mariadb_client_makes_the_next_cached_read_fresh() {
    use foxdb::cache::{CacheInvalidator, QueryCache};
    for engine in [Backend::Postgres, Backend::MySql] {
        let (test, db) = captured(engine).await;
        db.insert(&account(1, 10, "a")).await.expect("insert");
        let prefix = format!("fox-realtime-cli-{}-{}", std::process::id(), test.name());
        let cache = QueryCache::new(&fox_e2e::redis_url(), prefix).expect("redis url");
        let cached = db.clone().with_cache(cache.clone());
        let read = || Account::find().cache(Duration::from_secs(600));
        assert_eq!(read().all(&cached).await.expect("miss")[0].balance, 10);
        let hits = cache.metrics().hits();
        assert_eq!(read().all(&cached).await.expect("hit")[0].balance, 10);
        assert_eq!(
            cache.metrics().hits(),
            hits + 1,
            "{engine}: served from Redis"
        );
        let name = DatabaseUrl::parse(test.url()).expect("url").database_name();
        let invalidator = CacheInvalidator::new(cache, engine, &name);
        let feed = foxdb::realtime::tail(
            &db,
            foxdb::realtime::TailOptions {
                tables: vec!["accounts".into()],
                // From the start: the writes below are seen however late the tail begins.
                from: Some(Position(0)),
            },
        );
        let following = tokio::spawn(async move { invalidator.follow(feed).await });

        for (round, balance) in [(1, 99), (2, 7)] {
            write_with_the_command_line_client(
                engine,
                test.url(),
                &format!("UPDATE accounts SET balance = {balance} WHERE id = 1"),
            );
            let written = tokio::time::Instant::now();
            let deadline = written + Duration::from_secs(10);
            loop {
                let seen = read().all(&cached).await.expect("read")[0].balance;
                if seen == balance {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "{engine}: write {round} by the command-line client never reached the cached read (still {seen})"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            eprintln!(
                "{engine}: write {round} by the command-line client seen by the cached read after {:?}",
                written.elapsed()
            );
        }
        following.abort();
        let _ = following.await;
        cached.close().await;
        db.close().await;
    }
}

#[tokio::test]
async fn a_durable_subscriber_resumes_after_its_acknowledged_position_and_pruning_keeps_the_rest() {
    use foxdb::realtime::{acknowledge, acknowledged, prune, remove_durable_subscriber};
    for engine in Backend::ALL {
        let (_test, db) = captured(engine).await;
        for id in 1..=3 {
            db.insert(&account(id, 0, "a")).await.expect("insert");
        }
        // First run: registered at the oldest change, handles three, acknowledges two.
        let mut first = db
            .subscribe::<Account>()
            .durable("ledger")
            .from(Position(0));
        let handled: Vec<Change<Account>> = vec![
            next(&mut first).await,
            next(&mut first).await,
            next(&mut first).await,
        ];
        first
            .acknowledge(handled[1].position)
            .await
            .expect("acknowledges");
        // Moving back is ignored.
        first
            .acknowledge(handled[0].position)
            .await
            .expect("acknowledges");
        drop(first);
        assert_eq!(
            acknowledged(&db, "ledger").await.expect("reads"),
            Some(handled[1].position),
            "{engine}"
        );
        // Pruning everything older than a day ahead keeps what the subscriber has not
        // acknowledged.
        let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
        assert_eq!(prune(&db, tomorrow).await.expect("prunes"), 2, "{engine}");
        db.insert(&account(4, 0, "a")).await.expect("insert");
        // Second run, no `from`: it resumes after the acknowledged position.
        let mut second = db.subscribe::<Account>().durable("ledger");
        let resumed = next(&mut second).await;
        assert_eq!(
            resumed.position, handled[2].position,
            "{engine}: unacknowledged first"
        );
        let newer = next(&mut second).await;
        assert_eq!(newer.new.map(|a| a.id), Some(4), "{engine}");
        drop(second);
        // Errors: not durable, unknown name, a bad name.
        let plain = db.subscribe::<Account>();
        assert!(matches!(
            plain.acknowledge(Position(1)).await,
            Err(Error::NotDurable)
        ));
        assert!(matches!(
            acknowledge(&db, "nobody", Position(1)).await,
            Err(Error::NoSuchSubscriber { .. })
        ));
        let mut unnamed = db.subscribe::<Account>().durable("");
        assert!(matches!(
            tokio::time::timeout(Duration::from_secs(10), unnamed.next())
                .await
                .expect("an item"),
            Some(Err(Error::SubscriberName { .. }))
        ));
        // Forgotten: pruning no longer waits for it (SQLite keeps its newest change).
        assert!(
            remove_durable_subscriber(&db, "ledger")
                .await
                .expect("removes")
        );
        let kept_newest = u64::from(engine == Backend::Sqlite);
        assert_eq!(
            prune(&db, tomorrow).await.expect("prunes"),
            2 - kept_newest,
            "{engine}"
        );
    }
}
