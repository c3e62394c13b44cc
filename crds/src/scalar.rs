//! A scalar value in a manifest: column defaults and seed rows.

use std::fmt;

#[cfg(feature = "kubernetes")]
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

/// A YAML/JSON scalar: string, number, boolean or null.
///
/// A list or mapping where a scalar belongs is refused with "expected a string, number, boolean
/// or null", which manifest reading prefixes with the field's path.
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
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl Visitor<'_> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string, number, boolean or null")
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
}

#[cfg(feature = "kubernetes")]
impl JsonSchema for Scalar {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Scalar".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        // A structural schema cannot say "string or number or boolean"; it keeps the value as is.
        json_schema!({
            "description": "A string, number, boolean or null.",
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

/// Schema of a list of free-form JSON objects.
#[cfg(feature = "kubernetes")]
pub(crate) fn any_object_list_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
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
    fn a_list_or_mapping_is_not_a_scalar() {
        for value in [json!([1]), json!({"a": 1})] {
            let error = serde_json::from_value::<Scalar>(value).expect_err("refused");
            assert!(
                error
                    .to_string()
                    .contains("expected a string, number, boolean or null"),
                "{error}"
            );
        }
    }
}
