//! Bad objects do not stall a controller: the controllers run with their real watches against
//! the scripted API server, next to the two objects of the review that used to fail the
//! watch's list for their whole kind; a watch the API server refuses turns `/readyz` unready.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use fox_crds::{FoxReplicaSet, FoxSchema};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::controller::conditions::find_condition;
use fox_operator::controller::manager::run_controllers;
use fox_operator::telemetry::server::Health;
use serde_json::Value;

use crate::api_server::ApiServer;
use crate::fixtures::*;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/stalling/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut object: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    object["metadata"]["namespace"] = NAMESPACE.into();
    object
}

fn condition_of(
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
    type_: &str,
) -> Option<(String, String, String)> {
    find_condition(conditions, type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// The raw status of a stored object (the bad one does not deserialize into its type).
fn raw_conditions(
    api: &ApiServer,
    plural: &str,
    name: &str,
) -> Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition> {
    api.raw("foxdb.dev", plural, NAMESPACE, name)
        .and_then(|o| serde_json::from_value(o["status"]["conditions"].clone()).ok())
        .unwrap_or_default()
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting until {what}");
}

fn spawn_controllers(api: &ApiServer, health: &Arc<Health>) -> tokio::task::JoinHandle<()> {
    let controllers: std::pin::Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(
        run_controllers(api.client.clone(), None, context(api), health.clone()),
    );
    tokio::spawn(controllers)
}

#[tokio::test]
async fn the_reviews_stalling_objects_are_reported_and_the_rest_go_on() {
    let db = TestDatabase::create(Backend::Postgres).await;
    let api = ApiServer::start();
    let health = Arc::new(Health::default());
    health.set_ready(true);
    api.insert(&fixture("replicaset-interval-beyond-u32.yaml"));
    database(&api, "settings-db", Backend::Postgres, db.url());
    api.insert(&fixture("schema-json-seed-object.yaml"));
    let controllers = spawn_controllers(&api, &health);

    // The FoxReplicaSet the operator cannot read is reported on itself...
    eventually("the unreadable FoxReplicaSet is reported", || {
        condition_of(
            &raw_conditions(&api, "foxreplicasets", "interval-beyond-u32"),
            "Ready",
        )
        .is_some()
    })
    .await;
    let conditions = raw_conditions(&api, "foxreplicasets", "interval-beyond-u32");
    let (status, reason, message) = condition_of(&conditions, "Ready").unwrap();
    assert_eq!((status.as_str(), reason.as_str()), ("False", "InvalidSpec"));
    assert!(
        message.contains("4294967296")
            || message.contains("healthCheckIntervalSeconds")
            || message.contains("u32"),
        "{message}"
    );
    assert_eq!(condition_of(&conditions, "Stalled").unwrap().0, "True");
    eventually("a Warning Event says InvalidSpec", || {
        api.events(NAMESPACE)
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "InvalidSpec")
    })
    .await;

    // ...while the other FoxReplicaSet and the FoxSchema with an object as a json seed value
    // are reconciled: the seed row is in the database.
    eventually("the readable FoxReplicaSet is checked", || {
        api.get::<FoxReplicaSet>(NAMESPACE, "settings-db")
            .and_then(|rs| rs.status)
            .and_then(|s| find_condition(&s.conditions, "Ready").map(|c| c.status == "True"))
            .unwrap_or(false)
    })
    .await;
    eventually("the FoxSchema is applied", || {
        api.get::<FoxSchema>(NAMESPACE, "settings")
            .and_then(|s| s.status)
            .and_then(|s| find_condition(&s.conditions, "Ready").map(|c| c.status == "True"))
            .unwrap_or(false)
    })
    .await;
    let live = foxdb::Database::connect(db.url()).await.unwrap();
    let rows = live
        .fetch_all("SELECT body::text FROM settings WHERE id = 1", &[])
        .await
        .unwrap();
    live.close().await;
    let body: String = rows[0].get_at(0).unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body, serde_json::json!({"theme": "dark", "sizes": [1, 2]}));

    assert!(
        health.failing_watches().is_empty(),
        "{:?}",
        health.failing_watches()
    );
    assert!(health.is_ready());
    controllers.abort();
}

#[tokio::test]
async fn a_refused_watch_is_logged_at_warn_and_makes_readyz_unready_until_it_recovers() {
    let (logs, _guard) = LogCapture::start();
    let api = ApiServer::start();
    let health = Arc::new(Health::default());
    health.set_ready(true);
    api.refuse("foxmigrations", true);
    let controllers = spawn_controllers(&api, &health);

    eventually("the refused watch is recorded", || {
        health
            .failing_watches()
            .contains(&"FoxMigration".to_string())
    })
    .await;
    assert!(
        !health.is_ready(),
        "/readyz must be 503 while a watch fails"
    );
    let text = logs.text();
    assert!(
        text.lines().any(|l| l.contains("\"level\":\"WARN\"")
            && l.contains("watch failed")
            && l.contains("FoxMigration")),
        "{text}"
    );

    api.refuse("foxmigrations", false);
    eventually("the watch recovers", || health.failing_watches().is_empty()).await;
    assert!(health.is_ready());
    controllers.abort();
}
