//! MariaDB replication with GTIDs: a position is a GTID position (`domain-server-sequence`,
//! one per replication domain: `0-1-42,1-2-7`), the primary's is `@@GLOBAL.gtid_binlog_pos`, a
//! replica's `@@GLOBAL.gtid_slave_pos`; lag is `Seconds_Behind_Master`, and the distance between
//! two positions is the number of transactions between them. Replica status is `SHOW SLAVE
//! STATUS`, which every MariaDB version answers. Waiting for a position is
//! `MASTER_GTID_WAIT(position, seconds)` on the replica, skipped when its replication threads
//! are not both running (status `Slave_running`): the read then goes to the primary at once.

use std::collections::HashMap;
use std::time::Duration;

use super::replica_status::{self, StatusColumns};
use super::{BoxFuture, PrimaryProbe, ReplicaProbe, Replication, first_text};
use crate::connection::Value;
use crate::database::Database;
use crate::error::Result;

/// MariaDB's replication.
#[derive(Clone, Copy, Debug, Default)]
pub struct MariaDb;

impl Replication for MariaDb {
    fn name(&self) -> &'static str {
        "mariadb"
    }

    fn primary_position<'a>(
        &'a self,
        primary: &'a Database,
    ) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let rows = primary
                .fetch_all_direct("SELECT @@GLOBAL.gtid_binlog_pos AS position", &[])
                .await?;
            first_text(&rows, "position")
        })
    }

    fn probe<'a>(&'a self, replica: &'a Database) -> BoxFuture<'a, Result<ReplicaProbe>> {
        Box::pin(async move {
            let mut probe = replica_status::probe_replica(replica, &StatusColumns::SLAVE).await?;
            if probe.replicating {
                probe.applied = first_text(
                    &replica
                        .fetch_all_direct("SELECT @@GLOBAL.gtid_slave_pos AS position", &[])
                        .await?,
                    "position",
                )?;
            }
            Ok(probe)
        })
    }

    fn probe_primary<'a>(&'a self, primary: &'a Database) -> BoxFuture<'a, Result<PrimaryProbe>> {
        Box::pin(replica_status::probe_writable(
            primary,
            &StatusColumns::SLAVE,
        ))
    }

    fn wait_for<'a>(
        &'a self,
        replica: &'a Database,
        position: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<bool>> {
        Box::pin(async move {
            // A replica whose replication threads are stopped will not get there: answered at
            // once (-2) rather than after the whole wait.
            let rows = replica
                .fetch_all_direct(
                    "SELECT IF((SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS \
                     WHERE VARIABLE_NAME = 'SLAVE_RUNNING') = 'ON', MASTER_GTID_WAIT(?, ?), -2) \
                     AS waited",
                    &[
                        Value::Text(position.to_string()),
                        Value::Float(timeout.as_secs_f64()),
                    ],
                )
                .await?;
            // 0: reached; -1: timed out.
            Ok(match rows.first() {
                Some(row) => row.get::<Option<i64>>("waited")? == Some(0),
                None => false,
            })
        })
    }

    fn covers(&self, applied: &str, wanted: &str) -> Option<bool> {
        let applied = parse_position(applied)?;
        let wanted = parse_position(wanted)?;
        Some(
            wanted
                .iter()
                .all(|(domain, sequence)| applied.get(domain).is_some_and(|a| a >= sequence)),
        )
    }

    fn distance(&self, primary: &str, applied: &str) -> Option<u64> {
        let primary = parse_position(primary)?;
        let applied = parse_position(applied)?;
        Some(
            primary
                .iter()
                .map(|(domain, sequence)| {
                    sequence.saturating_sub(applied.get(domain).copied().unwrap_or(0))
                })
                .sum(),
        )
    }
}

/// A GTID position as the highest sequence number per replication domain (empty: nothing yet).
pub fn parse_position(text: &str) -> Option<HashMap<u32, u64>> {
    let mut domains = HashMap::new();
    for gtid in text.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let mut parts = gtid.split('-');
        let domain: u32 = parts.next()?.parse().ok()?;
        let _server: u32 = parts.next()?.parse().ok()?;
        let sequence: u64 = parts.next()?.parse().ok()?;
        if parts.next().is_some() {
            return None;
        }
        let highest = domains.entry(domain).or_insert(0);
        *highest = (*highest).max(sequence);
    }
    Some(domains)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gtid_positions_compare_per_domain() {
        assert_eq!(MariaDb.covers("0-1-42,1-2-7", "0-1-40"), Some(true));
        assert_eq!(MariaDb.covers("0-1-42", "0-1-40,1-2-1"), Some(false));
        assert_eq!(MariaDb.covers("", ""), Some(true));
        assert_eq!(MariaDb.covers("0-1-9", "0-1-10"), Some(false));
        assert_eq!(MariaDb.distance("0-1-50,1-2-3", "0-1-42"), Some(11));
        assert_eq!(MariaDb.covers("garbage", "0-1-1"), None);
    }
}
