//! `make bench` (event sourcing): event appends per second on each engine, through the event
//! store of `foxdb` (`foxdb::events`), in three workloads: one writer appending one event per
//! transaction; eight writers at once, each on a stream of its own (appends serialize on the
//! store's head row, so this shows what concurrency costs or gains); one writer appending ten
//! events per transaction. Each workload runs `--rounds` times in a fresh stream set; the
//! median round (by events per second) is reported.

use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use fox_e2e::{Backend, TestDatabase};
use foxdb::Database;
use foxdb::events::{EventStore, ExpectedVersion, NewEvent};

#[derive(Debug, Parser)]
#[command(about = "Event store appends per second per engine")]
struct Args {
    /// Appends per writer and round.
    #[arg(long, default_value_t = 300)]
    appends: usize,
    /// Concurrent writers of the concurrent workload.
    #[arg(long, default_value_t = 8)]
    writers: usize,
    /// Rounds; the median round is reported.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

fn event(n: usize) -> NewEvent {
    NewEvent::from_json(
        "order.placed",
        format!(
            r#"{{"order":{n},"total_cents":{},"lines":3,"note":"a payload of some length"}}"#,
            n * 7
        ),
    )
    .correlated_with(format!("req-{n}"))
}

/// One writer's appends to `stream`, `batch` events each, with the expected version it read
/// last (no conflict: the stream is its own). Returns the events appended.
async fn write(store: EventStore, stream: String, appends: usize, batch: usize) -> Result<usize> {
    let mut version = store.stream_version(&stream).await?;
    for n in 0..appends {
        let events: Vec<NewEvent> = (0..batch).map(|i| event(n * batch + i)).collect();
        version = store
            .append(&stream, ExpectedVersion::Exact(version), &events)
            .await
            .with_context(|| format!("append to {stream}"))?
            .version;
    }
    Ok(appends * batch)
}

/// Events per second of `writers` writers appending `batch` events at a time.
async fn workload(
    store: &EventStore,
    round: usize,
    writers: usize,
    appends: usize,
    batch: usize,
) -> Result<(f64, f64)> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for writer in 0..writers {
        let stream = format!("w{writers}-b{batch}-r{round}-{writer}");
        tasks.push(tokio::spawn(write(store.clone(), stream, appends, batch)));
    }
    let mut events = 0;
    for task in tasks {
        events += task.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok((events as f64 / elapsed, (events / batch) as f64 / elapsed))
}

async fn run_engine(engine: Backend, args: &Args) -> Result<()> {
    let database = TestDatabase::create(engine).await;
    let db = Database::connect(database.url()).await?;
    if engine == Backend::Sqlite {
        db.execute("PRAGMA journal_mode = WAL", &[]).await?;
    }
    let store = EventStore::open(&db.with_actor("bench")).await?;
    let workloads = [
        ("1 writer, 1 event per append", 1, 1),
        ("8 writers, 1 event per append", args.writers, 1),
        ("1 writer, 10 events per append", 1, 10),
    ];
    for (name, writers, batch) in workloads {
        let mut rounds = Vec::with_capacity(args.rounds);
        for round in 0..args.rounds.max(1) {
            rounds.push(workload(&store, round, writers, args.appends, batch).await?);
        }
        // The median round by events per second.
        rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (events, appends) = rounds[rounds.len() / 2];
        println!(
            "{:<10} {name:<32} {events:>8.0} events/s  {appends:>8.0} appends/s",
            engine.to_string(),
        );
    }
    db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    println!(
        "event store appends: {} appends per writer and round, median of {} rounds",
        args.appends, args.rounds
    );
    for engine in Backend::ALL {
        run_engine(engine, &args)
            .await
            .with_context(|| format!("{engine}"))?;
    }
    Ok(())
}
