//! PostgreSQL streaming replication: positions are WAL LSNs (`16/B374D848`), lag is the age of
//! the last replayed transaction while WAL waits to be replayed, and a replica has applied a
//! position once `pg_last_wal_replay_lsn()` reaches it. PostgreSQL has no server-side wait for
//! an LSN, so [`Replication::wait_for`] polls (a few milliseconds apart), and gives up at once
//! when replay is paused (`pg_wal_replay_pause()`): the read then goes to the primary.

use std::time::{Duration, Instant};

use super::{BoxFuture, PrimaryProbe, ReplicaProbe, Replication, first_text};
use crate::connection::Value;
use crate::database::Database;
use crate::error::Result;

/// PostgreSQL's replication.
#[derive(Clone, Copy, Debug, Default)]
pub struct Postgres;

/// One round trip: recovery state, WAL receiver, lag and replay position together.
const PROBE: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
     (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status, \
     EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS receiver_running, \
     pg_last_wal_replay_lsn()::text AS applied, \
     CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0::float8 \
     ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()))::float8 \
     END AS lag_seconds";

/// Whether the replica has replayed `$1`, and whether replay is paused (so waiting is futile).
const REACHED: &str = "SELECT COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, false) AS reached, \
     pg_is_wal_replay_paused() AS paused";

impl Replication for Postgres {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn primary_position<'a>(
        &'a self,
        primary: &'a Database,
    ) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            // The insert position covers every record written, commit records included, even
            // with `synchronous_commit = off`.
            let rows = primary
                .fetch_all_direct("SELECT pg_current_wal_insert_lsn()::text AS position", &[])
                .await?;
            first_text(&rows, "position")
        })
    }

    fn probe<'a>(&'a self, replica: &'a Database) -> BoxFuture<'a, Result<ReplicaProbe>> {
        Box::pin(async move {
            let rows = replica.fetch_all_direct(PROBE, &[]).await?;
            let Some(row) = rows.first() else {
                return Ok(ReplicaProbe {
                    problem: Some("the health query returned no row".into()),
                    ..ReplicaProbe::default()
                });
            };
            if !row.get::<bool>("in_recovery")? {
                return Ok(ReplicaProbe::not_replicating(
                    false,
                    "the server is a primary (not in recovery); it does not replicate",
                ));
            }
            if !row.get::<bool>("receiver_running")? {
                return Ok(ReplicaProbe::not_replicating(
                    true,
                    "replication is not running: the replica has no WAL receiver \
                     (it cannot reach its primary, or its primary_conninfo is missing)",
                ));
            }
            // NULL unless the role may read WAL receiver details (pg_read_all_stats).
            if let Some(status) = row
                .get::<Option<String>>("receiver_status")?
                .filter(|s| s != "streaming")
            {
                return Ok(ReplicaProbe::not_replicating(
                    true,
                    format!(
                        "replication is not running: the WAL receiver is {status}, not streaming"
                    ),
                ));
            }
            Ok(ReplicaProbe {
                replicating: true,
                is_replica: Some(true),
                lag_seconds: row.get("lag_seconds")?,
                applied: row.get("applied")?,
                problem: None,
            })
        })
    }

    fn probe_primary<'a>(&'a self, primary: &'a Database) -> BoxFuture<'a, Result<PrimaryProbe>> {
        Box::pin(async move {
            let rows = primary
                .fetch_all_direct("SELECT pg_is_in_recovery() AS in_recovery", &[])
                .await?;
            let in_recovery = match rows.first() {
                Some(row) => row.get::<bool>("in_recovery")?,
                None => false,
            };
            Ok(PrimaryProbe {
                writable: !in_recovery,
                is_replica: Some(in_recovery),
                problem: in_recovery.then(|| {
                    "the server is a read-only replica (in recovery); \
                     writes routed there would fail"
                        .to_string()
                }),
            })
        })
    }

    fn wait_for<'a>(
        &'a self,
        replica: &'a Database,
        position: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            let started = Instant::now();
            let values = [Value::Text(position.to_string())];
            for attempt in 0.. {
                let rows = replica.fetch_all_direct(REACHED, &values).await?;
                let Some(row) = rows.first() else {
                    return Ok(false);
                };
                if row.get::<bool>("reached")? {
                    return Ok(true);
                }
                if row.get::<bool>("paused")? || started.elapsed() >= timeout {
                    return Ok(false);
                }
                tokio::time::sleep(
                    poll_pause(attempt).min(timeout.saturating_sub(started.elapsed())),
                )
                .await;
            }
            Ok(false)
        })
    }

    fn covers(&self, applied: &str, wanted: &str) -> Option<bool> {
        Some(parse_lsn(applied)? >= parse_lsn(wanted)?)
    }

    fn distance(&self, primary: &str, applied: &str) -> Option<u64> {
        Some(parse_lsn(primary)?.saturating_sub(parse_lsn(applied)?))
    }
}

/// How long to sleep between polls while waiting for a position (engines without a server-side
/// wait): short at first, never more than 20 ms.
fn poll_pause(attempt: u32) -> Duration {
    Duration::from_millis(u64::from(attempt.min(10) * 2).max(1))
}

/// An LSN as PostgreSQL prints it (`16/B374D848`: high and low 32 bits in hex) as a number.
pub fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.trim().split_once('/')?;
    let high = u64::from_str_radix(high, 16).ok()?;
    let low = u64::from_str_radix(low, 16).ok()?;
    (high <= u64::from(u32::MAX) && low <= u64::from(u32::MAX)).then_some((high << 32) | low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsns_compare_as_numbers_not_as_text() {
        assert_eq!(parse_lsn("16/B374D848"), Some(0x16_B374_D848));
        assert_eq!(Postgres.covers("A/0", "9/FFFFFFFF"), Some(true));
        assert_eq!(Postgres.covers("9/FFFFFFFF", "A/0"), Some(false));
        assert_eq!(Postgres.distance("1/10", "1/0"), Some(16));
        assert_eq!(Postgres.distance("1/0", "1/10"), Some(0));
        assert_eq!(parse_lsn("nonsense"), None);
        assert_eq!(Postgres.covers("", "1/0"), None);
    }
}
