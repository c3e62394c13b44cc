//! docs/reference/helm-values.md and the Values table of charts/fox-operator/README.md: every
//! value of charts/fox-operator/values.yaml with its default and the comment above it, which is
//! its documentation (e2e/chart/check_values.py checks values files against the schema).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The comment lines right above each key of `yaml`, joined, by dotted path.
fn comments(yaml: &str) -> BTreeMap<String, String> {
    let mut found = BTreeMap::new();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    for line in yaml.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() {
            pending.clear();
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            pending.push(comment.trim().to_string());
            continue;
        }
        if trimmed.starts_with("- ") {
            continue;
        }
        let Some((key, rest)) = trimmed.split_once(':') else {
            continue;
        };
        while stack.last().is_some_and(|(level, _)| *level >= indent) {
            stack.pop();
        }
        let mut path: Vec<&str> = stack.iter().map(|(_, k)| k.as_str()).collect();
        path.push(key);
        let path = path.join(".");
        if !pending.is_empty() {
            found.insert(path.clone(), pending.join(" "));
        }
        pending.clear();
        if rest.trim().is_empty() {
            stack.push((indent, key.to_string()));
        }
    }
    found
}

/// The leaves of `value` (an empty map or list is a leaf) with their dotted paths, in file order.
fn leaves(value: &serde_yaml_ng::Value, prefix: &str, out: &mut Vec<(String, serde_json::Value)>) {
    match value {
        serde_yaml_ng::Value::Mapping(map) if !map.is_empty() => {
            for (key, nested) in map {
                let key = key.as_str().expect("values.yaml keys are strings");
                leaves(nested, &format!("{prefix}{key}."), out);
            }
        }
        leaf => out.push((
            prefix.trim_end_matches('.').to_string(),
            serde_json::to_value(leaf).expect("a value is JSON"),
        )),
    }
}

/// The table of every value: path, default (as JSON), description.
pub fn values_table(root: &std::path::Path) -> String {
    let yaml = std::fs::read_to_string(root.join("charts/fox-operator/values.yaml"))
        .expect("reads values.yaml");
    let described = comments(&yaml);
    let values: serde_yaml_ng::Value = serde_yaml_ng::from_str(&yaml).expect("values.yaml parses");
    let mut found = Vec::new();
    leaves(&values, "", &mut found);
    let undocumented: Vec<&str> = found
        .iter()
        .filter(|(path, _)| !described.contains_key(path))
        .map(|(path, _)| path.as_str())
        .collect();
    assert!(
        undocumented.is_empty(),
        "values.yaml values without a comment above them: {undocumented:?}"
    );
    let mut out = String::from("| value | default | description |\n|---|---|---|\n");
    for (path, default) in &found {
        let default = serde_json::to_string(default).expect("JSON");
        writeln!(
            out,
            "| `{path}` | `{}` | {} |",
            default.replace('|', "\\|"),
            super::cell(&described[path])
        )
        .expect("writes");
    }
    out
}

/// docs/reference/helm-values.md.
pub fn page(root: &std::path::Path, note: &str) -> String {
    let mut out = note.to_string();
    out.push_str("# Helm values reference\n\n");
    out.push_str(
        "Every value of the `fox-operator` chart (`charts/fox-operator/values.yaml`, whose \
         comments this page is generated from) with its default. `values.schema.json` rejects \
         unknown keys and wrong types, so a misspelt value fails the install instead of being \
         ignored. Where a value becomes a `fox run` flag, the flag is named; the flags are in \
         the [command-line reference](cli.md#fox-run). Installing the chart is described in \
         [The operator](../operator.md).\n\n",
    );
    out.push_str(&values_table(root));
    out.push_str("\nNext: the permissions the chart grants, in the [RBAC reference](rbac.md).\n");
    out
}

/// `readme` with the table between its Values markers replaced by the generated one.
pub fn readme_with_table(readme: &str, table: &str) -> String {
    const START: &str =
        "<!-- values table: generated from values.yaml by operator/tests/reference_docs.rs -->\n";
    const END: &str = "<!-- end of values table -->";
    let (before, rest) = readme
        .split_once(START)
        .expect("charts/fox-operator/README.md marks its values table");
    let (_, after) = rest.split_once(END).expect("the values table's end marker");
    format!("{before}{START}{table}{END}{after}")
}
