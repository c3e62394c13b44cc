//! FoxMigration of MongoDB (`upCommands`/`downCommands`) through the controller, against
//! nx-27017 (or the mongod of FOX_TEST_MONGO_URL): version order, exactly once, `rollbackTo`
//! running `downCommands`, a changed or failed migration reported, a SQL FoxReplicaSet refused.

use fox_crds::migration::MigrationPhase;
use fox_crds::{Engine, FoxMigration, FoxReplicaSet};
use fox_operator::controller::conditions::find_condition;
use foxdb::document_store::bson::doc;
use foxdb::document_store::{DocumentStore, DocumentStoreUrl};
use serde_json::{Value, json};

use crate::api_server::ApiServer;
use crate::fixtures::*;

const DB: &str = "notes-mongo";

async fn test_store(test: &str) -> DocumentStore {
    let server = std::env::var("FOX_TEST_MONGO_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "mongodb://127.0.0.1:27017/admin".into());
    let url = DocumentStoreUrl::parse(&server)
        .unwrap()
        .with_database(&format!("fox_ctl_migrate_{test}_{}", std::process::id()));
    let store = DocumentStore::connect(&url).await.unwrap();
    store.drop_database().await.unwrap();
    store
}

fn commands(value: Value) -> Vec<fox_crds::mongo_command::MongoCommand> {
    serde_json::from_value(value).unwrap()
}

/// A FoxMigration of `DB` running `up` (and `down`), both JSON arrays of commands.
fn command_migration(version: u64, up: Value, down: Option<Value>) -> FoxMigration {
    let mut migration = migration(DB, version, "", None);
    migration.spec.up = None;
    migration.spec.up_commands = Some(commands(up));
    migration.spec.down_commands = down.map(commands);
    migration
}

fn steps() -> Vec<FoxMigration> {
    vec![
        command_migration(
            1,
            json!([{"create": "notes"}]),
            Some(json!([{"drop": "notes"}])),
        ),
        command_migration(
            2,
            json!([{"insert": "notes", "documents": [{"_id": 1, "text": "first"}]}]),
            Some(json!([{"delete": "notes", "deletes": [{"q": {"_id": 1}, "limit": 1}]}])),
        ),
        command_migration(
            3,
            json!([{"create": "audit"}]),
            Some(json!([{"drop": "audit"}])),
        ),
    ]
}

fn start(api: &ApiServer, store: &DocumentStore) {
    api.insert(&secret(&format!("{DB}-primary"), store.url().expose()));
    api.insert(&replicaset(DB, Engine::Mongodb, &format!("{DB}-primary")));
}

async fn collections(store: &DocumentStore) -> Vec<String> {
    let mut names: Vec<String> = store
        .run_cursor_command(doc! {"listCollections": 1})
        .await
        .unwrap()
        .iter()
        .filter_map(|c| c.get_str("name").ok().map(str::to_string))
        .filter(|n| !n.starts_with("_fox"))
        .collect();
    names.sort();
    names
}

async fn notes(store: &DocumentStore) -> usize {
    store
        .run_cursor_command(doc! {"find": "notes", "filter": {}})
        .await
        .unwrap()
        .len()
}

fn status(api: &ApiServer, version: u64) -> fox_crds::FoxMigrationStatus {
    let migration: FoxMigration = api.get(NAMESPACE, &format!("{DB}-{version:04}")).unwrap();
    migration.status.expect("status written")
}

fn condition(api: &ApiServer, version: u64, kind: &str) -> (String, String, String) {
    let status = status(api, version);
    let c = find_condition(&status.conditions, kind).expect("the condition");
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

#[tokio::test]
async fn command_migrations_apply_in_order_exactly_once_and_roll_back_with_rollback_to() {
    let store = test_store("order").await;
    let api = ApiServer::start();
    let context = context(&api);
    start(&api, &store);
    for migration in steps() {
        api.insert(&migration);
    }
    // The newest is reconciled first: the older ones still run first, in order.
    reconcile_migration(&api, &context, "notes-mongo-0003")
        .await
        .unwrap();
    assert_eq!(collections(&store).await, ["audit", "notes"]);
    assert_eq!(notes(&store).await, 1, "v2 ran after v1");
    // Again, and the others: nothing runs twice (v2's insert would fail on its _id).
    for name in ["notes-mongo-0002", "notes-mongo-0001", "notes-mongo-0003"] {
        reconcile_migration(&api, &context, name).await.unwrap();
    }
    assert_eq!(notes(&store).await, 1);
    for version in 1..=3 {
        assert_eq!(status(&api, version).phase, Some(MigrationPhase::Applied));
    }
    let applied = status(&api, 2);
    assert_eq!(applied.checksum.as_deref().map(str::len), Some(64));
    assert!(applied.applied_at.is_some() && applied.duration_ms.is_some());
    let (ready, reason, _) = condition(&api, 2, "Ready");
    assert_eq!((ready.as_str(), reason.as_str()), ("True", "Applied"));
    let metrics = context.metrics.render();
    assert!(
        metrics.contains(
            "fox_migrations_total{direction=\"up\",namespace=\"shop\",replicaset=\"notes-mongo\"} 3"
        ),
        "{metrics}"
    );
    let events = api.events(NAMESPACE);
    assert_eq!(
        events.iter().filter(|(_, r, _)| r == "Applied").count(),
        3,
        "{events:?}"
    );

    // rollbackTo=1: downCommands of 3, then 2, run once.
    api.edit::<FoxReplicaSet>(NAMESPACE, DB, |rs| rs.spec.rollback_to = Some(1));
    reconcile_migration(&api, &context, "notes-mongo-0002")
        .await
        .unwrap();
    reconcile_migration(&api, &context, "notes-mongo-0003")
        .await
        .unwrap();
    assert_eq!(collections(&store).await, ["notes"], "v3 down ran");
    assert_eq!(notes(&store).await, 0, "v2 down ran");
    for version in [2, 3] {
        assert_eq!(
            status(&api, version).phase,
            Some(MigrationPhase::RolledBack)
        );
        let (ready, reason, message) = condition(&api, version, "Ready");
        assert_eq!((ready.as_str(), reason.as_str()), ("True", "RolledBack"));
        assert!(message.contains("spec.rollbackTo=1"), "{message}");
    }
    reconcile_migration(&api, &context, "notes-mongo-0001")
        .await
        .unwrap();
    assert_eq!(status(&api, 1).phase, Some(MigrationPhase::Applied));
    let events = api.events(NAMESPACE);
    assert_eq!(
        events.iter().filter(|(_, r, _)| r == "RolledBack").count(),
        2,
        "{events:?}"
    );

    // Lifted: applied again.
    api.edit::<FoxReplicaSet>(NAMESPACE, DB, |rs| rs.spec.rollback_to = None);
    reconcile_migration(&api, &context, "notes-mongo-0003")
        .await
        .unwrap();
    assert_eq!(status(&api, 3).phase, Some(MigrationPhase::Applied));
    assert_eq!(collections(&store).await, ["audit", "notes"]);
    assert_eq!(notes(&store).await, 1);
    store.drop_database().await.unwrap();
}

#[tokio::test]
async fn a_changed_command_migration_is_reported_and_never_rerun() {
    let store = test_store("changed").await;
    let api = ApiServer::start();
    let context = context(&api);
    start(&api, &store);
    for migration in steps() {
        api.insert(&migration);
    }
    reconcile_migration(&api, &context, "notes-mongo-0003")
        .await
        .unwrap();
    api.edit::<FoxMigration>(NAMESPACE, "notes-mongo-0002", |m| {
        m.spec.up_commands = Some(commands(
            json!([{"insert": "notes", "documents": [{"_id": 2, "text": "edited"}]}]),
        ));
    });
    let error = reconcile_migration(&api, &context, "notes-mongo-0002")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("checksum differs"), "{error}");
    assert_eq!(status(&api, 2).phase, Some(MigrationPhase::Failed));
    let (failed, reason, message) = condition(&api, 2, "Failed");
    assert_eq!(
        (failed.as_str(), reason.as_str()),
        ("True", "MigrationFailed")
    );
    assert!(message.contains("migration 2 (step 2)"), "{message}");
    assert_eq!(notes(&store).await, 1, "never re-run");
    store.drop_database().await.unwrap();
}

#[tokio::test]
async fn a_failing_command_leaves_its_version_dirty_and_later_versions_wait() {
    let store = test_store("dirty").await;
    let api = ApiServer::start();
    let context = context(&api);
    start(&api, &store);
    api.insert(&command_migration(1, json!([{"create": "notes"}]), None));
    api.insert(&command_migration(
        2,
        json!([
            {"insert": "notes", "documents": [{"_id": 1, "text": "kept"}]},
            // Fails on mongod and nx-27017 alike (no `to`; mongod: only on admin).
            {"renameCollection": "elsewhere.notes"}
        ]),
        None,
    ));
    api.insert(&command_migration(3, json!([{"create": "later"}]), None));
    let error = reconcile_migration(&api, &context, "notes-mongo-0003")
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("migration 2 (step 2) failed at upCommands[1]"),
        "{error}"
    );
    assert_eq!(status(&api, 3).phase, Some(MigrationPhase::Pending));
    // The failed version itself: Failed, and on the next pass reported dirty, not re-run.
    reconcile_migration(&api, &context, "notes-mongo-0002")
        .await
        .unwrap_err();
    assert_eq!(status(&api, 2).phase, Some(MigrationPhase::Failed));
    let (failed, _, message) = condition(&api, 2, "Failed");
    assert_eq!(failed, "True");
    assert!(message.contains("dirty"), "{message}");
    assert_eq!(
        notes(&store).await,
        1,
        "the command before the failing one stays"
    );
    assert_eq!(collections(&store).await, ["notes"], "version 3 waits");
    // As for SQL, a dirty version stops every run of the database until it is resolved by hand.
    let error = reconcile_migration(&api, &context, "notes-mongo-0001")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("nothing was run"), "{error}");
    assert_eq!(notes(&store).await, 1, "nothing ran again");
    let events = api.events(NAMESPACE);
    assert!(
        events.iter().any(|(_, r, _)| r == "MigrationFailed"),
        "{events:?}"
    );
    store.drop_database().await.unwrap();
}

#[tokio::test]
async fn command_migrations_on_a_sql_replica_set_are_refused_as_unsupported() {
    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&secret(&format!("{DB}-primary"), "sqlite::memory:"));
    api.insert(&replicaset(DB, Engine::Sqlite, &format!("{DB}-primary")));
    api.insert(&command_migration(1, json!([{"create": "notes"}]), None));
    let error = reconcile_migration(&api, &context, "notes-mongo-0001")
        .await
        .expect_err("SQLite runs no MongoDB commands");
    assert!(
        error
            .to_string()
            .contains("spec.upCommands needs a MongoDB FoxReplicaSet"),
        "{error}"
    );
    assert_eq!(condition(&api, 1, "Ready").1, "Unsupported");
}

#[tokio::test]
async fn a_command_written_as_json_text_keeps_its_key_order_through_the_api_server() {
    let store = test_store("keyorder").await;
    let api = ApiServer::start();
    let context = context(&api);
    start(&api, &store);
    // A mapping would reach the controller with its keys sorted; the string keeps `b` first.
    api.insert(&command_migration(
        1,
        json!([
            {"create": "posts"},
            r#"{"createIndexes": "posts", "indexes": [{"key": {"b": 1, "a": -1}, "name": "b_1_a_-1"}]}"#
        ]),
        Some(json!([{"dropIndexes": "posts", "index": "b_1_a_-1"}])),
    ));
    reconcile_migration(&api, &context, "notes-mongo-0001")
        .await
        .unwrap();
    assert_eq!(status(&api, 1).phase, Some(MigrationPhase::Applied));
    let indexes = store
        .run_cursor_command(doc! {"listIndexes": "posts"})
        .await
        .unwrap();
    let key: Vec<String> = indexes
        .iter()
        // nx-27017 names indexes itself (`idx_posts_b_a`); the key is what matters.
        .find(|index| index.get_str("name").ok() != Some("_id_"))
        .and_then(|index| index.get_document("key").ok())
        .map(|key| key.keys().cloned().collect())
        .unwrap_or_else(|| panic!("no index on posts but _id_: {indexes:?}"));
    assert_eq!(key, ["b", "a"]);
    store.drop_database().await.unwrap();
}
