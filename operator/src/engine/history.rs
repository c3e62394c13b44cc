//! `_fox_apply_history`: one row per apply, written in the apply's transaction where the
//! engine has transactional DDL, else row by row as statements complete (MySQL) so an
//! interrupted apply is visible and the next one resumes from the live schema.

use foxdb::dialect::dialect_for;
use foxdb::{Backend, Connection, Value};

use super::clock::{applier_identity, now_rfc3339};

/// Status of a history row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyStatus {
    /// Statements are being applied (MySQL only; PostgreSQL and SQLite never show it).
    Running,
    /// Every statement ran.
    Applied,
    /// A statement failed.
    Failed,
    /// The applier died mid-way; found by the next apply.
    Interrupted,
}

impl ApplyStatus {
    /// Stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Applied => "applied",
            Self::Failed => "failed",
            Self::Interrupted => "interrupted",
        }
    }
}

/// One row of history, as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Row id.
    pub id: i64,
    /// FoxSchema name.
    pub schema_name: String,
    /// Plan hash.
    pub plan_hash: String,
    /// `running`, `applied`, `failed` or `interrupted`.
    pub status: String,
    /// Statements in the plan.
    pub statement_count: i64,
    /// Statements that completed.
    pub completed_statements: i64,
}

/// What to record about an apply.
#[derive(Clone, Debug)]
pub struct HistoryRecord<'a> {
    /// FoxSchema name.
    pub schema_name: &'a str,
    /// Plan hash.
    pub plan_hash: &'a str,
    /// Every statement of the plan, seed upserts included.
    pub statements: &'a [String],
    /// Schema statements (what `completed_statements` counts).
    pub statement_count: usize,
    /// When the apply started.
    pub started_at: &'a str,
    /// A note kept with the row.
    pub message: Option<&'a str>,
}

fn table(backend: Backend) -> String {
    dialect_for(backend).quote("_fox_apply_history")
}

/// Inserts a history row and returns its id.
///
/// # Errors
/// Database errors.
pub async fn insert_history(
    connection: &mut Connection,
    record: &HistoryRecord<'_>,
    status: ApplyStatus,
    completed: usize,
    duration_ms: Option<u128>,
) -> foxdb::Result<i64> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    let columns = [
        "schema_name",
        "plan_hash",
        "status",
        "statement_count",
        "completed_statements",
        "statements",
        "started_at",
        "finished_at",
        "duration_ms",
        "applied_by",
        "fox_version",
        "message",
    ];
    let placeholders: Vec<String> = (1..=columns.len())
        .map(|n| dialect.placeholder(n))
        .collect();
    let finished = (status != ApplyStatus::Running).then(now_rfc3339);
    let params = vec![
        Value::Text(record.schema_name.into()),
        Value::Text(record.plan_hash.into()),
        Value::Text(status.as_str().into()),
        Value::Int(record.statement_count as i64),
        Value::Int(completed as i64),
        Value::Text(record.statements.join(";\n")),
        Value::Text(record.started_at.into()),
        finished.map_or(Value::Null, Value::Text),
        duration_ms.map_or(Value::Null, |d| Value::Int(d as i64)),
        Value::Text(applier_identity()),
        Value::Text(env!("CARGO_PKG_VERSION").into()),
        record
            .message
            .map_or(Value::Null, |m| Value::Text(m.into())),
    ];
    let quoted: Vec<String> = columns.iter().map(|c| dialect.quote(c)).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        table(backend),
        quoted.join(", "),
        placeholders.join(", ")
    );
    connection.execute_with(&sql, &params).await?;
    let last_id = match backend {
        Backend::Postgres => format!(
            "SELECT MAX({}) FROM {}",
            dialect.quote("id"),
            table(backend)
        ),
        Backend::MySql => "SELECT CAST(LAST_INSERT_ID() AS SIGNED)".into(),
        Backend::Sqlite => "SELECT last_insert_rowid()".into(),
    };
    connection.fetch_i64(&last_id, &[]).await
}

/// Records progress of a running apply.
///
/// # Errors
/// Database errors.
pub async fn record_progress(
    connection: &mut Connection,
    id: i64,
    completed: usize,
) -> foxdb::Result<()> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    connection
        .execute_with(
            &format!(
                "UPDATE {} SET {} = {} WHERE {} = {}",
                table(backend),
                dialect.quote("completed_statements"),
                dialect.placeholder(1),
                dialect.quote("id"),
                dialect.placeholder(2)
            ),
            &[Value::Int(completed as i64), Value::Int(id)],
        )
        .await?;
    Ok(())
}

/// Closes a running history row.
///
/// # Errors
/// Database errors.
pub async fn finish_history(
    connection: &mut Connection,
    id: i64,
    status: ApplyStatus,
    completed: usize,
    duration_ms: u128,
    message: Option<&str>,
) -> foxdb::Result<()> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    let set: Vec<String> = [
        "status",
        "completed_statements",
        "finished_at",
        "duration_ms",
        "message",
    ]
    .iter()
    .enumerate()
    .map(|(i, c)| format!("{} = {}", dialect.quote(c), dialect.placeholder(i + 1)))
    .collect();
    connection
        .execute_with(
            &format!(
                "UPDATE {} SET {} WHERE {} = {}",
                table(backend),
                set.join(", "),
                dialect.quote("id"),
                dialect.placeholder(6)
            ),
            &[
                Value::Text(status.as_str().into()),
                Value::Int(completed as i64),
                Value::Text(now_rfc3339()),
                Value::Int(duration_ms as i64),
                message.map_or(Value::Null, |m| Value::Text(m.into())),
                Value::Int(id),
            ],
        )
        .await?;
    Ok(())
}

/// Marks rows left `running` by a dead applier as `interrupted`; call with the lock held.
/// Returns a line per interrupted apply.
///
/// # Errors
/// Database errors.
pub async fn close_interrupted(connection: &mut Connection) -> foxdb::Result<Vec<String>> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    let interrupted: Vec<String> = read_history(connection)
        .await?
        .into_iter()
        .filter(|e| e.status == ApplyStatus::Running.as_str())
        .map(|e| {
            format!(
                "plan {} of {} stopped after {} of {} statements",
                e.plan_hash, e.schema_name, e.completed_statements, e.statement_count
            )
        })
        .collect();
    if !interrupted.is_empty() {
        connection
            .execute_with(
                &format!(
                    "UPDATE {} SET {} = {} WHERE {} = {}",
                    table(backend),
                    dialect.quote("status"),
                    dialect.placeholder(1),
                    dialect.quote("status"),
                    dialect.placeholder(2)
                ),
                &[
                    Value::Text(ApplyStatus::Interrupted.as_str().into()),
                    Value::Text(ApplyStatus::Running.as_str().into()),
                ],
            )
            .await?;
    }
    Ok(interrupted)
}

/// Every history row, oldest first.
///
/// # Errors
/// Database errors (also when the bookkeeping tables do not exist yet).
pub async fn read_history(connection: &mut Connection) -> foxdb::Result<Vec<HistoryEntry>> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    let text = |c: &str| format!("CAST({} AS {})", dialect.quote(c), dialect.text_cast_type());
    let sql = format!(
        "SELECT {}, {}, {}, {}, {}, {} FROM {} ORDER BY {}",
        text("id"),
        text("schema_name"),
        text("plan_hash"),
        text("status"),
        text("statement_count"),
        text("completed_statements"),
        table(backend),
        dialect.quote("id")
    );
    let rows = connection.fetch_text_rows(&sql, &[]).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            HistoryEntry {
                id: field(0).parse().unwrap_or_default(),
                schema_name: field(1),
                plan_hash: field(2),
                status: field(3),
                statement_count: field(4).parse().unwrap_or_default(),
                completed_statements: field(5).parse().unwrap_or_default(),
            }
        })
        .collect())
}
