//! `fox audit verify` and `fox audit prune`: check the hash chains of the audit log, and delete
//! audit records older than each table's `retentionDays`.
//!
//! Exit codes: 0 when every chain is intact (or the prune ran), 2 when `verify` found an
//! edited, deleted or reordered record, 1 on any other error.

use std::process::ExitCode;

use clap::Subcommand;

/// What `fox audit` does.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain of every hash-chained audited table (or of the tables named) and
    /// name each edited, deleted or reordered record. Exits 2 when one is found.
    #[command(
        after_help = "Exit status: 0 when every chain is intact, 2 when a record was \
        edited, deleted or reordered, 1 on an error."
    )]
    Verify {
        /// Only these tables (repeatable).
        #[arg(long = "table", value_name = "TABLE")]
        tables: Vec<String>,
        /// Database URL.
        #[arg(long, env = "FOX_DATABASE_URL", hide_env_values = true)]
        database: String,
    },
    /// Delete the audit records of every audited table that are older than its
    /// `retentionDays`.
    Prune {
        /// Database URL.
        #[arg(long, env = "FOX_DATABASE_URL", hide_env_values = true)]
        database: String,
    },
}

/// Runs a `fox audit` command.
///
/// # Errors
/// An unreachable database, a table without a hash chain, a failed query.
pub async fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Verify { tables, database } => {
            let url = foxdb::DatabaseUrl::parse(&database)?;
            let mut connection =
                foxdb::Connection::connect(&url, &foxdb::ConnectOptions::default()).await?;
            let audited = foxdb::audit::audited_tables(&mut connection).await?;
            connection.close().await;
            let tables = if tables.is_empty() {
                let chained: Vec<String> = audited
                    .into_iter()
                    .filter(|a| a.settings.hash_chain)
                    .map(|a| a.table)
                    .collect();
                if chained.is_empty() {
                    anyhow::bail!(
                        "{} {}: no audited table has a hash chain (set audit.hashChain: true and run fox apply)",
                        url.backend(),
                        url.location()
                    );
                }
                chained
            } else {
                tables
            };
            let db = foxdb::Database::connect(url.expose()).await?;
            let mut tampered = false;
            for table in &tables {
                let report = foxdb::audit::verify(&db, table).await;
                let report = match report {
                    Ok(report) => report,
                    Err(error) => {
                        db.close().await;
                        return Err(error.into());
                    }
                };
                if report.problems.is_empty() {
                    println!(
                        "{table}: {} record(s), chain intact, head {}",
                        report.records,
                        if report.head.is_empty() {
                            "(empty)"
                        } else {
                            &report.head
                        }
                    );
                } else {
                    tampered = true;
                    println!(
                        "{table}: {} record(s), {} problem(s):",
                        report.records,
                        report.problems.len()
                    );
                    for problem in &report.problems {
                        println!("  {problem}");
                    }
                }
            }
            db.close().await;
            Ok(if tampered {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            })
        }
        AuditCommand::Prune { database } => {
            let url = foxdb::DatabaseUrl::parse(&database)?;
            let mut connection =
                foxdb::Connection::connect(&url, &foxdb::ConnectOptions::default()).await?;
            let db = foxdb::Database::connect(url.expose()).await?;
            let pruned =
                foxdb::audit::prune_expired(&db, &mut connection, chrono::Utc::now()).await;
            connection.close().await;
            db.close().await;
            let pruned = pruned?;
            if pruned.is_empty() {
                println!("{} {}: no audited table", url.backend(), url.location());
            }
            for (table, deleted) in pruned {
                println!("{table}: {deleted} expired audit record(s) deleted");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
