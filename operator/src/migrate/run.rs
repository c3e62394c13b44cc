//! Running the `up` or `down` steps of migrations, with the guarantees in the module docs of
//! [`super`].

use std::time::Instant;

use foxdb::{Backend, Connection};

use super::error::server_message;
use super::source::Migration;
use super::sql_split::{SqlStatement, split_statements};
use super::state::{RecordStatus, RunOutcome, delete_version, log_run, record_version};
use super::views::unreadable_views;
use super::{Direction, MigrateError, MigrateReport};
use crate::engine::bookkeeping::FoxTables;

/// One step ready to run: its migration and its statements.
struct Step<'a> {
    migration: &'a Migration,
    statements: Vec<SqlStatement>,
}

/// Runs (or, on a dry run, lists) the `direction` steps of `migrations` in order. Every step's
/// text is cut into statements before any runs.
///
/// # Errors
/// A step that cannot be read (nothing runs), a failing statement, database errors.
pub async fn run_steps(
    connection: &mut Connection,
    tables: &FoxTables,
    migrations: &[&Migration],
    direction: Direction,
    dry_run: bool,
) -> Result<MigrateReport, MigrateError> {
    let backend = connection.backend();
    let mut steps = Vec::new();
    for migration in migrations {
        let text = match direction {
            Direction::Up => migration.up.as_str(),
            Direction::Down => migration.down.as_deref().unwrap_or_default(),
        };
        let statements =
            split_statements(text, backend).map_err(|error| MigrateError::Unreadable {
                version: migration.version,
                name: migration.name.clone(),
                direction,
                error,
            })?;
        steps.push(Step {
            migration,
            statements,
        });
    }
    let mut report = MigrateReport::default();
    for step in steps {
        let migration = step.migration;
        if dry_run {
            report
                .would_run
                .push((migration.version, migration.name.clone()));
            continue;
        }
        let elapsed = run_step(connection, tables, &step, direction).await?;
        report
            .ran
            .push((migration.version, migration.name.clone(), elapsed));
    }
    if !report.ran.is_empty() {
        report.warnings = unreadable_views(connection, tables).await?;
    }
    Ok(report)
}

/// Whether a step runs in one transaction: always on SQLite (inside the run's exclusive
/// transaction), on PostgreSQL unless the migration opts out, never on MySQL (DDL commits).
fn runs_in_transaction(backend: Backend, migration: &Migration) -> bool {
    match backend {
        Backend::Sqlite => true,
        Backend::Postgres => migration.transactional,
        Backend::MySql => false,
    }
}

/// Runs one step; returns its duration in ms.
async fn run_step(
    connection: &mut Connection,
    tables: &FoxTables,
    step: &Step<'_>,
    direction: Direction,
) -> Result<u128, MigrateError> {
    let backend = connection.backend();
    let migration = step.migration;
    let statements = &step.statements;
    let total = statements.len();
    let checksum = migration.checksum();
    let label = direction.label();
    let started = Instant::now();
    let failed = |index: usize, error: &foxdb::Error, outcome: String| MigrateError::Failed {
        version: migration.version,
        name: migration.name.clone(),
        direction,
        index: index + 1,
        total,
        line: statements.get(index).map_or(0, |s| s.line),
        first_line: statements
            .get(index)
            .map(|s| s.first_line().to_string())
            .unwrap_or_default(),
        message: server_message(error),
        outcome,
    };

    // Every run of this step is logged with the same identity; only the outcome differs.
    let log = async |connection: &mut Connection,
                     outcome: RunOutcome,
                     elapsed: Option<u128>,
                     message: Option<&str>| {
        log_run(
            connection,
            tables,
            migration.version,
            &migration.name,
            label,
            outcome,
            &checksum,
            elapsed,
            message,
        )
        .await
    };

    // Records a completed step (applied, or forgotten after its down) and logs it.
    let finish = async |connection: &mut Connection| -> Result<u128, MigrateError> {
        let elapsed = started.elapsed().as_millis();
        match direction {
            Direction::Up => {
                record_version(
                    connection,
                    tables,
                    direction,
                    migration.version,
                    &migration.name,
                    &checksum,
                    RecordStatus::Applied,
                    total,
                    total,
                    None,
                    None,
                    Some(elapsed),
                )
                .await?;
            }
            Direction::Down => delete_version(connection, tables, migration.version).await?,
        }
        log(connection, RunOutcome::Ok, Some(elapsed), None).await?;
        Ok(elapsed)
    };
    if runs_in_transaction(backend, migration) {
        // On SQLite a savepoint inside the run's exclusive transaction.
        connection.begin().await?;
        for (index, statement) in statements.iter().enumerate() {
            if let Err(error) = connection.execute(&statement.text).await {
                let _ = connection.rollback().await;
                let _ = tables.restore_session(connection).await;
                let failure = failed(
                    index,
                    &error,
                    "rolled back: the database is unchanged by this migration".into(),
                );
                let _ = log(
                    connection,
                    RunOutcome::Failed,
                    None,
                    Some(&failure.to_string()),
                )
                .await;
                return Err(failure);
            }
        }
        // The bookkeeping rows are written as FoxDB's own role and settings.
        tables.restore_session(connection).await?;
        let elapsed = match finish(connection).await {
            Ok(elapsed) => elapsed,
            Err(error) => {
                // Without its record the migration must not stay either.
                let _ = connection.rollback().await;
                return Err(error);
            }
        };
        connection.commit().await?;
        return Ok(elapsed);
    }

    // Statement by statement, each completion recorded, so a stop leaves a dirty record.
    let record_progress = async |connection: &mut Connection,
                                 completed: usize,
                                 next: Option<&str>,
                                 message: Option<&str>| {
        record_version(
            connection,
            tables,
            direction,
            migration.version,
            &migration.name,
            &checksum,
            RecordStatus::Dirty,
            total,
            completed,
            next,
            message,
            None,
        )
        .await
    };
    let text_of = |index: usize| statements.get(index).map(|s| s.text.as_str());
    record_progress(connection, 0, text_of(0), None).await?;
    for (index, statement) in statements.iter().enumerate() {
        if let Err(error) = connection.execute(&statement.text).await {
            let _ = tables.restore_session(connection).await;
            let message = server_message(&error);
            record_progress(connection, index, Some(&statement.text), Some(&message)).await?;
            let way_out = match direction {
                Direction::Up => {
                    "undo them and run `fox migrate repair`, or finish the migration by hand and run `fox migrate repair --applied`"
                }
                Direction::Down => {
                    "finish the rollback by hand and run `fox migrate repair`, or restore what it removed and run `fox migrate repair --applied`"
                }
            };
            let failure = failed(
                index,
                &error,
                format!(
                    "{backend} kept the {index} statement(s) of the {label} step before it; the version is marked dirty: {way_out}"
                ),
            );
            log(
                connection,
                RunOutcome::Failed,
                None,
                Some(&failure.to_string()),
            )
            .await?;
            return Err(failure);
        }
        // After the last statement the next record is the final one: a stop before it leaves
        // the last statement named, since its own record cannot commit with it.
        if index + 1 < total {
            record_progress(connection, index + 1, text_of(index + 1), None).await?;
        }
    }
    tables.restore_session(connection).await?;
    finish(connection).await
}
