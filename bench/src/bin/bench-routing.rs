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

/// [`ReadPolls`]' poll as callgrind names it.
const READ_POLLS: &str = "<bench_routing::ReadPolls as core::future::future::Future>::poll";

/// The future of one statement on one pool (a direct handle's, or the member a routed read
/// went to) as callgrind names it: what the read spends outside it is the handle's own work
/// (statement lookup, builder rendering, and the router's choice on a routed handle).
const MEMBER_STATEMENT: &str = "foxdb::database::Database::fetch_statement::{{closure}}";

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
    /// Those inside the statement on the member's pool ([`MEMBER_STATEMENT`]).
    in_statement: u64,
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
                in_statement: inclusive_instructions(text, MEMBER_STATEMENT)
                    .with_context(|| format!("no `{MEMBER_STATEMENT}` in {}", path.display()))?,
            })
        })
        .collect()
}

/// Instructions per read of one workload in one run of one target: `(I(3n) − I(n)) / 2n`.
#[derive(Clone, Copy, Debug)]
struct PerRead {
    process: f64,
    in_read: f64,
    /// In the read but outside the member's statement.
    handle_own: f64,
}

impl PerRead {
    fn between(n: &Counts, three_n: &Counts, iterations: u64) -> Self {
        let reads = (2 * iterations) as f64;
        let per = |once: u64, thrice: u64| thrice.saturating_sub(once) as f64 / reads;
        let in_read = per(n.in_reads, three_n.in_reads);
        Self {
            process: per(n.total, three_n.total),
            in_read,
            handle_own: in_read - per(n.in_statement, three_n.in_statement),
        }
    }
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
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
    // per_read[run][target][workload]
    let mut per_read: Vec<[Vec<PerRead>; 2]> = Vec::new();
    for run in 0..args.runs {
        let pass = Pass {
            primary: &primary_url,
            replica: &replica_url,
            iterations: args.iterations,
            run,
            keep: args.keep.as_deref(),
        };
        let mut targets: [Vec<PerRead>; 2] = [Vec::new(), Vec::new()];
        for (slot, target) in [Target::Direct, Target::Routed].into_iter().enumerate() {
            let once = count_under_callgrind(target, &pass, 1)?;
            let thrice = count_under_callgrind(target, &pass, 3)?;
            targets[slot] = once
                .iter()
                .zip(&thrice)
                .map(|(n, three_n)| PerRead::between(n, three_n, args.iterations))
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
        "`process`: every instruction of the process; `in the read`: inside the read's polls \
         (router, pool, driver, decoding; not the runtime's scheduling and I/O driver); `router`: \
         what the routed read spends outside the member's statement minus what the direct read \
         spends there (statement lookup, rendering), so the driver's run-to-run variation \
         cancels; `with the router`: (direct in the read + router) / direct in the read.\n"
    );
    println!(
        "| read | run | direct: process, in the read | routed: process, in the read | routed / direct: process, in the read | router | with the router |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (i, workload) in WORKLOADS.iter().enumerate() {
        let mut ratios: [Vec<f64>; 3] = Default::default();
        for (run, targets) in per_read.iter().enumerate() {
            let (direct, routed) = (targets[0][i], targets[1][i]);
            let router = routed.handle_own - direct.handle_own;
            let row = [
                routed.process / direct.process,
                routed.in_read / direct.in_read,
                (direct.in_read + router) / direct.in_read,
            ];
            for (all, ratio) in ratios.iter_mut().zip(row) {
                all.push(ratio);
            }
            println!(
                "| {workload} | {} | {}, {} | {}, {} | {:.3}x, {:.3}x | {router:.0} | {:.3}x |",
                run + 1,
                thousands(direct.process),
                thousands(direct.in_read),
                thousands(routed.process),
                thousands(routed.in_read),
                row[0],
                row[1],
                row[2],
            );
        }
        let worst = |ratios: &[f64]| ratios.iter().copied().fold(f64::MIN, f64::max);
        let routers: Vec<f64> = per_read
            .iter()
            .map(|t| t[1][i].handle_own - t[0][i].handle_own)
            .collect();
        println!(
            "| {workload} | median (worst) | | | {:.3}x ({:.3}x), {:.3}x ({:.3}x) | {:.0} ({:.0}) | {:.3}x ({:.3}x) |",
            median(&ratios[0]),
            worst(&ratios[0]),
            median(&ratios[1]),
            worst(&ratios[1]),
            median(&routers),
            worst(&routers),
            median(&ratios[2]),
            worst(&ratios[2]),
        );
    }
    Ok(())
}
