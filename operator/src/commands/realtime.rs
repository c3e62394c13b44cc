//! `fox realtime prune --older-than DURATION`: delete changes of the change log that committed
//! longer ago than DURATION (never one a durable subscriber has not acknowledged);
//! `fox realtime subscribers`: list durable subscribers, or forget one with `--remove NAME`.

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

/// What `fox realtime` does.
#[derive(Debug, Subcommand)]
pub enum RealtimeCommand {
    /// Delete changes of the change log (`_fox_changes`) that committed longer ago than
    /// DURATION. A subscriber resuming from a pruned position continues with the oldest change
    /// kept.
    Prune {
        /// Age of the changes to delete: a number with a unit, `s`, `m`, `h` or `d` (`7d`,
        /// `36h`, `90m`).
        #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
        older_than: Duration,
        /// Database URL.
        #[arg(long, env = "FOX_DATABASE_URL", hide_env_values = true)]
        database: String,
    },
    /// List durable subscribers (name and acknowledged position), which pruning waits for; or
    /// forget one that stopped for good with `--remove NAME`.
    #[command(
        after_help = "Exit status: 0 on success, 1 when --remove names no durable \
        subscriber, or on an error."
    )]
    Subscribers {
        /// Forget this durable subscriber: pruning no longer keeps changes for it.
        #[arg(long, value_name = "NAME")]
        remove: Option<String>,
        /// Database URL.
        #[arg(long, env = "FOX_DATABASE_URL", hide_env_values = true)]
        database: String,
    },
}

/// Parses `90s`, `15m`, `36h`, `7d`.
///
/// # Errors
/// A message saying what is accepted.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{text:?} is not a duration: write a whole number with a unit s, m, h or d (such as 7d or 36h)"
            ));
        }
    };
    let number: u64 = number.parse().map_err(|_| {
        format!("{text:?} is not a duration: it needs a whole number before the unit (such as 7d)")
    })?;
    number
        .checked_mul(seconds_per_unit)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long"))
}

/// Runs a `fox realtime` command.
///
/// # Errors
/// An unreachable database or a failed delete.
pub async fn run(command: RealtimeCommand) -> anyhow::Result<ExitCode> {
    match command {
        RealtimeCommand::Prune {
            older_than,
            database,
        } => {
            let url = foxdb::DatabaseUrl::parse(&database)?;
            let db = foxdb::Database::connect(url.expose()).await?;
            let before = chrono::Utc::now()
                - chrono::Duration::from_std(older_than)
                    .map_err(|_| anyhow::anyhow!("--older-than is too long"))?;
            let deleted = foxdb::realtime::prune(&db, before).await?;
            db.close().await;
            println!(
                "{} {}: {deleted} change(s) committed before {} deleted from the change log",
                url.backend(),
                url.location(),
                before.format("%Y-%m-%dT%H:%M:%SZ")
            );
            Ok(ExitCode::SUCCESS)
        }
        RealtimeCommand::Subscribers { remove, database } => {
            let url = foxdb::DatabaseUrl::parse(&database)?;
            let db = foxdb::Database::connect(url.expose()).await?;
            let outcome = match remove {
                Some(name) => foxdb::realtime::remove_durable_subscriber(&db, &name)
                    .await
                    .map(|removed| {
                        if removed {
                            println!("durable subscriber {name:?} removed");
                            ExitCode::SUCCESS
                        } else {
                            eprintln!("no durable subscriber named {name:?}");
                            ExitCode::FAILURE
                        }
                    }),
                None => foxdb::realtime::durable_subscribers(&db)
                    .await
                    .map(|subscribers| {
                        if subscribers.is_empty() {
                            println!("no durable subscribers");
                        }
                        for subscriber in subscribers {
                            println!(
                                "{}\tacknowledged {}",
                                subscriber.name, subscriber.acknowledged
                            );
                        }
                        ExitCode::SUCCESS
                    }),
            };
            db.close().await;
            Ok(outcome?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_a_number_and_a_unit() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert!(parse_duration("7").is_err());
        assert!(parse_duration("d").is_err());
        assert!(parse_duration("1w").is_err());
    }
}
