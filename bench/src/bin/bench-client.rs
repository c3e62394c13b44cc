//! `make bench`: the foxdb client against raw sqlx (the speed limit), SeaORM, Diesel and
//! TypeORM on PostgreSQL, and against raw sqlx on MariaDB and SQLite, for the diesel_bench
//! workloads. Prints one table of medians and ratios to raw sqlx.
//!
//! Without `--peer` this is the driver: it prepares the data and starts itself once per Rust
//! peer (`bench-client --peer foxdb --url ...`) and `node bench/typeorm/bench.js` for TypeORM.

use anyhow::Result;
use clap::Parser;
use fox_bench::driver::{self, Engine};
use fox_bench::peers::{self, Peer};
use fox_bench::report;
use fox_bench::timing::Sampling;
use fox_bench::workload::Workload;

#[derive(Debug, Parser)]
#[command(about = "The foxdb client against raw sqlx, SeaORM, Diesel and TypeORM")]
struct Args {
    /// Run only this peer's workloads, in this process, on the prepared database at `--url`,
    /// and print its measurements (what the driver starts).
    #[arg(long, requires = "url")]
    peer: Option<Peer>,
    /// The prepared database of `--peer`.
    #[arg(long)]
    url: Option<String>,
    /// The workloads `--peer` runs, by key (`select/1`, `join/10`, `eager`, `insert/100`,
    /// `update`, `delete`; default: all). For profiling one workload; the driver runs all.
    #[arg(long, value_delimiter = ',', requires = "peer", value_parser = workload)]
    workloads: Vec<Workload>,
    /// Timed runs per workload (the median is reported).
    #[arg(long, default_value_t = Sampling::default().runs)]
    runs: usize,
    /// Untimed runs per workload first.
    #[arg(long, default_value_t = Sampling::default().warmup)]
    warmup: usize,
    /// Times the driver runs every peer (in turn); each workload reports the median of the
    /// rounds' medians.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Pin every peer process to this CPU with `taskset` (default: the last CPU, when there
    /// are several and `taskset` exists), so that where a peer's threads land is not luck;
    /// the database servers stay unpinned.
    #[arg(long, conflicts_with = "no_pin")]
    cpu: Option<usize>,
    /// Do not pin the peer processes.
    #[arg(long)]
    no_pin: bool,
    /// Peers the driver compares (default: all).
    #[arg(long, value_delimiter = ',')]
    peers: Vec<Peer>,
    /// Engines the driver runs on (default: all).
    #[arg(long, value_delimiter = ',')]
    engines: Vec<Engine>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let sampling = Sampling {
        warmup: args.warmup,
        runs: args.runs.max(1),
    };
    if let (Some(peer), Some(url)) = (args.peer, &args.url) {
        let workloads = if args.workloads.is_empty() {
            Workload::ALL.to_vec()
        } else {
            args.workloads
        };
        for measurement in peers::run(peer, url, sampling, &workloads).await? {
            println!("{}", measurement.to_line());
        }
        return Ok(());
    }
    let peers = if args.peers.is_empty() {
        Peer::ALL.to_vec()
    } else {
        args.peers
    };
    let engines = if args.engines.is_empty() {
        Engine::ALL.to_vec()
    } else {
        args.engines
    };
    let cpu = if args.no_pin {
        None
    } else {
        args.cpu.or_else(driver::default_cpu)
    };
    let results = driver::run(&engines, &peers, args.rounds, sampling, cpu).await?;
    println!("{}", report::render(&results, args.rounds, sampling, cpu));
    Ok(())
}

/// The workload a `--workloads` key names.
fn workload(key: &str) -> Result<Workload, String> {
    Workload::from_key(key).ok_or_else(|| format!("no workload `{key}`"))
}
