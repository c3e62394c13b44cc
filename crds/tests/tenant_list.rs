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
