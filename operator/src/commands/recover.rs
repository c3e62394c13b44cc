//! `fox recover --database URL [--database URL ...] --log URL`: ends the distributed
//! transaction branches left prepared on the databases as the coordinator log decided
//! (committed where it says commit, rolled back otherwise), so none keeps holding locks.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

/// Arguments of `fox recover`.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// A participant database (PostgreSQL or MySQL/MariaDB); repeat for each.
    #[arg(long = "database", value_name = "URL", required = true, num_args = 1)]
    pub databases: Vec<String>,
    /// The database holding the coordinator log.
    #[arg(
        long,
        value_name = "URL",
        env = "FOX_COORDINATOR_LOG_URL",
        hide_env_values = true
    )]
    pub log: String,
    /// Leave branches of transactions younger than this (their coordinator may still be
    /// deciding): a number with a unit `s`, `m`, `h` or `d`. `0s` ends everything, for when every
    /// coordinator is stopped.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = crate::commands::realtime::parse_duration)]
    pub min_age: Duration,
}

/// Runs `fox recover`: prints one line per branch ended and a summary.
///
/// # Errors
/// An invalid or unreachable database, a participant that cannot prepare (SQLite), or a branch
/// that cannot be ended; branches ended before the error stay ended.
pub async fn run(args: RecoverArgs) -> anyhow::Result<ExitCode> {
    let log_url = foxdb::DatabaseUrl::parse(&args.log)?;
    let log = foxdb::Database::connect(log_url.expose()).await?;
    let mut participants = Vec::with_capacity(args.databases.len());
    let mut names = Vec::with_capacity(args.databases.len());
    for database in &args.databases {
        let url = foxdb::DatabaseUrl::parse(database)?;
        names.push(format!("{} {}", url.backend(), url.location()));
        participants.push(foxdb::Database::connect(url.expose()).await?);
    }
    let borrowed: Vec<&foxdb::Database> = participants.iter().collect();
    let options = foxdb::distributed::RecoveryOptions {
        min_age: args.min_age,
        ..foxdb::distributed::RecoveryOptions::default()
    };
    let report = foxdb::distributed::recover(&log, &borrowed, &options).await?;
    for branch in &report.committed {
        println!("committed   {branch}");
    }
    for branch in &report.rolled_back {
        println!("rolled back {branch}");
    }
    println!(
        "{} branch(es) committed, {} rolled back, {} younger than {}s left, {} of coordinators logging elsewhere left, on {}",
        report.committed.len(),
        report.rolled_back.len(),
        report.too_young.len(),
        args.min_age.as_secs(),
        report.other_logs,
        names.join(", ")
    );
    for database in participants {
        database.close().await;
    }
    log.close().await;
    Ok(ExitCode::SUCCESS)
}
