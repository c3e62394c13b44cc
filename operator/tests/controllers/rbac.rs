//! The operator's requests, watches included, need exactly the permissions in
//! `controller::rbac` (which the Helm chart grants, see `chart_rbac.rs`): every request is
//! allowed, and every permission is used.

use std::collections::BTreeSet;
use std::time::Duration;

use fox_crds::FoxSchema;
use fox_e2e::{Backend, TestDatabase};
use fox_operator::controller::Context;
use fox_operator::controller::leader::{LeaderElector, LeaseTiming};
use fox_operator::controller::manager::run_controllers;
use fox_operator::controller::rbac::{CLUSTER_PERMISSIONS, LEASE_PERMISSIONS, Permission};

use crate::api_server::ApiServer;
use crate::fixtures::*;

fn declared() -> BTreeSet<(String, String, String)> {
    let flatten = |permissions: &[Permission]| -> Vec<(String, String, String)> {
        permissions
            .iter()
            .flat_map(|p| {
                p.resources.iter().flat_map(move |r| {
                    p.verbs
                        .iter()
                        .map(move |v| (p.group.to_string(), r.to_string(), v.to_string()))
                })
            })
            .collect()
    };
    flatten(CLUSTER_PERMISSIONS)
        .into_iter()
        .chain(flatten(LEASE_PERMISSIONS))
        .collect()
}

#[tokio::test]
async fn every_request_is_allowed_and_every_permission_is_used() {
    let api = ApiServer::start();
    let context = context(&api);

    // The controllers' watches (the stand-in answers lists and refuses watch streams, which
    // the watchers retry; the attempts are what counts here).
    let _ = tokio::time::timeout(
        Duration::from_secs(3),
        run_controllers(
            api.client.clone(),
            None,
            context.clone(),
            Default::default(),
        ),
    )
    .await;

    // Leader election.
    let elector = LeaderElector::new(
        api.client.clone(),
        "fox-system",
        "fox-operator",
        "pod-a",
        LeaseTiming::default(),
    );
    assert!(elector.try_acquire_or_renew().await.unwrap());
    assert!(elector.try_acquire_or_renew().await.unwrap());

    // A schema that fails twice (the second Event is a series patch), then applies. Every
    // object carries the finalizer of an earlier version, which the operator removes (patch).
    let legacy = || Some(vec!["foxdb.dev/cleanup".to_string()]);
    let db = TestDatabase::create(Backend::Postgres).await;
    let mut schema = blog_schema("blog-db");
    schema.metadata.finalizers = legacy();
    api.insert(&schema);
    reconcile_schema(&api, &context, "blog").await.unwrap_err();
    reconcile_schema(&api, &context, "blog").await.unwrap_err();
    database(&api, "blog-db", Backend::Postgres, db.url());
    api.edit::<fox_crds::FoxReplicaSet>(NAMESPACE, "blog-db", |rs| {
        rs.metadata.finalizers = legacy();
    });
    reconcile_schema(&api, &context, "blog").await.unwrap();
    // Migrations and the replica set with its published Services and ConfigMap.
    let mut first = migration(
        "blog-db",
        1,
        "CREATE TABLE extra (id BIGINT)",
        Some("DROP TABLE extra"),
    );
    first.metadata.finalizers = legacy();
    api.insert(&first);
    reconcile_migration(&api, &context, "blog-db-0001")
        .await
        .unwrap();
    reconcile_replicaset(&api, &context, "blog-db")
        .await
        .unwrap();
    // Deletion (nothing to do).
    api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
        s.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::now(),
        ));
    });
    reconcile_schema(&api, &context, "blog").await.unwrap();

    let used: BTreeSet<(String, String, String)> = api
        .requests()
        .into_iter()
        .map(|r| (r.group, r.resource, r.verb))
        .collect();
    let declared = declared();
    let not_allowed: Vec<_> = used.difference(&declared).collect();
    let unused: Vec<_> = declared.difference(&used).collect();
    assert!(
        not_allowed.is_empty(),
        "requests without a permission: {not_allowed:?}"
    );
    assert!(unused.is_empty(), "permissions never used: {unused:?}");
}

#[tokio::test]
async fn secrets_are_read_only_in_namespaces_that_opted_in() {
    let api = ApiServer::start();
    // RBAC as the chart grants it with rbac.secretNamespaces: [shop]: no cluster-wide Secrets,
    // Services, ConfigMaps or EndpointSlices.
    for resource in ["secrets", "services", "configmaps", "endpointslices"] {
        api.forbid(resource, "");
        api.forbid(resource, "other");
    }
    let mut context = Context::new(
        api.client.clone(),
        fox_operator::telemetry::Metrics::new(),
        None,
        Duration::from_secs(300),
    );
    context.secret_namespaces = vec![NAMESPACE.to_string()];
    let context = std::sync::Arc::new(context);
    let health = std::sync::Arc::new(fox_operator::telemetry::server::Health::default());
    health.set_ready(true);
    let _ = tokio::time::timeout(
        Duration::from_secs(3),
        run_controllers(api.client.clone(), None, context.clone(), health.clone()),
    )
    .await;
    let secret_requests: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|r| {
            ["secrets", "services", "configmaps", "endpointslices"].contains(&r.resource.as_str())
        })
        .collect();
    assert!(!secret_requests.is_empty());
    assert!(
        secret_requests
            .iter()
            .all(|r| r.namespace == NAMESPACE && r.status < 400),
        "{secret_requests:#?}"
    );
    assert!(
        health.failing_watches().is_empty(),
        "{:?}",
        health.failing_watches()
    );

    // A FoxReplicaSet in a namespace that did not opt in says so.
    let mut rs = replicaset("orders", fox_crds::Engine::Postgresql, "orders-primary");
    rs.metadata.namespace = Some("other".into());
    api.insert(&rs);
    let object: fox_crds::FoxReplicaSet = api.get("other", "orders").unwrap();
    // Publishing fails there too (403), which the reconcile reports; the member says why.
    let _ = fox_operator::controller::replica_set::reconcile(std::sync::Arc::new(object), context)
        .await;
    let object: fox_crds::FoxReplicaSet = api.get("other", "orders").unwrap();
    let message = object.status.unwrap().members[0].message.clone().unwrap();
    assert!(
        message.contains("may not read Secrets in namespace other"),
        "{message}"
    );
}
