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

#[tokio::test]
async fn connections_in_steady_use_skip_the_ping_and_a_broken_one_fails_once() {
    for engine in SERVER_ENGINES {
        let test = TestDatabase::create(engine).await;
        let db = single_connection(&test, Duration::from_secs(3600)).await;
        let first = connection_id(&db).await.expect("first statement");
        kill(&test, first).await;
        let error = connection_id(&db)
            .await
            .expect_err("no ping inside the window: the statement meets the closed connection");
        assert!(
            matches!(error, foxdb::Error::Query { .. }),
            "{engine}: {error:?}"
        );
        let retried = connection_id(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: the broken connection was kept: {e}"));
        assert_ne!(first, retried, "{engine}: a new connection");
    }
}
