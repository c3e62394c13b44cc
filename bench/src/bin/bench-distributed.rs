//! `make bench` (third part): a transfer across two databases with two-phase commit
//! (`foxdb::distributed`) against the same two updates as two local transactions, one after
//! the other, with nothing tying them together.
//!
//! PostgreSQL is a server of the benchmark's own (fox-e2e's `PostgresServer`, with
//! `max_prepared_transactions` and `fsync` on, as a production server would run), MariaDB the
//! local test server; the coordinator log is a table in the PostgreSQL database. Both
//! workloads run in alternating rounds — warm-up runs, then the median of timed runs — and each
//! reports the median of its rounds' medians, so load that comes and goes on the machine falls
//! on both alike.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use fox_bench::timing::{median, show_latency};
use fox_e2e::postgres_server::PostgresServer;
use fox_e2e::{Backend, TestDatabase};
use foxdb::distributed::Coordinator;
use foxdb::{Database, Value};

#[derive(Debug, Parser)]
#[command(about = "A two-database transfer with two-phase commit against two local transactions")]
struct Args {
    /// Timed runs per workload and round.
    #[arg(long, default_value_t = 200)]
    runs: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 20)]
    warmup: usize,
    /// Rounds; the median of their medians is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

const DEBIT: &str = "UPDATE accounts SET balance = balance - $1 WHERE id = 1";
const CREDIT: &str = "UPDATE accounts SET balance = balance + ? WHERE id = 1";

async fn two_phase(coordinator: &Coordinator, pg: &Database, maria: &Database) -> Result<()> {
    coordinator
        .transaction(&[pg, maria], async |tx| {
            tx[0].execute(DEBIT, &[Value::Int(1)]).await?;
            tx[1].execute(CREDIT, &[Value::Int(1)]).await?;
            Ok::<_, foxdb::Error>(())
        })
        .await?;
    Ok(())
}

async fn two_local(pg: &Database, maria: &Database) -> Result<()> {
    pg.transaction(async |tx| tx.execute(DEBIT, &[Value::Int(1)]).await.map(drop))
        .await?;
    maria
        .transaction(async |tx| tx.execute(CREDIT, &[Value::Int(1)]).await.map(drop))
        .await?;
    Ok(())
}

async fn round<F: AsyncFnMut() -> Result<()>>(args: &Args, mut work: F) -> Result<Duration> {
    for _ in 0..args.warmup {
        work().await?;
    }
    let mut samples = Vec::with_capacity(args.runs);
    for _ in 0..args.runs {
        let started = Instant::now();
        work().await?;
        samples.push(started.elapsed());
    }
    Ok(median(samples))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let server = PostgresServer::start(&["max_prepared_transactions=20", "fsync=on"])
        .context("starting a PostgreSQL server with prepared transactions")?;
    let maria_test = TestDatabase::create(Backend::MySql).await;
    let pg = Database::connect(&server.url()).await?;
    let maria = Database::connect(maria_test.url()).await?;
    for db in [&pg, &maria] {
        db.execute(
            "CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)",
            &[],
        )
        .await?;
        db.execute("INSERT INTO accounts VALUES (1, 0)", &[])
            .await?;
    }
    let coordinator = Coordinator::open(&pg, "bench").await?;

    let mut distributed = Vec::new();
    let mut local = Vec::new();
    for _ in 0..args.rounds {
        distributed.push(round(&args, async || two_phase(&coordinator, &pg, &maria).await).await?);
        local.push(round(&args, async || two_local(&pg, &maria).await).await?);
    }
    let distributed = median(distributed);
    let local = median(local);
    println!(
        "two-database transfer, PostgreSQL (fsync on) + MariaDB, median of {} rounds of {} runs",
        args.rounds, args.runs
    );
    println!(
        "  two local transactions        {:>10}",
        show_latency(local)
    );
    println!(
        "  two-phase commit (foxdb)      {:>10}",
        show_latency(distributed)
    );
    println!(
        "  ratio                         {:>9.2}x",
        distributed.as_secs_f64() / local.as_secs_f64()
    );
    Ok(())
}
