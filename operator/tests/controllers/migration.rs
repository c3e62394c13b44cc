//! FoxMigration: version order, exactly once, checksum changes, rollback with `rollbackTo`.

use fox_crds::migration::MigrationPhase;
use fox_crds::{FoxMigration, FoxReplicaSet};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::controller::conditions::find_condition;

use crate::api_server::ApiServer;
use crate::fixtures::*;

fn steps() -> Vec<(u64, &'static str, &'static str)> {
    vec![
        (
            1,
            "CREATE TABLE ledger (id BIGINT PRIMARY KEY, note VARCHAR(50))",
            "DROP TABLE ledger",
        ),
        (
            2,
            "INSERT INTO ledger (id, note) VALUES (1, 'first')",
            "DELETE FROM ledger WHERE id = 1",
        ),
        (
            3,
            "CREATE TABLE audit_trail (id BIGINT PRIMARY KEY)",
            "DROP TABLE audit_trail",
        ),
    ]
}

async fn rows(url: &str, sql: &str) -> Option<usize> {
    let db = foxdb::Database::connect(url).await.unwrap();
    let result = db.fetch_all(sql, &[]).await.ok().map(|r| r.len());
    db.close().await;
    result
}

fn phase(api: &ApiServer, version: u64) -> Option<MigrationPhase> {
    let migration: FoxMigration = api
        .get(NAMESPACE, &format!("ledger-db-{version:04}"))
        .unwrap();
    migration.status.and_then(|s| s.phase)
}

#[tokio::test]
async fn migrations_apply_in_version_order_exactly_once_on_every_engine() {
    for engine in Backend::ALL {
        let db = TestDatabase::create(engine).await;
        let api = ApiServer::start();
        let context = context(&api);
        database(&api, "ledger-db", engine, db.url());
        for (version, up, down) in steps() {
            api.insert(&migration("ledger-db", version, up, Some(down)));
        }
        // The newest is reconciled first: the older ones still run first, in order.
        reconcile_migration(&api, &context, "ledger-db-0003")
            .await
            .unwrap();
        assert_eq!(phase(&api, 3), Some(MigrationPhase::Applied), "{engine}");
        assert_eq!(
            rows(db.url(), "SELECT note FROM ledger").await,
            Some(1),
            "{engine}: v2 ran after v1"
        );
        assert_eq!(rows(db.url(), "SELECT id FROM audit_trail").await, Some(0));

        // Reconciling the others records their status without running anything again (the
        // INSERT of version 2 would fail on the primary key if it ran twice).
        reconcile_migration(&api, &context, "ledger-db-0002")
            .await
            .unwrap();
        reconcile_migration(&api, &context, "ledger-db-0001")
            .await
            .unwrap();
        reconcile_migration(&api, &context, "ledger-db-0003")
            .await
            .unwrap();
        for version in 1..=3 {
            assert_eq!(
                phase(&api, version),
                Some(MigrationPhase::Applied),
                "{engine} v{version}"
            );
        }
        let migration: FoxMigration = api.get(NAMESPACE, "ledger-db-0002").unwrap();
        let status = migration.status.unwrap();
        assert_eq!(status.checksum.as_deref().map(str::len), Some(64));
        assert!(status.applied_at.is_some() && status.duration_ms.is_some());
        let ready = find_condition(&status.conditions, "Ready").unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.observed_generation),
            ("True", Some(1))
        );
        let metrics = context.metrics.render();
        assert!(
            metrics.contains("fox_migrations_total{direction=\"up\",namespace=\"shop\",replicaset=\"ledger-db\"} 3"),
            "{engine}: {metrics}"
        );
        let events = api.events(NAMESPACE);
        assert_eq!(
            events.iter().filter(|(_, r, _)| r == "Applied").count(),
            3,
            "{events:?}"
        );
    }
}

#[tokio::test]
async fn rollback_to_runs_down_steps_newest_first_and_reapplies_when_lifted() {
    for engine in [Backend::Postgres, Backend::MySql] {
        let db = TestDatabase::create(engine).await;
        let api = ApiServer::start();
        let context = context(&api);
        database(&api, "ledger-db", engine, db.url());
        for (version, up, down) in steps() {
            api.insert(&migration("ledger-db", version, up, Some(down)));
        }
        reconcile_migration(&api, &context, "ledger-db-0003")
            .await
            .unwrap();

        api.edit::<FoxReplicaSet>(NAMESPACE, "ledger-db", |rs| rs.spec.rollback_to = Some(1));
        // Any FoxMigration above the target rolls back every applied version above it.
        reconcile_migration(&api, &context, "ledger-db-0002")
            .await
            .unwrap();
        reconcile_migration(&api, &context, "ledger-db-0003")
            .await
            .unwrap();
        assert_eq!(
            rows(db.url(), "SELECT id FROM audit_trail").await,
            None,
            "{engine}: v3 down ran"
        );
        assert_eq!(
            rows(db.url(), "SELECT note FROM ledger").await,
            Some(0),
            "{engine}: v2 down ran"
        );
        assert_eq!(phase(&api, 3), Some(MigrationPhase::RolledBack));
        assert_eq!(phase(&api, 2), Some(MigrationPhase::RolledBack));
        reconcile_migration(&api, &context, "ledger-db-0001")
            .await
            .unwrap();
        assert_eq!(phase(&api, 1), Some(MigrationPhase::Applied));
        let rolled: FoxMigration = api.get(NAMESPACE, "ledger-db-0003").unwrap();
        let ready = find_condition(&rolled.status.unwrap().conditions, "Ready")
            .unwrap()
            .clone();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("True", "RolledBack")
        );
        let events = api.events(NAMESPACE);
        assert_eq!(
            events.iter().filter(|(_, r, _)| r == "RolledBack").count(),
            2,
            "{events:?}"
        );

        api.edit::<FoxReplicaSet>(NAMESPACE, "ledger-db", |rs| rs.spec.rollback_to = None);
        reconcile_migration(&api, &context, "ledger-db-0003")
            .await
            .unwrap();
        assert_eq!(phase(&api, 3), Some(MigrationPhase::Applied), "{engine}");
        assert_eq!(rows(db.url(), "SELECT note FROM ledger").await, Some(1));
    }
}

#[tokio::test]
async fn a_changed_migration_is_reported_and_never_rerun() {
    let db = TestDatabase::create(Backend::Sqlite).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "ledger-db", Backend::Sqlite, db.url());
    for (version, up, down) in steps() {
        api.insert(&migration("ledger-db", version, up, Some(down)));
    }
    reconcile_migration(&api, &context, "ledger-db-0003")
        .await
        .unwrap();
    api.edit::<FoxMigration>(NAMESPACE, "ledger-db-0002", |m| {
        m.spec.up = Some("INSERT INTO ledger (id, note) VALUES (2, 'edited')".into());
    });
    let error = reconcile_migration(&api, &context, "ledger-db-0002").await;
    let migration: FoxMigration = api.get(NAMESPACE, "ledger-db-0002").unwrap();
    let status = migration.status.unwrap();
    let failed = find_condition(&status.conditions, "Failed").unwrap();
    assert_eq!(failed.status, "True", "{error:?}");
    assert!(failed.message.contains("checksum"), "{}", failed.message);
    assert_eq!(
        rows(db.url(), "SELECT note FROM ledger").await,
        Some(1),
        "never re-run"
    );
}

#[tokio::test]
async fn a_failing_migration_fails_alone_and_later_versions_wait() {
    let db = TestDatabase::create(Backend::Postgres).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "ledger-db", Backend::Postgres, db.url());
    api.insert(&migration(
        "ledger-db",
        1,
        "CREATE TABLE ledger (id BIGINT PRIMARY KEY)",
        None,
    ));
    api.insert(&migration(
        "ledger-db",
        2,
        "INSERT INTO missing_table VALUES (1)",
        None,
    ));
    api.insert(&migration(
        "ledger-db",
        3,
        "CREATE TABLE later (id BIGINT)",
        None,
    ));
    let error = reconcile_migration(&api, &context, "ledger-db-0003")
        .await
        .unwrap_err();
    assert!(error.to_string().contains("migration 2"), "{error}");
    assert_eq!(phase(&api, 3), Some(MigrationPhase::Pending));
    reconcile_migration(&api, &context, "ledger-db-0002")
        .await
        .unwrap_err();
    assert_eq!(phase(&api, 2), Some(MigrationPhase::Failed));
    let migration: FoxMigration = api.get(NAMESPACE, "ledger-db-0002").unwrap();
    let failed = find_condition(&migration.status.unwrap().conditions, "Failed")
        .unwrap()
        .clone();
    assert!(
        failed.message.contains("missing_table"),
        "{}",
        failed.message
    );
    assert_eq!(
        rows(db.url(), "SELECT id FROM ledger").await,
        Some(0),
        "version 1 stays applied"
    );
    assert_eq!(
        rows(db.url(), "SELECT id FROM later").await,
        None,
        "version 3 waits"
    );
}

#[tokio::test]
async fn a_failed_statement_reaches_conditions_and_events_without_its_literals() {
    let (logs, _guard) = LogCapture::start();
    let db = TestDatabase::create(Backend::Postgres).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "roles-db", Backend::Postgres, db.url());
    api.insert(&migration(
        "roles-db",
        1,
        &format!("CREATE ROLE fox_never_made WITH NOSUCHOPTION PASSWORD '{DISTINCTIVE_PASSWORD}'"),
        None,
    ));
    reconcile_migration(&api, &context, "roles-db-0001")
        .await
        .unwrap_err();
    let migration: FoxMigration = api.get(NAMESPACE, "roles-db-0001").unwrap();
    let conditions = migration.status.unwrap().conditions;
    let failed = find_condition(&conditions, "Failed").unwrap();
    assert!(
        failed
            .message
            .contains("CREATE ROLE fox_never_made WITH NOSUCHOPTION PASSWORD '?'"),
        "the statement is shown by its shape: {}",
        failed.message
    );
    for condition in &conditions {
        assert!(
            !condition.message.contains(DISTINCTIVE_PASSWORD),
            "{condition:?}"
        );
    }
    let events = api.events(NAMESPACE);
    assert!(!events.is_empty());
    for (_, _, note) in &events {
        assert!(!note.contains(DISTINCTIVE_PASSWORD), "{note}");
    }
    assert!(
        !logs.text().contains(DISTINCTIVE_PASSWORD),
        "logged: {}",
        logs.text()
            .lines()
            .filter(|l| l.contains(DISTINCTIVE_PASSWORD))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
