//! FoxSchema: plan → apply → Ready, approval, destructive changes, failures, drift, deletion.

use fox_crds::FoxSchema;
use fox_crds::schema::{DriftPolicy, SchemaPhase};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::controller::conditions::find_condition;
use fox_operator::controller::schema::{APPROVE_ANNOTATION, REPLACES_ANNOTATION, error_policy};
use kube::ResourceExt;
use kube::runtime::controller::Action;
use std::sync::Arc;
use std::time::Duration;

use crate::api_server::ApiServer;
use crate::fixtures::*;

fn condition(schema: &FoxSchema, type_: &str) -> (String, String, String) {
    let status = schema.status.as_ref().expect("status written");
    let c =
        find_condition(&status.conditions, type_).unwrap_or_else(|| panic!("no {type_} condition"));
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

async fn has_table(url: &str, table: &str) -> bool {
    let db = foxdb::Database::connect(url).await.unwrap();
    let quoted = if url.starts_with("mysql") {
        format!("`{table}`")
    } else {
        format!("\"{table}\"")
    };
    let found = db
        .fetch_all(&format!("SELECT * FROM {quoted} WHERE 1 = 0"), &[])
        .await
        .is_ok();
    db.close().await;
    found
}

async fn has_column(url: &str, table: &str, column: &str) -> bool {
    let db = foxdb::Database::connect(url).await.unwrap();
    let q = |name: &str| {
        if url.starts_with("mysql") {
            format!("`{name}`")
        } else {
            format!("\"{name}\"")
        }
    };
    let found = db
        .fetch_all(
            &format!("SELECT {} FROM {} WHERE 1 = 0", q(column), q(table)),
            &[],
        )
        .await
        .is_ok();
    db.close().await;
    found
}

#[tokio::test]
async fn schema_is_planned_applied_and_ready_on_every_engine() {
    for engine in Backend::ALL {
        let db = TestDatabase::create(engine).await;
        let api = ApiServer::start();
        let context = context(&api);
        database(&api, "blog-db", engine, db.url());
        api.insert(&blog_schema("blog-db"));

        let action = reconcile_schema(&api, &context, "blog").await.unwrap();
        assert_eq!(
            action,
            Action::requeue(Duration::from_secs(300)),
            "{engine}"
        );
        let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
        assert!(schema.finalizers().is_empty(), "no finalizer: {engine}");
        let status = schema.status.clone().unwrap();
        assert_eq!(status.phase, Some(SchemaPhase::Applied), "{engine}");
        assert_eq!(status.applied_generation, Some(1));
        assert_eq!(status.observed_generation, Some(1));
        assert!(status.applied_plan_hash.is_some());
        let (ready, reason, _) = condition(&schema, "Ready");
        assert_eq!(
            (ready.as_str(), reason.as_str()),
            ("True", "Applied"),
            "{engine}"
        );
        assert_eq!(condition(&schema, "Blocked").0, "False");
        assert!(
            has_table(db.url(), "posts").await,
            "{engine}: posts created"
        );
        assert!(
            has_table(db.url(), "order").await,
            "{engine}: order created"
        );
        let events = api.events(NAMESPACE);
        assert!(
            events
                .iter()
                .any(|(t, r, n)| t == "Normal" && r == "Applied" && n.contains("applied plan")),
            "{events:?}"
        );

        // A second pass changes nothing: the plan is empty and status is not rewritten.
        let before = api.requests().len();
        reconcile_schema(&api, &context, "blog").await.unwrap();
        let after = api.requests();
        assert!(
            !after[before..]
                .iter()
                .any(|r| r.resource == "foxschemas/status"),
            "{engine}: in-sync resync rewrote status"
        );
        let again: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
        assert_eq!(condition(&again, "Ready").1, "Applied");
    }
}

#[tokio::test]
async fn approval_flow_applies_only_the_approved_hash() {
    let db = TestDatabase::create(Backend::Postgres).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "blog-db", Backend::Postgres, db.url());
    let mut schema = blog_schema("blog-db");
    schema.spec.policy.require_approval = true;
    api.insert(&schema);

    reconcile_schema(&api, &context, "blog").await.unwrap();
    let blocked: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let status = blocked.status.clone().unwrap();
    assert_eq!(status.phase, Some(SchemaPhase::Blocked));
    let plan = status.plan.clone().expect("plan in status");
    assert!(
        plan.changes.iter().any(|c| c.contains("posts")),
        "{:?}",
        plan.changes
    );
    let (_, reason, message) = condition(&blocked, "Blocked");
    assert_eq!(reason, "ApprovalPending");
    assert!(message.contains(&plan.hash), "{message}");
    assert_eq!(condition(&blocked, "Planned").0, "True");
    assert!(
        !has_table(db.url(), "posts").await,
        "nothing applied before approval"
    );

    // A wrong hash changes nothing.
    api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
        s.annotations_mut()
            .insert(APPROVE_ANNOTATION.into(), "0000000000".into());
    });
    reconcile_schema(&api, &context, "blog").await.unwrap();
    assert!(!has_table(db.url(), "posts").await);

    api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
        s.annotations_mut()
            .insert(APPROVE_ANNOTATION.into(), plan.hash.clone());
    });
    reconcile_schema(&api, &context, "blog").await.unwrap();
    let applied: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    assert_eq!(
        applied.status.as_ref().unwrap().phase,
        Some(SchemaPhase::Applied)
    );
    assert_eq!(
        applied
            .status
            .as_ref()
            .unwrap()
            .applied_plan_hash
            .as_deref(),
        Some(plan.hash.as_str())
    );
    assert!(has_table(db.url(), "posts").await);
    let events = api.events(NAMESPACE);
    assert!(
        events
            .iter()
            .any(|(t, r, _)| t == "Warning" && r == "ApprovalPending"),
        "{events:?}"
    );
    assert!(
        !applied.annotations().contains_key(APPROVE_ANNOTATION),
        "the approval is removed after the apply it approved"
    );
}

#[tokio::test]
async fn an_approval_is_bound_to_the_database_and_generation_it_was_given_for() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "blog-db", Backend::Sqlite, db.url());
    let mut schema = blog_schema("blog-db");
    schema.spec.policy.require_approval = true;
    api.insert(&schema);
    reconcile_schema(&api, &context, "blog").await.unwrap();
    let first: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let approved = first.status.unwrap().plan.unwrap().hash;

    // The bare plan hash (what `fox plan` prints for the same database) approves nothing here.
    let plan = fox_operator::engine::plan_schema(
        &foxdb::DatabaseUrl::parse(db.url()).unwrap(),
        &first.spec,
    )
    .await
    .unwrap();
    assert_ne!(plan.hash, approved);
    api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
        s.annotations_mut()
            .insert(APPROVE_ANNOTATION.into(), plan.hash.clone());
    });
    reconcile_schema(&api, &context, "blog").await.unwrap();
    assert!(!has_table(db.url(), "posts").await);

    // A new generation (here: a changed lock timeout, same plan) needs a new approval.
    api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
        s.spec.policy.lock_timeout_seconds += 1;
        s.annotations_mut()
            .insert(APPROVE_ANNOTATION.into(), approved.clone());
    });
    reconcile_schema(&api, &context, "blog").await.unwrap();
    assert!(
        !has_table(db.url(), "posts").await,
        "approved for generation 1"
    );
    let second: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let (_, reason, _) = condition(&second, "Blocked");
    assert_eq!(reason, "ApprovalPending");
    assert_ne!(second.status.unwrap().plan.unwrap().hash, approved);
}

#[tokio::test]
async fn a_second_schema_on_one_database_is_blocked_until_it_says_it_replaces_the_owner() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "blog-db", Backend::Sqlite, db.url());
    api.insert(&blog_schema("blog-db"));
    reconcile_schema(&api, &context, "blog").await.unwrap();

    let mut second = blog_schema("blog-db");
    second.metadata.name = Some("blog-v2".into());
    second.spec.policy.allow_destructive = true;
    second.spec.tables.retain(|t| t.name == "users");
    second.spec.tables[0].relations.clear();
    second.spec.seed.retain(|s| s.table == "users");
    api.insert(&second);
    reconcile_schema(&api, &context, "blog-v2")
        .await
        .unwrap_err();
    let blocked: FoxSchema = api.get(NAMESPACE, "blog-v2").unwrap();
    let (ready, reason, message) = condition(&blocked, "Ready");
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("False", "OwnedByAnotherSchema"),
        "{message}"
    );
    assert_eq!(
        blocked.status.as_ref().unwrap().phase,
        Some(SchemaPhase::Blocked)
    );
    assert!(message.contains("FoxSchema/blog"), "{message}");
    assert!(
        has_table(db.url(), "posts").await,
        "the owner's tables are kept"
    );

    api.edit::<FoxSchema>(NAMESPACE, "blog-v2", |s| {
        s.metadata
            .annotations
            .get_or_insert_default()
            .insert(REPLACES_ANNOTATION.into(), "blog".into());
    });
    reconcile_schema(&api, &context, "blog-v2").await.unwrap();
    let applied: FoxSchema = api.get(NAMESPACE, "blog-v2").unwrap();
    assert_eq!(
        applied.status.as_ref().unwrap().phase,
        Some(SchemaPhase::Applied)
    );
    assert!(
        !has_table(db.url(), "posts").await,
        "blog-v2 declares users only"
    );
}

#[tokio::test]
async fn destructive_change_is_blocked_until_allowed() {
    for engine in [Backend::Postgres, Backend::MySql] {
        let db = TestDatabase::create(engine).await;
        let api = ApiServer::start();
        let context = context(&api);
        database(&api, "blog-db", engine, db.url());
        api.insert(&blog_schema("blog-db"));
        reconcile_schema(&api, &context, "blog").await.unwrap();

        api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
            let posts = s
                .spec
                .tables
                .iter_mut()
                .find(|t| t.name == "posts")
                .unwrap();
            posts.columns.retain(|c| c.name != "metadata");
        });
        reconcile_schema(&api, &context, "blog").await.unwrap();
        let blocked: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
        let status = blocked.status.clone().unwrap();
        assert_eq!(status.phase, Some(SchemaPhase::Blocked), "{engine}");
        assert_eq!(status.observed_generation, Some(2));
        assert_eq!(status.applied_generation, Some(1));
        let (blocked_status, reason, message) = condition(&blocked, "Blocked");
        assert_eq!(
            (blocked_status.as_str(), reason.as_str()),
            ("True", "DestructiveChange")
        );
        assert!(message.contains("metadata"), "{message}");
        assert!(!status.plan.unwrap().destructive.is_empty());
        assert_eq!(condition(&blocked, "Ready").0, "False");
        assert!(
            has_column(db.url(), "posts", "metadata").await,
            "{engine}: column kept"
        );

        api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
            s.spec.policy.allow_destructive = true
        });
        reconcile_schema(&api, &context, "blog").await.unwrap();
        let applied: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
        assert_eq!(
            applied.status.as_ref().unwrap().phase,
            Some(SchemaPhase::Applied),
            "{engine}"
        );
        assert_eq!(condition(&applied, "Blocked").0, "False");
        assert!(
            !has_column(db.url(), "posts", "metadata").await,
            "{engine}: column dropped"
        );
    }
}

#[tokio::test]
async fn database_down_is_reported_and_retried_without_the_password() {
    let (logs, _guard) = LogCapture::start();
    let api = ApiServer::start();
    let context = context(&api);
    // Nothing listens on port 1.
    let url = format!("postgres://app:{DISTINCTIVE_PASSWORD}@127.0.0.1:1/app");
    database(&api, "blog-db", Backend::Postgres, &url);
    api.insert(&blog_schema("blog-db"));

    let error = reconcile_schema(&api, &context, "blog").await.unwrap_err();
    assert!(error.is_transient(), "{error}");
    // Retries back off exponentially: 5 s, 10 s, 20 s, ...
    let object: Arc<FoxSchema> = Arc::new(api.get(NAMESPACE, "blog").unwrap());
    for seconds in [5, 10, 20] {
        let action = error_policy(object.clone(), &error, context.clone());
        assert_eq!(action, Action::requeue(Duration::from_secs(seconds)));
    }
    let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let (ready, reason, message) = condition(&schema, "Ready");
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("False", "DatabaseUnavailable")
    );
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert_eq!(
        condition(&schema, "Planned").0,
        "Unknown",
        "not evaluated while down"
    );
    assert_eq!(schema.status.unwrap().phase, Some(SchemaPhase::Failed));
    for request in api.requests() {
        assert!(
            !request.body.contains(DISTINCTIVE_PASSWORD),
            "password sent in {request:?}"
        );
    }
    let metrics = context.metrics.render();
    assert!(
        metrics.contains("fox_reconcile_errors_total{error=\"database\",kind=\"FoxSchema\"} 3"),
        "{metrics}"
    );
    assert!(!metrics.contains(DISTINCTIVE_PASSWORD));
    let logs = logs.text();
    assert!(
        logs.contains("reconcile failed") && logs.contains("\"name\":\"blog\""),
        "{logs}"
    );
    assert!(
        !logs.contains(DISTINCTIVE_PASSWORD),
        "password logged: {logs}"
    );
}

#[tokio::test]
async fn missing_secret_and_missing_database_are_clear_conditions() {
    let api = ApiServer::start();
    let context = context(&api);
    api.insert(&blog_schema("blog-db"));
    let error = reconcile_schema(&api, &context, "blog").await.unwrap_err();
    assert!(!error.is_transient());
    let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let (_, reason, message) = condition(&schema, "Ready");
    assert_eq!(reason, "DatabaseNotFound");
    assert!(message.contains("FoxReplicaSet shop/blog-db"), "{message}");

    api.insert(&replicaset(
        "blog-db",
        fox_crds::Engine::Postgresql,
        "blog-db-primary",
    ));
    reconcile_schema(&api, &context, "blog").await.unwrap_err();
    let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let (ready, reason, message) = condition(&schema, "Ready");
    assert_eq!(
        (ready.as_str(), reason.as_str()),
        ("False", "SecretNotFound")
    );
    assert!(
        message.contains("Secret shop/blog-db-primary does not exist"),
        "{message}"
    );
    // The Ready condition went False once: its transition time did not move.
    let first = find_condition(&schema.status.as_ref().unwrap().conditions, "Ready")
        .unwrap()
        .last_transition_time
        .clone();
    reconcile_schema(&api, &context, "blog").await.unwrap_err();
    let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let again = find_condition(&schema.status.as_ref().unwrap().conditions, "Ready")
        .unwrap()
        .last_transition_time
        .clone();
    assert_eq!(first, again);

    api.insert(&secret("blog-db-primary", "redis://127.0.0.1:6379/"));
    reconcile_schema(&api, &context, "blog").await.unwrap_err();
    let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let (_, reason, message) = condition(&schema, "Ready");
    assert_eq!(reason, "SecretInvalid");
    assert!(
        message.contains("is not a database URL") && !message.contains("redis://"),
        "{message}"
    );

    // A URL of another engine than the FoxReplicaSet (postgresql) declares.
    api.insert(&secret(
        "blog-db-primary",
        "mysql://app:Fox-Leak-9Qz7@127.0.0.1:3306/app",
    ));
    reconcile_schema(&api, &context, "blog").await.unwrap_err();
    let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let (_, reason, message) = condition(&schema, "Ready");
    assert_eq!(reason, "SecretInvalid");
    assert!(
        message
            .contains("the URL is for mysql, but FoxReplicaSet/blog-db declares engine postgresql")
            && !message.contains("Fox-Leak-9Qz7"),
        "{message}"
    );
}

#[tokio::test]
async fn deletion_never_waits_for_the_operator_and_keeps_the_tables() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "blog-db", Backend::Sqlite, db.url());
    // Made by an earlier version of the operator, which put a finalizer on every object.
    let mut schema = blog_schema("blog-db");
    schema.metadata.finalizers = Some(vec!["foxdb.dev/cleanup".into()]);
    api.insert(&schema);
    reconcile_schema(&api, &context, "blog").await.unwrap();
    let reconciled: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    assert!(
        reconciled.finalizers().is_empty(),
        "the old finalizer is removed"
    );
    assert!(has_table(db.url(), "posts").await);

    // A legacy finalizer on an object being deleted goes too, and the object with it.
    api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
        s.metadata.finalizers = Some(vec!["foxdb.dev/cleanup".into()]);
        s.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
            k8s_openapi::jiff::Timestamp::now(),
        ));
    });
    reconcile_schema(&api, &context, "blog").await.unwrap();
    assert!(
        api.get::<FoxSchema>(NAMESPACE, "blog").is_none(),
        "finalizer removed, object gone"
    );
    assert!(
        has_table(db.url(), "posts").await,
        "deleting a FoxSchema never drops tables"
    );
}

#[tokio::test]
async fn drift_is_reported_and_reapplied_only_by_policy() {
    for engine in [Backend::Postgres, Backend::Sqlite] {
        let db = TestDatabase::create(engine).await;
        let api = ApiServer::start();
        let context = context(&api);
        database(&api, "blog-db", engine, db.url());
        api.insert(&blog_schema("blog-db"));
        reconcile_schema(&api, &context, "blog").await.unwrap();

        // Someone drops an index by hand.
        drop_index(db.url()).await;

        reconcile_schema(&api, &context, "blog").await.unwrap();
        let drifted: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
        let (status, reason, message) = condition(&drifted, "Drifted");
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("True", "LiveSchemaChanged"),
            "{engine}"
        );
        assert!(
            message.contains("posts_status_published_at_idx"),
            "{message}"
        );
        assert_eq!(condition(&drifted, "Ready").1, "Drifted");
        assert!(
            api.events(NAMESPACE)
                .iter()
                .any(|(t, r, _)| t == "Warning" && r == "DriftDetected")
        );

        // Still drifted on the next resync, and still not repaired.
        reconcile_schema(&api, &context, "blog").await.unwrap();
        assert!(
            !has_index(db.url(), engine).await,
            "{engine}: Report changes nothing"
        );

        api.edit::<FoxSchema>(NAMESPACE, "blog", |s| {
            s.spec.policy.on_drift = DriftPolicy::Reapply
        });
        reconcile_schema(&api, &context, "blog").await.unwrap();
        assert!(
            has_index(db.url(), engine).await,
            "{engine}: the new generation is applied"
        );
        drop_index(db.url()).await;
        reconcile_schema(&api, &context, "blog").await.unwrap();
        assert!(
            has_index(db.url(), engine).await,
            "{engine}: Reapply repairs drift"
        );
        let repaired: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
        assert_eq!(condition(&repaired, "Ready").0, "True", "{engine}");
        assert_eq!(condition(&repaired, "Drifted").0, "False");
    }
}

async fn drop_index(url: &str) {
    let live = foxdb::Database::connect(url).await.unwrap();
    live.execute("DROP INDEX \"posts_status_published_at_idx\"", &[])
        .await
        .unwrap();
    live.close().await;
}

async fn has_index(url: &str, engine: Backend) -> bool {
    let live = foxdb::Database::connect(url).await.unwrap();
    let sql = match engine {
        Backend::Postgres => {
            "SELECT 1 FROM pg_indexes WHERE indexname = 'posts_status_published_at_idx'"
        }
        _ => {
            "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'posts_status_published_at_idx'"
        }
    };
    let found = !live.fetch_all(sql, &[]).await.unwrap().is_empty();
    live.close().await;
    found
}

#[tokio::test]
async fn a_database_moved_to_a_new_server_is_applied_not_reported_as_drift() {
    let first = TestDatabase::create(Backend::Sqlite).await;
    let second = TestDatabase::create(Backend::Sqlite).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "blog-db", Backend::Sqlite, first.url());
    api.insert(&blog_schema("blog-db"));
    reconcile_schema(&api, &context, "blog").await.unwrap();

    // The Secret now names a fresh database: same generation, but not drift.
    api.insert(&secret("blog-db-primary", second.url()));
    reconcile_schema(&api, &context, "blog").await.unwrap();
    let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    assert_eq!(condition(&schema, "Drifted").0, "False");
    assert_eq!(condition(&schema, "Ready").0, "True");
    assert!(has_table(second.url(), "posts").await);
}

#[tokio::test]
async fn an_invalid_schema_is_reported_without_touching_the_database() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "blog-db", Backend::Sqlite, db.url());
    let mut schema = blog_schema("blog-db");
    schema.spec.tables[0].columns[0].type_ = "strin".into();
    api.insert(&schema);
    let error = reconcile_schema(&api, &context, "blog").await.unwrap_err();
    assert!(!error.is_transient());
    let schema: FoxSchema = api.get(NAMESPACE, "blog").unwrap();
    let (ready, reason, message) = condition(&schema, "Ready");
    assert_eq!((ready.as_str(), reason.as_str()), ("False", "InvalidSpec"));
    assert!(message.contains("strin"), "{message}");
    assert!(!has_table(db.url(), "users").await);
}
