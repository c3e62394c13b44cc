//! The CustomResourceDefinitions of FoxDB as objects and as the YAML committed in `crds/`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::{
    CustomResourceDefinition, JSONSchemaProps,
};
use kube::CustomResourceExt;
use serde_json::{Value, json};

use crate::migration::FoxMigration;
use crate::replica_set::FoxReplicaSet;
use crate::schema::FoxSchema;

/// The three CRDs, ordered by file name (`<plural>.foxdb.dev.yaml`).
pub fn custom_resource_definitions() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![FoxReplicaSet::crd(), FoxSchema::crd(), FoxMigration::crd()];
    for crd in &mut crds {
        for version in &mut crd.spec.versions {
            if let Some(schema) = version
                .schema
                .as_mut()
                .and_then(|s| s.open_api_v3_schema.as_mut())
            {
                bound_integers(schema);
            }
        }
    }
    crds.sort_by_key(crd_file_name);
    crds
}

/// Makes every integer of `schema` an `int64` with an explicit `minimum` and `maximum`.
///
/// schemars writes Rust's unsigned types as `format: uint32`/`uint64` with only a minimum;
/// the API server ignores those formats (and Kubernetes 1.34+ warns about them), so it would
/// store `4294967296` in a `u32` field that the operator then cannot read. The bounds are the
/// Rust type's own, narrowed by any `range` the field declares, so whatever the API server
/// admits deserializes.
fn bound_integers(schema: &mut JSONSchemaProps) {
    let Ok(mut value) = serde_json::to_value(&*schema) else {
        return;
    };
    bound_integer_nodes(&mut value);
    if let Ok(bounded) = serde_json::from_value(value) {
        *schema = bounded;
    }
}

/// The largest whole number a JSON number carries exactly everywhere (2^53 - 1): the bound of
/// the 64-bit fields (a migration version such as `20261127120000` is far below it).
pub const MAX_EXACT_INTEGER: i64 = (1 << 53) - 1;

fn bound_integer_nodes(node: &mut Value) {
    match node {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("integer") {
                let (low, high): (i64, i64) = match map.get("format").and_then(Value::as_str) {
                    Some("uint8") => (0, u8::MAX.into()),
                    Some("int8") => (i8::MIN.into(), i8::MAX.into()),
                    Some("uint16") => (0, u16::MAX.into()),
                    Some("int16") => (i16::MIN.into(), i16::MAX.into()),
                    Some("uint32") => (0, u32::MAX.into()),
                    Some("int32") => (i32::MIN.into(), i32::MAX.into()),
                    Some("uint64" | "uint") => (0, MAX_EXACT_INTEGER),
                    _ => (-MAX_EXACT_INTEGER, MAX_EXACT_INTEGER),
                };
                let declared = |key: &str| map.get(key).and_then(Value::as_f64);
                // Declared bounds are whole numbers well inside i64.
                #[allow(clippy::cast_possible_truncation)]
                let minimum = declared("minimum").map_or(low, |m| (m.ceil() as i64).max(low));
                #[allow(clippy::cast_possible_truncation)]
                let maximum = declared("maximum").map_or(high, |m| (m.floor() as i64).min(high));
                map.insert("format".into(), json!("int64"));
                map.insert("minimum".into(), json!(minimum));
                map.insert("maximum".into(), json!(maximum));
            }
            for child in map.values_mut() {
                bound_integer_nodes(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integer_nodes),
        _ => {}
    }
}

/// File name a CRD is written to: `<plural>.<group>.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// One CRD as a YAML document, starting with `---`.
///
/// # Errors
/// When serialization fails, which only a bug in the types can cause.
pub fn crd_yaml(crd: &CustomResourceDefinition) -> Result<String, serde_yaml_ng::Error> {
    let yaml = serde_yaml_ng::to_string(crd)?;
    let mut out = String::with_capacity(yaml.len() + 4);
    out.push_str("---\n");
    for line in yaml.lines() {
        out.push_str(&quote_yaml11_boolean(line));
        out.push('\n');
    }
    Ok(out)
}

/// A plain scalar that YAML 1.1 reads as a boolean (`off`, `yes`, `n`, ...), quoted. The YAML
/// emitter writes YAML 1.2, where these are strings, but kubectl and Helm read YAML 1.1: an enum
/// value `off` (MongoDB's `validationLevel`) would reach the API server as `false`.
fn quote_yaml11_boolean(line: &str) -> std::borrow::Cow<'_, str> {
    const YAML11_BOOLEANS: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    let value_start = if let Some(rest) = line.trim_start().strip_prefix("- ") {
        line.len() - rest.len()
    } else if let Some(colon) = line.find(": ") {
        colon + 2
    } else {
        return line.into();
    };
    let value = &line[value_start..];
    if YAML11_BOOLEANS.contains(&value) {
        format!("{}'{value}'", &line[..value_start]).into()
    } else {
        line.into()
    }
}

/// Every CRD, concatenated in file-name order: what `fox crds` prints and what
/// `cat crds/*.yaml` shows.
///
/// # Errors
/// When serialization fails, which only a bug in the types can cause.
pub fn all_crds_yaml() -> Result<String, serde_yaml_ng::Error> {
    custom_resource_definitions().iter().map(crd_yaml).collect()
}

#[cfg(test)]
mod tests {
    use super::quote_yaml11_boolean;

    #[test]
    fn yaml11_booleans_are_quoted_and_other_scalars_left_alone() {
        assert_eq!(quote_yaml11_boolean("      - off"), "      - 'off'");
        assert_eq!(quote_yaml11_boolean("  default: no"), "  default: 'no'");
        assert_eq!(quote_yaml11_boolean("      - strict"), "      - strict");
        assert_eq!(quote_yaml11_boolean("  type: string"), "  type: string");
        assert_eq!(
            quote_yaml11_boolean("  description: off by one"),
            "  description: off by one"
        );
    }
}
