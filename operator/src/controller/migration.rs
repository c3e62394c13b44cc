//! The FoxMigration controller: applies the FoxMigrations of a database in version order,
//! exactly once, and rolls them back when the FoxReplicaSet's `spec.rollbackTo` asks.
//!
//! # Expected flow
//! 1. Resolve `databaseRef` and its primary's Secret; list every FoxMigration of that database
//!    in the namespace (one resource per version; duplicates are refused).
//! 2. If `rollbackTo` is set and this version is above it, run `down` for every applied version
//!    above it, newest first. Otherwise apply every pending version up to this one, in order.
//!    Both run under the engine's migration lock, so concurrent reconciles of sibling
//!    FoxMigrations (or a `fox migrate` on a laptop) take turns.
//! 3. Read the version's record back and publish it: phase, checksum, applied time, duration.
//!
//! FoxMigrations of MongoDB (`upCommands`) take the same steps in
//! [`super::migration_commands`] and are published by the same [`decide`].
//!
//! # Guarantees
//! A version is applied once: the history table in the database, not the resource's status,
//! decides. A changed `up` after apply is reported (`Changed`) and never re-run. Deleting a
//! FoxMigration does not roll it back; use `rollbackTo`.

use std::sync::Arc;
use std::time::Duration;

use fox_crds::migration::MigrationPhase;
use fox_crds::tenants::FailedTenant;
use fox_crds::{FoxMigration, FoxMigrationStatus};
use k8s_openapi::jiff::Timestamp;
use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};

use super::conditions::{ConditionType, ConditionUpdate, Reason, merge_conditions};
use super::context::Context;
use super::error::{Error, Result};
use super::secrets::resolve_primary;
use super::status::{apply_status, reconcile_object, retry_after_error};
use crate::migrate::integrity::dirty_problem;
use crate::migrate::source::{Migration, ordered, resource_migration};
use crate::migrate::{
    MigrateError, MigrateOptions, VersionStatus, migrate_down, migrate_up, migration_status,
};

/// Metrics label of this controller.
pub const KIND: &str = "FoxMigration";

/// How long a run waits for another holder of the migration lock.
pub(super) const LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// Reconciles one FoxMigration (see the module docs).
///
/// # Errors
/// Errors a retry may fix; status already reports them.
pub async fn reconcile(migration: Arc<FoxMigration>, context: Arc<Context>) -> Result<Action> {
    reconcile_object(KIND, migration, &context.clone(), |migration| {
        apply(migration, context.clone())
    })
    .await
}

/// Requeue policy after an error.
pub fn error_policy(migration: Arc<FoxMigration>, error: &Error, context: Arc<Context>) -> Action {
    retry_after_error(KIND, migration.as_ref(), error, &context)
}

/// What a pass decided: the status to publish and when to look again.
pub(super) struct Outcome {
    pub(super) phase: MigrationPhase,
    pub(super) conditions: Vec<ConditionUpdate>,
    pub(super) checksum: Option<String>,
    pub(super) applied_at: Option<String>,
    pub(super) duration_ms: Option<u64>,
    /// With `spec.tenants`: the tenants that failed this pass.
    pub(super) failed_tenants: Vec<FailedTenant>,
    /// Sooner than the resync (tenants failed).
    pub(super) requeue: Option<Duration>,
}

async fn apply(migration: Arc<FoxMigration>, context: Arc<Context>) -> Result<Action> {
    let namespace = migration.namespace().unwrap_or_default();
    let name = migration.name_any();
    let previous = migration.status.clone().unwrap_or_default();
    let (outcome, error) = match run(&migration, &previous, &context).await {
        Ok(outcome) => (outcome, None),
        Err(error) => {
            let failed = matches!(
                error,
                Error::Migrate(MigrateError::Failed { version, .. }) if version == migration.spec.version
            ) || matches!(
                error,
                Error::Migrate(
                    MigrateError::Integrity { .. }
                        | MigrateError::Irreversible { .. }
                        | MigrateError::Unreadable { .. }
                )
            ) || matches!(error, Error::CommandMigration { failed: true, .. });
            let outcome = Outcome {
                phase: if failed {
                    MigrationPhase::Failed
                } else {
                    previous.phase.unwrap_or(MigrationPhase::Pending)
                },
                conditions: vec![
                    ConditionUpdate::no(
                        ConditionType::Ready,
                        error.condition_reason(),
                        error.public_message(),
                    ),
                    if failed {
                        ConditionUpdate::yes(
                            ConditionType::Failed,
                            error.condition_reason(),
                            error.public_message(),
                        )
                    } else {
                        ConditionUpdate::no(ConditionType::Failed, Reason::NotFailed, "")
                    },
                ],
                checksum: previous.checksum.clone(),
                applied_at: previous.applied_at.clone(),
                duration_ms: previous.duration_ms,
                failed_tenants: previous.failed_tenants.clone(),
                requeue: None,
            };
            (outcome, Some(error))
        }
    };
    let generation = migration.metadata.generation;
    let status = FoxMigrationStatus {
        conditions: merge_conditions(
            &previous.conditions,
            &outcome.conditions,
            generation,
            Timestamp::now(),
        ),
        phase: Some(outcome.phase),
        checksum: outcome.checksum,
        applied_at: outcome.applied_at,
        duration_ms: outcome.duration_ms,
        observed_generation: generation,
        failed_tenants: outcome.failed_tenants,
    };
    if Some(&status) != migration.status.as_ref() {
        let api: Api<FoxMigration> = Api::namespaced(context.client.clone(), &namespace);
        apply_status(&api, &name, &status).await?;
    }
    match error {
        Some(error) => {
            let object = migration.object_ref(&());
            context
                .publish(
                    &object,
                    error.condition_reason(),
                    "Migrate",
                    error.public_message(),
                )
                .await;
            Err(error)
        }
        None => Ok(Action::requeue(outcome.requeue.unwrap_or(context.resync))),
    }
}

/// The FoxMigrations of the same database and kind (run in the database itself, or in its
/// tenants: `spec.tenants`), as engine migrations in version order, with the resource each
/// came from.
async fn sibling_migrations(
    migration: &FoxMigration,
    context: &Context,
) -> Result<Vec<(Migration, FoxMigration)>> {
    let namespace = migration.namespace().unwrap_or_default();
    let siblings = sibling_resources(migration, context).await?;
    let origin = format!("namespace {namespace}");
    let engine: Vec<Migration> = siblings
        .iter()
        .map(|m| resource_migration(&origin, m))
        .collect();
    let engine = ordered(engine).map_err(|error| {
        Error::Migrate(MigrateError::Integrity {
            problems: vec![error.to_string()],
        })
    })?;
    Ok(engine
        .into_iter()
        .filter_map(|m| {
            let resource = siblings
                .iter()
                .find(|s| s.spec.version == m.version)?
                .clone();
            Some((m, resource))
        })
        .collect())
}

/// The FoxMigration resources of the same database and kind as `migration` (run in the
/// database itself, or in its tenants), not being deleted.
pub(super) async fn sibling_resources(
    migration: &FoxMigration,
    context: &Context,
) -> Result<Vec<FoxMigration>> {
    let namespace = migration.namespace().unwrap_or_default();
    let api: Api<FoxMigration> = Api::namespaced(context.client.clone(), &namespace);
    let database = &migration.spec.database_ref.name;
    Ok(api
        .list(&ListParams::default())
        .await?
        .items
        .into_iter()
        .filter(|m| {
            &m.spec.database_ref.name == database
                && m.metadata.deletion_timestamp.is_none()
                && m.spec.tenants.is_some() == migration.spec.tenants.is_some()
        })
        .collect())
}

async fn run(
    migration: &FoxMigration,
    previous: &FoxMigrationStatus,
    context: &Context,
) -> Result<Outcome> {
    super::error::check_valid(KIND, migration, FoxMigration::validate)?;
    if migration.spec.up_commands.is_some() {
        return super::migration_commands::run_commands(migration, previous, context).await;
    }
    let namespace = migration.namespace().unwrap_or_default();
    let database_name = &migration.spec.database_ref.name;
    let (database, url) = resolve_primary(
        &context.client,
        &namespace,
        &migration.spec.database_ref,
        "a SQL FoxMigration (spec.up; MongoDB migrations use spec.upCommands)",
    )
    .await?;
    let siblings = sibling_migrations(migration, context).await?;
    let version = migration.spec.version;
    let held_back = database.spec.rollback_to.filter(|to| version > *to);
    if let Some(tenants) = &migration.spec.tenants {
        return super::migration_tenants::run_in_tenants(
            migration, tenants, &url, &siblings, held_back, context,
        )
        .await;
    }
    let migrations: Vec<Migration> = siblings.iter().map(|(m, _)| m.clone()).collect();
    let options = MigrateOptions {
        to: Some(held_back.unwrap_or(version)),
        dry_run: false,
        allow_out_of_order: false,
        lock_timeout: LOCK_TIMEOUT,
    };
    let (report, direction) = match held_back {
        Some(_) => (migrate_down(&url, &migrations, &options).await, "down"),
        None => (migrate_up(&url, &migrations, &options).await, "up"),
    };
    let report = report?;
    let resources: Vec<FoxMigration> = siblings.iter().map(|(_, r)| r.clone()).collect();
    announce_ran(
        context,
        &namespace,
        database_name,
        direction,
        &report.ran,
        &resources,
    )
    .await;
    let lines = migration_status(&url, &migrations).await?;
    let line = lines.into_iter().find(|l| l.version == version);
    let record = line.as_ref().and_then(|l| l.record.clone());
    let recorded = Recorded {
        checksum: record.as_ref().map(|r| r.checksum.clone()),
        applied_at: record.as_ref().map(|r| r.applied_at.clone()),
        duration_ms: record
            .as_ref()
            .and_then(|r| r.duration_ms)
            .and_then(|d| u64::try_from(d).ok()),
    };
    let dirty_message = record.as_ref().map_or_else(
        || format!("version {version} stopped part-way; fix the database, then run `fox migrate repair` against it"),
        dirty_problem,
    );
    let rolled_back_now = direction == "down" && report.ran.iter().any(|(v, _, _)| *v == version);
    Ok(decide(&Decision {
        version,
        status: line.map(|l| l.status).unwrap_or(VersionStatus::Pending),
        recorded,
        dirty_message,
        up_field: "spec.up",
        held_back,
        previous,
        rolled_back_now,
        database_name,
    }))
}

/// Counts what a run ran and posts an Event on each FoxMigration it ran.
pub(super) async fn announce_ran(
    context: &Context,
    namespace: &str,
    database_name: &str,
    direction: &str,
    ran: &[(u64, String, u128)],
    resources: &[FoxMigration],
) {
    for (ran_version, ran_name, millis) in ran {
        context
            .metrics
            .migrations
            .with_label_values(&[namespace, database_name, direction])
            .inc();
        if let Some(resource) = resources.iter().find(|r| r.spec.version == *ran_version) {
            let (reason, verb) = if direction == "up" {
                (Reason::Applied, "applied")
            } else {
                (Reason::RolledBack, "rolled back")
            };
            context
                .publish(
                    &resource.object_ref(&()),
                    reason,
                    if direction == "up" {
                        "Migrate"
                    } else {
                        "Rollback"
                    },
                    format!("version {ran_version} ({ran_name}) {verb} in {millis} ms"),
                )
                .await;
        }
    }
}

/// What the history in the database records for a version.
#[derive(Default)]
pub(super) struct Recorded {
    pub(super) checksum: Option<String>,
    pub(super) applied_at: Option<String>,
    pub(super) duration_ms: Option<u64>,
}

/// Where a version stands after a run, from the history of the database.
pub(super) struct Decision<'a> {
    pub(super) version: u64,
    pub(super) status: VersionStatus,
    pub(super) recorded: Recorded,
    /// What a dirty version means and the way out.
    pub(super) dirty_message: String,
    /// The field whose checksum is compared (`spec.up`, `spec.upCommands`).
    pub(super) up_field: &'static str,
    pub(super) held_back: Option<u64>,
    pub(super) previous: &'a FoxMigrationStatus,
    /// This version was rolled back by this run.
    pub(super) rolled_back_now: bool,
    pub(super) database_name: &'a str,
}

/// The status a FoxMigration publishes for a [`Decision`], the same for every engine.
pub(super) fn decide(decision: &Decision<'_>) -> Outcome {
    let Decision {
        version,
        recorded,
        held_back,
        previous,
        database_name,
        ..
    } = decision;
    let recorded = |phase, conditions| Outcome {
        phase,
        conditions,
        checksum: recorded.checksum.clone(),
        applied_at: recorded.applied_at.clone(),
        duration_ms: recorded.duration_ms,
        failed_tenants: Vec::new(),
        requeue: None,
    };
    match &decision.status {
        VersionStatus::Applied => recorded(
            MigrationPhase::Applied,
            vec![
                ConditionUpdate::yes(
                    ConditionType::Ready,
                    Reason::Applied,
                    format!("version {version} is applied"),
                ),
                ConditionUpdate::yes(
                    ConditionType::Applied,
                    Reason::Applied,
                    format!("version {version} is applied"),
                ),
                ConditionUpdate::no(ConditionType::Failed, Reason::NotFailed, ""),
            ],
        ),
        VersionStatus::Changed { applied, current } => {
            let message = format!(
                "version {version} was applied with checksum {applied}, but {} now has checksum {current}; it is not re-run: restore the text, or add a new FoxMigration for the change",
                decision.up_field
            );
            recorded(
                MigrationPhase::Changed,
                vec![
                    ConditionUpdate::no(
                        ConditionType::Ready,
                        Reason::ChecksumChanged,
                        message.clone(),
                    ),
                    ConditionUpdate::yes(
                        ConditionType::Applied,
                        Reason::Applied,
                        "applied with the earlier text",
                    ),
                    ConditionUpdate::yes(ConditionType::Failed, Reason::ChecksumChanged, message),
                ],
            )
        }
        VersionStatus::Dirty => {
            let message = decision.dirty_message.clone();
            recorded(
                MigrationPhase::Failed,
                vec![
                    ConditionUpdate::no(ConditionType::Ready, Reason::Dirty, message.clone()),
                    ConditionUpdate::no(
                        ConditionType::Applied,
                        Reason::Dirty,
                        "not completely applied",
                    ),
                    ConditionUpdate::yes(ConditionType::Failed, Reason::Dirty, message),
                ],
            )
        }
        VersionStatus::Pending | VersionStatus::Missing => match held_back {
            Some(to) => {
                let was_applied = matches!(
                    previous.phase,
                    Some(
                        MigrationPhase::Applied
                            | MigrationPhase::RolledBack
                            | MigrationPhase::Changed
                    )
                ) || decision.rolled_back_now;
                let message =
                    format!("held back by spec.rollbackTo={to} on FoxReplicaSet {database_name}");
                // Rolled back, or never applied and held back: either way the declared state
                // (not applied) is reached.
                let (phase, reason) = if was_applied {
                    (MigrationPhase::RolledBack, Reason::RolledBack)
                } else {
                    (MigrationPhase::Pending, Reason::HeldBack)
                };
                Outcome {
                    phase,
                    conditions: vec![
                        ConditionUpdate::yes(ConditionType::Ready, reason, message.clone()),
                        ConditionUpdate::no(ConditionType::Applied, reason, message),
                        ConditionUpdate::no(ConditionType::Failed, Reason::NotFailed, ""),
                    ],
                    checksum: None,
                    applied_at: None,
                    duration_ms: None,
                    failed_tenants: Vec::new(),
                    requeue: None,
                }
            }
            None => Outcome {
                phase: MigrationPhase::Pending,
                conditions: vec![
                    ConditionUpdate::no(ConditionType::Ready, Reason::Pending, "not applied yet"),
                    ConditionUpdate::no(ConditionType::Applied, Reason::Pending, "not applied yet"),
                    ConditionUpdate::no(ConditionType::Failed, Reason::NotFailed, ""),
                ],
                checksum: None,
                applied_at: None,
                duration_ms: None,
                failed_tenants: Vec::new(),
                requeue: None,
            },
        },
    }
}
