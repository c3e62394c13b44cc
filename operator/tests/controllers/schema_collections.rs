//! FoxSchema of MongoDB collections through the controller, against nx-27017 (or the mongod
//! of FOX_TEST_MONGO_URL): applied and Ready, in sync on the next pass, destructive changes
//! blocked, a SQL FoxReplicaSet refused.

use fox_crds::schema::SchemaPhase;
use fox_crds::{Engine, FoxSchema};
use fox_operator::controller::conditions::find_condition;
use foxdb::document_store::bson::doc;
use foxdb::document_store::{DocumentStore, DocumentStoreUrl};

use crate::api_server::ApiServer;
use crate::fixtures::*;

const SCHEMA: &str = r#"apiVersion: foxdb.dev/v1alpha1
kind: FoxSchema
metadata: {name: blog-mongo}
spec:
  databaseRef: {name: blog-mongo}
  collections:
    - name: users
      validator:
        $jsonSchema:
          bsonType: object
          required: [email]
          properties:
            email: {bsonType: string}
      indexes:
        - keys: [{field: email}]
          unique: true
    - name: posts
"#;

async fn test_store(test: &str) -> DocumentStore {
    let server = std::env::var("FOX_TEST_MONGO_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "mongodb://127.0.0.1:27017/admin".into());
    let url = DocumentStoreUrl::parse(&server)
        .unwrap()
        .with_database(&format!("fox_ctl_{test}_{}", std::process::id()));
    let store = DocumentStore::connect(&url).await.unwrap();
    store.drop_database().await.unwrap();
    store
}

fn ready(schema: &FoxSchema) -> (String, String, String) {
    let status = schema.status.as_ref().expect("status written");
    let c = find_condition(&status.conditions, "Ready").expect("a Ready condition");
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

#[tokio::test]
async fn collections_are_applied_then_in_sync_and_a_dropped_collection_is_blocked() {
    let store = test_store("apply").await;
    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&secret("blog-mongo-primary", store.url().expose()));
    api.insert(&replicaset(
        "blog-mongo",
        Engine::Mongodb,
        "blog-mongo-primary",
    ));
    let mut schema: FoxSchema = serde_yaml_ng::from_str(SCHEMA).unwrap();
    schema.metadata.namespace = Some(NAMESPACE.into());
    api.insert(&schema);

    reconcile_schema(&api, &context, "blog-mongo")
        .await
        .unwrap();
    let applied: FoxSchema = api.get(NAMESPACE, "blog-mongo").unwrap();
    let status = applied.status.clone().unwrap();
    assert_eq!(status.phase, Some(SchemaPhase::Applied));
    assert_eq!(status.applied_generation, Some(1));
    let (ready_status, reason, message) = ready(&applied);
    assert_eq!(
        (ready_status.as_str(), reason.as_str()),
        ("True", "Applied"),
        "{message}"
    );
    assert!(message.contains("3 changes, 3 commands"), "{message}");
    let names: Vec<String> = store
        .run_cursor_command(doc! {"listCollections": 1})
        .await
        .unwrap()
        .iter()
        .filter_map(|c| c.get_str("name").ok().map(str::to_string))
        .collect();
    assert!(
        names.contains(&"users".to_string()) && names.contains(&"posts".to_string()),
        "{names:?}"
    );

    reconcile_schema(&api, &context, "blog-mongo")
        .await
        .unwrap();
    let again: FoxSchema = api.get(NAMESPACE, "blog-mongo").unwrap();
    assert_eq!(
        again.status.as_ref().unwrap().phase,
        Some(SchemaPhase::Applied)
    );
    assert_eq!(ready(&again).0, "True");

    api.edit::<FoxSchema>(NAMESPACE, "blog-mongo", |s| {
        s.spec.collections.retain(|c| c.name != "posts");
    });
    reconcile_schema(&api, &context, "blog-mongo")
        .await
        .unwrap();
    let blocked: FoxSchema = api.get(NAMESPACE, "blog-mongo").unwrap();
    let status = blocked.status.clone().unwrap();
    assert_eq!(status.phase, Some(SchemaPhase::Blocked));
    let (ready_status, reason, message) = ready(&blocked);
    assert_eq!(
        (ready_status.as_str(), reason.as_str()),
        ("False", "DestructiveChange")
    );
    assert!(message.contains("drop collection posts"), "{message}");
    assert_eq!(status.plan.unwrap().changes, ["- drop collection posts"]);
    store.drop_database().await.unwrap();
}

#[tokio::test]
async fn collections_on_a_sql_replica_set_are_refused_as_unsupported() {
    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&secret("blog-db-primary", "sqlite::memory:"));
    api.insert(&replicaset("blog-mongo", Engine::Sqlite, "blog-db-primary"));
    let mut schema: FoxSchema = serde_yaml_ng::from_str(SCHEMA).unwrap();
    schema.metadata.namespace = Some(NAMESPACE.into());
    api.insert(&schema);
    let error = reconcile_schema(&api, &context, "blog-mongo")
        .await
        .expect_err("SQLite holds no collections");
    assert!(
        error
            .to_string()
            .contains("a FoxSchema of collections needs a MongoDB FoxReplicaSet"),
        "{error}"
    );
    let refused: FoxSchema = api.get(NAMESPACE, "blog-mongo").unwrap();
    assert_eq!(ready(&refused).1, "Unsupported");
}
