//! `make bench-routing`: what replica routing costs the client per read, against the same read
//! on a direct connection to the replica, in instructions counted by valgrind's callgrind
//! (repeatable) and in wall-clock time, both measured in one process in interleaved rounds.
//!
//! Two targets read the same rows from the same streaming replica: `direct`, a `Database`
//! connected to the replica, and `routed`, a `Database::builder()` handle over the primary and
//! that replica whose reads the router sends to the replica; both with the same pool settings.
//! Two reads each: raw SQL (`fetch_all`, one row by primary key) and the builder
//! (`User::find().filter(..).one`).
//!
//! Without `--count` this is the driver: it starts a PostgreSQL primary/replica pair
//! (fox-e2e's `PostgresPair`), fills a table, then per run starts itself under callgrind with
//! `--count`. That process opens both targets, warms them, and reads in rounds
//! ([`fox_bench::rounds::schedule`]): per round and workload, `n` reads by each target, then
//! `3n` by each, the target that reads first alternating from round to round, with a dump
//! point before and after every stretch. Per round and target, `(I(3n) − I(n)) / 2n` is the
//! cost of a read; each round gives one routed/direct ratio, each run the median over its
//! rounds. Background health checks are set to an hour (they cost per interval, not per read).
//! After the counted runs the driver compares wall-clock time the same way, natively.
//!
//! Three counts per read: every instruction of the process (`process`), those inside the
//! read's polls ([`ReadPolls`]: router, pool, driver, decoding; not the runtime's scheduling
//! and I/O driver), and the `router`: what the routed read spends inside its polls but outside
//! the statement on the member's pool, minus the same for the direct read. Each read's
//! `Pending` polls are counted too: a read whose reply is not yet on the socket parks and is
//! polled again, which costs about 1–2k instructions, and that waiting is what varied between
//! processes when each target ran in a process of its own.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use fox_bench::driver::{dump_instructions, inclusive_instructions, read_dumps};
use fox_bench::rounds::{
    Side, Spread, Stretch, line_fit, load_average, pair_of, per_read, schedule,
};
use foxdb::{Database, ModelExt, PoolConfig, PoolOptions, Value};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "users")]
struct User {
    #[foxdb(primary_key)]
    id: i64,
    name: String,
    email: String,
}

#[derive(Debug, Parser)]
#[command(about = "Client cost per read through the replica router vs a direct connection")]
struct Args {
    /// Read both targets in interleaved rounds in this process (what the driver starts under
    /// callgrind).
    #[arg(long, requires_all = ["primary", "replica"])]
    count: bool,
    /// The primary's URL (for `--count`).
    #[arg(long)]
    primary: Option<String>,
    /// The replica's URL (for `--count`).
    #[arg(long)]
    replica: Option<String>,
    /// Reads of each workload per target in a round's short stretch (`n`; the long one reads
    /// `3n`).
    #[arg(long, default_value_t = 300)]
    iterations: u64,
    /// Interleaved rounds per counted run.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    /// Counted runs, each a process of its own under callgrind: the table gives each run's
    /// median over its rounds, and the median over runs.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Interleaved rounds of the wall-clock comparison (0: none).
    #[arg(long, default_value_t = 61)]
    wall_rounds: usize,
    /// Timed reads of each workload per target in a wall-clock round.
    #[arg(long, default_value_t = 300)]
    wall_reads: u64,
    /// Keep each run's dumps in this directory (`runK.callgrind.N`) for
    /// `callgrind_annotate --inclusive=yes`: dump `2k + 1` (from 0) is stretch `k`.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
}

/// The workloads, in the order they run and are dumped.
const WORKLOADS: [&str; 2] = [
    "one row by primary key, raw SQL (`fetch_all`)",
    "one row by primary key, builder (`User::find().filter(..).one`)",
];

/// Polls of reads so far, and those that returned `Pending` (the read waited for its reply).
static POLLS: AtomicU64 = AtomicU64::new(0);
static PENDING: AtomicU64 = AtomicU64::new(0);

/// A read's future, polled through one function that is never inlined, so the dumps give
/// what runs inside the read's polls (router, pool, driver, decoding) apart from the runtime's
/// scheduling and I/O driver; it also counts the polls that found no reply yet.
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
        POLLS.fetch_add(1, Ordering::Relaxed);
        let poll = self.0.as_mut().poll(context);
        if poll.is_pending() {
            PENDING.fetch_add(1, Ordering::Relaxed);
        }
        poll
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

/// `reads` reads of `workload` through `db`, each through [`ReadPolls`].
async fn read(db: &Database, workload: usize, reads: u64) -> Result<()> {
    for run in 0..reads {
        if workload == 0 {
            ReadPolls(std::pin::pin!(raw_read(db, run))).await?;
        } else {
            ReadPolls(std::pin::pin!(builder_read(db, run))).await?;
        }
    }
    Ok(())
}

/// The two targets, with the same pool settings: `direct` on the replica, `routed` over the
/// primary and the replica (health checks once an hour); and `twin`, a second direct handle
/// that the wall-clock comparison times like the others, to show what two identical targets
/// differ by on the machine at the time.
struct Targets {
    direct: Database,
    routed: Database,
    twin: Database,
    /// `host:port` of the replica: the routed reads' expected answerer.
    replica: String,
}

impl Targets {
    async fn open(primary: &str, replica: &str) -> Result<Self> {
        let pool = PoolConfig {
            health_check_interval: Duration::from_secs(3600),
            ..PoolConfig::default()
        };
        let options = PoolOptions {
            max_connections: pool.max_connections,
            min_connections: pool.min_connections,
            idle_timeout: pool.idle_timeout,
            acquire_timeout: pool.acquire_timeout,
            ..PoolOptions::default()
        };
        let direct = Database::connect_with(replica, &options).await?;
        let twin = Database::connect_with(replica, &options).await?;
        let routed = Database::builder()
            .primary(primary)
            .replica(replica)
            .pool(pool)
            .connect()
            .await?;
        Ok(Self {
            direct,
            routed,
            twin,
            replica: foxdb::DatabaseUrl::parse(replica)?.location(),
        })
    }

    fn of(&self, side: Side) -> &Database {
        match side {
            Side::First => &self.direct,
            Side::Second => &self.routed,
        }
    }

    /// Every workload through both targets, `reads` times: connections open, statements
    /// prepared, both handles' statistics know the statements.
    async fn warm(&self, reads: u64) -> Result<()> {
        for workload in 0..WORKLOADS.len() {
            read(&self.direct, workload, reads).await?;
            read(&self.routed, workload, reads).await?;
        }
        Ok(())
    }

    /// Fails unless the replica answered all `reads` reads of the routed handle.
    fn ensure_replica_answered(&self, reads: u64) -> Result<()> {
        let answered = self
            .routed
            .routing_metrics()
            .context("routing metrics")?
            .reads_from(&self.replica);
        ensure!(
            answered == reads,
            "the replica answered {answered} of {reads} routed reads"
        );
        Ok(())
    }

    async fn close(self) {
        self.direct.close().await;
        self.routed.close().await;
        self.twin.close().await;
    }
}

const WARM_READS: u64 = 100;

/// The counted process: warms both targets, then reads every stretch of the schedule between
/// two dump points and prints each stretch's polls and `Pending` polls.
async fn count_rounds(primary: &str, replica: &str, n: u64, rounds: usize) -> Result<()> {
    let targets = Targets::open(primary, replica).await?;
    targets.warm(WARM_READS).await?;
    let mut routed_reads = WARM_READS * WORKLOADS.len() as u64;
    let mut waits = Vec::new();
    for stretch in schedule(rounds, WORKLOADS.len()) {
        let reads = stretch.scale * n;
        let (polls, pending) = (
            POLLS.load(Ordering::Relaxed),
            PENDING.load(Ordering::Relaxed),
        );
        routing_boundary();
        read(targets.of(stretch.side), stretch.workload, reads).await?;
        routing_boundary();
        waits.push((
            POLLS.load(Ordering::Relaxed) - polls,
            PENDING.load(Ordering::Relaxed) - pending,
        ));
        if stretch.side == Side::Second {
            routed_reads += reads;
        }
    }
    targets.ensure_replica_answered(routed_reads)?;
    targets.close().await;
    for (index, (polls, pending)) in waits.iter().enumerate() {
        println!("stretch {index} polls {polls} pending {pending}");
    }
    Ok(())
}

/// Instructions of one stretch, and its polls.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    /// Every instruction of the process between the stretch's dump points.
    total: u64,
    /// Those inside the reads' polls ([`READ_POLLS`]).
    in_reads: u64,
    /// Those inside the statement on the member's pool ([`MEMBER_STATEMENT`]).
    in_statement: u64,
    /// Polls of the stretch's reads that returned `Pending`.
    pending: u64,
}

/// Runs one counted process under callgrind; the counts of every stretch of the schedule.
fn count_under_callgrind(args: &Args, urls: (&str, &str), run: usize) -> Result<Vec<Counts>> {
    let (primary, replica) = urls;
    let directory = tempfile::tempdir()?;
    let out = directory.path().join("callgrind.out");
    let executable = std::env::current_exe().context("finding the bench-routing executable")?;
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--dump-after=*routing_boundary*")
        .arg(executable)
        .args(["--count", "--primary", primary, "--replica", replica])
        .args(["--iterations", &args.iterations.to_string()])
        .args(["--rounds", &args.rounds.to_string()])
        .stdin(Stdio::null())
        .output()
        .context("starting valgrind (is it installed? `apt-get install valgrind`)")?;
    if !output.status.success() {
        bail!(
            "the counted process failed under callgrind ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let stretches = schedule(args.rounds, WORKLOADS.len());
    let mut pending = vec![None; stretches.len()];
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let ["stretch", index, "polls", _, "pending", count] = words[..] {
            let index: usize = index.parse()?;
            *pending
                .get_mut(index)
                .context("a stretch past the schedule")? = Some(count.parse::<u64>()?);
        }
    }
    let dumps = read_dumps(&out)?;
    ensure!(
        dumps.len() == 2 * stretches.len(),
        "callgrind wrote {} dumps, expected {}",
        dumps.len(),
        2 * stretches.len()
    );
    if let Some(keep) = &args.keep {
        for (path, _) in &dumps {
            let number = path.extension().and_then(|e| e.to_str()).unwrap_or("0");
            std::fs::copy(
                path,
                keep.join(format!("run{}.callgrind.{number}", run + 1)),
            )?;
        }
    }
    // Dumps alternate: what ran before a stretch, then the stretch.
    dumps
        .chunks(2)
        .zip(pending)
        .map(|(pair, pending)| {
            let (path, text) = &pair[1];
            Ok(Counts {
                total: dump_instructions(text)
                    .with_context(|| format!("no instruction total in {}", path.display()))?,
                in_reads: inclusive_instructions(text, READ_POLLS)
                    .with_context(|| format!("no `{READ_POLLS}` in {}", path.display()))?,
                in_statement: inclusive_instructions(text, MEMBER_STATEMENT)
                    .with_context(|| format!("no `{MEMBER_STATEMENT}` in {}", path.display()))?,
                pending: pending.context("the counted process printed no polls")?,
            })
        })
        .collect()
}

/// Per read of one target in one round: `(I(3n) − I(n)) / 2n` of each count.
#[derive(Clone, Copy, Debug)]
struct PerRead {
    process: f64,
    in_read: f64,
    /// In the read but outside the member's statement.
    handle_own: f64,
    /// `Pending` polls per read, over both stretches.
    pending: f64,
}

impl PerRead {
    fn between(once: &Counts, thrice: &Counts, n: u64) -> Self {
        let in_read = per_read(once.in_reads, thrice.in_reads, n);
        Self {
            process: per_read(once.total, thrice.total, n),
            in_read,
            handle_own: in_read - per_read(once.in_statement, thrice.in_statement, n),
            pending: (once.pending + thrice.pending) as f64 / (4 * n) as f64,
        }
    }
}

/// One round of one workload: the direct and the routed read.
#[derive(Clone, Copy, Debug)]
struct Round {
    direct: PerRead,
    routed: PerRead,
}

impl Round {
    fn process_ratio(&self) -> f64 {
        self.routed.process / self.direct.process
    }

    fn in_read_ratio(&self) -> f64 {
        self.routed.in_read / self.direct.in_read
    }

    fn router(&self) -> f64 {
        self.routed.handle_own - self.direct.handle_own
    }
}

/// Every round of every workload of one run: `rounds[workload][round]`.
fn rounds_of(args: &Args, counts: &[Counts]) -> Result<Vec<Vec<Round>>> {
    let stretches: Vec<Stretch> = schedule(args.rounds, WORKLOADS.len());
    (0..WORKLOADS.len())
        .map(|workload| {
            (0..args.rounds)
                .map(|round| {
                    let side = |side| {
                        pair_of(&stretches, counts, round, workload, side)
                            .map(|(once, thrice)| PerRead::between(once, thrice, args.iterations))
                            .context("a stretch missing from the counts")
                    };
                    Ok(Round {
                        direct: side(Side::First)?,
                        routed: side(Side::Second)?,
                    })
                })
                .collect()
        })
        .collect()
}

/// `1234.5` as `1.23k`.
fn thousands(instructions: f64) -> String {
    format!("{:.2}k", instructions / 1000.0)
}

/// `median (min–max)` of some ratios, as `1.012x (0.990–1.034)`.
fn ratio_spread(values: &[f64]) -> String {
    Spread::of(values).map_or_else(
        || "–".to_string(),
        |s| format!("{:.3}x ({:.3}–{:.3})", s.median, s.min, s.max),
    )
}

fn median_of(values: impl IntoIterator<Item = f64>) -> f64 {
    let values: Vec<f64> = values.into_iter().collect();
    Spread::of(&values).map_or(f64::NAN, |s| s.median)
}

/// Prints the counted runs: per workload and run, the medians over the rounds; then the
/// median and the worst over the runs.
fn print_counted(args: &Args, runs: &[Vec<Vec<Round>>], loads: &[String]) {
    println!(
        "## Replica routing: client instructions per read (callgrind, PostgreSQL, one process per run, {} interleaved rounds of n = {} and 3n reads per target, (I(3n) − I(n)) / 2n)\n",
        args.rounds, args.iterations
    );
    println!(
        "`process`: every instruction of the process; `in the read`: inside the read's polls \
         (router, pool, driver, decoding); ratios: routed / direct per round, median over the \
         rounds (lowest–highest round); `router`: what the routed read spends outside the \
         member's statement minus what the direct read spends there, median over the rounds; \
         `with the router`: (direct in the read + router) / direct in the read; `waits`: \
         `Pending` polls per read (reply not yet on the socket), direct / routed.\n"
    );
    println!(
        "| read | run | direct: process, in the read | routed: process, in the read | routed / direct, process | routed / direct, in the read | router | with the router | waits | load |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let mut equal_waits = Vec::new();
    for (workload, name) in WORKLOADS.iter().enumerate() {
        let mut summaries: [Vec<f64>; 4] = Default::default();
        for (run, rounds) in runs.iter().enumerate() {
            let rounds = &rounds[workload];
            let process: Vec<f64> = rounds.iter().map(Round::process_ratio).collect();
            let in_read: Vec<f64> = rounds.iter().map(Round::in_read_ratio).collect();
            let router = median_of(rounds.iter().map(Round::router));
            let direct_in_read = median_of(rounds.iter().map(|r| r.direct.in_read));
            let with_router = (direct_in_read + router) / direct_in_read;
            for (all, value) in summaries.iter_mut().zip([
                median_of(process.iter().copied()),
                median_of(in_read.iter().copied()),
                router,
                with_router,
            ]) {
                all.push(value);
            }
            println!(
                "| {name} | {} | {}, {} | {}, {} | {} | {} | {router:.0} | {with_router:.3}x | {:.2} / {:.2} | {} |",
                run + 1,
                thousands(median_of(rounds.iter().map(|r| r.direct.process))),
                thousands(direct_in_read),
                thousands(median_of(rounds.iter().map(|r| r.routed.process))),
                thousands(median_of(rounds.iter().map(|r| r.routed.in_read))),
                ratio_spread(&process),
                ratio_spread(&in_read),
                median_of(rounds.iter().map(|r| r.direct.pending)),
                median_of(rounds.iter().map(|r| r.routed.pending)),
                loads.get(run).map_or("", String::as_str),
            );
        }
        // Every round of every run: the ratio against how many more waits per read the routed
        // read had; at no difference, the ratio of reads that waited equally often.
        let all: Vec<&Round> = runs.iter().flat_map(|run| &run[workload]).collect();
        let points = |ratio: fn(&Round) -> f64| -> Vec<(f64, f64)> {
            all.iter()
                .map(|r| (r.routed.pending - r.direct.pending, ratio(r)))
                .collect()
        };
        let per_wait = |side: fn(&Round) -> PerRead| {
            line_fit(
                &all.iter()
                    .map(|r| (side(r).pending, side(r).process))
                    .collect::<Vec<_>>(),
            )
            .map_or(f64::NAN, |(_, slope)| slope)
        };
        equal_waits.push(format!(
            "- {name}: routed / direct at equal waits (least squares over {} rounds): process {:.3}x, in the read {:.3}x; a wait costs {:.0} (direct) and {:.0} (routed) instructions of the process",
            all.len(),
            line_fit(&points(Round::process_ratio)).map_or(f64::NAN, |(at_zero, _)| at_zero),
            line_fit(&points(Round::in_read_ratio)).map_or(f64::NAN, |(at_zero, _)| at_zero),
            per_wait(|r| r.direct),
            per_wait(|r| r.routed),
        ));
        let worst = |values: &[f64]| values.iter().copied().fold(f64::MIN, f64::max);
        println!(
            "| {name} | median (worst) of the runs | | | {:.3}x ({:.3}x) | {:.3}x ({:.3}x) | {:.0} ({:.0}) | {:.3}x ({:.3}x) | | |",
            median_of(summaries[0].iter().copied()),
            worst(&summaries[0]),
            median_of(summaries[1].iter().copied()),
            worst(&summaries[1]),
            median_of(summaries[2].iter().copied()),
            worst(&summaries[2]),
            median_of(summaries[3].iter().copied()),
            worst(&summaries[3]),
        );
    }
    println!();
    for line in equal_waits {
        println!("{line}");
    }
    println!();
}

/// Wall-clock time per read in interleaved rounds, in this process (no valgrind): per round
/// and workload, `direct`, `routed` and `twin` each read `reads` times, the order rotating from
/// round to round. `twin` / `direct` shows what two identical targets differ by here and now.
async fn wall_clock(args: &Args, primary: &str, replica: &str) -> Result<()> {
    let targets = Targets::open(primary, replica).await?;
    targets.warm(WARM_READS).await?;
    for workload in 0..WORKLOADS.len() {
        read(&targets.twin, workload, WARM_READS).await?;
    }
    let load_before = load_average();
    let handles = [&targets.direct, &targets.routed, &targets.twin];
    // times[workload][target] over rounds, in microseconds per read.
    let mut times: Vec<[Vec<f64>; 3]> = vec![Default::default(); WORKLOADS.len()];
    for round in 0..args.wall_rounds {
        let mut order = [0, 1, 2];
        order.rotate_left(round % 3);
        for (workload, per_target) in times.iter_mut().enumerate() {
            for &target in &order {
                let started = Instant::now();
                read(handles[target], workload, args.wall_reads).await?;
                per_target[target]
                    .push(started.elapsed().as_secs_f64() * 1e6 / args.wall_reads as f64);
            }
        }
    }
    targets.close().await;
    println!(
        "## Replica routing: wall-clock time per read (PostgreSQL, one process, {} interleaved rounds of {} reads per target; load average {} before, {} after, shared 2-core machine)\n",
        args.wall_rounds,
        args.wall_reads,
        load_before,
        load_average()
    );
    println!(
        "Ratios per round, median of the rounds (lowest–highest; middle half). `twin`: a second \
         direct handle, timed like the others: what two identical targets differ by.\n"
    );
    println!(
        "| read | direct, median round | routed, median round | routed / direct | twin / direct |"
    );
    println!("|---|---|---|---|---|");
    let ratios = |over: &[f64], under: &[f64]| -> String {
        let mut values: Vec<f64> = over.iter().zip(under).map(|(o, u)| o / u).collect();
        let spread = ratio_spread(&values);
        values.sort_by(f64::total_cmp);
        let quarter = values.len() / 4;
        match (
            values.get(quarter),
            values
                .len()
                .checked_sub(1 + quarter)
                .and_then(|i| values.get(i)),
        ) {
            (Some(low), Some(high)) => format!("{spread}; {low:.3}–{high:.3}"),
            _ => spread,
        }
    };
    for (workload, name) in WORKLOADS.iter().enumerate() {
        let [direct, routed, twin] = &times[workload];
        println!(
            "| {name} | {:.1} µs | {:.1} µs | {} | {} |",
            median_of(direct.iter().copied()),
            median_of(routed.iter().copied()),
            ratios(routed, direct),
            ratios(twin, direct),
        );
    }
    println!();
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    ensure!(args.iterations > 0, "--iterations must be at least 1");
    if args.count {
        let (Some(primary), Some(replica)) = (&args.primary, &args.replica) else {
            bail!("--count needs --primary and --replica");
        };
        return count_rounds(primary, replica, args.iterations, args.rounds).await;
    }
    ensure!(args.rounds > 0, "--rounds must be at least 1");
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

    let mut runs = Vec::new();
    let mut loads = Vec::new();
    for run in 0..args.runs {
        let load = load_average();
        let counts = count_under_callgrind(&args, (&primary_url, &replica_url), run)?;
        let rounds = rounds_of(&args, &counts)?;
        for (workload, rounds) in rounds.iter().enumerate() {
            for (round, r) in rounds.iter().enumerate() {
                eprintln!(
                    "run {} workload {workload} round {round}: direct {:?}, routed {:?}, process {:.3}x, in the read {:.3}x, router {:.0}",
                    run + 1,
                    r.direct,
                    r.routed,
                    r.process_ratio(),
                    r.in_read_ratio(),
                    r.router()
                );
            }
        }
        runs.push(rounds);
        loads.push(load);
    }
    if !runs.is_empty() {
        print_counted(&args, &runs, &loads);
    }
    if args.wall_rounds > 0 {
        wall_clock(&args, &primary_url, &replica_url).await?;
    }
    Ok(())
}
