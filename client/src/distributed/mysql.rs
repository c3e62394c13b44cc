//! MySQL/MariaDB: XA transactions. `XA START 'id'` … `XA END`, `XA PREPARE`, then `XA COMMIT`
//! or `XA ROLLBACK`; in-doubt branches are what `XA RECOVER` lists. A prepared XA branch
//! survives the client's disconnect and a server restart (MySQL 5.7.7+, MariaDB 10.5+), and any
//! session on the server may end it. XA statements run as plain text, outside the
//! prepared-statement protocol, which refuses them.

use super::id::BranchId;
use super::two_phase::{TwoPhase, error_code};
use crate::Backend;
use crate::dialect::{Dialect, MySql};
use crate::error::Error;

/// MySQL/MariaDB two-phase commit (XA).
#[derive(Clone, Copy, Debug, Default)]
pub struct MySqlTwoPhase;

fn xid(branch: &BranchId) -> String {
    MySql.string_literal(&branch.to_string())
}

impl TwoPhase for MySqlTwoPhase {
    fn backend(&self) -> Backend {
        Backend::MySql
    }

    fn start(&self, branch: &BranchId) -> String {
        format!("XA START {}", xid(branch))
    }

    fn prepare(&self, branch: &BranchId) -> Vec<String> {
        vec![
            format!("XA END {}", xid(branch)),
            format!("XA PREPARE {}", xid(branch)),
        ]
    }

    fn abandon(&self, branch: &BranchId) -> Vec<String> {
        vec![
            format!("XA END {}", xid(branch)),
            format!("XA ROLLBACK {}", xid(branch)),
        ]
    }

    fn commit_prepared(&self, branch: &BranchId) -> String {
        format!("XA COMMIT {}", xid(branch))
    }

    fn rollback_prepared(&self, branch: &BranchId) -> String {
        format!("XA ROLLBACK {}", xid(branch))
    }

    fn in_doubt(&self) -> &'static str {
        // Every prepared XA branch of the server (XA ids are per server, not per database).
        "XA RECOVER"
    }

    fn in_doubt_column(&self) -> &'static str {
        "data"
    }

    fn is_unknown_branch(&self, error: &Error) -> bool {
        // ER_XAER_NOTA (1397): `XAER_NOTA: Unknown XID`.
        error_code(error).as_deref() == Some("XAE04")
    }

    fn prepare_refused_hint(&self, _error: &Error) -> Option<&'static str> {
        None
    }
}
