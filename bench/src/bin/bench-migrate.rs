//! `make bench-migrate`: the schema engine on generated schemas of 200 and 2,000 tables, per
//! engine — cold plan+apply, no-op plan, and the same DDL run directly through the engine's own
//! client (`psql`, `mariadb`, `sqlite3`) for the ratio.
//!
//! Per size and engine, `--runs` rounds each apply the schema through FoxDB to a fresh
//! database, then run the statements FoxDB ran through the engine's client on another fresh
//! database (so load that comes and goes falls on both alike). FoxDB's time is split at the
//! moment its plan is ready: "plan" is connecting, the lock, FoxDB's bookkeeping tables,
//! introspection and the diff; "apply" the statements and the history record. After the first
//! round, `--no-op-runs` plans of the same schema against the applied database must come back
//! empty.
//!
//! PostgreSQL runs on a server of the benchmark's own (`fox_e2e::postgres_server`) with
//! `max_locks_per_transaction` raised: a transaction creating 2,000 tables with their indexes
//! and sequences holds about 14,000 locks, beyond the default lock table (64 per connection
//! slot), for FoxDB's one-transaction apply and `psql`'s `BEGIN; ... COMMIT;` alike.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use fox_bench::{generated_schema, median, show};
use fox_crds::manifest::{ManifestSet, parse_manifests};
use fox_crds::schema::FoxSchemaSpec;
use fox_e2e::postgres_server::PostgresServer;
use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::{ApplyEvent, ApplyOptions, ApplyOutcome, apply_schema, plan_schema};
use foxdb::DatabaseUrl;

#[derive(Debug, Parser)]
#[command(
    about = "The schema engine on generated schemas against the same DDL through each engine's client"
)]
struct Args {
    /// Schema sizes to run, in tables (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [200, 2000])]
    tables: Vec<usize>,
    /// Rounds per size and engine: one FoxDB cold plan+apply and one raw DDL run each (MariaDB
    /// at 2,000 tables takes minutes a round).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// No-op plans against the database the first round applied.
    #[arg(long, default_value_t = 5)]
    no_op_runs: usize,
    /// Engines to run (comma-separated; all by default).
    #[arg(long, value_delimiter = ',', value_enum)]
    engines: Vec<Engine>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    Postgres,
    Mysql,
    Sqlite,
}

impl Engine {
    fn backend(self) -> Backend {
        match self {
            Self::Postgres => Backend::Postgres,
            Self::Mysql => Backend::MySql,
            Self::Sqlite => Backend::Sqlite,
        }
    }
}

/// Settings of the benchmark's PostgreSQL server: durable as the shared one, with room in the
/// lock table for one transaction creating thousands of tables (1,024 × 40 connection slots).
const POSTGRES_SETTINGS: [&str; 4] = [
    "fsync=on",
    "full_page_writes=on",
    "shared_buffers=128MB",
    "max_locks_per_transaction=1024",
];

/// A fresh, empty database: on the shared MariaDB server or a SQLite file (`TestDatabase`),
/// or on the benchmark's PostgreSQL server.
enum Fresh<'a> {
    Shared(TestDatabase),
    Private {
        server: &'a PostgresServer,
        name: String,
        url: String,
    },
}

impl<'a> Fresh<'a> {
    async fn create(engine: Backend, postgres: Option<&'a PostgresServer>, serial: usize) -> Self {
        match (engine, postgres) {
            (Backend::Postgres, Some(server)) => {
                let name = format!("bench_migrate_{}_{serial}", std::process::id());
                let url = server
                    .create_database(&name)
                    .unwrap_or_else(|e| panic!("creates database {name}: {e}"));
                Self::Private { server, name, url }
            }
            _ => Self::Shared(TestDatabase::create(engine).await),
        }
    }

    fn url(&self) -> &str {
        match self {
            Self::Shared(database) => database.url(),
            Self::Private { url, .. } => url,
        }
    }

    fn name(&self) -> &str {
        match self {
            Self::Shared(database) => database.name(),
            Self::Private { name, .. } => name,
        }
    }
}

impl Drop for Fresh<'_> {
    fn drop(&mut self) {
        if let Self::Private { server, name, .. } = self {
            // Every connection to it is closed by now.
            let _ = server.sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

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
fn raw_ddl(engine: Backend, database: &Fresh<'_>, statements: &[String]) -> Duration {
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

/// The medians of one size on one engine.
struct Row {
    statements: usize,
    plan: Duration,
    cold: Duration,
    no_op: Duration,
    raw: Duration,
}

async fn measure(
    engine: Backend,
    postgres: Option<&PostgresServer>,
    spec: &FoxSchemaSpec,
    args: &Args,
) -> Row {
    let (mut plan, mut cold, mut raw, mut no_op) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut statements = 0;
    for round in 0..args.runs {
        let database = Fresh::create(engine, postgres, 2 * round).await;
        let url = DatabaseUrl::parse(database.url()).expect("valid URL");
        let started = Instant::now();
        let mut planned = None;
        let outcome = apply_schema(&url, spec, &options(), &mut |event| {
            if let ApplyEvent::Planned { .. } = event {
                planned = Some(started.elapsed());
            }
        })
        .await
        .expect("applies");
        cold.push(started.elapsed());
        plan.push(planned.expect("the plan is reported before it runs"));
        let ApplyOutcome::Applied { plan, .. } = outcome else {
            panic!("{engine}: expected an apply");
        };
        let sql: Vec<String> = plan.statements.iter().map(|s| s.sql.clone()).collect();
        statements = sql.len();
        if no_op.is_empty() {
            for _ in 0..args.no_op_runs {
                let started = Instant::now();
                let again = plan_schema(&url, spec).await.expect("plans");
                no_op.push(started.elapsed());
                assert!(again.is_empty(), "{engine}: no-op plan must be empty");
            }
        }
        drop(database);
        let fresh = Fresh::create(engine, postgres, 2 * round + 1).await;
        raw.push(raw_ddl(engine, &fresh, &sql));
    }
    Row {
        statements,
        plan: median(plan),
        cold: median(cold),
        no_op: median(no_op),
        raw: median(raw),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = Args::parse();
    let engines: Vec<Backend> = if args.engines.is_empty() {
        Backend::ALL.to_vec()
    } else {
        args.engines.iter().map(|e| e.backend()).collect()
    };
    let postgres = engines
        .contains(&Backend::Postgres)
        .then(|| PostgresServer::start(&POSTGRES_SETTINGS).expect("starts PostgreSQL"));
    println!("FoxDB schema engine: generated tables (5-15 columns, indexes, foreign keys)\n");
    println!(
        "{:>7} {:<12} {:>10} {:>10} {:>12} {:>12} {:>12} {:>8}",
        "tables", "engine", "statements", "plan", "plan+apply", "no-op plan", "raw DDL", "ratio"
    );
    for &tables in &args.tables {
        let yaml = generated_schema(tables, 0xf0c5_2026);
        let mut set = ManifestSet::default();
        parse_manifests("bench.yaml".as_ref(), &yaml, &mut set);
        assert!(set.problems.is_empty(), "{:#?}", set.problems);
        let spec = set.schemas().next().expect("one schema").1.spec.clone();
        for &engine in &engines {
            let row = measure(engine, postgres.as_ref(), &spec, &args).await;
            println!(
                "{:>7} {:<12} {:>10} {:>10} {:>12} {:>12} {:>12} {:>7.2}x",
                tables,
                engine.to_string(),
                row.statements,
                show(row.plan),
                show(row.cold),
                show(row.no_op),
                show(row.raw),
                row.cold.as_secs_f64() / row.raw.as_secs_f64()
            );
        }
    }
    println!(
        "\nmedians of {} rounds (FoxDB cold apply, then the raw DDL, each on a fresh database) and {} no-op plans;\nplan = FoxDB's time until its plan is ready (connect, lock, bookkeeping, introspection, diff);\nratio = FoxDB cold plan+apply / the same statements through the engine's own client.",
        args.runs, args.no_op_runs
    );
}
