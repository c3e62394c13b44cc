//! `_fox_apply_history`: one row per apply, written in the apply's transaction where the
//! engine has transactional DDL, else row by row as statements complete (MySQL) so an
//! interrupted apply is visible and the next one resumes from the live schema.

use foxdb::{Connection, ModelExt};

use super::clock::{applier_identity, now_rfc3339};

/// Status of a history row, stored as its label (`running`, `applied`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, foxdb::Enum)]
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
        foxdb::Enum::label(&self)
    }
}

/// One row of `_fox_apply_history`, a FoxDB model written and read through the client's
/// executor on the engine session's connection (inside its transaction where one is open).
#[derive(Clone, Debug, PartialEq, Eq, foxdb::Model)]
#[foxdb(table = "_fox_apply_history")]
pub struct HistoryEntry {
    /// Row id.
    #[foxdb(primary_key, auto_increment)]
    pub id: i64,
    /// FoxSchema name.
    pub schema_name: String,
    /// The FoxSchema's `metadata.uid` (from the cluster; `None` from the CLI unless the
    /// manifest carries one, and in rows written before FoxDB recorded it).
    pub owner_uid: Option<String>,
    /// Plan hash.
    pub plan_hash: String,
    /// How the apply went (so far).
    pub status: ApplyStatus,
    /// Statements in the plan.
    pub statement_count: i32,
    /// Statements that completed.
    pub completed_statements: i32,
    /// Every statement of the plan, seed upserts included, separated by `;` and a line break.
    pub statements: String,
    /// When the apply started (RFC 3339, UTC).
    pub started_at: String,
    /// When it ended, unless it is running.
    pub finished_at: Option<String>,
    /// How long it took, once ended.
    pub duration_ms: Option<i64>,
    /// Who applied it (host and process).
    pub applied_by: String,
    /// The `fox` version that applied it.
    pub fox_version: String,
    /// A note kept with the row.
    pub message: Option<String>,
}

/// What to record about an apply.
#[derive(Clone, Debug)]
pub struct HistoryRecord<'a> {
    /// FoxSchema name.
    pub schema_name: &'a str,
    /// The FoxSchema's `metadata.uid`, when known.
    pub owner_uid: Option<&'a str>,
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

/// A count of statements as the history's `integer` columns hold it.
fn stored_count(count: usize) -> i32 {
    i32::try_from(count).unwrap_or(i32::MAX)
}

/// A duration in milliseconds as the history's `bigint` column holds it.
fn stored_millis(duration_ms: u128) -> i64 {
    i64::try_from(duration_ms).unwrap_or(i64::MAX)
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
    let entry = HistoryEntry {
        id: 0,
        schema_name: record.schema_name.into(),
        owner_uid: record.owner_uid.map(str::to_string),
        plan_hash: record.plan_hash.into(),
        status,
        statement_count: stored_count(record.statement_count),
        completed_statements: stored_count(completed),
        statements: record.statements.join(";\n"),
        started_at: record.started_at.into(),
        finished_at: (status != ApplyStatus::Running).then(now_rfc3339),
        duration_ms: duration_ms.map(stored_millis),
        applied_by: applier_identity(),
        fox_version: env!("CARGO_PKG_VERSION").into(),
        message: record.message.map(str::to_string),
    };
    Ok(foxdb::query::insert(connection, &entry).await?.id)
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
    HistoryEntry::update()
        .set(HistoryEntry::COMPLETED_STATEMENTS, stored_count(completed))
        .filter(HistoryEntry::ID.eq(id))
        .exec(connection)
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
    let mut update = HistoryEntry::update()
        .set(HistoryEntry::STATUS, status)
        .set(HistoryEntry::COMPLETED_STATEMENTS, stored_count(completed))
        .set(HistoryEntry::FINISHED_AT, now_rfc3339())
        .set(HistoryEntry::DURATION_MS, stored_millis(duration_ms));
    update = match message {
        Some(message) => update.set(HistoryEntry::MESSAGE, message),
        None => update.set_null(HistoryEntry::MESSAGE),
    };
    update
        .filter(HistoryEntry::ID.eq(id))
        .exec(connection)
        .await?;
    Ok(())
}

/// Marks rows left `running` by a dead applier as `interrupted`; call with the lock held.
/// Returns a line per interrupted apply.
///
/// # Errors
/// Database errors.
pub async fn close_interrupted(connection: &mut Connection) -> foxdb::Result<Vec<String>> {
    let interrupted: Vec<String> = HistoryEntry::find()
        .filter(HistoryEntry::STATUS.eq(ApplyStatus::Running))
        .order_by(HistoryEntry::ID.asc())
        .all(&mut *connection)
        .await?
        .into_iter()
        .map(|e| {
            format!(
                "plan {} of {} stopped after {} of {} statements",
                e.plan_hash, e.schema_name, e.completed_statements, e.statement_count
            )
        })
        .collect();
    if !interrupted.is_empty() {
        HistoryEntry::update()
            .set(HistoryEntry::STATUS, ApplyStatus::Interrupted)
            .filter(HistoryEntry::STATUS.eq(ApplyStatus::Running))
            .exec(connection)
            .await?;
    }
    Ok(interrupted)
}

/// Every history row, oldest first.
///
/// # Errors
/// Database errors (also when the bookkeeping tables do not exist yet); a row that does not
/// decode (an unknown status) is an error naming the column, never a guess.
pub async fn read_history(connection: &mut Connection) -> foxdb::Result<Vec<HistoryEntry>> {
    HistoryEntry::find()
        .order_by(HistoryEntry::ID.asc())
        .all(connection)
        .await
}
