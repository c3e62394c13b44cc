//! Health checks of FoxReplicaSet members: does the server answer, is it what its role says
//! (a primary takes writes, a replica replicates), and how far behind its primary a replica is.
//!
//! The checks themselves are the client's ([`foxdb::replication`]), the same the client's read
//! router runs: [`Replication::probe_primary`] for a member declared primary,
//! [`Replication::probe`] for a replica. This module bounds them by a timeout and turns their
//! answer into a member's health. What each engine reports:
//!
//! - **PostgreSQL**: `pg_is_in_recovery()` tells a standby from a primary. A standby's lag is 0
//!   when it has replayed all the WAL it received, else `now() - pg_last_xact_replay_timestamp()`;
//!   a standby without a streaming WAL receiver does not replicate and is unhealthy.
//! - **MySQL / MariaDB**: `read_only` tells whether writes would work on a primary (a read-only
//!   one is unhealthy but answered, with whether it replicates); the replica status statement
//!   gives a replica's threads and lag. A stopped IO or SQL thread, or a NULL lag (the server's
//!   own "unknown"), makes the replica unhealthy, with the replication error the server reports.
//! - **SQLite**: `SELECT 1`; a SQLite file has no replicas (FoxReplicaSet validation refuses
//!   them) and no lag.
//! - **MongoDB**: `replSetGetStatus` asked of the member itself
//!   ([`foxdb::replication::mongodb`]): the member marked `self` must be `PRIMARY` for a
//!   member declared primary, a reachable `SECONDARY` for a replica, whose lag is the
//!   primary's `optimeDate` minus its own. A server that is no replica set is a standalone:
//!   a healthy primary with [`MemberProbe::standalone`] set, and no replicas.
//!
//! Messages never hold credentials: they come from `foxdb` errors, which redact them, and
//! anything else a server says passes through [`foxdb::url::redact_urls_in`].
//!
//! # Expected flow
//! The caller keeps one pool per member ([`foxdb::Database::connect_with`]); every health
//! interval it calls [`probe_member`] with the member's declared role, and routes reads to the
//! members for which [`MemberProbe::lag_within`] the FoxReplicaSet's lag limit. A member whose
//! pool cannot even be created is reported with [`MemberProbe::unreachable`].

use std::time::Duration;

use fox_crds::replica_set::MemberRole;
use foxdb::Database;
use foxdb::document_store::{DocumentStore, DocumentStoreError};
use foxdb::replication::mongodb::{ServerTopology, primary_probe, replica_probe};
use foxdb::replication::{self, PrimaryProbe, ReplicaProbe, Replication};

use super::member_connection::{MemberConnection, one_line};

/// What one health check of a member found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberProbe {
    /// Whether the member can serve its declared role now.
    pub healthy: bool,
    /// The member's server answered the probe, healthy in its role or not: a read-only server
    /// declared primary answered, one that cannot be reached did not.
    pub answered: bool,
    /// Observed: the server is a replica (PostgreSQL: in recovery; MySQL/MariaDB: replication
    /// is configured). `None` when the probe did not get that far, and for writable
    /// MySQL/MariaDB primaries, where only `read_only` is checked.
    pub in_recovery: Option<bool>,
    /// Seconds a replica is behind its primary; `None` for primaries and when unknown.
    pub lag_seconds: Option<f64>,
    /// Why the member is unhealthy, or what else is worth knowing; never credentials.
    pub message: Option<String>,
    /// The server runs without replication (a MongoDB server started without `--replSet`):
    /// it can have no replicas, and there is no lag to measure.
    pub standalone: bool,
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

    /// A member declared primary, from what the client's primary check found.
    fn of_primary(probe: PrimaryProbe) -> Self {
        Self {
            healthy: probe.writable,
            answered: true,
            in_recovery: probe.is_replica,
            lag_seconds: None,
            message: probe
                .problem
                .map(|problem| format!("declared primary but {problem}")),
            standalone: false,
        }
    }

    /// A member declared replica, from what the client's replica check found.
    fn of_replica(probe: ReplicaProbe) -> Self {
        let healthy = probe.replicating && probe.problem.is_none();
        let message = match (probe.problem, probe.is_replica) {
            (Some(problem), Some(false)) => Some(format!("declared replica but {problem}")),
            (Some(problem), _) => Some(problem),
            (None, _) if healthy && probe.lag_seconds.is_none() => Some(
                "lag unknown: the replica has not replayed a transaction since it started".into(),
            ),
            (None, _) => None,
        };
        Self {
            healthy,
            answered: true,
            in_recovery: probe.is_replica,
            lag_seconds: probe.lag_seconds,
            message,
            standalone: false,
        }
    }

    /// A MongoDB member, from what `replSetGetStatus` says about the server that answered.
    fn of_document_store(topology: &ServerTopology, role: MemberRole) -> Self {
        let standalone = matches!(topology, ServerTopology::Standalone);
        let probe = match role {
            MemberRole::Primary => Self::of_primary(primary_probe(topology)),
            MemberRole::Replica => Self::of_replica(replica_probe(topology)),
        };
        Self {
            standalone,
            message: match (standalone, role) {
                (true, MemberRole::Primary) => Some(
                    "a standalone MongoDB server (no replica set): it has no replicas, and replication lag cannot be measured"
                        .into(),
                ),
                _ => probe.message.clone(),
            },
            ..probe
        }
    }
}

/// Checks one member: it answers within `timeout`, is what `role` says, and (replicas) how far
/// behind it is. Never fails: whatever goes wrong is an unhealthy probe with a message.
///
/// # Guarantees
/// Returns within `timeout` (plus scheduling); the message holds no credentials.
pub async fn probe_member(
    connection: &MemberConnection,
    role: MemberRole,
    timeout: Duration,
) -> MemberProbe {
    let probed = async {
        match connection {
            MemberConnection::Sql(database) => probe(database, role)
                .await
                .unwrap_or_else(|error| MemberProbe::unreachable(&error)),
            MemberConnection::Document(store) => probe_document_store(store, role).await,
        }
    };
    match tokio::time::timeout(timeout, probed).await {
        Ok(probe) => probe,
        Err(_) => MemberProbe::unhealthy(format!("no answer within {} s", timeout.as_secs_f64())),
    }
}

async fn probe_document_store(store: &DocumentStore, role: MemberRole) -> MemberProbe {
    match store.server_topology().await {
        Ok(topology) => MemberProbe::of_document_store(&topology, role),
        Err(error) => MemberProbe {
            // A server that refused (not initiated yet, not authorized) or answered oddly is
            // up; one that gave no answer (no server selected) is not.
            answered: error.code().is_some() || matches!(error, DocumentStoreError::Reply { .. }),
            ..MemberProbe::unhealthy(foxdb::url::redact_urls_in(&error.to_string()))
        },
    }
}

async fn probe(database: &Database, role: MemberRole) -> foxdb::Result<MemberProbe> {
    let replication: &dyn Replication = match replication::for_server(database).await {
        Ok(replication) => replication,
        // An engine without replicas (SQLite): a primary that answers is all there is.
        Err(foxdb::Error::Unsupported { backend, .. }) => {
            return Ok(match role {
                MemberRole::Primary => {
                    database.fetch_all("SELECT 1", &[]).await?;
                    MemberProbe {
                        healthy: true,
                        answered: true,
                        in_recovery: Some(false),
                        ..MemberProbe::default()
                    }
                }
                MemberRole::Replica => MemberProbe {
                    answered: true,
                    in_recovery: Some(false),
                    ..MemberProbe::unhealthy(format!(
                        "declared replica but {backend} has no replicas \
                         (a FoxReplicaSet on {backend} has only a primary)"
                    ))
                },
            });
        }
        Err(error) => return Err(error),
    };
    Ok(match role {
        MemberRole::Primary => MemberProbe::of_primary(replication.probe_primary(database).await?),
        MemberRole::Replica => MemberProbe::of_replica(replication.probe(database).await?),
    })
}

/// A `foxdb` error as one line; its `Display` already hides credentials.
fn error_message(error: &foxdb::Error) -> String {
    // The statement is the probe's own, always the same: noise in a member's status.
    let text = match error.server_message() {
        Some((backend, message)) => format!("{backend} error: {message}"),
        None => error.to_string(),
    };
    one_line(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use foxdb::Backend;

    #[test]
    fn unknown_lag_of_a_replica_is_never_within_the_limit() {
        let replica = |lag| MemberProbe {
            healthy: true,
            answered: true,
            in_recovery: Some(true),
            lag_seconds: lag,
            message: None,
            standalone: false,
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
    fn a_read_only_primary_answered_and_says_what_it_is() {
        let probe = MemberProbe::of_primary(PrimaryProbe {
            writable: false,
            is_replica: Some(true),
            problem: Some("the server is read-only (read_only=ON), a replica".into()),
        });
        assert!(!probe.healthy);
        assert!(probe.answered, "a read-only server answered: {probe:?}");
        assert_eq!(probe.in_recovery, Some(true));
        assert_eq!(
            probe.message.as_deref(),
            Some("declared primary but the server is read-only (read_only=ON), a replica")
        );
    }

    #[test]
    fn a_replica_that_does_not_replicate_answered_but_is_unhealthy() {
        let primary_as_replica = MemberProbe::of_replica(ReplicaProbe::not_replicating(
            false,
            "the server is a primary (not in recovery); it does not replicate",
        ));
        assert!(!primary_as_replica.healthy && primary_as_replica.answered);
        assert_eq!(primary_as_replica.in_recovery, Some(false));
        assert!(
            primary_as_replica
                .message
                .as_deref()
                .is_some_and(|m| m.starts_with("declared replica but the server is a primary"))
        );
        let just_started = MemberProbe::of_replica(ReplicaProbe {
            replicating: true,
            is_replica: Some(true),
            ..ReplicaProbe::default()
        });
        assert!(just_started.healthy, "{just_started:?}");
        assert!(
            !just_started.lag_within(u32::MAX),
            "unknown lag is within no limit"
        );
        assert!(
            just_started
                .message
                .is_some_and(|m| m.starts_with("lag unknown"))
        );
    }

    #[test]
    fn a_standalone_mongodb_server_is_a_healthy_primary_without_replicas() {
        let primary =
            MemberProbe::of_document_store(&ServerTopology::Standalone, MemberRole::Primary);
        assert!(
            primary.healthy && primary.answered && primary.standalone,
            "{primary:?}"
        );
        assert_eq!(primary.lag_seconds, None);
        assert!(
            primary
                .message
                .as_deref()
                .is_some_and(|m| m.contains("lag cannot be measured")),
            "{primary:?}"
        );
        let replica =
            MemberProbe::of_document_store(&ServerTopology::Standalone, MemberRole::Replica);
        assert!(!replica.healthy && replica.answered && replica.standalone);
        assert!(
            replica
                .message
                .as_deref()
                .is_some_and(|m| m.starts_with("declared replica but the server is a standalone")),
            "{replica:?}"
        );
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
