//! Recovery of distributed transaction branches in doubt on a FoxReplicaSet's primary
//! (`spec.transactions`): each health check commits or rolls back the branches a crashed
//! coordinator left prepared, as the coordinator log decided (`foxdb::distributed::recover`),
//! so none keeps holding locks.
//!
//! # Guarantees
//! Only branches of coordinators registered in the named log and older than
//! `minAgeSeconds` are touched. A failure is reported as a Warning event and retried at the
//! next health check; it never fails the reconcile (routing does not depend on it).

use std::time::Duration;

use fox_crds::FoxReplicaSet;
use fox_crds::replica_set::{MemberSpec, TransactionsSpec};
use foxdb::Database;
use foxdb::distributed::{RecoveryOptions, RecoveryReport, recover};
use kube::{Resource, ResourceExt};

use super::conditions::Reason;
use super::context::Context;
use super::replica_set::member_pool;
use super::secrets::read_connection;
use crate::engine::member_connection::MemberTarget;

/// The pool key of the log: not a valid member name, so it never meets a member's pool.
const LOG_POOL: &str = ".coordinator-log";

/// Ends the branches in doubt on `primary`; returns what recovery did.
///
/// # Errors
/// What failed, in words for an event (never a URL).
pub(super) async fn recover_in_doubt(
    replicaset: &FoxReplicaSet,
    transactions: &TransactionsSpec,
    primary: &Database,
    context: &Context,
) -> Result<RecoveryReport, String> {
    let namespace = replicaset.namespace().unwrap_or_default();
    let (url, tls) = read_connection(&context.client, &namespace, &transactions.coordinator_log)
        .await
        .map_err(|e| format!("the coordinator log's Secret: {e}"))?;
    let location = url.location();
    let target = MemberTarget::Sql { url, tls };
    let log_member = MemberSpec {
        name: LOG_POOL.into(),
        connection: transactions.coordinator_log.clone(),
        weight: 0,
    };
    let log = member_pool(replicaset, &log_member, &target, context)
        .await
        .map_err(|e| format!("the coordinator log at {location}: {e}"))?;
    let Some(log_database) = log.connection.sql() else {
        return Err(format!(
            "the coordinator log at {location} is not a SQL database"
        ));
    };
    let options = RecoveryOptions {
        min_age: Duration::from_secs(u64::from(transactions.min_age_seconds)),
        ..RecoveryOptions::default()
    };
    recover(log_database, &[primary], &options)
        .await
        .map_err(|e| e.to_string())
}

/// Runs [`recover_in_doubt`] and tells what happened in an event: Normal when branches were
/// ended, Warning when recovery failed.
pub(super) async fn recover_and_announce(
    replicaset: &FoxReplicaSet,
    transactions: &TransactionsSpec,
    primary: &Database,
    context: &Context,
) {
    let (reason, note) = match recover_in_doubt(replicaset, transactions, primary, context).await {
        Ok(report) if report.resolved() == 0 => return,
        Ok(report) => (
            Reason::InDoubtResolved,
            format!(
                "ended distributed transaction branches left prepared on the primary: {} committed, {} rolled back",
                report.committed.len(),
                report.rolled_back.len()
            ),
        ),
        Err(message) => {
            tracing::warn!(replicaset = %replicaset.name_any(), %message, "recovering distributed transaction branches failed");
            (
                Reason::InDoubtRecoveryFailed,
                format!("recovering distributed transaction branches failed: {message}"),
            )
        }
    };
    context
        .publish(&replicaset.object_ref(&()), reason, "RecoverInDoubt", note)
        .await;
}
