//! MySQL 8 replication with GTIDs: a position is a GTID set (`uuid:1-42,uuid:1-7`), the
//! primary's is `@@GLOBAL.gtid_executed`, and a replica waits for one with
//! `WAIT_FOR_EXECUTED_GTID_SET(set, seconds)`. Lag is `Seconds_Behind_Source` from
//! `SHOW REPLICA STATUS`. GTID sets are compared by the server only: [`Replication::covers`]
//! and [`Replication::distance`] answer `None`, so lag is limited by time alone. A primary
//! with `gtid_mode` off keeps no position: a session that wrote reads from the primary.

use std::time::Duration;

use super::{BoxFuture, ReplicaProbe, Replication, first_text};
use crate::connection::Value;
use crate::database::Database;
use crate::error::Result;

/// MySQL's replication (8.0.22 and later: `SHOW REPLICA STATUS`).
#[derive(Clone, Copy, Debug, Default)]
pub struct MySql;

impl Replication for MySql {
    fn name(&self) -> &'static str {
        "mysql"
    }

    fn primary_position<'a>(
        &'a self,
        primary: &'a Database,
    ) -> BoxFuture<'a, Result<Option<String>>> {
        Box::pin(async move {
            let rows = primary
                .fetch_all_direct(
                    "SELECT IF(@@GLOBAL.gtid_mode = 'ON', @@GLOBAL.gtid_executed, NULL) AS position",
                    &[],
                )
                .await?;
            first_text(&rows, "position")
        })
    }

    fn probe<'a>(&'a self, replica: &'a Database) -> BoxFuture<'a, Result<ReplicaProbe>> {
        Box::pin(async move {
            let rows = replica.fetch_all_direct("SHOW REPLICA STATUS", &[]).await?;
            let Some(status) = rows.first() else {
                return Ok(ReplicaProbe {
                    problem: Some(
                        "the server does not replicate (SHOW REPLICA STATUS is empty)".into(),
                    ),
                    ..ReplicaProbe::default()
                });
            };
            for (thread, column) in [("IO", "Replica_IO_Running"), ("SQL", "Replica_SQL_Running")] {
                let state: Option<String> = status.get(column)?;
                if state.as_deref() != Some("Yes") {
                    return Ok(ReplicaProbe {
                        problem: Some(format!(
                            "replication is not running: the {thread} thread is {}",
                            state.as_deref().unwrap_or("stopped")
                        )),
                        ..ReplicaProbe::default()
                    });
                }
            }
            let lag = status
                .get::<Option<u64>>("Seconds_Behind_Source")
                .map(|s| s.map(|s| s as f64))
                .or_else(|_| {
                    status
                        .get::<Option<i64>>("Seconds_Behind_Source")
                        .map(|s| s.map(|s| s as f64))
                })?;
            Ok(ReplicaProbe {
                replicating: lag.is_some(),
                lag_seconds: lag,
                applied: None,
                problem: lag
                    .is_none()
                    .then(|| "replication lag unknown (Seconds_Behind_Source is NULL)".to_string()),
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
            let rows = replica
                .fetch_all_direct(
                    "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited",
                    &[
                        Value::Text(position.to_string()),
                        Value::Float(timeout.as_secs_f64()),
                    ],
                )
                .await?;
            // 0: reached; 1: timed out.
            Ok(match rows.first() {
                Some(row) => row.get::<Option<i64>>("waited")? == Some(0),
                None => false,
            })
        })
    }

    fn covers(&self, _applied: &str, _wanted: &str) -> Option<bool> {
        None
    }

    fn distance(&self, _primary: &str, _applied: &str) -> Option<u64> {
        None
    }
}
