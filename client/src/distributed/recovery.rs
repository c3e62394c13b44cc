//! Recovery: ends every FoxDB branch left prepared on the participants as the coordinator log
//! decided. Run at a service's start-up ([`super::Coordinator::recover`]), by
//! `fox recover --database URL ... --log URL`, and by the operator for each FoxReplicaSet.

use std::time::Duration;

use super::id::BranchId;
use super::log::{CoordinatorLog, Decision};
use super::session::Session;
use super::two_phase::TwoPhase;
use crate::database::Database;
use crate::dialect::dialect_for;
use crate::error::Result;

/// How recovery runs.
#[derive(Clone, Debug)]
pub struct RecoveryOptions {
    /// Branches of transactions younger than this are left alone: their coordinator may still
    /// be deciding. A younger branch of a live coordinator would otherwise be rolled back
    /// (safely: the coordinator then reports [`crate::Error::TransactionAborted`]). Zero
    /// resolves everything, for a run after every coordinator stopped.
    pub min_age: Duration,
    /// Abort records older than this are pruned from the log ([`CoordinatorLog::prune`]).
    pub abort_retention: Duration,
}

impl Default for RecoveryOptions {
    fn default() -> Self {
        Self {
            min_age: Duration::from_secs(60),
            abort_retention: Duration::from_secs(24 * 60 * 60),
        }
    }
}

/// What recovery did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Branches committed (the log said commit).
    pub committed: Vec<String>,
    /// Branches rolled back (no commit decision: presumed abort).
    pub rolled_back: Vec<String>,
    /// Branches left for a later run: younger than [`RecoveryOptions::min_age`].
    pub too_young: Vec<String>,
    /// Prepared transactions that are not FoxDB's (another application's), left alone.
    pub foreign: usize,
    /// FoxDB branches of coordinators that log elsewhere (not registered in this log), left
    /// to the recovery that reads their log.
    pub other_logs: usize,
    /// Abort records pruned from the log.
    pub pruned: u64,
}

impl RecoveryReport {
    /// Branches recovery ended.
    pub fn resolved(&self) -> usize {
        self.committed.len() + self.rolled_back.len()
    }
}

/// Commits or rolls back every FoxDB branch in doubt on `participants` whose coordinator logs
/// in `log` ([`super::Coordinator::open`] registers it there), as the log decided: committed
/// when the log says commit; otherwise an abort is recorded first (so the coordinator cannot
/// decide commit afterwards) and the branch rolls back. Branches of coordinators logging
/// elsewhere are left alone. Safe to run from
/// several processes at once and while coordinators run (see [`RecoveryOptions::min_age`]).
///
/// # Errors
/// [`crate::Error::Unsupported`] for a participant that cannot prepare (SQLite: it holds no
/// branches); [`crate::Error::Query`] when a database cannot be reached or a branch cannot be
/// ended. Branches ended before the error stay ended; run it again.
pub async fn recover(
    log: &Database,
    participants: &[&Database],
    options: &RecoveryOptions,
) -> Result<RecoveryReport> {
    let log = CoordinatorLog::open(log).await?;
    let mut report = RecoveryReport {
        pruned: log.prune(options.abort_retention).await?,
        ..RecoveryReport::default()
    };
    let coordinators = log.coordinators().await?;
    for database in participants {
        let engine = dialect_for(database.backend()).two_phase()?;
        let mut session = Session::acquire(database).await?;
        let listed = session
            .fetch_text_column(engine.in_doubt(), engine.in_doubt_column())
            .await?;
        for text in listed {
            let Ok(branch) = BranchId::parse(&text) else {
                report.foreign += 1;
                continue;
            };
            if !coordinators.contains(branch.transaction().coordinator()) {
                report.other_logs += 1;
                continue;
            }
            if branch.transaction().age() < options.min_age {
                report.too_young.push(text);
                continue;
            }
            let decision = match log.decision(branch.transaction()).await? {
                Some(decision) => decision,
                None => log.decide(branch.transaction(), 0, Decision::Abort).await?,
            };
            let commit = decision == Decision::Commit;
            if end_branch(&mut session, engine, &branch, commit).await? {
                if commit {
                    report.committed.push(text);
                } else {
                    report.rolled_back.push(text);
                }
            }
        }
    }
    if report.resolved() > 0 {
        tracing::info!(
            committed = report.committed.len(),
            rolled_back = report.rolled_back.len(),
            "recovered distributed transaction branches"
        );
    }
    Ok(report)
}

/// Ends one prepared branch; `false` when another session ended it first.
async fn end_branch(
    session: &mut Session,
    engine: &dyn TwoPhase,
    branch: &BranchId,
    commit: bool,
) -> Result<bool> {
    let statement = if commit {
        engine.commit_prepared(branch)
    } else {
        engine.rollback_prepared(branch)
    };
    match session.run_text(&statement).await {
        Ok(()) => Ok(true),
        Err(error) if engine.is_unknown_branch(&error) => Ok(false),
        Err(error) => Err(error),
    }
}

/// Branches in doubt on `database` that FoxDB wrote, whatever their age (for monitoring and
/// tests: after recovery with a zero minimum age there are none).
///
/// # Errors
/// [`crate::Error::Unsupported`] for SQLite; [`crate::Error::Query`].
pub async fn in_doubt(database: &Database) -> Result<Vec<BranchId>> {
    let engine = dialect_for(database.backend()).two_phase()?;
    let mut session = Session::acquire(database).await?;
    let listed = session
        .fetch_text_column(engine.in_doubt(), engine.in_doubt_column())
        .await?;
    Ok(listed
        .iter()
        .filter_map(|text| BranchId::parse(text).ok())
        .collect())
}
