//! Distributed transactions across a PostgreSQL server this test binary starts itself (with
//! `max_prepared_transactions` > 0, which the shared server lacks) and the shared MariaDB,
//! with the coordinator log in SQLite: commit, rollback, failed prepares, recovery, and a
//! coordinator process SIGKILLed at every step boundary of the protocol.
//!
//! The kill test runs 50 kills by default; `FOX_DTX_KILLS=500` runs more.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fox_e2e::postgres_server::PostgresServer;
use fox_e2e::{Backend, TestDatabase};
use foxdb::distributed::{Coordinator, RecoveryOptions, Step, in_doubt, recover};
use foxdb::{Database, Error, PoolOptions, PostgresDriver, Value};

const INITIAL: i64 = 1_000_000;

/// The environment variable that turns this test binary into a coordinator process.
const CHILD: &str = "FOX_DTX_COORDINATOR";

/// The line a coordinator process prints when it stops at the step it was told to.
const STOPPED: &str = "fox-dtx-stopped-at";

fn postgres() -> &'static PostgresServer {
    static SERVER: OnceLock<PostgresServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        PostgresServer::start(&["max_prepared_transactions=40"])
            .expect("starts a PostgreSQL server with prepared transactions")
    })
}

fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Two banks, one account each, and a coordinator log.
struct Banks {
    pg: Database,
    maria: Database,
    log: Database,
    pg_url: String,
    maria_test: TestDatabase,
    log_test: TestDatabase,
}

impl Banks {
    async fn open() -> Self {
        let pg_url = postgres()
            .create_database(&unique("bank_"))
            .expect("creates a database");
        let maria_test = TestDatabase::create(Backend::MySql).await;
        let log_test = TestDatabase::create(Backend::Sqlite).await;
        let pg = Database::connect(&pg_url)
            .await
            .expect("connects to PostgreSQL");
        let maria = Database::connect(maria_test.url())
            .await
            .expect("connects to MariaDB");
        let log = Database::connect(log_test.url())
            .await
            .expect("opens the log");
        for db in [&pg, &maria] {
            db.execute(
                "CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)",
                &[],
            )
            .await
            .expect("creates accounts");
            db.execute(&format!("INSERT INTO accounts VALUES (1, {INITIAL})"), &[])
                .await
                .expect("opens an account");
        }
        Self {
            pg,
            maria,
            log,
            pg_url,
            maria_test,
            log_test,
        }
    }

    async fn balances(&self) -> (i64, i64) {
        let read = async |db: &Database| {
            db.fetch_all("SELECT balance FROM accounts WHERE id = 1", &[])
                .await
                .expect("reads the balance")[0]
                .get::<i64>("balance")
                .expect("balance")
        };
        (read(&self.pg).await, read(&self.maria).await)
    }

    /// Branches of `coordinator` still prepared on either bank.
    async fn in_doubt_of(&self, coordinator: &str) -> Vec<String> {
        let mut left = Vec::new();
        for db in [&self.pg, &self.maria] {
            for branch in in_doubt(db).await.expect("lists branches in doubt") {
                if branch.transaction().coordinator().as_str() == coordinator {
                    left.push(branch.to_string());
                }
            }
        }
        left
    }
}

/// Moves `amount` from the PostgreSQL account to the MariaDB one.
async fn transfer(
    coordinator: &Coordinator,
    banks: [&Database; 2],
    amount: i64,
) -> foxdb::Result<()> {
    coordinator
        .transaction(&banks, async |tx| {
            tx[0]
                .execute(
                    "UPDATE accounts SET balance = balance - $1 WHERE id = 1",
                    &[Value::Int(amount)],
                )
                .await?;
            tx[1]
                .execute(
                    "UPDATE accounts SET balance = balance + ? WHERE id = 1",
                    &[Value::Int(amount)],
                )
                .await?;
            Ok(())
        })
        .await
}

fn recover_everything() -> RecoveryOptions {
    RecoveryOptions {
        min_age: Duration::ZERO,
        ..RecoveryOptions::default()
    }
}

#[tokio::test]
async fn a_transfer_commits_on_both_databases_and_leaves_nothing_in_doubt() {
    let banks = Banks::open().await;
    let name = unique("t");
    let coordinator = Coordinator::open(&banks.log, &name).await.expect("opens");
    for _ in 0..3 {
        transfer(&coordinator, [&banks.pg, &banks.maria], 10)
            .await
            .expect("transfers");
    }
    assert_eq!(banks.balances().await, (INITIAL - 30, INITIAL + 30));
    assert!(banks.in_doubt_of(&name).await.is_empty());
    // A finished transaction leaves no decision behind.
    assert!(coordinator.log().pending().await.expect("reads").is_empty());
    // The branch connections went back to their pools in a clean state.
    let plain = banks
        .maria
        .fetch_all("SELECT 1 AS one", &[])
        .await
        .expect("reads");
    assert_eq!(plain.len(), 1);
}

#[tokio::test]
async fn failed_work_rolls_back_every_branch() {
    let banks = Banks::open().await;
    let name = unique("t");
    let coordinator = Coordinator::open(&banks.log, &name).await.expect("opens");
    let outcome: Result<(), Error> = coordinator
        .transaction(&[&banks.pg, &banks.maria], async |tx| {
            tx[0]
                .execute(
                    "UPDATE accounts SET balance = balance - 5 WHERE id = 1",
                    &[],
                )
                .await?;
            tx[1]
                .execute(
                    "UPDATE accounts SET balance = balance + 5 WHERE id = 1",
                    &[],
                )
                .await?;
            tx[1]
                .execute("INSERT INTO no_such_table VALUES (1)", &[])
                .await?;
            Ok(())
        })
        .await;
    assert!(matches!(outcome, Err(Error::Query { .. })), "{outcome:?}");
    assert_eq!(banks.balances().await, (INITIAL, INITIAL));
    assert!(banks.in_doubt_of(&name).await.is_empty());
}

#[tokio::test]
async fn a_failed_prepare_rolls_back_the_branches_already_prepared() {
    let banks = Banks::open().await;
    // A deferred unique constraint is checked at PREPARE TRANSACTION.
    banks
        .pg
        .execute(
            "CREATE TABLE tickets (n INT, CONSTRAINT one_ticket UNIQUE (n) DEFERRABLE INITIALLY DEFERRED)",
            &[],
        )
        .await
        .expect("creates tickets");
    let name = unique("t");
    let coordinator = Coordinator::open(&banks.log, &name).await.expect("opens");
    // MariaDB first: it is prepared when PostgreSQL's prepare fails.
    let outcome: Result<(), Error> = coordinator
        .transaction(&[&banks.maria, &banks.pg], async |tx| {
            tx[0]
                .execute(
                    "UPDATE accounts SET balance = balance + 7 WHERE id = 1",
                    &[],
                )
                .await?;
            tx[1]
                .execute("INSERT INTO tickets VALUES (1), (1)", &[])
                .await?;
            Ok(())
        })
        .await;
    assert!(
        matches!(
            outcome,
            Err(Error::UniqueViolation { .. } | Error::Query { .. })
        ),
        "{outcome:?}"
    );
    assert_eq!(banks.balances().await, (INITIAL, INITIAL));
    assert!(banks.in_doubt_of(&name).await.is_empty());
}

#[tokio::test]
async fn sqlite_cannot_take_part_and_is_refused_with_a_typed_error() {
    let banks = Banks::open().await;
    let sqlite = TestDatabase::create(Backend::Sqlite).await;
    let sqlite = Database::connect(sqlite.url()).await.expect("opens");
    let coordinator = Coordinator::open(&banks.log, &unique("t"))
        .await
        .expect("opens");
    let outcome: Result<(), Error> = coordinator
        .transaction(&[&banks.pg, &sqlite], async |_| Ok(()))
        .await;
    match outcome {
        Err(Error::Unsupported { backend, feature }) => {
            assert_eq!(backend, Backend::Sqlite);
            assert!(feature.contains("two-phase commit"), "{feature}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
}

#[tokio::test]
async fn a_postgres_server_without_prepared_transactions_is_refused_with_a_hint() {
    // The shared server runs with PostgreSQL's default max_prepared_transactions = 0.
    let shared = TestDatabase::create(Backend::Postgres).await;
    let shared = Database::connect(shared.url()).await.expect("connects");
    let banks = Banks::open().await;
    let coordinator = Coordinator::open(&banks.log, &unique("t"))
        .await
        .expect("opens");
    let outcome: Result<(), Error> = coordinator
        .transaction(&[&banks.maria, &shared], async |tx| {
            tx[0]
                .execute(
                    "UPDATE accounts SET balance = balance + 1 WHERE id = 1",
                    &[],
                )
                .await?;
            Ok(())
        })
        .await;
    match outcome {
        Err(Error::Unsupported { backend, feature }) => {
            assert_eq!(backend, Backend::Postgres);
            assert!(feature.contains("max_prepared_transactions"), "{feature}");
        }
        other => panic!("expected Unsupported, got {other:?}"),
    }
    assert_eq!(banks.balances().await.1, INITIAL);
}

#[tokio::test]
async fn a_branch_commits_and_rolls_back_on_a_connection_of_either_postgres_driver() {
    let log_test = TestDatabase::create(Backend::Sqlite).await;
    let log = Database::connect(log_test.url())
        .await
        .expect("opens the log");
    for driver in [PostgresDriver::Sqlx, PostgresDriver::TokioPostgres] {
        let url = postgres()
            .create_database(&unique("driver_"))
            .expect("creates a database");
        let options = PoolOptions {
            max_connections: 2,
            postgres_driver: driver,
            ..PoolOptions::default()
        };
        let pg = Database::connect_with(&url, &options)
            .await
            .expect("connects");
        pg.execute("CREATE TABLE items (id INT PRIMARY KEY)", &[])
            .await
            .expect("creates items");
        let ids = async || -> Vec<i64> {
            pg.fetch_all("SELECT id FROM items ORDER BY id", &[])
                .await
                .expect("reads")
                .iter()
                .map(|row| row.get_at(0).expect("id"))
                .collect()
        };
        let coordinator = Coordinator::open(&log, &unique("t")).await.expect("opens");
        coordinator
            .transaction(&[&pg], async |tx| {
                tx[0]
                    .execute("INSERT INTO items VALUES ($1)", &[Value::Int(1)])
                    .await?;
                let seen = tx[0].fetch_all("SELECT count(*) FROM items", &[]).await?;
                assert_eq!(seen[0].get_at::<i64>(0).expect("count"), 1, "{driver:?}");
                if driver == PostgresDriver::TokioPostgres {
                    // The branch holds the pool's one open connection, not one of a second
                    // pool of sqlx connections.
                    let state = pg.pool_state();
                    assert_eq!((state.open, state.idle), (1, 0), "{driver:?}: {state:?}");
                }
                Ok::<_, Error>(())
            })
            .await
            .unwrap_or_else(|e| panic!("{driver:?}: commits: {e}"));
        assert_eq!(ids().await, [1], "{driver:?}: committed");
        // A failed statement aborts the branch: the server's error, classified, and nothing
        // of the branch stays.
        let outcome: Result<(), Error> = coordinator
            .transaction(&[&pg], async |tx| {
                tx[0].execute("INSERT INTO items VALUES (2)", &[]).await?;
                tx[0].execute("INSERT INTO items VALUES (1)", &[]).await?;
                Ok(())
            })
            .await;
        assert!(
            matches!(outcome, Err(Error::UniqueViolation { .. })),
            "{driver:?}: {outcome:?}"
        );
        assert_eq!(ids().await, [1], "{driver:?}: rolled back");
        assert!(
            in_doubt(&pg).await.expect("lists").is_empty(),
            "{driver:?}: nothing left prepared"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_that_claims_an_abort_first_keeps_a_late_coordinator_from_committing() {
    let banks = Banks::open().await;
    let name = unique("t");
    let runtime = tokio::runtime::Handle::current();
    let (log, pg, maria) = (banks.log.clone(), banks.pg.clone(), banks.maria.clone());
    // Recovery runs while the coordinator sits between its last prepare and its decision.
    let coordinator = Coordinator::open(&banks.log, &name)
        .await
        .expect("opens")
        .on_step(move |_, step| {
            if step == Step::AllPrepared {
                let report = tokio::task::block_in_place(|| {
                    runtime.block_on(recover(&log, &[&pg, &maria], &recover_everything()))
                })
                .expect("recovers");
                // PostgreSQL lists its branch at once; MariaDB lists a prepared XA branch
                // only once the session that prepared it is gone, and the coordinator ends
                // that one itself when it learns of the abort.
                assert!(!report.rolled_back.is_empty(), "{report:?}");
            }
        });
    let outcome = transfer(&coordinator, [&banks.pg, &banks.maria], 10).await;
    assert!(
        matches!(outcome, Err(Error::TransactionAborted { .. })),
        "{outcome:?}"
    );
    assert_eq!(banks.balances().await, (INITIAL, INITIAL));
    assert!(banks.in_doubt_of(&name).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_commits_what_the_log_decided_and_leaves_other_logs_and_young_branches_alone() {
    let banks = Banks::open().await;
    let name = unique("t");
    // The coordinator dies right after logging its commit decision: both branches stay
    // prepared (a panic drops them without ending them, as a crash would).
    let coordinator = Coordinator::open(&banks.log, &name)
        .await
        .expect("opens")
        .on_step(|_, step| assert_ne!(step, Step::Decided, "the coordinator dies here"));
    let (pg, maria) = (banks.pg.clone(), banks.maria.clone());
    let crashed =
        tokio::spawn(async move { transfer(&coordinator, [&pg, &maria], 25).await }).await;
    assert!(crashed.is_err(), "the coordinator task panicked");
    // MariaDB lists the XA branch once it has noticed its session closed.
    let deadline = Instant::now() + Duration::from_secs(10);
    while banks.in_doubt_of(&name).await.len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(banks.in_doubt_of(&name).await.len(), 2);

    // Another log does not know this coordinator: it must not presume an abort.
    let other_log = TestDatabase::create(Backend::Sqlite).await;
    let other_log = Database::connect(other_log.url()).await.expect("opens");
    Coordinator::open(&other_log, &unique("o"))
        .await
        .expect("opens");
    let report = recover(
        &other_log,
        &[&banks.pg, &banks.maria],
        &recover_everything(),
    )
    .await
    .expect("recovers");
    assert_eq!(report.resolved(), 0, "{report:?}");
    assert!(report.other_logs >= 2, "{report:?}");

    // Its own log with the default minimum age: too young to touch yet.
    let report = recover(
        &banks.log,
        &[&banks.pg, &banks.maria],
        &RecoveryOptions::default(),
    )
    .await
    .expect("recovers");
    assert_eq!(report.resolved(), 0, "{report:?}");
    assert_eq!(report.too_young.len(), 2, "{report:?}");

    let report = recover(
        &banks.log,
        &[&banks.pg, &banks.maria],
        &recover_everything(),
    )
    .await
    .expect("recovers");
    assert_eq!(report.committed.len(), 2, "{report:?}");
    assert_eq!(banks.balances().await, (INITIAL - 25, INITIAL + 25));
    assert!(banks.in_doubt_of(&name).await.is_empty());
}

/// The step boundaries a coordinator process is killed at, and whether the transfer it was
/// running counts once recovered.
const BOUNDARIES: [(&str, bool); 5] = [
    ("before-prepare", false),
    ("between-prepares", false),
    ("all-prepared", false),
    ("decided", true),
    ("between-commits", true),
];

fn boundary_of(step: Step) -> Option<&'static str> {
    match step {
        Step::BeforePrepare => Some("before-prepare"),
        Step::Prepared { branch: 0 } => Some("between-prepares"),
        Step::AllPrepared => Some("all-prepared"),
        Step::Decided => Some("decided"),
        Step::Committed { branch: 0 } => Some("between-commits"),
        _ => None,
    }
}

/// The coordinator process of [`a_coordinator_killed_at_every_step_boundary_leaves_both_banks_consistent`]:
/// this test binary started again with [`CHILD`] set to
/// `pg-url|maria-url|log-url|coordinator|boundary|transfers-before`. It completes that many
/// transfers, starts one more, and at `boundary` prints [`STOPPED`] and waits to be killed.
/// Without the variable (a normal test run) there is no process to be and it returns.
#[tokio::test]
async fn coordinator_process() {
    let Ok(spec) = std::env::var(CHILD) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let [pg, maria, log, name, boundary, before] = parts[..] else {
        panic!("{CHILD}: six fields expected in {spec:?}");
    };
    let before: usize = before.parse().expect("a number of transfers");
    let boundary = boundary.to_string();
    let pg = Database::connect(pg).await.expect("connects");
    let maria = Database::connect(maria).await.expect("connects");
    let log = Database::connect(log).await.expect("opens the log");
    let started = AtomicUsize::new(0);
    let coordinator =
        Coordinator::open(&log, name)
            .await
            .expect("opens")
            .on_step(move |id, step| {
                if step == Step::Started {
                    started.fetch_add(1, Ordering::SeqCst);
                }
                if started.load(Ordering::SeqCst) == before + 1
                    && boundary_of(step) == Some(&boundary)
                {
                    let mut out = std::io::stdout().lock();
                    let _ = writeln!(out, "{STOPPED} {boundary} {id}");
                    let _ = out.flush();
                    // Frozen at the boundary until the test kills this process.
                    loop {
                        std::thread::sleep(Duration::from_secs(60));
                    }
                }
            });
    for _ in 0..=before {
        transfer(&coordinator, [&pg, &maria], 1)
            .await
            .expect("transfers");
    }
    panic!("the coordinator never reached its boundary");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_coordinator_killed_at_every_step_boundary_leaves_both_banks_consistent() {
    let kills: usize = std::env::var("FOX_DTX_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(50);
    let banks = Banks::open().await;
    let name = unique("k");
    Coordinator::open(&banks.log, &name)
        .await
        .expect("registers the coordinator");
    let started = Instant::now();
    let mut transferred = 0;
    let mut resolved = 0;
    for kill in 0..kills {
        let (boundary, counts) = BOUNDARIES[kill % BOUNDARIES.len()];
        let before = kill / BOUNDARIES.len() % 3;
        let spec = format!(
            "{}|{}|{}|{name}|{boundary}|{before}",
            banks.pg_url,
            banks.maria_test.url(),
            banks.log_test.url()
        );
        let mut child = Command::new(std::env::current_exe().expect("the test binary"))
            .args([
                "--exact",
                "coordinator_process",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, spec)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts a coordinator process");
        let stdout = child.stdout.take().expect("stdout");
        let (lines, stopped) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                // With one test thread, libtest's `test coordinator_process ... ` leads the line.
                if line.contains(STOPPED) {
                    let _ = lines.send(line);
                }
            }
        });
        let line = stopped.recv_timeout(Duration::from_secs(60));
        child.kill().expect("SIGKILLs the coordinator");
        child.wait().expect("reaps it");
        let line = line.unwrap_or_else(|_| panic!("kill {kill}: never stopped at {boundary}"));
        assert!(line.contains(boundary), "{line}");
        transferred += before as i64 + i64::from(counts);

        // MariaDB lists a prepared XA branch only once it has noticed that the killed
        // process's session is gone, which may take a moment after the kill: recovery runs
        // until nothing of this coordinator is left in doubt (as the operator's periodic
        // recovery would), for at most 10 s.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let report = recover(
                &banks.log,
                &[&banks.pg, &banks.maria],
                &recover_everything(),
            )
            .await
            .expect("recovers");
            resolved += report.resolved();
            let expected = (INITIAL - transferred, INITIAL + transferred);
            if banks.in_doubt_of(&name).await.is_empty() && banks.balances().await == expected {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "kill {kill} at {boundary}: still in doubt: {:?}",
                banks.in_doubt_of(&name).await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let (pg, maria) = banks.balances().await;
        assert_eq!(
            pg + maria,
            2 * INITIAL,
            "kill {kill} at {boundary}: the total changed"
        );
        assert_eq!(
            (pg, maria),
            (INITIAL - transferred, INITIAL + transferred),
            "kill {kill} at {boundary}: the transfer ended otherwise than its log decided"
        );
    }
    eprintln!(
        "{kills} coordinator kills, {transferred} transfers committed, {resolved} branches recovered, in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
