//! SQLite capture: three row triggers per table writing the change log. SQLite lets one
//! writer in at a time, from its first write to its commit, so row ids are handed out in
//! commit order and serve as positions directly ([`Numbering::AtWrite`]); readers poll
//! `PRAGMA data_version`, which changes when another connection commits.
//!
//! The log's `position` is its `INTEGER PRIMARY KEY` (the row id: the highest plus one) without
//! `AUTOINCREMENT`, whose `sqlite_sequence` bookkeeping is one more page written per commit.
//! Pruning always keeps the newest change, so positions never go back. (Logs created with
//! `AUTOINCREMENT` by earlier versions keep working.)

use fox_crds::ColumnType;

use super::capture::{
    CHANGE_LOG, ChangeCapture, ImageSource, LiveColumn, Numbering, Wake, capture_object_name,
    drop_triggers, trigger_rows,
};
use crate::Backend;
use crate::dialect::{Dialect, Sqlite};
use crate::schema::Table;

/// SQLite change capture.
#[derive(Clone, Copy, Debug, Default)]
pub struct SqliteCapture;

const TRIGGERS: [(&str, &str); 3] = [
    ("_fox_capture_insert_", "INSERT"),
    ("_fox_capture_update_", "UPDATE"),
    ("_fox_capture_delete_", "DELETE"),
];

/// The time format of the log: RFC 3339, UTC, milliseconds.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// `json_object('a', NEW."a", ...)`; bytes as hex text (JSON holds no blobs, and
/// `json_object` fails on one, which would fail the write).
fn image(table: &Table, row: &str, columns: &[&str]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .map(|name| {
            let value = format!("{row}.{}", Sqlite.quote(name));
            let value = match table.column(name).map(|c| &c.ty) {
                Some(ColumnType::Bytes) => format!("hex({value})"),
                _ => value,
            };
            format!("{}, {value}", Sqlite.string_literal(name))
        })
        .collect();
    format!("json_object({})", parts.join(", "))
}

impl ChangeCapture for SqliteCapture {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn design(&self) -> &'static str {
        "row triggers into _fox_changes, tailed through PRAGMA data_version"
    }

    fn create_log(&self) -> Vec<String> {
        vec![format!(
            "CREATE TABLE IF NOT EXISTS \"{CHANGE_LOG}\" (\
             \"position\" INTEGER PRIMARY KEY, \
             \"table_name\" TEXT NOT NULL, \
             \"operation\" TEXT NOT NULL, \
             \"primary_key\" TEXT NOT NULL, \
             \"old_row\" TEXT, \
             \"new_row\" TEXT, \
             \"transaction_id\" TEXT, \
             \"changed_at\" TEXT NOT NULL, \
             \"committed_at\" TEXT NOT NULL)"
        )]
    }

    fn install(&self, table: &Table) -> Vec<String> {
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let key: Vec<&str> = table.primary_key.iter().map(String::as_str).collect();
        let quoted = Sqlite.quote(&table.name);
        let name = Sqlite.string_literal(&table.name);
        let mut statements = self.create_log();
        statements.push(self.create_subscribers().into());
        for (prefix, event) in TRIGGERS {
            let trigger = Sqlite.quote(&capture_object_name(prefix, &table.name));
            let (operation, key_row, old, new) =
                trigger_rows(event, |row| image(table, row, &columns));
            statements.push(format!("DROP TRIGGER IF EXISTS {trigger}"));
            statements.push(format!(
                "CREATE TRIGGER {trigger} AFTER {event} ON {quoted} FOR EACH ROW BEGIN \
                 INSERT INTO \"{CHANGE_LOG}\" (\"table_name\", \"operation\", \"primary_key\", \"old_row\", \"new_row\", \"changed_at\", \"committed_at\") \
                 VALUES ({name}, '{operation}', {}, {old}, {new}, {NOW}, {NOW}); END",
                image(table, key_row, &key)
            ));
        }
        statements
    }

    fn remove(&self, table: &str) -> Vec<String> {
        drop_triggers(&TRIGGERS, table, &Sqlite)
    }

    fn captured_tables(&self) -> &'static str {
        "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger' \
         AND name LIKE '!_fox!_capture!_%' ESCAPE '!' ORDER BY 1"
    }

    fn live_columns(&self) -> &'static str {
        "SELECT name, type FROM pragma_table_info(?1)"
    }

    fn wake(&self) -> Wake {
        Wake::Version("PRAGMA data_version")
    }

    fn numbering(&self) -> Numbering {
        Numbering::AtWrite
    }

    fn read_changes(&self) -> &'static str {
        "SELECT \"position\", \"table_name\", \"operation\", \"primary_key\", \"old_row\", \"new_row\", \
         \"transaction_id\", \"committed_at\" FROM \"_fox_changes\" WHERE \"position\" > ?1{tables} \
         ORDER BY \"position\" LIMIT ?2"
    }

    fn head_position(&self) -> &'static str {
        "SELECT COALESCE(MAX(\"position\"), 0) FROM \"_fox_changes\""
    }

    fn prune(&self) -> &'static str {
        // The newest change stays: the next row id continues after it.
        "DELETE FROM \"_fox_changes\" WHERE \"committed_at\" < ?1 \
         AND \"position\" < (SELECT MAX(\"position\") FROM \"_fox_changes\") \
         AND \"position\" <= COALESCE((SELECT MIN(\"acknowledged\") FROM \"_fox_subscribers\"), 9223372036854775807){tables}"
    }

    fn create_subscribers(&self) -> &'static str {
        "CREATE TABLE IF NOT EXISTS \"_fox_subscribers\" (\"name\" TEXT PRIMARY KEY, \
         \"acknowledged\" INTEGER NOT NULL, \"acknowledged_at\" TEXT NOT NULL)"
    }

    fn register_subscriber(&self) -> &'static str {
        "INSERT OR IGNORE INTO \"_fox_subscribers\" (\"name\", \"acknowledged\", \"acknowledged_at\") VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    }

    fn acknowledge_subscriber(&self) -> &'static str {
        "UPDATE \"_fox_subscribers\" SET \"acknowledged\" = max(\"acknowledged\", ?1), \
         \"acknowledged_at\" = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE \"name\" = ?2"
    }

    fn image_source(&self, _table: &str, columns: &[LiveColumn]) -> ImageSource {
        let mut outer = vec!["e.key AS _fox_n".to_string()];
        for column in columns {
            let quoted = Sqlite.quote(&column.name);
            let path =
                Sqlite.string_literal(&format!("$.\"{}\"", column.name.replace('"', "\\\"")));
            let value = format!("json_extract(e.value, {path})");
            if column.native_type.to_ascii_lowercase().contains("blob") {
                outer.push(format!("unhex({value}) AS {quoted}"));
            } else {
                outer.push(format!("{value} AS {quoted}"));
            }
        }
        ImageSource {
            before: format!("SELECT {} FROM json_each(", outer.join(", ")),
            after: ") AS e".into(),
        }
    }
}
