//! Taking over a database another migration tool migrated: the FoxMigrations `fox import
//! migrations` wrote carry `spec.importedFrom`; before `up` runs anything, each of them that the
//! tool's own bookkeeping records as applied is recorded in `_fox_migrations` as applied
//! (logged `adopted`) without running it.
//!
//! # Guarantees
//! Nothing is adopted (and nothing runs) when any imported migration is refused: one the tool
//! marks failed or dirty, one whose checksum in the tool's table differs from the file's, or one
//! whose `up` text no longer has the checksum recorded at import.

use fox_crds::MigrationTool;
use foxdb::Connection;

use super::source::Migration;
use super::state::{AppliedMigration, RecordStatus, RunOutcome, log_run, record_version};
use super::tool_history::{ToolHistory, ToolState, read_tool_history, tool_checksum};
use super::{Direction, MigrateError};
use crate::engine::bookkeeping::FoxTables;

/// Records as applied every imported migration its tool applied and FoxDB has no record of;
/// returns (version, name, tool) of each. On a dry run nothing is written.
///
/// # Errors
/// [`MigrateError::Integrity`] listing every refused migration (nothing is adopted then);
/// database errors.
pub async fn adopt_tool_history(
    connection: &mut Connection,
    tables: &FoxTables,
    migrations: &[Migration],
    applied: &[AppliedMigration],
    dry_run: bool,
) -> Result<Vec<(u64, String, MigrationTool)>, MigrateError> {
    let candidates: Vec<&Migration> = migrations
        .iter()
        .filter(|m| m.imported_from.is_some())
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .collect();
    let mut histories: Vec<(MigrationTool, ToolHistory)> = Vec::new();
    for migration in &candidates {
        let Some(imported) = &migration.imported_from else {
            continue;
        };
        if !histories.iter().any(|(tool, _)| *tool == imported.tool) {
            let history = read_tool_history(connection, tables, imported.tool).await?;
            histories.push((imported.tool, history));
        }
    }
    let mut problems = Vec::new();
    let mut adopted = Vec::new();
    for migration in candidates {
        let Some(imported) = &migration.imported_from else {
            continue;
        };
        let label = format!("version {} ({})", migration.version, migration.name);
        let file_checksum = tool_checksum(imported.tool, &migration.up);
        if file_checksum != imported.checksum {
            problems.push(format!(
                "{label}: its `up` text has {} checksum {} but was imported with {}; restore the text (an imported migration is never edited), or import the folder again",
                imported.tool,
                file_checksum.as_deref().unwrap_or("(none)"),
                imported.checksum.as_deref().unwrap_or("(none)")
            ));
            continue;
        }
        let Some(history) = histories
            .iter()
            .find(|(tool, _)| *tool == imported.tool)
            .map(|(_, h)| h)
        else {
            continue;
        };
        match history.state_of(imported.tool, &imported.version) {
            None => {}
            Some(ToolState::Failed { reason }) => problems.push(format!(
                "{label}: {} did not complete it ({reason}); finish or undo it with {} first, then run `fox migrate up` again",
                imported.tool, imported.tool
            )),
            Some(ToolState::Applied { checksum }) => {
                if let (Some(recorded), Some(file)) = (&checksum, &file_checksum)
                    && recorded != file
                {
                    problems.push(format!(
                        "{label}: {} applied it with checksum {recorded} but its file now has checksum {file}; restore the file, or write a new migration for the change",
                        imported.tool
                    ));
                    continue;
                }
                adopted.push((migration, imported.tool));
            }
        }
    }
    if !problems.is_empty() {
        return Err(MigrateError::Integrity { problems });
    }
    if !dry_run {
        for (migration, tool) in &adopted {
            let checksum = migration.checksum();
            record_version(
                connection,
                tables,
                Direction::Up,
                migration.version,
                &migration.name,
                &checksum,
                RecordStatus::Applied,
                0,
                0,
                None,
                Some(&format!(
                    "applied by {tool}; adopted by FoxDB without running"
                )),
                None,
            )
            .await?;
            log_run(
                connection,
                tables,
                migration.version,
                &migration.name,
                Direction::Up.label(),
                RunOutcome::Adopted,
                &checksum,
                None,
                Some(&format!("applied by {tool}")),
            )
            .await?;
        }
    }
    Ok(adopted
        .into_iter()
        .map(|(m, tool)| (m.version, m.name.clone(), tool))
        .collect())
}

/// The imported migrations `up` would adopt on the database at `url` — (version, name, tool)
/// of each one its tool applied and FoxDB has no record of — read without the lock and without
/// writing anything, for `fox migrate status`. Problems `up` would refuse are left to `up`.
///
/// # Errors
/// Connection and database errors.
pub async fn adoptable_migrations(
    url: &foxdb::DatabaseUrl,
    migrations: &[Migration],
) -> Result<Vec<(u64, String, MigrationTool)>, MigrateError> {
    if migrations.iter().all(|m| m.imported_from.is_none()) {
        return Ok(Vec::new());
    }
    let mut connection = crate::engine::session::connect(url).await?;
    let read = async {
        let tables = FoxTables::locate(&mut connection).await?;
        let applied = if tables.exists(&mut connection, "_fox_migrations").await? {
            super::state::read_applied(&mut connection, &tables).await?
        } else {
            Vec::new()
        };
        let mut histories: Vec<(MigrationTool, ToolHistory)> = Vec::new();
        let mut adoptable = Vec::new();
        for migration in migrations {
            let Some(imported) = &migration.imported_from else {
                continue;
            };
            if applied.iter().any(|a| a.version == migration.version) {
                continue;
            }
            if !histories.iter().any(|(tool, _)| *tool == imported.tool) {
                let history = read_tool_history(&mut connection, &tables, imported.tool).await?;
                histories.push((imported.tool, history));
            }
            let applied_by_tool = histories
                .iter()
                .find(|(tool, _)| *tool == imported.tool)
                .and_then(|(_, history)| history.state_of(imported.tool, &imported.version))
                .is_some_and(|state| matches!(state, ToolState::Applied { .. }));
            if applied_by_tool {
                adoptable.push((migration.version, migration.name.clone(), imported.tool));
            }
        }
        Ok::<_, foxdb::Error>(adoptable)
    }
    .await;
    connection.close().await;
    Ok(read?)
}
