//! FoxReplicaSet on MongoDB: member health and lag from `replSetGetStatus`, the same status,
//! conditions, Services, routing ConfigMap and metrics as the SQL engines.
//!
//! What runs where: nx-27017 (127.0.0.1:27017, no replica set) shows the standalone path for
//! real; a real replica set is exercised when `FOX_TEST_MONGO_URL` names a member of one
//! (skipped with a printed reason otherwise). Lag arithmetic on replica set replies is unit
//! tested in `foxdb::replication::mongodb` with replies shaped as MongoDB documents them.

use fox_crds::{Engine, FoxReplicaSet, PublishedRouting};
use fox_operator::controller::conditions::find_condition;
use foxdb::document_store::{DocumentStore, DocumentStoreUrl};
use foxdb::replication::mongodb::ServerTopology;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;

use crate::api_server::ApiServer;
use crate::fixtures::*;

fn condition(replicaset: &FoxReplicaSet, type_: &str) -> (String, String, String) {
    let status = replicaset.status.as_ref().expect("status");
    let c = find_condition(&status.conditions, type_).unwrap_or_else(|| panic!("no {type_}"));
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

fn routing(api: &ApiServer, name: &str) -> PublishedRouting {
    let config_map: ConfigMap = api
        .get(NAMESPACE, &format!("{name}-routing"))
        .expect("routing ConfigMap");
    serde_json::from_str(&config_map.data.unwrap()["routing.json"]).unwrap()
}

/// The nx-27017 server (or FOX_TEST_MONGO_URL's) with database `fox_rs`.
fn server_url() -> String {
    let base = fox_e2e::mongo_url();
    let (address, options) = base
        .split_once('?')
        .map_or((base.as_str(), None), |(a, o)| (a, Some(o)));
    let (scheme, rest) = address.split_once("://").unwrap();
    let hosts = rest.split('/').next().unwrap_or(rest);
    match options {
        Some(options) => format!("{scheme}://{hosts}/fox_rs?{options}"),
        None => format!("{scheme}://{hosts}/fox_rs"),
    }
}

async fn is_standalone(url: &str) -> bool {
    let store = DocumentStore::connect(&DocumentStoreUrl::parse(url).unwrap())
        .await
        .unwrap();
    matches!(
        store.server_topology().await.unwrap(),
        ServerTopology::Standalone
    )
}

#[tokio::test]
async fn a_standalone_server_is_a_healthy_primary_published_without_lag() {
    let url = server_url();
    if !is_standalone(&url).await {
        eprintln!("skipped: the test server is a replica set member, not a standalone server");
        return;
    }
    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&secret("notes-primary", &url));
    api.insert(&replicaset("notes", Engine::Mongodb, "notes-primary"));

    reconcile_replicaset(&api, &context, "notes").await.unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "notes").unwrap();
    let status = replicaset.status.clone().unwrap();
    assert_eq!(status.members.len(), 1);
    let primary = &status.members[0];
    assert!(primary.healthy, "{:?}", primary.message);
    assert_eq!(primary.lag_seconds, None);
    assert!(
        primary
            .message
            .as_deref()
            .is_some_and(|m| m.contains("standalone") && m.contains("lag cannot be measured")),
        "{primary:?}"
    );
    assert_eq!(condition(&replicaset, "Ready").0, "True");
    assert_eq!(condition(&replicaset, "PrimaryHealthy").0, "True");
    let (replicas, reason, message) = condition(&replicaset, "ReplicasHealthy");
    assert_eq!((replicas.as_str(), reason.as_str()), ("True", "NoReplicas"));
    assert!(message.contains("no lag to measure"), "{message}");
    let table = status.routing.unwrap();
    assert_eq!(table.primary.as_deref(), Some("primary"));
    assert_eq!(table.readers, vec!["primary".to_string()]);

    let rw: Service = api.get(NAMESPACE, "notes-rw").expect("-rw Service");
    assert_eq!(rw.spec.unwrap().ports.unwrap()[0].port, 27017);
    let slice: EndpointSlice = api.get(NAMESPACE, "notes-rw").expect("EndpointSlice");
    assert_eq!(slice.endpoints[0].addresses, vec!["127.0.0.1".to_string()]);
    let published = routing(&api, "notes");
    assert_eq!(published.engine, Engine::Mongodb);
    let primary = published.primary.unwrap();
    assert_eq!((primary.host.as_str(), primary.port), ("127.0.0.1", 27017));

    let metrics = context.metrics.render();
    assert!(
        metrics.contains("fox_member_healthy{member=\"primary\",namespace=\"shop\",replicaset=\"notes\",role=\"primary\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("fox_pool_connections{member=\"primary\",namespace=\"shop\",replicaset=\"notes\",state=\"open\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn replicas_declared_for_a_standalone_server_are_a_clear_error() {
    let url = server_url();
    if !is_standalone(&url).await {
        eprintln!("skipped: the test server is a replica set member, not a standalone server");
        return;
    }
    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&secret("notes-primary", &url));
    api.insert(&secret("notes-replica", &url));
    let mut rs = replicaset("notes", Engine::Mongodb, "notes-primary");
    rs.spec.replicas = vec![member("replica", "notes-replica")];
    api.insert(&rs);

    reconcile_replicaset(&api, &context, "notes").await.unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "notes").unwrap();
    let (status, reason, message) = condition(&replicaset, "ReplicasHealthy");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "StandaloneServer")
    );
    assert!(
        message.contains("standalone server without replication")
            && message.contains("remove spec.replicas"),
        "{message}"
    );
    let members = replicaset.status.clone().unwrap().members;
    assert!(members[0].healthy);
    assert!(!members[1].healthy);
    assert!(
        members[1]
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("declared replica but the server is a standalone")),
        "{:?}",
        members[1]
    );
    assert_eq!(
        replicaset.status.unwrap().routing.unwrap().readers,
        vec!["primary".to_string()],
        "replicaPreferred reads from the primary"
    );
}

#[tokio::test]
async fn an_unreachable_mongodb_member_is_reported_without_its_password() {
    let api = ApiServer::start();
    let context = context(&api);
    // Nothing listens on port 9 of the loopback.
    api.insert(&secret(
        "notes-primary",
        &format!(
            "mongodb://fox:{DISTINCTIVE_PASSWORD}@127.0.0.1:9/notes?serverSelectionTimeoutMS=300"
        ),
    ));
    let mut rs = replicaset("notes", Engine::Mongodb, "notes-primary");
    rs.spec.pool.retries = 0;
    api.insert(&rs);

    reconcile_replicaset(&api, &context, "notes").await.unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "notes").unwrap();
    let member = &replicaset.status.clone().unwrap().members[0];
    assert!(!member.healthy);
    assert!(
        member
            .message
            .as_deref()
            .is_some_and(|m| m.contains("127.0.0.1:9")),
        "{member:?}"
    );
    assert_eq!(
        condition(&replicaset, "Ready").0,
        "Unknown",
        "no member answers"
    );
    for request in api.requests() {
        assert!(!request.body.contains(DISTINCTIVE_PASSWORD), "{request:?}");
    }
    assert!(!context.metrics.render().contains(DISTINCTIVE_PASSWORD));
}

#[tokio::test]
async fn tls_keys_beside_a_mongodb_url_are_refused_by_name() {
    let api = ApiServer::start();
    let context = context(&api);
    let mut with_ca = secret("notes-primary", &server_url());
    with_ca.data.as_mut().unwrap().insert(
        "ca.crt".into(),
        k8s_openapi::ByteString(b"-----BEGIN CERTIFICATE-----".to_vec()),
    );
    api.insert(&with_ca);
    api.insert(&replicaset("notes", Engine::Mongodb, "notes-primary"));
    reconcile_replicaset(&api, &context, "notes").await.unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "notes").unwrap();
    let member = &replicaset.status.unwrap().members[0];
    assert!(!member.healthy);
    assert!(
        member
            .message
            .as_deref()
            .is_some_and(|m| m.contains("ca.crt") && m.contains("in the mongodb:// URL")),
        "{member:?}"
    );
}

/// Against a real replica set (`FOX_TEST_MONGO_URL` naming one of its members): the primary
/// and a secondary declared as members are healthy, the secondary with a measured lag.
#[tokio::test]
async fn a_real_replica_set_reports_its_secondaries_lag() {
    let Ok(base) = std::env::var("FOX_TEST_MONGO_URL") else {
        eprintln!("skipped: FOX_TEST_MONGO_URL is not set (nx-27017 is no replica set)");
        return;
    };
    let url = DocumentStoreUrl::parse(&server_url()).unwrap();
    let store = DocumentStore::connect(&url).await.unwrap();
    let ServerTopology::ReplicaSet(set) = store.server_topology().await.unwrap() else {
        eprintln!(
            "skipped: {} is a standalone server, not a replica set",
            url.location()
        );
        return;
    };
    let (Some(primary), Some(secondary)) = (
        set.members.iter().find(|m| m.is_primary()),
        set.members.iter().find(|m| m.is_secondary()),
    ) else {
        eprintln!(
            "skipped: replica set {} has no primary and secondary now",
            set.set
        );
        return;
    };
    // The member URLs: FOX_TEST_MONGO_URL's credentials, one host each.
    let member_url = |host: &str| {
        let (scheme, rest) = base.split_once("://").unwrap();
        let at = rest.rfind('@').map_or(0, |at| at + 1);
        format!("{scheme}://{}{host}/fox_rs", &rest[..at])
    };
    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&secret("set-primary", &member_url(&primary.name)));
    api.insert(&secret("set-replica", &member_url(&secondary.name)));
    let mut rs = replicaset("set", Engine::Mongodb, "set-primary");
    rs.spec.replicas = vec![member("replica", "set-replica")];
    rs.spec.routing.max_replica_lag_seconds = 60;
    api.insert(&rs);

    reconcile_replicaset(&api, &context, "set").await.unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "set").unwrap();
    let members = replicaset.status.clone().unwrap().members;
    assert!(members[0].healthy, "{:?}", members[0]);
    assert!(members[1].healthy, "{:?}", members[1]);
    assert!(members[1].lag_seconds.is_some(), "{:?}", members[1]);
    assert_eq!(condition(&replicaset, "ReplicasHealthy").0, "True");
    assert_eq!(
        replicaset.status.unwrap().routing.unwrap().readers,
        vec!["replica".to_string()]
    );
    assert!(
        context
            .metrics
            .render()
            .contains("fox_replica_lag_seconds{member=\"replica\"")
    );
}
