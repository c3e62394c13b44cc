//! MySQL/MariaDB capture: three row triggers per table (insert, update, delete) writing the
//! change log; readers tail it with adaptive polling. InnoDB hands out `AUTO_INCREMENT` ids
//! when rows are written, not when they commit, so positions are given after commit, in READ
//! COMMITTED transactions that hold the head row's lock. A stored procedure,
//! `_fox_changes_next`, numbers and reads in one round trip ([`Numbering::OnRead`]).

use fox_crds::ColumnType;

use super::capture::{
    CHANGE_HEAD, CHANGE_LOG, ChangeCapture, ImageSource, LiveColumn, Numbering, Wake,
    capture_object_name, drop_triggers, trigger_rows,
};
use crate::Backend;
use crate::dialect::{Dialect, MySql};
use crate::schema::Table;

/// MySQL/MariaDB change capture.
#[derive(Clone, Copy, Debug, Default)]
pub struct MySqlCapture;

/// Trigger name prefixes: MySQL trigger names are unique per database, not per table.
const TRIGGERS: [(&str, &str); 3] = [
    ("_fox_ci_", "INSERT"),
    ("_fox_cu_", "UPDATE"),
    ("_fox_cd_", "DELETE"),
];

/// `JSON_OBJECT('a', NEW.a, ...)` of `row` (`NEW` or `OLD`); bytes as hex text (JSON holds
/// no binary).
fn image(table: &Table, row: &str, columns: &[&str]) -> String {
    let parts: Vec<String> = columns
        .iter()
        .map(|name| {
            let value = format!("{row}.{}", MySql.quote(name));
            let value = match table.column(name).map(|c| &c.ty) {
                Some(ColumnType::Bytes) => format!("HEX({value})"),
                _ => value,
            };
            format!("{}, {value}", MySql.string_literal(name))
        })
        .collect();
    format!("JSON_OBJECT({})", parts.join(", "))
}

fn is_binary(native: &str) -> bool {
    let native = native.to_ascii_lowercase();
    native.contains("blob") || native.contains("binary")
}

impl ChangeCapture for MySqlCapture {
    fn backend(&self) -> Backend {
        Backend::MySql
    }

    fn design(&self) -> &'static str {
        "row triggers into _fox_changes, tailed by polling"
    }

    fn create_log(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS `{CHANGE_LOG}` (\
                 `id` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, \
                 `position` BIGINT NULL, \
                 `table_name` VARCHAR(64) NOT NULL, \
                 `operation` VARCHAR(6) NOT NULL, \
                 `primary_key` LONGTEXT NOT NULL, \
                 `old_row` LONGTEXT NULL, \
                 `new_row` LONGTEXT NULL, \
                 `transaction_id` VARCHAR(40) NULL, \
                 `changed_at` DATETIME(6) NOT NULL, \
                 `committed_at` DATETIME(6) NULL, \
                 UNIQUE KEY `{CHANGE_LOG}_position` (`position`)) ENGINE=InnoDB"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS `{CHANGE_HEAD}` (`id` INT NOT NULL PRIMARY KEY, `head` BIGINT NOT NULL) ENGINE=InnoDB"
            ),
            format!("INSERT IGNORE INTO `{CHANGE_HEAD}` (`id`, `head`) VALUES (1, 0)"),
            "DROP PROCEDURE IF EXISTS `_fox_changes_next`".into(),
            // Numbers, then reads. The pending check and list are consistent (non-locking)
            // reads, and the numbering touches rows only by primary key: a transaction still
            // writing the log is neither seen nor waited for; its changes are numbered after
            // it commits, after everything numbered before. (An `IF EXISTS (SELECT ...)` in a
            // routine would be a locking read, waiting for such a transaction.) The head row's
            // lock keeps numberings from interleaving; positions follow log ids, so changes of
            // one row keep their commit order.
            format!(
                "CREATE PROCEDURE `_fox_changes_next`(IN after_position BIGINT, IN batch INT, IN only_tables LONGTEXT)
BEGIN
  DECLARE head_position BIGINT;
  DECLARE pending LONGTEXT;
  DECLARE positions LONGTEXT;
  DECLARE numbered BIGINT;
  DECLARE waiting INT;
  SELECT EXISTS (SELECT 1 FROM `{CHANGE_LOG}` WHERE `position` IS NULL) INTO waiting;
  IF waiting THEN
    SET SESSION group_concat_max_len = 1048576;
    SET TRANSACTION ISOLATION LEVEL READ COMMITTED;
    START TRANSACTION;
    SELECT `head` INTO head_position FROM `{CHANGE_HEAD}` WHERE `id` = 1 FOR UPDATE;
    SELECT GROUP_CONCAT(`id` ORDER BY `id`), GROUP_CONCAT(' WHEN ', `id`, ' THEN ', head_position + n ORDER BY `id` SEPARATOR ''), COUNT(*)
      INTO pending, positions, numbered
      FROM (SELECT `id`, ROW_NUMBER() OVER (ORDER BY `id`) AS n FROM `{CHANGE_LOG}` WHERE `position` IS NULL ORDER BY `id` LIMIT 1000) AS p;
    IF numbered > 0 THEN
      SET @fox_number = CONCAT('UPDATE `{CHANGE_LOG}` SET `position` = CASE `id`', positions, ' END, `committed_at` = UTC_TIMESTAMP(6) WHERE `id` IN (', pending, ')');
      PREPARE fox_number FROM @fox_number;
      EXECUTE fox_number;
      DEALLOCATE PREPARE fox_number;
      UPDATE `{CHANGE_HEAD}` SET `head` = head_position + numbered WHERE `id` = 1;
    END IF;
    COMMIT;
  END IF;
  SELECT `position`, CAST(`table_name` AS CHAR), CAST(`operation` AS CHAR), `primary_key`, `old_row`, `new_row`,
         `transaction_id`, DATE_FORMAT(`committed_at`, '%Y-%m-%dT%H:%i:%s.%fZ')
  FROM `{CHANGE_LOG}` WHERE `position` > after_position
    AND (only_tables IS NULL OR JSON_CONTAINS(only_tables, JSON_QUOTE(`table_name`)))
  ORDER BY `position` LIMIT batch;
END"
            ),
        ]
    }

    fn install(&self, table: &Table) -> Vec<String> {
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let key: Vec<&str> = table.primary_key.iter().map(String::as_str).collect();
        let quoted = MySql.quote(&table.name);
        let name = MySql.string_literal(&table.name);
        let mut statements = self.create_log();
        statements.push(self.create_subscribers().into());
        for (prefix, event) in TRIGGERS {
            let trigger = MySql.quote(&capture_object_name(prefix, &table.name));
            let (operation, key_row, old, new) =
                trigger_rows(event, |row| image(table, row, &columns));
            statements.push(format!("DROP TRIGGER IF EXISTS {trigger}"));
            statements.push(format!(
                "CREATE TRIGGER {trigger} AFTER {event} ON {quoted} FOR EACH ROW \
                 INSERT INTO `{CHANGE_LOG}` (`table_name`, `operation`, `primary_key`, `old_row`, `new_row`, `changed_at`) \
                 VALUES ({name}, '{operation}', {}, {old}, {new}, UTC_TIMESTAMP(6))",
                image(table, key_row, &key)
            ));
        }
        statements
    }

    fn remove(&self, table: &str) -> Vec<String> {
        drop_triggers(&TRIGGERS, table, &MySql)
    }

    fn captured_tables(&self) -> &'static str {
        "SELECT DISTINCT CAST(EVENT_OBJECT_TABLE AS CHAR) FROM information_schema.TRIGGERS \
         WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME LIKE '\\_fox\\_c_\\_%' ORDER BY 1"
    }

    fn live_columns(&self) -> &'static str {
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR) FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION"
    }

    fn wake(&self) -> Wake {
        Wake::Read
    }

    fn numbering(&self) -> Numbering {
        Numbering::OnRead
    }

    fn read_changes(&self) -> &'static str {
        "CALL `_fox_changes_next`(?, ?, {tables})"
    }

    /// The procedure takes the tables as a JSON array (or NULL: every table).
    fn table_filter(&self, tables: &[String]) -> String {
        if tables.is_empty() {
            return "NULL".into();
        }
        MySql.string_literal(&serde_json::Value::from(tables.to_vec()).to_string())
    }

    fn head_position(&self) -> &'static str {
        "SELECT CAST(COALESCE((SELECT `head` FROM `_fox_changes_head` WHERE `id` = 1), 0) AS SIGNED)"
    }

    fn prune(&self) -> &'static str {
        "DELETE FROM `_fox_changes` WHERE `position` IS NOT NULL AND `committed_at` < STR_TO_DATE(?, '%Y-%m-%dT%H:%i:%s.%fZ') \
         AND `position` <= COALESCE((SELECT MIN(`acknowledged`) FROM `_fox_subscribers`), 9223372036854775807){tables}"
    }

    fn create_subscribers(&self) -> &'static str {
        "CREATE TABLE IF NOT EXISTS `_fox_subscribers` (`name` VARCHAR(191) NOT NULL PRIMARY KEY, \
         `acknowledged` BIGINT NOT NULL, `acknowledged_at` DATETIME(6) NOT NULL) ENGINE=InnoDB"
    }

    fn register_subscriber(&self) -> &'static str {
        "INSERT IGNORE INTO `_fox_subscribers` (`name`, `acknowledged`, `acknowledged_at`) VALUES (?, ?, UTC_TIMESTAMP(6))"
    }

    fn acknowledge_subscriber(&self) -> &'static str {
        "UPDATE `_fox_subscribers` SET `acknowledged` = GREATEST(`acknowledged`, ?), \
         `acknowledged_at` = UTC_TIMESTAMP(6) WHERE `name` = ?"
    }

    fn image_source(&self, _table: &str, columns: &[LiveColumn]) -> ImageSource {
        // JSON_TABLE gives each column its stored type back; bytes come as hex text.
        let mut outer = vec!["j.`_fox_n`".to_string()];
        let mut definitions = vec!["`_fox_n` FOR ORDINALITY".to_string()];
        for column in columns {
            let quoted = MySql.quote(&column.name);
            let path = MySql.string_literal(&format!(
                "$.\"{}\"",
                column.name.replace('\\', "\\\\").replace('"', "\\\"")
            ));
            let lower = column.native_type.to_ascii_lowercase();
            if is_binary(&lower) {
                definitions.push(format!("{quoted} LONGTEXT PATH {path}"));
                outer.push(format!("UNHEX(j.{quoted}) AS {quoted}"));
            } else {
                let ty = if lower.starts_with("enum(") || lower.starts_with("set(") {
                    "VARCHAR(255)".to_string()
                } else {
                    column.native_type.clone()
                };
                definitions.push(format!("{quoted} {ty} PATH {path}"));
                outer.push(format!("j.{quoted}"));
            }
        }
        ImageSource {
            before: format!("SELECT {} FROM JSON_TABLE(", outer.join(", ")),
            after: format!(", '$[*]' COLUMNS ({})) AS j", definitions.join(", ")),
        }
    }
}
