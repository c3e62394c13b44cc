//! `tenantColumn`: on PostgreSQL `fox apply` installs a row-level security policy keyed on
//! `foxdb.tenant`, shown in the plan in words; introspection recognises it, so the re-plan is
//! empty; removing `tenantColumn` removes it. Engines without row-level security plan nothing
//! for it (their clients filter by tenant alone).

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, connect, execute, live_schema, plan, tables};

fn notes(tenant_column: Option<&str>) -> String {
    let tenant = tenant_column.map_or(String::new(), |c| format!("      tenantColumn: {c}\n"));
    format!(
        "    - name: notes\n{tenant}      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: tenant_id, type: varchar(64)}}\n        - {{name: org, type: varchar(64)}}\n        - {{name: body, type: text}}\n"
    )
}

#[tokio::test]
async fn tenant_column_installs_row_level_security_on_postgres_in_words() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let scoped = tables(&notes(Some("tenant_id")));
    let first = plan(&database, &scoped).await;
    let words: Vec<String> = first.changes.iter().map(|c| c.change.to_string()).collect();
    assert!(
        words.iter().any(|w| w.starts_with(
            "isolate tenants of notes in the database: row-level security policy fox_tenant_isolation"
        ) && w.contains("only rows whose tenant_id equals it")),
        "{words:?}"
    );
    applied(apply(&database, &scoped, false).await);
    assert!(
        plan(&database, &scoped).await.is_empty(),
        "re-plan is empty"
    );
    let live = live_schema(&database).await;
    assert_eq!(
        live.table("notes")
            .expect("notes")
            .tenant_isolation
            .as_deref(),
        Some("tenant_id")
    );

    // The database keeps a session naming a tenant to its rows (as a role that is not a
    // superuser: superusers pass every policy).
    let role = format!("{}_app", database.name());
    execute(&database, &format!("CREATE ROLE \"{role}\"")).await;
    execute(&database, &format!("GRANT ALL ON notes TO \"{role}\"")).await;
    execute(
        &database,
        "INSERT INTO notes (tenant_id, org, body) VALUES ('acme', 'a', 'x'), ('globex', 'g', 'y')",
    )
    .await;
    let mut session = connect(&database).await;
    session
        .execute(&format!("SET ROLE \"{role}\""))
        .await
        .expect("sets the role");
    let every = session
        .fetch_text_rows("SELECT tenant_id FROM notes ORDER BY tenant_id", &[])
        .await
        .expect("reads");
    assert_eq!(every.len(), 2, "a session naming no tenant sees every row");
    session
        .execute("SELECT set_config('foxdb.tenant', 'acme', false)")
        .await
        .expect("names the tenant");
    let seen = session
        .fetch_text_rows("SELECT tenant_id FROM notes", &[])
        .await
        .expect("reads");
    assert_eq!(seen, [vec![Some("acme".to_string())]], "{seen:?}");
    let written = session
        .execute("INSERT INTO notes (tenant_id, org, body) VALUES ('globex', 'g', 'z')")
        .await;
    assert!(
        written.is_err(),
        "another tenant's row is refused: {written:?}"
    );
    session.close().await;

    // Another column replaces the policy; no tenantColumn removes it.
    let moved = tables(&notes(Some("org")));
    let replan = plan(&database, &moved).await;
    assert!(
        replan.changes.iter().any(|c| c
            .change
            .to_string()
            .ends_with("; replaces the policy on tenant_id")),
        "{:?}",
        replan.changes
    );
    applied(apply(&database, &moved, false).await);
    assert!(plan(&database, &moved).await.is_empty());
    let shared = tables(&notes(None));
    let words: Vec<String> = plan(&database, &shared)
        .await
        .changes
        .iter()
        .map(|c| c.change.to_string())
        .collect();
    assert!(
        words
            .iter()
            .any(|w| w.starts_with("stop isolating tenants of notes in the database")),
        "{words:?}"
    );
    applied(apply(&database, &shared, false).await);
    assert!(plan(&database, &shared).await.is_empty());
    assert_eq!(
        live_schema(&database)
            .await
            .table("notes")
            .expect("notes")
            .tenant_isolation,
        None
    );
    drop(database);
    let server = foxdb::Database::connect(&fox_e2e::postgres_server_url())
        .await
        .expect("connects");
    server
        .execute(&format!("DROP ROLE IF EXISTS \"{role}\""), &[])
        .await
        .expect("drops the role");
    server.close().await;
}

#[tokio::test]
async fn engines_without_row_level_security_plan_nothing_for_tenant_columns() {
    for engine in [Backend::MySql, Backend::Sqlite] {
        let database = TestDatabase::create(engine).await;
        let scoped = tables(&notes(Some("tenant_id")));
        let first = plan(&database, &scoped).await;
        assert!(
            first
                .changes
                .iter()
                .all(|c| !c.change.to_string().contains("isolate tenants")),
            "{engine}: {:?}",
            first.changes
        );
        applied(apply(&database, &scoped, false).await);
        assert!(
            plan(&database, &scoped).await.is_empty(),
            "{engine}: re-plan is empty"
        );
    }
}
