//! PostgreSQL's `COPY ... FROM STDIN` text format: rows of values as the server's input
//! function of each column's type reads them, for `insert_many`'s bulk path
//! (`crate::query::insert_many`).
//!
//! # Guarantees
//! Every value is written as text that the column type's input function reads back to the value a
//! bound parameter stores: NULL as `\N`; text and JSON with backslash, tab, newline and carriage
//! return escaped; binary data as `bytea` hex; floats in their shortest exact form (`NaN`,
//! `Infinity`); instants, times and dates in ISO form at the microsecond, truncated as the
//! driver's binary encoding truncates. A value without such text (a date outside the years
//! 1–9999, a leap second, the executor's tenant) makes [`write_copy_row`] refuse the row, and
//! the caller then inserts with `INSERT` statements instead.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};

use crate::connection::Value;

/// Writes one row (its values in column order) onto `out`: tab-separated, newline-terminated.
/// Returns `false`, with `out` possibly holding part of the row, when a value has no exact text
/// form; the caller then gives the bulk path up.
pub(crate) fn write_copy_row(out: &mut String, values: impl IntoIterator<Item = Value>) -> bool {
    let mut first = true;
    for value in values {
        if !first {
            out.push('\t');
        }
        first = false;
        if !write_copy_value(out, &value) {
            return false;
        }
    }
    out.push('\n');
    true
}

/// Writes one value in the COPY text format; `false` when it has no exact text form.
pub(crate) fn write_copy_value(out: &mut String, value: &Value) -> bool {
    match value {
        Value::Null => out.push_str("\\N"),
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Int(i) => write_integer(out, *i),
        Value::Float(x) => write_float(out, *x),
        Value::Text(text) => write_escaped(out, text),
        Value::Bytes(bytes) => {
            // `\x` hex, its backslash escaped for COPY.
            out.reserve(3 + 2 * bytes.len());
            out.push_str("\\\\x");
            for byte in bytes {
                out.push(char::from(HEX[usize::from(byte >> 4)]));
                out.push(char::from(HEX[usize::from(byte & 0x0f)]));
            }
        }
        Value::Uuid(id) => {
            let _ = write!(out, "{}", id.hyphenated());
        }
        Value::TimestampTz(instant) => {
            let naive = instant.naive_utc();
            if !write_date(out, naive.date()) {
                return false;
            }
            out.push(' ');
            if !write_time(out, naive.time()) {
                return false;
            }
            out.push_str("+00");
        }
        Value::Timestamp(moment) => {
            if !write_date(out, moment.date()) {
                return false;
            }
            out.push(' ');
            if !write_time(out, moment.time()) {
                return false;
            }
        }
        Value::Date(date) => return write_date(out, *date),
        Value::Time(time) => return write_time(out, *time),
        Value::Json(json) => write_escaped(out, &json.to_string()),
        Value::Decimal(decimal) => {
            let _ = write!(out, "{decimal}");
        }
        // Filled per executor by binding; no text of its own.
        Value::CurrentTenant => return false,
    }
    true
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// An integer in decimal, without the formatter's machinery (every row has one or more).
pub(crate) fn write_integer(out: &mut String, value: i64) {
    if value < 0 {
        out.push('-');
    }
    super::write_decimal(out, value.unsigned_abs());
}

/// Text with COPY's four special bytes escaped (a NUL, which PostgreSQL text cannot hold,
/// fails on the server as it does bound).
pub(crate) fn write_escaped(out: &mut String, text: &str) {
    // Runs between special bytes go in whole; the four are ASCII, so every cut falls on a
    // character boundary.
    let mut run = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'\\' => "\\\\",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\r' => "\\r",
            _ => continue,
        };
        out.push_str(&text[run..i]);
        out.push_str(escaped);
        run = i + 1;
    }
    out.push_str(&text[run..]);
}

/// The shortest text that reads back to `x` (exponent form for very large and small values),
/// and PostgreSQL's names of the special values.
fn write_float(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("NaN");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        let _ = write!(out, "{x:?}");
    }
}

/// `YYYY-MM-DD`; `false` outside the years 1–9999 (PostgreSQL writes earlier years with `BC`).
fn write_date(out: &mut String, date: NaiveDate) -> bool {
    let year = date.year();
    if !(1..=9999).contains(&year) {
        return false;
    }
    let _ = write!(out, "{year:04}-{:02}-{:02}", date.month(), date.day());
    true
}

/// `HH:MM:SS.ffffff`, the nanoseconds truncated to microseconds as the driver's binary
/// encoding truncates them; `false` for a leap second.
fn write_time(out: &mut String, time: NaiveTime) -> bool {
    let nanos = time.nanosecond();
    if nanos >= 1_000_000_000 {
        return false;
    }
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{:06}",
        time.hour(),
        time.minute(),
        time.second(),
        nanos / 1000
    );
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: Value) -> Option<String> {
        let mut out = String::new();
        write_copy_value(&mut out, &value).then_some(out)
    }

    #[test]
    fn special_bytes_of_text_and_json_are_escaped() {
        assert_eq!(
            text(Value::Text("a\tb\nc\rd\\e 'f' \"g\" ü".into())).as_deref(),
            Some("a\\tb\\nc\\rd\\\\e 'f' \"g\" ü")
        );
        assert_eq!(
            text(Value::Json(serde_json::json!({"k": "line\nbreak\\"}))).as_deref(),
            Some(r#"{"k":"line\\nbreak\\\\"}"#)
        );
        assert_eq!(text(Value::Text("\\N".into())).as_deref(), Some("\\\\N"));
    }

    #[test]
    fn fields_write_the_text_of_their_values() {
        fn same<T: crate::IntoValue + Clone>(field: T) {
            let mut direct = String::new();
            assert!(crate::model::write_copy_field(&field, &mut direct));
            assert_eq!(Some(direct), text(field.into_value()));
        }
        for number in [0, 7, -7, 10, -100, i64::MAX, i64::MIN] {
            same(number);
            same(Some(number));
        }
        same(i32::MIN);
        same(i16::MAX);
        same("a\tb\\ c\n\r ü".to_string());
        same("\\N");
        same(Some("x".to_string()));
        same(None::<String>);
        same(None::<i64>);
        same(true);
        same(Some(0.1f64));
        same(vec![0u8, 0xab]);
    }

    #[test]
    fn null_binary_and_numbers_have_their_input_forms() {
        assert_eq!(text(Value::Null).as_deref(), Some("\\N"));
        assert_eq!(
            text(Value::Bytes(vec![0, 0xab, 0x5c])).as_deref(),
            Some("\\\\x00ab5c")
        );
        assert_eq!(text(Value::Float(f64::NAN)).as_deref(), Some("NaN"));
        assert_eq!(
            text(Value::Float(f64::NEG_INFINITY)).as_deref(),
            Some("-Infinity")
        );
        assert_eq!(text(Value::Float(1e-300)).as_deref(), Some("1e-300"));
        assert_eq!(text(Value::Float(0.1)).as_deref(), Some("0.1"));
        assert_eq!(
            text(Value::Int(i64::MIN)).as_deref(),
            Some("-9223372036854775808")
        );
        assert_eq!(
            text(Value::Decimal("-12.3400".parse().unwrap())).as_deref(),
            Some("-12.3400")
        );
    }

    #[test]
    fn times_are_truncated_to_microseconds_and_out_of_range_dates_refused() {
        let moment = NaiveDate::from_ymd_opt(2024, 2, 29)
            .unwrap()
            .and_hms_nano_opt(23, 59, 58, 123_456_789)
            .unwrap();
        assert_eq!(
            text(Value::Timestamp(moment)).as_deref(),
            Some("2024-02-29 23:59:58.123456")
        );
        assert_eq!(
            text(Value::TimestampTz(moment.and_utc())).as_deref(),
            Some("2024-02-29 23:59:58.123456+00")
        );
        let ancient = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        assert_eq!(text(Value::Date(ancient)), None);
        let leap = NaiveTime::from_hms_nano_opt(23, 59, 59, 1_500_000_000).unwrap();
        assert_eq!(text(Value::Time(leap)), None);
        assert_eq!(text(Value::CurrentTenant), None);
    }
}
