//! Applying a FoxSchema's collections to MongoDB: lock, plan, policy checks, commands, history.
//!
//! # Expected flow
//! 1. connect and take the lock document in `_fox_lock` (waiting up to
//!    `policy.lockTimeoutSeconds`; refused with [`EngineError::Locked`] after that);
//! 2. introspect and plan ([`super::plan::build_collection_plan`]);
//! 3. refuse unpermitted destructive changes, stop for approval if required;
//! 4. run the commands in order (`create`, `collMod`, `dropIndexes`, `createIndexes`, `drop`);
//! 5. record the apply in `_fox_history` and release the lock.
//!
//! A dry run plans without the lock and changes nothing.
//!
//! # Guarantees
//! Nothing runs before every check passed. MongoDB has no transactions for these commands: a
//! command that fails stops the apply, the history records how many ran, and the next apply
//! re-plans from the live database, so it continues where this one stopped.

use std::time::Instant;

use fox_crds::schema::FoxSchemaSpec;
use foxdb::document_store::{DocumentStore, DocumentStoreUrl};

use super::history::{CollectionHistoryRecord, record_apply};
use super::lock::CollectionLock;
use super::plan::{CollectionPlan, build_collection_plan};
use crate::engine::apply::ApplyOptions;
use crate::engine::clock::now_rfc3339;
use crate::engine::error::EngineError;

/// What an apply to a MongoDB database did.
#[derive(Debug)]
pub enum CollectionApplyOutcome {
    /// The database already matched; nothing ran.
    InSync,
    /// The plan ran.
    Applied {
        /// The plan.
        plan: CollectionPlan,
        /// How long the commands took.
        duration: std::time::Duration,
    },
    /// `dry_run`: the plan, not applied.
    DryRun(CollectionPlan),
    /// The plan waits for `approve` with its hash.
    AwaitingApproval(CollectionPlan),
}

/// Plans `spec` against the database at `url`, changing nothing but a scratch collection (see
/// [`super::plan`]).
///
/// # Errors
/// Unreachable server, failed commands.
pub async fn plan_collections(
    url: &DocumentStoreUrl,
    spec: &FoxSchemaSpec,
) -> Result<CollectionPlan, EngineError> {
    let store = DocumentStore::connect(url).await?;
    build_collection_plan(&store, spec).await
}

/// Applies `spec`'s collections to the database at `url`; `progress` hears of each command
/// (1-based index, total, the change in words) before it runs.
///
/// # Errors
/// Unreachable server, [`EngineError::Locked`], [`EngineError::DestructiveRefused`], a failed
/// command ([`EngineError::CommandFailed`], with how many ran before it).
pub async fn apply_collections(
    url: &DocumentStoreUrl,
    spec: &FoxSchemaSpec,
    options: &ApplyOptions,
    progress: &mut (dyn FnMut(usize, usize, &str) + Send),
) -> Result<CollectionApplyOutcome, EngineError> {
    let store = DocumentStore::connect(url).await?;
    if options.dry_run {
        let plan = build_collection_plan(&store, spec).await?;
        if plan.is_empty() {
            return Ok(CollectionApplyOutcome::InSync);
        }
        return Ok(CollectionApplyOutcome::DryRun(plan));
    }
    let lock = CollectionLock::acquire(&store, options.lock_timeout).await?;
    let outcome = apply_locked(&store, spec, options, progress).await;
    let released = lock.release(&store).await;
    let outcome = outcome?;
    released?;
    Ok(outcome)
}

async fn apply_locked(
    store: &DocumentStore,
    spec: &FoxSchemaSpec,
    options: &ApplyOptions,
    progress: &mut (dyn FnMut(usize, usize, &str) + Send),
) -> Result<CollectionApplyOutcome, EngineError> {
    let plan = build_collection_plan(store, spec).await?;
    if plan.is_empty() {
        return Ok(CollectionApplyOutcome::InSync);
    }
    let destructive = plan.destructive();
    if !destructive.is_empty() && !options.allow_destructive {
        return Err(EngineError::DestructiveRefused {
            changes: destructive,
        });
    }
    let expected = match &options.approval_scope {
        Some(scope) => crate::engine::plan::approval_hash(&plan.hash, scope),
        None => plan.hash.clone(),
    };
    if options.require_approval && options.approve.as_deref() != Some(expected.as_str()) {
        return Ok(CollectionApplyOutcome::AwaitingApproval(plan));
    }
    let commands = plan.commands_json();
    let started_at = now_rfc3339();
    let started = Instant::now();
    let total = plan.changes.len();
    for (index, planned) in plan.changes.iter().enumerate() {
        progress(index + 1, total, &planned.change.to_string());
        if let Err(source) = store.run_command(planned.command.clone()).await {
            let message = source.to_string();
            // Best effort: the apply already failed; its error matters more than the record.
            let _ = record_apply(
                store,
                &CollectionHistoryRecord {
                    schema_name: &options.schema_name,
                    owner_uid: options.owner_uid.as_deref(),
                    plan_hash: &plan.hash,
                    status: "failed",
                    commands: &commands,
                    completed_commands: index,
                    started_at: &started_at,
                    duration_ms: started.elapsed().as_millis(),
                    collections: &[],
                    message: Some(&message),
                },
            )
            .await;
            return Err(EngineError::CommandFailed {
                index: index + 1,
                total,
                change: planned.change.to_string(),
                source,
            });
        }
    }
    let duration = started.elapsed();
    record_apply(
        store,
        &CollectionHistoryRecord {
            schema_name: &options.schema_name,
            owner_uid: options.owner_uid.as_deref(),
            plan_hash: &plan.hash,
            status: "applied",
            commands: &commands,
            completed_commands: total,
            started_at: &started_at,
            duration_ms: duration.as_millis(),
            collections: &plan.desired,
            message: None,
        },
    )
    .await?;
    Ok(CollectionApplyOutcome::Applied { plan, duration })
}
