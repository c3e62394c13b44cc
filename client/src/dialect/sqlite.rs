//! SQLite: declared type names that keep both affinity and the portable type, enums as CHECK
//! constraints, foreign keys inline; column changes go through a table rebuild.

use fox_crds::ColumnType;

use super::{Dialect, FloatStorage};
use crate::Backend;
use crate::dialect::server_error::quoted_after;
use crate::dialect::{ServerError, ServerErrorKind, Violation};
use crate::schema::{Column, Table};

/// The SQLite dialect.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sqlite;

impl Sqlite {
    /// Whether `table` has a single auto-increment primary key column (rendered as the rowid
    /// alias `INTEGER PRIMARY KEY AUTOINCREMENT`).
    fn rowid_key(table: &Table) -> Option<&str> {
        match table.primary_key.as_slice() {
            [only] => table
                .column(only)
                .filter(|c| c.ty.is_auto_increment())
                .map(|c| c.name.as_str()),
            _ => None,
        }
    }

    fn enum_check(&self, column: &Column) -> Option<String> {
        let ColumnType::Enum(labels) = &column.ty else {
            return None;
        };
        let labels: Vec<String> = labels.iter().map(|l| self.string_literal(l)).collect();
        Some(format!(
            "CHECK ({} IN ({}))",
            self.quote(&column.name),
            labels.join(", ")
        ))
    }
}

impl Dialect for Sqlite {
    /// `json_extract` read as text, with `json_type` telling booleans (which `json_extract`
    /// gives as 1 and 0) apart so they read `true`/`false` as on the other engines.
    fn json_text_at(&self, column: &str, path: &[&str]) -> String {
        let path = self.string_literal(&super::json_key_path(path));
        format!(
            "CASE json_type({column}, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' \
             ELSE CAST(json_extract({column}, {path}) AS TEXT) END"
        )
    }

    fn two_phase(&self) -> crate::Result<&'static dyn crate::distributed::TwoPhase> {
        // SQLite has no prepared state a transaction can wait in across a crash of its
        // process: it commits or it does not. Taking part only as the last resource would
        // hide that; distributed transactions refuse it instead.
        Err(crate::Error::Unsupported {
            backend: Backend::Sqlite,
            feature: "two-phase commit (a distributed transaction branch): SQLite cannot prepare a transaction; use a transactional outbox (foxdb::outbox) to pair a SQLite write with another system".into(),
        })
    }

    fn change_capture(&self) -> &'static dyn crate::realtime::ChangeCapture {
        &crate::realtime::SqliteCapture
    }

    fn audit_capture(&self) -> &'static dyn crate::audit::AuditCapture {
        &crate::audit::SqliteAudit
    }

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    /// By extended result code (the primary code is its low byte).
    fn classify_server_error(&self, error: &ServerError<'_>) -> ServerErrorKind {
        let Some(code) = error.code.and_then(|c| c.parse::<u32>().ok()) else {
            return ServerErrorKind::Other;
        };
        match code {
            // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
            2067 | 1555 => ServerErrorKind::UniqueViolation,
            787 => ServerErrorKind::ForeignKeyViolation,
            1299 => ServerErrorKind::NotNullViolation,
            275 => ServerErrorKind::CheckViolation,
            // SQLITE_BUSY_SNAPSHOT: a WAL read snapshot went stale before the write
            517 => ServerErrorKind::SerializationFailure,
            // SQLITE_BUSY and SQLITE_LOCKED with their other extended codes
            _ if matches!(code & 0xff, 5 | 6) => ServerErrorKind::LockTimeout,
            _ => ServerErrorKind::Other,
        }
    }

    /// SQLite writes the names into the message: `UNIQUE constraint failed: users.email`
    /// (`index 'name'` for an expression index), `NOT NULL constraint failed: users.email`,
    /// `CHECK constraint failed: positive` (the constraint's name, or its expression);
    /// a foreign key violation names nothing.
    fn violation(&self, kind: ServerErrorKind, error: &ServerError<'_>) -> Violation {
        let named = error
            .message
            .split_once("constraint failed: ")
            .map(|(_, names)| names.trim());
        let Some(named) = named else {
            return Violation::default();
        };
        match kind {
            ServerErrorKind::UniqueViolation | ServerErrorKind::NotNullViolation => {
                if let Some(index) = quoted_after(named, "index ", '\'') {
                    return Violation {
                        constraint: Some(index),
                        ..Violation::default()
                    };
                }
                let mut violation = Violation::default();
                for qualified in named.split(", ") {
                    if let Some((table, column)) = qualified.split_once('.') {
                        violation.table = Some(table.to_string());
                        violation.columns.push(column.to_string());
                    }
                }
                violation
            }
            ServerErrorKind::CheckViolation => Violation {
                constraint: Some(named.to_string()),
                ..Violation::default()
            },
            _ => Violation::default(),
        }
    }

    fn parameter_limit(&self) -> usize {
        32_766
    }

    /// An OFFSET needs a LIMIT before it: `LIMIT -1` stands for none.
    fn write_limit_offset(&self, out: &mut String, limit: Option<u64>, offset: Option<u64>) {
        match limit {
            Some(limit) => {
                out.push_str(" LIMIT ");
                super::write_decimal(out, limit);
            }
            // SQLite has no OFFSET without LIMIT: -1 stands for none.
            None if offset.is_some() => out.push_str(" LIMIT -1"),
            None => {}
        }
        if let Some(offset) = offset {
            out.push_str(" OFFSET ");
            super::write_decimal(out, offset);
        }
    }

    fn begin_transaction(&self) -> &'static str {
        // IMMEDIATE takes the write lock at BEGIN, so a transaction that reads and then writes
        // waits for another writer (busy timeout) instead of failing with SQLITE_BUSY when it
        // upgrades.
        "BEGIN IMMEDIATE"
    }

    fn begin_exclusive_transaction(&self) -> Option<&'static str> {
        Some("BEGIN EXCLUSIVE")
    }

    fn explain(&self, sql: &str) -> String {
        format!("EXPLAIN QUERY PLAN {sql}")
    }

    fn lock_rows_clause(&self) -> &'static str {
        // A write transaction holds the database's only write lock already.
        ""
    }

    fn rebuild_session_statements(&self) -> Option<(&'static str, &'static str)> {
        Some(("PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys = ON"))
    }

    fn rebuilds_altered_tables(&self) -> bool {
        true
    }

    fn foreign_keys_inline(&self) -> bool {
        true
    }

    fn schema_statement_batch(&self) -> usize {
        // DDL is cheap on SQLite; the round trips are what an apply of many tables pays for.
        64
    }

    fn float_storage(&self, _ty: &ColumnType) -> FloatStorage {
        // Every SQLite REAL is an 8-byte IEEE float.
        FloatStorage::Double
    }

    fn native_type(&self, _table: &str, column: &Column) -> String {
        match &column.ty {
            ColumnType::SmallInt => "SMALLINT".into(),
            ColumnType::Integer | ColumnType::Serial | ColumnType::BigSerial => "INTEGER".into(),
            ColumnType::BigInt => "BIGINT".into(),
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::Real => "REAL".into(),
            ColumnType::Double => "DOUBLE".into(),
            ColumnType::Decimal { precision, scale } => format!("DECIMAL({precision},{scale})"),
            ColumnType::Char(n) => format!("CHAR({n})"),
            ColumnType::Varchar(n) => format!("VARCHAR({n})"),
            ColumnType::Text => "TEXT".into(),
            ColumnType::Date => "DATE".into(),
            ColumnType::Time => "TIME".into(),
            ColumnType::Timestamp => "TIMESTAMP".into(),
            ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
            ColumnType::Uuid => "UUID".into(),
            ColumnType::Json => "JSON".into(),
            ColumnType::Bytes => "BLOB".into(),
            ColumnType::Enum(_) => "ENUM".into(),
        }
    }

    fn boolean_literal(&self, value: bool) -> &'static str {
        if value { "1" } else { "0" }
    }

    fn wrap_default_literal(&self, _ty: &ColumnType, literal: String) -> String {
        // A signed number is an expression to SQLite's DEFAULT clause.
        if literal.starts_with('-') {
            format!("({literal})")
        } else {
            literal
        }
    }

    fn column_check(&self, column: &Column) -> Option<String> {
        self.enum_check(column)
    }

    fn create_table(&self, table: &Table) -> Vec<String> {
        let rowid_key = Self::rowid_key(table);
        let mut parts: Vec<String> = table
            .columns
            .iter()
            .map(|c| {
                if Some(c.name.as_str()) == rowid_key {
                    format!(
                        "{} INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL",
                        self.quote(&c.name)
                    )
                } else {
                    self.column_definition(&table.name, c)
                }
            })
            .collect();
        if rowid_key.is_none() && !table.primary_key.is_empty() {
            parts.push(format!(
                "PRIMARY KEY ({})",
                self.quote_list(&table.primary_key)
            ));
        }
        for foreign_key in &table.foreign_keys {
            parts.push(format!(
                "CONSTRAINT {} FOREIGN KEY ({}) {}",
                self.quote(&foreign_key.name),
                self.quote_list(&foreign_key.columns),
                self.references_clause(foreign_key)
            ));
        }
        vec![format!(
            "CREATE TABLE {} (\n  {}\n)",
            self.quote(&table.name),
            parts.join(",\n  ")
        )]
    }

    fn alter_column(&self, _table: &str, _from: &Column, _to: &Column) -> Option<Vec<String>> {
        None
    }

    fn add_foreign_key(
        &self,
        _table: &str,
        _foreign_key: &crate::schema::ForeignKey,
    ) -> Option<String> {
        None
    }

    fn drop_foreign_key(&self, _table: &str, _name: &str) -> Option<String> {
        None
    }

    fn drop_unique_constraint(&self, _table: &str, _name: &str) -> Option<String> {
        None
    }
}
