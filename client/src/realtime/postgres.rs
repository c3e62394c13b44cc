//! PostgreSQL capture: one deferred row trigger per table (a constraint trigger, `INITIALLY
//! DEFERRED`) calling a shared function at commit. The function takes a transaction-level
//! advisory lock that every committing captured transaction takes, gives the change its
//! position from a sequence, writes the change log and `pg_notify`s it. The first 64 changes of
//! a transaction are notified whole (position, table, key, row images, commit time), so a
//! reader that has delivered everything before one delivers it without reading the log; a
//! change whose text would pass NOTIFY's 8000-byte payload limit, and anything after those 64,
//! is notified once by its position and read from the log (a row of any size is written like
//! any other). The lock is held until the commit is visible, so positions follow commit order
//! and notifications arrive in position order; readers only read: no numbering write after
//! commit.

use super::capture::{
    CHANGE_LOG, ChangeCapture, ImageSource, LiveColumn, NOTIFY_CHANNEL, Numbering, Wake,
};
use super::{Operation, Position, RawChange};
use crate::Backend;
use crate::dialect::{Dialect, Postgres};
use crate::schema::Table;

/// Name of the row trigger on every captured table (trigger names are per table here).
const TRIGGER: &str = "_fox_capture";

/// The advisory lock (two-key form, a keyspace apart from the schema engine's one-key locks)
/// that orders the commits of captured transactions: `'foxc'` and 1.
const COMMIT_ORDER_LOCK: &str = "1718581347, 1";

/// The sequence positions come from (the change log's `id` sequence: a change's id is its
/// position).
const POSITIONS: &str = "_fox_changes_id_seq";

/// How many changes of one transaction are notified whole (their notification carries the
/// change, so a reader delivers it without reading the log); later ones wake readers to read.
const NOTIFIED_WHOLE: u32 = 64;

/// Longest notification payload sent (PostgreSQL refuses one of 8000 bytes or more).
const NOTIFY_LIMIT: u32 = 7900;

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
            // Changes logged by the capture of earlier FoxDB versions (positions given after
            // commit by the reader) may wait unnumbered: `_fox_changes_number` numbers them.
            format!(
                "CREATE INDEX IF NOT EXISTS \"{CHANGE_LOG}_unnumbered\" ON \"{CHANGE_LOG}\" (\"id\") WHERE \"position\" IS NULL"
            ),
            // Runs at commit (the trigger is deferred). Every committing captured transaction
            // takes the same lock before its first position and holds it until its commit is
            // visible (PostgreSQL releases locks after that): positions are handed out in
            // commit order, and a reader that sees a position sees every lower one.
            format!(
                r#"CREATE OR REPLACE FUNCTION "_fox_capture"() RETURNS trigger LANGUAGE plpgsql AS $fox$
DECLARE
  image jsonb;
  key_value jsonb := '{{}}'::jsonb;
  key_column text;
  change_position bigint;
  committed timestamptz;
  notified text;
  whole text;
BEGIN
  PERFORM pg_advisory_xact_lock({COMMIT_ORDER_LOCK});
  IF TG_OP = 'DELETE' THEN image := to_jsonb(OLD); ELSE image := to_jsonb(NEW); END IF;
  FOREACH key_column IN ARRAY TG_ARGV LOOP
    key_value := key_value || jsonb_build_object(key_column, image -> key_column);
  END LOOP;
  change_position := nextval('"{POSITIONS}"');
  committed := clock_timestamp();
  INSERT INTO "{CHANGE_LOG}" ("id", "position", "table_name", "operation", "primary_key", "old_row", "new_row", "committed_at")
  VALUES (change_position, change_position, TG_TABLE_NAME, lower(TG_OP), key_value,
          CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
          CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END,
          committed);
  -- The first changes of a transaction are notified whole (readers deliver them without a
  -- read); a change whose text would pass NOTIFY's 8000-byte limit, or any after the first
  -- {NOTIFIED_WHOLE}, is notified by its position once, and the reader reads the log.
  notified := current_setting('foxdb.changes_notified', true);
  -- Unset in this transaction (or set by something else): nothing notified yet.
  IF notified IS NULL OR notified !~ '^([0-9]{{1,9}}|log)$' THEN notified := '0'; END IF;
  IF notified <> 'log' THEN
    IF notified::integer < {NOTIFIED_WHOLE} THEN
      whole := jsonb_build_object('p', change_position, 't', TG_TABLE_NAME, 'o', lower(TG_OP),
        'k', key_value,
        'b', CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
        'a', CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END,
        'x', pg_current_xact_id()::text,
        'c', to_char(committed AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))::text;
    END IF;
    IF whole IS NOT NULL AND octet_length(whole) <= {NOTIFY_LIMIT} THEN
      PERFORM set_config('foxdb.changes_notified', (notified::integer + 1)::text, true);
      PERFORM pg_notify('{NOTIFY_CHANNEL}', whole);
    ELSE
      PERFORM set_config('foxdb.changes_notified', 'log', true);
      PERFORM pg_notify('{NOTIFY_CHANNEL}', change_position::text);
    END IF;
  END IF;
  RETURN NULL;
END
$fox$"#
            ),
            // Numbers changes left unnumbered by an earlier FoxDB version's capture, under the
            // same lock, so they too come after everything visible before.
            format!(
                r#"CREATE OR REPLACE FUNCTION "_fox_changes_number"(batch integer) RETURNS bigint LANGUAGE plpgsql AS $fox$
DECLARE
  numbered bigint := 0;
  pending record;
BEGIN
  PERFORM pg_advisory_xact_lock({COMMIT_ORDER_LOCK});
  FOR pending IN SELECT "id" FROM "{CHANGE_LOG}" WHERE "position" IS NULL ORDER BY "id" LIMIT batch LOOP
    UPDATE "{CHANGE_LOG}" SET "position" = nextval('"{POSITIONS}"'), "committed_at" = clock_timestamp()
    WHERE "id" = pending."id";
    numbered := numbered + 1;
  END LOOP;
  IF numbered > 0 THEN
    PERFORM pg_notify('{NOTIFY_CHANNEL}', 'numbered');
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
        statements.push(self.create_subscribers().into());
        statements.push(format!("DROP TRIGGER IF EXISTS \"{TRIGGER}\" ON {quoted}"));
        statements.push(format!(
            "CREATE CONSTRAINT TRIGGER \"{TRIGGER}\" AFTER INSERT OR UPDATE OR DELETE ON {quoted} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION \"_fox_capture\"({})",
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
         WHERE t.tgname = '_fox_capture' AND t.tgdeferrable AND t.tginitdeferred \
         AND n.nspname = current_schema() ORDER BY 1"
    }

    fn live_columns(&self) -> &'static str {
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
         JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relname = $1 AND n.nspname = current_schema() AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum"
    }

    fn notified_change(&self, payload: &str) -> Option<RawChange> {
        notified_change(payload)
    }

    fn wake(&self) -> Wake {
        Wake::Notify(NOTIFY_CHANNEL)
    }

    fn numbering(&self) -> Numbering {
        Numbering::AtCommit {
            leftovers: "SELECT \"_fox_changes_number\"(5000)",
        }
    }

    fn read_changes(&self) -> &'static str {
        "SELECT \"position\", \"table_name\", \"operation\", \"primary_key\"::text, \"old_row\"::text, \
         \"new_row\"::text, \"transaction_id\"::text, \
         to_char(\"committed_at\" AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
         FROM \"_fox_changes\" WHERE \"position\" > $1{tables} ORDER BY \"position\" LIMIT $2"
    }

    fn head_position(&self) -> &'static str {
        "SELECT COALESCE(MAX(\"position\"), 0) FROM \"_fox_changes\""
    }

    fn prune(&self) -> &'static str {
        "DELETE FROM \"_fox_changes\" WHERE \"position\" IS NOT NULL AND \"committed_at\" < CAST($1 AS timestamptz) \
         AND \"position\" <= COALESCE((SELECT MIN(\"acknowledged\") FROM \"_fox_subscribers\"), 9223372036854775807){tables}"
    }

    fn create_subscribers(&self) -> &'static str {
        "CREATE TABLE IF NOT EXISTS \"_fox_subscribers\" (\"name\" text PRIMARY KEY, \
         \"acknowledged\" bigint NOT NULL, \"acknowledged_at\" timestamptz NOT NULL DEFAULT clock_timestamp())"
    }

    fn register_subscriber(&self) -> &'static str {
        "INSERT INTO \"_fox_subscribers\" (\"name\", \"acknowledged\") VALUES ($1, $2) ON CONFLICT (\"name\") DO NOTHING"
    }

    fn acknowledge_subscriber(&self) -> &'static str {
        "UPDATE \"_fox_subscribers\" SET \"acknowledged\" = GREATEST(\"acknowledged\", $1), \
         \"acknowledged_at\" = clock_timestamp() WHERE \"name\" = $2"
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

/// The change a notification carries whole (`None` for one that carries only a position).
fn notified_change(payload: &str) -> Option<RawChange> {
    #[derive(serde::Deserialize)]
    struct Whole {
        p: i64,
        t: String,
        o: String,
        k: serde_json::Value,
        b: Option<serde_json::Value>,
        a: Option<serde_json::Value>,
        x: Option<String>,
        c: String,
    }
    if !payload.starts_with('{') {
        return None;
    }
    let whole: Whole = serde_json::from_str(payload).ok()?;
    Some(RawChange {
        position: Position(whole.p),
        table: whole.t,
        op: Operation::parse(&whole.o)?,
        primary_key: whole.k,
        old: whole.b,
        new: whole.a,
        transaction_id: whole.x,
        committed_at: chrono::DateTime::parse_from_rfc3339(&whole.c)
            .ok()?
            .with_timezone(&chrono::Utc),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_notification_is_the_change_and_a_position_is_not() {
        let change = notified_change(
            r#"{"a": {"id": 7, "name": "Ada"}, "b": null, "c": "2026-12-06T07:10:00.123456Z", "k": {"id": 7}, "o": "insert", "p": 42, "t": "users", "x": "981"}"#,
        )
        .expect("a whole change");
        assert_eq!(change.position, Position(42));
        assert_eq!(change.table, "users");
        assert_eq!(change.op, Operation::Insert);
        assert_eq!(change.primary_key, serde_json::json!({"id": 7}));
        assert_eq!(change.old, None);
        assert_eq!(
            change.new,
            Some(serde_json::json!({"id": 7, "name": "Ada"}))
        );
        assert_eq!(change.transaction_id.as_deref(), Some("981"));
        assert_eq!(
            change
                .committed_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "2026-12-06T07:10:00.123456Z"
        );
        assert_eq!(notified_change("42"), None);
        assert_eq!(notified_change("numbered"), None);
        assert_eq!(notified_change("{\"p\": 1}"), None);
    }
}
