//! Distributed transactions: one unit of work across several databases, committed on all of
//! them or on none, with two-phase commit (PostgreSQL `PREPARE TRANSACTION`, MySQL/MariaDB XA),
//! a durable coordinator log and recovery of branches left in doubt.
//!
//! # Expected flow
//! 1. [`Coordinator::open`] on the database that holds the log (any engine);
//! 2. [`Coordinator::recover`] at start-up (opt-in), or `fox recover`, or the operator's
//!    periodic recovery for each FoxReplicaSet;
//! 3. [`Coordinator::transaction`]: `coordinator.transaction(&[&a, &b], async |tx| ...)`, next
//!    to `db.transaction(async |tx| ...)` for one database.
//!
//! # Guarantees
//! - Every branch of a transaction ends the same way, whatever crashes when: the commit
//!   decision is written to the log after every branch prepared and before any branch commits;
//!   a transaction without a decision is rolled back (presumed abort).
//! - A branch prepared and not yet ended holds its locks until the coordinator or recovery
//!   ends it; [`in_doubt`] lists such branches.
//! - Branch ids (`fox:<coordinator>:<millis>-<nonce>:<branch>`, [`BranchId`]) say which
//!   coordinator began the transaction, when, and which participant the branch is on.
//!
//! # Engines
//! PostgreSQL (the server needs `max_prepared_transactions` > 0) and MySQL/MariaDB take part.
//! SQLite cannot prepare a transaction and is refused with [`crate::Error::Unsupported`]
//! (it may hold the coordinator log); pair a SQLite write with another system through
//! [`crate::outbox`] instead.

mod branch;
mod coordinator;
mod id;
mod log;
mod mysql;
mod postgres;
mod recovery;
mod session;
mod two_phase;

pub use branch::Branch;
pub use coordinator::{Coordinator, DistributedTransaction, Step};
pub use id::{BranchId, CoordinatorId, IdError, MAX_BRANCHES, MAX_COORDINATOR_LEN, TransactionId};
pub use log::{CoordinatorLog, Decision, LOG_TABLE};
pub use mysql::MySqlTwoPhase;
pub use postgres::PostgresTwoPhase;
pub use recovery::{RecoveryOptions, RecoveryReport, in_doubt, recover};
pub use two_phase::TwoPhase;
