//! FoxReplicaSet `spec.transactions`: each health check ends the distributed transaction
//! branches a crashed coordinator left prepared on the primary, as the coordinator log decided.

use fox_crds::Engine;
use fox_crds::references::SecretKeyRef;
use fox_crds::replica_set::TransactionsSpec;
use fox_e2e::postgres_server::PostgresServer;
use foxdb::Database;
use foxdb::distributed::{Coordinator, Step, in_doubt};

use crate::api_server::ApiServer;
use crate::fixtures::*;

/// Runs a one-branch transaction that updates `account` and dies at `dies_at`, leaving its
/// branch prepared.
async fn crash_at(log: &Database, pg: &Database, name: &str, account: i64, dies_at: Step) {
    let coordinator = Coordinator::open(log, name)
        .await
        .expect("opens")
        .on_step(move |_, step| assert_ne!(step, dies_at, "the coordinator dies here"));
    let pg = pg.clone();
    let crashed = tokio::spawn(async move {
        coordinator
            .transaction(&[&pg], async |tx| {
                tx[0]
                    .execute(
                        &format!("UPDATE accounts SET balance = balance - 10 WHERE id = {account}"),
                        &[],
                    )
                    .await?;
                Ok::<_, foxdb::Error>(())
            })
            .await
    })
    .await;
    assert!(crashed.is_err(), "the coordinator task died");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_in_doubt_on_the_primary_are_ended_as_the_coordinator_log_decided() {
    let server =
        PostgresServer::start(&["max_prepared_transactions=10"]).expect("starts PostgreSQL");
    let directory = tempfile::tempdir().expect("temporary directory");
    let log_url = format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("log.sqlite").display()
    );
    let pg = Database::connect(&server.url()).await.expect("connects");
    let log = Database::connect(&log_url).await.expect("opens the log");
    pg.execute(
        "CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)",
        &[],
    )
    .await
    .expect("creates");
    pg.execute("INSERT INTO accounts VALUES (1, 100), (2, 100)", &[])
        .await
        .expect("inserts");
    // One coordinator died after its decision (commit), one before (presumed abort).
    crash_at(&log, &pg, "decided", 1, Step::Decided).await;
    crash_at(&log, &pg, "undecided", 2, Step::AllPrepared).await;
    assert_eq!(in_doubt(&pg).await.expect("lists").len(), 2);

    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&secret("orders-primary", &server.url()));
    api.insert(&secret("orders-log", &log_url));
    let mut rs = replicaset("orders", Engine::Postgresql, "orders-primary");
    rs.spec.transactions = Some(TransactionsSpec {
        coordinator_log: SecretKeyRef {
            name: "orders-log".into(),
            key: "url".into(),
        },
        min_age_seconds: 0,
    });
    api.insert(&rs);
    reconcile_replicaset(&api, &context, "orders")
        .await
        .expect("reconciles");

    assert!(
        in_doubt(&pg).await.expect("lists").is_empty(),
        "no branch keeps its locks"
    );
    let balances: Vec<i64> = pg
        .fetch_all("SELECT balance FROM accounts ORDER BY id", &[])
        .await
        .expect("reads")
        .iter()
        .map(|row| row.get::<i64>("balance").expect("balance"))
        .collect();
    assert_eq!(
        balances,
        vec![90, 100],
        "committed as decided, rolled back as presumed"
    );
}

#[test]
fn transactions_on_an_engine_that_cannot_prepare_are_refused() {
    let mut rs = replicaset("files", Engine::Sqlite, "files-primary");
    rs.spec.transactions = Some(TransactionsSpec {
        coordinator_log: SecretKeyRef {
            name: "files-log".into(),
            key: "url".into(),
        },
        min_age_seconds: 60,
    });
    let problems = rs.validate().expect_err("refused").to_string();
    assert!(problems.contains("spec.transactions"), "{problems}");
}
