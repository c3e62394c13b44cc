//! `_fox_migrations` (the state of each applied version) and `_fox_migration_log` (every run).

use foxdb::dialect::dialect_for;
use foxdb::{Backend, Connection, Value};

use super::Direction;
use crate::engine::bookkeeping::FoxTables;
use crate::engine::clock::{applier_identity, now_rfc3339};

/// The state a version's record in `_fox_migrations` is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordStatus {
    /// Every statement ran.
    Applied,
    /// It stopped part-way (MySQL, or a non-transactional migration): a person must look.
    Dirty,
}

impl RecordStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Dirty => "dirty",
        }
    }

    fn parse(stored: &str) -> Option<Self> {
        match stored {
            "applied" => Some(Self::Applied),
            "dirty" => Some(Self::Dirty),
            _ => None,
        }
    }
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

/// Columns of `_fox_migrations`, in the order they are read and written.
const COLUMNS: [&str; 12] = [
    "version",
    "name",
    "checksum",
    "status",
    "statement_count",
    "completed_statements",
    "failed_statement",
    "message",
    "applied_at",
    "duration_ms",
    "direction",
    "applied_by",
];

fn text_cast(backend: Backend) -> &'static str {
    dialect_for(backend).text_cast_type()
}

/// Every recorded version, ascending.
///
/// # Errors
/// Database errors.
pub async fn read_applied(
    connection: &mut Connection,
    tables: &FoxTables,
) -> foxdb::Result<Vec<AppliedMigration>> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    let select: Vec<String> = COLUMNS[..11]
        .iter()
        .map(|c| format!("CAST({} AS {})", dialect.quote(c), text_cast(backend)))
        .collect();
    let sql = format!(
        "SELECT {} FROM {} ORDER BY {}",
        select.join(", "),
        tables.table("_fox_migrations"),
        dialect.quote("version")
    );
    let rows = connection.fetch_text_rows(&sql, &[]).await?;
    rows.into_iter()
        .map(|row| {
            let field = |i: usize| row.get(i).cloned().flatten();
            let text = |i: usize| field(i).unwrap_or_default();
            // A bookkeeping row changed by hand is reported, never read as version 0.
            let version = text(0);
            let corrupt = |column: &str, text: &str| foxdb::Error::Decode {
                column: format!("_fox_migrations.{column} (version {version})"),
                message: format!(
                    "{text:?} is not a number; the row was changed by hand: fix or delete it"
                ),
            };
            let number = |column: &str, text: String| {
                text.parse::<i64>().map_err(|_| corrupt(column, &text))
            };
            Ok(AppliedMigration {
                version: version
                    .parse::<u64>()
                    .map_err(|_| corrupt("version", &version))?,
                name: text(1),
                checksum: text(2),
                status: RecordStatus::parse(&text(3)).ok_or_else(|| foxdb::Error::Decode {
                    column: format!("_fox_migrations.status (version {version})"),
                    message: format!(
                        "{:?} is neither applied nor dirty; the row was changed by hand: fix or delete it",
                        text(3)
                    ),
                })?,
                statement_count: number("statement_count", text(4))?,
                completed_statements: number("completed_statements", text(5))?,
                failed_statement: field(6),
                message: field(7),
                applied_at: text(8),
                duration_ms: field(9).and_then(|d| d.parse().ok()),
                direction: if text(10) == "down" {
                    Direction::Down
                } else {
                    Direction::Up
                },
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
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    let quoted: Vec<String> = COLUMNS.iter().map(|c| dialect.quote(c)).collect();
    let placeholders: Vec<String> = (1..=COLUMNS.len())
        .map(|n| dialect.placeholder(n))
        .collect();
    let text = |v: Option<&str>| v.map_or(Value::Null, |s| Value::Text(s.into()));
    // One statement, so a kill can never leave the version without a record.
    let table = tables.table("_fox_migrations");
    let (columns_sql, values_sql) = (quoted.join(", "), placeholders.join(", "));
    // Updated in place, never deleted and inserted again: rows that reference the record stay.
    let updated: Vec<String> = COLUMNS[1..].iter().map(|c| c.to_string()).collect();
    let upsert = format!(
        "INSERT INTO {table} ({columns_sql}) VALUES ({values_sql}){}",
        dialect.upsert_clause(&[COLUMNS[0].to_string()], &updated)
    );
    connection
        .execute_with(
            &upsert,
            &[
                Value::Int(version as i64),
                Value::Text(name.into()),
                Value::Text(checksum.into()),
                Value::Text(status.as_str().into()),
                Value::Int(statement_count as i64),
                Value::Int(completed as i64),
                text(failed_statement),
                text(message),
                Value::Text(now_rfc3339()),
                duration_ms.map_or(Value::Null, |d| Value::Int(d as i64)),
                Value::Text(direction.label().into()),
                Value::Text(applier_identity()),
            ],
        )
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
    let dialect = dialect_for(connection.backend());
    connection
        .execute_with(
            &format!(
                "DELETE FROM {} WHERE {} = {}",
                tables.table("_fox_migrations"),
                dialect.quote("version"),
                dialect.placeholder(1)
            ),
            &[Value::Int(version as i64)],
        )
        .await?;
    Ok(())
}

/// How a logged run of a migration step ended, as `_fox_migration_log.status` spells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// The step ran and was recorded.
    Ok,
    /// A statement of the step failed.
    Failed,
    /// `fox migrate repair` marked a dirty version applied.
    MarkedApplied,
    /// `fox migrate repair` forgot a dirty version.
    Forgotten,
}

impl RunOutcome {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Failed => "failed",
            Self::MarkedApplied => "applied",
            Self::Forgotten => "forgotten",
        }
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
    let dialect = dialect_for(connection.backend());
    let columns = [
        "version",
        "name",
        "direction",
        "status",
        "checksum",
        "at",
        "duration_ms",
        "applied_by",
        "message",
    ];
    let quoted: Vec<String> = columns.iter().map(|c| dialect.quote(c)).collect();
    let placeholders: Vec<String> = (1..=columns.len())
        .map(|n| dialect.placeholder(n))
        .collect();
    connection
        .execute_with(
            &format!(
                "INSERT INTO {} ({}) VALUES ({})",
                tables.table("_fox_migration_log"),
                quoted.join(", "),
                placeholders.join(", ")
            ),
            &[
                Value::Int(version as i64),
                Value::Text(name.into()),
                Value::Text(direction.into()),
                Value::Text(status.as_str().into()),
                Value::Text(checksum.into()),
                Value::Text(now_rfc3339()),
                duration_ms.map_or(Value::Null, |d| Value::Int(d as i64)),
                Value::Text(applier_identity()),
                message.map_or(Value::Null, |m| Value::Text(m.into())),
            ],
        )
        .await?;
    Ok(())
}

/// Every logged run: (version, direction, status), oldest first.
///
/// # Errors
/// Database errors; [`foxdb::Error::Decode`] for a row whose version is not a number.
pub async fn read_log(
    connection: &mut Connection,
    tables: &FoxTables,
) -> foxdb::Result<Vec<(u64, String, String)>> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    let cast = |c: &str| format!("CAST({} AS {})", dialect.quote(c), text_cast(backend));
    let rows = connection
        .fetch_text_rows(
            &format!(
                "SELECT {}, {}, {} FROM {} ORDER BY {}",
                cast("version"),
                cast("direction"),
                cast("status"),
                tables.table("_fox_migration_log"),
                dialect.quote("id")
            ),
            &[],
        )
        .await?;
    rows.into_iter()
        .map(|row| {
            let text = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            // A log row changed by hand is reported, never read as version 0.
            let version = text(0);
            let version = version.parse().map_err(|_| foxdb::Error::Decode {
                column: "_fox_migration_log.version".into(),
                message: format!(
                    "{version:?} is not a number; the row was changed by hand: fix or delete it"
                ),
            })?;
            Ok((version, text(1), text(2)))
        })
        .collect()
}
