//! The engine seam of audit logging: how one engine records row changes into the audit log
//! (`_fox_audit`), reads the actor of the writing transaction, compresses and chains records.
//! One `impl AuditCapture` per engine, reached through
//! [`crate::dialect::Dialect::audit_capture`].

use crate::Backend;
use crate::schema::{Table, TableAudit};

/// The audit log every audited table writes to.
pub const AUDIT_LOG: &str = "_fox_audit";

/// One row per audited table: its settings, chain head and chain anchor.
pub const AUDIT_TABLES: &str = "_fox_audit_tables";

/// How many characters of a record's key text (`key_text`: the key's values as text, joined by
/// [`KEY_TEXT_SEPARATOR`]) the log keeps: what its `(table_name, key_text)` index holds, so
/// [`crate::Database::history`] finds a row's records without scanning the log.
pub const KEY_TEXT_LENGTH: usize = 200;

/// What joins the values of a composite key in `key_text` (the ASCII unit separator).
pub const KEY_TEXT_SEPARATOR: char = '\u{1f}';

/// The view [`crate::audit::AuditRecord`] reads: the log with every engine's columns as text
/// and compressed changes expanded.
pub const AUDIT_VIEW: &str = "_fox_audit_log";

/// Audit capture on one engine: SQL only, no connections.
///
/// # Guarantees
/// Every implementation keeps the same contract: each committed insert, update and delete of
/// an audited table lands in [`AUDIT_LOG`] in the writing transaction (a rolled-back write
/// leaves nothing) with its table, primary key, operation, actor (the transaction's, or NULL)
/// and time; the changes are `{"column": [old, new]}` of the columns not excluded (all of them
/// for inserts and deletes, only the changed ones for updates; an update changing no recorded
/// column records nothing).
pub trait AuditCapture: Send + Sync + std::fmt::Debug {
    /// The engine.
    fn backend(&self) -> Backend;

    /// The capture design in words, for plans and docs.
    fn design(&self) -> &'static str;

    /// Why this engine cannot audit with `settings` (a feature it lacks), if it cannot.
    fn unsupported(&self, settings: &TableAudit) -> Option<&'static str>;

    /// Statements creating the audit log, its settings table and view; safe to repeat.
    fn create_log(&self) -> Vec<String>;

    /// Statements installing audit capture on `table` with `settings` (replacing an earlier
    /// install, keeping the chain head); safe to repeat. Call [`AuditCapture::unsupported`]
    /// first.
    fn install(&self, table: &Table, settings: &TableAudit) -> Vec<String>;

    /// Statements removing audit capture from `table`; its records and chain stay.
    fn remove(&self, table: &str) -> Vec<String>;

    /// Statements deleting `table`'s records and settings (audit turned off with
    /// `--allow-destructive`).
    fn delete_log(&self, table: &str) -> Vec<String>;

    /// A query returning one row when the audit log exists, none otherwise; it must succeed
    /// when the log does not exist.
    fn log_exists(&self) -> &'static str;

    /// A query listing the audited tables (their triggers exist) with their settings, as text:
    /// table, excluded fields (JSON array), retention days, compression (`0`/`1`), hash chain
    /// (`0`/`1`). Run only when [`AuditCapture::log_exists`] found the log.
    fn audited_tables(&self) -> &'static str;

    /// Statements that make `actor` the actor of the open transaction (run right after it
    /// begins); `actor` is written as a quoted literal.
    fn set_actor(&self, actor: &str) -> Vec<String>;

    /// A statement clearing the actor before the transaction ends, where it would outlive it.
    fn clear_actor(&self) -> Option<&'static str>;

    /// A condition matching records whose primary key has `column` equal to the text bound at
    /// parameter `n` (integers and text compare by their text).
    fn key_equals(&self, column: &str, n: usize) -> String;

    /// The records of one table (bound once) that carry a hash, in chain order: id, previous
    /// hash, hash, and the hash recomputed from the record's columns (all text but the id).
    fn chain_records(&self) -> &'static str;

    /// A table's chain head and anchor (the hash before its oldest kept record), bound with the
    /// table: two text columns.
    fn chain_ends(&self) -> &'static str;

    /// The hash of the newest record of a table (bound first) older than a time (bound second,
    /// [`AuditCapture::time_text`]), if it has one.
    fn last_expired_hash(&self) -> &'static str;

    /// Sets a table's chain anchor: bound with the hash, then the table.
    fn set_anchor(&self) -> &'static str;

    /// Deletes the records of a table (bound first) older than a time (bound second).
    fn prune(&self) -> &'static str;

    /// The text a time is bound as in [`AuditCapture::prune`] and its kin.
    fn time_text(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    /// Placeholder for the `n`-th parameter (1-based), as the engine's dialect writes it.
    fn placeholder(&self, n: usize) -> String {
        crate::dialect::dialect_for(self.backend()).placeholder(n)
    }
}

/// The audit capture of `backend` (through its dialect).
pub fn audit_capture_for(backend: Backend) -> &'static dyn AuditCapture {
    crate::dialect::dialect_for(backend).audit_capture()
}

/// Name of a per-table audit trigger, fitted to the engines' identifier limit: named as the
/// real-time capture names its triggers.
pub(crate) use crate::realtime::capture::capture_object_name as audit_object_name;

/// The columns of `table` that are recorded (not excluded), in table order.
pub(crate) fn recorded_columns<'a>(table: &'a Table, settings: &TableAudit) -> Vec<&'a str> {
    table
        .columns
        .iter()
        .map(|c| c.name.as_str())
        .filter(|name| !settings.exclude_fields.iter().any(|e| e == name))
        .collect()
}

/// The settings row of `table`, as an upsert's values: table, excluded fields (JSON), days,
/// compression, hash chain; each a literal written by `literal`.
pub(crate) fn settings_values(
    table: &str,
    settings: &TableAudit,
    literal: impl Fn(&str) -> String,
) -> String {
    let excluded = serde_json::to_string(&settings.exclude_fields).unwrap_or_else(|_| "[]".into());
    format!(
        "{}, {}, {}, {}, {}, 1",
        literal(table),
        literal(&excluded),
        settings.retention_days,
        i32::from(settings.compression),
        i32::from(settings.hash_chain)
    )
}

/// The parts the MySQL and SQLite audit triggers share: one trigger per event with the
/// table's columns written out, each value read through the engine's `value` (`row.column`
/// as recorded: bytes as hex text there, JSON holding no binary).
pub(crate) struct WrittenOutTrigger<'a> {
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub event: &'a str,
    /// The audited table.
    pub table: &'a Table,
    /// Quotes the column names written as JSON keys.
    pub dialect: &'a dyn crate::dialect::Dialect,
    /// The engine's JSON array function (`JSON_ARRAY`, `json_array`).
    pub json_array: &'static str,
    /// `row.column` as recorded: `(table, row, column)`.
    pub value: fn(&Table, &str, &str) -> String,
}

impl WrittenOutTrigger<'_> {
    /// `'column', value` for each key column (the arguments of the key's JSON object), read
    /// from the row the event leaves (`OLD` for a delete).
    pub(crate) fn key_arguments(&self) -> Vec<String> {
        let row = if self.event == "DELETE" { "OLD" } else { "NEW" };
        self.table
            .primary_key
            .iter()
            .map(|c| {
                format!(
                    "{}, {}",
                    self.dialect.string_literal(c),
                    (self.value)(self.table, row, c)
                )
            })
            .collect()
    }

    /// `column`'s value before the write (`NULL` for an insert).
    pub(crate) fn before(&self, column: &str) -> String {
        if self.event == "INSERT" {
            "NULL".into()
        } else {
            (self.value)(self.table, "OLD", column)
        }
    }

    /// `column`'s value after the write (`NULL` for a delete).
    pub(crate) fn after(&self, column: &str) -> String {
        if self.event == "DELETE" {
            "NULL".into()
        } else {
            (self.value)(self.table, "NEW", column)
        }
    }

    /// `[old, new]` of `column` as a JSON array.
    pub(crate) fn change(&self, column: &str) -> String {
        format!(
            "{}({}, {})",
            self.json_array,
            self.before(column),
            self.after(column)
        )
    }

    /// `'column', [old, new]` for each of `columns`: the arguments of an insert's or delete's
    /// changes as one JSON object.
    pub(crate) fn change_arguments(&self, columns: &[&str]) -> String {
        columns
            .iter()
            .map(|c| format!("{}, {}", self.dialect.string_literal(c), self.change(c)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
