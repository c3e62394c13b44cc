//! `fox recover`: branches a crashed coordinator left prepared on a PostgreSQL server of the
//! test's own (with prepared transactions) and on the shared MariaDB are ended as the
//! coordinator log decided.

use std::process::Command;

use fox_e2e::postgres_server::PostgresServer;
use fox_e2e::{Backend, TestDatabase};
use foxdb::Database;
use foxdb::distributed::{Coordinator, Step, in_doubt};

fn fox(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_fox"))
        .args(args)
        .env_remove("FOX_COORDINATOR_LOG_URL")
        .output()
        .expect("runs fox");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

async fn balance(db: &Database) -> i64 {
    db.fetch_all("SELECT balance FROM accounts WHERE id = 1", &[])
        .await
        .expect("reads")[0]
        .get::<i64>("balance")
        .expect("balance")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_commits_the_branches_of_a_coordinator_that_died_after_deciding() {
    let server =
        PostgresServer::start(&["max_prepared_transactions=10"]).expect("starts PostgreSQL");
    let maria_test = TestDatabase::create(Backend::MySql).await;
    let log_test = TestDatabase::create(Backend::Sqlite).await;
    let pg = Database::connect(&server.url()).await.expect("connects");
    let maria = Database::connect(maria_test.url()).await.expect("connects");
    let log = Database::connect(log_test.url()).await.expect("opens");
    for db in [&pg, &maria] {
        db.execute(
            "CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)",
            &[],
        )
        .await
        .expect("creates");
        db.execute("INSERT INTO accounts VALUES (1, 100)", &[])
            .await
            .expect("inserts");
    }
    let name = format!("cli{}", std::process::id());
    let coordinator = Coordinator::open(&log, &name)
        .await
        .expect("opens")
        .on_step(|_, step| assert_ne!(step, Step::Decided, "the coordinator dies here"));
    let (a, b) = (pg.clone(), maria.clone());
    let crashed = tokio::spawn(async move {
        coordinator
            .transaction(&[&a, &b], async |tx| {
                tx[0]
                    .execute(
                        "UPDATE accounts SET balance = balance - 40 WHERE id = 1",
                        &[],
                    )
                    .await?;
                tx[1]
                    .execute(
                        "UPDATE accounts SET balance = balance + 40 WHERE id = 1",
                        &[],
                    )
                    .await?;
                Ok::<_, foxdb::Error>(())
            })
            .await
    })
    .await;
    assert!(crashed.is_err(), "the coordinator task died");
    let ours = async |db: &Database| {
        in_doubt(db)
            .await
            .expect("lists")
            .into_iter()
            .filter(|b| b.transaction().coordinator().as_str() == name)
            .count()
    };
    // MariaDB lists the XA branch once it has noticed its session closed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while ours(&pg).await + ours(&maria).await < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(ours(&pg).await + ours(&maria).await, 2);

    let pg_url = server.url();
    let (ok, output) = fox(&[
        "recover",
        "--database",
        &pg_url,
        "--database",
        maria_test.url(),
        "--log",
        log_test.url(),
        "--min-age",
        "0s",
    ]);
    assert!(ok, "{output}");
    assert_eq!(output.matches("committed   fox:").count(), 2, "{output}");
    assert!(
        !output.contains("postgres@"),
        "no URL with credentials is printed: {output}"
    );
    assert_eq!(ours(&pg).await + ours(&maria).await, 0);
    assert_eq!((balance(&pg).await, balance(&maria).await), (60, 140));
}

#[test]
fn recover_refuses_a_database_that_cannot_prepare_and_says_why() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("a.sqlite").display()
    );
    let log = format!(
        "sqlite://{}?mode=rwc",
        directory.path().join("log.sqlite").display()
    );
    let (ok, output) = fox(&["recover", "--database", &sqlite, "--log", &log]);
    assert!(!ok, "{output}");
    assert!(output.contains("two-phase commit"), "{output}");
}
