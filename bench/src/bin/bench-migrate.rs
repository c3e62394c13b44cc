//! `make bench-migrate`: the schema engine on a generated 200-table schema, per engine — cold
//! plan+apply, no-op plan, and the same DDL run directly through the engine's own client
//! (`psql`, `mariadb`, `sqlite3`) for the ratio.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fox_bench::{generated_schema, median, show};
use fox_crds::manifest::{ManifestSet, parse_manifests};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::{ApplyOptions, ApplyOutcome, apply_schema, plan_schema};
use foxdb::DatabaseUrl;

const TABLES: usize = 200;
const NO_OP_RUNS: usize = 5;
const COLD_RUNS: usize = 5;

fn options() -> ApplyOptions {
    ApplyOptions {
        schema_name: "bench".into(),
        owner_uid: None,
        replaces: None,
        allow_destructive: false,
        require_approval: false,
        approve: None,
        approval_scope: None,
        dry_run: false,
        lock_timeout: Duration::from_secs(30),
    }
}

/// Runs `sql` through the engine's command-line client and returns the wall time.
fn raw_ddl(engine: Backend, database: &TestDatabase, statements: &[String]) -> Duration {
    let mut script = String::new();
    let transactional = engine != Backend::MySql;
    if transactional {
        script.push_str("BEGIN;\n");
    }
    for statement in statements {
        script.push_str(statement);
        script.push_str(";\n");
    }
    if transactional {
        script.push_str("COMMIT;\n");
    }
    let mut command = match engine {
        Backend::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-q", "-v", "ON_ERROR_STOP=1", database.url()]);
            c
        }
        Backend::MySql => {
            let mut c = Command::new("mariadb");
            c.args(["-h", "127.0.0.1", "-u", "root", database.name()]);
            c
        }
        Backend::Sqlite => {
            let url = DatabaseUrl::parse(database.url()).expect("valid URL");
            let mut c = Command::new("sqlite3");
            c.arg(url.sqlite_path().expect("a file"));
            c
        }
    };
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{engine}: cannot run its client: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("writes the script");
    let status = child.wait().expect("client finishes");
    assert!(
        status.success(),
        "{engine}: the client failed on the generated DDL"
    );
    started.elapsed()
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let yaml = generated_schema(TABLES, 0xf0c5_2026);
    let mut set = ManifestSet::default();
    parse_manifests("bench.yaml".as_ref(), &yaml, &mut set);
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
    let schema = set.schemas().next().expect("one schema").1.clone();

    println!(
        "FoxDB schema engine: {TABLES} generated tables (5-15 columns, indexes, foreign keys)\n"
    );
    println!(
        "{:<12} {:>10} {:>12} {:>14} {:>12} {:>8}",
        "engine", "statements", "plan+apply", "no-op plan", "raw DDL", "ratio"
    );
    for engine in Backend::ALL {
        let mut cold = Vec::new();
        let mut raw = Vec::new();
        let mut no_op = Vec::new();
        let mut statement_count = 0;
        for _ in 0..COLD_RUNS {
            let database = TestDatabase::create(engine).await;
            let url = DatabaseUrl::parse(database.url()).expect("valid URL");
            let started = Instant::now();
            let outcome = apply_schema(&url, &schema.spec, &options(), &mut |_| {})
                .await
                .expect("applies");
            cold.push(started.elapsed());
            let ApplyOutcome::Applied { plan, .. } = outcome else {
                panic!("{engine}: expected an apply");
            };
            let statements: Vec<String> = plan.statements.iter().map(|s| s.sql.clone()).collect();
            statement_count = statements.len();
            if no_op.is_empty() {
                for _ in 0..NO_OP_RUNS {
                    let started = Instant::now();
                    let again = plan_schema(&url, &schema.spec).await.expect("plans");
                    no_op.push(started.elapsed());
                    assert!(again.is_empty(), "{engine}: no-op plan must be empty");
                }
            }
            drop(database);
            let fresh = TestDatabase::create(engine).await;
            raw.push(raw_ddl(engine, &fresh, &statements));
        }
        let (cold, raw) = (median(cold), median(raw));
        println!(
            "{:<12} {:>10} {:>12} {:>14} {:>12} {:>7.2}x",
            engine.to_string(),
            statement_count,
            show(cold),
            show(median(no_op)),
            show(raw),
            cold.as_secs_f64() / raw.as_secs_f64()
        );
    }
    println!(
        "\nmedians of {COLD_RUNS} cold runs and {NO_OP_RUNS} no-op plans; ratio = FoxDB cold plan+apply / the same statements through the engine's own client."
    );
}
