//! `fox migrate` with real-world SQL: triggers and stored programs, errors that name the one
//! failing statement, a `pg_dump` output, and the SQLite foreign key check.

use fox_e2e::{Backend, TestDatabase};

use super::support::{connect, fox, text};

fn migrate(args: &[&str], folder: &str, url: &str) -> std::process::Output {
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-f", folder, "--database", url]);
    fox(&all)
}

async fn scalar(database: &TestDatabase, sql: &str) -> String {
    let mut connection = connect(database).await;
    let rows = connection.fetch_text_rows(sql, &[]).await.expect("queries");
    connection.close().await;
    rows.into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten())
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// A trigger (and on MySQL a procedure) whose bodies hold `;`, per engine.
fn trigger_migration(engine: Backend) -> &'static str {
    match engine {
        Backend::Sqlite => {
            "CREATE TABLE items (id integer PRIMARY KEY, n integer);\nCREATE TABLE audit (item integer, what text);\nCREATE TRIGGER items_ai AFTER INSERT ON items BEGIN\n  INSERT INTO audit VALUES (NEW.id, CASE WHEN NEW.n > 0 THEN 'positive' ELSE 'other' END);\n  INSERT INTO audit VALUES (NEW.id, 'a;b');\nEND;\nINSERT INTO items VALUES (1, 5);\n"
        }
        Backend::MySql => {
            "CREATE TABLE items (id integer PRIMARY KEY, n integer);\nCREATE TABLE audit (item integer, what varchar(20));\nCREATE TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW\nBEGIN\n  IF NEW.n > 0 THEN INSERT INTO audit VALUES (NEW.id, 'positive'); END IF;\n  INSERT INTO audit VALUES (NEW.id, CASE WHEN NEW.n > 0 THEN 'a;b' ELSE 'c' END);\nEND;\nDELIMITER //\nCREATE PROCEDURE add_item(IN k integer)\nBEGIN\n  INSERT INTO items VALUES (k, 5);\nEND //\nDELIMITER ;\nCALL add_item(1);\n"
        }
        Backend::Postgres => {
            "CREATE TABLE items (id integer PRIMARY KEY, n integer);\nCREATE TABLE audit (item integer, what text);\nCREATE FUNCTION items_audit() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  INSERT INTO audit VALUES (NEW.id, 'positive');\n  RETURN NEW;\nEND;\n$$;\nCREATE FUNCTION label(n integer) RETURNS text LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN n > 0 THEN 'a;b' ELSE 'c' END;\nEND;\nCREATE TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW EXECUTE FUNCTION items_audit();\nINSERT INTO items VALUES (1, 5);\nINSERT INTO audit VALUES (1, label(1));\n"
        }
    }
}

#[tokio::test]
async fn triggers_and_stored_programs_are_created_through_fox_migrate() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let folder = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            folder.path().join("1_triggers.sql"),
            trigger_migration(engine),
        )
        .expect("writes");
        let path = folder.path().to_str().expect("utf-8");
        let up = migrate(&["up"], path, database.url());
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        assert_eq!(
            scalar(&database, "SELECT CAST(COUNT(*) AS CHAR(10)) FROM audit").await,
            "2",
            "{engine}: the trigger fired with its whole body"
        );
        let status = migrate(&["status"], path, database.url());
        assert!(
            text(&status.stdout).contains("applied") && !text(&status.stdout).contains("dirty"),
            "{engine}: {}",
            text(&status.stdout)
        );
    }
}

#[tokio::test]
async fn a_failing_statement_is_named_once_with_its_number_line_and_server_detail() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let folder = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            folder.path().join("1_duplicate.sql"),
            "-- a comment; with a semicolon\nCREATE TABLE t (id integer PRIMARY KEY);\n\nINSERT INTO t VALUES (1),\n  (1);\nSELECT 42;\n",
        )
        .expect("writes");
        let path = folder.path().to_str().expect("utf-8");
        let up = migrate(&["up"], path, database.url());
        assert_eq!(up.status.code(), Some(1), "{engine}");
        let message = text(&up.stderr);
        assert!(
            message.contains(
                "migration 1 (duplicate) up failed at statement 2 of 3 (line 4): INSERT INTO t VALUES (1),"
            ),
            "{engine}: {message}"
        );
        assert_eq!(
            message.matches("INSERT INTO t").count(),
            1,
            "{engine}: the statement is named once: {message}"
        );
        assert!(
            !message.contains("SELECT 42"),
            "{engine}: only the failing statement: {message}"
        );
        if engine == Backend::Postgres {
            assert!(
                message.contains("DETAIL: Key (id)=(1) already exists."),
                "{engine}: {message}"
            );
        }
    }
}

#[tokio::test]
async fn a_pg_dump_output_applies_through_fox_migrate_and_bookkeeping_survives_it() {
    let source = TestDatabase::create(Backend::Postgres).await;
    let mut connection = connect(&source).await;
    connection
        .execute(
            "CREATE TABLE customer (id serial PRIMARY KEY, name text NOT NULL, updated timestamptz);
             CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated := now(); RETURN NEW; END; $$;
             CREATE TRIGGER customer_touch BEFORE UPDATE ON customer FOR EACH ROW EXECUTE FUNCTION touch();
             CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT a + b; END;
             CREATE VIEW customer_names AS SELECT name FROM customer;
             CREATE MATERIALIZED VIEW customer_count AS SELECT count(*) AS n FROM customer;
             CREATE TABLE payment (id int, paid date NOT NULL, amount numeric(8,2)) PARTITION BY RANGE (paid);
             CREATE TABLE payment_2026 PARTITION OF payment FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
             CREATE TYPE mood AS ENUM ('happy', 'sad');
             INSERT INTO customer (name) VALUES ('a;b'), ('it''s');
             INSERT INTO payment VALUES (1, '2026-05-01', 9.5);",
        )
        .await
        .expect("builds the source database");
    connection.close().await;
    let dump = std::process::Command::new("pg_dump")
        .args(["--inserts", "--no-owner", "-d", source.url()])
        .output()
        .expect("runs pg_dump");
    assert!(dump.status.success(), "{}", text(&dump.stderr));
    let dump = text(&dump.stdout);
    assert!(dump.contains("set_config('search_path', '', false)"));

    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::write(folder.path().join("1_dump.sql"), &dump).expect("writes");
    // After the dump, unqualified names must resolve as before it.
    std::fs::write(
        folder.path().join("2_after.sql"),
        "CREATE TABLE after_dump (id integer);\nINSERT INTO after_dump SELECT add(1, 2);\n",
    )
    .expect("writes");
    let path = folder.path().to_str().expect("utf-8");
    let target = TestDatabase::create(Backend::Postgres).await;
    let up = migrate(&["up"], path, target.url());
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stderr));
    for (sql, expected) in [
        ("SELECT CAST(COUNT(*) AS text) FROM public.customer", "2"),
        ("SELECT CAST(n AS text) FROM public.customer_count", "2"),
        (
            "SELECT name FROM public.customer_names ORDER BY name LIMIT 1",
            "a;b",
        ),
        (
            "SELECT CAST(COUNT(*) AS text) FROM public.payment_2026",
            "1",
        ),
        ("SELECT CAST(id AS text) FROM public.after_dump", "3"),
        (
            "SELECT CAST(COUNT(*) AS text) FROM pg_trigger WHERE tgname = 'customer_touch'",
            "1",
        ),
        (
            "SELECT string_agg(status, ',' ORDER BY version) FROM public._fox_migrations",
            "applied,applied",
        ),
    ] {
        assert_eq!(scalar(&target, sql).await, expected, "{sql}");
    }
    let again = migrate(&["up"], path, target.url());
    assert!(
        text(&again.stdout).contains("Nothing to do"),
        "{}",
        text(&again.stderr)
    );

    // A dump whose data is COPY ... FROM stdin is refused before anything runs.
    let copy_dump = std::process::Command::new("pg_dump")
        .args(["--no-owner", "-d", source.url()])
        .output()
        .expect("runs pg_dump");
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::write(folder.path().join("1_dump.sql"), copy_dump.stdout).expect("writes");
    let fresh = TestDatabase::create(Backend::Postgres).await;
    let refused = migrate(&["up"], folder.path().to_str().expect("utf-8"), fresh.url());
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr)
            .contains("COPY ... FROM stdin reads data lines that only psql can send")
            && text(&refused.stderr).contains("nothing was run"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        scalar(
            &fresh,
            "SELECT CAST(COUNT(*) AS text) FROM information_schema.tables WHERE table_name = 'customer'"
        )
        .await,
        "0"
    );
}

#[tokio::test]
async fn a_sqlite_foreign_key_check_that_cannot_run_aborts_the_migration() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let folder = tempfile::tempdir().expect("temp dir");
    // The parent key is not unique: SQLite's foreign key check raises "foreign key mismatch".
    std::fs::write(
        folder.path().join("1_mismatch.sql"),
        "CREATE TABLE parent (id integer);\nCREATE TABLE child (pid integer REFERENCES parent (id));\nINSERT INTO child VALUES (1);\n",
    )
    .expect("writes");
    let path = folder.path().to_str().expect("utf-8");
    let up = migrate(&["up"], path, database.url());
    assert_eq!(up.status.code(), Some(1), "{}", text(&up.stdout));
    let message = text(&up.stderr);
    assert!(
        message.contains("foreign key check before commit could not run")
            && message.contains("foreign key mismatch"),
        "{message}"
    );
    assert_eq!(
        scalar(
            &database,
            "SELECT CAST(COUNT(*) AS TEXT) FROM sqlite_master WHERE name IN ('parent', 'child')"
        )
        .await,
        "0",
        "rolled back"
    );
}

#[tokio::test]
async fn a_view_broken_by_a_column_rename_is_reported_after_the_run() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let folder = tempfile::tempdir().expect("temp dir");
        std::fs::write(
            folder.path().join("1_people.sql"),
            "CREATE TABLE people (id integer PRIMARY KEY, name varchar(20));\nCREATE VIEW people_names AS SELECT name FROM people;\n",
        )
        .expect("writes");
        std::fs::write(
            folder.path().join("2_rename.sql"),
            "ALTER TABLE people RENAME COLUMN name TO full_name;\n",
        )
        .expect("writes");
        let path = folder.path().to_str().expect("utf-8");
        let up = migrate(&["up"], path, database.url());
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        let warned = text(&up.stdout).contains("warning: view people_names can no longer be read");
        assert_eq!(
            warned,
            engine == Backend::MySql,
            "{engine}: only MySQL views keep the old column name: {}",
            text(&up.stdout)
        );
    }
}

#[tokio::test]
async fn a_postgres_migration_that_sets_a_role_leaves_bookkeeping_and_later_migrations_as_before() {
    let target = TestDatabase::create(Backend::Postgres).await;
    let role = format!("{}_owner", target.name());
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        folder.path().join("1_as_owner.sql"),
        format!(
            "CREATE ROLE \"{role}\" NOLOGIN;\nGRANT CREATE, USAGE ON SCHEMA public TO \"{role}\";\nSET ROLE \"{role}\";\nSET search_path = pg_catalog;\nCREATE TABLE public.owned (id integer);\n"
        ),
    )
    .expect("writes");
    std::fs::write(
        folder.path().join("2_after.sql"),
        "CREATE TABLE after_role (id integer);\n",
    )
    .expect("writes");
    let path = folder.path().to_str().expect("utf-8");
    let up = migrate(&["up"], path, target.url());
    let owners = [
        scalar(
            &target,
            "SELECT CAST(tableowner AS text) FROM pg_tables WHERE tablename = 'owned'",
        )
        .await,
        scalar(
            &target,
            "SELECT CAST(tableowner AS text) FROM pg_tables WHERE tablename = 'after_role' AND schemaname = 'public'",
        )
        .await,
    ];
    let recorded = scalar(
        &target,
        "SELECT string_agg(status, ',' ORDER BY version) FROM public._fox_migrations",
    )
    .await;
    drop(target);
    let cleanup = std::process::Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-c"])
        .arg(format!("DROP ROLE IF EXISTS \"{role}\""))
        .output()
        .expect("runs psql");
    assert!(cleanup.status.success(), "{}", text(&cleanup.stderr));
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stderr));
    assert_eq!(owners[0], role, "the migration ran as the role it set");
    assert_eq!(
        owners[1], "postgres",
        "the next migration runs as the connection's own role and search path"
    );
    assert_eq!(recorded, "applied,applied");
}
