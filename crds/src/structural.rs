//! Checks an object against a CRD's structural OpenAPI schema, as the API server does on
//! `kubectl apply` (unknown fields, types, enums, required fields, bounds), collecting every
//! problem instead of stopping at the first.

use serde_json::Value;

use crate::validation::Problems;

/// Walks `value` against `schema` (an `openAPIV3Schema` as JSON) and records each mismatch.
pub(crate) fn check_structure(value: &Value, schema: &Value, path: &str, problems: &mut Problems) {
    if value.is_null() {
        if !flag(schema, "nullable") && !flag(schema, "x-kubernetes-preserve-unknown-fields") {
            problems.add(path, "must not be null");
        }
        return;
    }
    if flag(schema, "x-kubernetes-int-or-string") {
        if !(value.is_string() || value.is_i64() || value.is_u64()) {
            problems.add(
                path,
                format!("expected an integer or a string, found {}", describe(value)),
            );
        }
        return;
    }
    let expected = schema.get("type").and_then(Value::as_str);
    let matches = match expected {
        None => true,
        Some("object") => value.is_object(),
        Some("array") => value.is_array(),
        Some("string") => value.is_string(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("boolean") => value.is_boolean(),
        Some(_) => true,
    };
    if !matches {
        problems.add(
            path,
            format!(
                "expected {}, found {}",
                expected.unwrap_or("a value"),
                describe(value)
            ),
        );
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        let names: Vec<String> = allowed.iter().map(Value::to_string).collect();
        problems.add(
            path,
            format!(
                "unsupported value {value}; expected one of {}",
                names.join(", ")
            ),
        );
    }
    check_bounds(value, schema, path, problems);
    match value {
        Value::Object(fields) => check_object(fields, schema, path, problems),
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    check_structure(item, item_schema, &format!("{path}[{i}]"), problems);
                }
            }
        }
        _ => {}
    }
}

fn check_object(
    fields: &serde_json::Map<String, Value>,
    schema: &Value,
    path: &str,
    problems: &mut Problems,
) {
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for key in required.iter().filter_map(Value::as_str) {
            if !fields.contains_key(key) {
                problems.add(join(key), "required field is missing");
            }
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let additional = schema.get("additionalProperties");
    for (key, field) in fields {
        if let Some(field_schema) = properties.and_then(|p| p.get(key)) {
            check_structure(field, field_schema, &join(key), problems);
        } else if let Some(additional) = additional.filter(|a| a.is_object()) {
            check_structure(field, additional, &join(key), problems);
        } else if properties.is_some() && !flag(schema, "x-kubernetes-preserve-unknown-fields") {
            let known: Vec<&str> = properties
                .map(|p| p.keys().map(String::as_str).collect())
                .unwrap_or_default();
            let hint = closest(key, &known)
                .map(|k| format!(" (did you mean \"{k}\"?)"))
                .unwrap_or_default();
            problems.add(join(key), format!("unknown field \"{key}\"{hint}"));
        }
    }
}

fn check_bounds(value: &Value, schema: &Value, path: &str, problems: &mut Problems) {
    if let Some(number) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && number < min
        {
            problems.add(path, format!("{value} is less than the minimum {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && number > max
        {
            problems.add(path, format!("{value} is greater than the maximum {max}"));
        }
    }
}

fn flag(schema: &Value, name: &str) -> bool {
    schema.get(name).and_then(Value::as_bool).unwrap_or(false)
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
    }
}

/// The known field closest to a misspelled one, when it is close enough to be a typo.
fn closest<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(&key.to_lowercase(), &k.to_lowercase()), *k))
        .filter(|(distance, k)| *distance <= 2.max(k.len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems_of(value: Value, schema: Value) -> Vec<String> {
        let mut problems = Problems::default();
        check_structure(&value, &schema, "spec", &mut problems);
        match problems.into_result() {
            Ok(()) => Vec::new(),
            Err(e) => e.problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn reports_every_mismatch_with_its_path() {
        let schema = json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": {"type": "string"},
                "count": {"type": "integer", "minimum": 1},
                "kind": {"type": "string", "enum": ["a", "b"]},
                "items": {"type": "array", "items": {"type": "boolean"}}
            }
        });
        let found = problems_of(
            json!({"count": 0, "kind": "c", "items": [true, "x"], "nmae": 1}),
            schema,
        );
        assert_eq!(
            found,
            vec![
                "spec.name: required field is missing",
                "spec.count: 0 is less than the minimum 1",
                "spec.items[1]: expected boolean, found string \"x\"",
                "spec.kind: unsupported value \"c\"; expected one of \"a\", \"b\"",
                "spec.nmae: unknown field \"nmae\" (did you mean \"name\"?)",
            ]
        );
    }
}
