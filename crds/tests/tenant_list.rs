//! `spec.tenants`: a FoxSchema lists tenant schemas or tenant databases, with names a schema
//! or database can have, each once; anything else is refused before any connection.

use fox_crds::manifest::{ManifestSet, parse_manifests};

fn problems(tenants: &str, policy: &str) -> Vec<String> {
    let yaml = format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  policy: {{{policy}}}\n  tenants: {tenants}\n  tables:\n    - name: notes\n      columns:\n        - {{name: id, type: integer, primaryKey: true}}\n"
    );
    let mut set = ManifestSet::default();
    parse_manifests("s.yaml".as_ref(), &yaml, &mut set);
    set.problems.iter().map(|p| p.problem.to_string()).collect()
}

#[test]
fn tenant_schemas_and_tenant_databases_are_accepted() {
    assert_eq!(
        problems("{schemas: [acme, globex, t_01]}", ""),
        Vec::<String>::new()
    );
    assert_eq!(
        problems(
            "{databases: [{name: acme, connection: {name: acme-db}}, {name: globex, connection: {name: globex-db, key: dsn}}]}",
            ""
        ),
        Vec::<String>::new()
    );
}

#[test]
fn bad_duplicate_mixed_or_missing_tenants_are_refused() {
    let bad = problems("{schemas: [Acme, acme-1, acme, acme]}", "");
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(
        bad[0].starts_with("spec.tenants.schemas[0]: tenant name \"Acme\""),
        "{bad:?}"
    );
    assert!(bad[1].starts_with("spec.tenants.schemas[1]"), "{bad:?}");
    assert_eq!(
        bad[2],
        "spec.tenants.schemas[3]: tenant \"acme\" is listed twice (also spec.tenants.schemas[2])"
    );
    let mixed = problems(
        "{schemas: [acme], databases: [{name: globex, connection: {name: g}}]}",
        "",
    );
    assert_eq!(mixed.len(), 1, "{mixed:?}");
    assert!(mixed[0].contains("one strategy"), "{mixed:?}");
    let empty = problems("{}", "");
    assert_eq!(empty.len(), 1, "{empty:?}");
    assert!(empty[0].contains("lists no tenant"), "{empty:?}");
    let approval = problems("{schemas: [acme]}", "requireApproval: true");
    assert_eq!(approval.len(), 1, "{approval:?}");
    assert!(approval[0].contains("requireApproval"), "{approval:?}");
}

fn migration_problems(tenants: &str) -> Vec<String> {
    let yaml = format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxMigration\nmetadata: {{name: m1}}\nspec:\n  databaseRef: {{name: db}}\n  version: 1\n  name: ledger\n  up: CREATE TABLE ledger (id INT)\n  tenants: {tenants}\n"
    );
    let mut set = ManifestSet::default();
    parse_manifests("m.yaml".as_ref(), &yaml, &mut set);
    set.problems.iter().map(|p| p.problem.to_string()).collect()
}

#[test]
fn a_migration_runs_in_all_tenants_or_in_named_ones() {
    assert_eq!(migration_problems("{all: true}"), Vec::<String>::new());
    assert_eq!(
        migration_problems("{names: [acme, globex]}"),
        Vec::<String>::new()
    );
    for neither_or_both in ["{}", "{all: false}", "{all: true, names: [acme]}"] {
        let bad = migration_problems(neither_or_both);
        assert_eq!(bad.len(), 1, "{neither_or_both}: {bad:?}");
        assert!(
            bad[0].starts_with("spec.tenants: give `all: true`"),
            "{bad:?}"
        );
    }
    let bad = migration_problems("{names: [Acme, acme, acme]}");
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(
        bad[0].starts_with("spec.tenants.names[0]: tenant name \"Acme\""),
        "{bad:?}"
    );
    assert_eq!(bad[1], "spec.tenants.names[2]: tenant acme is listed twice");
}
