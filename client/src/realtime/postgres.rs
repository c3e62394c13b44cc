//! PostgreSQL capture: one row trigger per table calling a shared function that writes the
//! change log and `pg_notify`s the change's log id (never the row: a row of any size, over
//! NOTIFY's 8000-byte payload limit too, is written like any other). Positions are handed out
//! after commit by `_fox_changes_number()` under the head row's lock.

use super::capture::{
    CHANGE_HEAD, CHANGE_LOG, ChangeCapture, ImageSource, LiveColumn, NOTIFY_CHANNEL, Numbering,
    Wake,
};
use crate::Backend;
use crate::dialect::{Dialect, Postgres};
use crate::schema::Table;

/// Name of the row trigger on every captured table (trigger names are per table here).
const TRIGGER: &str = "_fox_capture";

/// PostgreSQL change capture.
#[derive(Clone, Copy, Debug, Default)]
pub struct PostgresCapture;

impl ChangeCapture for PostgresCapture {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn design(&self) -> &'static str {
        "row trigger into _fox_changes + pg_notify"
    }

    fn create_log(&self) -> Vec<String> {
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS \"{CHANGE_LOG}\" (\
                 \"id\" bigserial PRIMARY KEY, \
                 \"position\" bigint UNIQUE, \
                 \"table_name\" text NOT NULL, \
                 \"operation\" text NOT NULL, \
                 \"primary_key\" jsonb NOT NULL, \
                 \"old_row\" jsonb, \
                 \"new_row\" jsonb, \
                 \"transaction_id\" xid8 NOT NULL DEFAULT pg_current_xact_id(), \
                 \"changed_at\" timestamptz NOT NULL DEFAULT clock_timestamp(), \
                 \"committed_at\" timestamptz)"
            ),
            format!(
                "CREATE INDEX IF NOT EXISTS \"{CHANGE_LOG}_unnumbered\" ON \"{CHANGE_LOG}\" (\"id\") WHERE \"position\" IS NULL"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS \"{CHANGE_HEAD}\" (\"id\" integer PRIMARY KEY CHECK (\"id\" = 1), \"head\" bigint NOT NULL)"
            ),
            format!(
                "INSERT INTO \"{CHANGE_HEAD}\" (\"id\", \"head\") VALUES (1, 0) ON CONFLICT DO NOTHING"
            ),
            format!(
                r#"CREATE OR REPLACE FUNCTION "_fox_capture"() RETURNS trigger LANGUAGE plpgsql AS $fox$
DECLARE
  image jsonb;
  key_value jsonb := '{{}}'::jsonb;
  key_column text;
  change_id bigint;
BEGIN
  IF TG_OP = 'DELETE' THEN image := to_jsonb(OLD); ELSE image := to_jsonb(NEW); END IF;
  FOREACH key_column IN ARRAY TG_ARGV LOOP
    key_value := key_value || jsonb_build_object(key_column, image -> key_column);
  END LOOP;
  INSERT INTO "{CHANGE_LOG}" ("table_name", "operation", "primary_key", "old_row", "new_row")
  VALUES (TG_TABLE_NAME, lower(TG_OP), key_value,
          CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
          CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END)
  RETURNING "id" INTO change_id;
  PERFORM pg_notify('{NOTIFY_CHANNEL}', change_id::text);
  RETURN NULL;
END
$fox$"#
            ),
            // Each statement of a volatile function takes a new snapshot: the pending list is
            // read after the head lock is held, so it sees every earlier numbering.
            format!(
                r#"CREATE OR REPLACE FUNCTION "_fox_changes_number"(batch integer) RETURNS bigint LANGUAGE plpgsql AS $fox$
DECLARE
  first_position bigint;
  numbered bigint;
BEGIN
  SELECT "head" INTO first_position FROM "{CHANGE_HEAD}" WHERE "id" = 1 FOR UPDATE;
  WITH pending AS (
    SELECT "id", row_number() OVER (ORDER BY "id") AS n
    FROM (SELECT "id" FROM "{CHANGE_LOG}" WHERE "position" IS NULL ORDER BY "id" LIMIT batch) AS oldest)
  UPDATE "{CHANGE_LOG}" AS c SET "position" = first_position + pending.n, "committed_at" = clock_timestamp()
  FROM pending WHERE c."id" = pending."id";
  GET DIAGNOSTICS numbered = ROW_COUNT;
  IF numbered > 0 THEN
    UPDATE "{CHANGE_HEAD}" SET "head" = first_position + numbered WHERE "id" = 1;
    PERFORM pg_notify('{NOTIFY_CHANNEL}', (first_position + numbered)::text);
  END IF;
  RETURN numbered;
END
$fox$"#
            ),
        ]
    }

    fn install(&self, table: &Table) -> Vec<String> {
        let quoted = Postgres.quote(&table.name);
        let key: Vec<String> = table
            .primary_key
            .iter()
            .map(|c| Postgres.string_literal(c))
            .collect();
        let mut statements = self.create_log();
        statements.push(format!("DROP TRIGGER IF EXISTS \"{TRIGGER}\" ON {quoted}"));
        statements.push(format!(
            "CREATE TRIGGER \"{TRIGGER}\" AFTER INSERT OR UPDATE OR DELETE ON {quoted} FOR EACH ROW EXECUTE FUNCTION \"_fox_capture\"({})",
            key.join(", ")
        ));
        statements
    }

    fn remove(&self, table: &str) -> Vec<String> {
        vec![format!(
            "DROP TRIGGER IF EXISTS \"{TRIGGER}\" ON {}",
            Postgres.quote(table)
        )]
    }

    fn captured_tables(&self) -> &'static str {
        "SELECT c.relname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE t.tgname = '_fox_capture' AND n.nspname = current_schema() ORDER BY 1"
    }

    fn live_columns(&self) -> &'static str {
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname = $1 AND n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum"
    }

    fn wake(&self) -> Wake {
        Wake::Notify(NOTIFY_CHANNEL)
    }

    fn numbering(&self) -> Numbering {
        Numbering::Statement("SELECT \"_fox_changes_number\"(5000)")
    }

    fn pending_query(&self) -> &'static str {
        "SELECT \"id\" FROM \"_fox_changes\" WHERE \"position\" IS NULL LIMIT 1"
    }

    fn read_changes(&self) -> &'static str {
        "SELECT \"position\", \"table_name\", \"operation\", \"primary_key\"::text, \"old_row\"::text, \
         \"new_row\"::text, \"transaction_id\"::text, \
         to_char(\"committed_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
         FROM \"_fox_changes\" WHERE \"position\" > $1{tables} ORDER BY \"position\" LIMIT $2"
    }

    fn head_position(&self) -> &'static str {
        "SELECT COALESCE((SELECT \"head\" FROM \"_fox_changes_head\" WHERE \"id\" = 1), 0)"
    }

    fn prune(&self) -> &'static str {
        "DELETE FROM \"_fox_changes\" WHERE \"position\" IS NOT NULL AND \"committed_at\" < CAST($1 AS timestamptz)"
    }

    fn image_source(&self, table: &str, _columns: &[LiveColumn]) -> ImageSource {
        // The table's row type converts each image back, with every column typed as stored.
        ImageSource {
            before: "SELECT r.*, e._fox_n FROM jsonb_array_elements(CAST(".into(),
            after: format!(
                " AS jsonb)) WITH ORDINALITY AS e(_fox_image, _fox_n) CROSS JOIN LATERAL jsonb_populate_record(NULL::{}, e._fox_image) AS r",
                Postgres.quote(table)
            ),
        }
    }
}
