//! A scalar value in a manifest: column defaults and seed rows.

use std::fmt;

#[cfg(feature = "kubernetes")]
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A YAML/JSON value in a column default or seed row: string, number, boolean or null, or — for
/// a `json` column's seed value — a list or mapping.
///
/// The CRD schema admits any value here (a structural schema cannot say "string or number"), so
/// this type reads any value too: a list or mapping becomes [`Scalar::Json`], which validation
/// accepts only as the seed value of a `json` column and refuses, with the field's path,
/// everywhere else. An object the API server stored therefore always deserializes, and a wrong
/// value is reported on the object instead of breaking the operator's watch of its kind.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Scalar {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A number with a fractional part.
    Float(f64),
    /// Text.
    String(String),
    /// A list or mapping, kept as the JSON document it is (a `json` column's seed value).
    Json(serde_json::Value),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::String(s) => write!(f, "{s:?}"),
            Self::Json(value) => write!(f, "{value}"),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean, null, list or mapping")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Scalar, E> {
        Ok(Scalar::Integer(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Scalar, E> {
        // Above i64::MAX a whole number is kept as a float, as it always was.
        Ok(i64::try_from(value).map_or(Scalar::Float(value as f64), Scalar::Integer))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Scalar, E> {
        Ok(Scalar::String(value.to_string()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Scalar, E> {
        Ok(Scalar::String(value))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        let value = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(Scalar::Json(value))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        let value = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(Scalar::Json(value))
    }
}

#[cfg(feature = "kubernetes")]
impl JsonSchema for Scalar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scalar".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // A structural schema cannot say "string or number or boolean"; it keeps the value as is.
        json_schema!({
            "description": "A string, number, boolean or null; a list or mapping only as the seed value of a json column.",
            "x-kubernetes-preserve-unknown-fields": true,
            "nullable": true
        })
    }

    fn inline_schema() -> bool {
        true
    }
}

/// Schema of a free-form JSON object (MongoDB validators and commands).
#[cfg(feature = "kubernetes")]
pub(crate) fn any_object_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true,
        "nullable": true
    })
}

/// Schema of a list of MongoDB commands ([`crate::mongo_command::MongoCommand`]): each a
/// free-form object or a string holding one, so the item has no `type` (structural schemas
/// allow that with `x-kubernetes-preserve-unknown-fields`).
#[cfg(feature = "kubernetes")]
pub(crate) fn command_list_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {
            "description": "A MongoDB command: a mapping, or a string holding a JSON object (which keeps its key order through the API server).",
            "x-kubernetes-preserve-unknown-fields": true
        },
        "nullable": true
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_read_from_json_keep_their_kind() {
        let read = |value| serde_json::from_value::<Scalar>(value).expect("a scalar");
        assert_eq!(read(json!(null)), Scalar::Null);
        assert_eq!(read(json!(true)), Scalar::Bool(true));
        assert_eq!(read(json!(-3)), Scalar::Integer(-3));
        assert_eq!(read(json!(u64::MAX)), Scalar::Float(u64::MAX as f64));
        assert_eq!(read(json!(1.5)), Scalar::Float(1.5));
        assert_eq!(read(json!("x")), Scalar::String("x".into()));
    }

    #[test]
    fn a_list_or_mapping_reads_as_json_like_the_schema_admits() {
        for value in [json!([1, {"b": null}]), json!({"a": {"b": [1, 2.5]}})] {
            let read = serde_json::from_value::<Scalar>(value.clone()).expect("admitted");
            assert_eq!(read, Scalar::Json(value.clone()));
            assert_eq!(serde_json::to_value(&read).unwrap(), value, "round trip");
        }
    }
}
