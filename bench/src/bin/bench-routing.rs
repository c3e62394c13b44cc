//! `make bench-routing`: what replica routing costs the client per read, in instructions
//! counted by valgrind's callgrind (repeatable, where wall-clock times on a shared machine
//! varied from −24 % to +50 % between runs).
//!
//! Two targets read the same rows from the same streaming replica: `direct`, a `Database`
//! connected to the replica, and `routed`, a `Database::builder()` handle over the primary and
//! that replica whose reads the router sends to the replica. Two reads each: raw SQL
//! (`fetch_all`, one row by primary key) and the builder (`User::find().filter(..).one`).
//!
//! Without `--target` this is the driver: it starts a PostgreSQL primary/replica pair
//! (fox-e2e's `PostgresPair`), fills a table, then runs itself under callgrind for each target
//! twice, with `n` and `3n` reads of each workload, and prints `(I(3n) − I(n)) / 2n` per read:
//! start-up, connecting and first-run costs cancel. Background health checks are set to an
//! hour, so they are not counted (they cost per interval, not per read).

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, ValueEnum};
use fox_bench::driver::{dump_instructions, read_dumps};
use foxdb::{Database, ModelExt, PoolConfig, Value};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "users")]
struct User {
    #[foxdb(primary_key)]
    id: i64,
    name: String,
    email: String,
}

/// Where the counted process reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Target {
    /// A `Database` connected to the replica.
    Direct,
    /// A routed `Database` over the primary and the replica.
    Routed,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Routed => "routed",
        }
    }
}

#[derive(Debug, Parser)]
#[command(about = "Client instructions per read through the replica router vs a direct connection")]
struct Args {
    /// Count this target's reads in this process (what the driver starts under callgrind).
    #[arg(long, value_enum, requires_all = ["primary", "replica"])]
    target: Option<Target>,
    /// The primary's URL (for `--target`).
    #[arg(long)]
    primary: Option<String>,
    /// The replica's URL (for `--target`).
    #[arg(long)]
    replica: Option<String>,
    /// Counted reads of each workload in the first pass (the second reads three times as many).
    #[arg(long, default_value_t = 1000)]
    iterations: u64,
    /// The pass a `--target` process runs: 1 or 3 times `--iterations`.
    #[arg(long, default_value_t = 1)]
    scale: u64,
}

/// The workloads, in the order they run and are dumped.
const WORKLOADS: [&str; 2] = [
    "one row by primary key, raw SQL (`fetch_all`)",
    "one row by primary key, builder (`User::find().filter(..).one`)",
];

/// Callgrind dumps (and zeroes) its counters each time this returns (`--dump-after`).
#[inline(never)]
fn routing_boundary() {
    std::hint::black_box(());
}

async fn raw_read(db: &Database, run: u64) -> Result<()> {
    let id = i64::try_from(run % 1000 + 1)?;
    let rows = db
        .fetch_all(
            "SELECT id, name, email FROM users WHERE id = $1",
            &[Value::Int(id)],
        )
        .await?;
    ensure!(rows.len() == 1, "one row");
    Ok(())
}

async fn builder_read(db: &Database, run: u64) -> Result<()> {
    let id = i64::try_from(run % 1000 + 1)?;
    let user = User::find().filter(User::ID.eq(id)).one(db).await?;
    ensure!(user.is_some_and(|u| u.id == id), "user {id}");
    Ok(())
}

/// The counted process: per workload, one untimed read, then `runs` counted reads between
/// two boundaries.
async fn count_reads(target: Target, primary: &str, replica: &str, runs: u64) -> Result<()> {
    let db = match target {
        Target::Direct => Database::connect(replica).await?,
        Target::Routed => {
            Database::builder()
                .primary(primary)
                .replica(replica)
                .pool(PoolConfig {
                    health_check_interval: std::time::Duration::from_secs(3600),
                    ..PoolConfig::default()
                })
                .connect()
                .await?
        }
    };
    for workload in 0..WORKLOADS.len() {
        for run in 0..=runs {
            if run == 1 {
                routing_boundary();
            }
            if workload == 0 {
                raw_read(&db, run).await?;
            } else {
                builder_read(&db, run).await?;
            }
        }
        routing_boundary();
    }
    if target == Target::Routed {
        let location = foxdb::DatabaseUrl::parse(replica)?.location();
        let answered = db
            .routing_metrics()
            .context("metrics")?
            .reads_from(&location);
        ensure!(
            answered == 2 * (runs + 1),
            "the replica answered {answered} of {} reads",
            2 * (runs + 1)
        );
    }
    db.close().await;
    Ok(())
}

/// Runs `target` under callgrind with `scale` times the reads; instructions per workload.
fn count_under_callgrind(
    target: Target,
    primary: &str,
    replica: &str,
    iterations: u64,
    scale: u64,
) -> Result<Vec<u64>> {
    let directory = tempfile::tempdir()?;
    let out = directory.path().join("callgrind.out");
    let executable = std::env::current_exe().context("finding the bench-routing executable")?;
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--dump-after=*routing_boundary*")
        .arg(executable)
        .args([
            "--target",
            target.name(),
            "--primary",
            primary,
            "--replica",
            replica,
        ])
        .args(["--iterations", &iterations.to_string()])
        .args(["--scale", &scale.to_string()])
        .stdin(Stdio::null())
        .output()
        .context("starting valgrind (is it installed? `apt-get install valgrind`)")?;
    if !output.status.success() {
        bail!(
            "the {} target failed under callgrind ({}):\n{}",
            target.name(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let dumps = read_dumps(&out)?;
    ensure!(
        dumps.len() == 2 * WORKLOADS.len(),
        "callgrind wrote {} dumps, expected {}",
        dumps.len(),
        2 * WORKLOADS.len()
    );
    // Dumps alternate: start-up and a workload's first read, then its counted reads.
    dumps
        .chunks(2)
        .map(|pair| {
            let (path, text) = &pair[1];
            dump_instructions(text)
                .with_context(|| format!("no instruction total in {}", path.display()))
        })
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let (Some(target), Some(primary), Some(replica)) =
        (args.target, &args.primary, &args.replica)
    {
        return count_reads(target, primary, replica, args.iterations * args.scale).await;
    }
    ensure!(args.iterations > 0, "--iterations must be at least 1");
    let pair = fox_e2e::replica::PostgresPair::start().context("PostgreSQL pair")?;
    let primary = Database::connect(&pair.primary_url()).await?;
    primary
        .execute(
            "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL)",
            &[],
        )
        .await?;
    primary
        .execute(
            "INSERT INTO users SELECT g, 'user ' || g, 'u' || g || '@example.com' FROM generate_series(1, 1000) g",
            &[],
        )
        .await?;
    primary.close().await;
    pair.catch_up().context("catch up")?;
    let (primary_url, replica_url) = (pair.primary_url(), pair.replica_url());

    let mut per_read = Vec::new();
    for target in [Target::Direct, Target::Routed] {
        let once = count_under_callgrind(target, &primary_url, &replica_url, args.iterations, 1)?;
        let thrice = count_under_callgrind(target, &primary_url, &replica_url, args.iterations, 3)?;
        let reads: Vec<f64> = once
            .iter()
            .zip(&thrice)
            .map(|(n, three_n)| (three_n.saturating_sub(*n)) as f64 / (2 * args.iterations) as f64)
            .collect();
        per_read.push(reads);
    }
    println!(
        "## Replica routing: client instructions per read (callgrind, PostgreSQL, (I(3n) − I(n)) / 2n, n = {})\n",
        args.iterations
    );
    println!("| read | direct to the replica | through the router | overhead |");
    println!("|---|---|---|---|");
    for (i, workload) in WORKLOADS.iter().enumerate() {
        let (direct, routed) = (per_read[0][i], per_read[1][i]);
        println!(
            "| {workload} | {direct:.0} | {routed:.0} | {:+.1} % |",
            (routed / direct - 1.0) * 100.0
        );
    }
    Ok(())
}
