//! MySQL and SQLite: a list as one JSON array parameter, each element written as the driver
//! binds the value there.

use super::Element;
use crate::Backend;
use crate::connection::Value;

/// The one kind every value of the list has in a JSON array on `backend`.
pub(super) fn json_element(backend: Backend, values: &[Value]) -> Option<Element> {
    let first = element_of(backend, &values[0])?;
    values[1..]
        .iter()
        .all(|value| element_of(backend, value) == Some(first))
        .then_some(first)
}

/// Whether a JSON array parameter is written the way MySQL reads it (its temporal ranges and
/// text forms) rather than the way SQLite's driver binds values.
pub(super) fn json_as_mysql_reads_it(backend: Backend) -> bool {
    match backend {
        Backend::MySql => true,
        Backend::Sqlite | Backend::Postgres => false,
    }
}

/// The kind of one value in a JSON array on `backend`, or `None` where it does not come back
/// exactly as the driver would bind it.
pub(super) fn element_of(backend: Backend, value: &Value) -> Option<Element> {
    use chrono::{Datelike, Timelike};
    let mysql = json_as_mysql_reads_it(backend);
    // What MySQL's DATE and DATETIME hold; SQLite stores the driver's text, whatever the year.
    let mysql_year = |year: i32| !mysql || (1000..=9999).contains(&year);
    // A leap second (nanoseconds past 999,999,999) has no form MySQL reads.
    let mysql_nanos = |nanos: u32| !mysql || nanos < 1_000_000_000;
    Some(match value {
        Value::Int(_) => Element::Integer,
        Value::Bool(_) => Element::Boolean,
        Value::Float(x) if mysql && x.is_finite() => Element::Float,
        Value::Decimal(_) => Element::Decimal,
        Value::Text(_) | Value::Uuid(_) => Element::Text,
        Value::Bytes(_) => Element::Bytes,
        Value::Date(d) if mysql_year(d.year()) => Element::Date,
        Value::Time(t) if mysql_nanos(t.nanosecond()) => Element::Time,
        Value::Timestamp(t) if mysql_year(t.year()) && mysql_nanos(t.nanosecond()) => {
            Element::Timestamp
        }
        Value::TimestampTz(t) if mysql_year(t.year()) && mysql_nanos(t.nanosecond()) => {
            Element::TimestampTz
        }
        Value::Null
        | Value::CurrentTenant
        | Value::Json(_)
        | Value::Float(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::Timestamp(_)
        | Value::TimestampTz(_) => return None,
    })
}

/// The JSON array of `values` (all of one [`Element`] kind on `backend`), each element as
/// the driver binds it there.
pub(super) fn json_array(backend: Backend, values: &[Value]) -> String {
    let mut json = String::with_capacity(values.len() * 8 + 2);
    json.push('[');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        push_json_element(&mut json, backend, value);
    }
    json.push(']');
    json
}

pub(super) fn push_json_element(json: &mut String, backend: Backend, value: &Value) {
    use std::fmt::Write as _;
    let mysql = json_as_mysql_reads_it(backend);
    // Writing to a `String` cannot fail.
    let text = match value {
        Value::Int(i) => {
            let _ = write!(json, "{i}");
            return;
        }
        Value::Bool(b) => {
            json.push(if *b { '1' } else { '0' });
            return;
        }
        // The shortest digits that read back as the same double; `array_type` sends only
        // finite ones (a non-finite one would be JSON `null`).
        Value::Float(x) => {
            match serde_json::Number::from_f64(*x) {
                Some(number) => json.push_str(&number.to_string()),
                None => json.push_str("null"),
            }
            return;
        }
        // A JSON string: MySQL reads it into DECIMAL digit for digit (a JSON number may be
        // read as a double first: MySQL 8 does); text on SQLite, as bound there.
        Value::Decimal(d) => d.to_string(),
        Value::Text(text) => {
            push_json_string(json, text);
            return;
        }
        Value::Uuid(id) => id.hyphenated().to_string(),
        Value::Bytes(bytes) => {
            json.push('"');
            for byte in bytes {
                let _ = write!(json, "{byte:02X}");
            }
            json.push('"');
            return;
        }
        // MySQL reads these from their ISO text (a `DateTime<Utc>` binds as its UTC wall
        // time there); SQLite compares the text its driver binds, so it is written the
        // driver's way (sqlx-sqlite's `Encode` for chrono types).
        Value::Date(d) => d.format("%F").to_string(),
        Value::Time(t) if mysql => t.format("%T%.6f").to_string(),
        Value::Time(t) => t.format("%T%.f").to_string(),
        Value::Timestamp(t) if mysql => t.format("%F %T%.6f").to_string(),
        Value::Timestamp(t) => t.format("%F %T%.f").to_string(),
        Value::TimestampTz(t) if mysql => t.naive_utc().format("%F %T%.6f").to_string(),
        Value::TimestampTz(t) => t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
        // `array_type` sends no NULLs, JSON documents or tenant slots as arrays.
        Value::Null | Value::Json(_) | Value::CurrentTenant => {
            json.push_str("null");
            return;
        }
    };
    push_json_string(json, &text);
}

/// `text` as a JSON string: quotes, backslashes and control characters escaped, everything
/// else as it is (JSON text is UTF-8).
pub(super) fn push_json_string(json: &mut String, text: &str) {
    json.push('"');
    for c in text.chars() {
        match c {
            '"' => json.push_str("\\\""),
            '\\' => json.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                use std::fmt::Write as _;
                let _ = write!(json, "\\u{:04x}", u32::from(c));
            }
            c => json.push(c),
        }
    }
    json.push('"');
}
