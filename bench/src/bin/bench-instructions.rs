//! `make bench-instructions`: client instructions per operation of every Rust peer (raw sqlx on
//! a bare connection and on a pool, raw tokio-postgres, foxdb, SeaORM, Diesel) for the
//! diesel_bench workloads, counted by valgrind's callgrind: repeatable where wall-clock times
//! on a shared machine are not.
//!
//! Without `--peer` this is the driver: per engine it prepares the data as `bench-client`
//! does, then runs `valgrind --tool=callgrind bench-instructions --peer NAME --url ...` twice
//! per peer (n and 3n runs of each workload) and prints the difference per run, with ratios to
//! raw sqlx on a bare connection.

use anyhow::Result;
use clap::Parser;
use fox_bench::driver::{self, Engine};
use fox_bench::peers::{self, Peer};
use fox_bench::report;

#[derive(Debug, Parser)]
#[command(about = "Client instructions per operation of foxdb and its Rust peers (callgrind)")]
struct Args {
    /// Run only this peer's workloads, in this process, on the prepared database at `--url`
    /// (what the driver starts under callgrind).
    #[arg(long, requires = "url")]
    peer: Option<Peer>,
    /// The prepared database of `--peer`.
    #[arg(long)]
    url: Option<String>,
    /// Counted runs of each one-row workload in the first pass (the second runs three times
    /// as many); hundred-row workloads run a tenth of that, thousand-row ones a hundredth.
    #[arg(long, default_value_t = 1000)]
    iterations: u64,
    /// The pass a `--peer` process runs: 1 or 3 times `--iterations`.
    #[arg(long, default_value_t = 1)]
    scale: u64,
    /// Peers the driver counts (default: every Rust peer).
    #[arg(long, value_delimiter = ',')]
    peers: Vec<Peer>,
    /// Engines the driver runs on (default: PostgreSQL).
    #[arg(long, value_delimiter = ',')]
    engines: Vec<Engine>,
    /// Keep each counted workload's callgrind dump in this directory
    /// (`ENGINE-PEER-WORKLOAD-xSCALE.callgrind`), for `callgrind_annotate --inclusive=yes`.
    #[arg(long)]
    keep: Option<std::path::PathBuf>,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let (Some(peer), Some(url)) = (args.peer, &args.url) {
        let (iterations, scale) = (args.iterations, args.scale);
        return peers::run_counted(peer, url, |workload| {
            driver::counted_runs(workload, iterations, scale)
        })
        .await;
    }
    let peers = if args.peers.is_empty() {
        Peer::RUST.to_vec()
    } else {
        args.peers
    };
    let engines = if args.engines.is_empty() {
        vec![Engine::Postgres]
    } else {
        args.engines
    };
    if let Some(keep) = &args.keep {
        std::fs::create_dir_all(keep)?;
    }
    let results =
        driver::count_instructions(&engines, &peers, args.iterations, args.keep.as_deref()).await?;
    println!("{}", report::render_instructions(&results, args.iterations));
    Ok(())
}
