//! Versioned migrations: status, up, down and repair, under the same database lock as the
//! schema engine.
//!
//! # Expected flow
//! `migrate_up(url, migrations, options)` connects, takes the lock, applies the bookkeeping
//! tables, checks integrity (dirty records, changed checksums, versions missing from the files,
//! out-of-order versions) and then applies each pending migration in version order.
//!
//! # Guarantees
//! Each migration is applied at most once per database: the state is read and written under the
//! lock. A transactional migration (the default, on PostgreSQL) runs with its record in one
//! transaction, so a failure or kill leaves nothing of it. On SQLite one run of `up` or `down` is
//! one exclusive transaction (a kill undoes the whole run; a failing migration is rolled back to
//! its savepoint and the ones before it are kept). On MySQL, whose DDL commits implicitly, and for
//! `transactional: false` migrations, each completed statement is recorded: a migration that
//! stops part-way stays `dirty`, naming the statement and the step (up or down), and blocks
//! `up` and `down` until `fox migrate repair`. FoxDB's own tables are named with their schema
//! (or database), and the session state a migration changes (PostgreSQL search path, role and
//! settings; the MySQL default database) is put back after each migration.

pub mod adopt;
pub mod commands;
pub mod error;
pub mod integrity;
pub mod repair;
mod run;
mod script_lexer;
mod session;
pub mod source;
pub mod sql_split;
pub mod state;
pub mod tenants;
pub mod tool_history;
pub mod views;

use std::time::Duration;

use foxdb::DatabaseUrl;

use crate::engine::bookkeeping::FoxTables;
use crate::engine::session::connect;
use adopt::adopt_tool_history;
pub use error::MigrateError;
use integrity::{integrity_problems, status_lines, unknown_target};
pub use repair::{Repaired, migrate_repair};
use run::run_steps;
use session::Session;
use source::Migration;
use state::{AppliedMigration, read_applied};

/// Where one version stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VersionStatus {
    /// Applied with the checksum of the file.
    Applied,
    /// In the files, not applied.
    Pending,
    /// Applied, but the file's text changed since.
    Changed {
        /// Checksum recorded when applied.
        applied: String,
        /// Checksum of the file now.
        current: String,
    },
    /// Applied, but no file has it any more.
    Missing,
    /// Stopped part-way; needs `fox migrate repair`.
    Dirty,
}

impl VersionStatus {
    /// The word shown by `fox migrate status`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Pending => "pending",
            Self::Changed { .. } => "changed",
            Self::Missing => "missing",
            Self::Dirty => "dirty",
        }
    }
}

/// One line of `fox migrate status`.
#[derive(Clone, Debug)]
pub struct StatusLine {
    /// Version.
    pub version: u64,
    /// Name (from the file, else from the record).
    pub name: String,
    /// Where it stands.
    pub status: VersionStatus,
    /// The database record, if any.
    pub record: Option<AppliedMigration>,
}

/// Which step of a migration runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Apply.
    Up,
    /// Roll back.
    Down,
}

impl Direction {
    /// `up` or `down`, as recorded and shown.
    pub fn label(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Options of `up` and `down`.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// `up`: apply up to and including this version. `down`: roll back down to (not including)
    /// this version. Either way it must be a version in the files (or 0 for `down`).
    pub to: Option<u64>,
    /// List what would run; change nothing.
    pub dry_run: bool,
    /// Apply pending versions older than the newest applied one.
    pub allow_out_of_order: bool,
    /// How long to wait for the lock.
    pub lock_timeout: Duration,
}

/// What `up` or `down` did.
#[derive(Clone, Debug, Default)]
pub struct MigrateReport {
    /// (version, name, milliseconds) of each migration run.
    pub ran: Vec<(u64, String, u128)>,
    /// (version, name) that would run (dry run).
    pub would_run: Vec<(u64, String)>,
    /// What the run left that needs a person's attention (views that no longer read).
    pub warnings: Vec<String>,
    /// (version, name, tool) of each imported migration recorded as applied without running,
    /// because the tool it was imported from had applied it (on a dry run: would be).
    pub adopted: Vec<(u64, String, fox_crds::MigrationTool)>,
}

/// Reads the status of every version.
///
/// # Errors
/// Connection and database errors.
pub async fn migration_status(
    url: &DatabaseUrl,
    migrations: &[Migration],
) -> Result<Vec<StatusLine>, MigrateError> {
    let mut connection = connect(url).await?;
    // Read-only: without bookkeeping tables nothing is applied yet; any other failure to read
    // them is an error, never "pending".
    let read = async {
        let tables = FoxTables::locate(&mut connection).await?;
        if !tables.exists(&mut connection, "_fox_migrations").await? {
            return Ok(Vec::new());
        }
        read_applied(&mut connection, &tables).await
    }
    .await;
    connection.close().await;
    Ok(status_lines(
        migrations,
        &read.map_err(crate::engine::EngineError::from)?,
    ))
}

/// Applies pending migrations in version order.
///
/// # Errors
/// Integrity problems and a `--to` that names no version (nothing runs), a failing migration
/// (earlier ones stay applied), lock and database errors.
pub async fn migrate_up(
    url: &DatabaseUrl,
    migrations: &[Migration],
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    if let Some(refusal) = unknown_target(migrations, options.to, Direction::Up) {
        return Err(refusal);
    }
    let mut session = Session::open(url, options.lock_timeout).await?;
    let result = up_locked(&mut session, migrations, options).await;
    // SQLite keeps what completed before a failure (the failing one is rolled back to its
    // savepoint).
    let closed = session.close(!options.dry_run).await;
    let report = result?;
    closed?;
    Ok(report)
}

async fn up_locked(
    session: &mut Session,
    migrations: &[Migration],
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    let connection = &mut session.engine.connection;
    let mut applied = read_applied(connection, &session.tables).await?;
    let adopted = adopt_tool_history(
        connection,
        &session.tables,
        migrations,
        &applied,
        options.dry_run,
    )
    .await?;
    if !adopted.is_empty() {
        applied = if options.dry_run {
            let mut with_adopted = applied;
            with_adopted.extend(adopted.iter().filter_map(|(version, _, _)| {
                let migration = migrations.iter().find(|m| m.version == *version)?;
                Some(AppliedMigration::adopted(migration))
            }));
            with_adopted
        } else {
            read_applied(connection, &session.tables).await?
        };
    }
    let lines = status_lines(migrations, &applied);
    let problems = integrity_problems(&lines, options.allow_out_of_order);
    if !problems.is_empty() {
        return Err(MigrateError::Integrity { problems });
    }
    let pending: Vec<&Migration> = migrations
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .filter(|m| options.to.is_none_or(|to| m.version <= to))
        .collect();
    let mut report = run_steps(
        connection,
        &session.tables,
        &pending,
        Direction::Up,
        options.dry_run,
    )
    .await?;
    report.adopted = adopted;
    Ok(report)
}

/// Rolls back applied migrations, newest first, down to (not including) `options.to`; without
/// `to`, only the newest one.
///
/// # Errors
/// Integrity problems, irreversible or missing migrations and a `--to` that names no version
/// (nothing runs), a failing `down`, lock and database errors.
pub async fn migrate_down(
    url: &DatabaseUrl,
    migrations: &[Migration],
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    if let Some(refusal) = unknown_target(migrations, options.to, Direction::Down) {
        return Err(refusal);
    }
    let mut session = Session::open(url, options.lock_timeout).await?;
    let result = down_locked(&mut session, migrations, options).await;
    let closed = session.close(!options.dry_run).await;
    let report = result?;
    closed?;
    Ok(report)
}

async fn down_locked(
    session: &mut Session,
    migrations: &[Migration],
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    let applied = read_applied(&mut session.engine.connection, &session.tables).await?;
    let lines = status_lines(migrations, &applied);
    let problems = integrity_problems(&lines, true);
    if !problems.is_empty() {
        return Err(MigrateError::Integrity { problems });
    }
    let mut targets: Vec<&AppliedMigration> = applied.iter().collect();
    targets.sort_by_key(|a| std::cmp::Reverse(a.version));
    let targets: Vec<&AppliedMigration> = match options.to {
        Some(to) => targets.into_iter().filter(|a| a.version > to).collect(),
        None => targets.into_iter().take(1).collect(),
    };
    // Every step must be reversible before any runs.
    let mut steps = Vec::new();
    for record in targets {
        let Some(migration) = migrations.iter().find(|m| m.version == record.version) else {
            return Err(MigrateError::Irreversible {
                version: record.version,
                name: record.name.clone(),
                reason: "its file is not among the given files".into(),
            });
        };
        if migration
            .down
            .as_deref()
            .is_none_or(|d| d.trim().is_empty())
        {
            return Err(MigrateError::Irreversible {
                version: migration.version,
                name: migration.name.clone(),
                reason: "it has no down step".into(),
            });
        }
        steps.push(migration);
    }
    run_steps(
        &mut session.engine.connection,
        &session.tables,
        &steps,
        Direction::Down,
        options.dry_run,
    )
    .await
}
