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

/// The primary's position: its executed GTID set, or NULL (no position) with `gtid_mode` off.
const PRIMARY_POSITION: &str =
    "SELECT IF(@@GLOBAL.gtid_mode = 'ON', @@GLOBAL.gtid_executed, NULL) AS position";

/// Waits on a replica until its executed GTID set contains the first argument, for at most
/// the second (seconds, fractional): 0 when it got there, 1 when the time ran out.
const WAIT_FOR_POSITION: &str = "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited";

/// The arguments of [`WAIT_FOR_POSITION`].
fn wait_arguments(position: &str, timeout: Duration) -> [Value; 2] {
    [
        Value::Text(position.to_string()),
        Value::Float(timeout.as_secs_f64()),
    ]
}

/// Whether [`WAIT_FOR_POSITION`]'s answer says the replica got there: only 0 does (1 is a
/// timeout; NULL an argument the server refused).
fn reached(waited: Option<i64>) -> bool {
    waited == Some(0)
}

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
            let rows = primary.fetch_all_direct(PRIMARY_POSITION, &[]).await?;
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
                .fetch_all_direct(WAIT_FOR_POSITION, &wait_arguments(position, timeout))
                .await?;
            Ok(match rows.first() {
                Some(row) => reached(row.get::<Option<i64>>("waited")?),
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

#[cfg(test)]
mod tests {
    //! No MySQL 8 server runs in the test environment (Debian 12 packages MariaDB only; see
    //! docs/replicas.md): these pin what foxdb sends a MySQL server and how it reads the
    //! answers; the statements themselves are checked against a server by no test.
    use super::*;
    use crate::replication::replica_status::StatusColumns;

    #[test]
    fn the_primary_position_is_the_executed_gtid_set_only_with_gtid_mode_on() {
        assert_eq!(
            PRIMARY_POSITION,
            "SELECT IF(@@GLOBAL.gtid_mode = 'ON', @@GLOBAL.gtid_executed, NULL) AS position"
        );
    }

    #[test]
    fn a_session_waits_with_wait_for_executed_gtid_set_for_its_set_and_fractional_seconds() {
        assert_eq!(
            WAIT_FOR_POSITION,
            "SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited"
        );
        // As `@@GLOBAL.gtid_executed` gives it: a newline after each comma.
        let set =
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-42,\n8a94f357-aab4-11df-86ab-c80aa9429562:1-7";
        let [position, seconds] = wait_arguments(set, Duration::from_millis(1500));
        assert!(matches!(position, Value::Text(text) if text == set));
        assert!(matches!(seconds, Value::Float(s) if (s - 1.5).abs() < f64::EPSILON));
        // Two `?` for two arguments: MySQL's placeholders.
        assert_eq!(WAIT_FOR_POSITION.matches('?').count(), 2);
    }

    #[test]
    fn only_zero_means_the_replica_reached_the_set() {
        assert!(reached(Some(0)));
        assert!(!reached(Some(1)), "1: timed out");
        assert!(!reached(None), "NULL: the server refused the arguments");
    }

    #[test]
    fn gtid_sets_are_compared_by_the_server_only() {
        let mysql = MySql::of_version("8.0.36");
        assert_eq!(mysql.name(), "mysql");
        assert_eq!(mysql.covers("uuid:1-42", "uuid:1-7"), None);
        assert_eq!(mysql.distance("uuid:1-42", "uuid:1-7"), None);
    }

    #[test]
    fn the_replica_status_statement_follows_the_servers_version() {
        assert_eq!(MySql::of_version("8.0.36").status, StatusColumns::REPLICA);
        assert_eq!(MySql::of_version("8.4.3").status, StatusColumns::REPLICA);
        assert_eq!(MySql::of_version("8.0.21").status, StatusColumns::SLAVE);
    }
}
