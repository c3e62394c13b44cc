//! FoxReplicaSet: member health, lag-based routing, published Services/EndpointSlices/ConfigMap,
//! and no credentials anywhere.

use std::time::{Duration, Instant};

use fox_crds::replica_set::ReadPreference;
use fox_crds::{Engine, FoxReplicaSet, PublishedRouting};
use fox_e2e::Backend;
use fox_e2e::replica::{MariaDbPair, PostgresPair};
use fox_operator::controller::conditions::find_condition;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::controller::Action;

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

fn slice_addresses(api: &ApiServer, service: &str) -> Vec<(String, i32)> {
    let slice: EndpointSlice = api.get(NAMESPACE, service).expect("EndpointSlice");
    let port = slice.ports.unwrap()[0].port.unwrap();
    slice
        .endpoints
        .iter()
        .flat_map(|e| e.addresses.clone())
        .map(|a| (a, port))
        .collect()
}

#[tokio::test]
async fn a_healthy_primary_is_published_with_services_and_routing() {
    for engine in [Backend::Postgres, Backend::MySql] {
        let api = ApiServer::start();
        let context = context(&api);
        let url = match engine {
            Backend::Postgres => fox_e2e::postgres_server_url(),
            _ => fox_e2e::mysql_server_url(),
        };
        database(&api, "orders", engine, &url);
        let action = reconcile_replicaset(&api, &context, "orders")
            .await
            .unwrap();
        assert_eq!(
            action,
            Action::requeue(Duration::from_secs(10)),
            "healthCheckIntervalSeconds"
        );
        let replicaset: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
        let status = replicaset.status.clone().unwrap();
        assert_eq!(status.members.len(), 1);
        assert!(
            status.members[0].healthy,
            "{engine}: {:?}",
            status.members[0].message
        );
        assert_eq!(
            status.routing.as_ref().unwrap().primary.as_deref(),
            Some("primary")
        );
        assert_eq!(
            status.routing.as_ref().unwrap().readers,
            vec!["primary".to_string()]
        );
        assert_eq!(condition(&replicaset, "Ready").0, "True");
        assert_eq!(condition(&replicaset, "ReplicasHealthy").1, "NoReplicas");

        let rw: Service = api.get(NAMESPACE, "orders-rw").expect("-rw Service");
        let port = if engine == Backend::Postgres {
            5432
        } else {
            3306
        };
        assert_eq!(
            rw.spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port,
            port
        );
        assert!(
            rw.spec.unwrap().selector.is_none(),
            "endpoints come from the EndpointSlice"
        );
        assert_eq!(rw.metadata.owner_references.unwrap()[0].name, "orders");
        assert!(api.get::<Service>(NAMESPACE, "orders-ro").is_some());
        assert_eq!(
            slice_addresses(&api, "orders-rw"),
            vec![("127.0.0.1".to_string(), port)]
        );
        assert_eq!(
            slice_addresses(&api, "orders-ro"),
            vec![("127.0.0.1".to_string(), port)]
        );
        let published = routing(&api, "orders");
        assert_eq!(published.primary.unwrap().host, "127.0.0.1");
        assert_eq!(published.readers.len(), 1);

        let metrics = context.metrics.render();
        assert!(metrics.contains("fox_member_healthy{member=\"primary\",namespace=\"shop\",replicaset=\"orders\",role=\"primary\"} 1"), "{metrics}");
        assert!(metrics.contains("fox_pool_connections{member=\"primary\",namespace=\"shop\",replicaset=\"orders\",state=\"open\"}"));
    }
}

#[tokio::test]
async fn a_primary_that_is_down_fails_ready_and_empties_the_write_service() {
    let (logs, _guard) = LogCapture::start();
    let api = ApiServer::start();
    let context = context(&api);
    let url = format!("postgres://app:{DISTINCTIVE_PASSWORD}@127.0.0.1:1/app");
    database(&api, "orders", Backend::Postgres, &url);
    api.insert(&secret("orders-replica", &fox_e2e::postgres_server_url()));
    api.edit::<FoxReplicaSet>(NAMESPACE, "orders", |rs| {
        rs.spec.pool.retries = 0;
        rs.spec.pool.acquire_timeout_seconds = 2;
        rs.spec.replicas = vec![member("replica", "orders-replica")];
    });
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    let (ready, reason, _) = condition(&replicaset, "Ready");
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("False", "PrimaryUnhealthy")
    );
    let (_, _, message) = condition(&replicaset, "PrimaryHealthy");
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert!(slice_addresses(&api, "orders-rw").is_empty());
    let events = api.events(NAMESPACE);
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "MemberUnhealthy"),
        "{events:?}"
    );
    assert_no_password(&api, &context);
    assert!(
        !logs.text().contains(DISTINCTIVE_PASSWORD),
        "password logged"
    );
}

#[tokio::test]
async fn when_no_member_answers_the_last_endpoints_are_kept_and_health_is_unknown() {
    let api = ApiServer::start();
    let context = context(&api);
    database(
        &api,
        "orders",
        Backend::Postgres,
        &fox_e2e::postgres_server_url(),
    );
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    assert_eq!(
        slice_addresses(&api, "orders-rw"),
        vec![("127.0.0.1".to_string(), 5432)]
    );
    let published = routing(&api, "orders");

    // The operator loses its way to every member (here: the Secret now names a dead port).
    api.insert(&secret("orders-primary", "postgres://app@127.0.0.1:1/app"));
    api.edit::<FoxReplicaSet>(NAMESPACE, "orders", |rs| {
        rs.spec.pool.retries = 0;
        rs.spec.pool.acquire_timeout_seconds = 1;
    });
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    let (ready, reason, message) = condition(&replicaset, "Ready");
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("Unknown", "MembersUnreachable")
    );
    assert!(
        message.contains("last published endpoints are kept"),
        "{message}"
    );
    assert_eq!(condition(&replicaset, "PrimaryHealthy").0, "Unknown");
    assert_eq!(condition(&replicaset, "Reconciling").0, "True");
    assert_eq!(
        slice_addresses(&api, "orders-rw"),
        vec![("127.0.0.1".to_string(), 5432)],
        "-rw is not emptied"
    );
    assert_eq!(routing(&api, "orders"), published, "the ConfigMap is kept");
    assert_eq!(
        replicaset
            .status
            .unwrap()
            .routing
            .unwrap()
            .primary
            .as_deref(),
        Some("primary")
    );
}

/// A read-only MariaDB server declared primary answered the probe: it is an unhealthy primary,
/// not a member the operator cannot reach, so the keep-last-endpoints rule does not apply.
#[tokio::test]
async fn a_read_only_primary_is_unhealthy_but_not_unreachable() {
    let pair = MariaDbPair::start().expect("MariaDB pair");
    let api = ApiServer::start();
    let context = context(&api);
    // The pair's replica runs with read_only=ON.
    api.insert(&secret("orders-primary", &pair.replica_url()));
    api.insert(&replicaset("orders", Engine::Mariadb, "orders-primary"));
    let _ = reconcile_replicaset(&api, &context, "orders").await;
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    let (_, reason, message) = condition(&replicaset, "Ready");
    assert_ne!(reason, "MembersUnreachable", "{message}");
    let (healthy, _, _) = condition(&replicaset, "PrimaryHealthy");
    assert_eq!(healthy, "False", "{:?}", replicaset.status);
    let member = &replicaset.status.as_ref().unwrap().members[0];
    assert!(
        member
            .message
            .as_deref()
            .is_some_and(|m| m.contains("declared primary but the server is read-only")),
        "{member:?}"
    );
}

#[tokio::test]
async fn another_controllers_service_is_never_taken_over() {
    let api = ApiServer::start();
    let context = context(&api);
    database(
        &api,
        "orders",
        Backend::Postgres,
        &fox_e2e::postgres_server_url(),
    );
    // Another operator's Cluster named "orders" owns the Service "orders-rw".
    let foreign: Service = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "orders-rw", "namespace": NAMESPACE,
            "ownerReferences": [{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster",
                "name": "orders", "uid": "cnpg-uid", "controller": true}]},
        "spec": {"selector": {"cnpg.io/cluster": "orders"}, "ports": [{"port": 5432}]}
    }))
    .unwrap();
    api.insert(&foreign);
    let before: Service = api.get(NAMESPACE, "orders-rw").unwrap();
    let error = reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap_err();
    assert_eq!(error.condition_reason().as_str(), "PublishConflict");
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    let (ready, reason, message) = condition(&replicaset, "Ready");
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("False", "PublishConflict")
    );
    assert!(
        message.contains("Service shop/orders-rw") && message.contains("Cluster orders"),
        "{message}"
    );
    assert_eq!(condition(&replicaset, "Stalled").0, "True");
    let after: Service = api.get(NAMESPACE, "orders-rw").unwrap();
    assert_eq!(after, before, "untouched");
    assert!(
        !api.requests().iter().any(|r| r.verb == "patch"
            && ["services", "endpointslices", "configmaps"].contains(&r.resource.as_str())),
        "nothing is written when one name is taken"
    );
}

#[tokio::test]
async fn loopback_members_are_not_published_unless_allowed() {
    let api = ApiServer::start();
    let context = strict_context(&api);
    database(
        &api,
        "orders",
        Backend::Postgres,
        &fox_e2e::postgres_server_url(),
    );
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    let (ready, reason, message) = condition(&replicaset, "Ready");
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("False", "MemberAddressRefused")
    );
    assert!(
        message.contains("127.0.0.1 is a loopback address"),
        "{message}"
    );
    assert!(slice_addresses(&api, "orders-rw").is_empty());
    assert!(slice_addresses(&api, "orders-ro").is_empty());
    let member = &replicaset.status.unwrap().members[0];
    assert!(member.healthy, "the member itself answers");
    assert!(
        member
            .message
            .as_deref()
            .unwrap()
            .contains("--allow-member-addresses=loopback")
    );
}

#[tokio::test]
async fn a_missing_member_secret_is_reported_on_the_member() {
    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&replicaset("orders", Engine::Postgresql, "absent"));
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    let member = &replicaset.status.as_ref().unwrap().members[0];
    assert!(!member.healthy);
    assert!(
        member
            .message
            .as_deref()
            .unwrap()
            .contains("Secret shop/absent does not exist")
    );
    assert_eq!(condition(&replicaset, "Ready").0, "False");
}

#[tokio::test]
async fn lag_above_the_limit_takes_a_replica_out_of_the_routing_table() {
    let (logs, _guard) = LogCapture::start();
    let pair = PostgresPair::start().expect("PostgreSQL pair");
    let api = ApiServer::start();
    let context = context(&api);
    let primary_url = pair
        .primary_url()
        .replace("postgres@", &format!("postgres:{DISTINCTIVE_PASSWORD}@"));
    api.insert(&secret("orders-primary", &primary_url));
    api.insert(&secret("orders-replica", &pair.replica_url()));
    let mut rs = replicaset("orders", Engine::Postgresql, "orders-primary");
    rs.spec.replicas = vec![member("replica", "orders-replica")];
    rs.spec.routing.max_replica_lag_seconds = 1;
    api.insert(&rs);

    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let healthy: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    let routing_table = healthy.status.as_ref().unwrap().routing.clone().unwrap();
    assert_eq!(
        routing_table.readers,
        vec!["replica".to_string()],
        "{:?}",
        healthy.status
    );
    assert_eq!(condition(&healthy, "ReplicasHealthy").0, "True");
    let replica_port = i32::from(pair.replica_port());
    assert_eq!(
        slice_addresses(&api, "orders-ro"),
        vec![("127.0.0.1".to_string(), replica_port)]
    );

    // Replay stops while the primary keeps writing: the replica falls behind.
    pair.primary_sql("CREATE TABLE ticks (at timestamptz)")
        .unwrap();
    pair.catch_up().unwrap();
    pair.pause_replay().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let lagging = loop {
        pair.primary_sql("INSERT INTO ticks VALUES (now())")
            .unwrap();
        reconcile_replicaset(&api, &context, "orders")
            .await
            .unwrap();
        let current: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
        let lag = current.status.as_ref().unwrap().members[1].lag_seconds;
        if lag.is_some_and(|l| l > 1.0) {
            break current;
        }
        assert!(Instant::now() < deadline, "lag never exceeded 1 s: {lag:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let table = lagging.status.as_ref().unwrap().routing.clone().unwrap();
    assert_eq!(
        table.readers,
        vec!["primary".to_string()],
        "replicaPreferred falls back to the primary"
    );
    let (status, reason, message) = condition(&lagging, "ReplicasHealthy");
    assert_eq!((status.as_str(), reason.as_str()), ("False", "Degraded"));
    assert!(message.contains("replica lags"), "{message}");
    let primary_port = i32::from(pair.primary_port());
    assert_eq!(
        slice_addresses(&api, "orders-ro"),
        vec![("127.0.0.1".to_string(), primary_port)]
    );
    assert!(
        routing(&api, "orders")
            .readers
            .iter()
            .all(|r| r.name == "primary")
    );
    let metrics = context.metrics.render();
    assert!(
        metrics.contains("fox_replica_lag_seconds{member=\"replica\""),
        "{metrics}"
    );

    // With readPreference replica, no reader is left at all.
    api.edit::<FoxReplicaSet>(NAMESPACE, "orders", |rs| {
        rs.spec.routing.read_preference = ReadPreference::Replica
    });
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let strict: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    assert!(strict.status.unwrap().routing.unwrap().readers.is_empty());

    // Replay resumes: the replica is back.
    pair.resume_replay().unwrap();
    pair.catch_up().unwrap();
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let back: FoxReplicaSet = api.get(NAMESPACE, "orders").unwrap();
    assert_eq!(
        back.status
            .as_ref()
            .unwrap()
            .routing
            .as_ref()
            .unwrap()
            .readers,
        vec!["replica".to_string()]
    );
    assert_no_password(&api, &context);
    let logs = logs.text();
    assert!(!logs.is_empty());
    assert!(!logs.contains(DISTINCTIVE_PASSWORD), "password logged");
}

fn assert_no_password(api: &ApiServer, context: &fox_operator::controller::Context) {
    for request in api.requests() {
        assert!(
            !request.body.contains(DISTINCTIVE_PASSWORD),
            "password sent to the API server: {request:?}"
        );
    }
    assert!(!context.metrics.render().contains(DISTINCTIVE_PASSWORD));
}

#[tokio::test]
async fn a_name_that_cannot_name_services_is_refused_with_the_reason() {
    let api = ApiServer::start();
    let context = context(&api);
    database(
        &api,
        "9orders",
        Backend::Postgres,
        &fox_e2e::postgres_server_url(),
    );
    let error = reconcile_replicaset(&api, &context, "9orders")
        .await
        .unwrap_err();
    assert!(!error.is_transient());
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "9orders").unwrap();
    let (ready, reason, message) = condition(&replicaset, "Ready");
    assert_eq!((ready.as_str(), reason.as_str()), ("False", "InvalidSpec"));
    assert!(message.contains("9orders-rw"), "{message}");
    assert!(api.get::<Service>(NAMESPACE, "9orders-rw").is_none());
}

#[tokio::test]
async fn a_health_check_that_changes_nothing_writes_no_status() {
    let api = ApiServer::start();
    let context = context(&api);
    database(
        &api,
        "quiet",
        Backend::Postgres,
        &fox_e2e::postgres_server_url(),
    );
    let status_writes = |api: &ApiServer| {
        api.requests()
            .iter()
            .filter(|r| r.resource == "foxreplicasets/status" && r.verb == "patch")
            .count()
    };
    reconcile_replicaset(&api, &context, "quiet").await.unwrap();
    let first = status_writes(&api);
    assert!(first >= 1, "the first check writes status");
    for _ in 0..3 {
        reconcile_replicaset(&api, &context, "quiet").await.unwrap();
    }
    assert_eq!(
        status_writes(&api),
        first,
        "checks that change nothing write nothing"
    );
    // A change of health is written at once.
    api.edit::<FoxReplicaSet>(NAMESPACE, "quiet", |rs| {
        rs.spec.replicas.push(member("gone", "missing-secret"));
    });
    reconcile_replicaset(&api, &context, "quiet").await.unwrap();
    assert_eq!(status_writes(&api), first + 1);
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, "quiet").unwrap();
    assert_eq!(replicaset.status.unwrap().members.len(), 2);
}
