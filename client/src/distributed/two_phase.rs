//! The engine seam of distributed transactions: how one engine opens a branch, prepares it,
//! commits or rolls back a prepared branch, and lists the branches in doubt. SQL only, no
//! connections; one `impl TwoPhase` per engine that can prepare, reached through
//! [`crate::dialect::Dialect::two_phase`].

use super::id::BranchId;
use crate::Backend;
use crate::error::Error;

/// Two-phase commit on one engine.
///
/// # Guarantees
/// Every implementation keeps the same contract: after the statements of
/// [`TwoPhase::prepare`] succeed, the branch's changes survive a crash of the client and of the
/// server, hold their locks, and are ended only by [`TwoPhase::commit_prepared`] or
/// [`TwoPhase::rollback_prepared`], which any session of the same database (PostgreSQL) or
/// server (MySQL/MariaDB) may run; [`TwoPhase::in_doubt`] lists them until then.
pub trait TwoPhase: Send + Sync + std::fmt::Debug {
    /// The engine.
    fn backend(&self) -> Backend;

    /// The statement that opens `branch` on a session with no transaction open.
    fn start(&self, branch: &BranchId) -> String;

    /// The statements that end the branch's work and prepare it, in order.
    fn prepare(&self, branch: &BranchId) -> Vec<String>;

    /// The statements that roll back a branch that was started but not prepared, in order.
    fn abandon(&self, branch: &BranchId) -> Vec<String>;

    /// The statement that commits a prepared branch.
    fn commit_prepared(&self, branch: &BranchId) -> String;

    /// The statement that rolls back a prepared branch.
    fn rollback_prepared(&self, branch: &BranchId) -> String;

    /// A query listing prepared branches (of every application) that this database can end;
    /// [`TwoPhase::in_doubt_column`] names the column holding their ids.
    fn in_doubt(&self) -> &'static str;

    /// The column of [`TwoPhase::in_doubt`] holding a branch's id.
    fn in_doubt_column(&self) -> &'static str;

    /// Whether `error`, from [`TwoPhase::commit_prepared`] or [`TwoPhase::rollback_prepared`],
    /// says no such prepared branch exists: another session (recovery, or the coordinator)
    /// ended it first.
    fn is_unknown_branch(&self, error: &Error) -> bool;

    /// When `error`, from [`TwoPhase::prepare`], says the server is configured to refuse
    /// prepared transactions: what to change.
    fn prepare_refused_hint(&self, error: &Error) -> Option<&'static str>;
}

/// The SQLSTATE (or extended code) of a failed statement.
pub(crate) fn error_code(error: &Error) -> Option<String> {
    match error {
        Error::Query { source, .. } => source.code(),
        _ => None,
    }
}
