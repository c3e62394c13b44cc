//! The FoxSchema controller for a FoxSchema with `spec.tenants`: every tenant planned
//! together, then each tenant whose plan is not empty applied on its own; a tenant that fails
//! is listed in `status.failedTenants` while the others are applied.
//!
//! # Expected flow
//! 1. Resolve the tenants: schema tenants on the server of `databaseRef`, database tenants
//!    through their Secrets (a Secret that cannot be read fails that tenant alone).
//! 2. Plan every tenant. All empty: `Ready`, nothing written.
//! 3. A tenant whose plan is not empty for a generation already applied (and which did not
//!    fail last time) drifted: reported, and applied only with `policy.onDrift: Reapply`.
//! 4. Apply the others, one after another (each under its own lock; a missing tenant schema
//!    is created first). Destructive plans without `allowDestructive` fail their tenant.
//! 5. Status: `Ready` when every tenant is applied; otherwise `Failed` with the failed
//!    tenants and why, retried soon.

use std::time::Duration;

use fox_crds::FoxSchema;
use fox_crds::schema::{DriftPolicy, SchemaPhase};
use fox_crds::tenants::{FailedTenant, TenantsSpec};
use foxdb::DatabaseUrl;
use kube::{Resource, ResourceExt};

use super::conditions::ConditionType;
use super::conditions::{ConditionUpdate, Reason};
use super::context::Context;
use super::error::Error;
use super::schema::{Outcome, in_sync};
use super::secrets::read_connection_url;
use crate::engine::tenants::TenantTargets;
use crate::engine::{ApplyOptions, ApplyOutcome};
use fox_crds::FoxSchemaStatus;

/// How soon a FoxSchema with failed tenants is tried again.
const RETRY_FAILED_TENANTS: Duration = Duration::from_secs(30);

/// Plans and applies `schema` to its tenants (see the module documentation). `server` is the
/// database of its `databaseRef`, `digest` names it.
pub(super) async fn decide_tenants(
    schema: &FoxSchema,
    tenants: &TenantsSpec,
    server: &DatabaseUrl,
    digest: &str,
    previous: &FoxSchemaStatus,
    context: &Context,
) -> Result<Outcome, Error> {
    let namespace = schema.namespace().unwrap_or_default();
    let spec = &schema.spec;
    let (targets, mut failed) = resolve_tenants(tenants, server, &namespace, context).await;
    let total = tenants.names().len();
    // The same generation applied to the same database before: a tenant planning changes
    // now drifted, unless it failed last time (then it was never brought in sync).
    let applied_before = previous.applied_generation.is_some()
        && previous.applied_generation == schema.metadata.generation
        && previous.applied_target.as_deref() == Some(digest);
    let mut to_apply = Vec::new();
    let mut drifted = Vec::new();
    for result in targets.plan(spec).await {
        match result.outcome {
            Ok(plan) if plan.is_empty() => {}
            Ok(_)
                if applied_before
                    && !previous
                        .failed_tenants
                        .iter()
                        .any(|f| f.name == result.tenant) =>
            {
                drifted.push(result.tenant.clone());
                if spec.policy.on_drift == DriftPolicy::Reapply {
                    to_apply.push(result.tenant);
                }
            }
            // A plan that could not be made (say, a tenant database not created yet) is
            // attempted by the apply, which reports what fails.
            Ok(_) | Err(_) => to_apply.push(result.tenant),
        }
    }
    if to_apply.is_empty() && failed.is_empty() && drifted.is_empty() {
        return Ok(in_sync(previous, context));
    }
    let options = ApplyOptions {
        schema_name: schema.name_any(),
        owner_uid: schema.metadata.uid.clone(),
        replaces: None,
        allow_destructive: spec.policy.allow_destructive,
        require_approval: false,
        approve: None,
        approval_scope: None,
        dry_run: false,
        lock_timeout: Duration::from_secs(u64::from(spec.policy.lock_timeout_seconds)),
    };
    let mut applied = Vec::new();
    let mut statements = 0;
    if !to_apply.is_empty() {
        let results = targets
            .apply(spec, Some(&to_apply), &options, &mut |_| {}, &mut |_| {})
            .await;
        for result in results {
            match result.outcome {
                Ok(ApplyOutcome::Applied { plan, .. }) => {
                    statements += plan.statements.len();
                    applied.push(format!("{}:{}", result.tenant, plan.hash));
                }
                Ok(ApplyOutcome::InSync { .. }) => {}
                Ok(ApplyOutcome::DryRun(_) | ApplyOutcome::AwaitingApproval(_)) => {
                    failed.push(FailedTenant {
                        name: result.tenant,
                        message: "the plan was not applied (awaiting approval)".into(),
                    });
                }
                Err(error) => failed.push(FailedTenant {
                    name: result.tenant,
                    message: Error::Engine(error).public_message(),
                }),
            }
        }
    }
    let object = schema.object_ref(&());
    let reapplied = spec.policy.on_drift == DriftPolicy::Reapply;
    let drift_condition = if drifted.is_empty() {
        ConditionUpdate::no(ConditionType::Drifted, Reason::InSync, "")
    } else {
        ConditionUpdate::yes(
            ConditionType::Drifted,
            Reason::LiveSchemaChanged,
            format!(
                "tenant(s) changed outside FoxDB: {}{}",
                drifted.join(", "),
                if reapplied {
                    " (re-applied: policy.onDrift is Reapply)"
                } else {
                    " (policy.onDrift is Report: nothing applied to them)"
                }
            ),
        )
    };
    let applied_hash = (!applied.is_empty()).then(|| combined_hash(&applied));
    if !applied.is_empty() {
        let message = format!(
            "applied to {} of {total} tenant(s), {statements} statement(s)",
            applied.len()
        );
        context
            .publish(&object, Reason::Applied, "Apply", message)
            .await;
    }
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|f| f.name.as_str()).collect();
        let message = format!(
            "{} of {total} tenant(s) failed: {}; the others are applied (see status.failedTenants)",
            failed.len(),
            names.join(", ")
        );
        context
            .publish(&object, Reason::TenantsFailed, "Apply", message.clone())
            .await;
        return Ok(Outcome {
            phase: SchemaPhase::Failed,
            plan: None,
            conditions: vec![
                ConditionUpdate::no(ConditionType::Ready, Reason::TenantsFailed, message),
                ConditionUpdate::no(ConditionType::Planned, Reason::NoChanges, ""),
                ConditionUpdate::no(ConditionType::Blocked, Reason::NotBlocked, ""),
                drift_condition,
            ],
            applied: applied_hash,
            failed_tenants: failed,
            requeue: RETRY_FAILED_TENANTS,
        });
    }
    if !drifted.is_empty() && !reapplied {
        return Ok(Outcome {
            phase: SchemaPhase::Planned,
            plan: None,
            conditions: vec![
                ConditionUpdate::no(
                    ConditionType::Ready,
                    Reason::Drifted,
                    "tenant(s) drifted from the applied schema; see the Drifted condition",
                ),
                ConditionUpdate::yes(
                    ConditionType::Planned,
                    Reason::RepairPlanned,
                    "a plan repairs the drift of each drifted tenant",
                ),
                ConditionUpdate::no(ConditionType::Blocked, Reason::NotBlocked, ""),
                drift_condition,
            ],
            applied: applied_hash,
            failed_tenants: Vec::new(),
            requeue: context.resync,
        });
    }
    let message = format!(
        "{total} tenant(s) match the schema ({} applied now)",
        applied.len()
    );
    Ok(Outcome {
        phase: SchemaPhase::Applied,
        plan: None,
        conditions: super::schema::applied_conditions(
            ConditionUpdate::yes(ConditionType::Ready, Reason::Applied, message),
            drift_condition,
        ),
        applied: applied_hash,
        failed_tenants: Vec::new(),
        requeue: context.resync,
    })
}

/// Where each tenant of `tenants` lives: schema tenants on `server`, database tenants through
/// their Secrets in `namespace`. A tenant whose Secret cannot be read, or holds another
/// engine's URL, is returned as failed (the others are usable).
pub(super) async fn resolve_tenants(
    tenants: &TenantsSpec,
    server: &DatabaseUrl,
    namespace: &str,
    context: &Context,
) -> (TenantTargets, Vec<FailedTenant>) {
    let mut failed: Vec<FailedTenant> = Vec::new();
    let targets = if tenants.schemas.is_empty() {
        let mut databases = Vec::with_capacity(tenants.databases.len());
        for tenant in &tenants.databases {
            match read_connection_url(&context.client, namespace, &tenant.connection).await {
                Ok(url) if url.backend() == server.backend() => {
                    databases.push((tenant.name.clone(), url));
                }
                Ok(url) => failed.push(FailedTenant {
                    name: tenant.name.clone(),
                    message: format!(
                        "Secret {} holds a {} URL, but the FoxSchema's database is {}; a FoxSchema's tenants share one engine",
                        tenant.connection.name,
                        url.backend(),
                        server.backend()
                    ),
                }),
                Err(error) => failed.push(FailedTenant {
                    name: tenant.name.clone(),
                    message: error.public_message(),
                }),
            }
        }
        TenantTargets::Databases(databases)
    } else {
        TenantTargets::Schemas {
            server: server.clone(),
            names: tenants.schemas.clone(),
        }
    };
    (targets, failed)
}

/// One hash for the plans applied to several tenants (`tenant:hash` each), for
/// `status.appliedPlanHash`.
fn combined_hash(applied: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(applied.join("\n").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
