//! `realtime: true` installs change capture through the plan, in words; turning it off removes
//! it; the re-plan after either is empty (introspection recognises installed capture); every
//! committed insert, update and delete lands in the change log, and a rolled-back one does not.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, execute, live_schema, plan, query_texts, tables};

fn items(realtime: bool, extra_column: &str) -> String {
    format!(
        "
    - name: items
      realtime: {realtime}
      columns:
        - {{name: id, type: integer, primaryKey: true}}
        - {{name: name, type: text}}
        - {{name: data, type: bytes, nullable: true}}
{extra_column}"
    )
}

/// `column` as text on `engine` (the test reads every column as text).
fn as_text(engine: Backend, column: &str) -> String {
    match engine {
        Backend::Postgres => format!("{column}::text"),
        Backend::MySql => format!("CAST({column} AS CHAR)"),
        Backend::Sqlite => format!("CAST({column} AS TEXT)"),
    }
}

/// Numbers pending changes the way a reader does, then lists the log in position order.
async fn logged(database: &TestDatabase) -> Vec<Vec<Option<String>>> {
    let db = foxdb::Database::connect(database.url())
        .await
        .expect("connects");
    // A reader numbers changes before it reads them; a short tail does exactly that.
    let mut stream = foxdb::realtime::tail(
        &db,
        foxdb::realtime::TailOptions {
            tables: vec!["items".into()],
            from: Some(foxdb::realtime::Position(0)),
        },
    );
    use futures_util::StreamExt;
    let _ = tokio::time::timeout(std::time::Duration::from_millis(500), stream.next()).await;
    drop(stream);
    db.close().await;
    let sql = format!(
        "SELECT {}, operation FROM _fox_changes WHERE position IS NOT NULL ORDER BY position",
        as_text(database.engine(), "position")
    );
    query_texts(database, &sql).await
}

#[tokio::test]
async fn realtime_true_installs_capture_and_false_removes_it() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let on = tables(&items(true, ""));
        let first = plan(&database, &on).await;
        let words: Vec<String> = first.changes.iter().map(|c| c.change.to_string()).collect();
        assert!(
            words
                .iter()
                .any(|w| w.starts_with("capture changes of items for real-time subscriptions")),
            "{engine}: {words:?}"
        );
        applied(apply(&database, &on, false).await);
        assert!(
            plan(&database, &on).await.is_empty(),
            "{engine}: re-plan after enabling capture: {:?}",
            plan(&database, &on).await.changes
        );
        assert!(
            live_schema(&database)
                .await
                .table("items")
                .expect("items")
                .realtime,
            "{engine}: introspection sees capture"
        );

        // Committed writes are logged; a rolled-back one is not; a row over 8 kB writes fine.
        execute(
            &database,
            "INSERT INTO items (id, name) VALUES (1, 'apple')",
        )
        .await;
        execute(&database, "UPDATE items SET name = 'pear' WHERE id = 1").await;
        let big = "x".repeat(20_000);
        execute(
            &database,
            &format!("INSERT INTO items (id, name) VALUES (2, '{big}')"),
        )
        .await;
        execute(&database, "DELETE FROM items WHERE id = 1").await;
        let mut connection = super::support::connect(&database).await;
        connection.begin().await.expect("begins");
        connection
            .execute("INSERT INTO items (id, name) VALUES (3, 'rolled back')")
            .await
            .expect("inserts");
        connection.rollback().await.expect("rolls back");
        connection.close().await;
        let log = logged(&database).await;
        let operations: Vec<&str> = log.iter().filter_map(|r| r[1].as_deref()).collect();
        assert_eq!(
            operations,
            ["insert", "update", "insert", "delete"],
            "{engine}: {log:?}"
        );
        let positions: Vec<i64> = log
            .iter()
            .filter_map(|r| r[0].as_deref()?.trim().parse().ok())
            .collect();
        assert_eq!(positions, [1, 2, 3, 4], "{engine}");

        // A new column refreshes capture (the row image changes), in words.
        let wider = tables(&items(
            true,
            "        - {name: note, type: text, nullable: true}\n",
        ));
        let words: Vec<String> = plan(&database, &wider)
            .await
            .changes
            .iter()
            .map(|c| c.change.to_string())
            .collect();
        assert!(
            words
                .iter()
                .any(|w| w.starts_with("refresh change capture of items")),
            "{engine}: {words:?}"
        );
        applied(apply(&database, &wider, false).await);
        assert!(plan(&database, &wider).await.is_empty(), "{engine}");
        execute(
            &database,
            "INSERT INTO items (id, name, note) VALUES (5, 'fig', 'new column')",
        )
        .await;
        let images = query_texts(
            &database,
            &format!(
                "SELECT {} FROM _fox_changes WHERE new_row IS NOT NULL AND table_name = 'items' ORDER BY changed_at DESC LIMIT 1",
                as_text(engine, "new_row")
            ),
        )
        .await;
        let image: serde_json::Value =
            serde_json::from_str(images[0][0].as_deref().expect("an image")).expect("JSON");
        assert_eq!(image["note"], "new column", "{engine}: {image}");

        // Off: capture goes, in words; writes are no longer logged; the re-plan is empty.
        let off = tables(&items(
            false,
            "        - {name: note, type: text, nullable: true}\n",
        ));
        let words: Vec<String> = plan(&database, &off)
            .await
            .changes
            .iter()
            .map(|c| c.change.to_string())
            .collect();
        assert_eq!(
            words,
            ["stop capturing changes of items for real-time subscriptions (logged changes stay)"],
            "{engine}"
        );
        applied(apply(&database, &off, false).await);
        assert!(plan(&database, &off).await.is_empty(), "{engine}");
        assert!(
            !live_schema(&database)
                .await
                .table("items")
                .expect("items")
                .realtime
        );
        let count = format!("SELECT {} FROM _fox_changes", as_text(engine, "COUNT(*)"));
        let before = query_texts(&database, &count).await;
        execute(
            &database,
            "INSERT INTO items (id, name) VALUES (9, 'quiet')",
        )
        .await;
        let after = query_texts(&database, &count).await;
        assert_eq!(before, after, "{engine}: no capture after turning it off");
    }
}

#[tokio::test]
async fn fox_realtime_prune_deletes_changes_older_than_the_duration() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        applied(apply(&database, &tables(&items(true, "")), false).await);
        for id in 1..=3 {
            execute(
                &database,
                &format!("INSERT INTO items (id, name) VALUES ({id}, 'n')"),
            )
            .await;
        }
        assert_eq!(logged(&database).await.len(), 3, "{engine}: numbered");
        let url = database.url().to_string();
        let kept = super::support::fox(&[
            "realtime",
            "prune",
            "--older-than",
            "1d",
            "--database",
            &url,
        ]);
        assert_eq!(
            kept.status.code(),
            Some(0),
            "{engine}: {}",
            super::support::text(&kept.stderr)
        );
        assert!(
            super::support::text(&kept.stdout).contains(": 0 change(s)"),
            "{engine}"
        );
        assert_eq!(
            logged(&database).await.len(),
            3,
            "{engine}: a day's changes stay"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let pruned = super::support::fox(&[
            "realtime",
            "prune",
            "--older-than",
            "0s",
            "--database",
            &url,
        ]);
        assert_eq!(pruned.status.code(), Some(0), "{engine}");
        // SQLite keeps its newest change: the next position continues after its row id.
        let kept_newest = usize::from(engine == Backend::Sqlite);
        assert!(
            super::support::text(&pruned.stdout)
                .contains(&format!(": {} change(s)", 3 - kept_newest)),
            "{engine}: {}",
            super::support::text(&pruned.stdout)
        );
        assert_eq!(
            logged(&database).await.len(),
            kept_newest,
            "{engine}: pruned"
        );
        let refused =
            super::support::fox(&["realtime", "prune", "--older-than", "7", "--database", &url]);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{engine}: a duration without a unit is refused"
        );
        assert!(
            super::support::text(&refused.stderr).contains("s, m, h or d"),
            "{engine}"
        );
    }
}

/// `committed_at` of every change at or below `position` set two days back.
async fn age_changes(database: &TestDatabase, position: i64) {
    let two_days_ago = match database.engine() {
        Backend::Postgres => "now() - interval '2 days'",
        Backend::MySql => "UTC_TIMESTAMP(6) - INTERVAL 2 DAY",
        Backend::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-2 days')",
    };
    execute(
        database,
        &format!(
            "UPDATE _fox_changes SET committed_at = {two_days_ago} WHERE position <= {position}"
        ),
    )
    .await;
}

#[tokio::test]
async fn the_reconcile_prunes_by_realtime_retention_days_and_keeps_what_a_durable_subscriber_has_not_acknowledged()
 {
    use foxdb::realtime::Position;
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let schema = tables(&format!(
            "{}      realtimeRetentionDays: 1\n",
            items(true, "")
        ));
        applied(apply(&database, &schema, false).await);
        for id in 1..=4 {
            execute(
                &database,
                &format!("INSERT INTO items (id, name) VALUES ({id}, 'n')"),
            )
            .await;
        }
        assert_eq!(logged(&database).await.len(), 4, "{engine}: numbered");
        let positions: Vec<i64> = logged(&database)
            .await
            .iter()
            .filter_map(|r| r[0].as_deref()?.trim().parse().ok())
            .collect();
        // A durable subscriber that handled the first change only.
        let db = foxdb::Database::connect(database.url())
            .await
            .expect("connects");
        let mut subscription = db.subscribe::<Item>().durable("indexer").from(Position(0));
        use futures_util::StreamExt;
        let first = tokio::time::timeout(std::time::Duration::from_secs(10), subscription.next())
            .await
            .expect("a change")
            .expect("the stream goes on")
            .expect("a change, not an error");
        subscription
            .acknowledge(first.position)
            .await
            .expect("acknowledges");
        drop(subscription);
        // Three of the four changes are older than the retention; one was acknowledged.
        age_changes(&database, positions[2]).await;
        let url = super::support::url(&database);
        let pruned = fox_operator::engine::prune_expired_changes(&url, &schema.spec)
            .await
            .expect("prunes");
        assert_eq!(
            pruned,
            [("items".to_string(), 1)],
            "{engine}: only the acknowledged one"
        );
        assert_eq!(logged(&database).await.len(), 3, "{engine}");
        // `fox realtime subscribers` shows what pruning waits for.
        let database_url = database.url().to_string();
        let listed = super::support::fox(&["realtime", "subscribers", "--database", &database_url]);
        assert_eq!(listed.status.code(), Some(0), "{engine}");
        assert!(
            super::support::text(&listed.stdout)
                .contains(&format!("indexer\tacknowledged {}", first.position)),
            "{engine}: {}",
            super::support::text(&listed.stdout)
        );
        let unknown = super::support::fox(&[
            "realtime",
            "subscribers",
            "--remove",
            "nobody",
            "--database",
            &database_url,
        ]);
        assert_eq!(unknown.status.code(), Some(1), "{engine}");
        // Once the subscriber moves on (or is removed), the expired ones go.
        foxdb::realtime::acknowledge(&db, "indexer", Position(positions[1]))
            .await
            .expect("acknowledges");
        let pruned = fox_operator::engine::prune_expired_changes(&url, &schema.spec)
            .await
            .expect("prunes");
        assert_eq!(pruned, [("items".to_string(), 1)], "{engine}");
        assert!(
            foxdb::realtime::remove_durable_subscriber(&db, "indexer")
                .await
                .expect("removes")
        );
        let pruned = fox_operator::engine::prune_expired_changes(&url, &schema.spec)
            .await
            .expect("prunes");
        assert_eq!(
            pruned,
            [("items".to_string(), 1)],
            "{engine}: the third expired change"
        );
        assert_eq!(
            logged(&database).await.len(),
            1,
            "{engine}: the recent change stays"
        );
        db.close().await;
    }
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "items")]
struct Item {
    #[foxdb(primary_key)]
    id: i32,
    name: String,
    data: Option<Vec<u8>>,
}

#[test]
fn a_retention_without_realtime_is_refused() {
    let yaml = format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  tables:\n{}      realtimeRetentionDays: 7\n",
        items(false, "")
    );
    let mut set = fox_crds::manifest::ManifestSet::default();
    fox_crds::manifest::parse_manifests("test.yaml".as_ref(), &yaml, &mut set);
    let problems = format!("{:?}", set.problems);
    assert!(
        problems.contains("realtimeRetentionDays") && problems.contains("realtime: true"),
        "{problems}"
    );
}
