//! The Redis query cache against real databases and Redis: hits, freshness after writes
//! (through foxdb, and by other programs through a change feed), single flight, and Redis
//! failing under it.

mod support;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fox_e2e::Backend;
use foxdb::cache::{CacheInvalidator, Change, ChangeFeed, QueryCache};
use foxdb::{Database, ModelExt};
use support::blog::{Blog, Post, User, blog};

const TTL: Duration = Duration::from_secs(300);

/// A key prefix no other test uses.
fn prefix(test: &str) -> String {
    format!(
        "foxtest:{test}:{}:{}:",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    )
}

/// The shared Redis, with a timeout that a loaded test machine does not reach (the tests
/// count hits exactly; the failure test sets its own short timeout).
fn shared_cache(test: &str) -> QueryCache {
    QueryCache::new(&fox_e2e::redis_url(), prefix(test))
        .expect("redis url")
        .with_timeout(Duration::from_secs(2))
}

#[tokio::test]
async fn a_write_through_foxdb_makes_the_next_cached_read_fresh() {
    for engine in [Backend::Postgres, Backend::MySql, Backend::Sqlite] {
        let Blog { db, ann, .. } = &blog(engine).await;
        let cache = shared_cache("write");
        let db = db.clone().with_cache(cache.clone());
        let query = || {
            Post::find()
                .filter(Post::AUTHOR_ID.eq(ann.id))
                .order_by(Post::ID.asc())
        };

        let first = query().cache(TTL).all(&db).await.expect("miss");
        let before = db.statement_count();
        let second = query().cache(TTL).all(&db).await.expect("hit");
        assert_eq!(first, second, "{engine}");
        assert_eq!(
            db.statement_count(),
            before,
            "{engine}: a hit runs no statement"
        );
        assert_eq!(
            (cache.metrics().misses(), cache.metrics().hits()),
            (1, 1),
            "{engine}"
        );

        // A builder write, a raw statement and a transaction each make the next read fresh.
        Post::update()
            .set(Post::TITLE, "renamed".to_string())
            .filter(Post::AUTHOR_ID.eq(ann.id))
            .exec(&db)
            .await
            .expect("update");
        let fresh = query().cache(TTL).all(&db).await.expect("after update");
        assert!(
            fresh.iter().all(|p| p.title == "renamed"),
            "{engine}: {fresh:?}"
        );
        db.execute("DELETE FROM comments", &[])
            .await
            .expect("delete comments");
        db.execute(
            &format!("DELETE FROM posts WHERE id = {}", fresh[0].id),
            &[],
        )
        .await
        .expect("raw delete");
        assert_eq!(
            query()
                .cache(TTL)
                .all(&db)
                .await
                .expect("after delete")
                .len(),
            fresh.len() - 1,
            "{engine}"
        );
        db.transaction(async |tx| -> foxdb::Result<()> {
            tx.execute(
                &format!("DELETE FROM posts WHERE id = {}", fresh[1].id),
                &[],
            )
            .await?;
            Ok(())
        })
        .await
        .expect("transaction");
        assert_eq!(
            query()
                .cache(TTL)
                .all(&db)
                .await
                .expect("after commit")
                .len(),
            fresh.len() - 2,
            "{engine}"
        );
        // A read of another table stayed cached through all of it.
        let users = User::find().cache(TTL).count(&db).await.expect("count");
        let hits = cache.metrics().hits();
        assert_eq!(
            User::find().cache(TTL).count(&db).await.expect("count"),
            users
        );
        assert_eq!(cache.metrics().hits(), hits + 1, "{engine}");
        db.close().await;
    }
}

#[tokio::test]
async fn eager_loading_and_raw_sql_are_cached_and_made_fresh_by_writes() {
    let Blog { db, .. } = &blog(Backend::Postgres).await;
    let cache = shared_cache("eager");
    let db = db.clone().with_cache(cache.clone());
    let headline = || {
        User::find()
            .order_by(User::ID.asc())
            .with(User::posts().order_by(Post::CREATED_AT.desc()).limit(5))
    };
    let first = headline().cache(TTL).all(&db).await.expect("miss");
    let before = db.statement_count();
    assert_eq!(headline().cache(TTL).all(&db).await.expect("hit"), first);
    assert_eq!(db.statement_count(), before);
    // A write to the relation's table, not the parents', makes it fresh.
    db.execute("UPDATE posts SET title = 'x'", &[])
        .await
        .expect("update");
    let fresh = headline().cache(TTL).all(&db).await.expect("fresh");
    assert!(
        fresh
            .iter()
            .flat_map(|(_, posts)| posts)
            .all(|p| p.title == "x")
    );

    #[derive(foxdb::FromRow, serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Titles {
        title: String,
    }
    let sql = "SELECT p.title FROM posts p JOIN users u ON u.id = p.author_id WHERE u.name = $1";
    let raw = db
        .cached(TTL)
        .raw::<Titles>(sql, &[foxdb::Value::Text("ann".into())])
        .await
        .expect("raw");
    let hits = cache.metrics().hits();
    assert_eq!(
        db.cached(TTL)
            .raw::<Titles>(sql, &[foxdb::Value::Text("ann".into())])
            .await
            .expect("raw hit"),
        raw
    );
    assert_eq!(cache.metrics().hits(), hits + 1);
    db.execute("UPDATE users SET name = 'ann2' WHERE name = 'ann'", &[])
        .await
        .expect("rename");
    assert!(
        db.cached(TTL)
            .raw::<Titles>(sql, &[foxdb::Value::Text("ann".into())])
            .await
            .expect("fresh")
            .is_empty()
    );
}

/// A change feed fed through a channel, as the change log's subscription would be.
struct ChannelFeed(tokio::sync::mpsc::Receiver<Change>);

impl ChangeFeed for ChannelFeed {
    async fn next_change(&mut self) -> Option<Change> {
        self.0.recv().await
    }
}

#[tokio::test]
async fn a_write_by_another_program_is_seen_through_the_change_feed() {
    let Blog { db, .. } = &blog(Backend::Postgres).await;
    let cache = shared_cache("feed");
    let cached_db = db.clone().with_cache(cache.clone());
    let (changes, feed) = tokio::sync::mpsc::channel(16);
    let invalidator = CacheInvalidator::new(
        cache.clone(),
        Backend::Postgres,
        &fox_e2e_database_name(db).await,
    );
    let following = tokio::spawn(async move { invalidator.follow(ChannelFeed(feed)).await });

    assert_eq!(
        User::find()
            .cache(TTL)
            .count(&cached_db)
            .await
            .expect("miss"),
        5
    );
    // Another program (a handle without the cache stands for psql) inserts a user.
    let other = Database::connect(&db_url(db).await)
        .await
        .expect("other program");
    other
        .execute("INSERT INTO users (name) VALUES ('zed')", &[])
        .await
        .expect("insert");
    assert_eq!(
        User::find()
            .cache(TTL)
            .count(&cached_db)
            .await
            .expect("stale until the feed"),
        5
    );
    let sent = Instant::now();
    changes
        .send(Change {
            table: "users".into(),
            position: "1".into(),
        })
        .await
        .expect("send");
    loop {
        if User::find()
            .cache(TTL)
            .count(&cached_db)
            .await
            .expect("read")
            == 6
        {
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "the change did not invalidate"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(changes);
    assert_eq!(following.await.expect("invalidator").as_deref(), Some("1"));
}

async fn fox_e2e_database_name(db: &Database) -> String {
    let rows = db
        .fetch_all("SELECT current_database() AS name", &[])
        .await
        .expect("name");
    rows[0].get::<String>("name").expect("name")
}

async fn db_url(db: &Database) -> String {
    format!(
        "postgres://postgres@127.0.0.1:5432/{}",
        fox_e2e_database_name(db).await
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_misses_run_the_query_once() {
    let Blog { db, .. } = &blog(Backend::Postgres).await;
    let db = db.clone().with_cache(shared_cache("flight"));
    let before = db.statement_count();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            Post::find()
                .order_by(Post::ID.asc())
                .cache(TTL)
                .all(&db)
                .await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task").expect("read"));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        db.statement_count() - before,
        1,
        "one query for 100 concurrent misses"
    );
}

/// A Redis server of the test's own, on a free port, without persistence.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.signal("-CONT");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_slow_or_stopped_mid_test_never_fails_a_query_nor_serves_a_stale_one() {
    let Blog { db, .. } = &blog(Backend::Postgres).await;
    let redis = OwnRedis::start();
    let cache = QueryCache::new(
        &format!("redis://127.0.0.1:{}/", redis.port),
        prefix("down"),
    )
    .expect("url")
    .with_timeout(Duration::from_millis(50));
    let db = db.clone().with_cache(cache.clone());
    let count = async || {
        User::find()
            .cache(TTL)
            .count(&db)
            .await
            .expect("never an error")
    };
    assert_eq!(count().await, 5);
    assert_eq!(count().await, 5);
    assert_eq!(cache.metrics().hits(), 1);

    // Slow: the server stops answering (SIGSTOP). Reads go to the database, within the timeout.
    redis.signal("-STOP");
    let started = Instant::now();
    for _ in 0..20 {
        assert_eq!(count().await, 5);
    }
    // A write while Redis cannot take the version bump.
    db.execute("INSERT INTO users (name) VALUES ('zed')", &[])
        .await
        .expect("insert");
    assert_eq!(count().await, 6);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert!(cache.metrics().bypasses() >= 20);
    assert!(cache.metrics().errors() >= 1);

    // Redis answers again, still holding the old entry: the kept bump goes first, so the
    // old count is not served.
    redis.signal("-CONT");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(count().await, 6);
    assert_eq!(count().await, 6);

    // Stopped for good: every query is still answered.
    drop(redis);
    for _ in 0..20 {
        assert_eq!(count().await, 6);
    }
    let _ = Arc::new(());
}

#[tokio::test]
async fn the_in_process_tier_is_as_fresh_as_redis() {
    let Blog { db, .. } = &blog(Backend::Postgres).await;
    let cache = shared_cache("local").with_local_tier(100);
    let db = db.clone().with_cache(cache.clone());
    let names = async || {
        User::find()
            .order_by(User::ID.asc())
            .cache(TTL)
            .all(&db)
            .await
            .expect("read")
            .into_iter()
            .map(|u| u.name)
            .collect::<Vec<_>>()
    };
    let first = names().await;
    let before = db.statement_count();
    assert_eq!(names().await, first);
    assert_eq!(db.statement_count(), before, "a hit");
    db.execute("UPDATE users SET name = 'x'", &[])
        .await
        .expect("update");
    assert!(
        names().await.iter().all(|n| n == "x"),
        "the local value is not served after a write"
    );
    assert_eq!((cache.metrics().hits(), cache.metrics().misses()), (1, 2));
}
