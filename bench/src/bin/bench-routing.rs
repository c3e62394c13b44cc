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
//!
//! Two counts per read: every instruction of the process, and those inside the read's polls
//! ([`ReadPolls`]: router, pool, driver, decoding; not the runtime's scheduling and I/O driver,
//! whose share changes from process to process with how often a reply is already waiting).
//! `--runs` (default 5) alternates the targets and prints every run and the medians;
//! `--keep DIR` keeps the dumps for `callgrind_annotate --inclusive=yes`.

use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, ValueEnum};
use fox_bench::driver::{dump_instructions, inclusive_instructions, read_dumps};
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
    /// Runs of both targets (direct, routed, direct, routed, ...): the table gives each run
    /// and the median.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Keep each counted dump in this directory (`TARGET-runK-xSCALE-WORKLOAD.callgrind`) for
    /// `callgrind_annotate --inclusive=yes`.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
}

/// The workloads, in the order they run and are dumped.
const WORKLOADS: [&str; 2] = [
    "one row by primary key, raw SQL (`fetch_all`)",
    "one row by primary key, builder (`User::find().filter(..).one`)",
];

/// A read's future, polled through one function that is never inlined, so the dumps give
/// what runs inside the read's polls (router, pool, driver, decoding) apart from the runtime's
/// scheduling and I/O driver: whether a reply is already on the socket when the read first
/// looks (and the runtime parks or not) changes from process to process with the machine's
/// load, and that work, outside the polls, is most of the noise between runs.
struct ReadPolls<'a>(std::pin::Pin<&'a mut (dyn Future<Output = Result<()>> + 'a)>);

/// What [`inclusive_instructions`] looks for in a dump.
const READ_POLLS: &str = "ReadPolls as core::future::future::Future>::poll";

impl Future for ReadPolls<'_> {
    type Output = Result<()>;

    #[inline(never)]
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        self.0.as_mut().poll(context)
    }
}

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
                ReadPolls(std::pin::pin!(raw_read(&db, run))).await?;
            } else {
                ReadPolls(std::pin::pin!(builder_read(&db, run))).await?;
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

/// Where a counted process reads, how often, and where its dumps are kept.
struct Pass<'a> {
    primary: &'a str,
    replica: &'a str,
    iterations: u64,
    run: usize,
    keep: Option<&'a std::path::Path>,
}

/// Instructions of one workload's counted reads.
#[derive(Clone, Copy, Debug)]
struct Counts {
    /// Every instruction of the process between the dump points.
    total: u64,
    /// Those inside the reads' polls ([`ReadPolls`]).
    in_reads: u64,
}

/// Runs `target` under callgrind with `scale` times the reads; instructions per workload.
fn count_under_callgrind(target: Target, pass: &Pass<'_>, scale: u64) -> Result<Vec<Counts>> {
    let Pass {
        primary,
        replica,
        iterations,
        run,
        keep,
    } = *pass;
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
        .enumerate()
        .map(|(workload, pair)| {
            let (path, text) = &pair[1];
            if let Some(keep) = keep {
                let name = format!("{}-run{run}-x{scale}-{workload}.callgrind", target.name());
                std::fs::copy(path, keep.join(name))?;
            }
            Ok(Counts {
                total: dump_instructions(text)
                    .with_context(|| format!("no instruction total in {}", path.display()))?,
                in_reads: inclusive_instructions(text, READ_POLLS)
                    .with_context(|| format!("no `{READ_POLLS}` in {}", path.display()))?,
            })
        })
        .collect()
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 0 {
        f64::midpoint(sorted[middle - 1], sorted[middle])
    } else {
        sorted[middle]
    }
}

/// `1234.5` as `1.23k`.
fn thousands(instructions: f64) -> String {
    format!("{:.2}k", instructions / 1000.0)
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
    ensure!(args.runs > 0, "--runs must be at least 1");
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

    if let Some(keep) = &args.keep {
        std::fs::create_dir_all(keep)?;
    }
    // per_read[run][target][workload]: (total, in the reads' polls) per read
    let mut per_read: Vec<[Vec<(f64, f64)>; 2]> = Vec::new();
    for run in 0..args.runs {
        let pass = Pass {
            primary: &primary_url,
            replica: &replica_url,
            iterations: args.iterations,
            run,
            keep: args.keep.as_deref(),
        };
        let mut targets: [Vec<(f64, f64)>; 2] = [Vec::new(), Vec::new()];
        for (slot, target) in [Target::Direct, Target::Routed].into_iter().enumerate() {
            let once = count_under_callgrind(target, &pass, 1)?;
            let thrice = count_under_callgrind(target, &pass, 3)?;
            let reads = (2 * args.iterations) as f64;
            targets[slot] = once
                .iter()
                .zip(&thrice)
                .map(|(n, three_n)| {
                    (
                        three_n.total.saturating_sub(n.total) as f64 / reads,
                        three_n.in_reads.saturating_sub(n.in_reads) as f64 / reads,
                    )
                })
                .collect();
        }
        eprintln!(
            "run {}: direct {:?}, routed {:?}",
            run + 1,
            targets[0],
            targets[1]
        );
        per_read.push(targets);
    }
    println!(
        "## Replica routing: client instructions per read (callgrind, PostgreSQL, (I(3n) − I(n)) / 2n, n = {}, {} runs)\n",
        args.iterations, args.runs
    );
    println!(
        "`in the read` counts what runs inside the read's polls (router, pool, driver, decoding); \
         `process` every instruction of the process, the runtime's scheduling and I/O driver included.\n"
    );
    println!(
        "| read | run | direct, in the read | routed, in the read | routed / direct | direct, process | routed, process | routed / direct |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (i, workload) in WORKLOADS.iter().enumerate() {
        let column = |target: usize, in_reads: bool| -> Vec<f64> {
            per_read
                .iter()
                .map(|t| {
                    if in_reads {
                        t[target][i].1
                    } else {
                        t[target][i].0
                    }
                })
                .collect()
        };
        for (run, targets) in per_read.iter().enumerate() {
            let ((direct, direct_in), (routed, routed_in)) = (targets[0][i], targets[1][i]);
            println!(
                "| {workload} | {} | {} | {} | {:.3}x | {} | {} | {:.3}x |",
                run + 1,
                thousands(direct_in),
                thousands(routed_in),
                routed_in / direct_in,
                thousands(direct),
                thousands(routed),
                routed / direct
            );
        }
        let worst = |in_reads: bool| {
            column(1, in_reads)
                .iter()
                .zip(column(0, in_reads))
                .map(|(routed, direct)| routed / direct)
                .fold(f64::MIN, f64::max)
        };
        let (direct_in, routed_in) = (median(&column(0, true)), median(&column(1, true)));
        let (direct, routed) = (median(&column(0, false)), median(&column(1, false)));
        println!(
            "| {workload} | median | {} | {} | {:.3}x (worst run {:.3}x) | {} | {} | {:.3}x (worst run {:.3}x) |",
            thousands(direct_in),
            thousands(routed_in),
            routed_in / direct_in,
            worst(true),
            thousands(direct),
            thousands(routed),
            routed / direct,
            worst(false),
        );
    }
    Ok(())
}
