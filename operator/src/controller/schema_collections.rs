//! FoxSchema of MongoDB collections: the same decisions as for tables (in sync, drift,
//! destructive changes blocked, approval, apply), with the document-store engine
//! ([`crate::engine::collections`]).

use std::time::Duration;

use fox_crds::schema::{DriftPolicy, FoxSchemaStatus, PlanSummary, SchemaPhase};
use fox_crds::{ConditionType, FoxSchema};
use foxdb::document_store::DocumentStoreUrl;
use kube::{Resource, ResourceExt};

use super::conditions::{ConditionUpdate, Reason};
use super::context::Context;
use super::error::Result;
use super::schema::{APPROVE_ANNOTATION, Outcome, announce_block, in_sync, plan_line};
use super::secrets::resolve_document_store;
use crate::engine::ApplyOptions;
use crate::engine::collections::{
    CollectionApplyOutcome, CollectionPlan, apply_collections, plan_collections,
};
use crate::engine::plan::{ApprovalScope, approval_hash};

/// Plans and, as the policy allows, applies `schema`'s collections.
///
/// # Errors
/// The FoxReplicaSet or its Secret missing or not MongoDB, an unreachable server, refusals of
/// the engine (`Locked`, failed commands).
pub(super) async fn decide_collections(
    schema: &FoxSchema,
    previous: &FoxSchemaStatus,
    context: &Context,
    target: &mut Option<String>,
) -> Result<Outcome> {
    let (database, url) = resolve_document_store(
        &context.client,
        &schema.namespace().unwrap_or_default(),
        &schema.spec.database_ref,
        "collections (a FoxSchema of collections needs a MongoDB FoxReplicaSet)",
    )
    .await?;
    let digest = target_digest(database.metadata.uid.as_deref(), &url);
    *target = Some(digest.clone());
    let spec = &schema.spec;
    let scope = ApprovalScope {
        target: digest.clone(),
        generation: schema.metadata.generation,
    };
    let plan = plan_collections(&url, spec).await?;
    if plan.is_empty() {
        return Ok(in_sync(previous, context));
    }
    let summary = summarize(&plan, &scope);
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
    let blocked = |reason: Reason, message: String, phase: SchemaPhase| Outcome {
        phase,
        plan: Some(summary.clone()),
        conditions: vec![
            ConditionUpdate::no(ConditionType::Ready, reason, message.clone()),
            ConditionUpdate::yes(
                ConditionType::Planned,
                Reason::PlanReady,
                plan_line(&summary),
            ),
            if phase == SchemaPhase::Blocked {
                ConditionUpdate::yes(ConditionType::Blocked, reason, message)
            } else {
                ConditionUpdate::no(ConditionType::Blocked, Reason::NotBlocked, "")
            },
            drift_condition.clone(),
        ],
        applied: None,
        failed_tenants: Vec::new(),
        requeue: context.resync,
    };
    if drifted && spec.policy.on_drift == DriftPolicy::Report {
        let message = format!(
            "database differs from the applied schema ({} change(s), plan {}); policy.onDrift is Report, nothing applied",
            summary.changes.len(),
            summary.hash
        );
        context
            .publish(&object, Reason::DriftDetected, "Plan", message.clone())
            .await;
        return Ok(blocked(Reason::Drifted, message, SchemaPhase::Planned));
    }
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
        return Ok(blocked(
            Reason::DestructiveChange,
            message,
            SchemaPhase::Blocked,
        ));
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
        return Ok(blocked(
            Reason::ApprovalPending,
            message,
            SchemaPhase::Blocked,
        ));
    }
    let options = ApplyOptions {
        schema_name: schema.name_any(),
        owner_uid: schema.metadata.uid.clone(),
        replaces: None,
        allow_destructive: spec.policy.allow_destructive,
        require_approval: spec.policy.require_approval,
        approve: approved,
        approval_scope: Some(scope.clone()),
        dry_run: false,
        lock_timeout: Duration::from_secs(u64::from(spec.policy.lock_timeout_seconds)),
    };
    match apply_collections(&url, spec, &options, &mut |_, _, _| {}).await? {
        CollectionApplyOutcome::Applied { plan, duration } => {
            let applied = summarize(&plan, &scope);
            let message = format!(
                "applied plan {}: {} in {} ms",
                applied.hash,
                crate::commands::collection_report::collection_plan_summary(&plan),
                duration.as_millis()
            );
            context
                .publish(&object, Reason::Applied, "Apply", message.clone())
                .await;
            Ok(Outcome {
                phase: SchemaPhase::Applied,
                plan: None,
                conditions: super::schema::applied_conditions(
                    ConditionUpdate::yes(ConditionType::Ready, Reason::Applied, message),
                    ConditionUpdate::no(ConditionType::Drifted, Reason::InSync, ""),
                ),
                applied: Some(applied.hash),
                failed_tenants: Vec::new(),
                requeue: context.resync,
            })
        }
        CollectionApplyOutcome::InSync => Ok(in_sync(previous, context)),
        CollectionApplyOutcome::AwaitingApproval(plan) | CollectionApplyOutcome::DryRun(plan) => {
            let summary = summarize(&plan, &scope);
            let message = format!(
                "the plan changed to {} before it could be applied; approve the new hash",
                summary.hash
            );
            Ok(blocked(
                Reason::ApprovalPending,
                message,
                SchemaPhase::Blocked,
            ))
        }
    }
}

/// The plan in words for status, its hash bound to `scope`.
fn summarize(plan: &CollectionPlan, scope: &ApprovalScope) -> PlanSummary {
    PlanSummary {
        hash: approval_hash(&plan.hash, scope),
        changes: plan
            .changes
            .iter()
            .map(|c| format!("{} {}", c.change.symbol(), c.change))
            .collect(),
        destructive: plan.destructive(),
        statements: u32::try_from(plan.changes.len()).unwrap_or(u32::MAX),
    }
}

/// A digest naming the database without credentials: the FoxReplicaSet's uid, the hosts and
/// the database name.
fn target_digest(uid: Option<&str>, url: &DocumentStoreUrl) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(
        format!(
            "{}\n{}\n{}",
            uid.unwrap_or_default(),
            url.location(),
            url.database_name()
        )
        .as_bytes(),
    );
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
