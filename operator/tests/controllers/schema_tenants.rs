//! FoxSchema with `spec.tenants`: the controller plans every tenant together, applies each
//! on its own, lists the tenants that failed in status while the others are applied, and
//! takes a new tenant from one list entry. Schema per tenant on PostgreSQL, database per
//! tenant on MariaDB.

use fox_crds::FoxSchema;
use fox_crds::schema::SchemaPhase;
use fox_crds::tenants::{TenantDatabase, TenantsSpec};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::controller::conditions::find_condition;

use crate::api_server::ApiServer;
use crate::fixtures::*;

/// A FoxSchema of one table, `notes`, on `database`, for `tenants`.
fn notes_schema(database: &str, tenants: TenantsSpec) -> FoxSchema {
    let text = format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata:\n  name: notes\n  namespace: {NAMESPACE}\nspec:\n  databaseRef: {{name: {database}}}\n  tables:\n    - name: notes\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: body, type: text}}\n"
    );
    let mut schema: FoxSchema = serde_yaml_ng::from_str(&text).unwrap();
    schema.spec.tenants = Some(tenants);
    schema.validate().unwrap();
    schema
}

fn ready(schema: &FoxSchema) -> (String, String, String) {
    let status = schema.status.as_ref().expect("status written");
    let c = find_condition(&status.conditions, "Ready").expect("a Ready condition");
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

/// Whether `qualified` (a table, maybe schema-qualified) exists on `url`.
async fn has_table(url: &str, qualified: &str) -> bool {
    let db = foxdb::Database::connect(url).await.unwrap();
    let found = db
        .fetch_all(&format!("SELECT * FROM {qualified} WHERE 1 = 0"), &[])
        .await
        .is_ok();
    db.close().await;
    found
}

#[tokio::test]
async fn every_listed_tenant_schema_is_applied_and_a_failing_one_is_listed_alone() {
    let db = TestDatabase::create(Backend::Postgres).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "notes-db", Backend::Postgres, db.url());
    // `broken` holds a view named like the table: creating the table there fails.
    let owner = foxdb::Database::connect(db.url()).await.unwrap();
    owner.execute("CREATE SCHEMA broken", &[]).await.unwrap();
    owner
        .execute("CREATE VIEW broken.notes AS SELECT 1 AS id", &[])
        .await
        .unwrap();
    api.insert(&notes_schema(
        "notes-db",
        TenantsSpec {
            schemas: vec!["acme".into(), "broken".into(), "globex".into()],
            databases: Vec::new(),
        },
    ));

    reconcile_schema(&api, &context, "notes").await.unwrap();
    let schema: FoxSchema = api.get(NAMESPACE, "notes").unwrap();
    let status = schema.status.clone().unwrap();
    assert_eq!(status.phase, Some(SchemaPhase::Failed));
    let (ready_status, reason, message) = ready(&schema);
    assert_eq!(
        (ready_status.as_str(), reason.as_str()),
        ("False", "TenantsFailed")
    );
    assert!(message.contains("broken"), "{message}");
    let failed: Vec<&str> = status
        .failed_tenants
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(failed, ["broken"], "{:?}", status.failed_tenants);
    assert!(
        !status.failed_tenants[0].message.is_empty(),
        "says what failed"
    );
    for tenant in ["acme", "globex"] {
        assert!(
            has_table(db.url(), &format!("{tenant}.notes")).await,
            "{tenant} applied though broken failed"
        );
    }
    assert!(
        !has_table(db.url(), "public.notes").await,
        "the database's own schema is not a tenant"
    );
    let events = api.events(NAMESPACE);
    assert!(
        events
            .iter()
            .any(|(t, r, m)| t == "Warning" && r == "TenantsFailed" && m.contains("broken")),
        "{events:?}"
    );

    // Fixing the tenant and adding one more is all the next pass needs.
    owner.execute("DROP VIEW broken.notes", &[]).await.unwrap();
    api.edit::<FoxSchema>(NAMESPACE, "notes", |s| {
        s.spec
            .tenants
            .as_mut()
            .unwrap()
            .schemas
            .push("initech".into());
    });
    reconcile_schema(&api, &context, "notes").await.unwrap();
    let schema: FoxSchema = api.get(NAMESPACE, "notes").unwrap();
    let status = schema.status.clone().unwrap();
    assert_eq!(
        status.phase,
        Some(SchemaPhase::Applied),
        "{:?}",
        ready(&schema)
    );
    assert!(status.failed_tenants.is_empty());
    assert_eq!(ready(&schema).0, "True");
    assert_eq!(status.applied_generation, Some(2));
    for tenant in ["broken", "initech"] {
        assert!(
            has_table(db.url(), &format!("{tenant}.notes")).await,
            "{tenant}"
        );
    }

    // In sync: a further pass writes no status.
    let before = api.requests().len();
    reconcile_schema(&api, &context, "notes").await.unwrap();
    assert!(
        !api.requests()[before..]
            .iter()
            .any(|r| r.resource == "foxschemas/status"),
        "an in-sync pass rewrote status"
    );
    owner.close().await;
}

#[tokio::test]
async fn every_tenant_database_is_applied_and_a_missing_secret_fails_that_tenant_alone() {
    let server = TestDatabase::create(Backend::MySql).await;
    let acme = TestDatabase::create(Backend::MySql).await;
    let globex = TestDatabase::create(Backend::MySql).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "notes-db", Backend::MySql, server.url());
    api.insert(&secret("acme-db", acme.url()));
    api.insert(&secret("globex-db", globex.url()));
    let tenant = |name: &str, secret: &str| TenantDatabase {
        name: name.into(),
        connection: fox_crds::SecretKeyRef {
            name: secret.into(),
            key: "url".into(),
        },
    };
    api.insert(&notes_schema(
        "notes-db",
        TenantsSpec {
            schemas: Vec::new(),
            databases: vec![
                tenant("acme", "acme-db"),
                tenant("initech", "initech-db"),
                tenant("globex", "globex-db"),
            ],
        },
    ));

    reconcile_schema(&api, &context, "notes").await.unwrap();
    let schema: FoxSchema = api.get(NAMESPACE, "notes").unwrap();
    let status = schema.status.clone().unwrap();
    assert_eq!(status.phase, Some(SchemaPhase::Failed));
    let failed: Vec<&str> = status
        .failed_tenants
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(failed, ["initech"]);
    assert!(
        status.failed_tenants[0].message.contains("initech-db"),
        "{}",
        status.failed_tenants[0].message
    );
    assert!(has_table(acme.url(), "notes").await);
    assert!(has_table(globex.url(), "notes").await);
    assert!(
        !has_table(server.url(), "notes").await,
        "the FoxSchema's own database is not a tenant"
    );

    let initech = TestDatabase::create(Backend::MySql).await;
    api.insert(&secret("initech-db", initech.url()));
    reconcile_schema(&api, &context, "notes").await.unwrap();
    let schema: FoxSchema = api.get(NAMESPACE, "notes").unwrap();
    let status = schema.status.clone().unwrap();
    assert_eq!(
        status.phase,
        Some(SchemaPhase::Applied),
        "{:?}",
        ready(&schema)
    );
    assert!(status.failed_tenants.is_empty());
    assert!(has_table(initech.url(), "notes").await);
}
