//! SQLite audit capture: three row triggers per table, written out for the table's recorded
//! columns. SQLite has no session variables; the actor is a one-row table (`_fox_audit_actor`)
//! that `foxdb` writes when a transaction begins and empties before it commits. SQLite lets
//! one writer in at a time, so no other transaction's writes can read that row. SQL in SQLite
//! has neither a compression nor a hash function: `compression` and `hashChain` are refused.

use fox_crds::ColumnType;

use super::capture::{
    AUDIT_LOG, AUDIT_TABLES, AUDIT_VIEW, AuditCapture, KEY_TEXT_LENGTH, WrittenOutTrigger,
    audit_object_name, recorded_columns, settings_values,
};
use crate::Backend;
use crate::dialect::{Dialect, Sqlite};
use crate::schema::{Table, TableAudit};

/// The one-row table holding the actor of the writing transaction.
pub const AUDIT_ACTOR: &str = "_fox_audit_actor";

const TRIGGERS: [(&str, &str); 3] = [
    ("_fox_audit_insert_", "INSERT"),
    ("_fox_audit_update_", "UPDATE"),
    ("_fox_audit_delete_", "DELETE"),
];

/// The time format of the log: RFC 3339, UTC, milliseconds.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// `row."column"` as recorded: bytes as hex text (`json_object` fails on a blob).
fn value(table: &Table, row: &str, name: &str) -> String {
    let value = format!("{row}.{}", Sqlite.quote(name));
    match table.column(name).map(|c| &c.ty) {
        Some(ColumnType::Bytes) => format!("hex({value})"),
        _ => value,
    }
}

/// The text of `column`'s value in the JSON key `key` (an SQL expression), as
/// [`AuditCapture::key_equals`] compares it.
fn key_value(key: &str, column: &str) -> String {
    let path = Sqlite.string_literal(&format!("$.\"{}\"", column.replace('"', "\\\"")));
    format!("CAST(json_extract({key}, {path}) AS TEXT)")
}

/// The record's key text: the key's values (from the JSON key `key`) joined by the unit
/// separator, cut to the indexed length.
fn key_text(key: &str, columns: &[String]) -> String {
    let values: Vec<String> = columns.iter().map(|c| key_value(key, c)).collect();
    format!(
        "substr({}, 1, {KEY_TEXT_LENGTH})",
        values.join(" || char(31) || ")
    )
}

/// SQLite audit capture.
#[derive(Clone, Copy, Debug, Default)]
pub struct SqliteAudit;

impl AuditCapture for SqliteAudit {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn design(&self) -> &'static str {
        "row triggers into _fox_audit, actor from the one-row table _fox_audit_actor"
    }

    fn unsupported(&self, settings: &TableAudit) -> Option<&'static str> {
        if settings.compression {
            Some(
                "audit.compression (SQLite has no compression function in SQL, so triggers cannot compress what any program writes)",
            )
        } else if settings.hash_chain {
            Some(
                "audit.hashChain (SQLite has no hash function in SQL, so triggers cannot chain what any program writes)",
            )
        } else {
            None
        }
    }

    fn create_log(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS \"{AUDIT_LOG}\" (\
                 \"id\" INTEGER PRIMARY KEY AUTOINCREMENT, \
                 \"table_name\" TEXT NOT NULL, \
                 \"primary_key\" TEXT NOT NULL, \
                 \"operation\" TEXT NOT NULL, \
                 \"actor\" TEXT, \
                 \"changed_at\" TEXT NOT NULL, \
                 \"changes\" TEXT, \
                 \"packed_changes\" BLOB, \
                 \"prev_hash\" TEXT, \
                 \"hash\" TEXT, \
                 \"key_text\" TEXT)"
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS \"{AUDIT_LOG}_table\" ON \"{AUDIT_LOG}\" (\"table_name\", \"changed_at\")"
            ),
            // A row's history: table and key.
            format!(
                "CREATE INDEX IF NOT EXISTS \"{AUDIT_LOG}_key\" ON \"{AUDIT_LOG}\" (\"table_name\", \"key_text\")"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS \"{AUDIT_TABLES}\" (\
                 \"table_name\" TEXT PRIMARY KEY, \
                 \"exclude_fields\" TEXT NOT NULL, \
                 \"retention_days\" INTEGER NOT NULL, \
                 \"compression\" INTEGER NOT NULL, \
                 \"hash_chain\" INTEGER NOT NULL, \
                 \"enabled\" INTEGER NOT NULL, \
                 \"head_hash\" TEXT NOT NULL DEFAULT '', \
                 \"anchor_hash\" TEXT NOT NULL DEFAULT '')"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS \"{AUDIT_ACTOR}\" (\"id\" INTEGER PRIMARY KEY CHECK (\"id\" = 1), \"actor\" TEXT NOT NULL)"
            ),
            format!(
                "CREATE VIEW IF NOT EXISTS \"{AUDIT_VIEW}\" AS SELECT \"id\", \"table_name\", \"primary_key\", \
                 \"operation\", \"actor\", \"changed_at\", \"changes\" FROM \"{AUDIT_LOG}\""
            ),
        ]
    }

    fn install(&self, table: &Table, settings: &TableAudit) -> Vec<String> {
        let recorded = recorded_columns(table, settings);
        let quoted = Sqlite.quote(&table.name);
        let name = Sqlite.string_literal(&table.name);
        let mut statements = self.create_log();
        statements.push(format!(
            "INSERT INTO \"{AUDIT_TABLES}\" (\"table_name\", \"exclude_fields\", \"retention_days\", \"compression\", \"hash_chain\", \"enabled\") \
             VALUES ({}) ON CONFLICT (\"table_name\") DO UPDATE SET \"exclude_fields\" = excluded.\"exclude_fields\", \
             \"retention_days\" = excluded.\"retention_days\", \"compression\" = excluded.\"compression\", \
             \"hash_chain\" = excluded.\"hash_chain\", \"enabled\" = 1",
            settings_values(&table.name, settings, |text| Sqlite.string_literal(text))
        ));
        for (prefix, event) in TRIGGERS {
            let trigger = Sqlite.quote(&audit_object_name(prefix, &table.name));
            let shape = WrittenOutTrigger {
                event,
                table,
                dialect: &Sqlite,
                json_array: "json_array",
                value,
            };
            let key = shape.key_arguments();
            let (when, changes) = if event == "UPDATE" {
                let differs = |c: &str| format!("OLD.{q} IS NOT NEW.{q}", q = Sqlite.quote(c));
                let when = if recorded.is_empty() {
                    " WHEN 0".to_string()
                } else {
                    let tests: Vec<String> = recorded.iter().map(|c| differs(c)).collect();
                    format!(" WHEN {}", tests.join(" OR "))
                };
                let parts: Vec<String> = recorded
                    .iter()
                    .map(|c| {
                        format!(
                            "SELECT {} AS k, {} AS v WHERE {}",
                            Sqlite.string_literal(c),
                            shape.change(c),
                            differs(c)
                        )
                    })
                    .collect();
                (
                    when,
                    format!(
                        "(SELECT json_group_object(k, json(v)) FROM ({}))",
                        parts.join(" UNION ALL ")
                    ),
                )
            } else {
                (
                    String::new(),
                    format!("json_object({})", shape.change_arguments(&recorded)),
                )
            };
            let key_json = format!("json_object({})", key.join(", "));
            statements.push(format!("DROP TRIGGER IF EXISTS {trigger}"));
            statements.push(format!(
                "CREATE TRIGGER {trigger} AFTER {event} ON {quoted} FOR EACH ROW{when} BEGIN \
                 INSERT INTO \"{AUDIT_LOG}\" (\"table_name\", \"primary_key\", \"operation\", \"actor\", \"changed_at\", \"changes\", \"key_text\") \
                 VALUES ({name}, {key_json}, '{}', (SELECT \"actor\" FROM \"{AUDIT_ACTOR}\" WHERE \"id\" = 1), {NOW}, {changes}, {key_text}); END",
                event.to_ascii_lowercase(),
                key_text = key_text(&key_json, &table.primary_key),
            ));
        }
        statements
    }

    fn remove(&self, table: &str) -> Vec<String> {
        let mut statements = crate::realtime::capture::drop_triggers(&TRIGGERS, table, &Sqlite);
        statements.push(format!(
            "UPDATE \"{AUDIT_TABLES}\" SET \"enabled\" = 0 WHERE \"table_name\" = {}",
            Sqlite.string_literal(table)
        ));
        statements
    }

    fn delete_log(&self, table: &str) -> Vec<String> {
        let name = Sqlite.string_literal(table);
        vec![
            format!("DELETE FROM \"{AUDIT_LOG}\" WHERE \"table_name\" = {name}"),
            format!("DELETE FROM \"{AUDIT_TABLES}\" WHERE \"table_name\" = {name}"),
        ]
    }

    fn log_exists(&self) -> &'static str {
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_fox_audit_tables'"
    }

    fn audited_tables(&self) -> &'static str {
        "SELECT s.\"table_name\", s.\"exclude_fields\", CAST(s.\"retention_days\" AS TEXT), \
         CAST(s.\"compression\" AS TEXT), CAST(s.\"hash_chain\" AS TEXT) FROM \"_fox_audit_tables\" s \
         WHERE s.\"enabled\" = 1 AND EXISTS (SELECT 1 FROM sqlite_master t WHERE t.type = 'trigger' \
         AND t.tbl_name = s.\"table_name\" AND t.name LIKE '!_fox!_audit!_%' ESCAPE '!') ORDER BY 1"
    }

    fn set_actor(&self, actor: &str) -> Vec<String> {
        let mut statements = vec![format!(
            "CREATE TABLE IF NOT EXISTS \"{AUDIT_ACTOR}\" (\"id\" INTEGER PRIMARY KEY CHECK (\"id\" = 1), \"actor\" TEXT NOT NULL)"
        )];
        statements.push(format!(
            "INSERT OR REPLACE INTO \"{AUDIT_ACTOR}\" (\"id\", \"actor\") VALUES (1, {})",
            Sqlite.string_literal(actor)
        ));
        statements
    }

    fn clear_actor(&self) -> Option<&'static str> {
        // Emptied in the transaction, before COMMIT: the next writer finds no actor.
        Some("DELETE FROM \"_fox_audit_actor\"")
    }

    fn key_equals(&self, column: &str, _n: usize) -> String {
        format!("{} = ?", key_value("\"primary_key\"", column))
    }

    fn chain_records(&self) -> &'static str {
        // Never reached: hash chains are refused on SQLite.
        "SELECT \"id\", \"prev_hash\", \"hash\", \"hash\" FROM \"_fox_audit\" WHERE \"table_name\" = ?1 AND \"hash\" IS NOT NULL ORDER BY \"id\""
    }

    fn chain_ends(&self) -> &'static str {
        "SELECT \"head_hash\", \"anchor_hash\" FROM \"_fox_audit_tables\" WHERE \"table_name\" = ?1"
    }

    fn last_expired_hash(&self) -> &'static str {
        "SELECT \"hash\" FROM \"_fox_audit\" WHERE \"table_name\" = ?1 AND \"changed_at\" < ?2 \
         AND \"hash\" IS NOT NULL ORDER BY \"id\" DESC LIMIT 1"
    }

    fn set_anchor(&self) -> &'static str {
        "UPDATE \"_fox_audit_tables\" SET \"anchor_hash\" = ?1 WHERE \"table_name\" = ?2"
    }

    fn prune(&self) -> &'static str {
        "DELETE FROM \"_fox_audit\" WHERE \"table_name\" = ?1 AND \"changed_at\" < ?2"
    }

    fn time_text(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        // The log's own format (milliseconds), so text order is time order.
        at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}
