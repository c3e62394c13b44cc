//! PostgreSQL audit capture: one row trigger per table calling a shared function. The function
//! gets the table's settings as trigger arguments (compression, hash chain, excluded fields,
//! key columns), diffs `to_jsonb(OLD)` and `to_jsonb(NEW)`, and reads the actor from
//! `current_setting('foxdb.actor', true)`, which `foxdb` sets with `SET LOCAL` per
//! transaction. PostgreSQL's SQL has no compression function: compressed changes go to a
//! column PostgreSQL compresses itself (TOAST, `STORAGE MAIN`), which it does for records past
//! its TOAST threshold (about 2 kB); smaller records are stored as they are.

use super::capture::{
    AUDIT_LOG, AUDIT_TABLES, AUDIT_VIEW, AuditCapture, KEY_TEXT_LENGTH, settings_values,
};
use crate::Backend;
use crate::dialect::{Dialect, Postgres};
use crate::schema::{Table, TableAudit};

/// Name of the row trigger on every audited table (trigger names are per table here).
const TRIGGER: &str = "_fox_audit";

/// The record's time as hashed: RFC 3339, UTC, microseconds.
const TIME_TEXT: &str = "to_char({at} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";

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
    let at = TIME_TEXT.replace("{at}", at);
    format!(
        "encode(sha256(convert_to(concat_ws('|', {prev}, {table}, {key}, {operation}, COALESCE({actor}, ''), {at}, {changes}), 'UTF8')), 'hex')"
    )
}

/// PostgreSQL audit capture.
#[derive(Clone, Copy, Debug, Default)]
pub struct PostgresAudit;

impl AuditCapture for PostgresAudit {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn design(&self) -> &'static str {
        "row trigger into _fox_audit, actor from SET LOCAL foxdb.actor"
    }

    fn unsupported(&self, _settings: &TableAudit) -> Option<&'static str> {
        None
    }

    fn create_log(&self) -> Vec<String> {
        let hash = hash_of(
            "prev",
            "TG_TABLE_NAME",
            "key_value::text",
            "lower(TG_OP)",
            "who",
            "at",
            "diff::text",
        );
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS \"{AUDIT_LOG}\" (\
                 \"id\" bigserial PRIMARY KEY, \
                 \"table_name\" text NOT NULL, \
                 \"primary_key\" jsonb NOT NULL, \
                 \"operation\" text NOT NULL, \
                 \"actor\" text, \
                 \"changed_at\" timestamptz NOT NULL, \
                 \"changes\" jsonb, \
                 \"packed_changes\" jsonb, \
                 \"prev_hash\" text, \
                 \"hash\" text, \
                 \"key_text\" text)"
            ),
            // Plain changes are never compressed; packed ones always may be.
            format!(
                "ALTER TABLE \"{AUDIT_LOG}\" ALTER COLUMN \"changes\" SET STORAGE EXTERNAL, \
                 ALTER COLUMN \"packed_changes\" SET STORAGE MAIN"
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
                 \"table_name\" text PRIMARY KEY, \
                 \"exclude_fields\" text NOT NULL, \
                 \"retention_days\" integer NOT NULL, \
                 \"compression\" integer NOT NULL, \
                 \"hash_chain\" integer NOT NULL, \
                 \"enabled\" integer NOT NULL, \
                 \"head_hash\" text NOT NULL DEFAULT '', \
                 \"anchor_hash\" text NOT NULL DEFAULT '')"
            ),
            format!(
                "CREATE OR REPLACE VIEW \"{AUDIT_VIEW}\" AS SELECT \"id\", \"table_name\", \
                 \"primary_key\"::text AS \"primary_key\", \"operation\", \"actor\", \"changed_at\", \
                 COALESCE(\"changes\", \"packed_changes\")::text AS \"changes\" FROM \"{AUDIT_LOG}\""
            ),
            // Arguments: compression, hash chain, excluded fields (JSON array), key columns.
            // With a chain, the time is taken once the head is locked, so chain order is
            // time order.
            format!(
                r#"CREATE OR REPLACE FUNCTION "_fox_audit"() RETURNS trigger LANGUAGE plpgsql AS $fox$
DECLARE
  excluded text[] := ARRAY(SELECT jsonb_array_elements_text(TG_ARGV[2]::jsonb));
  old_image jsonb := '{{}}'::jsonb;
  new_image jsonb := '{{}}'::jsonb;
  source jsonb;
  diff jsonb;
  key_value jsonb := '{{}}'::jsonb;
  key_text text := '';
  who text := NULLIF(current_setting('foxdb.actor', true), '');
  at timestamptz;
  prev text;
  digest text;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_image := to_jsonb(OLD) - excluded; END IF;
  IF TG_OP <> 'DELETE' THEN new_image := to_jsonb(NEW) - excluded; END IF;
  SELECT COALESCE(jsonb_object_agg(k, jsonb_build_array(old_image -> k, new_image -> k)), '{{}}'::jsonb)
    INTO diff
    FROM (SELECT jsonb_object_keys(old_image || new_image) AS k) AS keys
    WHERE TG_OP <> 'UPDATE' OR (old_image -> k) IS DISTINCT FROM (new_image -> k);
  IF TG_OP = 'UPDATE' AND diff = '{{}}'::jsonb THEN RETURN NULL; END IF;
  IF TG_OP = 'DELETE' THEN source := to_jsonb(OLD); ELSE source := to_jsonb(NEW); END IF;
  FOR i IN 3 .. TG_NARGS - 1 LOOP
    key_value := key_value || jsonb_build_object(TG_ARGV[i], source -> TG_ARGV[i]);
    key_text := CASE WHEN i = 3 THEN '' ELSE key_text || chr(31) END || COALESCE(source ->> TG_ARGV[i], '');
  END LOOP;
  IF TG_ARGV[1] = '1' THEN
    SELECT "head_hash" INTO prev FROM "{AUDIT_TABLES}" WHERE "table_name" = TG_TABLE_NAME FOR UPDATE;
    prev := COALESCE(prev, '');
    at := clock_timestamp();
    digest := {hash};
    UPDATE "{AUDIT_TABLES}" SET "head_hash" = digest WHERE "table_name" = TG_TABLE_NAME;
  ELSE
    at := clock_timestamp();
  END IF;
  INSERT INTO "{AUDIT_LOG}" ("table_name", "primary_key", "operation", "actor", "changed_at", "changes", "packed_changes", "prev_hash", "hash", "key_text")
  VALUES (TG_TABLE_NAME, key_value, lower(TG_OP), who, at,
          CASE WHEN TG_ARGV[0] = '1' THEN NULL ELSE diff END,
          CASE WHEN TG_ARGV[0] = '1' THEN diff END,
          prev, digest, left(key_text, {KEY_TEXT_LENGTH}));
  RETURN NULL;
END
$fox$"#
            ),
        ]
    }

    fn install(&self, table: &Table, settings: &TableAudit) -> Vec<String> {
        let quoted = Postgres.quote(&table.name);
        let excluded =
            serde_json::to_string(&settings.exclude_fields).unwrap_or_else(|_| "[]".into());
        let mut arguments = vec![
            Postgres.string_literal(if settings.compression { "1" } else { "0" }),
            Postgres.string_literal(if settings.hash_chain { "1" } else { "0" }),
            Postgres.string_literal(&excluded),
        ];
        arguments.extend(table.primary_key.iter().map(|c| Postgres.string_literal(c)));
        let mut statements = self.create_log();
        statements.push(format!(
            "INSERT INTO \"{AUDIT_TABLES}\" (\"table_name\", \"exclude_fields\", \"retention_days\", \"compression\", \"hash_chain\", \"enabled\") \
             VALUES ({}) ON CONFLICT (\"table_name\") DO UPDATE SET \"exclude_fields\" = EXCLUDED.\"exclude_fields\", \
             \"retention_days\" = EXCLUDED.\"retention_days\", \"compression\" = EXCLUDED.\"compression\", \
             \"hash_chain\" = EXCLUDED.\"hash_chain\", \"enabled\" = 1",
            settings_values(&table.name, settings, |text| Postgres.string_literal(text))
        ));
        statements.push(format!("DROP TRIGGER IF EXISTS \"{TRIGGER}\" ON {quoted}"));
        statements.push(format!(
            "CREATE TRIGGER \"{TRIGGER}\" AFTER INSERT OR UPDATE OR DELETE ON {quoted} FOR EACH ROW EXECUTE FUNCTION \"_fox_audit\"({})",
            arguments.join(", ")
        ));
        statements
    }

    fn remove(&self, table: &str) -> Vec<String> {
        vec![
            format!(
                "DROP TRIGGER IF EXISTS \"{TRIGGER}\" ON {}",
                Postgres.quote(table)
            ),
            format!(
                "UPDATE \"{AUDIT_TABLES}\" SET \"enabled\" = 0 WHERE \"table_name\" = {}",
                Postgres.string_literal(table)
            ),
        ]
    }

    fn delete_log(&self, table: &str) -> Vec<String> {
        let name = Postgres.string_literal(table);
        vec![
            format!("DELETE FROM \"{AUDIT_LOG}\" WHERE \"table_name\" = {name}"),
            format!("DELETE FROM \"{AUDIT_TABLES}\" WHERE \"table_name\" = {name}"),
        ]
    }

    fn log_exists(&self) -> &'static str {
        "SELECT 1 WHERE to_regclass('_fox_audit_tables') IS NOT NULL"
    }

    fn audited_tables(&self) -> &'static str {
        "SELECT s.\"table_name\", s.\"exclude_fields\", s.\"retention_days\"::text, s.\"compression\"::text, \
         s.\"hash_chain\"::text FROM \"_fox_audit_tables\" s \
         WHERE s.\"enabled\" = 1 AND EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.tgname = '_fox_audit' \
         AND n.nspname = current_schema() AND c.relname = s.\"table_name\") ORDER BY 1"
    }

    fn set_actor(&self, actor: &str) -> Vec<String> {
        vec![format!(
            "SET LOCAL foxdb.actor = {}",
            Postgres.string_literal(actor)
        )]
    }

    fn clear_actor(&self) -> Option<&'static str> {
        // SET LOCAL ends with the transaction.
        None
    }

    fn key_equals(&self, column: &str, n: usize) -> String {
        format!(
            "CAST(\"primary_key\" AS jsonb) ->> {} = ${n}",
            Postgres.string_literal(column)
        )
    }

    fn chain_records(&self) -> &'static str {
        static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        SQL.get_or_init(|| {
            format!(
                "SELECT \"id\", \"prev_hash\", \"hash\", {} FROM \"{AUDIT_LOG}\" \
                 WHERE \"table_name\" = $1 AND \"hash\" IS NOT NULL ORDER BY \"id\"",
                hash_of(
                    "\"prev_hash\"",
                    "\"table_name\"",
                    "\"primary_key\"::text",
                    "\"operation\"",
                    "\"actor\"",
                    "\"changed_at\"",
                    "COALESCE(\"changes\", \"packed_changes\")::text",
                )
            )
        })
    }

    fn chain_ends(&self) -> &'static str {
        "SELECT \"head_hash\", \"anchor_hash\" FROM \"_fox_audit_tables\" WHERE \"table_name\" = $1"
    }

    fn last_expired_hash(&self) -> &'static str {
        "SELECT \"hash\" FROM \"_fox_audit\" WHERE \"table_name\" = $1 \
         AND \"changed_at\" < CAST($2 AS timestamptz) AND \"hash\" IS NOT NULL ORDER BY \"id\" DESC LIMIT 1"
    }

    fn set_anchor(&self) -> &'static str {
        "UPDATE \"_fox_audit_tables\" SET \"anchor_hash\" = $1 WHERE \"table_name\" = $2"
    }

    fn prune(&self) -> &'static str {
        "DELETE FROM \"_fox_audit\" WHERE \"table_name\" = $1 AND \"changed_at\" < CAST($2 AS timestamptz)"
    }
}
