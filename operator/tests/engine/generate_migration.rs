//! `fox generate migration`: downs that could lose data are left out, and new PostgreSQL enum
//! labels are committed before the migration that uses them.

use fox_e2e::{Backend, TestDatabase};

use super::support::{ManifestFile, fox, manifest_file, schema_yaml, text};

fn path(manifest: &ManifestFile) -> String {
    manifest.path.to_str().expect("utf-8").to_string()
}

/// Applies `start`, then generates the migration to `goal` into a new folder.
fn generate(database: &TestDatabase, start: &str, goal: &str) -> (tempfile::TempDir, String) {
    let url = database.url();
    let start = manifest_file(&schema_yaml("", start));
    let applied = fox(&["apply", "-f", &path(&start), "--database", url]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    let goal = manifest_file(&schema_yaml("", goal));
    let output = tempfile::tempdir().expect("temp dir");
    let generated = fox(&[
        "generate",
        "migration",
        "--name",
        "change",
        "-f",
        &path(&goal),
        "--database",
        url,
        "--version",
        "7",
        "--output-dir",
        output.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(
        generated.status.code(),
        Some(0),
        "{}",
        text(&generated.stderr)
    );
    (output, text(&generated.stdout))
}

fn migrate(args: &[&str], folder: &str, url: &str) -> std::process::Output {
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-f", folder, "--database", url]);
    fox(&all)
}

#[tokio::test]
async fn a_down_that_would_narrow_a_column_is_not_generated_as_reversible() {
    let table = |ty: &str| {
        format!(
            "    - name: notes\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: body, type: \"{ty}\"}}\n"
        )
    };
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let (output, stdout) = generate(&database, &table("varchar(5)"), &table("varchar(50)"));
        assert!(
            stdout.contains("irreversible: rolling it back could lose data written after it"),
            "{engine}: {stdout}"
        );
        let file = std::fs::read_to_string(output.path().join("7_change.yaml")).expect("reads");
        assert!(!file.contains("\n  down:"), "{engine}: {file}");
        assert!(
            file.contains("foxdb.dev/irreversible") && file.contains("varchar(5)"),
            "{engine}: {file}"
        );
        let folder = output.path().to_str().expect("utf-8");
        let up = migrate(&["up"], folder, database.url());
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        let down = migrate(&["down"], folder, database.url());
        assert_eq!(down.status.code(), Some(1), "{engine}");
        assert!(
            text(&down.stderr).contains("it has no down step"),
            "{engine}: {}",
            text(&down.stderr)
        );
    }
}

#[tokio::test]
async fn a_new_enum_label_used_as_default_is_committed_before_it_is_used() {
    let table = |labels: &str, default: &str| {
        format!(
            "    - name: tickets\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: state, type: \"enum({labels})\", default: {default}}}\n"
        )
    };
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let goal = table("open,closed,held", "held");
        let (output, stdout) = generate(&database, &table("open,closed", "open"), &goal);
        if engine == Backend::Postgres {
            assert!(
                stdout.contains("the new enum labels, committed before version 8 uses them"),
                "{stdout}"
            );
        }
        let folder = output.path().to_str().expect("utf-8");
        let up = migrate(&["up"], folder, database.url());
        assert_eq!(up.status.code(), Some(0), "{engine}: {}", text(&up.stderr));
        let goal = manifest_file(&schema_yaml("", &goal));
        let in_sync = fox(&[
            "plan",
            "-f",
            &path(&goal),
            "--database",
            database.url(),
            "--detailed-exitcode",
        ]);
        assert_eq!(
            in_sync.status.code(),
            Some(0),
            "{engine}: {}",
            text(&in_sync.stdout)
        );
    }
}
