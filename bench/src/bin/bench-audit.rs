//! `make bench` (third part): the write cost of audit logging. On each engine, the same
//! single-row write transaction (insert, then update of one column, through `foxdb` with an
//! actor) against a table without audit, one with `audit.enabled`, and on PostgreSQL and
//! MySQL/MariaDB one with `compression` and `hashChain` too; reported as the median time per
//! transaction and its ratio to the unaudited table.
//!
//! The tables are created by the schema engine (`fox apply`'s code) in a database of their
//! own. Workloads run in alternating rounds — warm-up, then timed transactions — and each
//! reports the median of its rounds' medians, so load that comes and goes falls on all alike.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use fox_bench::timing::{median, show_latency};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::{ApplyOptions, apply_schema};
use foxdb::{Database, DatabaseUrl};

#[derive(Debug, Parser)]
#[command(about = "Write cost of an audited table against the same table unaudited")]
struct Args {
    /// Timed transactions per workload and round.
    #[arg(long, default_value_t = 200)]
    runs: usize,
    /// Untimed transactions first.
    #[arg(long, default_value_t = 30)]
    warmup: usize,
    /// Rounds; the median of their medians is reported.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

/// The tables: name and audit block.
fn variants(engine: Backend) -> Vec<(&'static str, &'static str)> {
    let mut variants = vec![
        ("plain_items", "{enabled: false}"),
        ("audited_items", "{enabled: true, excludeFields: [secret]}"),
    ];
    if engine != Backend::Sqlite {
        variants.push((
            "chained_items",
            "{enabled: true, excludeFields: [secret], compression: true, hashChain: true}",
        ));
    }
    variants
}

fn manifest(engine: Backend) -> String {
    let mut yaml = String::from(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {name: bench}\nspec:\n  databaseRef: {name: db}\n  tables:\n",
    );
    for (table, audit) in variants(engine) {
        yaml.push_str(&format!(
            "    - name: {table}\n      audit: {audit}\n      columns:\n        - {{name: id, type: bigint, primaryKey: true}}\n        - {{name: owner, type: varchar(100)}}\n        - {{name: balance, type: bigint}}\n        - {{name: note, type: text}}\n        - {{name: secret, type: text, nullable: true}}\n"
        ));
    }
    yaml
}

async fn one_write(db: &Database, table: &str, id: i64) -> Result<()> {
    db.transaction(async |tx| {
        tx.execute(
            &format!(
                "INSERT INTO {table} (id, owner, balance, note, secret) VALUES ({id}, 'owner {id}', {id}, 'a note of some length for row {id}', 's')"
            ),
            &[],
        )
        .await?;
        tx.execute(
            &format!("UPDATE {table} SET balance = balance + 1 WHERE id = {id}"),
            &[],
        )
        .await
    })
    .await
    .with_context(|| format!("write to {table}"))?;
    Ok(())
}

async fn run_engine(engine: Backend, args: &Args) -> Result<()> {
    let database = TestDatabase::create(engine).await;
    let url = DatabaseUrl::parse(database.url())?;
    let mut set = fox_crds::manifest::ManifestSet::default();
    fox_crds::manifest::parse_manifests("bench.yaml".as_ref(), &manifest(engine), &mut set);
    anyhow::ensure!(set.problems.is_empty(), "{:?}", set.problems);
    let spec = set.schemas().next().context("a FoxSchema")?.1.spec.clone();
    let options = ApplyOptions {
        schema_name: "bench".into(),
        owner_uid: None,
        replaces: None,
        allow_destructive: false,
        require_approval: false,
        approve: None,
        approval_scope: None,
        dry_run: false,
        lock_timeout: Duration::from_secs(30),
    };
    apply_schema(&url, &spec, &options, &mut |_| {}).await?;
    let db = Database::connect(database.url())
        .await?
        .with_actor("bench-writer");
    if engine == Backend::Sqlite {
        db.execute("PRAGMA journal_mode = WAL", &[]).await?;
    }
    let tables = variants(engine);
    let mut medians: Vec<Vec<Duration>> = vec![Vec::new(); tables.len()];
    let mut next_id = 0i64;
    for _ in 0..args.rounds {
        for (index, (table, _)) in tables.iter().enumerate() {
            for _ in 0..args.warmup {
                next_id += 1;
                one_write(&db, table, next_id).await?;
            }
            let mut samples = Vec::with_capacity(args.runs);
            for _ in 0..args.runs {
                next_id += 1;
                let started = Instant::now();
                one_write(&db, table, next_id).await?;
                samples.push(started.elapsed());
            }
            medians[index].push(median(samples));
        }
    }
    let base = median(medians[0].clone());
    for (index, (table, audit)) in tables.iter().enumerate() {
        let time = median(medians[index].clone());
        println!(
            "{:<10} {table:<14} {:>10} per transaction  {:>5.2}x  audit {audit}",
            engine.to_string(),
            show_latency(time),
            time.as_secs_f64() / base.as_secs_f64()
        );
    }
    db.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    println!(
        "audit write cost: one transaction = insert + update of one row; median of {} rounds of {} transactions",
        args.rounds, args.runs
    );
    for engine in Backend::ALL {
        run_engine(engine, &args)
            .await
            .with_context(|| format!("{engine}"))?;
    }
    Ok(())
}
