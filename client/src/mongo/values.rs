//! Values ↔ BSON, and models ↔ documents: the one mapping every `foxdb::mongo` read and write
//! goes through.
//!
//! | Rust (model field) | [`Value`] | BSON |
//! |---|---|---|
//! | `bool` | `Bool` | boolean (integers 0 and 1 are read too) |
//! | `i16`, `i32`, `i64` | `Int` | 64-bit integer (32-bit integers are read too) |
//! | `f32`, `f64` | `Float` | double (integers are read too) |
//! | `rust_decimal::Decimal` | `Decimal` | Decimal128 (exact; strings are read too) |
//! | `String`, `#[derive(foxdb::Enum)]` | `Text` | string |
//! | `Vec<u8>` | `Bytes` | binary, generic subtype 0 |
//! | `uuid::Uuid` | `Uuid` | binary, UUID subtype 4 (hyphenated strings and 16-byte binaries are read too) |
//! | `chrono::DateTime<Utc>` | `TimestampTz` | UTC datetime (milliseconds: finer digits are cut) |
//! | `chrono::NaiveDateTime` | `Timestamp` | UTC datetime, read back without zone (milliseconds) |
//! | `chrono::NaiveDate` | `Date` | UTC datetime at midnight |
//! | `chrono::NaiveTime` | `Time` | string `HH:MM:SS[.ffffff]` (BSON has no time of day) |
//! | `serde_json::Value` | `Json` | the JSON as BSON: objects are embedded documents, arrays arrays |
//! | `Option<T>` | `Null` for `None` | null (a missing field reads as `None`) |
//!
//! The primary key is the document's `_id`: a one-column key is `_id` itself, a composite key
//! an embedded document `_id: {a: .., b: ..}` (filters then name `_id.a`).

use std::str::FromStr;

use mongodb::bson::{self, Bson, Document, spec::BinarySubtype};

use crate::connection::Value;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::verify::FieldKind;

/// The document field holding `column` of `M`: `_id` for a one-column primary key, `_id.<column>`
/// for a column of a composite one, the column's name otherwise.
pub(crate) fn field_path<M: Model>(column: &str) -> String {
    match M::PRIMARY_KEY {
        [key] if *key == column => "_id".to_string(),
        keys if keys.contains(&column) => format!("_id.{column}"),
        _ => column.to_string(),
    }
}

/// `value` as BSON.
///
/// # Errors
/// [`Error::MongoUnsupported`] for [`Value::CurrentTenant`]: tenant-scoped models are refused
/// before any value is converted, so this only guards hand-built values.
pub(crate) fn to_bson(value: &Value) -> Result<Bson> {
    Ok(match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Int(i) => Bson::Int64(*i),
        Value::Float(x) => Bson::Double(*x),
        Value::Text(s) => Bson::String(s.clone()),
        Value::Bytes(b) => Bson::Binary(bson::Binary {
            subtype: BinarySubtype::Generic,
            bytes: b.clone(),
        }),
        Value::Uuid(id) => Bson::Binary(bson::Binary {
            subtype: BinarySubtype::Uuid,
            bytes: id.as_bytes().to_vec(),
        }),
        Value::TimestampTz(t) => Bson::DateTime(bson::DateTime::from_millis(t.timestamp_millis())),
        Value::Timestamp(t) => {
            Bson::DateTime(bson::DateTime::from_millis(t.and_utc().timestamp_millis()))
        }
        Value::Date(d) => Bson::DateTime(bson::DateTime::from_millis(
            d.and_time(chrono::NaiveTime::MIN)
                .and_utc()
                .timestamp_millis(),
        )),
        Value::Time(t) => Bson::String(t.format("%H:%M:%S%.f").to_string()),
        Value::Json(j) => json_to_bson(j),
        Value::Decimal(d) => bson::Decimal128::from_str(&d.to_string())
            .map(Bson::Decimal128)
            .map_err(|error| Error::Mongo {
                operation: "writing a decimal".into(),
                code: None,
                message: format!("{d} does not fit a Decimal128: {error}"),
            })?,
        Value::CurrentTenant => {
            return Err(Error::MongoUnsupported {
                feature: "the current tenant as a value (tenant-scoped models are SQL-only)".into(),
            });
        }
    })
}

/// JSON as BSON, without extended-JSON interpretation: `{"$oid": ..}` stays a document.
fn json_to_bson(json: &serde_json::Value) -> Bson {
    match json {
        serde_json::Value::Null => Bson::Null,
        serde_json::Value::Bool(b) => Bson::Boolean(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Bson::Int64(i),
            (None, Some(x)) => Bson::Double(x),
            // A u64 above i64::MAX: kept exact as text.
            (None, None) => Bson::String(n.to_string()),
        },
        serde_json::Value::String(s) => Bson::String(s.clone()),
        serde_json::Value::Array(items) => Bson::Array(items.iter().map(json_to_bson).collect()),
        serde_json::Value::Object(fields) => Bson::Document(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), json_to_bson(v)))
                .collect(),
        ),
    }
}

/// BSON as JSON: documents are objects, arrays arrays, numbers numbers; what JSON has no type
/// for is text (datetimes in RFC 3339, decimals and object ids as written, binaries in hex).
fn bson_to_json(bson: Bson) -> serde_json::Value {
    use serde_json::Value as Json;
    match bson {
        Bson::Null | Bson::Undefined => Json::Null,
        Bson::Boolean(b) => Json::Bool(b),
        Bson::Int32(i) => Json::from(i),
        Bson::Int64(i) => Json::from(i),
        Bson::Double(x) => serde_json::Number::from_f64(x).map_or(Json::Null, Json::Number),
        Bson::String(s) => Json::String(s),
        Bson::Array(items) => Json::Array(items.into_iter().map(bson_to_json).collect()),
        Bson::Document(fields) => Json::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k.to_string(), bson_to_json(v)))
                .collect(),
        ),
        Bson::DateTime(t) => chrono::DateTime::from_timestamp_millis(t.timestamp_millis())
            .map_or_else(
                || Json::String(t.to_string()),
                |t| Json::String(t.to_rfc3339()),
            ),
        Bson::Binary(b) => Json::String(b.bytes.iter().map(|byte| format!("{byte:02x}")).collect()),
        other => Json::String(other.to_string()),
    }
}

/// The [`FieldKind`] of `column` of `M` (from the derive's field shapes), which says what Rust
/// type a BSON value must become.
pub(crate) fn kind_of<M: Model>(column: &str) -> FieldKind {
    M::COLUMNS
        .iter()
        .position(|c| *c == column)
        .and_then(|index| M::FIELDS.get(index))
        .map_or(FieldKind::Unchecked, |shape| shape.kind)
}

/// A BSON value read from `column` as the [`Value`] a field of `kind` takes.
///
/// # Errors
/// [`Error::Decode`] naming the column when the BSON type does not fit the field.
pub(crate) fn from_bson(column: &str, kind: FieldKind, bson: Bson) -> Result<Value> {
    let wrong = |bson: &Bson| Error::Decode {
        column: column.to_string(),
        message: format!(
            "the document holds a {:?} where the field takes {kind:?}",
            bson.element_type()
        ),
    };
    let value = match (kind, bson) {
        (_, Bson::Null | Bson::Undefined) => Value::Null,
        (FieldKind::Json, bson) => Value::Json(bson_to_json(bson)),
        (FieldKind::Bool | FieldKind::Unchecked, Bson::Boolean(b)) => Value::Bool(b),
        // 0 and 1 as booleans: the nx-27017 wire server stores a boolean written by `$set` so.
        (FieldKind::Bool, Bson::Int32(i)) if i == 0 || i == 1 => Value::Bool(i == 1),
        (FieldKind::Bool, Bson::Int64(i)) if i == 0 || i == 1 => Value::Bool(i == 1),
        (FieldKind::Integer(_) | FieldKind::Unsigned | FieldKind::Unchecked, Bson::Int32(i)) => {
            Value::Int(i64::from(i))
        }
        (FieldKind::Integer(_) | FieldKind::Unsigned | FieldKind::Unchecked, Bson::Int64(i)) => {
            Value::Int(i)
        }
        (FieldKind::Float32 | FieldKind::Float64 | FieldKind::Unchecked, Bson::Double(x)) => {
            Value::Float(x)
        }
        (FieldKind::Float32 | FieldKind::Float64, Bson::Int32(i)) => Value::Float(f64::from(i)),
        // Integers a driver or another program wrote into a float field; above 2^53 they
        // round, as they would in any double.
        #[allow(clippy::cast_precision_loss)]
        (FieldKind::Float32 | FieldKind::Float64, Bson::Int64(i)) => Value::Float(i as f64),
        (FieldKind::Decimal, Bson::Decimal128(d)) => {
            Value::Decimal(parse_decimal(column, &d.to_string())?)
        }
        (FieldKind::Decimal, Bson::String(s)) => Value::Decimal(parse_decimal(column, &s)?),
        (FieldKind::Text | FieldKind::Unchecked, Bson::String(s)) => Value::Text(s),
        (FieldKind::Bytes | FieldKind::Unchecked, Bson::Binary(b))
            if b.subtype != BinarySubtype::Uuid =>
        {
            Value::Bytes(b.bytes)
        }
        // Any 16-byte binary in a UUID field: the nx-27017 wire server drops the subtype.
        (FieldKind::Uuid, Bson::Binary(b)) | (FieldKind::Unchecked, Bson::Binary(b))
            if b.subtype == BinarySubtype::Uuid
                || b.subtype == BinarySubtype::UuidOld
                || (kind == FieldKind::Uuid && b.bytes.len() == 16) =>
        {
            let id = uuid::Uuid::from_slice(&b.bytes).map_err(|e| Error::Decode {
                column: column.to_string(),
                message: format!("a UUID binary of {} bytes: {e}", b.bytes.len()),
            })?;
            Value::Uuid(id)
        }
        (FieldKind::Uuid, Bson::String(s)) => {
            Value::Uuid(uuid::Uuid::parse_str(&s).map_err(|e| Error::Decode {
                column: column.to_string(),
                message: format!("{s:?} is not a UUID: {e}"),
            })?)
        }
        (FieldKind::TimestampTz | FieldKind::Unchecked, Bson::DateTime(t)) => {
            Value::TimestampTz(instant(column, t)?)
        }
        (FieldKind::Timestamp, Bson::DateTime(t)) => {
            Value::Timestamp(instant(column, t)?.naive_utc())
        }
        (FieldKind::Date, Bson::DateTime(t)) => Value::Date(instant(column, t)?.date_naive()),
        (FieldKind::Date, Bson::String(s)) => {
            Value::Date(chrono::NaiveDate::from_str(&s).map_err(|e| Error::Decode {
                column: column.to_string(),
                message: format!("{s:?} is not a date: {e}"),
            })?)
        }
        (FieldKind::Time, Bson::String(s)) => {
            Value::Time(chrono::NaiveTime::from_str(&s).map_err(|e| Error::Decode {
                column: column.to_string(),
                message: format!("{s:?} is not a time of day: {e}"),
            })?)
        }
        (_, bson) => return Err(wrong(&bson)),
    };
    Ok(value)
}

fn parse_decimal(column: &str, text: &str) -> Result<rust_decimal::Decimal> {
    rust_decimal::Decimal::from_str(text)
        .or_else(|_| rust_decimal::Decimal::from_scientific(text))
        .map_err(|e| Error::Decode {
            column: column.to_string(),
            message: format!("{text} does not fit a decimal: {e}"),
        })
}

fn instant(column: &str, t: bson::DateTime) -> Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(t.timestamp_millis()).ok_or_else(|| Error::Decode {
        column: column.to_string(),
        message: format!("{t} is out of chrono's range"),
    })
}

/// The document stored for `values` of a row of `M` (every column, or those given): the key
/// columns in `_id`.
///
/// # Errors
/// A value BSON cannot hold (see [`to_bson`]).
pub(crate) fn document_of<M: Model>(values: &[(&'static str, Value)]) -> Result<Document> {
    let mut document = Document::new();
    let mut key = Document::new();
    for (column, value) in values {
        let bson = to_bson(value)?;
        match M::PRIMARY_KEY {
            [only] if only == column => {
                document.insert("_id", bson);
            }
            keys if keys.contains(column) => {
                key.insert(*column, bson);
            }
            _ => {
                document.insert(*column, bson);
            }
        }
    }
    if !key.is_empty() {
        document.insert("_id", key);
    }
    Ok(document)
}

/// The `_id` of a row of `M` with these values (its key columns).
///
/// # Errors
/// A value BSON cannot hold.
pub(crate) fn key_of<M: Model>(values: &[(&'static str, Value)]) -> Result<Bson> {
    let keys: Vec<(&'static str, Value)> = values
        .iter()
        .filter(|(column, _)| M::PRIMARY_KEY.contains(column))
        .cloned()
        .collect();
    let document = document_of::<M>(&keys)?;
    Ok(document.get("_id").cloned().unwrap_or(Bson::Null))
}

/// The value of `column` of `M` in `document` (`Bson::Null` when missing).
pub(crate) fn field_of<M: Model>(document: &Document, column: &str) -> Bson {
    let path = field_path::<M>(column);
    let mut parts = path.split('.');
    let first = parts.next().unwrap_or_default();
    let mut current = document.get(first);
    for part in parts {
        current = match current {
            Some(Bson::Document(inner)) => inner.get(part),
            _ => None,
        };
    }
    current.cloned().unwrap_or(Bson::Null)
}

/// A model decoded from its stored document.
///
/// # Errors
/// [`Error::Decode`] naming the column whose value does not fit its field.
pub(crate) fn model_of<M: Model>(document: &Document) -> Result<M> {
    M::from_values(&mut |column| {
        from_bson(
            column,
            kind_of::<M>(column),
            field_of::<M>(document, column),
        )
    })
}

/// A model built from the values it was written with (after keys were generated).
///
/// # Errors
/// [`Error::Decode`] when a value does not fit its field.
pub(crate) fn model_from_values<M: Model>(values: &[(&'static str, Value)]) -> Result<M> {
    M::from_values(&mut |column| {
        Ok(values
            .iter()
            .find(|(c, _)| *c == column)
            .map_or(Value::Null, |(_, v)| v.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_survives_a_round_trip_through_bson() {
        let instant = chrono::DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let cases = [
            (FieldKind::Bool, Value::Bool(true)),
            (FieldKind::Integer(64), Value::Int(-7)),
            (FieldKind::Float64, Value::Float(1.5)),
            (FieldKind::Text, Value::Text("ü".into())),
            (FieldKind::Bytes, Value::Bytes(vec![0, 1, 255])),
            (FieldKind::Uuid, Value::Uuid(uuid::Uuid::from_u128(42))),
            (FieldKind::TimestampTz, Value::TimestampTz(instant)),
            (FieldKind::Timestamp, Value::Timestamp(instant.naive_utc())),
            (FieldKind::Date, Value::Date(instant.date_naive())),
            (
                FieldKind::Time,
                Value::Time(chrono::NaiveTime::from_hms_micro_opt(1, 2, 3, 456).unwrap()),
            ),
            (
                FieldKind::Json,
                Value::Json(serde_json::json!({"a": [1, 2.5, "x", null, {"$oid": "no"}]})),
            ),
            (
                FieldKind::Decimal,
                Value::Decimal(rust_decimal::Decimal::from_str("-12345.6789").unwrap()),
            ),
            (FieldKind::Text, Value::Null),
        ];
        for (kind, value) in cases {
            let bson = to_bson(&value).unwrap();
            assert_eq!(from_bson("c", kind, bson).unwrap(), value, "{kind:?}");
        }
    }

    #[test]
    fn a_value_of_another_type_names_the_column() {
        let error = from_bson("age", FieldKind::Integer(64), Bson::String("x".into())).unwrap_err();
        assert!(error.to_string().contains("age"), "{error}");
    }
}
