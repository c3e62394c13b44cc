//! MongoDB migrations (`upCommands`/`downCommands`) through `fox migrate` against nx-27017 (or
//! FOX_TEST_MONGO_URL): applied exactly once, checksummed, rolled back on request.

use super::mongo_support::MongoTestDatabase;
use super::support::{fox, manifest_file, text};

const MIGRATIONS: &str = r#"apiVersion: foxdb.dev/v1alpha1
kind: FoxMigration
metadata: {name: m1}
spec:
  databaseRef: {name: db}
  version: 1
  name: first admin
  upCommands:
    - insert: users
      documents: [{_id: admin, email: admin@example.com}]
  downCommands:
    - delete: users
      deletes: [{q: {_id: admin}, limit: 1}]
---
apiVersion: foxdb.dev/v1alpha1
kind: FoxMigration
metadata: {name: m2}
spec:
  databaseRef: {name: db}
  version: 2
  name: second user
  upCommands:
    - insert: users
      documents: [{_id: editor, email: editor@example.com}]
  downCommands:
    - delete: users
      deletes: [{q: {_id: editor}, limit: 1}]
"#;

fn migrate(args: &[&str], path: &str, url: &str) -> (Option<i32>, String) {
    let mut all = vec!["migrate"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-f", path, "--database", url]);
    let output = fox(&all);
    (
        output.status.code(),
        format!("{}{}", text(&output.stdout), text(&output.stderr)),
    )
}

#[tokio::test]
async fn migrations_run_once_in_order_and_roll_back_newest_first() {
    let database = MongoTestDatabase::new("migrate").await;
    let file = manifest_file(MIGRATIONS);
    let path = file.path.to_str().expect("utf-8 path");
    let url = database.url.expose();

    let (code, out) = migrate(&["status", "--detailed-exitcode"], path, url);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("1                pending"), "{out}");

    let (code, out) = migrate(&["up"], path, url);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Applied 2 migration(s)."), "{out}");
    let (code, out) = migrate(&["up"], path, url);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("Nothing to do"), "{out}");
    assert_eq!(database.documents("users").await.len(), 2, "each ran once");
    let records = database.documents("_fox_migrations").await;
    assert_eq!(records.len(), 2);
    assert!(
        records
            .iter()
            .all(|r| r.get_str("status").ok() == Some("applied"))
    );
    assert!(
        records
            .iter()
            .all(|r| r.get_str("checksum").is_ok_and(|c| c.len() == 64))
    );

    let (code, out) = migrate(&["down"], path, url);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("  2 second user"), "{out}");
    let ids: Vec<String> = database
        .documents("users")
        .await
        .iter()
        .filter_map(|d| d.get_str("_id").ok().map(str::to_string))
        .collect();
    assert_eq!(ids, ["admin"], "only the newest was rolled back");
    let (code, out) = migrate(&["down", "--to", "0"], path, url);
    assert_eq!(code, Some(0), "{out}");
    assert!(database.documents("users").await.is_empty());
    assert!(database.documents("_fox_migrations").await.is_empty());
    database.drop().await;
}

#[tokio::test]
async fn a_migration_changed_after_apply_is_reported_and_never_rerun() {
    let database = MongoTestDatabase::new("changed").await;
    let url = database.url.expose();
    let file = manifest_file(MIGRATIONS);
    let (code, out) = migrate(&["up", "--to", "1"], file.path.to_str().expect("path"), url);
    assert_eq!(code, Some(0), "{out}");
    let changed = manifest_file(&MIGRATIONS.replace("admin@example.com", "root@example.com"));
    let path = changed.path.to_str().expect("utf-8 path");
    let (code, out) = migrate(&["status"], path, url);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("1                changed"), "{out}");
    let (code, out) = migrate(&["up"], path, url);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("checksum differs"), "{out}");
    assert!(out.contains("nothing was run"), "{out}");
    assert_eq!(
        database.documents("users").await.len(),
        1,
        "version 2 did not run either"
    );
    database.drop().await;
}

#[tokio::test]
async fn a_failing_command_leaves_the_migration_dirty_and_up_refuses_until_resolved() {
    let database = MongoTestDatabase::new("dirty").await;
    let url = database.url.expose();
    // The second insert repeats the first `_id`: a duplicate key write error.
    let failing = MIGRATIONS.replace("_id: editor", "_id: admin");
    let file = manifest_file(&failing);
    let path = file.path.to_str().expect("utf-8 path");
    let (code, out) = migrate(&["up"], path, url);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("migration 2 (second user) failed at upCommands[0]"),
        "{out}"
    );
    let (code, out) = migrate(&["status"], path, url);
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("2                dirty"), "{out}");
    let (code, out) = migrate(&["up"], path, url);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("failed part way"), "{out}");
    database.drop().await;
}

/// The key of every index of `collection` but `_id_`, as field names in the server's order,
/// sorted (nx-27017 names indexes itself, so names are not compared).
async fn index_keys(database: &MongoTestDatabase, collection: &str) -> Vec<Vec<String>> {
    let mut keys: Vec<Vec<String>> = database
        .store
        .run_cursor_command(foxdb::document_store::bson::doc! {"listIndexes": collection})
        .await
        .expect("lists indexes")
        .iter()
        .filter(|index| index.get_str("name").ok() != Some("_id_"))
        .map(|index| {
            index
                .get_document("key")
                .map(|key| key.keys().cloned().collect())
                .unwrap_or_default()
        })
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn compound_index_keys_keep_the_order_the_manifest_writes() {
    let database = MongoTestDatabase::new("keyorder").await;
    let url = database.url.expose();
    // A mapping (its order comes from the file) and a JSON string (the form that keeps its
    // order through the Kubernetes API), both out of alphabetical order.
    let manifest = r#"apiVersion: foxdb.dev/v1alpha1
kind: FoxMigration
metadata: {name: indexes}
spec:
  databaseRef: {name: db}
  version: 1
  name: compound indexes
  upCommands:
    - create: posts
    - createIndexes: posts
      indexes:
        - key: {title: 1, author: -1}
          name: title_author
        - name: published_score
          key:
            published: -1
            score: 1
            author: 1
    - '{"createIndexes": "posts", "indexes": [{"key": {"tag": 1, "day": -1}, "name": "tag_day"}]}'
"#;
    let file = manifest_file(manifest);
    let path = file.path.to_str().expect("utf-8 path");
    let (code, out) = migrate(&["up"], path, url);
    assert_eq!(code, Some(0), "{out}");
    let strings = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    assert_eq!(
        index_keys(&database, "posts").await,
        vec![
            strings(&["published", "score", "author"]),
            strings(&["tag", "day"]),
            strings(&["title", "author"]),
        ]
    );
    // Applied once: a second run changes nothing and the checksum still matches.
    let (code, out) = migrate(&["status", "--detailed-exitcode"], path, url);
    assert_eq!(code, Some(0), "{out}");
    database.drop().await;
}
