//! Health checks of FoxReplicaSet members: does the server answer, is it what its role says
//! (a primary takes writes, a replica replicates), and how far behind its primary a replica is.
//!
//! One probe is one or two cheap queries on the member's pool, bounded by a timeout. What each
//! engine reports:
//!
//! - **PostgreSQL**: `pg_is_in_recovery()` tells a standby from a primary. A standby's lag is 0
//!   when it has replayed all the WAL it received (`pg_last_wal_receive_lsn() <=
//!   pg_last_wal_replay_lsn()`: a restarted WAL receiver counts from the start of a segment, so
//!   replay can be ahead), else `now() - pg_last_xact_replay_timestamp()`.
//!   That is the usual measure and overstates the lag of a standby that was idle and has just
//!   received new WAL, for the moment until it replays it. A standby without a streaming WAL
//!   receiver (`pg_stat_wal_receiver`) does not replicate and is unhealthy.
//! - **MySQL / MariaDB**: `read_only` tells whether writes would work on a primary;
//!   `SHOW REPLICA STATUS` (`SHOW SLAVE STATUS` on servers older than MySQL 8.0.22 or
//!   MariaDB 10.5.1) gives a replica's threads and `Seconds_Behind_Source` / `_Master`. A stopped
//!   IO or SQL thread, or a NULL lag (the server's own "unknown"), makes the replica unhealthy,
//!   with the replication error the server reports. Both servers type the lag column as an
//!   unsigned BIGINT, which `foxdb` rows cannot decode into a number yet: until they can, the
//!   probe tells a replica that is caught up (lag 0) from one that is behind (lag `None`, with
//!   a message), and the latter is within no lag limit.
//! - **SQLite**: `SELECT 1`; a SQLite file has no replicas (FoxReplicaSet validation refuses
//!   them) and no lag.
//!
//! Messages never hold credentials: they come from `foxdb` errors, which redact them, and
//! anything else a server says passes through [`foxdb::url::redact`].
//!
//! # Expected flow
//! The caller keeps one pool per member ([`foxdb::Database::connect_with`]); every health
//! interval it calls [`probe_member`] with the member's declared role, and routes reads to the
//! members for which [`MemberProbe::lag_within`] the FoxReplicaSet's lag limit. A member whose
//! pool cannot even be created is reported with [`MemberProbe::unreachable`].

use std::time::Duration;

use fox_crds::replica_set::MemberRole;
use foxdb::{Backend, Database, Row};

/// What one health check of a member found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberProbe {
    /// Whether the member can serve its declared role now.
    pub healthy: bool,
    /// Observed: the server is a replica (PostgreSQL: in recovery; MySQL/MariaDB: replication
    /// is configured). `None` when the probe did not get that far, and for MySQL/MariaDB
    /// primaries, where only `read_only` is checked.
    pub in_recovery: Option<bool>,
    /// Seconds a replica is behind its primary; `None` for primaries and when unknown.
    pub lag_seconds: Option<f64>,
    /// Why the member is unhealthy, or what else is worth knowing; never credentials.
    pub message: Option<String>,
}

impl MemberProbe {
    /// The probe of a member whose pool could not be created ([`Database::connect_with`]
    /// failed): unhealthy, with the error's message.
    pub fn unreachable(error: &foxdb::Error) -> Self {
        Self::unhealthy(error_message(error))
    }

    /// Whether the member may take reads under a lag limit: it is healthy and, if it is a
    /// replica, its lag is known and at most `max_lag_seconds`.
    pub fn lag_within(&self, max_lag_seconds: u32) -> bool {
        self.healthy
            && match self.lag_seconds {
                Some(lag) => lag <= f64::from(max_lag_seconds),
                None => self.in_recovery != Some(true),
            }
    }

    fn unhealthy(message: impl Into<String>) -> Self {
        Self {
            message: Some(message.into()),
            ..Self::default()
        }
    }

    fn observed_unhealthy(in_recovery: bool, message: impl Into<String>) -> Self {
        Self {
            in_recovery: Some(in_recovery),
            ..Self::unhealthy(message)
        }
    }
}

/// Checks one member: it answers within `timeout`, is what `role` says, and (replicas) how far
/// behind it is. Never fails: whatever goes wrong is an unhealthy probe with a message.
///
/// # Guarantees
/// Returns within `timeout` (plus scheduling); the message holds no credentials.
pub async fn probe_member(database: &Database, role: MemberRole, timeout: Duration) -> MemberProbe {
    match tokio::time::timeout(timeout, probe(database, role)).await {
        Ok(Ok(probe)) => probe,
        Ok(Err(error)) => MemberProbe::unreachable(&error),
        Err(_) => MemberProbe::unhealthy(format!("no answer within {} s", timeout.as_secs_f64())),
    }
}

async fn probe(database: &Database, role: MemberRole) -> foxdb::Result<MemberProbe> {
    match database.backend() {
        Backend::Postgres => probe_postgres(database, role).await,
        Backend::MySql => probe_mysql(database, role).await,
        Backend::Sqlite => probe_sqlite(database, role).await,
    }
}

/// One round trip: recovery state, WAL receiver and lag together.
const POSTGRES_PROBE: &str = "SELECT pg_is_in_recovery() AS in_recovery, \
     EXISTS (SELECT 1 FROM pg_stat_wal_receiver) AS receiver_running, \
     (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status, \
     CASE WHEN pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0::float8 \
     ELSE GREATEST(0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()))::float8 \
     END AS lag_seconds";

async fn probe_postgres(database: &Database, role: MemberRole) -> foxdb::Result<MemberProbe> {
    let rows = database.fetch_all(POSTGRES_PROBE, &[]).await?;
    let row = first_row(&rows)?;
    let in_recovery: bool = row.get("in_recovery")?;
    match (role, in_recovery) {
        (MemberRole::Primary, false) => Ok(MemberProbe {
            healthy: true,
            in_recovery: Some(false),
            ..MemberProbe::default()
        }),
        (MemberRole::Primary, true) => Ok(MemberProbe::observed_unhealthy(
            true,
            "declared primary but the server is a read-only replica (in recovery); \
             writes routed there would fail",
        )),
        (MemberRole::Replica, false) => Ok(MemberProbe::observed_unhealthy(
            false,
            "declared replica but the server is a primary (not in recovery); \
             it does not replicate from the FoxReplicaSet's primary",
        )),
        (MemberRole::Replica, true) => {
            let receiver_running: bool = row.get("receiver_running")?;
            // NULL unless the role may read WAL receiver details (pg_read_all_stats).
            let receiver_status: Option<String> = row.get("receiver_status")?;
            if !receiver_running {
                return Ok(MemberProbe::observed_unhealthy(
                    true,
                    "replication is not running: the replica has no WAL receiver \
                     (it cannot reach its primary, or its primary_conninfo is missing)",
                ));
            }
            if let Some(status) = receiver_status.filter(|s| s != "streaming") {
                return Ok(MemberProbe::observed_unhealthy(
                    true,
                    format!(
                        "replication is not running: the WAL receiver is {status}, not streaming"
                    ),
                ));
            }
            let lag_seconds: Option<f64> = row.get("lag_seconds")?;
            Ok(MemberProbe {
                healthy: true,
                in_recovery: Some(true),
                lag_seconds,
                message: lag_seconds.is_none().then(|| {
                    "lag unknown: the replica has not replayed a transaction since it started"
                        .to_string()
                }),
            })
        }
    }
}

async fn probe_mysql(database: &Database, role: MemberRole) -> foxdb::Result<MemberProbe> {
    let rows = database
        .fetch_all(
            "SELECT CAST(@@global.read_only AS SIGNED) AS read_only, VERSION() AS version",
            &[],
        )
        .await?;
    let row = first_row(&rows)?;
    let read_only: i64 = row.get("read_only")?;
    let version: String = row.get("version")?;
    if role == MemberRole::Primary {
        return Ok(if read_only != 0 {
            MemberProbe::unhealthy(
                "declared primary but the server is read-only (read_only=ON); \
                 writes routed there would fail",
            )
        } else {
            MemberProbe {
                healthy: true,
                ..MemberProbe::default()
            }
        });
    }

    let dialect = ReplicaStatus::of(&version);
    let rows = database.fetch_all(dialect.statement, &[]).await?;
    let Some(status) = rows.first() else {
        return Ok(MemberProbe::observed_unhealthy(
            false,
            format!(
                "declared replica but the server does not replicate ({} is empty)",
                dialect.statement
            ),
        ));
    };
    let mut problems = Vec::new();
    for (thread, running, error) in [
        ("IO", dialect.io_running, "Last_IO_Error"),
        ("SQL", dialect.sql_running, "Last_SQL_Error"),
    ] {
        let state: Option<String> = status.get(running)?;
        if state.as_deref() != Some("Yes") {
            problems.push(thread_problem(thread, state.as_deref(), status.get(error)?));
        }
    }
    if !problems.is_empty() {
        return Ok(MemberProbe::observed_unhealthy(
            true,
            format!("replication is not running: {}", problems.join("; ")),
        ));
    }
    Ok(match seconds_behind(status, dialect.seconds_behind) {
        SecondsBehind::Exactly(seconds) => MemberProbe {
            healthy: true,
            in_recovery: Some(true),
            lag_seconds: Some(seconds),
            message: None,
        },
        SecondsBehind::Unreadable(error) => MemberProbe::observed_unhealthy(
            true,
            format!(
                "replication lag unreadable: {} is not a number ({error})",
                dialect.seconds_behind
            ),
        ),
        SecondsBehind::Unknown => MemberProbe::observed_unhealthy(
            true,
            format!(
                "replication lag unknown: the server reports {} as NULL",
                dialect.seconds_behind
            ),
        ),
    })
}

/// How a server shows replica status, and what it calls the columns.
#[derive(Debug)]
struct ReplicaStatus {
    statement: &'static str,
    io_running: &'static str,
    sql_running: &'static str,
    seconds_behind: &'static str,
}

impl ReplicaStatus {
    /// `SHOW REPLICA STATUS` exists from MySQL 8.0.22 (with `Replica_*`/`*_Source` columns)
    /// and MariaDB 10.5.1 (with the old column names); older servers have `SHOW SLAVE STATUS`.
    fn of(version: &str) -> Self {
        let numbers: Vec<u32> = version
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        let at_least = |minimum: [u32; 3]| numbers.as_slice() >= minimum.as_slice();
        let old_names = Self {
            statement: "SHOW SLAVE STATUS",
            io_running: "Slave_IO_Running",
            sql_running: "Slave_SQL_Running",
            seconds_behind: "Seconds_Behind_Master",
        };
        if version.contains("MariaDB") {
            if at_least([10, 5, 1]) {
                Self {
                    statement: "SHOW REPLICA STATUS",
                    ..old_names
                }
            } else {
                old_names
            }
        } else if at_least([8, 0, 22]) {
            Self {
                statement: "SHOW REPLICA STATUS",
                io_running: "Replica_IO_Running",
                sql_running: "Replica_SQL_Running",
                seconds_behind: "Seconds_Behind_Source",
            }
        } else {
            old_names
        }
    }
}

/// What the server says about a replica's lag.
#[derive(Debug, PartialEq)]
enum SecondsBehind {
    Exactly(f64),
    /// A value that is not a number (an unknown server version's column type).
    Unreadable(String),
    /// NULL: the server does not know (a thread is not running, or it just started).
    Unknown,
}

/// Reads the lag column (an unsigned BIGINT on MySQL and MariaDB).
fn seconds_behind(status: &Row, column: &str) -> SecondsBehind {
    // MySQL and MariaDB report `BIGINT UNSIGNED`.
    let seconds = status
        .get::<Option<u64>>(column)
        .map(|s| s.map(|s| s as f64))
        .or_else(|_| {
            status
                .get::<Option<i64>>(column)
                .map(|s| s.map(|s| s as f64))
        })
        .or_else(|_| status.get::<Option<f64>>(column));
    match seconds {
        Ok(Some(seconds)) => SecondsBehind::Exactly(seconds),
        Ok(None) => SecondsBehind::Unknown,
        Err(error) => SecondsBehind::Unreadable(error.to_string()),
    }
}

fn thread_problem(thread: &str, state: Option<&str>, error: Option<String>) -> String {
    let state = match state {
        Some("No") | None => "stopped".to_string(),
        Some(other) => other.to_lowercase(),
    };
    match error.filter(|e| !e.trim().is_empty()) {
        Some(error) => format!("{thread} thread {state}: {}", redact_urls(error.trim())),
        None => format!("{thread} thread {state}"),
    }
}

async fn probe_sqlite(database: &Database, role: MemberRole) -> foxdb::Result<MemberProbe> {
    if role == MemberRole::Replica {
        return Ok(MemberProbe::observed_unhealthy(
            false,
            "declared replica but sqlite has no replicas (a FoxReplicaSet on sqlite has only a primary)",
        ));
    }
    database.fetch_all("SELECT 1", &[]).await?;
    Ok(MemberProbe {
        healthy: true,
        in_recovery: Some(false),
        ..MemberProbe::default()
    })
}

fn first_row(rows: &[Row]) -> foxdb::Result<&Row> {
    // A SELECT without FROM returns one row; anything else is a server we do not understand.
    rows.first().ok_or_else(|| foxdb::Error::NotFound {
        table: "the result of the health query".into(),
    })
}

/// A `foxdb` error as one line; its `Display` already hides credentials.
fn error_message(error: &foxdb::Error) -> String {
    // The statement is the probe's own, always the same: noise in a member's status.
    let text = match error.server_message() {
        Some((backend, message)) => format!("{backend} error: {message}"),
        None => error.to_string(),
    };
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    redact_urls(&lines.join("; "))
}

/// Hides the password of every URL in a message a server wrote (replication errors may quote
/// a connection string).
fn redact_urls(message: &str) -> String {
    message
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains("://") {
                foxdb::url::redact(word)
            } else {
                word.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_status_is_read_the_way_each_server_shows_it() {
        let statement = |version| ReplicaStatus::of(version).statement;
        assert_eq!(
            statement("10.11.19-MariaDB-0+deb12u1-log"),
            "SHOW REPLICA STATUS"
        );
        assert_eq!(statement("10.5.1-MariaDB"), "SHOW REPLICA STATUS");
        assert_eq!(statement("10.4.32-MariaDB"), "SHOW SLAVE STATUS");
        assert_eq!(statement("8.0.36"), "SHOW REPLICA STATUS");
        assert_eq!(statement("8.4.0-commercial"), "SHOW REPLICA STATUS");
        assert_eq!(statement("8.0.21"), "SHOW SLAVE STATUS");
        assert_eq!(statement("5.7.44-log"), "SHOW SLAVE STATUS");
        assert_eq!(
            ReplicaStatus::of("10.11.6-MariaDB").seconds_behind,
            "Seconds_Behind_Master"
        );
        assert_eq!(
            ReplicaStatus::of("8.0.36").seconds_behind,
            "Seconds_Behind_Source"
        );
    }

    #[test]
    fn urls_in_server_messages_lose_their_password() {
        assert_eq!(
            redact_urls("error connecting to 'mysql://repl:Hunter2@db:3306/x' - retry"),
            "error connecting to 'mysql://repl:***@db:3306/x' - retry"
        );
        assert_eq!(redact_urls("no url here"), "no url here");
    }

    #[test]
    fn unknown_lag_of_a_replica_is_never_within_the_limit() {
        let replica = |lag| MemberProbe {
            healthy: true,
            in_recovery: Some(true),
            lag_seconds: lag,
            message: None,
        };
        assert!(replica(Some(3.0)).lag_within(10));
        assert!(!replica(Some(10.5)).lag_within(10));
        assert!(!replica(None).lag_within(10));
        let primary = MemberProbe {
            healthy: true,
            ..MemberProbe::default()
        };
        assert!(primary.lag_within(0));
        assert!(!MemberProbe::unhealthy("down").lag_within(10));
    }

    #[test]
    fn error_messages_are_one_line() {
        let error = foxdb::Error::Connect {
            backend: Backend::Postgres,
            reason: foxdb::ConnectFailure::Refused,
            location: "db:5432".into(),
            message: "connection refused".into(),
            hint: "check that the server runs".into(),
        };
        assert_eq!(
            error_message(&error),
            "cannot connect to postgresql at db:5432: connection refused; hint: check that the server runs"
        );
    }
}
