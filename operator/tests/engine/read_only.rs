//! `fox plan` and `fox apply --dry-run` change nothing: no bookkeeping tables, no lock rows, no
//! SQLite file.

use fox_e2e::{Backend, TestDatabase};

use super::support::{fox, manifest_file, query_texts, schema_yaml, text};

const ITEMS: &str = "
    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
";

/// Every table in the database, FoxDB's own included.
async fn table_names(database: &TestDatabase) -> Vec<Vec<Option<String>>> {
    let sql = match database.engine() {
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()"
        }
        Backend::MySql => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
        Backend::Sqlite => "SELECT name FROM sqlite_master",
    };
    query_texts(database, sql).await
}

#[tokio::test]
async fn plans_and_dry_runs_create_no_bookkeeping_tables() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url().to_string();
        let manifest = manifest_file(&schema_yaml("", ITEMS));
        let path = manifest.path.to_str().expect("utf-8");
        for args in [
            vec!["plan", "-f", path, "--database", &url],
            vec!["apply", "-f", path, "--database", &url, "--dry-run"],
        ] {
            let output = fox(&args);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{engine} {args:?}: {}",
                text(&output.stderr)
            );
            assert!(
                text(&output.stdout).contains("create table items"),
                "{engine} {args:?}: {}",
                text(&output.stdout)
            );
            assert_eq!(
                table_names(&database).await,
                Vec::<Vec<Option<String>>>::new(),
                "{engine} {args:?}: the database is untouched"
            );
        }
    }
}

#[test]
fn a_missing_sqlite_file_plans_as_empty_and_is_not_created() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("missing.sqlite");
    let url = format!("sqlite://{}", file.display());
    let manifest = manifest_file(&schema_yaml("", ITEMS));
    let path = manifest.path.to_str().expect("utf-8");
    for args in [
        vec!["plan", "-f", path, "--database", &url],
        vec!["apply", "-f", path, "--database", &url, "--dry-run"],
    ] {
        let output = fox(&args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stdout).contains("create table items"),
            "{args:?}: {}",
            text(&output.stdout)
        );
        let left: Vec<_> = std::fs::read_dir(directory.path())
            .expect("reads the directory")
            .filter_map(Result::ok)
            .map(|entry| entry.file_name())
            .collect();
        assert!(left.is_empty(), "{args:?}: files were created: {left:?}");
    }
}
