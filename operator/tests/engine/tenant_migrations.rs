//! Versioned migrations per tenant: FoxMigrations with `spec.tenants` run in every tenant of
//! the FoxSchema that lists them, each tenant with its own `_fox_migrations`; a tenant that
//! fails is named and the others are migrated; rollback is per tenant. Schema per tenant on
//! PostgreSQL, database per tenant on MariaDB and SQLite.

use std::time::Duration;

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::tenants::TenantTargets;
use fox_operator::migrate::MigrateOptions;
use fox_operator::migrate::source::Migration;
use fox_operator::migrate::tenants::{TenantCommand, TenantRun, migrate_tenants};

use super::support::{fox, manifest_file, text, url};

/// A FoxSchema of `notes` whose `spec.tenants` is `tenants_yaml` (indented by 4), on `db`.
fn tenants_schema(tenants_yaml: &str) -> String {
    format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: notes}}\nspec:\n  databaseRef: {{name: db}}\n  tenants:\n{tenants_yaml}  tables:\n    - name: notes\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: body, type: text}}\n"
    )
}

/// A FoxMigration of `db` running in the tenants `tenants` (flow YAML).
fn tenant_migration(version: u64, tenants: &str, up: &str, down: &str) -> String {
    format!(
        "---\napiVersion: foxdb.dev/v1alpha1\nkind: FoxMigration\nmetadata: {{name: ledger-{version}}}\nspec:\n  databaseRef: {{name: db}}\n  version: {version}\n  name: step {version}\n  tenants: {tenants}\n  up: \"{up}\"\n  down: \"{down}\"\n"
    )
}

fn ledger_migrations(second_tenants: &str) -> String {
    tenant_migration(
        1,
        "{all: true}",
        "CREATE TABLE ledger (id INT PRIMARY KEY, note VARCHAR(20))",
        "DROP TABLE ledger",
    ) + &tenant_migration(
        2,
        second_tenants,
        "INSERT INTO ledger (id, note) VALUES (1, 'first')",
        "DELETE FROM ledger WHERE id = 1",
    )
}

/// Rows of `sql` on `url`, or `None` when it fails (a missing table).
async fn rows(url: &str, sql: &str) -> Option<usize> {
    let db = foxdb::Database::connect(url).await.expect("connects");
    let found = db.fetch_all(sql, &[]).await.ok().map(|rows| rows.len());
    db.close().await;
    found
}

#[tokio::test]
async fn fox_migrate_runs_in_every_tenant_schema_and_names_the_tenant_that_failed() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let server = database.url().to_string();
    // `broken` holds a table named like the migration's: version 1 fails there.
    let owner = foxdb::Database::connect(&server).await.expect("connects");
    owner.execute("CREATE SCHEMA broken", &[]).await.unwrap();
    owner
        .execute("CREATE TABLE broken.ledger (other INT)", &[])
        .await
        .unwrap();
    let manifest = manifest_file(
        &(tenants_schema("    schemas: [acme, broken, globex]\n")
            + &ledger_migrations("{all: true}")),
    );
    let path = manifest.path.to_str().expect("utf-8").to_string();
    let migrate = |args: &[&str]| {
        let mut all = vec!["migrate"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-f", &path, "--database", &server]);
        fox(&all)
    };

    let up = migrate(&["up"]);
    let out = text(&up.stdout);
    assert_eq!(up.status.code(), Some(1), "{out}\n{}", text(&up.stderr));
    assert!(out.contains("3 tenant(s)"), "{out}");
    assert!(out.contains("Tenant acme"), "{out}");
    assert!(out.contains("Applied 2 migration(s)."), "{out}");
    assert!(
        out.contains("broken: FAILED: migration 1 (step 1) up failed"),
        "names the tenant, the version and why: {out}"
    );
    assert!(
        text(&up.stderr).contains("1 tenant(s) failed: broken"),
        "{}",
        text(&up.stderr)
    );
    for tenant in ["acme", "globex"] {
        assert_eq!(
            rows(&server, &format!("SELECT * FROM {tenant}.ledger")).await,
            Some(1),
            "{tenant} is migrated though broken failed"
        );
        assert_eq!(
            rows(&server, &format!("SELECT * FROM {tenant}._fox_migrations")).await,
            Some(2),
            "{tenant} keeps its own records"
        );
    }
    assert_eq!(
        rows(&server, "SELECT * FROM broken._fox_migrations").await,
        Some(0)
    );
    assert_eq!(
        rows(&server, "SELECT * FROM public.ledger").await,
        None,
        "the database's own schema is not a tenant"
    );

    // Status per tenant: applied in acme, pending in broken (exit 2 with the flag).
    let status = migrate(&["status", "--tenant", "acme"]);
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stdout));
    assert_eq!(text(&status.stdout).matches("applied").count(), 2);
    let status = migrate(&["status", "--detailed-exitcode"]);
    assert_eq!(status.status.code(), Some(2), "{}", text(&status.stdout));
    assert!(text(&status.stdout).contains("pending"));

    // Rollback in one tenant leaves the others as they are.
    let down = migrate(&["down", "--to", "0", "--tenant", "acme"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    assert!(text(&down.stdout).contains("Rolled back 2 migration(s)."));
    assert_eq!(rows(&server, "SELECT * FROM acme.ledger").await, None);
    assert_eq!(rows(&server, "SELECT * FROM globex.ledger").await, Some(1));

    // After the tenant is fixed, the next run completes every tenant.
    owner
        .execute("DROP TABLE broken.ledger", &[])
        .await
        .unwrap();
    let up = migrate(&["up"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stdout));
    assert!(
        text(&up.stdout).contains("Nothing to do"),
        "globex was up to date"
    );
    for tenant in ["acme", "broken", "globex"] {
        assert_eq!(
            rows(&server, &format!("SELECT * FROM {tenant}.ledger")).await,
            Some(1),
            "{tenant}"
        );
    }

    let unknown = migrate(&["up", "--tenant", "initech"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("tenant initech is not listed"),
        "{}",
        text(&unknown.stderr)
    );
    owner.close().await;
}

#[tokio::test]
async fn fox_migrate_runs_in_each_tenant_database_and_a_named_migration_in_its_tenants_alone() {
    let server = TestDatabase::create(Backend::MySql).await;
    let acme = TestDatabase::create(Backend::MySql).await;
    let globex = TestDatabase::create(Backend::MySql).await;
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: acme-db}}\nstringData: {{url: \"{}\"}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: globex-db}}\nstringData: {{url: \"{}\"}}\n---\n{}{}",
        acme.url(),
        globex.url(),
        tenants_schema(
            "    databases:\n      - {name: acme, connection: {name: acme-db}}\n      - {name: globex, connection: {name: globex-db}}\n"
        ),
        ledger_migrations("{names: [globex]}")
    );
    let manifest = manifest_file(&yaml);
    let path = manifest.path.to_str().expect("utf-8").to_string();
    let up = fox(&["migrate", "up", "-f", &path, "--database", server.url()]);
    assert_eq!(
        up.status.code(),
        Some(0),
        "{}{}",
        text(&up.stdout),
        text(&up.stderr)
    );
    assert_eq!(rows(acme.url(), "SELECT * FROM ledger").await, Some(0));
    assert_eq!(rows(globex.url(), "SELECT * FROM ledger").await, Some(1));
    assert_eq!(
        rows(acme.url(), "SELECT * FROM _fox_migrations").await,
        Some(1)
    );
    assert_eq!(
        rows(globex.url(), "SELECT * FROM _fox_migrations").await,
        Some(2)
    );
    assert_eq!(
        rows(server.url(), "SELECT * FROM ledger").await,
        None,
        "the FoxSchema's own database is not a tenant"
    );

    // Newest first, per tenant: globex rolls back version 2, acme version 1.
    let down = fox(&["migrate", "down", "-f", &path, "--database", server.url()]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down.stderr));
    assert_eq!(rows(acme.url(), "SELECT * FROM ledger").await, None);
    assert_eq!(rows(globex.url(), "SELECT * FROM ledger").await, Some(0));
}

#[tokio::test]
async fn migrations_run_in_each_sqlite_tenant_file_and_a_failing_one_is_reported_alone() {
    let acme = TestDatabase::create(Backend::Sqlite).await;
    let broken = TestDatabase::create(Backend::Sqlite).await;
    let globex = TestDatabase::create(Backend::Sqlite).await;
    let owner = foxdb::Database::connect(broken.url()).await.unwrap();
    owner
        .execute("CREATE TABLE ledger (other INT)", &[])
        .await
        .unwrap();
    owner.close().await;
    let targets = TenantTargets::Databases(vec![
        ("acme".into(), url(&acme)),
        ("broken".into(), url(&broken)),
        ("globex".into(), url(&globex)),
    ]);
    let tenants: Vec<String> = targets.names();
    let all = Some(fox_crds::tenants::MigrationTenants {
        all: true,
        names: Vec::new(),
    });
    let migration = |version: u64, up: &str, down: &str| Migration {
        version,
        name: format!("step {version}"),
        up: up.into(),
        down: Some(down.into()),
        transactional: true,
        origin: "test".into(),
        database_ref: Some("db".into()),
        tenants: all.clone(),
        imported_from: None,
    };
    let migrations = vec![
        migration(
            1,
            "CREATE TABLE ledger (id INT PRIMARY KEY, note TEXT)",
            "DROP TABLE ledger",
        ),
        migration(
            2,
            "INSERT INTO ledger VALUES (1, 'first')",
            "DELETE FROM ledger",
        ),
    ];
    let options = MigrateOptions {
        to: None,
        dry_run: false,
        allow_out_of_order: false,
        lock_timeout: Duration::from_secs(10),
    };
    let mut started = Vec::new();
    let results = migrate_tenants(
        &targets,
        &tenants,
        &migrations,
        TenantCommand::Up,
        &options,
        &mut |tenant| started.push(tenant.to_string()),
    )
    .await;
    assert_eq!(started, tenants, "every tenant is attempted, in order");
    for result in &results {
        match (result.tenant.as_str(), &result.outcome) {
            ("broken", Err(error)) => {
                assert!(
                    error.to_string().contains("migration 1 (step 1)"),
                    "{error}"
                );
            }
            (_, Ok(TenantRun::Ran(report))) => assert_eq!(report.ran.len(), 2, "{}", result.tenant),
            (tenant, outcome) => panic!("{tenant}: {outcome:?}"),
        }
    }
    for tenant in [&acme, &globex] {
        assert_eq!(rows(tenant.url(), "SELECT * FROM ledger").await, Some(1));
    }

    let down = migrate_tenants(
        &targets,
        &["acme".to_string()],
        &migrations,
        TenantCommand::Down,
        &MigrateOptions {
            to: Some(0),
            ..options.clone()
        },
        &mut |_| {},
    )
    .await;
    assert!(down[0].outcome.is_ok(), "{:?}", down[0].outcome);
    assert_eq!(rows(acme.url(), "SELECT * FROM ledger").await, None);
    assert_eq!(rows(globex.url(), "SELECT * FROM ledger").await, Some(1));
}

#[tokio::test]
async fn plain_sql_folders_run_in_the_tenants_named_and_unclear_files_are_refused() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let server = database.url().to_string();
    let folder = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        folder.path().join("1_ledger.up.sql"),
        "CREATE TABLE ledger (id INT PRIMARY KEY);",
    )
    .unwrap();
    std::fs::write(
        folder.path().join("1_ledger.down.sql"),
        "DROP TABLE ledger;",
    )
    .unwrap();
    let sql = folder.path().to_str().expect("utf-8").to_string();
    let schema = manifest_file(&tenants_schema("    schemas: [acme, globex]\n"));
    let schema_path = schema.path.to_str().expect("utf-8").to_string();

    let up = fox(&[
        "migrate",
        "up",
        "-f",
        &sql,
        "-f",
        &schema_path,
        "--database",
        &server,
        "--all-tenants",
    ]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stderr));
    for tenant in ["acme", "globex"] {
        assert_eq!(
            rows(&server, &format!("SELECT * FROM {tenant}.ledger")).await,
            Some(0),
            "{tenant}"
        );
    }
    // Without a FoxSchema in the files, --tenant names a schema on the database.
    let up = fox(&[
        "migrate",
        "up",
        "-f",
        &sql,
        "--database",
        &server,
        "--tenant",
        "initech",
    ]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up.stderr));
    assert_eq!(rows(&server, "SELECT * FROM initech.ledger").await, Some(0));
    assert_eq!(rows(&server, "SELECT * FROM public.ledger").await, None);

    // Migrations for tenants beside one for the database itself: refused, nothing run.
    let mixed = manifest_file(
        &(tenants_schema("    schemas: [acme]\n")
            + &tenant_migration(2, "{all: true}", "CREATE TABLE a (id INT)", "DROP TABLE a")
            + "---\napiVersion: foxdb.dev/v1alpha1\nkind: FoxMigration\nmetadata: {name: shared}\nspec:\n  databaseRef: {name: db}\n  version: 3\n  name: shared\n  up: CREATE TABLE b (id INT)\n"),
    );
    let refused = fox(&[
        "migrate",
        "up",
        "-f",
        mixed.path.to_str().expect("utf-8"),
        "--database",
        &server,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("has no spec.tenants but other FoxMigrations"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(rows(&server, "SELECT * FROM acme.a").await, None);
    // A FoxMigration for tenants with no FoxSchema listing them.
    let alone = manifest_file(&tenant_migration(
        2,
        "{all: true}",
        "CREATE TABLE a (id INT)",
        "DROP TABLE a",
    ));
    let refused = fox(&[
        "migrate",
        "up",
        "-f",
        alone.path.to_str().expect("utf-8"),
        "--database",
        &server,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("no FoxSchema in the files lists the tenants"),
        "{}",
        text(&refused.stderr)
    );
}
