//! One participant of a distributed transaction: its connection, its branch id and where it is
//! in the protocol. The work of the transaction runs through a branch as through a
//! [`crate::Transaction`]: it is an [`Executor`], so models, the query builder and raw SQL all
//! run on it.

use super::id::BranchId;
use super::session::Session;
use super::two_phase::TwoPhase;
use crate::Backend;
use crate::commit_hooks::CommitHooks;
use crate::connection::Value;
use crate::error::{Error, Result};
use crate::executor::{Executed, Executor};
use crate::row::Row;

/// Where a branch is in the two-phase protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BranchState {
    /// Started: work may run; nothing is durable yet.
    Active,
    /// Prepared: durable, holding its locks, waiting for the decision.
    Prepared,
    /// Committed or rolled back: the connection is clean again.
    Ended,
}

/// One participant's part of a distributed transaction, on one connection of its database
/// for its whole life. Reach it as `tx.branch(0)` or `tx[0]` inside
/// [`crate::distributed::Coordinator::transaction`].
#[derive(Debug)]
pub struct Branch {
    id: BranchId,
    engine: &'static dyn TwoPhase,
    session: Option<Session>,
    state: BranchState,
    hooks: CommitHooks,
}

impl Branch {
    /// Takes a connection from `database` and starts branch `id` on it.
    pub(crate) async fn start(
        database: &crate::Database,
        engine: &'static dyn TwoPhase,
        id: BranchId,
    ) -> Result<Self> {
        let mut session = Session::acquire(database).await?;
        if let Err(error) = session.run_text(&engine.start(&id)).await {
            session.discard();
            return Err(error);
        }
        Ok(Self {
            id,
            engine,
            session: Some(session),
            state: BranchState::Active,
            hooks: database.commit_hooks(),
        })
    }

    /// The branch id the participant database knows this branch by.
    pub fn id(&self) -> &BranchId {
        &self.id
    }

    /// The participant's engine.
    pub fn backend(&self) -> Backend {
        self.engine.backend()
    }

    fn session(&mut self) -> Result<&mut Session> {
        let backend = self.backend();
        match (self.state, self.session.as_mut()) {
            (BranchState::Active, Some(session)) => Ok(session),
            _ => Err(Error::Unsupported {
                backend,
                feature: format!(
                    "a statement in branch {} after it was prepared or ended",
                    self.id
                ),
            }),
        }
    }

    /// Runs a statement in the branch; returns the rows affected. Placeholders as for
    /// [`crate::Database::execute`].
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64> {
        Ok(Executor::execute(self, sql, values).await?.rows_affected)
    }

    /// Runs a query in the branch and returns its rows.
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn fetch_all(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        Executor::fetch_all(self, sql, values).await
    }

    /// Ends the work and prepares the branch.
    pub(crate) async fn prepare(&mut self) -> Result<()> {
        let statements = self.engine.prepare(&self.id);
        let engine = self.engine;
        let session = self.session()?;
        for statement in &statements {
            if let Err(error) = session.run_text(statement).await {
                // Whatever the server kept of the branch ends with the connection: an
                // unprepared branch rolls back when its session goes.
                self.break_off();
                return Err(match engine.prepare_refused_hint(&error) {
                    Some(hint) => Error::Unsupported {
                        backend: engine.backend(),
                        feature: format!("prepared transactions on this server ({hint})"),
                    },
                    None => error,
                });
            }
        }
        self.state = BranchState::Prepared;
        Ok(())
    }

    /// Rolls back a branch not yet prepared (after its work failed, or another branch's
    /// prepare did). Errors are logged: closing the connection rolls it back anyway.
    pub(crate) async fn abandon(&mut self) {
        if self.state != BranchState::Active {
            return;
        }
        let statements = self.engine.abandon(&self.id);
        if let Some(session) = self.session.as_mut() {
            for statement in &statements {
                if let Err(error) = session.run_text(statement).await {
                    tracing::debug!(branch = %self.id, %error, "rolling back an unprepared branch failed; closing its connection");
                    self.break_off();
                    return;
                }
            }
        }
        self.state = BranchState::Ended;
    }

    /// Commits (`commit` true) or rolls back the prepared branch on its own connection, or on
    /// a fresh one from `database` when that one broke. A branch another session already ended
    /// counts as ended.
    pub(crate) async fn finish(&mut self, commit: bool, database: &crate::Database) -> Result<()> {
        if self.state != BranchState::Prepared {
            return Ok(());
        }
        let statement = if commit {
            self.engine.commit_prepared(&self.id)
        } else {
            self.engine.rollback_prepared(&self.id)
        };
        let mut outcome = match self.session.as_mut() {
            Some(session) => session.run_text(&statement).await,
            None => Err(Error::Unsupported {
                backend: self.backend(),
                feature: "a branch without its connection".into(),
            }),
        };
        if outcome
            .as_ref()
            .is_err_and(|e| !self.engine.is_unknown_branch(e))
        {
            // The connection may be gone (the server restarted, a network cut): once more on
            // a fresh connection, as recovery would.
            self.break_off();
            self.state = BranchState::Prepared;
            outcome = match Session::acquire(database).await {
                Ok(mut fresh) => {
                    let retried = fresh.run_text(&statement).await;
                    self.session = Some(fresh);
                    retried
                }
                Err(error) => Err(error),
            };
        }
        match outcome {
            Ok(()) => {}
            Err(error) if self.engine.is_unknown_branch(&error) => {}
            Err(error) => return Err(error),
        }
        self.state = BranchState::Ended;
        if commit {
            std::mem::take(&mut self.hooks).committed().await;
        }
        Ok(())
    }

    /// Closes the connection (never back to the pool) and forgets it.
    fn break_off(&mut self) {
        if let Some(session) = self.session.take() {
            session.discard();
        }
        self.state = BranchState::Ended;
    }
}

impl Drop for Branch {
    fn drop(&mut self) {
        // A connection that may still hold an active branch goes no further than here: the
        // server rolls an unprepared branch back when it closes, and keeps a prepared one for
        // recovery. A clean one goes back to the pool.
        if self.state != BranchState::Ended {
            self.break_off();
        }
    }
}

impl Executor for Branch {
    fn backend(&self) -> Backend {
        Branch::backend(self)
    }

    async fn fetch_all(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        self.fetch_decoded(sql, values, Ok).await
    }

    async fn fetch_decoded<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &mut self,
        sql: &str,
        values: &[Value],
        decode: F,
    ) -> Result<Vec<T>> {
        self.hooks.note_statement(sql);
        self.session()?.fetch_decoded(sql, values, decode).await
    }

    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<Executed> {
        self.hooks.note_statement(sql);
        self.session()?.execute(sql, values).await
    }
}
