//! The pool against real PostgreSQL and MariaDB servers: a connection the server closed while it
//! sat idle is replaced before use; one that broke inside the ping window fails once and is
//! discarded.

use std::time::Duration;

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, PoolOptions};

const SERVER_ENGINES: [Backend; 2] = [Backend::Postgres, Backend::MySql];

async fn single_connection(test: &TestDatabase, ping_after_idle: Duration) -> Database {
    let options = PoolOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_secs(5),
        ping_after_idle,
        ..PoolOptions::default()
    };
    Database::connect_with(test.url(), &options)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", test.engine()))
}

/// The server's id of the connection the pool hands out.
async fn connection_id(db: &Database) -> foxdb::Result<i64> {
    let sql = match db.backend() {
        foxdb::Backend::Postgres => "SELECT CAST(pg_backend_pid() AS bigint)",
        _ => "SELECT CAST(CONNECTION_ID() AS SIGNED)",
    };
    db.fetch_all(sql, &[]).await?[0].get_at(0)
}

/// Closes connection `id` from another session, as a server restart or an idle timeout would.
async fn kill(test: &TestDatabase, id: i64) {
    let admin = Database::connect(test.url()).await.expect("admin connects");
    let sql = match test.engine() {
        Backend::Postgres => format!("SELECT pg_terminate_backend({id})"),
        _ => format!("KILL CONNECTION {id}"),
    };
    admin
        .execute(&sql, &[])
        .await
        .expect("kills the connection");
    // The server closes the socket asynchronously.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

#[tokio::test]
async fn a_connection_closed_while_idle_is_replaced_before_use() {
    for engine in SERVER_ENGINES {
        let test = TestDatabase::create(engine).await;
        let db = single_connection(&test, Duration::from_millis(100)).await;
        let first = connection_id(&db).await.expect("first statement");
        kill(&test, first).await;
        let second = connection_id(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: the dead connection was handed out: {e}"));
        assert_ne!(first, second, "{engine}: a new connection");
    }
}

/// The first statement after a connection broke with no ping in between: it meets the closed
/// connection and fails with [`foxdb::Error::Query`] (sqlx), or runs on a new one when the
/// driver saw the server close it (tokio-postgres reads the server's goodbye as it arrives).
fn fails_at_most_once(engine: Backend, broken: i64, statement: foxdb::Result<i64>) {
    match statement {
        Err(error) => assert!(
            matches!(error, foxdb::Error::Query { .. }),
            "{engine}: {error:?}"
        ),
        Ok(id) => assert_ne!(id, broken, "{engine}: ran on the closed connection"),
    }
}

#[tokio::test]
async fn connections_in_steady_use_skip_the_ping_and_a_broken_one_fails_once() {
    for engine in SERVER_ENGINES {
        let test = TestDatabase::create(engine).await;
        let db = single_connection(&test, Duration::from_secs(3600)).await;
        let first = connection_id(&db).await.expect("first statement");
        kill(&test, first).await;
        fails_at_most_once(engine, first, connection_id(&db).await);
        let retried = connection_id(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: the broken connection was kept: {e}"));
        assert_ne!(first, retried, "{engine}: a new connection");
    }
}

async fn pool_of(test: &TestDatabase, max_connections: u32, ping_after_idle: Duration) -> Database {
    let options = PoolOptions {
        max_connections,
        acquire_timeout: Duration::from_secs(5),
        ping_after_idle,
        ..PoolOptions::default()
    };
    Database::connect_with(test.url(), &options)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", test.engine()))
}

#[tokio::test]
async fn statements_in_a_row_run_on_one_connection() {
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let db = pool_of(&test, 10, Duration::from_secs(1)).await;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..20 {
            if engine == Backend::Sqlite {
                db.execute("SELECT 1", &[]).await.expect("statement");
            } else {
                seen.insert(connection_id(&db).await.expect("statement"));
            }
        }
        // One connection, kept between the statements (its prepared statements with it),
        // rather than a rotation over new ones.
        assert!(seen.len() <= 1, "{engine}: statements ran on {seen:?}");
        let state = db.pool_state();
        assert_eq!((state.open, state.idle), (1, 1), "{engine}: {state:?}");
    }
}

#[tokio::test]
async fn a_kept_connection_closed_while_idle_is_replaced_before_use() {
    for engine in SERVER_ENGINES {
        let test = TestDatabase::create(engine).await;
        let db = pool_of(&test, 4, Duration::from_millis(100)).await;
        let first = connection_id(&db).await.expect("first statement");
        kill(&test, first).await;
        let second = connection_id(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: the dead connection was handed out: {e}"));
        assert_ne!(first, second, "{engine}: a new connection");
    }
}

#[tokio::test]
async fn a_kept_connection_that_broke_in_the_window_fails_once() {
    for engine in SERVER_ENGINES {
        let test = TestDatabase::create(engine).await;
        let db = pool_of(&test, 4, Duration::from_secs(3600)).await;
        let first = connection_id(&db).await.expect("first statement");
        kill(&test, first).await;
        fails_at_most_once(engine, first, connection_id(&db).await);
        let retried = connection_id(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: the broken connection was kept: {e}"));
        assert_ne!(first, retried, "{engine}: a new connection");
    }
}

#[tokio::test]
async fn transactions_take_the_connection_statements_kept() {
    for engine in SERVER_ENGINES {
        let test = TestDatabase::create(engine).await;
        let db = pool_of(&test, 2, Duration::from_secs(3600)).await;
        db.execute("SELECT 1", &[]).await.expect("statement");
        // One connection kept, one free: two transactions at once need both.
        let first = db.begin(None).await.expect("first transaction");
        let second = tokio::time::timeout(Duration::from_secs(3), db.begin(None))
            .await
            .unwrap_or_else(|_| panic!("{engine}: the kept connection was not given back"))
            .expect("second transaction");
        first.rollback().await.expect("rollback");
        second.rollback().await.expect("rollback");
        tokio::time::timeout(Duration::from_secs(3), db.close())
            .await
            .unwrap_or_else(|_| panic!("{engine}: close waited for a kept connection"));
    }
}
