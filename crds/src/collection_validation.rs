//! Checks of a FoxSchema's MongoDB `collections[]`: names, indexes, and validators that MongoDB's
//! `$jsonSchema` would refuse (or silently misread) at `create`/`collMod` time.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use crate::schema::{CollectionSpec, FoxSchemaSpec};
use crate::validation::Problems;

/// The `bsonType` aliases MongoDB accepts (plus `number`, which stands for any numeric type).
pub const BSON_TYPES: &[&str] = &[
    "double",
    "string",
    "object",
    "array",
    "binData",
    "undefined",
    "objectId",
    "bool",
    "date",
    "null",
    "regex",
    "dbPointer",
    "javascript",
    "symbol",
    "javascriptWithScope",
    "int",
    "timestamp",
    "long",
    "decimal",
    "minKey",
    "maxKey",
    "number",
];

/// The JSON Schema `type` names MongoDB's `$jsonSchema` accepts (it has no `integer`).
const JSON_TYPES: &[&str] = &["object", "array", "number", "boolean", "string", "null"];

/// Keywords of MongoDB's `$jsonSchema` dialect (draft 4 without `$ref`, `$schema`, `default`,
/// `definitions`, `format` and `id`, plus `bsonType`).
const KEYWORDS: &[&str] = &[
    "bsonType",
    "type",
    "required",
    "properties",
    "additionalProperties",
    "patternProperties",
    "minProperties",
    "maxProperties",
    "dependencies",
    "items",
    "additionalItems",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "enum",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "title",
    "description",
];

pub(crate) fn validate_collections(spec: &FoxSchemaSpec, problems: &mut Problems) {
    let mut names = HashMap::new();
    for (i, collection) in spec.collections.iter().enumerate() {
        let path = format!("spec.collections[{i}]");
        let name = &collection.name;
        if name.is_empty()
            || name.contains('\0')
            || name.contains('$')
            || name.starts_with("system.")
        {
            problems.add(
                format!("{path}.name"),
                format!("\"{}\" is not a valid MongoDB collection name (empty, contains '$' or NUL, or starts with \"system.\")", name.escape_default()),
            );
        } else if name.starts_with("_fox_") {
            problems.add(
                format!("{path}.name"),
                format!("\"{name}\" is reserved: FoxDB keeps its lock, history and migrations in _fox_ collections"),
            );
        }
        if let Some(first) = names.insert(name.clone(), i) {
            problems.add(
                format!("{path}.name"),
                format!("duplicate collection name \"{name}\" (also spec.collections[{first}])"),
            );
        }
        if let Some(validator) = &collection.validator {
            validate_validator(&format!("{path}.validator"), validator, problems);
        } else if collection.validation_level.is_some() || collection.validation_action.is_some() {
            problems.add(
                path.clone(),
                "validationLevel and validationAction need a validator",
            );
        }
        validate_indexes(&path, collection, problems);
    }
    if !spec.collections.is_empty() && !spec.seed.is_empty() {
        problems.add(
            "spec.seed",
            "seed rows are not supported for MongoDB collections; insert documents with a FoxMigration's upCommands",
        );
    }
}

fn validate_indexes(path: &str, collection: &CollectionSpec, problems: &mut Problems) {
    let declared = collection
        .validator
        .as_ref()
        .and_then(|v| v.get("$jsonSchema"))
        .and_then(Value::as_object)
        .filter(|schema| schema.contains_key("properties"))
        .map(|schema| {
            let mut paths = BTreeSet::new();
            declared_paths("", schema, &mut paths);
            paths
        });
    let mut index_names = HashMap::new();
    for (k, index) in collection.indexes.iter().enumerate() {
        let index_path = format!("{path}.indexes[{k}]");
        if index.keys.is_empty() {
            problems.add(
                format!("{index_path}.keys"),
                "an index needs at least one key",
            );
        }
        if let Some(name) = &index.name {
            if name.is_empty() || name == "_id_" {
                problems.add(
                    format!("{index_path}.name"),
                    format!("\"{name}\" cannot name an index (empty, or MongoDB's own _id_)"),
                );
            }
            if let Some(first) = index_names.insert(name.clone(), k) {
                problems.add(
                    format!("{index_path}.name"),
                    format!("duplicate index name \"{name}\" (also {path}.indexes[{first}])"),
                );
            }
        }
        for (f, key) in index.keys.iter().enumerate() {
            let key_path = format!("{index_path}.keys[{f}].field");
            if key.field.is_empty()
                || key.field.starts_with('$')
                || key.field.split('.').any(str::is_empty)
            {
                problems.add(
                    key_path,
                    format!("\"{}\" is not a valid field path", key.field),
                );
            } else if let Some(paths) = &declared
                && key.field != "_id"
                && !paths.contains(&key.field)
            {
                problems.add(
                    key_path,
                    format!(
                        "field \"{}\" is not declared in the validator's properties of collection \"{}\" (declared: {})",
                        key.field,
                        collection.name,
                        paths.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
        if index.expire_after_seconds.is_some() && index.keys.len() != 1 {
            problems.add(
                format!("{index_path}.expireAfterSeconds"),
                "a TTL index has exactly one key (a date field)",
            );
        }
    }
}

/// Every dotted field path `schema`'s `properties` declare, nested objects included.
fn declared_paths(prefix: &str, schema: &Map<String, Value>, paths: &mut BTreeSet<String>) {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return;
    };
    for (name, property) in properties {
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        if let Some(property) = property.as_object() {
            declared_paths(&path, property, paths);
            // An array of objects is indexed through the same dotted path (a multikey index).
            if let Some(items) = property.get("items").and_then(Value::as_object) {
                declared_paths(&path, items, paths);
            }
        }
        paths.insert(path);
    }
}

fn validate_validator(path: &str, validator: &Map<String, Value>, problems: &mut Problems) {
    match validator.get("$jsonSchema") {
        None => problems.add(
            path,
            "a validator is {\"$jsonSchema\": {...}}; give the JSON Schema under the $jsonSchema key",
        ),
        Some(Value::Object(schema)) => {
            validate_schema(&format!("{path}.$jsonSchema"), schema, problems);
        }
        Some(_) => problems.add(format!("{path}.$jsonSchema"), "must be an object"),
    }
    for key in validator.keys().filter(|k| *k != "$jsonSchema") {
        problems.add(
            format!("{path}.{key}"),
            "only $jsonSchema validators are supported; put the condition into the JSON Schema",
        );
    }
}

fn validate_schema(path: &str, schema: &Map<String, Value>, problems: &mut Problems) {
    for (keyword, value) in schema {
        let at = format!("{path}.{keyword}");
        match keyword.as_str() {
            "bsonType" => check_type_names(&at, value, BSON_TYPES, "bsonType", problems),
            "type" => check_type_names(&at, value, JSON_TYPES, "type", problems),
            "required" => {
                let strings = value
                    .as_array()
                    .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_string));
                if !strings {
                    problems.add(at, "required must be a non-empty array of field names (strings)");
                }
            }
            "properties" | "patternProperties" => match value.as_object() {
                Some(properties) => {
                    for (name, property) in properties {
                        match property.as_object() {
                            Some(property) => {
                                validate_schema(&format!("{at}.{name}"), property, problems);
                            }
                            None => problems.add(
                                format!("{at}.{name}"),
                                "must be a schema (an object)",
                            ),
                        }
                    }
                }
                None => problems.add(at, format!("{keyword} must be an object of schemas")),
            },
            "additionalProperties" | "additionalItems" => match value {
                Value::Bool(_) => {}
                Value::Object(inner) => validate_schema(&at, inner, problems),
                _ => problems.add(at, format!("{keyword} must be true, false or a schema")),
            },
            "items" => match value {
                Value::Object(inner) => validate_schema(&at, inner, problems),
                Value::Array(list) => validate_schema_list(&at, list, problems),
                _ => problems.add(at, "items must be a schema or an array of schemas"),
            },
            "allOf" | "anyOf" | "oneOf" => match value.as_array() {
                Some(list) if !list.is_empty() => validate_schema_list(&at, list, problems),
                _ => problems.add(at, format!("{keyword} must be a non-empty array of schemas")),
            },
            "not" => match value.as_object() {
                Some(inner) => validate_schema(&at, inner, problems),
                None => problems.add(at, "not must be a schema"),
            },
            "enum" => {
                if value.as_array().is_none_or(Vec::is_empty) {
                    problems.add(at, "enum must be a non-empty array");
                }
            }
            "minProperties" | "maxProperties" | "minItems" | "maxItems" | "minLength"
            | "maxLength" => {
                if value.as_u64().is_none() {
                    problems.add(at, format!("{keyword} must be a non-negative integer"));
                }
            }
            "minimum" | "maximum" | "multipleOf" => {
                if !value.is_number() {
                    problems.add(at, format!("{keyword} must be a number"));
                }
            }
            "exclusiveMinimum" | "exclusiveMaximum" | "uniqueItems" => {
                if !value.is_boolean() {
                    problems.add(at, format!("{keyword} must be true or false"));
                }
            }
            "pattern" | "title" | "description" => {
                if !value.is_string() {
                    problems.add(at, format!("{keyword} must be a string"));
                }
            }
            "dependencies" => {
                if !value.is_object() {
                    problems.add(at, "dependencies must be an object");
                }
            }
            other => problems.add(
                at,
                format!(
                    "\"{other}\" is not a keyword of MongoDB's $jsonSchema (it supports: {}; not $ref, $schema, default, definitions, format or id)",
                    KEYWORDS.join(", ")
                ),
            ),
        }
    }
}

fn validate_schema_list(path: &str, list: &[Value], problems: &mut Problems) {
    for (i, item) in list.iter().enumerate() {
        match item.as_object() {
            Some(inner) => validate_schema(&format!("{path}[{i}]"), inner, problems),
            None => problems.add(format!("{path}[{i}]"), "must be a schema (an object)"),
        }
    }
}

fn check_type_names(
    path: &str,
    value: &Value,
    known: &[&str],
    keyword: &str,
    problems: &mut Problems,
) {
    let names: Vec<&Value> = match value {
        Value::Array(list) if !list.is_empty() => list.iter().collect(),
        Value::Array(_) => {
            problems.add(path, format!("{keyword} must not be an empty array"));
            return;
        }
        single => vec![single],
    };
    for name in names {
        match name.as_str() {
            Some(name) if known.contains(&name) => {}
            Some(name) => problems.add(
                path,
                format!(
                    "unknown {keyword} \"{name}\" (one of: {})",
                    known.join(", ")
                ),
            ),
            None => problems.add(
                path,
                format!("{keyword} must be a type name or an array of type names"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::{CollectionIndexKey, CollectionIndexSpec};

    fn problems_of(collection: CollectionSpec) -> Vec<String> {
        let spec = FoxSchemaSpec {
            collections: vec![collection],
            ..FoxSchemaSpec::default()
        };
        let mut problems = Problems::default();
        validate_collections(&spec, &mut problems);
        match problems.into_result() {
            Ok(()) => Vec::new(),
            Err(error) => error.problems.iter().map(ToString::to_string).collect(),
        }
    }

    fn posts(validator: serde_json::Value, index_fields: &[&str]) -> CollectionSpec {
        CollectionSpec {
            name: "posts".into(),
            validator: validator.as_object().cloned(),
            indexes: index_fields
                .iter()
                .map(|f| CollectionIndexSpec {
                    keys: vec![CollectionIndexKey {
                        field: (*f).into(),
                        ..CollectionIndexKey::default()
                    }],
                    ..CollectionIndexSpec::default()
                })
                .collect(),
            ..CollectionSpec::default()
        }
    }

    #[test]
    fn a_valid_json_schema_validator_with_indexed_declared_fields_passes() {
        let validator = json!({"$jsonSchema": {
            "bsonType": "object",
            "required": ["title"],
            "properties": {
                "title": {"bsonType": "string", "maxLength": 200},
                "author": {"bsonType": "object", "properties": {"id": {"bsonType": ["int", "long"]}}},
                "tags": {"bsonType": "array", "items": {"bsonType": "string"}}
            }
        }});
        assert_eq!(
            problems_of(posts(validator, &["title", "author.id", "tags", "_id"])),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unknown_bson_types_and_a_required_that_is_not_a_list_of_names_are_refused() {
        let validator = json!({"$jsonSchema": {
            "bsonType": "object",
            "required": "title",
            "properties": {"title": {"bsonType": "text"}, "n": {"type": "integer"}}
        }});
        let problems = problems_of(posts(validator, &[]));
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(
            problems
                .iter()
                .any(|p| p.contains("required must be a non-empty array"))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("unknown bsonType \"text\""))
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("unknown type \"integer\""))
        );
    }

    #[test]
    fn keywords_outside_mongodb_json_schema_and_validators_without_json_schema_are_refused() {
        let problems = problems_of(posts(
            json!({"$jsonSchema": {"properties": {"a": {"format": "email"}}}}),
            &[],
        ));
        assert!(
            problems[0].contains("\"format\" is not a keyword"),
            "{problems:?}"
        );
        let problems = problems_of(posts(json!({"title": {"$type": "string"}}), &[]));
        assert!(problems[0].contains("give the JSON Schema under the $jsonSchema key"));
    }

    #[test]
    fn an_index_on_a_field_the_validator_does_not_declare_is_refused() {
        let validator = json!({"$jsonSchema": {"properties": {"title": {"bsonType": "string"}}}});
        let problems = problems_of(posts(validator, &["titel"]));
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].contains("field \"titel\" is not declared in the validator's properties of collection \"posts\" (declared: title)"),
            "{problems:?}"
        );
    }

    #[test]
    fn without_a_validator_any_field_path_may_be_indexed() {
        assert_eq!(
            problems_of(posts(serde_json::Value::Null, &["anything.nested"])),
            Vec::<String>::new()
        );
    }
}
