//! `_fox_migrations` (the state of each applied version) and `_fox_migration_log` (every run):
//! FoxDB models read and written through the client's executor on the migration session's
//! connection, in the schema the session located ([`FoxTables`]), so a migration that moves the
//! search path or the default database cannot move them.

use foxdb::query::Insert;
use foxdb::{Connection, Executor, Model, ModelExt};

use super::Direction;
use crate::engine::bookkeeping::FoxTables;
use crate::engine::clock::{applier_identity, now_rfc3339};

/// The state a version's record in `_fox_migrations` is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, foxdb::Enum)]
pub enum RecordStatus {
    /// Every statement ran.
    Applied,
    /// It stopped part-way (MySQL, or a non-transactional migration): a person must look.
    Dirty,
}

impl RecordStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        foxdb::Enum::label(&self)
    }
}

/// The step a record's last run took, as `_fox_migrations.direction` and
/// `_fox_migration_log.direction` store it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, foxdb::Enum)]
pub enum StoredDirection {
    /// `up`.
    Up,
    /// `down`.
    Down,
}

impl From<Direction> for StoredDirection {
    fn from(direction: Direction) -> Self {
        match direction {
            Direction::Up => Self::Up,
            Direction::Down => Self::Down,
        }
    }
}

impl From<StoredDirection> for Direction {
    fn from(direction: StoredDirection) -> Self {
        match direction {
            StoredDirection::Up => Self::Up,
            StoredDirection::Down => Self::Down,
        }
    }
}

/// One row of `_fox_migrations`: the last state of one version.
#[derive(Clone, Debug, PartialEq, Eq, foxdb::Model)]
#[foxdb(table = "_fox_migrations")]
pub struct MigrationRecord {
    /// Version (the key).
    #[foxdb(primary_key)]
    pub version: i64,
    /// Name when applied.
    pub name: String,
    /// Checksum of the `up` text that ran.
    pub checksum: String,
    /// Applied, or dirty when it stopped part-way.
    pub status: RecordStatus,
    /// Statements in it.
    pub statement_count: i32,
    /// Statements that completed.
    pub completed_statements: i32,
    /// The statement that failed or was next when it stopped.
    pub failed_statement: Option<String>,
    /// The error, if one was seen.
    pub message: Option<String>,
    /// When (RFC 3339).
    pub applied_at: String,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// Who ran it (host and process).
    pub applied_by: String,
    /// The step that ran last: for a dirty record, the one that stopped part-way.
    pub direction: StoredDirection,
}

/// One row of `_fox_migration_log`: one run of a step.
#[derive(Clone, Debug, PartialEq, Eq, foxdb::Model)]
#[foxdb(table = "_fox_migration_log")]
pub struct MigrationLogEntry {
    /// Row id.
    #[foxdb(primary_key, auto_increment)]
    pub id: i64,
    /// Version.
    pub version: i64,
    /// Name of the migration.
    pub name: String,
    /// The step: `up`, `down` or `repair`.
    pub direction: String,
    /// How it ended ([`RunOutcome`]'s spelling).
    pub status: RunOutcome,
    /// Checksum of the text that ran.
    pub checksum: String,
    /// When (RFC 3339).
    pub at: String,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// Who ran it (host and process).
    pub applied_by: String,
    /// The error, or a note.
    pub message: Option<String>,
}

/// A version as recorded in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Version.
    pub version: u64,
    /// Name when applied.
    pub name: String,
    /// Checksum of the `up` text that ran.
    pub checksum: String,
    /// Applied, or dirty when it stopped part-way.
    pub status: RecordStatus,
    /// Statements in it.
    pub statement_count: i64,
    /// Statements that completed.
    pub completed_statements: i64,
    /// The statement that failed or was next when it stopped.
    pub failed_statement: Option<String>,
    /// The error, if one was seen.
    pub message: Option<String>,
    /// When (RFC 3339).
    pub applied_at: String,
    /// How long it took.
    pub duration_ms: Option<i64>,
    /// The step that ran last: for a dirty record, the one that stopped part-way.
    pub direction: Direction,
}

impl AppliedMigration {
    /// The record an adopted migration gets (what a dry run of `up` assumes).
    pub fn adopted(migration: &super::source::Migration) -> Self {
        Self {
            version: migration.version,
            name: migration.name.clone(),
            checksum: migration.checksum(),
            status: RecordStatus::Applied,
            statement_count: 0,
            completed_statements: 0,
            failed_statement: None,
            message: None,
            applied_at: now_rfc3339(),
            duration_ms: None,
            direction: Direction::Up,
        }
    }
}

/// A bookkeeping row that does not decode was changed by hand: say which table, column and
/// version, and that.
fn changed_by_hand(table: &str, version: Option<i64>, error: foxdb::Error) -> foxdb::Error {
    match error {
        foxdb::Error::Decode { column, message } => foxdb::Error::Decode {
            column: match version {
                Some(version) => format!("{table}.{column} (version {version})"),
                None => format!("{table}.{column}"),
            },
            message: format!("{message}; the row was changed by hand: fix or delete it"),
        },
        other => other,
    }
}

/// Every row `query` reads, each decoded by itself so a row that does not decode is named by
/// its version.
async fn read_rows<M: Model>(
    connection: &mut Connection,
    query: foxdb::query::Select<M>,
    version: foxdb::Column<M, i64>,
) -> foxdb::Result<Vec<M>> {
    let (sql, values) = query.to_sql(connection.backend());
    let rows = connection.fetch_all(&sql, &values).await?;
    rows.iter()
        .map(|row| {
            M::from_row(row)
                .map_err(|e| changed_by_hand(M::TABLE, row.get::<i64>(version.name()).ok(), e))
        })
        .collect()
}

/// A version as the bookkeeping's signed 64-bit key.
fn stored_version(backend: foxdb::Backend, version: u64) -> foxdb::Result<i64> {
    i64::try_from(version).map_err(|_| foxdb::Error::Unsupported {
        backend,
        feature: format!(
            "migration version {version}: versions are recorded up to {} (renumber the migration)",
            i64::MAX
        ),
    })
}

/// A stored version as a migration version; a negative one was written by hand.
fn read_version(table: &str, version: i64) -> foxdb::Result<u64> {
    u64::try_from(version).map_err(|_| foxdb::Error::Decode {
        column: format!("{table}.version"),
        message: format!(
            "{version} is not a version; the row was changed by hand: fix or delete it"
        ),
    })
}

/// A count as the `integer` columns hold it.
fn stored_count(count: usize) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// A duration in milliseconds as the `bigint` columns hold it.
fn stored_millis(duration_ms: u128) -> i64 {
    i64::try_from(duration_ms).unwrap_or(i64::MAX)
}

/// Every recorded version, ascending.
///
/// # Errors
/// Database errors; [`foxdb::Error::Decode`] naming the table and column for a row changed
/// by hand (a number column holding text, a status or direction FoxDB never writes).
pub async fn read_applied(
    connection: &mut Connection,
    tables: &FoxTables,
) -> foxdb::Result<Vec<AppliedMigration>> {
    let query = MigrationRecord::find()
        .in_schema(tables.schema())
        .order_by(MigrationRecord::VERSION.asc());
    let records = read_rows(connection, query, MigrationRecord::VERSION).await?;
    records
        .into_iter()
        .map(|record| {
            Ok(AppliedMigration {
                version: read_version(MigrationRecord::TABLE, record.version)?,
                name: record.name,
                checksum: record.checksum,
                status: record.status,
                statement_count: record.statement_count.into(),
                completed_statements: record.completed_statements.into(),
                failed_statement: record.failed_statement,
                message: record.message,
                applied_at: record.applied_at,
                duration_ms: record.duration_ms,
                direction: record.direction.into(),
            })
        })
        .collect()
}

/// Records a version as `applied` or `dirty`, replacing any earlier record of it.
///
/// # Errors
/// Database errors.
#[allow(clippy::too_many_arguments)]
pub async fn record_version(
    connection: &mut Connection,
    tables: &FoxTables,
    direction: Direction,
    version: u64,
    name: &str,
    checksum: &str,
    status: RecordStatus,
    statement_count: usize,
    completed: usize,
    failed_statement: Option<&str>,
    message: Option<&str>,
    duration_ms: Option<u128>,
) -> foxdb::Result<()> {
    let record = MigrationRecord {
        version: stored_version(connection.backend(), version)?,
        name: name.into(),
        checksum: checksum.into(),
        status,
        statement_count: stored_count(statement_count),
        completed_statements: stored_count(completed),
        failed_statement: failed_statement.map(str::to_string),
        message: message.map(str::to_string),
        applied_at: now_rfc3339(),
        duration_ms: duration_ms.map(stored_millis),
        applied_by: applier_identity(),
        direction: direction.into(),
    };
    // One statement (the dialect's upsert), so a kill can never leave the version without a
    // record; updated in place, never deleted and inserted again, so rows that reference the
    // record stay.
    Insert::new(&record)
        .in_schema(tables.schema())
        .upsert(connection)
        .await?;
    Ok(())
}

/// Forgets a version (after its `down` ran, or by `repair`).
///
/// # Errors
/// Database errors.
pub async fn delete_version(
    connection: &mut Connection,
    tables: &FoxTables,
    version: u64,
) -> foxdb::Result<()> {
    MigrationRecord::delete()
        .in_schema(tables.schema())
        .filter(MigrationRecord::VERSION.eq(stored_version(connection.backend(), version)?))
        .exec(connection)
        .await?;
    Ok(())
}

/// How a logged run of a migration step ended, as `_fox_migration_log.status` spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, foxdb::Enum)]
pub enum RunOutcome {
    /// The step ran and was recorded.
    Ok,
    /// A statement of the step failed.
    Failed,
    /// `fox migrate repair` marked a dirty version applied.
    #[foxdb(label = "applied")]
    MarkedApplied,
    /// `fox migrate repair` forgot a dirty version.
    Forgotten,
    /// Another tool had applied it (`spec.importedFrom`): recorded as applied, not run.
    Adopted,
}

impl RunOutcome {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        foxdb::Enum::label(&self)
    }
}

/// Appends a run to the log.
///
/// # Errors
/// Database errors.
#[allow(clippy::too_many_arguments)]
pub async fn log_run(
    connection: &mut Connection,
    tables: &FoxTables,
    version: u64,
    name: &str,
    direction: &str,
    status: RunOutcome,
    checksum: &str,
    duration_ms: Option<u128>,
    message: Option<&str>,
) -> foxdb::Result<()> {
    let entry = MigrationLogEntry {
        id: 0,
        version: stored_version(connection.backend(), version)?,
        name: name.into(),
        direction: direction.into(),
        status,
        checksum: checksum.into(),
        at: now_rfc3339(),
        duration_ms: duration_ms.map(stored_millis),
        applied_by: applier_identity(),
        message: message.map(str::to_string),
    };
    Insert::new(&entry)
        .in_schema(tables.schema())
        .exec(connection)
        .await?;
    Ok(())
}

/// Every logged run: (version, direction, status), oldest first.
///
/// # Errors
/// Database errors; [`foxdb::Error::Decode`] naming the table and column for a row changed by
/// hand.
pub async fn read_log(
    connection: &mut Connection,
    tables: &FoxTables,
) -> foxdb::Result<Vec<(u64, String, String)>> {
    let query = MigrationLogEntry::find()
        .in_schema(tables.schema())
        .order_by(MigrationLogEntry::ID.asc());
    let entries = read_rows(connection, query, MigrationLogEntry::VERSION).await?;
    entries
        .into_iter()
        .map(|entry| {
            Ok((
                read_version(MigrationLogEntry::TABLE, entry.version)?,
                entry.direction,
                entry.status.as_str().to_string(),
            ))
        })
        .collect()
}
