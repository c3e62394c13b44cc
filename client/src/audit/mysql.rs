//! MySQL/MariaDB audit capture: three row triggers per table (insert, update, delete), written
//! out for the table's recorded columns. The actor is the session variable `@foxdb_actor`,
//! which `foxdb` sets when a transaction begins and clears before it ends. Compressed changes
//! are stored with `COMPRESS()` (zlib) and read back with `UNCOMPRESS()`.

use fox_crds::ColumnType;

use super::capture::{
    AUDIT_LOG, AUDIT_TABLES, AUDIT_VIEW, AuditCapture, KEY_TEXT_LENGTH, WrittenOutTrigger,
    audit_object_name, recorded_columns, settings_values,
};
use crate::Backend;
use crate::dialect::{Dialect, MySql};
use crate::schema::{Table, TableAudit};

/// Trigger name prefixes (trigger names are unique per database, not per table).
const TRIGGERS: [(&str, &str); 3] = [
    ("_fox_ai_", "INSERT"),
    ("_fox_au_", "UPDATE"),
    ("_fox_ad_", "DELETE"),
];

/// The record's time as hashed: RFC 3339, UTC, microseconds.
fn time_text(at: &str) -> String {
    format!("DATE_FORMAT({at}, '%Y-%m-%dT%H:%i:%s.%fZ')")
}

/// The hash of a record from its parts (SQL expressions).
fn hash_of(
    prev: &str,
    table: &str,
    key: &str,
    operation: &str,
    actor: &str,
    at: &str,
    changes: &str,
) -> String {
    format!(
        "SHA2(CONCAT_WS('|', {prev}, {table}, {key}, {operation}, COALESCE({actor}, ''), {}, {changes}), 256)",
        time_text(at)
    )
}

/// `row.column` as recorded: bytes as hex text (JSON holds no binary).
fn value(table: &Table, row: &str, name: &str) -> String {
    let value = format!("{row}.{}", MySql.quote(name));
    match table.column(name).map(|c| &c.ty) {
        Some(ColumnType::Bytes) => format!("HEX({value})"),
        _ => value,
    }
}

/// The record's key text from `v_key` (its JSON key), each value read back as
/// [`AuditCapture::key_equals`] reads it.
fn key_text(key: &[String]) -> String {
    let values: Vec<String> = key
        .iter()
        .map(|c| format!("JSON_UNQUOTE(JSON_EXTRACT(v_key, {}))", json_path(c)))
        .collect();
    format!(
        "LEFT(CONCAT_WS(CHAR(31 USING utf8mb4), {}), {KEY_TEXT_LENGTH})",
        values.join(", ")
    )
}

/// `$."column"` as a string literal.
fn json_path(column: &str) -> String {
    MySql.string_literal(&format!(
        "$.\"{}\"",
        column.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

/// MySQL/MariaDB audit capture.
#[derive(Clone, Copy, Debug, Default)]
pub struct MySqlAudit;

impl AuditCapture for MySqlAudit {
    fn backend(&self) -> Backend {
        Backend::MySql
    }

    fn design(&self) -> &'static str {
        "row triggers into _fox_audit, actor from @foxdb_actor"
    }

    fn unsupported(&self, _settings: &TableAudit) -> Option<&'static str> {
        None
    }

    fn create_log(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS `{AUDIT_LOG}` (\
                 `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
                 `table_name` VARCHAR(64) NOT NULL, \
                 `primary_key` LONGTEXT CHARACTER SET utf8mb4 NOT NULL, \
                 `operation` VARCHAR(6) NOT NULL, \
                 `actor` VARCHAR(255) CHARACTER SET utf8mb4 NULL, \
                 `changed_at` DATETIME(6) NOT NULL, \
                 `changes` LONGTEXT CHARACTER SET utf8mb4 NULL, \
                 `packed_changes` LONGBLOB NULL, \
                 `prev_hash` VARCHAR(64) NULL, \
                 `hash` VARCHAR(64) NULL, \
                 `key_text` VARCHAR({KEY_TEXT_LENGTH}) CHARACTER SET utf8mb4 NULL, \
                 KEY `{AUDIT_LOG}_table` (`table_name`, `changed_at`), \
                 KEY `{AUDIT_LOG}_key` (`table_name`, `key_text`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS `{AUDIT_TABLES}` (\
                 `table_name` VARCHAR(64) NOT NULL PRIMARY KEY, \
                 `exclude_fields` TEXT NOT NULL, \
                 `retention_days` INT NOT NULL, \
                 `compression` INT NOT NULL, \
                 `hash_chain` INT NOT NULL, \
                 `enabled` INT NOT NULL, \
                 `head_hash` VARCHAR(64) NOT NULL DEFAULT '', \
                 `anchor_hash` VARCHAR(64) NOT NULL DEFAULT '') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
            ),
            format!(
                "CREATE OR REPLACE VIEW `{AUDIT_VIEW}` AS SELECT `id`, `table_name`, `primary_key`, \
                 `operation`, `actor`, `changed_at`, \
                 COALESCE(`changes`, CAST(UNCOMPRESS(`packed_changes`) AS CHAR CHARACTER SET utf8mb4)) AS `changes` \
                 FROM `{AUDIT_LOG}`"
            ),
        ]
    }

    fn install(&self, table: &Table, settings: &TableAudit) -> Vec<String> {
        let recorded = recorded_columns(table, settings);
        let quoted = MySql.quote(&table.name);
        let name = MySql.string_literal(&table.name);
        let mut statements = self.create_log();
        statements.push(format!(
            "INSERT INTO `{AUDIT_TABLES}` (`table_name`, `exclude_fields`, `retention_days`, `compression`, `hash_chain`, `enabled`) \
             VALUES ({}) ON DUPLICATE KEY UPDATE `exclude_fields` = VALUES(`exclude_fields`), \
             `retention_days` = VALUES(`retention_days`), `compression` = VALUES(`compression`), \
             `hash_chain` = VALUES(`hash_chain`), `enabled` = 1",
            settings_values(&table.name, settings, |text| MySql.string_literal(text))
        ));
        for (prefix, event) in TRIGGERS {
            let trigger = MySql.quote(&audit_object_name(prefix, &table.name));
            let shape = WrittenOutTrigger {
                event,
                table,
                dialect: &MySql,
                json_array: "JSON_ARRAY",
                value,
            };
            let key_parts = shape.key_arguments();
            let operation = event.to_ascii_lowercase();
            let diff = if event == "UPDATE" {
                // Only the changed columns.
                recorded
                    .iter()
                    .map(|c| {
                        format!(
                            "IF NOT (OLD.{q} <=> NEW.{q}) THEN SET v_changes = JSON_MERGE_PATCH(v_changes, JSON_OBJECT({}, {})); SET v_changed = 1; END IF;",
                            MySql.string_literal(c),
                            shape.change(c),
                            q = MySql.quote(c)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                format!(
                    "SET v_changes = JSON_OBJECT({}); SET v_changed = 1;",
                    shape.change_arguments(&recorded)
                )
            };
            let chain = if settings.hash_chain {
                format!(
                    "SELECT `head_hash` INTO v_prev FROM `{AUDIT_TABLES}` WHERE `table_name` = {name} FOR UPDATE; \
                     SET v_at = UTC_TIMESTAMP(6); \
                     SET v_hash = {}; \
                     UPDATE `{AUDIT_TABLES}` SET `head_hash` = v_hash WHERE `table_name` = {name};",
                    hash_of(
                        "v_prev",
                        &name,
                        "v_key",
                        &format!("'{operation}'"),
                        "@foxdb_actor",
                        "v_at",
                        "v_changes"
                    )
                )
            } else {
                "SET v_at = UTC_TIMESTAMP(6);".to_string()
            };
            let (changes, packed) = if settings.compression {
                ("NULL", "COMPRESS(v_changes)")
            } else {
                ("v_changes", "NULL")
            };
            statements.push(format!("DROP TRIGGER IF EXISTS {trigger}"));
            statements.push(format!(
                "CREATE TRIGGER {trigger} AFTER {event} ON {quoted} FOR EACH ROW BEGIN \
                 DECLARE v_changes LONGTEXT CHARACTER SET utf8mb4 DEFAULT '{{}}'; \
                 DECLARE v_changed INT DEFAULT 0; \
                 DECLARE v_key LONGTEXT CHARACTER SET utf8mb4 DEFAULT JSON_OBJECT({}); \
                 DECLARE v_at DATETIME(6); \
                 DECLARE v_prev VARCHAR(64) DEFAULT NULL; \
                 DECLARE v_hash VARCHAR(64) DEFAULT NULL; \
                 {diff} \
                 IF v_changed = 1 THEN \
                 {chain} \
                 INSERT INTO `{AUDIT_LOG}` (`table_name`, `primary_key`, `operation`, `actor`, `changed_at`, `changes`, `packed_changes`, `prev_hash`, `hash`, `key_text`) \
                 VALUES ({name}, v_key, '{operation}', @foxdb_actor, v_at, {changes}, {packed}, v_prev, v_hash, {key_text}); \
                 END IF; \
                 END",
                key_parts.join(", "),
                key_text = key_text(&table.primary_key),
            ));
        }
        statements
    }

    fn remove(&self, table: &str) -> Vec<String> {
        let mut statements = crate::realtime::capture::drop_triggers(&TRIGGERS, table, &MySql);
        statements.push(format!(
            "UPDATE `{AUDIT_TABLES}` SET `enabled` = 0 WHERE `table_name` = {}",
            MySql.string_literal(table)
        ));
        statements
    }

    fn delete_log(&self, table: &str) -> Vec<String> {
        let name = MySql.string_literal(table);
        vec![
            format!("DELETE FROM `{AUDIT_LOG}` WHERE `table_name` = {name}"),
            format!("DELETE FROM `{AUDIT_TABLES}` WHERE `table_name` = {name}"),
        ]
    }

    fn log_exists(&self) -> &'static str {
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '_fox_audit_tables'"
    }

    fn audited_tables(&self) -> &'static str {
        "SELECT CAST(s.`table_name` AS CHAR), CAST(s.`exclude_fields` AS CHAR), CAST(s.`retention_days` AS CHAR), \
         CAST(s.`compression` AS CHAR), CAST(s.`hash_chain` AS CHAR) FROM `_fox_audit_tables` s \
         WHERE s.`enabled` = 1 AND EXISTS (SELECT 1 FROM information_schema.TRIGGERS t \
         WHERE t.TRIGGER_SCHEMA = DATABASE() AND t.EVENT_OBJECT_TABLE = s.`table_name` \
         AND t.TRIGGER_NAME LIKE '\\_fox\\_a_\\_%') ORDER BY 1"
    }

    fn set_actor(&self, actor: &str) -> Vec<String> {
        vec![format!(
            "SET @foxdb_actor = {}",
            MySql.string_literal(actor)
        )]
    }

    fn clear_actor(&self) -> Option<&'static str> {
        // A session variable outlives the transaction: cleared before it ends, so the pooled
        // connection's next user does not inherit it.
        Some("SET @foxdb_actor = NULL")
    }

    fn key_equals(&self, column: &str, _n: usize) -> String {
        format!(
            "JSON_UNQUOTE(JSON_EXTRACT(`primary_key`, {})) = ?",
            json_path(column)
        )
    }

    fn chain_records(&self) -> &'static str {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        SQL.get_or_init(|| {
            format!(
                "SELECT `id`, `prev_hash`, `hash`, CAST({} AS CHAR) FROM `{AUDIT_LOG}` \
                 WHERE `table_name` = ? AND `hash` IS NOT NULL ORDER BY `id`",
                hash_of(
                    "`prev_hash`",
                    "`table_name`",
                    "`primary_key`",
                    "`operation`",
                    "`actor`",
                    "`changed_at`",
                    "COALESCE(`changes`, CAST(UNCOMPRESS(`packed_changes`) AS CHAR CHARACTER SET utf8mb4))",
                )
            )
        })
    }

    fn chain_ends(&self) -> &'static str {
        "SELECT CAST(`head_hash` AS CHAR), CAST(`anchor_hash` AS CHAR) FROM `_fox_audit_tables` WHERE `table_name` = ?"
    }

    fn last_expired_hash(&self) -> &'static str {
        "SELECT CAST(`hash` AS CHAR) FROM `_fox_audit` WHERE `table_name` = ? \
         AND `changed_at` < STR_TO_DATE(?, '%Y-%m-%dT%H:%i:%s.%fZ') AND `hash` IS NOT NULL ORDER BY `id` DESC LIMIT 1"
    }

    fn set_anchor(&self) -> &'static str {
        "UPDATE `_fox_audit_tables` SET `anchor_hash` = ? WHERE `table_name` = ?"
    }

    fn prune(&self) -> &'static str {
        "DELETE FROM `_fox_audit` WHERE `table_name` = ? AND `changed_at` < STR_TO_DATE(?, '%Y-%m-%dT%H:%i:%s.%fZ')"
    }
}
