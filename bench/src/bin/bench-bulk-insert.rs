//! `make bench-bulk-insert`: `insert_many` of many rows on PostgreSQL, foxdb's `COPY` path
//! against the multi-row `INSERT` it wrote before (the same statement `insert_statement`
//! renders, run through the same pool) and raw sqlx doing either on a bare connection.
//!
//! Without `--variant` this is the driver: it creates a database with a `users` table, then
//! 1. wall clock: `--rounds` rounds, each running every variant once in a rotated order
//!    (interleaved, so load on the machine hits all of them alike) on a truncated table, after
//!    two warm-up runs each; the median per variant is printed;
//! 2. instructions: each variant in its own process under `valgrind --tool=callgrind`, once
//!    with one counted insert and once with three (after one warm-up insert each); the
//!    difference over two is the client's instructions per insert (start-up, connecting and
//!    preparing cancel).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use fox_e2e::TestDatabase;
use foxdb::Database;
use sqlx::Connection;

/// One way of inserting the rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Variant {
    /// `Database::insert_many`: one `COPY ... FROM STDIN` from 1,000 rows on.
    FoxdbCopy,
    /// What `insert_many` ran before: the multi-row `INSERT` of `foxdb::query::insert_statement`
    /// (batched under the 65,535-parameter limit) through `Database::execute`.
    FoxdbInsert,
    /// Raw sqlx on a bare connection: one multi-row `INSERT` with bound values.
    SqlxInsert,
    /// Raw sqlx on a bare connection: `COPY ... FROM STDIN` with hand-written text rows.
    SqlxCopy,
}

impl Variant {
    const ALL: [Variant; 4] = [
        Self::FoxdbCopy,
        Self::FoxdbInsert,
        Self::SqlxInsert,
        Self::SqlxCopy,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::FoxdbCopy => "foxdb-copy",
            Self::FoxdbInsert => "foxdb-insert",
            Self::SqlxInsert => "sqlx-insert",
            Self::SqlxCopy => "sqlx-copy",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Self::FoxdbCopy => "foxdb insert_many (COPY)",
            Self::FoxdbInsert => "foxdb multi-row INSERT (before)",
            Self::SqlxInsert => "raw sqlx multi-row INSERT",
            Self::SqlxCopy => "raw sqlx COPY",
        }
    }
}

#[derive(Debug, Parser)]
#[command(about = "insert_many of many rows on PostgreSQL: COPY against multi-row INSERT")]
struct Args {
    /// Run only this variant (what the driver starts under callgrind).
    #[arg(long, value_enum, requires = "url")]
    variant: Option<Variant>,
    /// The prepared database of `--variant`.
    #[arg(long)]
    url: Option<String>,
    /// Counted inserts of `--variant` (after one warm-up insert).
    #[arg(long, default_value_t = 1)]
    times: u32,
    /// Rows per insert.
    #[arg(long, default_value_t = 10_000)]
    rows: usize,
    /// Interleaved wall-clock rounds of the driver.
    #[arg(long, default_value_t = 7)]
    rounds: usize,
    /// Skip the callgrind counts.
    #[arg(long)]
    no_instructions: bool,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "users")]
struct User {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

fn users(rows: usize) -> Vec<User> {
    (0..rows)
        .map(|i| User {
            id: 0,
            name: format!("new user {i}\t(tab)"),
            hair_color: (i % 3 != 0).then(|| ["black", "brown", "red"][i % 3].to_string()),
        })
        .collect()
}

/// A client of one variant, connected.
enum Client {
    Foxdb(Database),
    Sqlx(sqlx::PgConnection),
}

impl Client {
    async fn connect(variant: Variant, url: &str) -> Result<Self> {
        Ok(match variant {
            Variant::FoxdbCopy | Variant::FoxdbInsert => Self::Foxdb(Database::connect(url).await?),
            Variant::SqlxInsert | Variant::SqlxCopy => {
                Self::Sqlx(sqlx::PgConnection::connect(url).await?)
            }
        })
    }

    /// Inserts `rows` the variant's way; returns the rows inserted.
    async fn insert(&mut self, variant: Variant, rows: &[User]) -> Result<u64> {
        match (self, variant) {
            (Self::Foxdb(db), Variant::FoxdbCopy) => Ok(db.insert_many(rows).await?),
            (Self::Foxdb(db), Variant::FoxdbInsert) => {
                // insert_many before COPY: batches under the parameter limit, each one
                // `insert_statement` run through the pool.
                let mut inserted = 0;
                for chunk in rows.chunks(65_535 / 2) {
                    let refs: Vec<&User> = chunk.iter().collect();
                    let (sql, values) = foxdb::query::insert_statement(db.backend(), &refs);
                    inserted += db.execute(&sql, &values).await?;
                }
                Ok(inserted)
            }
            (Self::Sqlx(connection), Variant::SqlxInsert) => {
                let mut inserted = 0;
                for chunk in rows.chunks(65_535 / 2) {
                    let mut builder = sqlx::QueryBuilder::<sqlx::Postgres>::new(
                        "INSERT INTO users (name, hair_color) ",
                    );
                    builder.push_values(chunk, |mut row, user| {
                        row.push_bind(&user.name).push_bind(&user.hair_color);
                    });
                    inserted += builder
                        .build()
                        .execute(&mut *connection)
                        .await?
                        .rows_affected();
                }
                Ok(inserted)
            }
            (Self::Sqlx(connection), Variant::SqlxCopy) => {
                let mut data = String::with_capacity(rows.len() * 32);
                for user in rows {
                    push_copy_text(&mut data, &user.name);
                    data.push('\t');
                    match &user.hair_color {
                        Some(color) => push_copy_text(&mut data, color),
                        None => data.push_str("\\N"),
                    }
                    data.push('\n');
                }
                let mut copy = connection
                    .copy_in_raw("COPY users (name, hair_color) FROM STDIN")
                    .await?;
                copy.send(data.as_bytes()).await?;
                Ok(copy.finish().await?)
            }
            (_, variant) => bail!("{} runs on another client", variant.title()),
        }
    }
}

fn push_copy_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

async fn run_variant(variant: Variant, url: &str, rows: usize, times: u32) -> Result<()> {
    let rows = users(rows);
    let mut client = Client::connect(variant, url).await?;
    for _ in 0..=times {
        let inserted = client.insert(variant, &rows).await?;
        ensure!(inserted == rows.len() as u64, "inserted {inserted} rows");
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let (Some(variant), Some(url)) = (args.variant, &args.url) {
        return run_variant(variant, url, args.rows, args.times).await;
    }
    let database = TestDatabase::create(foxdb::Backend::Postgres).await;
    let url = fox_bench::driver::plain_transport(database.url(), foxdb::Backend::Postgres);
    let setup = Database::connect(&url).await?;
    setup
        .execute(
            "CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, hair_color text)",
            &[],
        )
        .await?;

    println!(
        "insert_many of {} rows on PostgreSQL (name text, hair_color text, one in three NULL)\n",
        args.rows
    );
    let medians = wall_clock(&url, &setup, args.rows, args.rounds).await?;
    let instructions = if args.no_instructions {
        None
    } else {
        Some(count_instructions(&url, &setup, args.rows).await?)
    };
    println!("| variant | median wall clock | instructions per insert |");
    println!("|---|---:|---:|");
    for (i, variant) in Variant::ALL.into_iter().enumerate() {
        let counted = instructions
            .as_ref()
            .map_or("–".to_string(), |counts| format_count(counts[i]));
        println!(
            "| {} | {:.2} ms | {counted} |",
            variant.title(),
            medians[i].as_secs_f64() * 1000.0
        );
    }
    setup.close().await;
    Ok(())
}

/// Median wall clock per variant over `rounds` interleaved rounds (each round starts at
/// another variant), on a table truncated before every insert.
async fn wall_clock(
    url: &str,
    setup: &Database,
    rows: usize,
    rounds: usize,
) -> Result<Vec<Duration>> {
    let data = users(rows);
    let mut clients = Vec::new();
    for variant in Variant::ALL {
        let mut client = Client::connect(variant, url).await?;
        for _ in 0..2 {
            setup.execute("TRUNCATE users", &[]).await?;
            client.insert(variant, &data).await?;
        }
        clients.push(client);
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); Variant::ALL.len()];
    for round in 0..rounds {
        for step in 0..Variant::ALL.len() {
            let i = (round + step) % Variant::ALL.len();
            setup.execute("TRUNCATE users", &[]).await?;
            let started = Instant::now();
            let inserted = clients[i].insert(Variant::ALL[i], &data).await?;
            samples[i].push(started.elapsed());
            ensure!(inserted == rows as u64, "inserted {inserted} rows");
        }
    }
    Ok(samples
        .into_iter()
        .map(|mut runs| {
            runs.sort();
            runs[runs.len() / 2]
        })
        .collect())
}

/// Client instructions per insert of each variant: callgrind totals of 3 and 1 counted
/// inserts, difference over two.
async fn count_instructions(url: &str, setup: &Database, rows: usize) -> Result<Vec<f64>> {
    let executable = std::env::current_exe().context("finding bench-bulk-insert")?;
    let mut counts = Vec::new();
    for variant in Variant::ALL {
        let mut totals = Vec::new();
        for times in [1, 3] {
            setup.execute("TRUNCATE users", &[]).await?;
            let output = Command::new("valgrind")
                .args(["--tool=callgrind", "--callgrind-out-file=/dev/null"])
                .arg(&executable)
                .args(["--variant", variant.name(), "--url", url])
                .args(["--rows", &rows.to_string(), "--times", &times.to_string()])
                .stdin(Stdio::null())
                .output()
                .context("starting valgrind (is it installed? `apt-get install valgrind`)")?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            ensure!(
                output.status.success(),
                "{} failed under callgrind:\n{stderr}",
                variant.title()
            );
            totals.push(collected(&stderr).with_context(|| {
                format!(
                    "no `Collected` total from callgrind for {}",
                    variant.title()
                )
            })?);
        }
        counts.push((totals[1] as f64 - totals[0] as f64) / 2.0);
    }
    Ok(counts)
}

/// The `Collected : N` total callgrind prints when the process ends.
fn collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        let (_, count) = line.split_once("Collected :")?;
        count.trim().replace(',', "").parse().ok()
    })
}

fn format_count(count: f64) -> String {
    if count >= 1e6 {
        format!("{:.2} M", count / 1e6)
    } else {
        format!("{:.1} k", count / 1e3)
    }
}
