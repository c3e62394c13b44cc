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
fn plain_transport(url: &str, backend: Backend) -> String {
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
