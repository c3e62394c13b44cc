//! The committed CRD YAML is what the code generates, and every schema follows the rules the
//! API server enforces for structural schemas.

use std::path::Path;

use fox_crds::crdgen::{crd_file_name, crd_yaml, custom_resource_definitions};
use serde_json::Value;

fn repository_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crds/ has a parent")
}

#[test]
fn committed_crd_yaml_is_up_to_date() {
    for directory in ["crds", "charts/fox-operator/files/crds"] {
        for crd in custom_resource_definitions() {
            let path = repository_root().join(directory).join(crd_file_name(&crd));
            let committed = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}; run `make crds`", path.display()));
            assert!(
                committed == crd_yaml(&crd).expect("serializes"),
                "{} is stale; run `make crds` and commit the result",
                path.display()
            );
        }
    }
}

#[test]
fn crds_have_names_categories_printer_columns_and_status() {
    let crds = custom_resource_definitions();
    let short: Vec<_> = crds
        .iter()
        .map(|c| c.spec.names.short_names.clone().unwrap_or_default())
        .collect();
    assert_eq!(short, vec![vec!["fxm"], vec!["fxrs"], vec!["fxs"]]);
    for crd in &crds {
        assert_eq!(crd.spec.group, "foxdb.dev");
        assert_eq!(
            crd.spec.names.categories.as_deref(),
            Some(&["fox".to_string()][..])
        );
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1alpha1");
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some()
        );
        let columns: Vec<&str> = version
            .additional_printer_columns
            .iter()
            .flatten()
            .map(|c| c.name.as_str())
            .collect();
        assert!(columns.contains(&"Ready"), "{columns:?}");
        assert!(columns.contains(&"Age"), "{columns:?}");
    }
}

/// Collects violations of the structural schema rules:
/// <https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema>
fn structural_violations(node: &Value, path: &str, out: &mut Vec<String>) {
    let object = node.as_object().expect("schema nodes are objects");
    let flag = |name: &str| object.get(name).and_then(Value::as_bool).unwrap_or(false);
    if object
        .get("type")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
        && !flag("x-kubernetes-int-or-string")
        && !flag("x-kubernetes-preserve-unknown-fields")
    {
        out.push(format!("{path}: no type"));
    }
    for forbidden in [
        "$ref",
        "definitions",
        "$schema",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
    ] {
        if object.contains_key(forbidden) {
            out.push(format!("{path}: uses {forbidden}"));
        }
    }
    if object.contains_key("properties") && object.contains_key("additionalProperties") {
        out.push(format!("{path}: both properties and additionalProperties"));
    }
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            structural_violations(child, &format!("{path}.{name}"), out);
        }
    }
    if let Some(items) = object.get("items") {
        structural_violations(items, &format!("{path}[]"), out);
    }
    if let Some(additional) = object.get("additionalProperties").filter(|a| a.is_object()) {
        structural_violations(additional, &format!("{path}{{}}"), out);
    }
    if let Some(required) = object.get("required").and_then(Value::as_array) {
        let properties = object.get("properties").and_then(Value::as_object);
        for name in required.iter().filter_map(Value::as_str) {
            if properties.is_none_or(|p| !p.contains_key(name)) {
                out.push(format!("{path}: requires undeclared field {name}"));
            }
        }
    }
}

#[test]
fn crd_schemas_are_structural() {
    for crd in custom_resource_definitions() {
        let schema = crd.spec.versions[0]
            .schema
            .as_ref()
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .expect("every version has a schema");
        let schema = serde_json::to_value(schema).expect("serializes");
        let mut violations = Vec::new();
        structural_violations(&schema, &crd.spec.names.kind, &mut violations);
        assert!(violations.is_empty(), "{violations:#?}");
        let top: Vec<&String> = schema["properties"]
            .as_object()
            .expect("top-level properties")
            .keys()
            .collect();
        assert_eq!(top, ["spec", "status"], "metadata must not be restricted");
    }
}

#[test]
fn every_field_is_documented() {
    fn undocumented(node: &Value, path: &str, out: &mut Vec<String>) {
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            for (name, child) in properties {
                let child_path = format!("{path}.{name}");
                if child
                    .get("description")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    out.push(child_path.clone());
                }
                undocumented(child, &child_path, out);
            }
        }
        if let Some(items) = node.get("items") {
            undocumented(items, &format!("{path}[]"), out);
        }
    }
    for crd in custom_resource_definitions() {
        let schema = serde_json::to_value(
            crd.spec.versions[0]
                .schema
                .as_ref()
                .and_then(|s| s.open_api_v3_schema.as_ref()),
        )
        .expect("serializes");
        let mut missing = Vec::new();
        // Conditions come from Kubernetes' own type and carry its documentation.
        undocumented(&schema["properties"]["spec"], "spec", &mut missing);
        assert!(missing.is_empty(), "{}: {missing:#?}", crd.spec.names.kind);
    }
}

#[test]
fn every_integer_is_an_int64_with_explicit_bounds() {
    fn unbounded(node: &Value, path: &str, out: &mut Vec<String>) {
        match node {
            Value::Object(map) => {
                if map.get("type").and_then(Value::as_str) == Some("integer") {
                    let format = map.get("format").and_then(Value::as_str);
                    let minimum = map.get("minimum").and_then(Value::as_f64);
                    let maximum = map.get("maximum").and_then(Value::as_f64);
                    let exact = fox_crds::crdgen::MAX_EXACT_INTEGER as f64;
                    let bounded = matches!((minimum, maximum), (Some(low), Some(high))
                        if low >= -exact && high <= exact && low <= high);
                    if format != Some("int64") || !bounded {
                        out.push(format!("{path}: {format:?} {minimum:?}..{maximum:?}"));
                    }
                }
                for (key, child) in map {
                    unbounded(child, &format!("{path}.{key}"), out);
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    unbounded(child, &format!("{path}[{index}]"), out);
                }
            }
            _ => {}
        }
    }
    for crd in custom_resource_definitions() {
        let schema = serde_json::to_value(&crd.spec.versions[0].schema).expect("serializes");
        let mut found = Vec::new();
        unbounded(&schema, &crd.spec.names.kind, &mut found);
        assert!(found.is_empty(), "{found:#?}");
        let text = crd_yaml(&crd).expect("serializes");
        for format in ["uint8", "uint16", "uint32", "uint64"] {
            assert!(!text.contains(&format!("format: {format}")), "{format}");
        }
    }
}

/// What the API server admits at a field's bounds, the operator can read.
#[test]
fn every_integer_at_its_schema_maximum_deserializes() {
    let replica_set = serde_json::json!({
        "apiVersion": "foxdb.dev/v1alpha1", "kind": "FoxReplicaSet",
        "metadata": {"name": "a", "namespace": "n"},
        "spec": {"engine": "postgresql",
                 "primary": {"name": "p", "connection": {"name": "s", "key": "url"}, "weight": 1000},
                 "rollbackTo": fox_crds::crdgen::MAX_EXACT_INTEGER,
                 "pool": {"maxConnections": 10000, "minConnections": 10000, "idleTimeoutSeconds": 86400,
                          "acquireTimeoutSeconds": 3600, "retries": 100, "healthCheckIntervalSeconds": 86400},
                 "routing": {"maxReplicaLagSeconds": 86400, "readYourWritesSeconds": 3600}}
    });
    serde_json::from_value::<fox_crds::FoxReplicaSet>(replica_set).expect("reads");
    let migration = serde_json::json!({
        "apiVersion": "foxdb.dev/v1alpha1", "kind": "FoxMigration",
        "metadata": {"name": "a", "namespace": "n"},
        "spec": {"databaseRef": {"name": "db"}, "version": fox_crds::crdgen::MAX_EXACT_INTEGER,
                 "name": "x", "up": "select 1"}
    });
    serde_json::from_value::<fox_crds::FoxMigration>(migration).expect("reads");
}

fn spec_schema(kind: &str) -> Value {
    let crd = custom_resource_definitions()
        .into_iter()
        .find(|c| c.spec.names.kind == kind)
        .expect("kind");
    serde_json::to_value(&crd.spec.versions[0].schema).expect("serializes")["openAPIV3Schema"]
        ["properties"]["spec"]
        .clone()
}

fn rules(node: &Value) -> Vec<String> {
    node["x-kubernetes-validations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["rule"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn the_api_server_refuses_what_it_can_check_itself() {
    let schema = spec_schema("FoxSchema");
    assert_eq!(
        rules(&schema["properties"]["databaseRef"]),
        ["self == oldSelf"]
    );
    let migration = spec_schema("FoxMigration");
    for field in ["databaseRef", "version", "up"] {
        assert_eq!(
            rules(&migration["properties"][field]),
            ["self == oldSelf"],
            "{field}"
        );
    }
    assert_eq!(
        rules(&migration),
        [
            "!(has(self.up) && has(self.upCommands))",
            "!(has(self.down) && has(self.downCommands))"
        ]
    );
}

#[test]
fn every_kind_shows_the_ready_reason_and_message() {
    for crd in custom_resource_definitions() {
        let columns = crd.spec.versions[0]
            .additional_printer_columns
            .clone()
            .unwrap_or_default();
        let column = |name: &str| {
            columns
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{}: no {name} column", crd.spec.names.kind))
                .clone()
        };
        assert_eq!(
            column("Reason").json_path,
            ".status.conditions[?(@.type==\"Ready\")].reason"
        );
        assert_eq!(
            column("Message").json_path,
            ".status.conditions[?(@.type==\"Ready\")].message"
        );
        assert_eq!(column("Message").priority, Some(1), "wide output only");
    }
}

/// The property `path` (dot-separated, `[]` for array items) of `kind`'s spec schema.
fn spec_property<'a>(crds: &'a [Value], kind: &str, path: &str) -> &'a Value {
    let crd = crds
        .iter()
        .find(|c| c["spec"]["names"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no CRD for {kind}"));
    let mut schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
    for step in path.split('.') {
        schema = match step.strip_suffix("[]") {
            Some(array) => &schema["properties"][array]["items"],
            None => &schema["properties"][step],
        };
        assert!(!schema.is_null(), "{kind}: no {path} (at {step})");
    }
    schema
}

#[test]
fn names_the_api_server_can_check_carry_the_rules_validation_enforces() {
    use fox_crds::identifier::{
        IDENTIFIER_PATTERN, MAX_IDENTIFIER_BYTES, RESERVED_PREFIX_RULE, identifier_problem,
    };
    let crds: Vec<Value> = custom_resource_definitions()
        .iter()
        .map(|crd| serde_json::to_value(crd).expect("serializes"))
        .collect();
    for path in [
        "tables[].name",
        "tables[].columns[].name",
        "tables[].columns[].references.table",
        "tables[].indexes[].name",
        "tables[].indexes[].columns[]",
        "tables[].relations[].name",
    ] {
        let schema = spec_property(&crds, "FoxSchema", path);
        assert_eq!(schema["maxLength"], MAX_IDENTIFIER_BYTES, "{path}");
        assert_eq!(schema["minLength"], 1, "{path}");
        assert_eq!(schema["pattern"], IDENTIFIER_PATTERN, "{path}");
    }
    for path in ["tables[].name", "tables[].indexes[].name"] {
        let rules = &spec_property(&crds, "FoxSchema", path)["x-kubernetes-validations"];
        assert_eq!(rules[0]["rule"], RESERVED_PREFIX_RULE, "{path}");
    }
    let name = spec_property(&crds, "FoxMigration", "name");
    assert_eq!(
        name["maxLength"],
        fox_crds::migration::MAX_MIGRATION_NAME_CHARS
    );
    // validate() refuses the same names, for manifests that never meet an API server.
    let migration = |name: String| -> fox_crds::FoxMigration {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "foxdb.dev/v1alpha1", "kind": "FoxMigration",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {"databaseRef": {"name": "db"}, "version": 1, "name": name, "up": "select 1"}
        }))
        .expect("reads")
    };
    assert!(migration("é".repeat(255)).validate().is_ok());
    let error = migration("é".repeat(256)).validate().expect_err("too long");
    assert!(error.to_string().contains("at most 255"), "{error}");
    let version = spec_property(&crds, "FoxMigration", "version");
    assert_eq!(
        (version["minimum"].as_f64(), version["type"].as_str()),
        (Some(1.0), Some("integer"))
    );

    // The pattern refuses what validate() refuses, apart from the length in bytes (maxLength
    // counts characters), and accepts the rest.
    let pattern = regex::Regex::new(IDENTIFIER_PATTERN).expect("RE2 syntax");
    for name in [
        "order",
        "Order Items",
        "größe_€_名前",
        "a",
        " leading",
        "x\u{FFFF}",
        "",
        "a.b",
        "a\nb",
        "a\0b",
        "trailing ",
        "party_🎉",
        "\u{85}",
        "tab\t",
    ] {
        assert_eq!(
            pattern.is_match(name),
            identifier_problem(name).is_none(),
            "{name:?}: {:?}",
            identifier_problem(name)
        );
    }
}
