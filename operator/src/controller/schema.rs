//! The FoxSchema controller: plan against the live database, report the plan, guard
//! destructive and unapproved plans, apply, and watch for drift.
//!
//! # Expected flow
//! 1. Resolve `databaseRef` to a FoxReplicaSet and its primary's Secret.
//! 2. Plan (no lock, nothing changes). An empty plan means `Ready`.
//! 3. A non-empty plan for a generation already applied is drift: reported (`Drifted`), and
//!    re-applied only with `policy.onDrift: Reapply`.
//! 4. Impossible changes fail; destructive changes without `allowDestructive`, and any plan
//!    under `requireApproval` whose hash is not in the annotation `foxdb.dev/approve-plan`, are
//!    `Blocked` with the plan in status.
//! 5. Otherwise the engine applies under the database lock (it re-plans there and refuses a
//!    plan that changed since approval), and status records what was applied.

use std::sync::Arc;
use std::time::Duration;

use fox_crds::schema::{DriftPolicy, PlanSummary, SchemaPhase};
use fox_crds::{FoxReplicaSet, FoxSchema, FoxSchemaStatus};
use foxdb::DatabaseUrl;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};

use super::conditions::{ConditionType, ConditionUpdate, Reason, find_condition, merge_conditions};
use super::context::Context;
use super::error::{Error, Result};
use super::secrets::resolve_primary;
use super::status::{apply_status, reconcile_object, retry_after_error};
use crate::engine::plan::{ApprovalScope, approval_hash};
use crate::engine::{
    ApplyEvent, ApplyOptions, ApplyOutcome, EngineError, Plan, apply_schema, plan_schema,
};

/// The annotation that approves a plan by its hash.
pub const APPROVE_ANNOTATION: &str = "foxdb.dev/approve-plan";
/// Annotation naming the FoxSchema this one takes its database over from (a rename).
pub const REPLACES_ANNOTATION: &str = "foxdb.dev/replaces";

/// Metrics label of this controller.
pub const KIND: &str = "FoxSchema";

/// Reconciles one FoxSchema (see the module docs for the flow).
///
/// # Errors
/// Errors that a retry may fix (API, database, lock); the status already says what happened.
pub async fn reconcile(schema: Arc<FoxSchema>, context: Arc<Context>) -> Result<Action> {
    reconcile_object(KIND, schema, &context.clone(), |schema| {
        apply(schema, context.clone())
    })
    .await
}

/// Requeues after an error: soon for what may pass (database down, lock held), later for what
/// needs a change of the resource.
pub fn error_policy(schema: Arc<FoxSchema>, error: &Error, context: Arc<Context>) -> Action {
    retry_after_error(KIND, schema.as_ref(), error, &context)
}

/// What one pass decided, turned into status below.
pub(super) struct Outcome {
    pub(super) phase: SchemaPhase,
    pub(super) plan: Option<PlanSummary>,
    pub(super) conditions: Vec<ConditionUpdate>,
    pub(super) applied: Option<String>,
    /// With `spec.tenants`: the tenants that failed this pass.
    pub(super) failed_tenants: Vec<fox_crds::tenants::FailedTenant>,
    pub(super) requeue: Duration,
}

async fn apply(schema: Arc<FoxSchema>, context: Arc<Context>) -> Result<Action> {
    let namespace = schema.namespace().unwrap_or_default();
    let name = schema.name_any();
    let api: Api<FoxSchema> = Api::namespaced(context.client.clone(), &namespace);
    let previous = schema.status.clone().unwrap_or_default();
    let mut target = None;
    let result = decide(&schema, &previous, &context, &mut target).await;
    let (outcome, error) = match result {
        Ok(outcome) => (outcome, None),
        Err(error) => (failure_outcome(&error, &previous), Some(error)),
    };
    let now = Timestamp::now();
    let generation = schema.metadata.generation;
    let mut status = FoxSchemaStatus {
        conditions: merge_conditions(&previous.conditions, &outcome.conditions, generation, now),
        phase: Some(outcome.phase),
        plan: outcome.plan,
        applied_generation: previous.applied_generation,
        applied_plan_hash: previous.applied_plan_hash.clone(),
        applied_target: previous.applied_target.clone(),
        last_applied_time: previous.last_applied_time.clone(),
        observed_generation: generation,
        failed_tenants: outcome.failed_tenants,
    };
    if let Some(hash) = outcome.applied {
        status.applied_generation = generation;
        status.applied_plan_hash = Some(hash);
        status.applied_target = target;
        status.last_applied_time = Some(now.to_string());
    } else if outcome.phase == SchemaPhase::Applied {
        // In sync without running anything (the database already matched this generation).
        status.applied_generation = generation;
        status.applied_target = target;
    }
    let waiting = find_condition(&status.conditions, ConditionType::Ready)
        .is_some_and(|c| c.status == "False" && c.reason == "ApprovalPending");
    context
        .metrics
        .schema_approval_pending
        .with_label_values(&[&schema.namespace().unwrap_or_default(), &name])
        .set(i64::from(waiting));
    if Some(&status) != schema.status.as_ref() {
        apply_status(&api, &name, &status).await?;
    }
    match error {
        Some(error) => {
            let object = schema.object_ref(&());
            context
                .publish(
                    &object,
                    error.condition_reason(),
                    "Apply",
                    error.public_message(),
                )
                .await;
            Err(error)
        }
        None => Ok(Action::requeue(outcome.requeue)),
    }
}

fn failure_outcome(error: &Error, previous: &FoxSchemaStatus) -> Outcome {
    let (blocked, phase) = match error {
        Error::Engine(
            EngineError::DestructiveRefused { .. } | EngineError::OwnedByAnotherSchema { .. },
        ) => (true, SchemaPhase::Blocked),
        _ => (false, SchemaPhase::Failed),
    };
    let reason = error.condition_reason();
    let not_evaluated = |type_| ConditionUpdate::unknown(type_, reason, "not evaluated: see Ready");
    Outcome {
        phase,
        plan: previous.plan.clone(),
        conditions: vec![
            ConditionUpdate::no(ConditionType::Ready, reason, error.public_message()),
            if blocked {
                ConditionUpdate::yes(ConditionType::Blocked, reason, error.public_message())
            } else {
                not_evaluated(ConditionType::Blocked)
            },
            not_evaluated(ConditionType::Planned),
            not_evaluated(ConditionType::Drifted),
        ],
        applied: None,
        failed_tenants: previous.failed_tenants.clone(),
        requeue: Duration::from_secs(15),
    }
}

/// A digest naming the database a plan goes to, without credentials: the FoxReplicaSet's uid,
/// the primary's host and port, and the database name.
fn target_digest(database: &FoxReplicaSet, url: &DatabaseUrl) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(
        format!(
            "{}\n{}\n{}",
            database.metadata.uid.as_deref().unwrap_or_default(),
            url.location(),
            url.database_name()
        )
        .as_bytes(),
    );
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

async fn decide(
    schema: &FoxSchema,
    previous: &FoxSchemaStatus,
    context: &Context,
    target: &mut Option<String>,
) -> Result<Outcome> {
    super::error::check_valid(KIND, schema, FoxSchema::validate)?;
    if !schema.spec.collections.is_empty() {
        let decided: std::pin::Pin<Box<dyn Future<Output = Result<Outcome>> + Send + '_>> =
            Box::pin(super::schema_collections::decide_collections(
                schema, previous, context, target,
            ));
        return decided.await;
    }
    let (database, url) = resolve_primary(
        &context.client,
        &schema.namespace().unwrap_or_default(),
        &schema.spec.database_ref,
        "applying FoxSchema collections",
    )
    .await?;
    let digest = target_digest(&database, &url);
    *target = Some(digest.clone());
    let spec = &schema.spec;
    if let Some(tenants) = &spec.tenants {
        // Boxed as `Send` here, where every lifetime is concrete: the controller's future
        // must be `Send`, which the compiler cannot prove for the nested futures generically.
        let decided: std::pin::Pin<Box<dyn Future<Output = Result<Outcome>> + Send + '_>> =
            Box::pin(super::schema_tenants::decide_tenants(
                schema, tenants, &url, &digest, previous, context,
            ));
        return decided.await;
    }
    // An approval is for this plan, on this database, for this generation of the FoxSchema.
    let scope = ApprovalScope {
        target: digest.clone(),
        generation: schema.metadata.generation,
    };
    let scoped_summary = |plan: &Plan| {
        let mut summary = summarize(plan);
        summary.hash = approval_hash(&plan.hash, &scope);
        summary
    };
    let plan = plan_schema(&url, spec).await?;
    let summary = scoped_summary(&plan);
    if plan.is_empty() {
        return Ok(in_sync(previous, context));
    }
    // Drift: this very spec was applied to this very database, and they differ now. A new
    // generation, or a FoxReplicaSet now pointing elsewhere, is simply applied.
    let drifted = previous.applied_generation.is_some()
        && previous.applied_generation == schema.metadata.generation
        && previous.applied_target.as_deref() == Some(digest.as_str());
    let drift_condition = if drifted {
        ConditionUpdate::yes(
            ConditionType::Drifted,
            Reason::LiveSchemaChanged,
            format!(
                "the database was changed outside FoxDB; repairing it takes: {}",
                summary.changes.join("; ")
            ),
        )
    } else {
        ConditionUpdate::no(ConditionType::Drifted, Reason::NotApplied, "")
    };
    let object = schema.object_ref(&());
    if drifted && spec.policy.on_drift == DriftPolicy::Report {
        context
            .publish(
                &object,
                Reason::DriftDetected,
                "Plan",
                format!(
                    "database differs from the applied schema ({} change(s), plan {}); policy.onDrift is Report, nothing applied",
                    summary.changes.len(),
                    summary.hash
                ),
            )
            .await;
        return Ok(Outcome {
            phase: SchemaPhase::Planned,
            plan: Some(summary),
            conditions: vec![
                ConditionUpdate::no(
                    ConditionType::Ready,
                    Reason::Drifted,
                    "the database drifted from the applied schema; see the Drifted condition",
                ),
                ConditionUpdate::yes(
                    ConditionType::Planned,
                    Reason::RepairPlanned,
                    "a plan repairs the drift",
                ),
                ConditionUpdate::no(ConditionType::Blocked, Reason::NotBlocked, ""),
                drift_condition,
            ],
            applied: None,
            failed_tenants: Vec::new(),
            requeue: context.resync,
        });
    }
    let impossible = plan.impossible();
    if !impossible.is_empty() {
        return Err(Error::Engine(EngineError::Impossible {
            reasons: impossible,
        }));
    }
    let blocked = |reason: Reason, message: String| Outcome {
        phase: SchemaPhase::Blocked,
        plan: Some(summary.clone()),
        conditions: vec![
            ConditionUpdate::no(ConditionType::Ready, reason, message.clone()),
            ConditionUpdate::yes(
                ConditionType::Planned,
                Reason::PlanReady,
                plan_line(&summary),
            ),
            ConditionUpdate::yes(ConditionType::Blocked, reason, message),
            drift_condition.clone(),
        ],
        applied: None,
        failed_tenants: Vec::new(),
        requeue: context.resync,
    };
    if !summary.destructive.is_empty() && !spec.policy.allow_destructive {
        let message = format!(
            "the plan has {} destructive change(s) and policy.allowDestructive is false: {}",
            summary.destructive.len(),
            summary.destructive.join("; ")
        );
        announce_block(
            context,
            &object,
            previous,
            &summary,
            Reason::DestructiveChange,
            &message,
        )
        .await;
        return Ok(blocked(Reason::DestructiveChange, message));
    }
    let approved = schema
        .annotations()
        .get(APPROVE_ANNOTATION)
        .map(|value| value.trim().to_string());
    if spec.policy.require_approval && approved.as_deref() != Some(summary.hash.as_str()) {
        let message = format!(
            "plan {} waits for approval: kubectl annotate fxs {} {APPROVE_ANNOTATION}={} --overwrite",
            summary.hash,
            schema.name_any(),
            summary.hash
        );
        announce_block(
            context,
            &object,
            previous,
            &summary,
            Reason::ApprovalPending,
            &message,
        )
        .await;
        return Ok(blocked(Reason::ApprovalPending, message));
    }
    let options = ApplyOptions {
        schema_name: schema.name_any(),
        owner_uid: schema.metadata.uid.clone(),
        replaces: schema.annotations().get(REPLACES_ANNOTATION).cloned(),
        allow_destructive: spec.policy.allow_destructive,
        require_approval: spec.policy.require_approval,
        approve: approved.clone(),
        approval_scope: Some(scope.clone()),
        dry_run: false,
        lock_timeout: Duration::from_secs(u64::from(spec.policy.lock_timeout_seconds)),
    };
    let outcome = apply_schema(&url, spec, &options, &mut ignore_progress).await?;
    // Retention: each reconcile deletes the audit records older than retentionDays. A failed
    // prune is retried at the next reconcile; it does not fail this one.
    match crate::engine::prune_expired_audit(&url).await {
        Ok(pruned) => {
            for (table, deleted) in pruned.iter().filter(|(_, deleted)| *deleted > 0) {
                tracing::info!(table, deleted, "expired audit records deleted");
            }
        }
        Err(error) => tracing::warn!(%error, "deleting expired audit records failed"),
    }
    // Change-log retention: each reconcile deletes the changes of a captured table older than
    // its realtimeRetentionDays (never one a durable subscriber has not acknowledged).
    match crate::engine::prune_expired_changes(&url, spec).await {
        Ok(pruned) => {
            for (table, deleted) in pruned.iter().filter(|(_, deleted)| *deleted > 0) {
                tracing::info!(
                    table,
                    deleted,
                    "expired changes deleted from the change log"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "deleting expired changes failed"),
    }
    match outcome {
        ApplyOutcome::Applied { plan, duration, .. } => {
            let namespace = schema.namespace().unwrap_or_default();
            let labels = [namespace.as_str(), &schema.name_any()];
            context
                .metrics
                .schema_apply_duration
                .with_label_values(&labels)
                .observe(duration.as_secs_f64());
            context
                .metrics
                .schema_apply_statements
                .with_label_values(&labels)
                .inc_by(plan.statements.len() as u64);
            let applied = scoped_summary(&plan);
            if approved.is_some() {
                clear_approval(schema, context).await;
            }
            let message = format!(
                "applied plan {}: {} in {} ms",
                applied.hash,
                crate::commands::report::plan_summary(&plan),
                duration.as_millis()
            );
            tracing::info!(plan = %applied.hash, statements = applied.statements, "applied");
            context
                .publish(&object, Reason::Applied, "Apply", message.clone())
                .await;
            Ok(Outcome {
                phase: SchemaPhase::Applied,
                plan: None,
                conditions: applied_conditions(
                    ConditionUpdate::yes(ConditionType::Ready, Reason::Applied, message),
                    ConditionUpdate::no(ConditionType::Drifted, Reason::InSync, ""),
                ),
                applied: Some(applied.hash),
                failed_tenants: Vec::new(),
                requeue: context.resync,
            })
        }
        ApplyOutcome::InSync { .. } => Ok(in_sync(previous, context)),
        ApplyOutcome::AwaitingApproval(plan) => {
            // The database changed between the plan and the apply: the approved hash no
            // longer matches, so the new plan waits for its own approval.
            let summary = scoped_summary(&plan);
            let message = format!(
                "the plan changed to {} before it could be applied; approve the new hash",
                summary.hash
            );
            Ok(Outcome {
                phase: SchemaPhase::Blocked,
                plan: Some(summary.clone()),
                conditions: vec![
                    ConditionUpdate::no(
                        ConditionType::Ready,
                        Reason::ApprovalPending,
                        message.clone(),
                    ),
                    ConditionUpdate::yes(
                        ConditionType::Planned,
                        Reason::PlanReady,
                        plan_line(&summary),
                    ),
                    ConditionUpdate::yes(ConditionType::Blocked, Reason::ApprovalPending, message),
                    drift_condition,
                ],
                applied: None,
                failed_tenants: Vec::new(),
                requeue: context.resync,
            })
        }
        // `dry_run` is false above; the engine never answers a dry run here.
        ApplyOutcome::DryRun(_) => Err(Error::Unsupported {
            engine: "any".into(),
            feature: "a dry run from the controller".into(),
        }),
    }
}

/// The database matches: `Ready` keeps its last True message (what was applied), so a resync
/// that finds nothing to do writes nothing.
/// The conditions of a schema whose plan was applied (or needed nothing): `ready`, nothing
/// planned, not blocked, and `drift`.
pub(super) fn applied_conditions(
    ready: ConditionUpdate,
    drift: ConditionUpdate,
) -> Vec<ConditionUpdate> {
    vec![
        ready,
        ConditionUpdate::no(
            ConditionType::Planned,
            Reason::NoChanges,
            "nothing to apply",
        ),
        ConditionUpdate::no(ConditionType::Blocked, Reason::NotBlocked, ""),
        drift,
    ]
}

pub(super) fn in_sync(previous: &FoxSchemaStatus, context: &Context) -> Outcome {
    let ready = match find_condition(&previous.conditions, ConditionType::Ready) {
        Some(c) if c.status == "True" => {
            // The last True reason stays (`Applied`); one this version does not know reads as
            // `InSync`.
            ConditionUpdate::yes(
                ConditionType::Ready,
                Reason::parse(&c.reason).unwrap_or(Reason::InSync),
                c.message.clone(),
            )
        }
        _ => ConditionUpdate::yes(
            ConditionType::Ready,
            Reason::InSync,
            "the database matches the schema",
        ),
    };
    Outcome {
        phase: SchemaPhase::Applied,
        plan: None,
        conditions: applied_conditions(
            ready,
            ConditionUpdate::no(ConditionType::Drifted, Reason::InSync, ""),
        ),
        applied: None,
        failed_tenants: Vec::new(),
        requeue: context.resync,
    }
}

/// Statement progress is not reported per statement in a cluster (status shows the outcome).
fn ignore_progress(_event: ApplyEvent<'_>) {}

/// Publishes a Blocked event once per plan (not on every resync).
pub(super) async fn announce_block(
    context: &Context,
    object: &k8s_openapi::api::core::v1::ObjectReference,
    previous: &FoxSchemaStatus,
    summary: &PlanSummary,
    reason: Reason,
    message: &str,
) {
    let already = previous.phase == Some(SchemaPhase::Blocked)
        && previous.plan.as_ref().map(|p| &p.hash) == Some(&summary.hash);
    if !already {
        context
            .publish(object, reason, "Plan", message.to_string())
            .await;
    }
}

pub(super) fn plan_line(summary: &PlanSummary) -> String {
    format!(
        "plan {}: {} change(s), {} statement(s)",
        summary.hash,
        summary.changes.len(),
        summary.statements
    )
}

/// The plan in words for status.
/// Removes the approval annotation after the apply it approved, so it cannot approve anything
/// later (a failure is logged: the annotation's hash matches no other plan anyway).
async fn clear_approval(schema: &FoxSchema, context: &Context) {
    let api: Api<FoxSchema> = Api::namespaced(
        context.client.clone(),
        &schema.namespace().unwrap_or_default(),
    );
    let patch = serde_json::json!({"metadata": {"annotations": {APPROVE_ANNOTATION: null}}});
    if let Err(error) = api
        .patch(
            &schema.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        tracing::warn!(%error, "could not remove the approval annotation after the apply it approved");
    }
}

pub fn summarize(plan: &Plan) -> PlanSummary {
    let mut changes: Vec<String> = plan
        .changes
        .iter()
        .map(|c| format!("{} {}", c.change.symbol(), c.change))
        .collect();
    for (table, count) in plan.seed_rows_per_table() {
        changes.push(format!("+ upsert {count} seed row(s) into {table}"));
    }
    PlanSummary {
        hash: plan.hash.clone(),
        changes,
        destructive: plan.destructive(),
        statements: u32::try_from(plan.all_sql().len()).unwrap_or(u32::MAX),
    }
}
