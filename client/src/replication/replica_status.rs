//! What MySQL and MariaDB servers say about their replication, read the same way for both:
//! `read_only` tells whether a primary takes writes, the replica status statement (`SHOW REPLICA
//! STATUS` or `SHOW SLAVE STATUS`, with the column names of the server's version) tells whether
//! the replication threads run and how far behind they are.
//!
//! A stopped IO or SQL thread, or a NULL lag (the server's own "unknown"), is a replica that
//! does not replicate, with the replication error the server reports (its URLs redacted).

use super::{PrimaryProbe, ReplicaProbe};
use crate::database::Database;
use crate::error::Result;
use crate::row::Row;

/// How a server shows replica status, and what it calls the columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusColumns {
    /// The statement that shows the replica status (one row, or none on a server that does
    /// not replicate).
    pub statement: &'static str,
    /// The IO thread's state column (`Yes` while it runs).
    pub io_running: &'static str,
    /// The SQL thread's state column (`Yes` while it runs).
    pub sql_running: &'static str,
    /// The lag column, in seconds (NULL when the server does not know).
    pub seconds_behind: &'static str,
}

impl StatusColumns {
    /// `SHOW SLAVE STATUS` with its `Slave_*` / `*_Master` columns: every MariaDB and MySQL
    /// before 8.0.22. (MariaDB 10.5.1 and later also answer `SHOW REPLICA STATUS`, with the
    /// same columns.)
    pub const SLAVE: Self = Self {
        statement: "SHOW SLAVE STATUS",
        io_running: "Slave_IO_Running",
        sql_running: "Slave_SQL_Running",
        seconds_behind: "Seconds_Behind_Master",
    };

    /// `SHOW REPLICA STATUS` with its `Replica_*` / `*_Source` columns: MySQL 8.0.22 and later.
    pub const REPLICA: Self = Self {
        statement: "SHOW REPLICA STATUS",
        io_running: "Replica_IO_Running",
        sql_running: "Replica_SQL_Running",
        seconds_behind: "Seconds_Behind_Source",
    };

    /// The columns of a MySQL server of `version` (`SELECT VERSION()`).
    pub fn of_mysql(version: &str) -> Self {
        let numbers: Vec<u32> = version
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        if numbers.as_slice() >= [8, 0, 22].as_slice() {
            Self::REPLICA
        } else {
            Self::SLAVE
        }
    }
}

/// Whether a server meant as the primary takes writes: `read_only` off. A read-only server is
/// asked whether it replicates, so the probe says what it is.
pub(crate) async fn probe_writable(
    server: &Database,
    columns: &StatusColumns,
) -> Result<PrimaryProbe> {
    let rows = server
        .fetch_all_direct(
            "SELECT CAST(@@global.read_only AS SIGNED) AS read_only",
            &[],
        )
        .await?;
    let read_only = match rows.first() {
        Some(row) => row.get::<i64>("read_only")? != 0,
        None => false,
    };
    if !read_only {
        return Ok(PrimaryProbe {
            writable: true,
            is_replica: None,
            problem: None,
        });
    }
    let replicates = !server
        .fetch_all_direct(columns.statement, &[])
        .await?
        .is_empty();
    Ok(PrimaryProbe {
        writable: false,
        is_replica: Some(replicates),
        problem: Some(if replicates {
            "the server is read-only (read_only=ON), a replica; writes routed there would fail"
                .into()
        } else {
            "the server is read-only (read_only=ON); writes routed there would fail".into()
        }),
    })
}

/// Reads a replica's threads and lag (`applied` is left to the engine).
pub(crate) async fn probe_replica(
    replica: &Database,
    columns: &StatusColumns,
) -> Result<ReplicaProbe> {
    let rows = replica.fetch_all_direct(columns.statement, &[]).await?;
    let Some(status) = rows.first() else {
        return Ok(ReplicaProbe::not_replicating(
            false,
            format!(
                "the server does not replicate ({} is empty)",
                columns.statement
            ),
        ));
    };
    let mut problems = Vec::new();
    for (thread, running, error) in [
        ("IO", columns.io_running, "Last_IO_Error"),
        ("SQL", columns.sql_running, "Last_SQL_Error"),
    ] {
        let state: Option<String> = status.get(running)?;
        if state.as_deref() != Some("Yes") {
            let error: Option<String> = status.get(error).unwrap_or(None);
            problems.push(thread_problem(thread, state.as_deref(), error));
        }
    }
    if !problems.is_empty() {
        return Ok(ReplicaProbe::not_replicating(
            true,
            format!("replication is not running: {}", problems.join("; ")),
        ));
    }
    Ok(match seconds_behind(status, columns.seconds_behind) {
        SecondsBehind::Exactly(seconds) => ReplicaProbe {
            replicating: true,
            is_replica: Some(true),
            lag_seconds: Some(seconds),
            applied: None,
            problem: None,
        },
        SecondsBehind::Unreadable(error) => ReplicaProbe::not_replicating(
            true,
            format!(
                "replication lag unreadable: {} is not a number ({error})",
                columns.seconds_behind
            ),
        ),
        SecondsBehind::Unknown => ReplicaProbe::not_replicating(
            true,
            format!(
                "replication lag unknown: the server reports {} as NULL",
                columns.seconds_behind
            ),
        ),
    })
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

/// Reads the lag column: MySQL and MariaDB type it `BIGINT UNSIGNED`.
fn seconds_behind(status: &Row, column: &str) -> SecondsBehind {
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
        Some(error) => format!(
            "{thread} thread {state}: {}",
            crate::url::redact_urls_in(error.trim())
        ),
        None => format!("{thread} thread {state}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql_replica_status_is_read_the_way_each_version_shows_it() {
        assert_eq!(StatusColumns::of_mysql("8.0.36"), StatusColumns::REPLICA);
        assert_eq!(
            StatusColumns::of_mysql("8.4.0-commercial"),
            StatusColumns::REPLICA
        );
        assert_eq!(StatusColumns::of_mysql("8.0.21"), StatusColumns::SLAVE);
        assert_eq!(StatusColumns::of_mysql("5.7.44-log"), StatusColumns::SLAVE);
        assert_eq!(
            StatusColumns::of_mysql("8.0.36").seconds_behind,
            "Seconds_Behind_Source"
        );
        assert_eq!(StatusColumns::SLAVE.seconds_behind, "Seconds_Behind_Master");
    }

    #[test]
    fn a_stopped_thread_is_reported_with_the_servers_error_without_passwords() {
        assert_eq!(
            thread_problem(
                "IO",
                Some("Connecting"),
                Some("error connecting to 'mysql://repl:Hunter2@db:3306/x' - retry".into())
            ),
            "IO thread connecting: error connecting to 'mysql://repl:***@db:3306/x' - retry"
        );
        assert_eq!(
            thread_problem("SQL", Some("No"), Some(" ".into())),
            "SQL thread stopped"
        );
    }
}
