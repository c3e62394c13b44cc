//! Audit logging: every committed insert, update and delete of a table with `audit.enabled` in
//! its FoxSchema (installed by `fox apply`) is recorded by triggers, so writes made by any
//! program are recorded: table, primary key, operation, actor, time, and the changed fields as
//! old → new, never the excluded ones.
//!
//! # Expected flow
//! ```rust,ignore
//! // Writes in this handle's transactions are recorded as "billing-service".
//! let billing = db.with_actor("billing-service");
//! billing.transaction(async |tx| tx.update(&invoice).await).await?;
//!
//! // A row's history, oldest first.
//! for record in db.history(&invoice).await? {
//!     println!("{} {} by {:?}: {}", record.changed_at, record.operation, record.actor, record.changes);
//! }
//!
//! // The log is a model like any other.
//! use foxdb::audit::AuditRecord;
//! let by_billing = AuditRecord::find().filter(AuditRecord::ACTOR.eq("billing-service")).all(&db).await?;
//! ```
//!
//! # Guarantees
//! - A record is written in the writing transaction: rolled back, it leaves none.
//! - The actor is the one set on the transaction ([`crate::Database::with_actor`],
//!   [`crate::Transaction::set_actor`]); writes from other programs, and statements run
//!   outside a transaction, record none (NULL).
//! - With `hashChain`, [`verify`] finds an edited, deleted or reordered record of the table and
//!   names it.
//!
//! How each engine records, compresses and chains is its [`AuditCapture`] (see docs/audit.md).

mod capture;
mod mysql;
mod postgres;
mod sqlite;

use std::collections::BTreeMap;

pub use capture::{
    AUDIT_LOG, AUDIT_TABLES, AUDIT_VIEW, AuditCapture, KEY_TEXT_LENGTH, KEY_TEXT_SEPARATOR,
    audit_capture_for,
};
pub use mysql::MySqlAudit;
pub use postgres::PostgresAudit;
pub use sqlite::{AUDIT_ACTOR, SqliteAudit};

use crate::Model;
use crate::connection::Value;
use crate::database::Database;
use crate::error::Result;
use crate::schema::TableAudit;

/// One record of the audit log (the view `_fox_audit_log`, the same columns on every engine),
/// queried like any model: `AuditRecord::find().filter(AuditRecord::TABLE_NAME.eq("users"))`.
#[derive(Clone, Debug, PartialEq, crate::Model)]
#[foxdb(table = "_fox_audit_log")]
pub struct AuditRecord {
    /// Its place in the log (increasing).
    #[foxdb(primary_key)]
    pub id: i64,
    /// The audited table.
    pub table_name: String,
    /// The row's primary key as a JSON object (`{"id": 7}`).
    pub primary_key: String,
    /// `insert`, `update` or `delete`.
    pub operation: String,
    /// Who wrote: the transaction's actor, or `None` (a write from another program).
    pub actor: Option<String>,
    /// When the change was written.
    pub changed_at: chrono::DateTime<chrono::Utc>,
    /// `{"column": [old, new]}` as JSON text: every recorded column for inserts (old `null`)
    /// and deletes (new `null`), only the changed ones for updates.
    pub changes: String,
}

/// One recorded column change.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// The value before (`null` for inserts).
    pub old: serde_json::Value,
    /// The value after (`null` for deletes).
    pub new: serde_json::Value,
}

impl AuditRecord {
    /// The recorded changes by column.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] when the record is not the JSON the triggers write.
    pub fn field_changes(&self) -> Result<BTreeMap<String, FieldChange>> {
        let decode = |message: String| crate::Error::Decode {
            column: "changes".into(),
            message: format!("audit record {}: {message}", self.id),
        };
        let parsed: BTreeMap<String, (serde_json::Value, serde_json::Value)> =
            serde_json::from_str(&self.changes).map_err(|e| decode(e.to_string()))?;
        Ok(parsed
            .into_iter()
            .map(|(column, (old, new))| (column, FieldChange { old, new }))
            .collect())
    }

    /// The primary key as JSON.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] when it is not JSON.
    pub fn key(&self) -> Result<serde_json::Value> {
        serde_json::from_str(&self.primary_key).map_err(|e| crate::Error::Decode {
            column: "primary_key".into(),
            message: format!("audit record {}: {e}", self.id),
        })
    }
}

impl Database {
    /// The audit records of `row` (by its table and primary key), oldest first.
    ///
    /// # Errors
    /// Database errors (the audit log does not exist until a table is audited);
    /// [`crate::Error::Unsupported`] for a key column of a type the log cannot be searched by
    /// (floats, bytes, JSON).
    pub async fn history<M: Model>(&self, row: &M) -> Result<Vec<AuditRecord>> {
        let (sql, values) = history_statement(self.backend(), row)?;
        let rows = self.fetch_all(&sql, &values).await?;
        rows.iter().map(AuditRecord::from_row).collect()
    }
}

/// The statement [`Database::history`] runs for `row`, and its values: the log's
/// `(table_name, key_text)` index finds the records (`key_text` holds the key's values as text,
/// cut to [`KEY_TEXT_LENGTH`] characters), and the key columns are then compared
/// whole.
///
/// # Errors
/// As [`Database::history`].
pub fn history_statement<M: Model>(
    backend: crate::Backend,
    row: &M,
) -> Result<(String, Vec<Value>)> {
    let capture = audit_capture_for(backend);
    let dialect = crate::dialect::dialect_for(backend);
    let mut key_values = Vec::with_capacity(M::PRIMARY_KEY.len());
    for column in M::PRIMARY_KEY {
        let value = row.value_of(column).unwrap_or(Value::Null);
        key_values.push(key_text(backend, column, &value)?);
    }
    let joined: String = key_values
        .join(&KEY_TEXT_SEPARATOR.to_string())
        .chars()
        .take(KEY_TEXT_LENGTH)
        .collect();
    let mut values = vec![Value::Text(M::TABLE.to_string()), Value::Text(joined)];
    let mut conditions = vec![format!(
        "{} IN (SELECT {} FROM {} WHERE {} = {} AND {} = {})",
        dialect.quote("id"),
        dialect.quote("id"),
        dialect.quote(AUDIT_LOG),
        dialect.quote("table_name"),
        capture.placeholder(1),
        dialect.quote("key_text"),
        capture.placeholder(2)
    )];
    for (column, text) in M::PRIMARY_KEY.iter().zip(key_values) {
        values.push(Value::Text(text));
        conditions.push(capture.key_equals(column, values.len()));
    }
    let sql = format!(
        "SELECT {} FROM {} WHERE {} ORDER BY {}",
        AuditRecord::COLUMNS
            .iter()
            .map(|c| dialect.quote(c))
            .collect::<Vec<_>>()
            .join(", "),
        dialect.quote(AUDIT_VIEW),
        conditions.join(" AND "),
        dialect.quote("id")
    );
    Ok((sql, values))
}

/// A key value as the log's JSON holds it, as text.
fn key_text(backend: crate::Backend, column: &str, value: &Value) -> Result<String> {
    Ok(match value {
        Value::Int(n) => n.to_string(),
        Value::Text(text) => text.clone(),
        Value::Uuid(uuid) => uuid.hyphenated().to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Date(d) => d.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::Null
        | Value::CurrentTenant
        | Value::Float(_)
        | Value::Bytes(_)
        | Value::TimestampTz(_)
        | Value::Timestamp(_)
        | Value::Time(_)
        | Value::Json(_) => {
            return Err(crate::Error::Unsupported {
                backend,
                feature: format!(
                    "audit history by key column {column} of this type (use AuditRecord::find() and filter by primary_key)"
                ),
            });
        }
    })
}

/// An audited table and its settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditedTable {
    /// Table name.
    pub table: String,
    /// Its settings.
    pub settings: TableAudit,
}

/// The audited tables of `connection`'s database with their settings (none when nothing was
/// ever audited).
///
/// # Errors
/// Database errors.
pub async fn audited_tables(
    connection: &mut crate::connection::Connection,
) -> Result<Vec<AuditedTable>> {
    let capture = audit_capture_for(connection.backend());
    if connection
        .fetch_text_rows(capture.log_exists(), &[])
        .await?
        .is_empty()
    {
        return Ok(Vec::new());
    }
    let rows = connection
        .fetch_text_rows(capture.audited_tables(), &[])
        .await?;
    Ok(rows.into_iter().filter_map(parse_audited).collect())
}

fn parse_audited(row: Vec<Option<String>>) -> Option<AuditedTable> {
    let mut cells = row.into_iter();
    let mut next = || cells.next().flatten();
    let table = next()?;
    let mut exclude_fields: Vec<String> = serde_json::from_str(&next()?).ok()?;
    exclude_fields.sort();
    let retention_days = next()?.parse().ok()?;
    let compression = next()? == "1";
    let hash_chain = next()? == "1";
    Some(AuditedTable {
        table,
        settings: TableAudit {
            exclude_fields,
            retention_days,
            compression,
            hash_chain,
        },
    })
}

/// Deletes the audit records of `table` written before `before`; returns how many. On a
/// hash-chained table the chain's anchor moves to the newest deleted record, so [`verify`]
/// still checks what is kept.
///
/// # Errors
/// Database errors.
pub async fn prune(
    db: &Database,
    table: &str,
    before: chrono::DateTime<chrono::Utc>,
) -> Result<u64> {
    let capture = audit_capture_for(db.backend());
    let at = capture.time_text(before);
    let table = table.to_string();
    db.transaction(async |tx| {
        let last = tx
            .fetch_all(
                capture.last_expired_hash(),
                &[Value::Text(table.clone()), Value::Text(at.clone())],
            )
            .await?;
        if let Some(row) = last.first() {
            let hash: Option<String> = row.get_at(0)?;
            if let Some(hash) = hash {
                tx.execute(
                    capture.set_anchor(),
                    &[Value::Text(hash), Value::Text(table.clone())],
                )
                .await?;
            }
        }
        tx.execute(
            capture.prune(),
            &[Value::Text(table.clone()), Value::Text(at.clone())],
        )
        .await
    })
    .await
}

/// Deletes, for every audited table, the records older than its `retentionDays` (counted
/// back from `now`); returns the tables with how many were deleted.
///
/// # Errors
/// Database errors.
pub async fn prune_expired(
    db: &Database,
    connection: &mut crate::connection::Connection,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<(String, u64)>> {
    let mut pruned = Vec::new();
    for audited in audited_tables(connection).await? {
        let before = now - chrono::Duration::days(i64::from(audited.settings.retention_days));
        let deleted = prune(db, &audited.table, before).await?;
        pruned.push((audited.table, deleted));
    }
    Ok(pruned)
}

/// What is wrong with one record of a hash chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainProblem {
    /// The record's content does not match its hash: it was edited.
    Edited {
        /// The record.
        id: i64,
    },
    /// The record does not follow the one before it: a record before it was deleted, or
    /// records were reordered.
    Broken {
        /// The record.
        id: i64,
        /// The record it should follow (`None`: the oldest kept).
        after: Option<i64>,
        /// The record whose hash it does name, when that one is kept (reordered).
        names: Option<i64>,
    },
    /// The newest records are gone: the chain head names a hash no kept record has.
    TailDeleted {
        /// The newest kept record.
        after: Option<i64>,
    },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Edited { id } => write!(f, "record {id} was edited (its hash does not match)"),
            Self::Broken {
                id,
                after,
                names: Some(named),
            } => write!(
                f,
                "record {id} is out of order: it follows record {named}, not {}",
                after.map_or("the start of the chain".into(), |a| format!("record {a}"))
            ),
            Self::Broken {
                id,
                after: Some(after),
                names: None,
            } => write!(
                f,
                "a record between {after} and {id} was deleted (record {id} does not follow record {after})"
            ),
            Self::Broken {
                id,
                after: None,
                names: None,
            } => write!(
                f,
                "a record before {id} was deleted (the oldest kept record does not follow the chain's start)"
            ),
            Self::TailDeleted { after } => match after {
                Some(after) => write!(
                    f,
                    "records after {after} were deleted (the chain head names a newer record)"
                ),
                None => write!(
                    f,
                    "every record was deleted (the chain head names a record)"
                ),
            },
        }
    }
}

/// The outcome of checking one table's hash chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// The table.
    pub table: String,
    /// Records checked.
    pub records: usize,
    /// The chain head (hash of the newest record): keep it elsewhere to detect a rewrite of
    /// the whole log.
    pub head: String,
    /// What is wrong, oldest first; empty when the chain is intact.
    pub problems: Vec<ChainProblem>,
}

/// Checks the hash chain of `table`'s audit records.
///
/// # Errors
/// [`crate::Error::Unsupported`] when the table has no hash chain (or the engine has none);
/// database errors.
pub async fn verify(db: &Database, table: &str) -> Result<ChainReport> {
    let backend = db.backend();
    let capture = audit_capture_for(backend);
    let no_chain = || crate::Error::Unsupported {
        backend,
        feature: format!(
            "verifying the audit log of {table}: it has no hash chain (set audit.hashChain: true on it and run fox apply)"
        ),
    };
    if capture
        .unsupported(&TableAudit {
            hash_chain: true,
            ..TableAudit::default()
        })
        .is_some()
    {
        return Err(no_chain());
    }
    let name = Value::Text(table.to_string());
    // A table audited without a chain has no hashes to check: an empty walk would call it
    // intact.
    let dialect = crate::dialect::dialect_for(backend);
    let settings = format!(
        "SELECT {} AS chained FROM {} WHERE {} = {}",
        dialect.quote("hash_chain"),
        dialect.quote(AUDIT_TABLES),
        dialect.quote("table_name"),
        capture.placeholder(1)
    );
    let not_audited = || crate::Error::Unsupported {
        backend,
        feature: format!(
            "verifying the audit log of {table}: the table is not audited (set audit.enabled and audit.hashChain: true on it and run fox apply)"
        ),
    };
    let settings = db
        .fetch_all(&settings, std::slice::from_ref(&name))
        .await
        .map_err(|_| not_audited())?;
    match settings.first() {
        None => return Err(not_audited()),
        Some(row) if row.get::<i64>("chained")? == 0 => return Err(no_chain()),
        Some(_) => {}
    }
    let ends = db
        .fetch_all(capture.chain_ends(), std::slice::from_ref(&name))
        .await
        .map_err(|_| no_chain())?;
    let Some(ends) = ends.first() else {
        return Err(no_chain());
    };
    let head: String = ends.get_at(0)?;
    let anchor: String = ends.get_at(1)?;
    let rows = db.fetch_all(capture.chain_records(), &[name]).await?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: i64 = row.get_at(0)?;
        let prev: Option<String> = row.get_at(1)?;
        let hash: String = row.get_at(2)?;
        let recomputed: Option<String> = row.get_at(3)?;
        records.push((
            id,
            prev.unwrap_or_default(),
            hash,
            recomputed.unwrap_or_default(),
        ));
    }
    let problems = check_chain(&anchor, &head, &records);
    Ok(ChainReport {
        table: table.to_string(),
        records: records.len(),
        head,
        problems,
    })
}

/// Walks `records` (id, previous hash, hash, recomputed hash) in order from `anchor` to
/// `head`.
fn check_chain(
    anchor: &str,
    head: &str,
    records: &[(i64, String, String, String)],
) -> Vec<ChainProblem> {
    let by_hash: BTreeMap<&str, i64> = records
        .iter()
        .map(|(id, _, hash, _)| (hash.as_str(), *id))
        .collect();
    let mut problems = Vec::new();
    let mut expected = anchor;
    let mut after = None;
    for (id, prev, hash, recomputed) in records {
        if recomputed != hash {
            problems.push(ChainProblem::Edited { id: *id });
        }
        if prev != expected {
            problems.push(ChainProblem::Broken {
                id: *id,
                after,
                names: by_hash.get(prev.as_str()).copied(),
            });
        }
        expected = hash;
        after = Some(*id);
    }
    if expected != head {
        problems.push(ChainProblem::TailDeleted { after });
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(ids: &[i64]) -> Vec<(i64, String, String, String)> {
        let mut prev = String::new();
        ids.iter()
            .map(|id| {
                let hash = format!("h{id}");
                let record = (*id, prev.clone(), hash.clone(), hash.clone());
                prev = hash;
                record
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_has_no_problems() {
        assert!(check_chain("", "h3", &chain(&[1, 2, 3])).is_empty());
    }

    #[test]
    fn a_deleted_middle_record_names_its_neighbours() {
        let mut records = chain(&[1, 2, 3]);
        records.remove(1);
        assert_eq!(
            check_chain("", "h3", &records),
            vec![ChainProblem::Broken {
                id: 3,
                after: Some(1),
                names: None
            }]
        );
    }

    #[test]
    fn a_deleted_newest_record_breaks_the_head() {
        let mut records = chain(&[1, 2, 3]);
        records.pop();
        assert_eq!(
            check_chain("", "h3", &records),
            vec![ChainProblem::TailDeleted { after: Some(2) }]
        );
    }

    #[test]
    fn swapped_records_are_out_of_order() {
        let mut records = chain(&[1, 2, 3]);
        records.swap(1, 2);
        let problems = check_chain("", "h3", &records);
        assert!(problems.contains(&ChainProblem::Broken {
            id: 3,
            after: Some(1),
            names: Some(2)
        }));
    }
}
