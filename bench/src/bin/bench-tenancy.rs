//! `make bench` (third part): the row-per-tenant strategy against the same query with a
//! hand-written tenant filter, on PostgreSQL.
//!
//! 10 tenants × 5,000 notes, an index on `(tenant_id, score)`. Each query runs two ways: through
//! a tenant handle (`db.tenant("t3")`, the builder adds `tenant_id = $1`) and through the pool
//! with `.all_tenants()` and the filter `Note::TENANT_ID.eq("t3")` written by hand, the same
//! SQL but for the order of the conditions. Alternating rounds; the median of their medians.
//! Target: at most 5 % overhead.
//!
//! `--instructions` counts the client's instructions per query instead (valgrind's callgrind,
//! repeatable where wall-clock times are not): each query runs in a child process under
//! callgrind twice, `n` and `3n` times after one untimed run, and the difference of the two
//! counted passes over `2n` is one query's instructions, start-up and connecting cancelled out
//! (as `bench-instructions` does for the client's peers).

use anyhow::{Context, Result};
use clap::Parser;
use fox_bench::timing::{Sampling, measure_alternating, show_latency};
use foxdb::{Database, ModelExt, Tenant};

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
    /// Count client instructions per query with callgrind instead of timing.
    #[arg(long)]
    instructions: bool,
    /// Counted runs of the smaller callgrind pass (the larger one runs three times as many).
    #[arg(long, default_value_t = 20)]
    iterations: u64,
    /// Run one query (`QUERY:WAY`) `--iterations` times after one untimed run, on the prepared
    /// database at `--url`: what `--instructions` starts under callgrind.
    #[arg(long, requires = "url")]
    count: Option<String>,
    /// The prepared database, for `--count`.
    #[arg(long)]
    url: Option<String>,
}

/// The queries, each run with the filter written by hand and through a tenant handle.
#[derive(Clone, Copy, Debug)]
enum Query {
    /// 20 notes of a tenant, filtered and ordered.
    Select,
    /// The count of a tenant's notes with one score.
    Count,
}

impl Query {
    const ALL: [Query; 2] = [Query::Select, Query::Count];

    fn key(self) -> &'static str {
        match self {
            Self::Select => "select",
            Self::Count => "count",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::Select => "20 notes of a tenant, filtered and ordered",
            Self::Count => "count of a tenant's notes with one score",
        }
    }

    /// Runs the query once: through `tenant` when `through_handle`, else on `db` with the
    /// tenant filter written by hand.
    async fn run(self, db: &Database, tenant: &Tenant, through_handle: bool) -> Result<()> {
        match (self, through_handle) {
            (Self::Select, false) => {
                let notes = Note::find()
                    .all_tenants()
                    .filter(Note::TENANT_ID.eq("t3").and(Note::SCORE.gte(95)))
                    .order_by(Note::ID.asc())
                    .limit(20)
                    .all(db)
                    .await?;
                anyhow::ensure!(notes.len() == 20, "20 notes");
            }
            (Self::Select, true) => {
                let notes = Note::find()
                    .filter(Note::SCORE.gte(95))
                    .order_by(Note::ID.asc())
                    .limit(20)
                    .all(tenant)
                    .await?;
                anyhow::ensure!(notes.len() == 20, "20 notes");
            }
            (Self::Count, false) => {
                let counted = Note::find()
                    .all_tenants()
                    .filter(Note::TENANT_ID.eq("t3").and(Note::SCORE.eq(7)))
                    .count(db)
                    .await?;
                anyhow::ensure!(counted == 50, "50 notes, counted {counted}");
            }
            (Self::Count, true) => {
                let counted = Note::find().filter(Note::SCORE.eq(7)).count(tenant).await?;
                anyhow::ensure!(counted == 50, "50 notes, counted {counted}");
            }
        }
        Ok(())
    }
}

const SCHEMA: [&str; 3] = [
    "CREATE TABLE notes (id bigserial PRIMARY KEY, tenant_id text NOT NULL, score bigint NOT NULL, body text NOT NULL)",
    "INSERT INTO notes (tenant_id, score, body) SELECT 't' || (g % 10), (g / 10) % 100, repeat('note ', 20) FROM generate_series(1, 50000) g",
    "CREATE INDEX ON notes (tenant_id, score)",
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let (Some(count), Some(url)) = (&args.count, &args.url) {
        return count_one(count, url, args.iterations).await;
    }
    let test = fox_e2e::TestDatabase::create(foxdb::Backend::Postgres).await;
    let url = format!("{}?sslmode=disable", test.url());
    let db = Database::connect(&url).await?;
    for sql in SCHEMA {
        db.execute(sql, &[]).await?;
    }
    db.execute("ANALYZE notes", &[]).await?;
    if args.instructions {
        db.close().await;
        return count_instructions(&url, args.iterations);
    }
    let tenant = db.tenant("t3")?;
    let sampling = Sampling {
        warmup: args.warmup,
        runs: args.runs,
    };

    println!("## Row-per-tenant isolation (PostgreSQL)\n");
    println!("| query | hand-written filter | tenant handle | overhead |");
    println!("|---|---|---|---|");

    for query in Query::ALL {
        let (by_hand, through_handle) = measure_alternating(
            sampling,
            args.rounds,
            |_| query.run(&db, &tenant, false),
            |_| query.run(&db, &tenant, true),
        )
        .await?;
        row(query.title(), by_hand, through_handle);
    }
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

/// Marks the edges of the counted runs: callgrind dumps (and zeroes) its counters each time
/// this returns (`--dump-after`).
#[inline(never)]
fn tenancy_boundary() {
    std::hint::black_box(());
}

/// `--count QUERY:WAY`: one untimed run, then `iterations` counted ones between two
/// [`tenancy_boundary`] calls.
async fn count_one(count: &str, url: &str, iterations: u64) -> Result<()> {
    let (key, way) = count
        .split_once(':')
        .context("--count takes QUERY:WAY, WAY `hand` or `handle`")?;
    let query = Query::ALL
        .into_iter()
        .find(|q| q.key() == key)
        .with_context(|| format!("no query {key}"))?;
    let through_handle = match way {
        "hand" => false,
        "handle" => true,
        other => anyhow::bail!("no way {other}: `hand` or `handle`"),
    };
    let db = Database::connect(url).await?;
    let tenant = db.tenant("t3")?;
    for run in 0..=iterations {
        if run == 1 {
            tenancy_boundary();
        }
        query.run(&db, &tenant, through_handle).await?;
    }
    tenancy_boundary();
    db.close().await;
    Ok(())
}

/// Client instructions of one query under callgrind at `runs` counted runs: the second dump
/// (the first holds start-up and the untimed run).
fn counted_instructions(url: &str, count: &str, runs: u64) -> Result<u64> {
    let directory = tempfile::tempdir()?;
    let out = directory.path().join("callgrind.out");
    let output = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--dump-after=*tenancy_boundary*")
        .arg(std::env::current_exe()?)
        .args(["--count", count, "--url", url])
        .args(["--iterations", &runs.to_string()])
        .stdin(std::process::Stdio::null())
        .output()
        .context("starting valgrind (is it installed? `apt-get install valgrind`)")?;
    anyhow::ensure!(
        output.status.success(),
        "{count} failed under callgrind ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let dump = directory.path().join("callgrind.out.2");
    let text =
        std::fs::read_to_string(&dump).with_context(|| format!("reading {}", dump.display()))?;
    text.lines()
        .find_map(|line| {
            line.strip_prefix("summary:")
                .or_else(|| line.strip_prefix("totals:"))
        })
        .and_then(|numbers| numbers.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no instruction total in {}", dump.display()))
}

/// `--instructions`: every query both ways, (I(3n) - I(n)) / 2n client instructions each.
fn count_instructions(url: &str, iterations: u64) -> Result<()> {
    let iterations = iterations.max(1);
    let per_query = |count: &str| -> Result<f64> {
        let small = counted_instructions(url, count, iterations)?;
        let large = counted_instructions(url, count, 3 * iterations)?;
        Ok((large as f64 - small as f64) / (2 * iterations) as f64)
    };
    println!("## Row-per-tenant isolation (PostgreSQL), client instructions per query\n");
    println!("| query | hand-written filter | tenant handle | overhead |");
    println!("|---|---|---|---|");
    for query in Query::ALL {
        let by_hand = per_query(&format!("{}:hand", query.key()))?;
        let through_handle = per_query(&format!("{}:handle", query.key()))?;
        println!(
            "| {} | {by_hand:.0} | {through_handle:.0} | {:+.1} % |",
            query.title(),
            (through_handle / by_hand - 1.0) * 100.0
        );
    }
    Ok(())
}
