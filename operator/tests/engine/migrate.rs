//! `fox migrate` on every engine: up/down/up round trips, integrity refusals, concurrent
//! runners, kills mid-migration, and a sqlx-style folder applied unchanged.

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::bookkeeping::FoxTables;
use fox_operator::migrate::state::{AppliedMigration, read_applied, read_log};

use super::support::{connect, fox, fox_command, live_schema, text};

/// The versions recorded in `database` (empty without bookkeeping tables).
async fn recorded(database: &TestDatabase) -> Vec<AppliedMigration> {
    let mut connection = connect(database).await;
    let tables = FoxTables::locate(&mut connection).await.expect("locates");
    let applied = read_applied(&mut connection, &tables)
        .await
        .unwrap_or_default();
    connection.close().await;
    applied
}

/// Every logged run of `database`: (version, direction, status).
async fn logged(database: &TestDatabase) -> Vec<(u64, String, String)> {
    let mut connection = connect(database).await;
    let tables = FoxTables::locate(&mut connection).await.expect("locates");
    let log = read_log(&mut connection, &tables).await.expect("log");
    connection.close().await;
    log
}

const SQLX_FOLDER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sqlx-migrations"
);

fn migrate(args: &[&str], folder: &str, url: &str) -> std::process::Output {
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-f", folder, "--database", url]);
    fox(&all)
}

#[tokio::test]
async fn up_down_up_leaves_the_same_schema_and_logs_every_step() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url();
        let up = migrate(&["up"], SQLX_FOLDER, url);
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        let after_first_up = live_schema(&database).await;
        assert_eq!(
            after_first_up.tables.len(),
            2,
            "{engine}: the sqlx-style folder applied unchanged"
        );

        let down = migrate(&["down", "--to", "0"], SQLX_FOLDER, url);
        assert_eq!(
            down.status.code(),
            Some(0),
            "{engine}: {}",
            text(&down.stderr)
        );
        assert!(
            live_schema(&database).await.tables.is_empty(),
            "{engine}: everything rolled back"
        );

        let again = migrate(&["up"], SQLX_FOLDER, url);
        assert_eq!(
            again.status.code(),
            Some(0),
            "{engine}: {}",
            text(&again.stderr)
        );
        assert_eq!(
            live_schema(&database).await,
            after_first_up,
            "{engine}: identical schema"
        );

        let log = logged(&database).await;
        let applied = recorded(&database).await;
        let directions: Vec<&str> = log.iter().map(|(_, d, _)| d.as_str()).collect();
        assert_eq!(
            directions,
            ["up", "up", "up", "down", "down", "down", "up", "up", "up"],
            "{engine}"
        );
        assert!(log.iter().all(|(_, _, status)| status == "ok"));
        assert_eq!(applied.len(), 3);
        assert!(applied.iter().all(|a| a.status.as_str() == "applied"));

        let nothing = migrate(&["up"], SQLX_FOLDER, url);
        assert!(
            text(&nothing.stdout).contains("Nothing to do"),
            "{engine}: applied exactly once"
        );
    }
}

#[tokio::test]
async fn an_edited_applied_migration_is_reported_and_stops_up() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let folder = tempfile::tempdir().expect("temp dir");
        let write =
            |name: &str, sql: &str| std::fs::write(folder.path().join(name), sql).expect("writes");
        write(
            "1_first.up.sql",
            "CREATE TABLE first (id integer PRIMARY KEY);",
        );
        let path = folder.path().to_str().expect("utf-8");
        assert_eq!(
            migrate(&["up"], path, database.url()).status.code(),
            Some(0)
        );

        write(
            "1_first.up.sql",
            "CREATE TABLE first (id integer PRIMARY KEY, extra integer);",
        );
        write(
            "2_second.up.sql",
            "CREATE TABLE second (id integer PRIMARY KEY);",
        );
        let status = migrate(&["status"], path, database.url());
        assert!(
            text(&status.stdout).contains("changed"),
            "{engine}: {}",
            text(&status.stdout)
        );
        let refused = migrate(&["up"], path, database.url());
        assert_eq!(refused.status.code(), Some(1), "{engine}");
        let message = text(&refused.stderr);
        assert!(
            message.contains("version 1 (first) was applied with checksum"),
            "{engine}: {message}"
        );
        assert!(
            message.contains("but its file now has checksum"),
            "{engine}: {message}"
        );
        let tables: Vec<String> = live_schema(&database)
            .await
            .tables
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(tables, ["first"], "{engine}: nothing executed");
    }
}

/// The blog example's migrations (a view and a partial index) run on the engines the example
/// is for, leave the FoxSchema in sync and roll back cleanly. MySQL has no partial indexes: its
/// variant lives in e2e/kind.
#[tokio::test]
async fn the_blog_example_migrates_up_and_down_beside_its_schema() {
    let blog = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/blog/");
    let migrations = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/blog/20-migrations.yaml"
    );
    for engine in [Backend::Postgres, Backend::Sqlite] {
        let database = TestDatabase::create(engine).await;
        let url = database.url();
        let apply = fox(&["apply", "-f", blog, "--database", url]);
        assert_eq!(
            apply.status.code(),
            Some(0),
            "{engine}: {}",
            text(&apply.stderr)
        );
        let up = migrate(&["up"], migrations, url);
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        assert!(
            text(&up.stdout).contains("Applied 2 migration(s)"),
            "{engine}"
        );
        let plan = fox(&["plan", "-f", blog, "--database", url, "--detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "{engine}: the view and the partial index are left alone: {}",
            text(&plan.stdout)
        );
        let down = migrate(&["down", "--to", "0"], migrations, url);
        assert_eq!(
            down.status.code(),
            Some(0),
            "{engine}: {}",
            text(&down.stderr)
        );
        assert_eq!(
            migrate(&["status", "--detailed-exitcode"], migrations, url)
                .status
                .code(),
            Some(2),
            "{engine}: both pending again"
        );
    }
}

/// `fox migrate status` exit codes, so CI can gate on it: 0 in order, 2 pending (only with
/// `--detailed-exitcode`), 3 when something needs attention (out of order, changed, missing).
#[test]
fn status_exit_codes_say_what_needs_doing() {
    let folder = tempfile::tempdir().expect("temp dir");
    let database = folder.path().join("status.sqlite");
    let url = format!("sqlite://{}", database.display());
    let write =
        |name: &str, sql: &str| std::fs::write(folder.path().join(name), sql).expect("writes");
    let path = folder.path().to_str().expect("utf-8");
    let status = |extra: &[&str]| {
        let mut args = vec!["status"];
        args.extend_from_slice(extra);
        let output = migrate(&args, path, &url);
        (output.status.code(), text(&output.stdout))
    };

    write("2_second.up.sql", "CREATE TABLE second (id integer);");
    assert_eq!(status(&[]).0, Some(0), "pending alone is not an error");
    assert_eq!(status(&["--detailed-exitcode"]).0, Some(2));
    assert_eq!(migrate(&["up"], path, &url).status.code(), Some(0));
    assert_eq!(status(&["--detailed-exitcode"]).0, Some(0), "all applied");

    write("1_first.up.sql", "CREATE TABLE first (id integer);");
    let (code, shown) = status(&[]);
    assert_eq!(code, Some(3), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with('1') && l.contains("out-of-order")),
        "{shown}"
    );
    std::fs::remove_file(folder.path().join("1_first.up.sql")).expect("removes");

    write("2_second.up.sql", "CREATE TABLE second (id bigint);");
    let (code, shown) = status(&["--detailed-exitcode"]);
    assert_eq!(code, Some(3), "{shown}");
    assert!(shown.contains("changed"), "{shown}");
    std::fs::remove_file(folder.path().join("2_second.up.sql")).expect("removes");
    write("3_third.up.sql", "CREATE TABLE third (id integer);");
    let (code, shown) = status(&[]);
    assert_eq!(code, Some(3), "{shown}");
    assert!(shown.contains("missing"), "{shown}");
}

/// Each subcommand takes only its own flags: `status` neither runs nor locks anything.
#[test]
fn status_refuses_the_flags_of_up() {
    for flag in [
        &["--dry-run"][..],
        &["--to", "1"],
        &["--allow-out-of-order"],
        &["--lock-timeout", "5"],
    ] {
        let mut args = vec!["status"];
        args.extend_from_slice(flag);
        let output = migrate(&args, SQLX_FOLDER, "sqlite::memory:");
        assert_eq!(output.status.code(), Some(2), "{flag:?}");
        assert!(
            text(&output.stderr).contains("unexpected argument"),
            "{flag:?}: {}",
            text(&output.stderr)
        );
    }
    let repair = migrate(&["repair", "--dry-run"], SQLX_FOLDER, "sqlite::memory:");
    assert_eq!(repair.status.code(), Some(2));
}

#[tokio::test]
async fn twenty_concurrent_runners_apply_each_migration_once() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let children: Vec<_> = (0..20)
            .map(|_| {
                fox_command(&[
                    "migrate",
                    "up",
                    "-f",
                    SQLX_FOLDER,
                    "--database",
                    database.url(),
                    "--lock-timeout",
                    "60",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawns fox")
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().expect("finishes");
            assert_eq!(
                output.status.code(),
                Some(0),
                "{engine}: {}",
                text(&output.stderr)
            );
        }
        let log = logged(&database).await;
        assert_eq!(
            log.len(),
            3,
            "{engine}: each of the 3 migrations ran once: {log:?}"
        );
    }
}

/// A migration of many slow-ish statements, to be killed part-way.
fn long_migration() -> String {
    (0..40)
        .map(|i| format!("CREATE TABLE part_{i:02} (id integer PRIMARY KEY, label varchar(20));\nCREATE INDEX part_{i:02}_label ON part_{i:02} (label);\n"))
        .collect()
}

#[tokio::test]
async fn killed_migrations_leave_nothing_or_a_dirty_record_until_repaired() {
    for engine in Backend::ALL {
        let folder = tempfile::tempdir().expect("temp dir");
        std::fs::write(folder.path().join("1_long.up.sql"), long_migration()).expect("writes");
        let path = folder.path().to_str().expect("utf-8");
        // How long an undisturbed run takes, so the kills land inside it.
        let probe = TestDatabase::create(engine).await;
        let started = std::time::Instant::now();
        assert_eq!(migrate(&["up"], path, probe.url()).status.code(), Some(0));
        let full = started.elapsed();
        drop(probe);
        let (mut unchanged, mut dirty, mut complete) = (0, 0, 0);
        for round in 0..20_u64 {
            let database = TestDatabase::create(engine).await;
            let mut child =
                fox_command(&["migrate", "up", "-f", path, "--database", database.url()])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .expect("spawns fox");
            // Spread the kills over the second half of a run, where the statements execute.
            let fraction = 0.45 + 0.5 * ((round * 7919) % 20) as f64 / 20.0;
            std::thread::sleep(full.mul_f64(fraction));
            child.kill().ok();
            child.wait().expect("reaps");

            let applied = recorded(&database).await;
            let tables = live_schema(&database).await.tables.len();
            let label = format!("{engine} round {round}");
            match applied.first().map(|a| a.status.as_str()) {
                None => {
                    assert_eq!(tables, 0, "{label}: no record, so nothing of the migration");
                    unchanged += 1;
                }
                Some("applied") => {
                    assert_eq!(tables, 40, "{label}");
                    complete += 1;
                }
                Some(_) => {
                    assert_eq!(
                        engine,
                        Backend::MySql,
                        "{label}: only MySQL leaves dirty records"
                    );
                    let record = &applied[0];
                    assert!(
                        record
                            .failed_statement
                            .as_deref()
                            .is_some_and(|s| s.starts_with("CREATE")),
                        "{label}: names the statement"
                    );
                    let refused = migrate(&["up"], path, database.url());
                    assert_eq!(refused.status.code(), Some(1), "{label}");
                    assert!(
                        text(&refused.stderr).contains("is dirty"),
                        "{label}: {}",
                        text(&refused.stderr)
                    );
                    // A person drops what the partial run created, then repairs and re-runs.
                    let mut connection = connect(&database).await;
                    for table in live_schema(&database).await.tables {
                        connection
                            .execute(&format!("DROP TABLE `{}`", table.name))
                            .await
                            .expect("drops");
                    }
                    connection.close().await;
                    assert_eq!(
                        migrate(&["repair"], path, database.url()).status.code(),
                        Some(0)
                    );
                    let resumed = migrate(&["up"], path, database.url());
                    assert_eq!(
                        resumed.status.code(),
                        Some(0),
                        "{label}: {}",
                        text(&resumed.stderr)
                    );
                    assert_eq!(live_schema(&database).await.tables.len(), 40);
                    dirty += 1;
                }
            }
        }
        eprintln!(
            "{engine}: 20 kills over a {full:?} run: {unchanged} left nothing, {dirty} dirty, {complete} completed"
        );
        assert!(
            unchanged + dirty > 0,
            "{engine}: some kills landed inside the migration"
        );
    }
}

const START: &str = "
    - name: authors
      columns:
        - {name: id, type: bigserial, primaryKey: true}
        - {name: name, type: varchar(100)}
";

fn target() -> String {
    format!(
        "{START}        - {{name: bio, type: text, nullable: true}}\n    - name: books\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: title, type: varchar(200)}}\n        - {{name: status, type: \"enum(draft,out)\", default: draft}}\n        - {{name: author_id, type: bigint, references: {{table: authors, onDelete: cascade}}}}\n      indexes:\n        - {{columns: [title]}}\n"
    )
}

#[tokio::test]
async fn generated_migrations_reach_the_schema_and_go_back() {
    use super::support::{expected_schema, manifest_file, schema, schema_yaml};
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url();
        let start_yaml = schema_yaml("", START);
        let start = manifest_file(&start_yaml);
        let goal_yaml = schema_yaml("", &target());
        let goal = manifest_file(&goal_yaml);
        let path = |m: &super::support::ManifestFile| m.path.to_str().expect("utf-8").to_string();
        assert_eq!(
            fox(&["apply", "-f", &path(&start), "--database", url])
                .status
                .code(),
            Some(0)
        );

        let output = tempfile::tempdir().expect("temp dir");
        let out = output.path().to_str().expect("utf-8");
        let generated = fox(&[
            "generate",
            "migration",
            "--name",
            "add books",
            "-f",
            &path(&goal),
            "--database",
            url,
            "--version",
            "7",
            "--output-dir",
            out,
        ]);
        assert_eq!(
            generated.status.code(),
            Some(0),
            "{engine}: {}",
            text(&generated.stderr)
        );
        assert!(
            text(&generated.stdout).contains("reversible"),
            "{engine}: {}",
            text(&generated.stdout)
        );

        let up = migrate(&["up"], out, url);
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        let in_sync = fox(&[
            "plan",
            "-f",
            &path(&goal),
            "--database",
            url,
            "--detailed-exitcode",
        ]);
        assert_eq!(
            in_sync.status.code(),
            Some(0),
            "{engine}: the migration reaches the schema: {}",
            text(&in_sync.stdout)
        );

        let down = migrate(&["down"], out, url);
        assert_eq!(
            down.status.code(),
            Some(0),
            "{engine}: {}",
            text(&down.stderr)
        );
        assert_eq!(
            live_schema(&database).await,
            expected_schema(&database, &schema(&start_yaml)),
            "{engine}: back to the start"
        );
    }
}

#[tokio::test]
async fn non_transactional_migrations_go_down_and_up_again() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let folder = tempfile::tempdir().unwrap();
        let write = |name: &str, sql: &str| std::fs::write(folder.path().join(name), sql).unwrap();
        write(
            "1_items.up.sql",
            "CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(50));",
        );
        write("1_items.down.sql", "DROP TABLE items;");
        let (create, drop) = match engine {
            Backend::Postgres => (
                "CREATE INDEX CONCURRENTLY items_name_idx ON items (name);",
                "DROP INDEX CONCURRENTLY items_name_idx;",
            ),
            Backend::MySql => (
                "CREATE INDEX items_name_idx ON items (name);",
                "DROP INDEX items_name_idx ON items;",
            ),
            Backend::Sqlite => (
                "CREATE INDEX items_name_idx ON items (name);",
                "DROP INDEX items_name_idx;",
            ),
        };
        write(
            "2_items_name.up.sql",
            &format!("-- fox:no-transaction\n{create}"),
        );
        write(
            "2_items_name.down.sql",
            &format!("-- fox:no-transaction\n{drop}"),
        );
        let folder = folder.path().to_str().unwrap();
        for args in [&["up"][..], &["down"], &["up"]] {
            let run = migrate(args, folder, database.url());
            assert_eq!(
                run.status.code(),
                Some(0),
                "{engine} {args:?}: {}",
                text(&run.stderr)
            );
        }
        let applied = recorded(&database).await;
        assert_eq!(applied.len(), 2, "{engine}");
        assert!(
            applied.iter().all(|a| a.status.as_str() == "applied"),
            "{engine}: {applied:?}"
        );
    }
}

#[tokio::test]
async fn updating_a_migration_record_keeps_the_rows_that_reference_it() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let folder = tempfile::tempdir().expect("temp dir");
        // Recorded statement by statement (where the engine allows): the record of version 1
        // is written before the INSERT and updated after it. Deleting and re-inserting the
        // record (REPLACE INTO) would cascade to the note.
        std::fs::write(
            folder.path().join("1_notes.sql"),
            "-- fox:no-transaction\nCREATE TABLE notes (version BIGINT NOT NULL, FOREIGN KEY (version) REFERENCES _fox_migrations (version) ON DELETE CASCADE);\nINSERT INTO notes VALUES (1);\nCREATE TABLE later (id integer);\n",
        )
        .expect("writes");
        let path = folder.path().to_str().expect("utf-8");
        let up = migrate(&["up"], path, database.url());
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        let mut connection = connect(&database).await;
        let count = match engine {
            Backend::MySql => "SELECT CAST(COUNT(*) AS SIGNED) FROM notes",
            Backend::Postgres | Backend::Sqlite => "SELECT CAST(COUNT(*) AS BIGINT) FROM notes",
        };
        let notes = connection.fetch_i64(count, &[]).await.expect("counts");
        connection.close().await;
        assert_eq!(notes, 1, "{engine}: the note survived the record's updates");
        let applied = recorded(&database).await;
        assert_eq!(applied.len(), 1, "{engine}");
        assert_eq!(
            applied[0].status.as_str(),
            "applied",
            "{engine}: {applied:?}"
        );
    }
}

/// A run-log row changed by hand is reported by name, never read as version 0. (SQLite is the
/// engine whose column types let a number column hold text.)
#[tokio::test]
async fn a_run_log_row_changed_by_hand_is_reported_not_read_as_zero() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        folder.path().join("1_one.up.sql"),
        "CREATE TABLE t (id integer);",
    )
    .expect("writes");
    let path = folder.path().to_str().expect("utf-8");
    assert_eq!(
        migrate(&["up"], path, database.url()).status.code(),
        Some(0)
    );
    assert_eq!(logged(&database).await.len(), 1);
    super::support::execute(
        &database,
        "UPDATE \"_fox_migration_log\" SET \"version\" = 'one'",
    )
    .await;
    let mut connection = connect(&database).await;
    let tables = FoxTables::locate(&mut connection).await.expect("locates");
    let error = read_log(&mut connection, &tables)
        .await
        .expect_err("a version that is not a number");
    connection.close().await;
    let message = error.to_string();
    assert!(
        message.contains("_fox_migration_log.version")
            && message.contains("\"one\" is not a number"),
        "{message}"
    );
}
