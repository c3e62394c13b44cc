//! PostgreSQL: a list as one array parameter, `CAST($1 AS bigint[])`, written as the array's
//! text form.

use crate::connection::Value;

/// The PostgreSQL array type of a list of values of one kind that has an exact text form in an
/// array literal, or `None`.
pub(super) fn postgres_array_type(values: &[Value]) -> Option<&'static str> {
    use chrono::{Datelike, Timelike};
    // Years the array's text form writes plainly (`chrono` signs others, PostgreSQL wants BC),
    // and times without a leap second: others keep their placeholders.
    let plain_year = |year: i32| (1..=9999).contains(&year);
    let no_leap = |time: chrono::NaiveTime| time.nanosecond() < 1_000_000_000;
    let all = |kind: fn(&Value) -> bool| values.iter().all(kind);
    let array_type = match &values[0] {
        Value::Int(_) => "bigint[]",
        Value::Uuid(_) => "uuid[]",
        Value::Text(_) => "text[]",
        Value::Float(_) => "float8[]",
        Value::Bool(_) => "boolean[]",
        Value::Decimal(_) => "numeric[]",
        Value::Date(_) => "date[]",
        Value::Time(_) => "time[]",
        Value::Timestamp(_) => "timestamp[]",
        Value::TimestampTz(_) => "timestamptz[]",
        Value::Bytes(_) => "bytea[]",
        _ => return None,
    };
    let same_kind = all(match &values[0] {
        Value::Int(_) => |v| matches!(v, Value::Int(_)),
        Value::Uuid(_) => |v| matches!(v, Value::Uuid(_)),
        Value::Text(_) => |v| matches!(v, Value::Text(_)),
        Value::Float(_) => |v| matches!(v, Value::Float(_)),
        Value::Bool(_) => |v| matches!(v, Value::Bool(_)),
        Value::Decimal(_) => |v| matches!(v, Value::Decimal(_)),
        Value::Date(_) => |v| matches!(v, Value::Date(_)),
        Value::Time(_) => |v| matches!(v, Value::Time(_)),
        Value::Timestamp(_) => |v| matches!(v, Value::Timestamp(_)),
        Value::Bytes(_) => |v| matches!(v, Value::Bytes(_)),
        _ => |v| matches!(v, Value::TimestampTz(_)),
    });
    let writable = values.iter().all(|value| match value {
        Value::Date(date) => plain_year(date.year()),
        Value::Time(time) => no_leap(*time),
        Value::Timestamp(at) => plain_year(at.year()) && no_leap(at.time()),
        Value::TimestampTz(at) => plain_year(at.year()) && no_leap(at.time()),
        _ => true,
    });
    (same_kind && writable).then_some(array_type)
}

/// PostgreSQL's text form of an array of `values` (of one kind [`postgres_array_type`] takes):
/// `{1,2,3}`, text and timestamps quoted.
pub(super) fn postgres_array_literal(values: &[Value]) -> String {
    use std::fmt::Write as _;
    if let Some(literal) = integer_array_literal(values) {
        return literal;
    }
    // Keys are mostly integers of a few digits: room for them at once.
    let mut literal = String::with_capacity(2 + values.len() * 8);
    literal.push('{');
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        match value {
            // Written in place, digit by digit: a string per key, and even the formatting
            // machinery per key, cost more than the rest of the literal.
            Value::Int(i) => push_integer(&mut literal, *i),
            Value::Uuid(id) => {
                let _ = write!(literal, "{}", id.hyphenated());
            }
            Value::Text(text) => {
                literal.push('"');
                for c in text.chars() {
                    if c == '"' || c == '\\' {
                        literal.push('\\');
                    }
                    literal.push(c);
                }
                literal.push('"');
            }
            // Shortest text that reads back as the same double; PostgreSQL's spellings of
            // the non-finite ones.
            Value::Float(x) if x.is_nan() => literal.push_str("NaN"),
            Value::Float(x) if x.is_infinite() => {
                literal.push_str(if *x > 0.0 { "Infinity" } else { "-Infinity" })
            }
            Value::Float(x) => literal.push_str(&format!("{x:?}")),
            Value::Bool(b) => literal.push(if *b { 't' } else { 'f' }),
            Value::Decimal(d) => literal.push_str(&d.to_string()),
            Value::Date(date) => literal.push_str(&date.format("%Y-%m-%d").to_string()),
            // Microseconds cut as the driver cuts them when it binds a value (`%.6f` truncates).
            Value::Time(time) => literal.push_str(&time.format("%H:%M:%S%.6f").to_string()),
            Value::Timestamp(at) => {
                literal.push('"');
                literal.push_str(
                    &driver_microseconds(*at)
                        .format("%Y-%m-%d %H:%M:%S%.6f")
                        .to_string(),
                );
                literal.push('"');
            }
            Value::TimestampTz(at) => {
                literal.push('"');
                literal.push_str(
                    &driver_microseconds(at.naive_utc())
                        .format("%Y-%m-%d %H:%M:%S%.6f+00")
                        .to_string(),
                );
                literal.push('"');
            }
            // bytea's hex input (`\x0102`), its backslash escaped inside the quoted element.
            Value::Bytes(bytes) => {
                literal.push_str("\"\\\\x");
                for byte in bytes {
                    literal.push_str(&format!("{byte:02x}"));
                }
                literal.push('"');
            }
            // `array_type` sends only the kinds above as arrays.
            other => literal.push_str(&format!("{other:?}")),
        }
    }
    literal.push('}');
    literal
}

/// `at` cut to whole microseconds as sqlx-postgres binds it: microseconds since 2000-01-01
/// counted toward zero, so an instant before 2000 rounds up (`1999-12-31 23:59:59.1234567`
/// binds as `.123457`), where `%.6f` alone would cut every instant down.
pub(super) fn driver_microseconds(at: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    (at - epoch)
        .num_microseconds()
        .map_or(at, |micros| epoch + chrono::TimeDelta::microseconds(micros))
}

/// [`postgres_array_literal`] of integers (the usual keys), written as bytes; `None` when a
/// value is not an integer.
fn integer_array_literal(values: &[Value]) -> Option<String> {
    let mut literal = Vec::with_capacity(2 + values.len() * 8);
    literal.push(b'{');
    for (i, value) in values.iter().enumerate() {
        let Value::Int(value) = value else {
            return None;
        };
        if i > 0 {
            literal.push(b',');
        }
        let mut digits = [0_u8; 20];
        let written = decimal_digits(*value, &mut digits);
        if *value < 0 {
            literal.push(b'-');
        }
        literal.extend_from_slice(written);
    }
    literal.push(b'}');
    // ASCII only: the conversion does not fail.
    String::from_utf8(literal).ok()
}

/// The decimal digits of `value`'s magnitude, written at the end of `digits`.
fn decimal_digits(value: i64, digits: &mut [u8; 20]) -> &[u8] {
    let mut start = digits.len();
    let mut rest = value.unsigned_abs();
    loop {
        start -= 1;
        // A digit: below 10, so the cast keeps it.
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    &digits[start..]
}

/// `value` in decimal at the end of `text`, as `write!(text, "{value}")` writes it.
fn push_integer(text: &mut String, value: i64) {
    let mut digits = [0_u8; 20];
    let written = decimal_digits(value, &mut digits);
    if value < 0 {
        text.push('-');
    }
    text.extend(written.iter().map(|digit| char::from(*digit)));
}
