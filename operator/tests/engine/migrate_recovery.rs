//! `fox migrate` decisions around recovery and input: repair after a failed `down`, `--to`
//! naming no version, line endings and byte order marks.

use fox_e2e::{Backend, TestDatabase};

use super::support::{execute, fox, text};

fn migrate(args: &[&str], folder: &str, url: &str) -> std::process::Output {
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-f", folder, "--database", url]);
    fox(&all)
}

fn status_of(folder: &str, url: &str, version: &str) -> String {
    let status = text(&migrate(&["status"], folder, url).stdout);
    status
        .lines()
        .find(|l| l.split_whitespace().next() == Some(version))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn repair_after_a_failed_mysql_down_advises_and_records_the_real_state() {
    let folder = tempfile::tempdir().expect("temp dir");
    let write =
        |name: &str, sql: &str| std::fs::write(folder.path().join(name), sql).expect("writes");
    write(
        "1_pair.up.sql",
        "CREATE TABLE a (id integer);\nCREATE TABLE b (id integer);\n",
    );
    write(
        "1_pair.down.sql",
        "DROP TABLE b;\nDROP TABLE not_there;\nDROP TABLE a;\n",
    );
    let path = folder.path().to_str().expect("utf-8");

    // Way out 1: finish the rollback by hand, then `repair`: the version is not applied.
    let database = TestDatabase::create(Backend::MySql).await;
    let url = database.url();
    assert_eq!(migrate(&["up"], path, url).status.code(), Some(0));
    let down = migrate(&["down"], path, url);
    assert_eq!(down.status.code(), Some(1));
    let message = text(&down.stderr);
    assert!(
        message.contains("down failed at statement 2 of 3 (line 2): DROP TABLE not_there")
            && message.contains("kept the 1 statement(s) of the down step before it")
            && message.contains("finish the rollback by hand and run `fox migrate repair`, or restore what it removed and run `fox migrate repair --applied`"),
        "{message}"
    );
    let refused = text(&migrate(&["up"], path, url).stderr);
    assert!(
        refused.contains("its down step stopped after 1 of 3 statements")
            && refused.contains("either finish the rollback by hand and run `fox migrate repair`"),
        "{refused}"
    );
    execute(&database, "DROP TABLE a").await;
    let repaired = migrate(&["repair"], path, url);
    assert!(
        text(&repaired.stdout).contains(
            "version 1 (pair): its down step had stopped after 1 of 3 statements; recorded as not applied"
        ),
        "{}",
        text(&repaired.stdout)
    );
    assert_eq!(status_of(path, url, "1"), "pending");
    let again = migrate(&["up"], path, url);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));

    // Way out 2: restore what the down removed, then `repair --applied`.
    let database = TestDatabase::create(Backend::MySql).await;
    let url = database.url();
    assert_eq!(migrate(&["up"], path, url).status.code(), Some(0));
    assert_eq!(migrate(&["down"], path, url).status.code(), Some(1));
    execute(&database, "CREATE TABLE b (id integer)").await;
    let repaired = migrate(&["repair", "--applied"], path, url);
    assert!(
        text(&repaired.stdout).contains("recorded as applied"),
        "{}",
        text(&repaired.stdout)
    );
    assert_eq!(status_of(path, url, "1"), "applied");
}

#[tokio::test]
async fn to_a_version_that_no_file_has_is_refused_before_anything_runs() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url();
        let folder = tempfile::tempdir().expect("temp dir");
        for version in [1, 5, 10] {
            std::fs::write(
                folder.path().join(format!("{version}_t{version}.up.sql")),
                format!("CREATE TABLE t{version} (id integer);"),
            )
            .expect("writes");
            std::fs::write(
                folder.path().join(format!("{version}_t{version}.down.sql")),
                format!("DROP TABLE t{version};"),
            )
            .expect("writes");
        }
        let path = folder.path().to_str().expect("utf-8");
        let refused = migrate(&["up", "--to", "7"], path, url);
        assert_eq!(refused.status.code(), Some(1), "{engine}");
        assert!(
            text(&refused.stderr).contains(
                "version 7 is not among the migrations in the files (the nearest are 5 and 10)"
            ),
            "{engine}: {}",
            text(&refused.stderr)
        );
        assert_eq!(status_of(path, url, "1"), "pending", "{engine}");
        let up = migrate(&["up", "--to", "5"], path, url);
        assert_eq!(up.status.code(), Some(0), "{engine}");
        assert_eq!(status_of(path, url, "5"), "applied", "{engine}");
        assert_eq!(status_of(path, url, "10"), "pending", "{engine}");
        let down = migrate(&["down", "--to", "3"], path, url);
        assert_eq!(down.status.code(), Some(1), "{engine}");
        assert_eq!(status_of(path, url, "5"), "applied", "{engine}");
        let all_down = migrate(&["down", "--to", "0"], path, url);
        assert_eq!(all_down.status.code(), Some(0), "{engine}");
        assert_eq!(status_of(path, url, "1"), "pending", "{engine}");
    }
}

#[tokio::test]
async fn line_ending_conversion_and_a_byte_order_mark_leave_a_migration_unchanged() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url();
        let folder = tempfile::tempdir().expect("temp dir");
        let file = folder.path().join("1_bom.up.sql");
        std::fs::write(
            &file,
            "\u{feff}CREATE TABLE t (id integer);\nCREATE TABLE u (id integer);\n",
        )
        .expect("writes");
        let path = folder.path().to_str().expect("utf-8");
        let up = migrate(&["up"], path, url);
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        std::fs::write(
            &file,
            "CREATE TABLE t (id integer);\r\nCREATE TABLE u (id integer);\r\n",
        )
        .expect("writes");
        assert_eq!(status_of(path, url, "1"), "applied", "{engine}");
        let again = migrate(&["up"], path, url);
        assert!(
            text(&again.stdout).contains("Nothing to do"),
            "{engine}: {}",
            text(&again.stderr)
        );
    }
}

/// A bookkeeping row changed by hand is reported by name, never read as 0. (SQLite is the engine
/// whose column types let a number column hold text.)
#[tokio::test]
async fn a_bookkeeping_row_changed_by_hand_is_reported_not_read_as_zero() {
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
    execute(
        &database,
        "UPDATE \"_fox_migrations\" SET \"statement_count\" = 'many'",
    )
    .await;
    let output = migrate(&["status"], path, database.url());
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert!(
        message.contains("_fox_migrations.statement_count (version 1)")
            && message.contains("\"many\" is not a number"),
        "{message}"
    );
}
