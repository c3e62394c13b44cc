//! Schema per tenant on PostgreSQL: one FoxSchema applied to 100 tenant schemas brings all of
//! them to the new version; the no-op plan for all of them is timed; a failure in one tenant
//! leaves the others applied and names the one that failed.
//!
//! `FOX_TENANT_SCHEMAS` sets the number of tenant schemas: 20 by default, so `make test` stays
//! quick; `FOX_TENANT_SCHEMAS=100` is the acceptance run (docs/multi-tenancy.md gives its
//! figures).

use std::time::Instant;

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::tenant_schemas::{apply_tenants, create_tenant_namespace, plan_tenants};
use fox_operator::engine::{ApplyOptions, ApplyOutcome};

use super::support::{tables, url};

fn notes(extra: &str) -> fox_crds::FoxSchema {
    tables(&format!(
        "    - name: notes\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: body, type: text}}\n{extra}"
    ))
}

fn options() -> ApplyOptions {
    ApplyOptions {
        schema_name: "test".into(),
        owner_uid: None,
        replaces: None,
        allow_destructive: false,
        require_approval: false,
        approve: None,
        approval_scope: None,
        dry_run: false,
        lock_timeout: std::time::Duration::from_secs(10),
    }
}

#[tokio::test]
async fn one_apply_brings_every_tenant_schema_to_the_new_version() {
    let count: usize = std::env::var("FOX_TENANT_SCHEMAS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let database = TestDatabase::create(Backend::Postgres).await;
    let server = url(&database);
    let tenants: Vec<String> = (0..count).map(|i| format!("tenant_{i:03}")).collect();
    for tenant in &tenants {
        create_tenant_namespace(&server, tenant)
            .await
            .unwrap_or_else(|e| panic!("creates {tenant}: {e}"));
    }
    let apply_all = async |schema: &fox_crds::FoxSchema| {
        apply_tenants(
            &server,
            &schema.spec,
            &tenants,
            &options(),
            &mut |_| {},
            &mut |_| {},
        )
        .await
    };

    let first = notes("");
    for result in apply_all(&first).await {
        assert!(
            matches!(result.outcome, Ok(ApplyOutcome::Applied { .. })),
            "{}: {:?}",
            result.tenant,
            result.outcome
        );
    }
    let second = notes("        - {name: score, type: integer, default: 0}\n");
    let started = Instant::now();
    let applied = apply_all(&second).await;
    let apply_time = started.elapsed();
    assert_eq!(applied.len(), count);
    for result in &applied {
        assert!(
            matches!(result.outcome, Ok(ApplyOutcome::Applied { .. })),
            "{}: {:?}",
            result.tenant,
            result.outcome
        );
    }

    // The no-op plan for every tenant.
    let started = Instant::now();
    let plans = plan_tenants(&server, &second.spec, &tenants).await;
    let plan_time = started.elapsed();
    for result in &plans {
        let plan = result.outcome.as_ref().expect("plans");
        assert!(plan.is_empty(), "{}: {:?}", result.tenant, plan.changes);
    }
    println!(
        "{count} tenant schemas: apply of one added column {:.2} s, no-op plan {:.2} s",
        apply_time.as_secs_f64(),
        plan_time.as_secs_f64()
    );
    assert!(
        plan_time.as_secs_f64() < 2.0 * (count as f64 / 100.0).max(1.0) * slack(),
        // 2 s for up to 100 tenants (FOX_TIMING_SLACK scales it on a loaded machine).
        "no-op plan of {count} tenants took {plan_time:?}"
    );

    // One tenant cannot take the next version: the others still do, and it is named.
    let broken = &tenants[count / 2];
    let session =
        foxdb::Database::connect(server.in_tenant_namespace(broken).expect("a url").expose())
            .await
            .expect("connects");
    session
        .execute("INSERT INTO notes (body, score) VALUES ('kept', 1)", &[])
        .await
        .expect("a row");
    session.close().await;
    let third = notes(
        "        - {name: score, type: integer, default: 0}\n        - {name: owner, type: text}\n",
    );
    let results = apply_all(&third).await;
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome.is_err())
        .map(|r| r.tenant.as_str())
        .collect();
    assert_eq!(
        failed,
        [broken.as_str()],
        "only the tenant holding rows fails"
    );
    let replanned = plan_tenants(&server, &third.spec, &tenants).await;
    for result in &replanned {
        let plan = result.outcome.as_ref().expect("plans");
        assert_eq!(
            plan.is_empty(),
            result.tenant != *broken,
            "{}: {:?}",
            result.tenant,
            plan.changes
        );
    }
}

/// Room for a loaded machine (CI shares its cores): `FOX_TIMING_SLACK`, default 1.
fn slack() -> f64 {
    std::env::var("FOX_TIMING_SLACK")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1.0)
}

#[tokio::test]
async fn sqlite_has_no_tenant_schemas() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let error = create_tenant_namespace(&url(&database), "acme")
        .await
        .expect_err("refused");
    assert!(error.to_string().contains("schema per tenant"), "{error}");
}

/// A manifest of `notes` for the tenant schemas `tenants`.
fn tenants_manifest(tenants: &[&str]) -> String {
    format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  tenants:\n    schemas: [{}]\n  tables:\n    - name: notes\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: body, type: text}}\n",
        tenants.join(", ")
    )
}

#[tokio::test]
async fn fox_apply_applies_a_manifests_tenant_list_and_names_the_tenant_that_failed() {
    use super::support::{fox, manifest_file, text};
    let database = TestDatabase::create(Backend::Postgres).await;
    let server = database.url().to_string();
    let first = manifest_file(&tenants_manifest(&["acme", "globex"]));
    let path = first.path.to_str().expect("utf-8").to_string();
    let applied = fox(&["apply", "-f", &path, "--database", &server]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    let out = text(&applied.stdout);
    assert!(out.contains("acme: applied plan"), "{out}");
    assert!(out.contains("globex: applied plan"), "{out}");

    let planned = fox(&[
        "plan",
        "-f",
        &path,
        "--database",
        &server,
        "--detailed-exitcode",
    ]);
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stdout));
    assert_eq!(
        text(&planned.stdout).matches("Plan: in sync.").count(),
        2,
        "{}",
        text(&planned.stdout)
    );

    // One more list entry is one more tenant; a tenant that cannot be applied is named and
    // the others are applied.
    let owner = foxdb::Database::connect(&server).await.expect("connects");
    owner
        .execute("CREATE SCHEMA broken", &[])
        .await
        .expect("creates");
    owner
        .execute("CREATE VIEW broken.notes AS SELECT 1 AS id", &[])
        .await
        .expect("creates");
    let second = manifest_file(&tenants_manifest(&["acme", "broken", "globex", "initech"]));
    let path = second.path.to_str().expect("utf-8").to_string();
    let applied = fox(&["apply", "-f", &path, "--database", &server]);
    assert_eq!(applied.status.code(), Some(1), "{}", text(&applied.stdout));
    let out = text(&applied.stdout);
    assert!(out.contains("acme: in sync"), "{out}");
    assert!(out.contains("initech: applied plan"), "{out}");
    assert!(out.contains("broken: FAILED"), "{out}");
    assert!(
        text(&applied.stderr).contains("1 tenant(s) failed: broken"),
        "{}",
        text(&applied.stderr)
    );
    let rows = owner
        .fetch_all("SELECT * FROM initech.notes", &[])
        .await
        .expect("initech's table exists");
    assert!(rows.is_empty());
    owner.close().await;
}

#[tokio::test]
async fn fox_apply_applies_a_manifests_tenant_databases_from_their_secrets() {
    use super::support::{fox, manifest_file, text};
    let server = TestDatabase::create(Backend::Postgres).await;
    let acme = TestDatabase::create(Backend::Postgres).await;
    let globex = TestDatabase::create(Backend::Postgres).await;
    let yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: acme-db}}\nstringData: {{url: \"{}\"}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {{name: globex-db}}\nstringData: {{url: \"{}\"}}\n---\napiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  tenants:\n    databases:\n      - {{name: acme, connection: {{name: acme-db}}}}\n      - {{name: globex, connection: {{name: globex-db}}}}\n  tables:\n    - name: notes\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: body, type: text}}\n",
        acme.url(),
        globex.url()
    );
    let manifest = manifest_file(&yaml);
    let path = manifest.path.to_str().expect("utf-8").to_string();
    let applied = fox(&["apply", "-f", &path, "--database", server.url()]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied.stderr));
    let out = text(&applied.stdout);
    assert!(out.contains("acme: applied plan"), "{out}");
    assert!(out.contains("globex: applied plan"), "{out}");
    for tenant in [&acme, &globex] {
        let db = foxdb::Database::connect(tenant.url())
            .await
            .expect("connects");
        db.fetch_all("SELECT * FROM notes", &[])
            .await
            .expect("the tenant's table exists");
        db.close().await;
    }
    let db = foxdb::Database::connect(server.url())
        .await
        .expect("connects");
    assert!(
        db.fetch_all("SELECT * FROM notes", &[]).await.is_err(),
        "the FoxSchema's own database is not a tenant"
    );
    db.close().await;
    let planned = fox(&["plan", "-f", &path, "--database", server.url()]);
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    assert_eq!(text(&planned.stdout).matches("Plan: in sync.").count(), 2);
}
