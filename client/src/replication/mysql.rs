//! MySQL 8 replication with GTIDs: a position is a GTID set (`uuid:1-42,uuid:1-7`), the
//! primary's is `@@GLOBAL.gtid_executed`, and a replica waits for one with
//! `WAIT_FOR_EXECUTED_GTID_SET(set, seconds)`. Lag is `Seconds_Behind_Source` from
//! `SHOW REPLICA STATUS` (`Seconds_Behind_Master` from `SHOW SLAVE STATUS` before 8.0.22). GTID sets are compared by the server only: [`Replication::covers`]
//! and [`Replication::distance`] answer `None`, so lag is limited by time alone. A primary
//! with `gtid_mode` off keeps no position: a session that wrote reads from the primary.

use std::time::Duration;

use super::replica_status::{self, StatusColumns};
use super::{BoxFuture, PrimaryProbe, ReplicaProbe, Replication, first_text};
use crate::connection::Value;
use crate::database::Database;
use crate::error::Result;

/// MySQL's replication, with the replica status of the server's version.
#[derive(Clone, Copy, Debug)]
pub struct MySql {
    status: StatusColumns,
}

/// MySQL 8.0.22 and later: `SHOW REPLICA STATUS`.
static CURRENT: MySql = MySql {
    status: StatusColumns::REPLICA,
};
/// Older MySQL: `SHOW SLAVE STATUS`.
static BEFORE_8_0_22: MySql = MySql {
    status: StatusColumns::SLAVE,
};

impl MySql {
    /// The replication of a MySQL server of `version` (`SELECT VERSION()`).
    pub fn of_version(version: &str) -> &'static Self {
        if StatusColumns::of_mysql(version) == StatusColumns::REPLICA {
            &CURRENT
        } else {
            &BEFORE_8_0_22
        }
    }
}

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
        Box::pin(replica_status::probe_replica(replica, &self.status))
    }

    fn probe_primary<'a>(&'a self, primary: &'a Database) -> BoxFuture<'a, Result<PrimaryProbe>> {
        Box::pin(replica_status::probe_writable(primary, &self.status))
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
