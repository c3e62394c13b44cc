//! The FoxMigration controller for a FoxMigration with `spec.tenants`: the migrations run in
//! each tenant of the FoxSchema that lists the tenants of the same `databaseRef`, instead of in
//! that database; a tenant that fails is listed in `status.failedTenants` while the others are
//! migrated.
//!
//! # Expected flow
//! 1. Find the FoxSchema in the namespace whose `spec.tenants` lists the tenants of
//!    `databaseRef` (exactly one) and resolve them as its controller does: schema tenants on
//!    the FoxReplicaSet's primary, database tenants through their Secrets.
//! 2. In each tenant this FoxMigration names (`all`, or `names`), one after another: apply
//!    every pending FoxMigration with `spec.tenants` that runs there, up to this version — or,
//!    under the FoxReplicaSet's `rollbackTo`, roll back down to it — each tenant under its own
//!    lock and with its own `_fox_migrations`.
//! 3. Read this version back in every tenant. `Applied` when it is applied in all; otherwise
//!    `Failed` with the failed tenants and why, retried soon.

use std::time::Duration;

use fox_crds::migration::MigrationPhase;
use fox_crds::tenants::{FailedTenant, MigrationTenants};
use fox_crds::{FoxMigration, FoxSchema};
use foxdb::DatabaseUrl;
use kube::api::ListParams;
use kube::{Api, Resource, ResourceExt};

use super::conditions::{ConditionType, ConditionUpdate, Reason};
use super::context::Context;
use super::error::{Error, Result};
use super::migration::Outcome;
use super::schema_tenants::resolve_tenants;
use crate::migrate::integrity::dirty_problem;
use crate::migrate::source::Migration;
use crate::migrate::tenants::{TenantCommand, TenantRun, migrate_tenants};
use crate::migrate::{MigrateOptions, VersionStatus};

/// How soon a FoxMigration with failed tenants is tried again.
const RETRY_FAILED_TENANTS: Duration = Duration::from_secs(30);

/// How long each tenant's run waits for another holder of its migration lock.
const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs `migration` and its siblings (the FoxMigrations of the same database with
/// `spec.tenants`, in version order) in the tenants it names (see the module documentation).
/// `server` is the primary of `databaseRef`; `held_back` is the FoxReplicaSet's `rollbackTo`
/// when this version is above it.
///
/// # Errors
/// No FoxSchema lists the tenants of `databaseRef`, or several do; Kubernetes API errors.
/// Failures in single tenants are not errors: they are in the outcome.
pub(super) async fn run_in_tenants(
    migration: &FoxMigration,
    selection: &MigrationTenants,
    server: &DatabaseUrl,
    siblings: &[(Migration, FoxMigration)],
    held_back: Option<u64>,
    context: &Context,
) -> Result<Outcome> {
    let namespace = migration.namespace().unwrap_or_default();
    let database = &migration.spec.database_ref.name;
    let schemas: Api<FoxSchema> = Api::namespaced(context.client.clone(), &namespace);
    let listing: Vec<FoxSchema> = schemas
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|s| &s.spec.database_ref.name == database && s.spec.tenants.is_some())
        .collect();
    let [schema] = listing.as_slice() else {
        return Err(Error::TenantsNotListed {
            namespace,
            database: database.clone(),
            found: listing.iter().map(ResourceExt::name_any).collect(),
        });
    };
    let tenants = schema.spec.tenants.clone().unwrap_or_default();
    let (targets, mut failed) = resolve_tenants(&tenants, server, &namespace, context).await;
    // Tenants whose Secret could not be read are already failed; the rest are reachable.
    let chosen: Vec<String> = targets
        .names()
        .into_iter()
        .filter(|tenant| selection.includes(tenant))
        .collect();
    for name in &selection.names {
        if !tenants.names().contains(name) {
            failed.push(FailedTenant {
                name: name.clone(),
                message: format!(
                    "not a tenant of FoxSchema/{} (spec.tenants); add it there first",
                    schema.name_any()
                ),
            });
        }
    }
    let total = chosen.len() + failed.len();
    let version = migration.spec.version;
    let migrations: Vec<Migration> = siblings.iter().map(|(m, _)| m.clone()).collect();
    let options = MigrateOptions {
        to: Some(held_back.unwrap_or(version)),
        dry_run: false,
        allow_out_of_order: false,
        lock_timeout: LOCK_TIMEOUT,
    };
    let (command, direction) = match held_back {
        Some(_) => (TenantCommand::Down, "down"),
        None => (TenantCommand::Up, "up"),
    };
    let mut ran: Vec<(u64, String, usize)> = Vec::new();
    let mut reached = Vec::new();
    for result in migrate_tenants(
        &targets,
        &chosen,
        &migrations,
        command,
        &options,
        &mut |_| {},
    )
    .await
    {
        match result.outcome {
            Ok(TenantRun::Ran(report)) => {
                for (ran_version, ran_name, _) in report.ran {
                    context
                        .metrics
                        .migrations
                        .with_label_values(&[namespace.as_str(), database, direction])
                        .inc();
                    match ran.iter_mut().find(|(v, _, _)| *v == ran_version) {
                        Some((_, _, count)) => *count += 1,
                        None => ran.push((ran_version, ran_name, 1)),
                    }
                }
                reached.push(result.tenant);
            }
            Ok(TenantRun::Status(_)) => reached.push(result.tenant),
            Err(error) => failed.push(FailedTenant {
                name: result.tenant,
                message: Error::Migrate(error).public_message(),
            }),
        }
    }
    publish_runs(&ran, siblings, direction, context).await;
    // Where this version stands in each tenant that ran.
    let mut applied = 0;
    let mut record = None;
    for result in migrate_tenants(
        &targets,
        &reached,
        &migrations,
        TenantCommand::Status,
        &options,
        &mut |_| {},
    )
    .await
    {
        let line = match result.outcome {
            Ok(TenantRun::Status(lines)) => lines.into_iter().find(|l| l.version == version),
            Ok(TenantRun::Ran(_)) => None,
            Err(error) => {
                failed.push(FailedTenant {
                    name: result.tenant,
                    message: Error::Migrate(error).public_message(),
                });
                continue;
            }
        };
        let problem = match line.as_ref().map(|l| &l.status) {
            Some(VersionStatus::Applied) if held_back.is_none() => {
                applied += 1;
                record = record.or_else(|| line.as_ref().and_then(|l| l.record.clone()));
                None
            }
            Some(VersionStatus::Applied) => Some(format!(
                "version {version} is still applied although rollbackTo holds it back"
            )),
            Some(VersionStatus::Changed { applied, current }) => Some(format!(
                "version {version} was applied with checksum {applied}, but spec.up now has checksum {current}; it is not re-run"
            )),
            Some(VersionStatus::Dirty) => Some(line.as_ref().and_then(|l| l.record.as_ref()).map_or_else(
                || format!("version {version} stopped part-way; fix the tenant, then run `fox migrate repair --tenant {}`", result.tenant),
                dirty_problem,
            )),
            Some(VersionStatus::Pending | VersionStatus::Missing) | None if held_back.is_some() => None,
            Some(VersionStatus::Pending | VersionStatus::Missing) | None => {
                Some(format!("version {version} is not applied"))
            }
        };
        if let Some(message) = problem {
            failed.push(FailedTenant {
                name: result.tenant,
                message,
            });
        }
    }
    failed.sort_by(|a, b| a.name.cmp(&b.name));
    failed.dedup_by(|a, b| a.name == b.name);
    let object = migration.object_ref(&());
    if !failed.is_empty() {
        let names: Vec<&str> = failed.iter().map(|f| f.name.as_str()).collect();
        let message = format!(
            "version {version}: {} of {total} tenant(s) failed: {}; the others are migrated (see status.failedTenants)",
            failed.len(),
            names.join(", ")
        );
        context
            .publish(&object, Reason::TenantsFailed, "Migrate", message.clone())
            .await;
        return Ok(Outcome {
            phase: MigrationPhase::Failed,
            conditions: vec![
                ConditionUpdate::no(ConditionType::Ready, Reason::TenantsFailed, message.clone()),
                ConditionUpdate::no(
                    ConditionType::Applied,
                    Reason::TenantsFailed,
                    format!("applied in {applied} of {total} tenant(s)"),
                ),
                ConditionUpdate::yes(ConditionType::Failed, Reason::TenantsFailed, message),
            ],
            checksum: record.as_ref().map(|r| r.checksum.clone()),
            applied_at: record.as_ref().map(|r| r.applied_at.clone()),
            duration_ms: None,
            failed_tenants: failed,
            requeue: Some(RETRY_FAILED_TENANTS),
        });
    }
    if let Some(to) = held_back {
        let message = format!(
            "held back by spec.rollbackTo={to} on FoxReplicaSet {database} in {total} tenant(s)"
        );
        return Ok(Outcome {
            phase: MigrationPhase::RolledBack,
            conditions: vec![
                ConditionUpdate::yes(ConditionType::Ready, Reason::RolledBack, message.clone()),
                ConditionUpdate::no(ConditionType::Applied, Reason::RolledBack, message),
                ConditionUpdate::no(ConditionType::Failed, Reason::NotFailed, ""),
            ],
            checksum: None,
            applied_at: None,
            duration_ms: None,
            failed_tenants: Vec::new(),
            requeue: None,
        });
    }
    let message = format!("version {version} is applied in {applied} tenant(s)");
    Ok(Outcome {
        phase: MigrationPhase::Applied,
        conditions: vec![
            ConditionUpdate::yes(ConditionType::Ready, Reason::Applied, message.clone()),
            ConditionUpdate::yes(ConditionType::Applied, Reason::Applied, message),
            ConditionUpdate::no(ConditionType::Failed, Reason::NotFailed, ""),
        ],
        checksum: record.as_ref().map(|r| r.checksum.clone()),
        applied_at: record.as_ref().map(|r| r.applied_at.clone()),
        duration_ms: record
            .as_ref()
            .and_then(|r| r.duration_ms)
            .and_then(|d| u64::try_from(d).ok()),
        failed_tenants: Vec::new(),
        requeue: None,
    })
}

/// One event per version that ran, on its FoxMigration: in how many tenants.
async fn publish_runs(
    ran: &[(u64, String, usize)],
    siblings: &[(Migration, FoxMigration)],
    direction: &str,
    context: &Context,
) {
    for (version, name, tenants) in ran {
        let Some((_, resource)) = siblings.iter().find(|(m, _)| m.version == *version) else {
            continue;
        };
        let (reason, action, verb) = if direction == "up" {
            (Reason::Applied, "Migrate", "applied")
        } else {
            (Reason::RolledBack, "Rollback", "rolled back")
        };
        context
            .publish(
                &resource.object_ref(&()),
                reason,
                action,
                format!("version {version} ({name}) {verb} in {tenants} tenant(s)"),
            )
            .await;
    }
}
