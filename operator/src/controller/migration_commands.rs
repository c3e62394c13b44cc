//! FoxMigrations of MongoDB (`upCommands`/`downCommands`) in the FoxMigration controller: the
//! same version order, exactly-once history, `rollbackTo` and status as SQL migrations, run by
//! [`crate::migrate::commands`] (the code `fox migrate` runs).
//!
//! # Expected flow
//! 1. Resolve `databaseRef` to a MongoDB FoxReplicaSet; read every FoxMigration of that
//!    database as a MongoDB migration (a SQL one among them, or two with one version, is
//!    refused).
//! 2. With `rollbackTo` below this version run `downCommands` of every applied version above
//!    it, newest first; otherwise run `upCommands` of every pending version up to this one. Both
//!    hold the database's lock document (`_fox_lock`, shared with `fox apply` and `fox migrate`).
//! 3. Read this version's record in `_fox_migrations` and publish it as for SQL.

use fox_crds::FoxMigration;
use fox_crds::FoxMigrationStatus;
use foxdb::document_store::{DocumentStoreError, DocumentStoreUrl};
use kube::ResourceExt;

use super::context::Context;
use super::error::{Error, Result};
use super::migration::{
    Decision, LOCK_TIMEOUT, Outcome, Recorded, announce_ran, decide, sibling_resources,
};
use super::secrets::resolve_document_store;
use crate::engine::EngineError;
use crate::migrate::VersionStatus;
use crate::migrate::commands::{
    CommandMigration, CommandMigrationStatus, CommandStatusLine, CommandsRefused,
    MIGRATIONS_COLLECTION, command_migration, commands_down, commands_status, commands_up,
    ordered_commands,
};

/// Runs `migration`, a FoxMigration with `upCommands`, and decides its status (see the module
/// docs).
///
/// # Errors
/// The FoxReplicaSet missing or not MongoDB, `spec.tenants` (not supported on MongoDB), an
/// unreachable server, the lock held by another applier, [`Error::CommandMigration`] for a
/// refused or failed run.
pub(super) async fn run_commands(
    migration: &FoxMigration,
    previous: &FoxMigrationStatus,
    context: &Context,
) -> Result<Outcome> {
    let namespace = migration.namespace().unwrap_or_default();
    let database_name = &migration.spec.database_ref.name;
    if migration.spec.tenants.is_some() {
        return Err(Error::Unsupported {
            engine: fox_crds::Engine::Mongodb.to_string(),
            feature: "spec.tenants on a MongoDB FoxMigration (upCommands)".into(),
        });
    }
    let (database, url) = resolve_document_store(
        &context.client,
        &namespace,
        &migration.spec.database_ref,
        "a MongoDB FoxMigration (spec.upCommands needs a MongoDB FoxReplicaSet)",
    )
    .await?;
    let resources = sibling_resources(migration, context).await?;
    let migrations = resources
        .iter()
        .map(|r| {
            command_migration(
                &format!("namespace {namespace} (FoxMigration/{})", r.name_any()),
                r,
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()
        .and_then(ordered_commands)
        .map_err(|error| Error::CommandMigration {
            message: error.to_string(),
            failed: true,
        })?;
    let version = migration.spec.version;
    let held_back = database.spec.rollback_to.filter(|to| version > *to);
    let (report, direction) = match held_back {
        Some(to) => (
            commands_down(&url, &migrations, Some(to), false, LOCK_TIMEOUT).await,
            "down",
        ),
        None => (
            commands_up(&url, &migrations, Some(version), false, LOCK_TIMEOUT).await,
            "up",
        ),
    };
    let report = match report {
        Ok(report) => report,
        Err(error) => return Err(run_error(error, &url, &migrations, version).await),
    };
    announce_ran(
        context,
        &namespace,
        database_name,
        direction,
        &report.ran,
        &resources,
    )
    .await;
    let lines = commands_status(&url, &migrations)
        .await
        .map_err(store_error)?;
    let line = lines.into_iter().find(|l| l.version == version);
    let rolled_back_now = direction == "down" && report.ran.iter().any(|(v, _, _)| *v == version);
    let (status, recorded, dirty_message) = match line {
        Some(line) => {
            let current = migrations.iter().find(|m| m.version == version);
            decision_parts(line, current)
        }
        None => (VersionStatus::Pending, Recorded::default(), String::new()),
    };
    Ok(decide(&Decision {
        version,
        status,
        recorded,
        dirty_message,
        up_field: "spec.upCommands",
        held_back,
        previous,
        rolled_back_now,
        database_name,
    }))
}

/// A status line of the MongoDB history in the words of [`decide`].
fn decision_parts(
    line: CommandStatusLine,
    current: Option<&CommandMigration>,
) -> (VersionStatus, Recorded, String) {
    let version = line.version;
    let dirty_message = format!(
        "version {version} ({}) stopped part way (dirty in {MIGRATIONS_COLLECTION}){}; MongoDB runs upCommands without a transaction, so the commands before the failing one stay: finish or undo them by hand, then delete its record ({{_id: {version}}}) to run it again",
        line.name,
        line.message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    );
    let status = match line.status {
        CommandMigrationStatus::Applied => VersionStatus::Applied,
        CommandMigrationStatus::Pending => VersionStatus::Pending,
        CommandMigrationStatus::Missing => VersionStatus::Missing,
        CommandMigrationStatus::Dirty => VersionStatus::Dirty,
        CommandMigrationStatus::Changed => VersionStatus::Changed {
            applied: line.recorded_checksum.clone().unwrap_or_default(),
            current: current.map(|m| m.checksum.clone()).unwrap_or_default(),
        },
    };
    let recorded = Recorded {
        checksum: line.recorded_checksum,
        applied_at: line.applied_at,
        duration_ms: line.duration_ms,
    };
    (status, recorded, dirty_message)
}

/// The controller error for a failed `up` or `down`: the lock and the connection as the schema
/// engine reports them, anything else as [`Error::CommandMigration`], failed when the run was
/// refused or this very version stopped part way.
async fn run_error(
    error: anyhow::Error,
    url: &DocumentStoreUrl,
    migrations: &[CommandMigration],
    version: u64,
) -> Error {
    let error = match error.downcast::<EngineError>() {
        Ok(engine) => return Error::Engine(engine),
        Err(other) => other,
    };
    let error = match error.downcast::<DocumentStoreError>() {
        Ok(store) => return Error::Engine(EngineError::DocumentStore(store)),
        Err(other) => other,
    };
    let refused = error.downcast_ref::<CommandsRefused>().is_some();
    let dirty = !refused
        && commands_status(url, migrations).await.is_ok_and(|lines| {
            lines
                .iter()
                .any(|l| l.version == version && l.status == CommandMigrationStatus::Dirty)
        });
    Error::CommandMigration {
        message: format!("{error:#}"),
        failed: refused || dirty,
    }
}

/// Reading the history failed: the connection as the schema engine reports it.
fn store_error(error: anyhow::Error) -> Error {
    match error.downcast::<DocumentStoreError>() {
        Ok(store) => Error::Engine(EngineError::DocumentStore(store)),
        Err(other) => Error::CommandMigration {
            message: format!("{:#}", other.context("reading the migration history")),
            failed: false,
        },
    }
}
