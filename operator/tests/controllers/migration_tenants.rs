//! FoxMigration with `spec.tenants`: the controller runs the migrations in every tenant of the
//! FoxSchema listing the tenants of the database, lists a tenant that failed in
//! `status.failedTenants` while the others are migrated, and keeps the database's own
//! migrations apart from the tenants'. Schema per tenant on PostgreSQL.

use fox_crds::migration::MigrationPhase;
use fox_crds::tenants::{MigrationTenants, TenantsSpec};
use fox_crds::{FoxMigration, FoxSchema};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::controller::conditions::find_condition;

use crate::api_server::ApiServer;
use crate::fixtures::*;

/// A FoxSchema of `notes` on `database` listing the tenant schemas `tenants`.
fn tenants_schema(database: &str, tenants: &[&str]) -> FoxSchema {
    let mut schema = blog_schema(database);
    schema.metadata.name = Some("notes".into());
    schema.spec.tenants = Some(TenantsSpec {
        schemas: tenants.iter().map(|t| t.to_string()).collect(),
        databases: Vec::new(),
    });
    schema
}

fn in_every_tenant(mut migration: FoxMigration) -> FoxMigration {
    migration.spec.tenants = Some(MigrationTenants {
        all: true,
        names: Vec::new(),
    });
    migration
}

async fn rows(url: &str, sql: &str) -> Option<usize> {
    let db = foxdb::Database::connect(url).await.unwrap();
    let result = db.fetch_all(sql, &[]).await.ok().map(|r| r.len());
    db.close().await;
    result
}

fn ready(api: &ApiServer, name: &str) -> (String, String, String) {
    let migration: FoxMigration = api.get(NAMESPACE, name).unwrap();
    let status = migration.status.expect("status written");
    let c = find_condition(&status.conditions, "Ready").expect("a Ready condition");
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

#[tokio::test]
async fn tenant_migrations_run_in_every_tenant_schema_and_a_failing_tenant_is_listed_alone() {
    let db = TestDatabase::create(Backend::Postgres).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "ledger-db", Backend::Postgres, db.url());
    let owner = foxdb::Database::connect(db.url()).await.unwrap();
    owner.execute("CREATE SCHEMA broken", &[]).await.unwrap();
    owner
        .execute("CREATE TABLE broken.ledger (other INT)", &[])
        .await
        .unwrap();
    api.insert(&tenants_schema("ledger-db", &["acme", "broken", "globex"]));
    api.insert(&in_every_tenant(migration(
        "ledger-db",
        1,
        "CREATE TABLE ledger (id BIGINT PRIMARY KEY, note VARCHAR(50))",
        Some("DROP TABLE ledger"),
    )));
    api.insert(&in_every_tenant(migration(
        "ledger-db",
        2,
        "INSERT INTO ledger (id, note) VALUES (1, 'first')",
        Some("DELETE FROM ledger WHERE id = 1"),
    )));
    // The database's own migration: never run in a tenant.
    api.insert(&migration(
        "ledger-db",
        10,
        "CREATE TABLE shared_settings (id BIGINT PRIMARY KEY)",
        None,
    ));

    reconcile_migration(&api, &context, "ledger-db-0002")
        .await
        .unwrap();
    let migration_2: FoxMigration = api.get(NAMESPACE, "ledger-db-0002").unwrap();
    let status = migration_2.status.clone().unwrap();
    assert_eq!(status.phase, Some(MigrationPhase::Failed));
    let (ready_status, reason, message) = ready(&api, "ledger-db-0002");
    assert_eq!(
        (ready_status.as_str(), reason.as_str()),
        ("False", "TenantsFailed")
    );
    assert!(
        message.contains("1 of 3 tenant(s) failed: broken"),
        "{message}"
    );
    let failed: Vec<&str> = status
        .failed_tenants
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(failed, ["broken"], "{:?}", status.failed_tenants);
    assert!(
        status.failed_tenants[0]
            .message
            .contains("migration 1 (step 1) up failed"),
        "names the version and why: {}",
        status.failed_tenants[0].message
    );
    for tenant in ["acme", "globex"] {
        assert_eq!(
            rows(db.url(), &format!("SELECT * FROM {tenant}.ledger")).await,
            Some(1),
            "{tenant} migrated though broken failed"
        );
    }
    assert_eq!(rows(db.url(), "SELECT * FROM public.ledger").await, None);
    assert_eq!(
        rows(db.url(), "SELECT * FROM public.shared_settings").await,
        None
    );
    let events = api.events(NAMESPACE);
    assert!(
        events
            .iter()
            .any(|(t, r, m)| t == "Warning" && r == "TenantsFailed" && m.contains("broken")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(_, r, m)| r == "Applied"
                && m.contains("version 1 (step 1) applied in 2 tenant(s)")),
        "{events:?}"
    );

    // The database's own migration runs in the database alone.
    reconcile_migration(&api, &context, "ledger-db-0010")
        .await
        .unwrap();
    assert_eq!(ready(&api, "ledger-db-0010").0, "True");
    assert_eq!(
        rows(db.url(), "SELECT * FROM public.shared_settings").await,
        Some(0)
    );
    assert_eq!(
        rows(db.url(), "SELECT * FROM acme.shared_settings").await,
        None
    );

    // Fixed by hand: the next pass migrates the tenant and clears the list.
    owner
        .execute("DROP TABLE broken.ledger", &[])
        .await
        .unwrap();
    reconcile_migration(&api, &context, "ledger-db-0002")
        .await
        .unwrap();
    let migration_2: FoxMigration = api.get(NAMESPACE, "ledger-db-0002").unwrap();
    let status = migration_2.status.unwrap();
    assert_eq!(
        status.phase,
        Some(MigrationPhase::Applied),
        "{:?}",
        ready(&api, "ledger-db-0002")
    );
    assert!(status.failed_tenants.is_empty());
    assert_eq!(status.checksum.as_deref().map(str::len), Some(64));
    assert_eq!(rows(db.url(), "SELECT * FROM broken.ledger").await, Some(1));
    reconcile_migration(&api, &context, "ledger-db-0001")
        .await
        .unwrap();
    assert_eq!(ready(&api, "ledger-db-0001").0, "True");

    // rollbackTo on the FoxReplicaSet rolls back in every tenant.
    api.edit::<fox_crds::FoxReplicaSet>(NAMESPACE, "ledger-db", |r| r.spec.rollback_to = Some(1));
    reconcile_migration(&api, &context, "ledger-db-0002")
        .await
        .unwrap();
    let migration_2: FoxMigration = api.get(NAMESPACE, "ledger-db-0002").unwrap();
    assert_eq!(
        migration_2.status.unwrap().phase,
        Some(MigrationPhase::RolledBack),
        "{:?}",
        ready(&api, "ledger-db-0002")
    );
    for tenant in ["acme", "broken", "globex"] {
        assert_eq!(
            rows(db.url(), &format!("SELECT * FROM {tenant}.ledger")).await,
            Some(0),
            "{tenant}: version 2 rolled back, version 1 kept"
        );
    }
    owner.close().await;
}

#[tokio::test]
async fn a_tenant_migration_without_a_foxschema_listing_tenants_says_so() {
    let db = TestDatabase::create(Backend::Postgres).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "ledger-db", Backend::Postgres, db.url());
    api.insert(&in_every_tenant(migration(
        "ledger-db",
        1,
        "CREATE TABLE ledger (id BIGINT PRIMARY KEY)",
        None,
    )));
    assert!(
        reconcile_migration(&api, &context, "ledger-db-0001")
            .await
            .is_err()
    );
    let (status, reason, message) = ready(&api, "ledger-db-0001");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "TenantsNotListed")
    );
    assert!(
        message.contains("add spec.tenants to its FoxSchema"),
        "{message}"
    );
    assert_eq!(rows(db.url(), "SELECT * FROM ledger").await, None);
}
