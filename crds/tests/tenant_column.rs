//! `tenantColumn` names a NOT NULL text column of its table; anything else is refused before
//! any DDL runs.

use fox_crds::manifest::{ManifestSet, parse_manifests};

fn problems(tenant_column: &str, tenant_type: &str) -> Vec<String> {
    let yaml = format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  tables:\n    - name: notes\n      tenantColumn: {tenant_column}\n      columns:\n        - {{name: id, type: integer, primaryKey: true}}\n        - {{name: tenant_id, {tenant_type}}}\n"
    );
    let mut set = ManifestSet::default();
    parse_manifests("s.yaml".as_ref(), &yaml, &mut set);
    set.problems.iter().map(|p| p.problem.to_string()).collect()
}

#[test]
fn a_not_null_text_tenant_column_is_accepted() {
    for ty in ["type: varchar(64)", "type: text", "type: char(8)"] {
        assert_eq!(problems("tenant_id", ty), Vec::<String>::new(), "{ty}");
    }
}

#[test]
fn a_missing_nullable_or_non_text_tenant_column_is_refused() {
    let missing = problems("org_id", "type: text");
    assert_eq!(
        missing,
        [
            "spec.tables[0].tenantColumn: tenant column \"org_id\" is not a column of table \"notes\""
        ]
    );
    let nullable = problems("tenant_id", "type: text, nullable: true");
    assert_eq!(nullable.len(), 1, "{nullable:?}");
    assert!(nullable[0].contains("must be NOT NULL"), "{nullable:?}");
    let number = problems("tenant_id", "type: bigint");
    assert_eq!(number.len(), 1, "{number:?}");
    assert!(number[0].contains("tenant ids are text"), "{number:?}");
}
