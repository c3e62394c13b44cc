//! How each engine's servers replicate, as far as read routing needs it: a replica's lag and
//! applied position, the primary's write position, and waiting on a replica for a position
//! (read-your-writes).
//!
//! One [`Replication`] implementation per engine — [`postgres`] (WAL LSNs), [`mariadb`]
//! (MariaDB GTIDs, `MASTER_GTID_WAIT`), [`mysql`] (MySQL 8 GTID sets,
//! `WAIT_FOR_EXECUTED_GTID_SET`) — chosen once per database by [`for_server`]. The router in
//! [`crate::router`] is written once over this trait, and so is the operator's health check of
//! FoxReplicaSet members, which also asks a primary whether it takes writes
//! ([`Replication::probe_primary`]). MongoDB, a document store, answers the same
//! [`PrimaryProbe`] / [`ReplicaProbe`] from `replSetGetStatus` ([`mongodb`]).

#[cfg(feature = "mysql")]
pub mod mariadb;
#[cfg(feature = "mongodb")]
pub mod mongodb;
#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "mysql")]
pub mod replica_status;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::Backend;
use crate::database::Database;
use crate::error::{Error, Result};

/// A boxed future, so [`Replication`] stays object safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What one health check learned about a replica.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplicaProbe {
    /// The server replicates and answers; `false` with [`ReplicaProbe::problem`] saying why.
    pub replicating: bool,
    /// Observed: the server is a replica (PostgreSQL: in recovery; MySQL/MariaDB: replication
    /// is configured), whether or not it replicates now. `None` when the check did not get
    /// that far.
    pub is_replica: Option<bool>,
    /// Seconds behind the primary, when the engine knows.
    pub lag_seconds: Option<f64>,
    /// The position it has applied (an LSN, a GTID position or set), when the engine tells.
    pub applied: Option<String>,
    /// Why the replica cannot take reads, when it cannot.
    pub problem: Option<String>,
}

impl ReplicaProbe {
    /// A server that answered but does not replicate now, and why.
    pub fn not_replicating(is_replica: bool, problem: impl Into<String>) -> Self {
        Self {
            is_replica: Some(is_replica),
            problem: Some(problem.into()),
            ..Self::default()
        }
    }
}

/// What one health check learned about a server meant to be the primary.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrimaryProbe {
    /// Writes sent there would succeed.
    pub writable: bool,
    /// Observed: the server is a replica (PostgreSQL: in recovery; MySQL/MariaDB: replication
    /// is configured). `None` where the check needs no more than "it takes writes" (a
    /// writable MySQL/MariaDB server is not asked about replication).
    pub is_replica: Option<bool>,
    /// Why writes would fail, when they would.
    pub problem: Option<String>,
}

/// One engine's replication, for the router. Positions are the engine's own text (an LSN
/// `16/B374D848`, a MariaDB GTID position `0-1-42`, a MySQL GTID set).
pub trait Replication: Send + Sync + std::fmt::Debug {
    /// Name in messages and metrics (`postgresql`, `mariadb`, `mysql`).
    fn name(&self) -> &'static str;

    /// The primary's current write position: a transaction that committed before this call is
    /// at or before it. `None` when the server keeps no such position (MySQL with GTIDs off):
    /// a session that wrote then reads from the primary.
    fn primary_position<'a>(
        &'a self,
        primary: &'a Database,
    ) -> BoxFuture<'a, Result<Option<String>>>;

    /// Checks a replica: is it replicating, how far behind, what has it applied.
    fn probe<'a>(&'a self, replica: &'a Database) -> BoxFuture<'a, Result<ReplicaProbe>>;

    /// Checks a server meant to be the primary: would writes sent there succeed (PostgreSQL:
    /// not in recovery; MySQL/MariaDB: `read_only` off).
    fn probe_primary<'a>(&'a self, primary: &'a Database) -> BoxFuture<'a, Result<PrimaryProbe>>;

    /// Waits up to `timeout` until `replica` has applied `position`; `Ok(false)` when it has not
    /// by then (or will not: PostgreSQL with replay paused answers at once).
    fn wait_for<'a>(
        &'a self,
        replica: &'a Database,
        position: &'a str,
        timeout: Duration,
    ) -> BoxFuture<'a, Result<bool>>;

    /// Whether `applied` includes `wanted`; `None` when it cannot tell without asking the server.
    fn covers(&self, applied: &str, wanted: &str) -> Option<bool>;

    /// How far `applied` is behind `primary`: bytes of WAL on PostgreSQL, transactions on
    /// MariaDB; `None` where the engine does not tell.
    fn distance(&self, primary: &str, applied: &str) -> Option<u64>;
}

/// The replication of the server behind `primary` (a connected database): reads its version
/// once (MariaDB and MySQL share a backend but not their GTIDs, and MySQL renamed its replica
/// status in 8.0.22).
///
/// # Errors
/// [`Error::Unsupported`] for SQLite (a file has no replicas); database errors.
pub async fn for_server(primary: &Database) -> Result<&'static dyn Replication> {
    let backend = primary.backend();
    match backend {
        #[cfg(feature = "postgres")]
        Backend::Postgres => Ok(&postgres::Postgres),
        #[cfg(feature = "mysql")]
        Backend::MySql => {
            let rows = primary
                .fetch_all_direct("SELECT VERSION() AS version", &[])
                .await?;
            let version: String = match rows.first() {
                Some(row) => row.get("version")?,
                None => String::new(),
            };
            Ok(of_mysql_family(&version))
        }
        Backend::Sqlite => Err(Error::Unsupported {
            backend,
            feature: "replicas (a SQLite database is one file)".into(),
        }),
        #[cfg(not(all(feature = "postgres", feature = "mysql")))]
        compiled_out => Err(compiled_out.not_enabled()),
    }
}

/// The replication of a server of the MySQL family whose `SELECT VERSION()` is `version`:
/// MariaDB says so in its version (`10.11.6-MariaDB-0+deb12u1`), MySQL does not (`8.0.36`).
#[cfg(feature = "mysql")]
fn of_mysql_family(version: &str) -> &'static dyn Replication {
    if version.contains("MariaDB") {
        &mariadb::MariaDb
    } else {
        mysql::MySql::of_version(version)
    }
}

/// The first row's text column `name`, or `None` for no row or NULL.
#[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
pub(crate) fn first_text(rows: &[crate::Row], name: &str) -> Result<Option<String>> {
    match rows.first() {
        Some(row) => row.get::<Option<String>>(name),
        None => Ok(None),
    }
}

#[cfg(all(test, feature = "mysql"))]
mod tests {
    use super::*;

    #[test]
    fn mariadb_and_mysql_are_told_apart_by_their_version() {
        assert_eq!(
            of_mysql_family("10.11.6-MariaDB-0+deb12u1").name(),
            "mariadb"
        );
        assert_eq!(of_mysql_family("11.4.2-MariaDB-log").name(), "mariadb");
        assert_eq!(of_mysql_family("8.0.36").name(), "mysql");
        assert_eq!(of_mysql_family("8.4.3-commercial").name(), "mysql");
    }
}
