//! `make bench`'s driver: per engine, one fresh database with the prepared data, then each peer
//! in its own process, one after the other, with the data restored in between.
//!
//! Expected flow per engine: [`crate::dataset::prepare`] → for each round, for each peer:
//! spawn it ([`Peer::command`]), read its measurement lines, [`crate::dataset::restore`] →
//! combine the rounds into [`EngineResults`] for [`crate::report::render`].

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use fox_e2e::TestDatabase;
use foxdb::{Backend, Database, DatabaseUrl};

use crate::dataset;
use crate::measurement::Measurement;
use crate::peers::Peer;
use crate::report::EngineResults;
use crate::timing::{Sampling, median};
use crate::workload::Workload;

/// An engine the benchmark runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// PostgreSQL: every peer.
    Postgres,
    /// MySQL or MariaDB: raw sqlx and foxdb.
    Mysql,
    /// SQLite: raw sqlx and foxdb.
    Sqlite,
}

impl Engine {
    /// Every engine, PostgreSQL first.
    pub const ALL: [Engine; 3] = [Self::Postgres, Self::Mysql, Self::Sqlite];

    fn test_engine(self) -> Backend {
        match self {
            Self::Postgres => Backend::Postgres,
            Self::Mysql => Backend::MySql,
            Self::Sqlite => Backend::Sqlite,
        }
    }
}

/// `url` without TLS: every peer then talks to the local server the same way. Left to their
/// defaults, sqlx-based peers (raw sqlx, foxdb, SeaORM) would encrypt (`sslmode=prefer` finds
/// TLS on) while Diesel's libpq (built without OpenSSL) and TypeORM's `pg` would not.
pub fn plain_transport(url: &str, backend: Backend) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    match backend {
        Backend::Postgres => format!("{url}{separator}sslmode=disable"),
        Backend::MySql => format!("{url}{separator}ssl-mode=disabled"),
        Backend::Sqlite => url.to_string(),
    }
}

/// `PostgreSQL 15.8`, `MariaDB 10.11.6`, `SQLite 3.50.2`: the server behind `url`.
async fn engine_name(url: &str) -> Result<String> {
    let database = Database::connect(url).await?;
    let sql = match database.backend() {
        Backend::Postgres => "SELECT current_setting('server_version') AS v",
        Backend::MySql => "SELECT VERSION() AS v",
        Backend::Sqlite => "SELECT sqlite_version() AS v",
    };
    let rows = database.fetch_all(sql, &[]).await?;
    let full: String = rows.first().context("a version row")?.get("v")?;
    database.close().await;
    // `15.8 (Debian 15.8-0+deb12u1)`, `10.11.6-MariaDB-0+deb12u1`: the number comes first.
    let version = full.split([' ', '-']).next().unwrap_or_default();
    Ok(match database.backend() {
        Backend::Postgres => format!("PostgreSQL {version}"),
        Backend::MySql if full.contains("MariaDB") => format!("MariaDB {version}"),
        Backend::MySql => format!("MySQL {version}"),
        Backend::Sqlite => format!("SQLite {version}"),
    })
}

/// The CPU peers are pinned to by default: the last one, when there are several (the servers
/// and the driver keep the others) and `taskset` is installed.
pub fn default_cpu() -> Option<usize> {
    let cpus = std::thread::available_parallelism().ok()?.get();
    let taskset = Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    (cpus >= 2 && taskset).then(|| cpus - 1)
}

/// Runs `peer` in its own process on `url` (pinned to `cpu`, if any) and reads its
/// measurements.
fn run_peer(
    peer: Peer,
    url: &str,
    sampling: Sampling,
    cpu: Option<usize>,
) -> Result<Vec<Measurement>> {
    let mut command = peer.command(url, sampling)?;
    if let Some(cpu) = cpu {
        let mut pinned = Command::new("taskset");
        pinned
            .args(["--cpu-list", &cpu.to_string()])
            .arg(command.get_program())
            .args(command.get_args());
        command = pinned;
    }
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("starting the {} peer", peer.title()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "the {} peer failed ({}); its output:\n{stdout}",
            peer.title(),
            output.status
        );
    }
    let measurements = stdout
        .lines()
        .filter_map(Measurement::from_line)
        .collect::<Result<Vec<_>>>()?;
    for workload in Workload::ALL {
        ensure!(
            measurements.iter().any(|m| m.workload == workload),
            "the {} peer reported no `{workload}`",
            peer.title()
        );
    }
    Ok(measurements)
}

/// Waits until the kernel has written every dirty page (`sync`): the restore's writes must
/// not land on the next peer's commits, which wait for the disk.
fn flush_disk_writes() {
    // Best effort: without `sync` the numbers are only noisier.
    let _ = Command::new("sync").status();
}

/// Per workload, the median of the rounds' medians.
fn combine_rounds(rounds: &[Vec<Measurement>]) -> Vec<Measurement> {
    Workload::ALL
        .into_iter()
        .map(|workload| Measurement {
            workload,
            median: median(
                rounds
                    .iter()
                    .flatten()
                    .filter(|m| m.workload == workload)
                    .map(|m| m.median)
                    .collect(),
            ),
        })
        .collect()
}

/// Runs `peers` on `engines`, `rounds` times each, and returns what they measured.
///
/// Each round runs every peer once, starting one peer further along than the round before,
/// so a slow spell on a shared machine or the order of the peers does not favour one peer;
/// each workload reports the median of its rounds' medians.
///
/// # Errors
/// A server that cannot be reached, seeding errors, a peer that fails or reports too little.
pub async fn run(
    engines: &[Engine],
    peers: &[Peer],
    rounds: usize,
    sampling: Sampling,
    cpu: Option<usize>,
) -> Result<Vec<EngineResults>> {
    let mut results = Vec::new();
    for engine in engines {
        let database = TestDatabase::create(engine.test_engine()).await;
        let url = database.url();
        let backend = DatabaseUrl::parse(url)?.backend();
        dataset::prepare(url).await?;
        flush_disk_writes();
        let name = engine_name(url).await?;
        let url = &plain_transport(url, backend);
        let peers: Vec<Peer> = peers
            .iter()
            .copied()
            .filter(|p| p.runs_on(backend))
            .collect();
        let mut measured: Vec<Vec<Vec<Measurement>>> = vec![Vec::new(); peers.len()];
        for round in 0..rounds.max(1) {
            for i in (0..peers.len()).map(|i| (i + round) % peers.len()) {
                eprint!("{name}, round {}: {} ... ", round + 1, peers[i].title());
                let started = Instant::now();
                measured[i].push(run_peer(peers[i], url, sampling, cpu)?);
                eprintln!("{:.1} s", started.elapsed().as_secs_f64());
                dataset::restore(url).await?;
                flush_disk_writes();
            }
        }
        results.push(EngineResults {
            engine: name,
            peers: peers
                .into_iter()
                .zip(measured.iter().map(|rounds| combine_rounds(rounds)))
                .collect(),
        });
    }
    Ok(results)
}

/// Instructions one peer process executed per counted workload, and how many runs that was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counted {
    /// Which workload.
    pub workload: Workload,
    /// Counted runs.
    pub runs: u64,
    /// Client instructions over those runs (every thread of the peer's process).
    pub instructions: u64,
    /// Of those, the instructions inside the runs' polls
    /// ([`crate::peers::OPERATION_POLLS`]): not the runtime's scheduling and I/O driver.
    pub in_operation: u64,
    /// Polls of those runs that returned `Pending` (the reply was not there yet).
    pub waits: u64,
}

/// Counted runs of `workload` in a pass at `scale` (1 or 3) for `iterations` one-row runs:
/// one-row workloads run `iterations` times, hundred-row ones a tenth of that, thousand-row
/// ones a hundredth (at least 2).
pub fn counted_runs(workload: Workload, iterations: u64, scale: u64) -> u64 {
    let base = match workload {
        Workload::SelectUsers(n) | Workload::JoinPosts(n) | Workload::Insert(n) if n <= 10 => {
            iterations
        }
        Workload::UpdateByKey | Workload::DeleteByKey => iterations,
        Workload::SelectUsers(n) | Workload::JoinPosts(n) | Workload::Insert(n) if n <= 100 => {
            iterations / 10
        }
        _ => iterations / 100,
    };
    base.max(2) * scale
}

/// The first number of a callgrind dump's `summary:` (or `totals:`) line: its instructions.
pub fn dump_instructions(dump: &str) -> Option<u64> {
    dump.lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))
        })?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The inclusive instructions of the function named exactly `name` (as callgrind writes it,
/// `crate::path::function::{{closure}}`) in a callgrind dump: its own cost lines plus the
/// inclusive cost of each call it makes, summed over every block the dump gives it (names
/// compressed as `(id) name` on first use, `(id)` after). `None` when no function matches.
pub fn inclusive_instructions(dump: &str, name: &str) -> Option<u64> {
    let mut ids = std::collections::HashSet::new();
    let mut matched_any = false;
    let mut inside = false;
    let mut total = 0u64;
    // Whether a `(id) name` or `(id)` names a matching function; learns the ids.
    let mut names_match =
        |function: &str| match function.strip_prefix('(').and_then(|f| f.split_once(')')) {
            Some((id, rest)) if rest.trim().is_empty() => ids.contains(id),
            Some((id, rest)) => {
                let matches = rest.trim() == name;
                if matches {
                    ids.insert(id.to_string());
                }
                matches
            }
            None => function.trim() == name,
        };
    for line in dump.lines() {
        if let Some(function) = line.strip_prefix("fn=") {
            inside = names_match(function);
            matched_any |= inside;
            continue;
        }
        if let Some(function) = line.strip_prefix("cfn=") {
            // Defines the id for later `fn=` lines; the call's cost counts for the caller.
            names_match(function);
            continue;
        }
        // In a block: `position cost` lines are the function's own instructions, and the one
        // after each `calls=` line the inclusive instructions of that call; `cfn=`, `fl=`,
        // `fi=`, `ob=` and the like only set context.
        let is_cost_line = line
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'*'));
        if inside
            && is_cost_line
            && let Some(cost) = line
                .split_whitespace()
                .nth(1)
                .and_then(|c| c.parse::<u64>().ok())
        {
            total += cost;
        }
    }
    matched_any.then_some(total)
}

/// The dump files callgrind wrote for `out` (`out.1`, `out.2`, ... in the order written; the
/// dump at exit, `out` itself, is left out), with their text.
///
/// # Errors
/// The directory or a dump cannot be read.
pub fn read_dumps(out: &std::path::Path) -> Result<Vec<(std::path::PathBuf, String)>> {
    let directory = out.parent().context("a dump directory")?;
    let stem = out
        .file_name()
        .and_then(|name| name.to_str())
        .context("a dump file name")?;
    let mut numbered: Vec<(u64, std::path::PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(directory)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if let Some(number) = name
            .strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|number| number.parse().ok())
        {
            numbered.push((number, path));
        }
    }
    numbered.sort();
    numbered
        .into_iter()
        .map(|(_, path)| {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Ok((path, text))
        })
        .collect()
}

/// Runs `peer` once under callgrind at `scale` and returns its instructions per workload.
/// The dump files stay in `keep` (named after the peer, engine and scale) when given.
fn count_peer(
    peer: Peer,
    url: &str,
    iterations: u64,
    scale: u64,
    keep: Option<(&std::path::Path, &str)>,
) -> Result<Vec<Counted>> {
    let directory = tempfile::tempdir()?;
    let out = directory.path().join("callgrind.out");
    let executable =
        std::env::current_exe().context("finding the bench-instructions executable")?;
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--dump-after=*instruction_boundary*")
        .arg(executable)
        .args(["--peer", peer.name(), "--url", url])
        .args(["--iterations", &iterations.to_string()])
        .args(["--scale", &scale.to_string()])
        .stdin(Stdio::null())
        .output()
        .context("starting valgrind (is it installed? `apt-get install valgrind`)")?;
    if !output.status.success() {
        bail!(
            "the {} peer failed under callgrind ({}):\n{}",
            peer.title(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let dumps = read_dumps(&out)?;
    ensure!(
        dumps.len() == 2 * Workload::ALL.len(),
        "callgrind wrote {} dumps for the {} peer, expected {} (two per workload)",
        dumps.len(),
        peer.title(),
        2 * Workload::ALL.len()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let waits: Vec<(Workload, u64)> = stdout
        .lines()
        .filter_map(crate::peers::parse_waits_line)
        .collect();
    let mut counted = Vec::with_capacity(Workload::ALL.len());
    // Dumps alternate: a workload's preparation and first run, then its counted runs.
    for (workload, pair) in Workload::ALL.into_iter().zip(dumps.chunks(2)) {
        let (path, text) = &pair[1];
        let instructions = dump_instructions(text)
            .with_context(|| format!("no instruction total in {}", path.display()))?;
        let in_operation = inclusive_instructions(text, crate::peers::OPERATION_POLLS)
            .with_context(|| {
                format!(
                    "no `{}` in {}",
                    crate::peers::OPERATION_POLLS,
                    path.display()
                )
            })?;
        let waits = waits
            .iter()
            .find(|(w, _)| *w == workload)
            .map(|(_, waits)| *waits)
            .with_context(|| {
                format!("the {} peer printed no waits of `{workload}`", peer.title())
            })?;
        if let Some((keep, engine)) = keep {
            let name = format!(
                "{engine}-{}-{}-x{scale}.callgrind",
                peer.name(),
                workload.key().replace('/', "-")
            );
            std::fs::copy(path, keep.join(name))?;
        }
        counted.push(Counted {
            workload,
            runs: counted_runs(workload, iterations, scale),
            instructions,
            in_operation,
            waits,
        });
    }
    Ok(counted)
}

/// One engine's instruction counts: per peer, per workload, client instructions per operation.
#[derive(Debug)]
pub struct EngineInstructions {
    /// `PostgreSQL 15.8`.
    pub engine: String,
    /// Peers in the order they ran, raw sqlx on a bare connection first.
    pub peers: Vec<(Peer, Vec<(Workload, PerOperation)>)>,
}

/// One peer's counts per operation of one workload: (the larger pass − the smaller) over the
/// difference of their runs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PerOperation {
    /// Every instruction of the process.
    pub instructions: f64,
    /// Those inside the operation's polls (not the runtime's scheduling and I/O driver).
    pub in_operation: f64,
    /// Polls that found no reply yet.
    pub waits: f64,
}

/// Runs `peers` on `engines` under callgrind, each twice (`iterations` and three times as many
/// one-row runs), and returns client instructions per operation: the difference of the two
/// passes over the difference of their runs, so start-up, connecting and first-run costs
/// cancel. Dump files are copied to `keep` when given.
///
/// # Errors
/// A server that cannot be reached, seeding errors, valgrind missing, a peer that fails.
pub async fn count_instructions(
    engines: &[Engine],
    peers: &[Peer],
    iterations: u64,
    keep: Option<&std::path::Path>,
) -> Result<Vec<EngineInstructions>> {
    let mut results = Vec::new();
    for engine in engines {
        let database = TestDatabase::create(engine.test_engine()).await;
        let url = database.url();
        let backend = DatabaseUrl::parse(url)?.backend();
        dataset::prepare(url).await?;
        let name = engine_name(url).await?;
        let key = backend.as_str();
        let url = &plain_transport(url, backend);
        let mut counted = Vec::new();
        for peer in peers.iter().copied().filter(|p| p.runs_on(backend)) {
            eprint!("{name}: {} under callgrind ... ", peer.title());
            let started = Instant::now();
            let mut passes = Vec::with_capacity(2);
            for scale in [1, 3] {
                passes.push(count_peer(
                    peer,
                    url,
                    iterations,
                    scale,
                    keep.map(|k| (k, key)),
                )?);
                dataset::restore(url).await?;
            }
            eprintln!("{:.1} s", started.elapsed().as_secs_f64());
            let per_operation = passes[0]
                .iter()
                .zip(&passes[1])
                .map(|(small, large)| {
                    let runs = large.runs.saturating_sub(small.runs).max(1) as f64;
                    let per_run = |large: u64, small: u64| (large as f64 - small as f64) / runs;
                    (
                        small.workload,
                        PerOperation {
                            instructions: per_run(large.instructions, small.instructions),
                            in_operation: per_run(large.in_operation, small.in_operation),
                            waits: per_run(large.waits, small.waits),
                        },
                    )
                })
                .collect();
            counted.push((peer, per_operation));
        }
        results.push(EngineInstructions {
            engine: name,
            peers: counted,
        });
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::{counted_runs, inclusive_instructions};
    use crate::workload::Workload;

    #[test]
    fn one_row_writes_run_as_often_as_one_row_reads() {
        for workload in [
            Workload::SelectUsers(1),
            Workload::Insert(1),
            Workload::UpdateByKey,
            Workload::DeleteByKey,
        ] {
            assert_eq!(counted_runs(workload, 1000, 1), 1000, "{workload}");
            assert_eq!(counted_runs(workload, 1000, 3), 3000, "{workload}");
        }
        assert_eq!(counted_runs(Workload::Insert(100), 1000, 3), 300);
        assert_eq!(counted_runs(Workload::JoinPosts(1000), 1000, 1), 10);
    }

    /// A dump as callgrind writes it: compressed names, a function in two blocks, calls.
    const DUMP: &str = "\
events: Ir
fl=(1) a.rs
fn=(1) outer
1 10
cfn=(2) <x::ReadPolls as core::future::future::Future>::poll
calls=1 5
2 700
fn=(2)
5 40
cfn=(3) inner
calls=2 9
+1 600
fl=(2) b.rs
fn=(2)
-3 60
fn=(3)
9 600
totals: 1410
";

    #[test]
    fn inclusive_instructions_sum_own_costs_and_calls_over_every_block() {
        // 40 own + 600 for the calls to `inner` + 60 own in the second block.
        assert_eq!(
            inclusive_instructions(DUMP, "<x::ReadPolls as core::future::future::Future>::poll"),
            Some(700)
        );
        assert_eq!(inclusive_instructions(DUMP, "ReadPolls"), None);
        assert_eq!(inclusive_instructions(DUMP, "outer"), Some(710));
        assert_eq!(inclusive_instructions(DUMP, "missing"), None);
    }
}
