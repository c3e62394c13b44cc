//! The coordinator: runs one unit of work across several databases and commits it on all of
//! them or on none, with its decisions in a [`CoordinatorLog`].

use std::sync::Arc;

use super::branch::Branch;
use super::id::{CoordinatorId, MAX_BRANCHES, TransactionId};
use super::log::{CoordinatorLog, Decision};
use crate::database::Database;
use crate::dialect::dialect_for;
use crate::error::{Error, Result};

/// A boundary of the protocol a transaction passed, reported to [`Coordinator::on_step`] (for
/// tracing, metrics, and tests that stop a coordinator at each boundary).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Every branch is started; the work runs next.
    Started,
    /// The work succeeded; no branch is prepared yet.
    BeforePrepare,
    /// Branch `branch` is prepared; the next one is not (reported for every branch but the
    /// last).
    Prepared {
        /// The branch prepared last.
        branch: usize,
    },
    /// Every branch is prepared; the decision is not written yet.
    AllPrepared,
    /// The commit decision is durable in the log; no branch is committed yet.
    Decided,
    /// Branch `branch` is committed; the next one is not (reported for every branch but the
    /// last).
    Committed {
        /// The branch committed last.
        branch: usize,
    },
    /// Every branch committed and the log forgot the transaction.
    Finished,
}

type StepObserver = Arc<dyn Fn(&TransactionId, Step) + Send + Sync>;

/// Runs distributed transactions: one unit of work across several [`Database`]s (PostgreSQL
/// and MySQL/MariaDB), committed on all of them or on none, with two-phase commit and a
/// durable coordinator log.
///
/// # Expected flow
/// 1. [`Coordinator::open`] with the database that holds the log and a name for this
///    coordinator (one per process that runs transactions at the same time);
/// 2. optionally [`Coordinator::recover`] at start-up: branches a crashed run left prepared
///    are committed or rolled back as the log decided;
/// 3. [`Coordinator::transaction`] with the participants and the work, as
///    [`Database::transaction`] takes work for one database.
///
/// ```no_run
/// # async fn demo(log: &foxdb::Database, bank_a: &foxdb::Database, bank_b: &foxdb::Database) -> foxdb::Result<()> {
/// use foxdb::Value;
/// use foxdb::distributed::Coordinator;
///
/// let coordinator = Coordinator::open(log, "payments-1").await?;
/// coordinator
///     .transaction(&[bank_a, bank_b], async |tx| {
///         tx[0].execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", &[Value::Int(10), Value::Int(7)]).await?;
///         tx[1].execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", &[Value::Int(10), Value::Int(9)]).await?;
///         Ok::<_, foxdb::Error>(())
///     })
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Coordinator {
    id: CoordinatorId,
    log: CoordinatorLog,
    log_database: Database,
    observer: Option<StepObserver>,
}

impl std::fmt::Debug for Coordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coordinator")
            .field("id", &self.id)
            .field("log", &self.log_database.backend())
            .finish_non_exhaustive()
    }
}

/// The branches of a running distributed transaction, in the order the participants were
/// given: `tx[0]` (or `tx.branch(0)`) runs on the first database.
#[derive(Debug)]
pub struct DistributedTransaction {
    id: TransactionId,
    branches: Vec<Branch>,
}

impl DistributedTransaction {
    /// The transaction's id (its branches are `<id>:<n>`).
    pub fn id(&self) -> &TransactionId {
        &self.id
    }

    /// The branch on participant `index`.
    ///
    /// # Panics
    /// When `index` is not below the number of participants.
    pub fn branch(&mut self, index: usize) -> &mut Branch {
        &mut self.branches[index]
    }

    /// Every branch, for work that holds two at once (`let [a, b] = tx.branches() else ...`).
    pub fn branches(&mut self) -> &mut [Branch] {
        &mut self.branches
    }
}

impl std::ops::Index<usize> for DistributedTransaction {
    type Output = Branch;

    fn index(&self, index: usize) -> &Branch {
        &self.branches[index]
    }
}

impl std::ops::IndexMut<usize> for DistributedTransaction {
    fn index_mut(&mut self, index: usize) -> &mut Branch {
        &mut self.branches[index]
    }
}

impl Coordinator {
    /// A coordinator called `name` logging its decisions in `log` (created when missing). The
    /// log may be one of the participants or a database of its own, of any engine.
    ///
    /// # Errors
    /// [`Error::InvalidId`] for an invalid name (1 to 24 letters, digits, `-`, `_`);
    /// [`Error::Query`] when the log table cannot be created.
    pub async fn open(log: &Database, name: &str) -> Result<Self> {
        let id = CoordinatorId::new(name)?;
        let coordinator_log = CoordinatorLog::open(log).await?;
        coordinator_log.register(&id).await?;
        Ok(Self {
            log: coordinator_log,
            log_database: log.clone(),
            id,
            observer: None,
        })
    }

    /// This coordinator's name.
    pub fn id(&self) -> &CoordinatorId {
        &self.id
    }

    /// The coordinator log.
    pub fn log(&self) -> &CoordinatorLog {
        &self.log
    }

    /// Calls `observer` at every boundary of the protocol ([`Step`]), synchronously, before
    /// the coordinator goes on.
    #[must_use]
    pub fn on_step(
        mut self,
        observer: impl Fn(&TransactionId, Step) + Send + Sync + 'static,
    ) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    fn report(&self, transaction: &TransactionId, step: Step) {
        if let Some(observer) = &self.observer {
            observer(transaction, step);
        }
    }

    /// Resolves branches in doubt on `participants` as this coordinator's log decided
    /// ([`super::recover`] with default options): call it at start-up, before new
    /// transactions, with every database this service's transactions touch.
    ///
    /// # Errors
    /// See [`super::recover`].
    pub async fn recover(&self, participants: &[&Database]) -> Result<super::RecoveryReport> {
        super::recover(
            &self.log_database,
            participants,
            &super::RecoveryOptions::default(),
        )
        .await
    }

    /// Runs `work` in one transaction across `participants` and commits it on every one or on
    /// none. Each participant gets a branch on one connection of its own for the whole
    /// transaction; `work` reaches them as `tx[i]` in the order given.
    ///
    /// # Guarantees
    /// - When this returns `Ok`, every branch committed.
    /// - When `work` or a prepare fails, every branch rolls back and the error is returned.
    /// - Whatever happens to this process, every branch ends the same way: the commit
    ///   decision is written to the log after every branch prepared and before any commits,
    ///   and recovery ([`super::recover`], `fox recover`, the operator) commits the branches of
    ///   a logged transaction and rolls back the others (presumed abort).
    ///
    /// # Errors
    /// - [`Error::Unsupported`] when a participant's engine cannot prepare (SQLite), or the
    ///   server refuses prepared transactions (PostgreSQL's `max_prepared_transactions = 0`);
    ///   nothing was started.
    /// - The work's error, or a branch's failed prepare, after every branch rolled back.
    /// - [`Error::TransactionAborted`]: recovery rolled the transaction back before it could
    ///   commit (it ran longer than recovery's minimum age).
    /// - [`Error::TransactionInDoubt`]: the outcome is not known here, or the commit is decided
    ///   and some branch could not be committed now; recovery finishes it as the log says.
    pub async fn transaction<T, E, F>(
        &self,
        participants: &[&Database],
        work: F,
    ) -> std::result::Result<T, E>
    where
        F: AsyncFnOnce(&mut DistributedTransaction) -> std::result::Result<T, E>,
        E: From<Error>,
    {
        if participants.is_empty() || participants.len() > MAX_BRANCHES {
            return Err(Error::Unsupported {
                backend: self.log_database.backend(),
                feature: format!(
                    "a distributed transaction of {} participants (1 to {MAX_BRANCHES})",
                    participants.len()
                ),
            }
            .into());
        }
        let engines = participants
            .iter()
            .map(|db| dialect_for(db.backend()).two_phase())
            .collect::<Result<Vec<_>>>()?;
        let id = TransactionId::begin(&self.id);
        let mut tx = DistributedTransaction {
            id: id.clone(),
            branches: Vec::with_capacity(participants.len()),
        };
        for (index, (database, engine)) in participants.iter().zip(engines).enumerate() {
            match Branch::start(database, engine, id.branch(index)).await {
                Ok(branch) => tx.branches.push(branch),
                Err(error) => {
                    abandon_all(&mut tx).await;
                    return Err(error.into());
                }
            }
        }
        self.report(&id, Step::Started);
        let value = match work(&mut tx).await {
            Ok(value) => value,
            Err(error) => {
                abandon_all(&mut tx).await;
                return Err(error);
            }
        };
        self.report(&id, Step::BeforePrepare);
        let last = tx.branches.len() - 1;
        for index in 0..=last {
            if let Err(error) = tx.branches[index].prepare().await {
                self.roll_back_all(&mut tx, participants).await;
                return Err(error.into());
            }
            if index < last {
                self.report(&id, Step::Prepared { branch: index });
            }
        }
        self.report(&id, Step::AllPrepared);
        match self
            .log
            .decide(&id, tx.branches.len(), Decision::Commit)
            .await
        {
            Ok(Decision::Commit) => {}
            Ok(Decision::Abort) => {
                self.roll_back_all(&mut tx, participants).await;
                return Err(Error::TransactionAborted {
                    transaction: id.to_string(),
                    reason: "recovery rolled it back before the commit decision (raise recovery's minimum age above the longest transaction)".into(),
                }
                .into());
            }
            Err(error) => {
                // The decision may or may not be in the log: the branches stay prepared and
                // recovery ends them as the log says.
                return Err(Error::TransactionInDoubt {
                    transaction: id.to_string(),
                    message: format!("writing the commit decision failed: {error}; recovery commits or rolls back every branch as the log says"),
                }
                .into());
            }
        }
        self.report(&id, Step::Decided);
        let mut pending = Vec::new();
        for (index, branch) in tx.branches.iter_mut().enumerate() {
            if let Err(error) = branch.finish(true, participants[index]).await {
                tracing::warn!(branch = %branch.id(), %error, "committing a prepared branch failed; recovery commits it");
                pending.push(format!("{}: {error}", branch.id()));
            }
            if index < last {
                self.report(&id, Step::Committed { branch: index });
            }
        }
        if !pending.is_empty() {
            return Err(Error::TransactionInDoubt {
                transaction: id.to_string(),
                message: format!(
                    "the commit is decided; these branches commit on recovery: {}",
                    pending.join("; ")
                ),
            }
            .into());
        }
        if let Err(error) = self.log.forget(&id).await {
            // Harmless: recovery finds no branch of it in doubt, and a commit record is kept.
            tracing::warn!(transaction = %id, %error, "forgetting a committed transaction failed");
        }
        self.report(&id, Step::Finished);
        Ok(value)
    }

    /// Rolls back every branch: prepared ones with their id, the others by ending their work.
    async fn roll_back_all(&self, tx: &mut DistributedTransaction, participants: &[&Database]) {
        for (index, branch) in tx.branches.iter_mut().enumerate() {
            branch.abandon().await;
            if let Err(error) = branch.finish(false, participants[index]).await {
                tracing::warn!(branch = %branch.id(), %error, "rolling back a prepared branch failed; recovery rolls it back");
            }
        }
    }
}

async fn abandon_all(tx: &mut DistributedTransaction) {
    for branch in &mut tx.branches {
        branch.abandon().await;
    }
}
