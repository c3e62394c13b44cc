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
//! stops part-way stays `dirty`, naming the statement, and blocks `up` and `down` until
//! `fox migrate repair`.

pub mod source;
pub mod sql_split;
pub mod state;

use std::time::{Duration, Instant};

use foxdb::{Backend, Connection, DatabaseUrl};

use crate::engine::EngineError;
use crate::engine::apply::connect;
use crate::engine::bookkeeping::apply_bookkeeping;
use crate::engine::lock::{DatabaseLock, acquire_lock};
use source::Migration;
use sql_split::split_statements;
use state::{AppliedMigration, delete_version, log_run, read_applied, record_version};

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

/// Options of `up` and `down`.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// `up`: apply up to and including this version. `down`: roll back down to (not including)
    /// this version.
    pub to: Option<u64>,
    /// List what would run; change nothing.
    pub dry_run: bool,
    /// Apply pending versions older than the newest applied one.
    pub allow_out_of_order: bool,
    /// How long to wait for the lock.
    pub lock_timeout: Duration,
}

/// What `up`, `down` or `repair` did.
#[derive(Clone, Debug, Default)]
pub struct MigrateReport {
    /// (version, name, milliseconds) of each migration run.
    pub ran: Vec<(u64, String, u128)>,
    /// (version, name) that would run (dry run).
    pub would_run: Vec<(u64, String)>,
}

/// Why a migration command stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// Lock, connection or database trouble.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The files and the database disagree.
    #[error("refusing to migrate:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Integrity {
        /// One line per problem.
        problems: Vec<String>,
    },
    /// A migration failed.
    #[error(
        "migration {version} ({name}) failed at statement {index} of {total}: {source}\n  statement: {statement}\n  {outcome}"
    )]
    Failed {
        /// Version.
        version: u64,
        /// Name.
        name: String,
        /// 1-based statement.
        index: usize,
        /// Statements in the migration.
        total: usize,
        /// The statement.
        statement: String,
        /// The state the database is in.
        outcome: String,
        /// The error.
        source: foxdb::Error,
    },
    /// A version cannot be rolled back.
    #[error("cannot roll back version {version} ({name}): {reason}")]
    Irreversible {
        /// Version.
        version: u64,
        /// Name.
        name: String,
        /// Why.
        reason: String,
    },
}

impl From<foxdb::Error> for MigrateError {
    fn from(error: foxdb::Error) -> Self {
        Self::Engine(error.into())
    }
}

/// Status of every version in the files or the database.
pub fn status_lines(migrations: &[Migration], applied: &[AppliedMigration]) -> Vec<StatusLine> {
    let mut lines: Vec<StatusLine> = migrations
        .iter()
        .map(|m| {
            let record = applied.iter().find(|a| a.version == m.version).cloned();
            let status = match &record {
                None => VersionStatus::Pending,
                Some(r) if r.status == "dirty" => VersionStatus::Dirty,
                Some(r) if r.checksum != m.checksum() => VersionStatus::Changed {
                    applied: r.checksum.clone(),
                    current: m.checksum(),
                },
                Some(_) => VersionStatus::Applied,
            };
            StatusLine {
                version: m.version,
                name: m.name.clone(),
                status,
                record,
            }
        })
        .collect();
    for record in applied {
        if !migrations.iter().any(|m| m.version == record.version) {
            lines.push(StatusLine {
                version: record.version,
                name: record.name.clone(),
                status: if record.status == "dirty" {
                    VersionStatus::Dirty
                } else {
                    VersionStatus::Missing
                },
                record: Some(record.clone()),
            });
        }
    }
    lines.sort_by_key(|l| l.version);
    lines
}

fn integrity_problems(lines: &[StatusLine], allow_out_of_order: bool) -> Vec<String> {
    let newest_applied = lines
        .iter()
        .filter(|l| l.record.is_some())
        .map(|l| l.version)
        .max();
    let mut problems = Vec::new();
    for line in lines {
        match &line.status {
            VersionStatus::Dirty => {
                let record = line.record.as_ref();
                problems.push(format!(
                    "version {} ({}) is dirty: it stopped after {} of {} statements{}{}; fix the database by hand, then run `fox migrate repair` (add --applied if you completed it)",
                    line.version,
                    line.name,
                    record.map_or(0, |r| r.completed_statements),
                    record.map_or(0, |r| r.statement_count),
                    record
                        .and_then(|r| r.failed_statement.as_deref())
                        .map(|s| format!("; the statement that did not complete: {s}"))
                        .unwrap_or_default(),
                    record
                        .and_then(|r| r.message.as_deref())
                        .map(|m| format!(" ({m})"))
                        .unwrap_or_default(),
                ));
            }
            VersionStatus::Changed { applied, current } => problems.push(format!(
                "version {} ({}) was applied with checksum {applied} but its file now has checksum {current}; restore the file, or write a new migration for the change",
                line.version, line.name
            )),
            VersionStatus::Missing => problems.push(format!(
                "version {} ({}) is applied but not in the given files; add it back",
                line.version, line.name
            )),
            VersionStatus::Pending if !allow_out_of_order && newest_applied.is_some_and(|n| line.version < n) => {
                problems.push(format!(
                    "version {} ({}) is older than the newest applied version {}; renumber it, or pass --allow-out-of-order",
                    line.version,
                    line.name,
                    newest_applied.unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    problems
}

/// Connection and lock held for one migration command.
struct Session {
    connection: Connection,
    lock: Option<DatabaseLock>,
}

impl Session {
    async fn open(url: &DatabaseUrl, lock_timeout: Duration) -> Result<Self, MigrateError> {
        let mut connection = connect(url).await?;
        if connection.backend() == Backend::Sqlite {
            // As for applies: generated migrations rebuild tables; keys are checked as a whole
            // before commit instead of cascading while tables are swapped.
            connection.execute("PRAGMA foreign_keys = OFF").await?;
        }
        let lock = acquire_lock(
            &mut connection,
            &url.database_name(),
            url.sqlite_path().as_deref(),
            lock_timeout,
        )
        .await?;
        let mut session = Self {
            connection,
            lock: Some(lock),
        };
        if let Err(error) = apply_bookkeeping(&mut session.connection).await {
            let _ = session.close(false).await;
            return Err(error.into());
        }
        Ok(session)
    }

    fn backend(&self) -> Backend {
        self.connection.backend()
    }

    /// Ends the SQLite run transaction (commit after a foreign key check, or rollback),
    /// releases the lock, disconnects.
    async fn close(mut self, commit: bool) -> Result<(), MigrateError> {
        let mut outcome = Ok(());
        if self.backend() == Backend::Sqlite {
            let violations = if commit {
                self.connection
                    .fetch_text_rows(
                        "SELECT \"table\", \"parent\" FROM pragma_foreign_key_check",
                        &[],
                    )
                    .await
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            if violations.is_empty() && commit {
                if let Err(error) = self.connection.execute("COMMIT").await {
                    outcome = Err(error.into());
                }
            } else {
                let _ = self.connection.execute("ROLLBACK").await;
                if !violations.is_empty() {
                    let described: Vec<String> = violations
                        .iter()
                        .take(5)
                        .map(|row| {
                            format!(
                                "{} → {}",
                                row[0].clone().unwrap_or_default(),
                                row[1].clone().unwrap_or_default()
                            )
                        })
                        .collect();
                    outcome = Err(MigrateError::Engine(EngineError::ForeignKeyViolation(
                        format!(
                            "{} violation(s) ({}); the whole run was rolled back",
                            violations.len(),
                            described.join(", ")
                        ),
                    )));
                }
            }
            let _ = self.connection.execute("PRAGMA foreign_keys = ON").await;
        }
        if let Some(lock) = self.lock.take() {
            let _ = lock.release(&mut self.connection).await;
        }
        self.connection.close().await;
        outcome
    }
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
    // Read-only: without bookkeeping tables nothing is applied yet.
    let applied = read_applied(&mut connection).await.unwrap_or_default();
    connection.close().await;
    Ok(status_lines(migrations, &applied))
}

/// Applies pending migrations in version order.
///
/// # Errors
/// Integrity problems (nothing runs), a failing migration (earlier ones stay applied), lock and
/// database errors.
pub async fn migrate_up(
    url: &DatabaseUrl,
    migrations: &[Migration],
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    let mut session = Session::open(url, options.lock_timeout).await?;
    let result = up_locked(&mut session.connection, migrations, options).await;
    // SQLite keeps what completed before a failure (the failing one is rolled back to its
    // savepoint).
    let closed = session.close(!options.dry_run).await;
    let report = result?;
    closed?;
    Ok(report)
}

async fn up_locked(
    connection: &mut Connection,
    migrations: &[Migration],
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    let applied = read_applied(connection).await?;
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
    run_steps(connection, &pending, Direction::Up, options.dry_run).await
}

/// Rolls back applied migrations, newest first, down to (not including) `options.to`; without
/// `to`, only the newest one.
///
/// # Errors
/// Integrity problems, irreversible or missing migrations (nothing runs), a failing `down`,
/// lock and database errors.
pub async fn migrate_down(
    url: &DatabaseUrl,
    migrations: &[Migration],
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    let mut session = Session::open(url, options.lock_timeout).await?;
    let result = down_locked(&mut session.connection, migrations, options).await;
    let closed = session.close(!options.dry_run).await;
    let report = result?;
    closed?;
    Ok(report)
}

async fn down_locked(
    connection: &mut Connection,
    migrations: &[Migration],
    options: &MigrateOptions,
) -> Result<MigrateReport, MigrateError> {
    let applied = read_applied(connection).await?;
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
    run_steps(connection, &steps, Direction::Down, options.dry_run).await
}

/// Resolves a dirty version after a person fixed the database: forgets it (so `up` runs it
/// again) or, with `mark_applied`, records it as applied.
///
/// # Errors
/// Lock and database errors.
pub async fn migrate_repair(
    url: &DatabaseUrl,
    migrations: &[Migration],
    version: Option<u64>,
    mark_applied: bool,
    lock_timeout: Duration,
) -> Result<Vec<u64>, MigrateError> {
    let mut session = Session::open(url, lock_timeout).await?;
    let result = async {
        let connection = &mut session.connection;
        let applied = read_applied(connection).await?;
        let mut repaired = Vec::new();
        for record in applied
            .iter()
            .filter(|a| a.status == "dirty" && version.is_none_or(|v| v == a.version))
        {
            if mark_applied {
                let checksum = migrations
                    .iter()
                    .find(|m| m.version == record.version)
                    .map_or_else(|| record.checksum.clone(), Migration::checksum);
                let count = record.statement_count.max(0) as usize;
                record_version(
                    connection,
                    record.version,
                    &record.name,
                    &checksum,
                    "applied",
                    count,
                    count,
                    None,
                    Some("marked applied by repair"),
                    None,
                )
                .await?;
            } else {
                delete_version(connection, record.version).await?;
            }
            log_run(
                connection,
                record.version,
                &record.name,
                "repair",
                if mark_applied { "applied" } else { "forgotten" },
                &record.checksum,
                None,
                None,
            )
            .await?;
            repaired.push(record.version);
        }
        Ok::<_, MigrateError>(repaired)
    }
    .await;
    let closed = session.close(true).await;
    let repaired = result?;
    closed?;
    Ok(repaired)
}

/// Runs (or, on a dry run, lists) `steps` in order.
async fn run_steps(
    connection: &mut Connection,
    steps: &[&Migration],
    direction: Direction,
    dry_run: bool,
) -> Result<MigrateReport, MigrateError> {
    let mut report = MigrateReport::default();
    for migration in steps {
        if dry_run {
            report
                .would_run
                .push((migration.version, migration.name.clone()));
            continue;
        }
        let elapsed = run_migration(connection, migration, direction).await?;
        report
            .ran
            .push((migration.version, migration.name.clone(), elapsed));
    }
    Ok(report)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// Runs one migration step with the semantics in the module docs; returns its duration in ms.
async fn run_migration(
    connection: &mut Connection,
    migration: &Migration,
    direction: Direction,
) -> Result<u128, MigrateError> {
    let backend = connection.backend();
    let text = match direction {
        Direction::Up => migration.up.as_str(),
        Direction::Down => migration.down.as_deref().unwrap_or_default(),
    };
    let statements = split_statements(text);
    let total = statements.len();
    let checksum = migration.checksum();
    let label = if direction == Direction::Up {
        "up"
    } else {
        "down"
    };
    let started = Instant::now();
    let transactional =
        backend == Backend::Sqlite || (backend == Backend::Postgres && migration.transactional);
    let failed = |index: usize, source: foxdb::Error, outcome: String| MigrateError::Failed {
        version: migration.version,
        name: migration.name.clone(),
        index: index + 1,
        total,
        statement: statements.get(index).cloned().unwrap_or_default(),
        outcome,
        source,
    };

    // Records a completed step (applied, or forgotten after its down) and logs it.
    let finish = async |connection: &mut Connection| -> Result<u128, MigrateError> {
        let elapsed = started.elapsed().as_millis();
        match direction {
            Direction::Up => {
                record_version(
                    connection,
                    migration.version,
                    &migration.name,
                    &checksum,
                    "applied",
                    total,
                    total,
                    None,
                    None,
                    Some(elapsed),
                )
                .await?;
            }
            Direction::Down => delete_version(connection, migration.version).await?,
        }
        log_run(
            connection,
            migration.version,
            &migration.name,
            label,
            "ok",
            &checksum,
            Some(elapsed),
            None,
        )
        .await?;
        Ok(elapsed)
    };
    if transactional {
        let (begin, commit, rollback) = match backend {
            Backend::Sqlite => (
                "SAVEPOINT fox_migration",
                "RELEASE fox_migration",
                "ROLLBACK TO fox_migration; RELEASE fox_migration",
            ),
            _ => ("BEGIN", "COMMIT", "ROLLBACK"),
        };
        connection.execute(begin).await?;
        for (index, statement) in statements.iter().enumerate() {
            if let Err(source) = connection.execute(statement).await {
                let _ = connection.execute(rollback).await;
                let _ = log_run(
                    connection,
                    migration.version,
                    &migration.name,
                    label,
                    "failed",
                    &checksum,
                    None,
                    Some(&source.to_string()),
                )
                .await;
                return Err(failed(
                    index,
                    source,
                    "rolled back: the database is unchanged by this migration".into(),
                ));
            }
        }
        let elapsed = finish(connection).await?;
        connection.execute(commit).await?;
        return Ok(elapsed);
    }

    // Statement by statement, each completion recorded, so a stop leaves a dirty record.
    let record_progress = async |connection: &mut Connection,
                                 completed: usize,
                                 next: Option<&str>,
                                 message: Option<&str>| {
        record_version(
            connection,
            migration.version,
            &migration.name,
            &checksum,
            "dirty",
            total,
            completed,
            next,
            message,
            None,
        )
        .await
    };
    record_progress(connection, 0, statements.first().map(String::as_str), None).await?;
    for (index, statement) in statements.iter().enumerate() {
        if let Err(source) = connection.execute(statement).await {
            let message = source.to_string();
            record_progress(connection, index, Some(statement), Some(&message)).await?;
            log_run(
                connection,
                migration.version,
                &migration.name,
                label,
                "failed",
                &checksum,
                None,
                Some(&message),
            )
            .await?;
            return Err(failed(
                index,
                source,
                format!(
                    "{backend} applied the {index} statement(s) before it; the version is marked dirty: fix the database, then run `fox migrate repair`"
                ),
            ));
        }
        record_progress(
            connection,
            index + 1,
            statements.get(index + 1).map(String::as_str),
            None,
        )
        .await?;
    }
    finish(connection).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(version: u64, up: &str) -> Migration {
        Migration {
            version,
            name: format!("m{version}"),
            up: up.into(),
            down: None,
            transactional: true,
            origin: "test".into(),
            database_ref: None,
        }
    }

    fn record(migration: &Migration, status: &str) -> AppliedMigration {
        AppliedMigration {
            version: migration.version,
            name: migration.name.clone(),
            checksum: migration.checksum(),
            status: status.into(),
            statement_count: 1,
            completed_statements: 0,
            failed_statement: Some("CREATE TABLE x (id int)".into()),
            message: None,
            applied_at: "2026-11-27T00:00:00.000Z".into(),
            duration_ms: None,
        }
    }

    #[test]
    fn every_disagreement_between_files_and_database_is_named() {
        let (one, two, three) = (
            migration(1, "SELECT 1"),
            migration(2, "SELECT 2"),
            migration(3, "SELECT 3"),
        );
        let mut edited = record(&two, "applied");
        edited.checksum = "0".repeat(64);
        let gone = AppliedMigration {
            version: 9,
            ..record(&three, "applied")
        };
        let applied = vec![
            record(&one, "dirty"),
            edited,
            record(&three, "applied"),
            gone,
        ];
        let files = vec![one, two, three, migration(0, "SELECT 0")];
        let lines = status_lines(&files, &applied);
        let labels: Vec<(u64, &str)> = lines
            .iter()
            .map(|l| (l.version, l.status.label()))
            .collect();
        assert_eq!(
            labels,
            [
                (0, "pending"),
                (1, "dirty"),
                (2, "changed"),
                (3, "applied"),
                (9, "missing")
            ]
        );
        let problems = integrity_problems(&lines, false);
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("version 0 (m0) is older than the newest applied version 9"));
        assert!(problems[1].contains("is dirty") && problems[1].contains("CREATE TABLE x"));
        assert!(problems[2].contains(&"0".repeat(64)));
        assert!(problems[3].contains("not in the given files"));
        assert_eq!(
            integrity_problems(&lines, true).len(),
            3,
            "out of order allowed on request"
        );
    }
}
