//! PostgreSQL: `BEGIN` … `PREPARE TRANSACTION 'id'`, then `COMMIT PREPARED` or
//! `ROLLBACK PREPARED`; in-doubt branches are the rows of `pg_prepared_xacts` in the current
//! database. The server must allow prepared transactions (`max_prepared_transactions` > 0;
//! PostgreSQL's default is 0).

use super::id::BranchId;
use super::two_phase::{TwoPhase, error_code};
use crate::Backend;
use crate::dialect::{Dialect, Postgres};
use crate::error::Error;

/// PostgreSQL two-phase commit.
#[derive(Clone, Copy, Debug, Default)]
pub struct PostgresTwoPhase;

impl TwoPhase for PostgresTwoPhase {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn start(&self, _branch: &BranchId) -> String {
        "BEGIN".into()
    }

    fn prepare(&self, branch: &BranchId) -> Vec<String> {
        vec![format!(
            "PREPARE TRANSACTION {}",
            Postgres.string_literal(&branch.to_string())
        )]
    }

    fn abandon(&self, _branch: &BranchId) -> Vec<String> {
        vec!["ROLLBACK".into()]
    }

    fn commit_prepared(&self, branch: &BranchId) -> String {
        format!(
            "COMMIT PREPARED {}",
            Postgres.string_literal(&branch.to_string())
        )
    }

    fn rollback_prepared(&self, branch: &BranchId) -> String {
        format!(
            "ROLLBACK PREPARED {}",
            Postgres.string_literal(&branch.to_string())
        )
    }

    fn in_doubt(&self) -> &'static str {
        // A prepared transaction is ended from a session of its own database.
        "SELECT gid FROM pg_prepared_xacts WHERE database = current_database() ORDER BY gid"
    }

    fn in_doubt_column(&self) -> &'static str {
        "gid"
    }

    fn is_unknown_branch(&self, error: &Error) -> bool {
        // undefined_object: `prepared transaction with identifier "…" does not exist`.
        error_code(error).as_deref() == Some("42704")
    }

    fn prepare_refused_hint(&self, error: &Error) -> Option<&'static str> {
        // object_not_in_prerequisite_state: `prepared transactions are disabled`.
        (error_code(error).as_deref() == Some("55000")).then_some(
            "set max_prepared_transactions above 0 (at least max_connections) in postgresql.conf and restart PostgreSQL",
        )
    }
}
