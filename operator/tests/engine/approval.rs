//! Approval by plan hash: an approved hash applies exactly the reviewed plan, never a plan the
//! database has drifted into since.

use fox_e2e::{Backend, TestDatabase};

use super::support::{execute, fox, manifest_file, query_texts, schema_yaml, text};

const ITEMS: &str = "
    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: name, type: varchar(50)}
";

#[tokio::test]
async fn an_approved_hash_is_refused_after_the_live_table_changed() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url().to_string();
        let first = manifest_file(&schema_yaml("", ITEMS));
        let first_path = first.path.to_str().expect("utf-8");
        let created = fox(&["apply", "-f", first_path, "--database", &url]);
        assert_eq!(
            created.status.code(),
            Some(0),
            "{engine}: {}",
            text(&created.stderr)
        );
        execute(
            &database,
            "INSERT INTO items (id, name) VALUES (1, 'apple')",
        )
        .await;

        // A widening (a table rebuild on SQLite) that waits for approval.
        let widened = manifest_file(&schema_yaml(
            "requireApproval: true, allowDestructive: true",
            &ITEMS.replace("varchar(50)", "varchar(80)"),
        ));
        let widened_path = widened.path.to_str().expect("utf-8");
        let waiting = fox(&["apply", "-f", widened_path, "--database", &url]);
        assert_eq!(
            waiting.status.code(),
            Some(2),
            "{engine}: {}",
            text(&waiting.stderr)
        );
        let output = text(&waiting.stdout);
        let hash = output
            .split("--approve ")
            .nth(1)
            .map(|rest| rest.trim().to_string())
            .expect("the hash to approve is printed");

        // After the review, the live table gains a column holding data.
        execute(&database, "ALTER TABLE items ADD COLUMN extra varchar(20)").await;
        execute(&database, "UPDATE items SET extra = 'keep me'").await;

        let stale = fox(&[
            "apply",
            "-f",
            widened_path,
            "--database",
            &url,
            "--approve",
            &hash,
        ]);
        let output = text(&stale.stdout);
        assert_eq!(
            stale.status.code(),
            Some(2),
            "{engine}: {output}{}",
            text(&stale.stderr)
        );
        assert!(
            output.contains(&format!("The approved plan {hash} no longer matches"))
                && output.contains("drop column items.extra"),
            "{engine}: {output}"
        );
        assert_eq!(
            query_texts(&database, "SELECT extra FROM items").await,
            vec![vec![Some("keep me".to_string())]],
            "{engine}: the new column and its data survive"
        );
    }
}
