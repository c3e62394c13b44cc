//! `make bench` (third part): the row-per-tenant strategy against the same query with a
//! hand-written tenant filter, on PostgreSQL.
//!
//! 10 tenants × 5,000 notes, an index on `(tenant_id, score)`. Each query runs two ways: through
//! a tenant handle (`db.tenant("t3")`, the builder adds `tenant_id = $1`) and through the pool
//! with `.all_tenants()` and the filter `Note::TENANT_ID.eq("t3")` written by hand, the same
//! SQL but for the order of the conditions. Alternating rounds; the median of their medians.
//! Target: at most 5 % overhead.

use anyhow::Result;
use clap::Parser;
use fox_bench::timing::{Sampling, measure_alternating, show_latency};
use foxdb::{Database, ModelExt};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "notes")]
struct Note {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    #[foxdb(tenant)]
    tenant_id: String,
    score: i64,
    body: String,
}

#[derive(Debug, Parser)]
#[command(about = "Row-per-tenant isolation against a hand-written tenant filter")]
struct Args {
    /// Timed runs per workload and round.
    #[arg(long, default_value_t = 300)]
    runs: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Rounds; the median of their medians is reported.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
}

const SCHEMA: [&str; 3] = [
    "CREATE TABLE notes (id bigserial PRIMARY KEY, tenant_id text NOT NULL, score bigint NOT NULL, body text NOT NULL)",
    "INSERT INTO notes (tenant_id, score, body) SELECT 't' || (g % 10), (g / 10) % 100, repeat('note ', 20) FROM generate_series(1, 50000) g",
    "CREATE INDEX ON notes (tenant_id, score)",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let test = fox_e2e::TestDatabase::create(foxdb::Backend::Postgres).await;
    let db = Database::connect(&format!("{}?sslmode=disable", test.url())).await?;
    for sql in SCHEMA {
        db.execute(sql, &[]).await?;
    }
    db.execute("ANALYZE notes", &[]).await?;
    let tenant = db.tenant("t3")?;
    let sampling = Sampling {
        warmup: args.warmup,
        runs: args.runs,
    };

    println!("## Row-per-tenant isolation (PostgreSQL)\n");
    println!("| query | hand-written filter | tenant handle | overhead |");
    println!("|---|---|---|---|");

    let (by_hand, through_handle) = measure_alternating(
        sampling,
        args.rounds,
        |_| async {
            let notes = Note::find()
                .all_tenants()
                .filter(Note::TENANT_ID.eq("t3").and(Note::SCORE.gte(95)))
                .order_by(Note::ID.asc())
                .limit(20)
                .all(&db)
                .await?;
            anyhow::ensure!(notes.len() == 20, "20 notes");
            Ok(())
        },
        |_| async {
            let notes = Note::find()
                .filter(Note::SCORE.gte(95))
                .order_by(Note::ID.asc())
                .limit(20)
                .all(&tenant)
                .await?;
            anyhow::ensure!(notes.len() == 20, "20 notes");
            Ok(())
        },
    )
    .await?;
    row(
        "20 notes of a tenant, filtered and ordered",
        by_hand,
        through_handle,
    );

    let (by_hand, through_handle) = measure_alternating(
        sampling,
        args.rounds,
        |_| async {
            let counted = Note::find()
                .all_tenants()
                .filter(Note::TENANT_ID.eq("t3").and(Note::SCORE.eq(7)))
                .count(&db)
                .await?;
            anyhow::ensure!(counted == 50, "50 notes, counted {counted}");
            Ok(())
        },
        |_| async {
            let counted = Note::find()
                .filter(Note::SCORE.eq(7))
                .count(&tenant)
                .await?;
            anyhow::ensure!(counted == 50, "50 notes, counted {counted}");
            Ok(())
        },
    )
    .await?;
    row(
        "count of a tenant's notes with one score",
        by_hand,
        through_handle,
    );
    db.close().await;
    Ok(())
}

fn row(name: &str, by_hand: std::time::Duration, through_handle: std::time::Duration) {
    println!(
        "| {name} | {} | {} | {:+.1} % |",
        show_latency(by_hand),
        show_latency(through_handle),
        (through_handle.as_secs_f64() / by_hand.as_secs_f64() - 1.0) * 100.0
    );
}
