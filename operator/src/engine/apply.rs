//! Applying a FoxSchema: lock, bookkeeping, plan, policy checks, statements, seeds, history.
//!
//! # Expected flow
//! 1. open the [`super::session::EngineSession`]: connect, take the database lock (waiting up
//!    to `policy.lockTimeoutSeconds`);
//! 2. (the session) apply FoxDB's bookkeeping migrations if missing;
//! 3. introspect, diff and assess the plan;
//! 4. refuse impossible or unpermitted destructive changes, stop for approval if required;
//! 5. run the statements, the seed upserts and the history record — in one transaction on
//!    PostgreSQL and SQLite; statement by statement on MySQL, with progress recorded at most a
//!    second behind;
//! 6. close the session: roll back what is still open, release the lock.
//!
//! A dry run stops after step 4 and does it without steps 1 and 2, on a read-only session: it
//! changes nothing.
//!
//! # Guarantees
//! On PostgreSQL and SQLite a failed or killed apply leaves the database exactly as before,
//! except for new PostgreSQL enum labels, committed before the transaction (PostgreSQL cannot
//! use a label added in the same transaction, nor take one back); the error lists them.
//! On MySQL the history row says how far an apply got (at most a second behind; a failure
//! records the exact statement); the next apply re-plans from the live schema and so continues
//! where the last one stopped. Applying the same input twice changes
//! nothing the second time.

use std::time::{Duration, Instant};

use fox_crds::schema::FoxSchemaSpec;
use foxdb::dialect::dialect_for;
use foxdb::{Backend, Connection, DatabaseUrl};

use super::clock::now_rfc3339;
use super::error::EngineError;
use super::history::{
    ApplyStatus, HistoryRecord, close_interrupted, finish_history, insert_history, record_progress,
};
use super::ownership::check_owner;
use super::plan::{Plan, build_plan};
use super::session::{EngineSession, begin_work, commit_work, connect_read_only};

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Name recorded in history (the FoxSchema's name).
    pub schema_name: String,
    /// The FoxSchema's `metadata.uid`, recorded in history: the cluster's, or what a manifest
    /// given to the CLI carries (usually none).
    pub owner_uid: Option<String>,
    /// The FoxSchema this one takes the database over from (a rename); see
    /// [`super::ownership`].
    pub replaces: Option<String>,
    /// Apply destructive changes.
    pub allow_destructive: bool,
    /// Apply only a plan with this hash.
    pub require_approval: bool,
    /// The approved plan hash, if any.
    pub approve: Option<String>,
    /// When set, `approve` must be the plan's hash bound to this scope
    /// ([`super::plan::approval_hash`]), not the bare plan hash.
    pub approval_scope: Option<super::plan::ApprovalScope>,
    /// Plan and check, change nothing (no lock, no bookkeeping, a read-only session).
    pub dry_run: bool,
    /// How long to wait for another applier's lock.
    pub lock_timeout: Duration,
}

/// What an apply did.
#[derive(Debug)]
pub enum ApplyOutcome {
    /// The database already matched; nothing ran.
    InSync {
        /// Interrupted earlier applies found and closed (MySQL).
        interrupted: Vec<String>,
    },
    /// The plan ran.
    Applied {
        /// The plan.
        plan: Box<Plan>,
        /// How long the statements took.
        duration: Duration,
        /// Interrupted earlier applies this one completed (MySQL).
        interrupted: Vec<String>,
    },
    /// `--dry-run`: the plan, not applied.
    DryRun(Box<Plan>),
    /// `requireApproval` and the plan's hash was not approved.
    AwaitingApproval(Box<Plan>),
}

/// Progress reported while statements run.
#[derive(Clone, Debug)]
pub enum ApplyEvent<'a> {
    /// The plan about to run (after the policy checks passed).
    Planned {
        /// The plan.
        plan: &'a Plan,
    },
    /// Statements `first..=last` (1-based) are about to run; one at a time except on SQLite,
    /// which runs them in batches (in-process, a round trip per statement would dominate).
    Started {
        /// First statement of the step.
        first: usize,
        /// Last statement of the step.
        last: usize,
        /// Total statements.
        total: usize,
        /// The first statement's SQL.
        sql: &'a str,
    },
    /// The step finished.
    Finished {
        /// Last statement of the step.
        last: usize,
        /// How long it took.
        elapsed: Duration,
    },
}

/// Plans without changing anything: a read-only session, no lock, no bookkeeping; a missing
/// SQLite file plans as an empty database and is not created.
///
/// # Errors
/// Connection and database errors; unsupported differences.
pub async fn plan_schema(url: &DatabaseUrl, spec: &FoxSchemaSpec) -> Result<Plan, EngineError> {
    let mut connection = connect_read_only(url).await?;
    let plan = build_plan(&mut connection, spec).await;
    connection.close().await;
    plan
}

/// Upserts the seed rows of `spec` that differ from the database (`fox seed`), in an engine
/// session and one transaction on every engine; returns how many rows were written.
///
/// # Errors
/// Lock timeouts, failed statements and violated foreign keys (nothing is written), database
/// errors.
pub async fn seed_schema(
    url: &DatabaseUrl,
    spec: &FoxSchemaSpec,
    lock_timeout: Duration,
) -> Result<usize, EngineError> {
    let mut session = EngineSession::open(url, lock_timeout).await?;
    let result = seed_locked(&mut session.connection, spec).await;
    // A failed seed is rolled back here: nothing of it is kept.
    let closed = session.close().await;
    let written = result?;
    closed?;
    Ok(written)
}

async fn seed_locked(
    connection: &mut Connection,
    spec: &FoxSchemaSpec,
) -> Result<usize, EngineError> {
    let plan = build_plan(connection, spec).await?;
    begin_work(connection).await?;
    for seed in &plan.seeds {
        if let Err(source) = connection.execute_with(&seed.sql, &seed.params).await {
            return Err(EngineError::StatementFailed {
                index: 1,
                total: plan.seeds.len(),
                outcome: format!(
                    "seed row for {} failed; no seed row was written",
                    seed.row.table
                ),
                source,
            });
        }
    }
    for sql in &plan.after_seed {
        connection.execute(sql).await?;
    }
    commit_work(connection).await?;
    Ok(plan.seeds.len())
}

/// Applies `spec` to the database at `url`; see the module docs for the flow.
///
/// # Errors
/// Lock timeouts, refused or impossible changes, failed statements, database errors; each
/// leaves the database as the module's guarantees say.
pub async fn apply_schema(
    url: &DatabaseUrl,
    spec: &FoxSchemaSpec,
    options: &ApplyOptions,
    progress: &mut (dyn FnMut(ApplyEvent<'_>) + Send),
) -> Result<ApplyOutcome, EngineError> {
    // `--allow-destructive` also decides what turning audit off does with the records.
    let mut allowed;
    let spec = if options.allow_destructive && !spec.policy.allow_destructive {
        allowed = spec.clone();
        allowed.policy.allow_destructive = true;
        &allowed
    } else {
        spec
    };
    if options.dry_run {
        // Plans and dry runs change nothing: no lock, no bookkeeping tables, no SQLite file.
        let plan = plan_schema(url, spec).await?;
        if plan.is_empty() {
            return Ok(ApplyOutcome::InSync {
                interrupted: Vec::new(),
            });
        }
        if let Some(refusal) = policy_refusal(&plan, options) {
            return Err(refusal);
        }
        return Ok(ApplyOutcome::DryRun(Box::new(plan)));
    }
    let mut session = EngineSession::open(url, options.lock_timeout).await?;
    let result = apply_locked(&mut session.connection, spec, options, progress).await;
    // Whatever the apply left open (refusals, errors, approvals awaited) is rolled back here.
    let closed = session.close().await;
    let outcome = result?;
    closed?;
    Ok(outcome)
}

async fn apply_locked(
    connection: &mut Connection,
    spec: &FoxSchemaSpec,
    options: &ApplyOptions,
    progress: &mut (dyn FnMut(ApplyEvent<'_>) + Send),
) -> Result<ApplyOutcome, EngineError> {
    let backend = connection.backend();
    check_owner(
        connection,
        &options.schema_name,
        options.replaces.as_deref(),
    )
    .await?;
    let interrupted = if !dialect_for(backend).transactional_ddl() {
        close_interrupted(connection).await?
    } else {
        Vec::new()
    };
    let plan = build_plan(connection, spec).await?;
    if plan.is_empty() {
        if !interrupted.is_empty() {
            // The interrupted apply's statements all ran before it died: record that it is done.
            let note = format!("completes interrupted apply: {}", interrupted.join("; "));
            let record = HistoryRecord {
                schema_name: &options.schema_name,
                owner_uid: options.owner_uid.as_deref(),
                plan_hash: &plan.hash,
                statements: &[],
                statement_count: 0,
                started_at: &now_rfc3339(),
                message: Some(&note),
            };
            insert_history(connection, &record, ApplyStatus::Applied, 0, Some(0)).await?;
        }
        // Keeps the bookkeeping: ends the lock's transaction on SQLite (elsewhere none is open).
        connection.commit().await?;
        return Ok(ApplyOutcome::InSync { interrupted });
    }
    if let Some(refusal) = policy_refusal(&plan, options) {
        return Err(refusal);
    }
    let expected = match &options.approval_scope {
        Some(scope) => super::plan::approval_hash(&plan.hash, scope),
        None => plan.hash.clone(),
    };
    if options.require_approval && options.approve.as_deref() != Some(expected.as_str()) {
        return Ok(ApplyOutcome::AwaitingApproval(Box::new(plan)));
    }
    progress(ApplyEvent::Planned { plan: &plan });
    let started = Instant::now();
    match backend {
        Backend::Postgres | Backend::Sqlite => {
            run_transactional(connection, &plan, options, progress).await?
        }
        Backend::MySql => run_recorded(connection, &plan, options, progress).await?,
    }
    Ok(ApplyOutcome::Applied {
        duration: started.elapsed(),
        plan: Box::new(plan),
        interrupted,
    })
}

/// The refusal of a plan holding impossible changes, or destructive ones the options do not
/// allow.
fn policy_refusal(plan: &Plan, options: &ApplyOptions) -> Option<EngineError> {
    let impossible = plan.impossible();
    if !impossible.is_empty() {
        return Some(EngineError::Impossible {
            reasons: impossible,
        });
    }
    let destructive = plan.destructive();
    if !destructive.is_empty() && !options.allow_destructive {
        return Some(EngineError::DestructiveRefused {
            changes: destructive,
        });
    }
    None
}

/// How often a MySQL apply records its progress in `_fox_apply_history`, at most.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

async fn run_statements(
    connection: &mut Connection,
    plan: &Plan,
    progress: &mut (dyn FnMut(ApplyEvent<'_>) + Send),
    history_id: Option<i64>,
) -> Result<(), (usize, foxdb::Error)> {
    let total = plan.statements.len();
    let skipped = plan
        .statements
        .iter()
        .take_while(|s| s.before_transaction)
        .count();
    let batch = dialect_for(connection.backend()).schema_statement_batch();
    let mut recorded = Instant::now();
    for (chunk_index, chunk) in plan.statements[skipped..].chunks(batch).enumerate() {
        let first = skipped + chunk_index * batch;
        let last = first + chunk.len();
        progress(ApplyEvent::Started {
            first: first + 1,
            last,
            total,
            sql: &chunk[0].sql,
        });
        let began = Instant::now();
        let sql = if chunk.len() == 1 {
            chunk[0].sql.clone()
        } else {
            chunk
                .iter()
                .map(|s| s.sql.as_str())
                .collect::<Vec<_>>()
                .join(";\n")
        };
        connection.execute(&sql).await.map_err(|e| (first, e))?;
        progress(ApplyEvent::Finished {
            last,
            elapsed: began.elapsed(),
        });
        // MySQL: record how far the apply got, at most a second behind. The record is a commit
        // of its own that waits for the disk like a DDL statement, so recording every statement
        // doubled the cost of a plan of new tables (one statement each); a resumed apply
        // re-plans from the live schema, so the record only says how far a killed one got.
        if let Some(id) = history_id
            && recorded.elapsed() >= PROGRESS_INTERVAL
        {
            record_progress(connection, id, last)
                .await
                .map_err(|error| (last - 1, error))?;
            recorded = Instant::now();
        }
    }
    for seed in &plan.seeds {
        connection
            .execute_with(&seed.sql, &seed.params)
            .await
            .map_err(|e| (total, e))?;
    }
    for sql in &plan.after_seed {
        connection.execute(sql).await.map_err(|e| (total, e))?;
    }
    Ok(())
}

/// PostgreSQL and SQLite: everything in one transaction, history included.
async fn run_transactional(
    connection: &mut Connection,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &mut (dyn FnMut(ApplyEvent<'_>) + Send),
) -> Result<(), EngineError> {
    let backend = connection.backend();
    let started_at = now_rfc3339();
    let started = Instant::now();
    // PostgreSQL: new enum labels are committed before the transaction and stay whatever
    // happens after; a failure says exactly which.
    let mut committed: Vec<&str> = Vec::new();
    for (i, statement) in plan
        .statements
        .iter()
        .enumerate()
        .filter(|(_, s)| s.before_transaction)
    {
        connection.execute(&statement.sql).await.map_err(|source| {
            EngineError::StatementFailed {
                index: i + 1,
                total: plan.statements.len(),
                outcome: format!(
                    "it adds an enum label before the transaction; {}",
                    remaining_labels(&committed)
                ),
                source,
            }
        })?;
        committed.push(&statement.sql);
    }
    begin_work(connection).await?;
    let total = plan.statements.len();
    let outcome = run_statements(connection, plan, progress, None).await;
    if let Err((index, source)) = outcome {
        let _ = connection.rollback().await;
        let per_batch = dialect_for(backend).schema_statement_batch();
        let batch = if per_batch > 1 && index < total {
            let last = (index + per_batch).min(total);
            format!(
                " (statements {}-{last} ran as one batch; the error names the failing one)",
                index + 1
            )
        } else {
            String::new()
        };
        let unchanged = if committed.is_empty() {
            "the database is unchanged".to_string()
        } else {
            remaining_labels(&committed)
        };
        return Err(EngineError::StatementFailed {
            index: index + 1,
            total,
            outcome: format!("the transaction was rolled back and {unchanged}{batch}"),
            source,
        });
    }
    let sql = plan.all_sql();
    let record = HistoryRecord {
        schema_name: &options.schema_name,
        owner_uid: options.owner_uid.as_deref(),
        plan_hash: &plan.hash,
        statements: &sql,
        statement_count: plan.statements.len(),
        started_at: &started_at,
        message: None,
    };
    insert_history(
        connection,
        &record,
        ApplyStatus::Applied,
        total,
        Some(started.elapsed().as_millis()),
    )
    .await?;
    commit_work(connection).await
}

/// What a failed PostgreSQL apply leaves behind: the enum labels committed before its
/// transaction (`ALTER TYPE … ADD VALUE` cannot be rolled back).
fn remaining_labels(committed: &[&str]) -> String {
    if committed.is_empty() {
        return "nothing else was changed".into();
    }
    format!(
        "everything else is unchanged, but these enum labels were committed before the transaction and remain (PostgreSQL cannot take back ALTER TYPE … ADD VALUE; they hold no rows, and the next apply continues from them): {}",
        committed.join("; ")
    )
}

/// MySQL: DDL commits implicitly, so how far the apply got is recorded as it goes (at most a
/// second behind) and a failure records the exact statement.
async fn run_recorded(
    connection: &mut Connection,
    plan: &Plan,
    options: &ApplyOptions,
    progress: &mut (dyn FnMut(ApplyEvent<'_>) + Send),
) -> Result<(), EngineError> {
    let started_at = now_rfc3339();
    let started = Instant::now();
    let sql = plan.all_sql();
    let record = HistoryRecord {
        schema_name: &options.schema_name,
        owner_uid: options.owner_uid.as_deref(),
        plan_hash: &plan.hash,
        statements: &sql,
        statement_count: plan.statements.len(),
        started_at: &started_at,
        message: None,
    };
    let total = plan.statements.len();
    let id = insert_history(connection, &record, ApplyStatus::Running, 0, None).await?;
    let outcome = run_statements(connection, plan, progress, Some(id)).await;
    let elapsed = started.elapsed().as_millis();
    match outcome {
        Ok(()) => {
            finish_history(connection, id, ApplyStatus::Applied, total, elapsed, None).await?;
            Ok(())
        }
        Err((index, source)) => {
            let message = source.to_string();
            finish_history(
                connection,
                id,
                ApplyStatus::Failed,
                index.min(total),
                elapsed,
                Some(&message),
            )
            .await?;
            Err(EngineError::StatementFailed {
                index: index + 1,
                total,
                outcome: format!(
                    "MySQL commits DDL as it goes: the {index} statement(s) before it are applied and recorded in _fox_apply_history; fix the cause and apply again to continue from there"
                ),
                source,
            })
        }
    }
}
