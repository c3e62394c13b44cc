//! What a YAML scalar means: null, boolean, integer, float or string.
//!
//! The rules are the ones FoxDB manifests have always been read with (those of `serde_yaml_ng`,
//! a YAML 1.2 core schema with a few YAML 1.1 spellings): `~`, `null`, `Null`, `NULL` and the
//! empty plain scalar are null; `true`/`True`/`TRUE` and their `false` twins are booleans;
//! decimal, `0x`, `0o` and `0b` integers; `.inf`, `.nan` and anything Rust reads as a finite
//! `f64` are floats; digits with a leading zero (`007`) stay strings. Quoted and block scalars
//! are always strings; the core tags `!!bool`, `!!int`, `!!float`, `!!null` and `!!str` force a
//! type. NaN and infinities are refused: JSON (and so Kubernetes) cannot carry them, and read as
//! `null` they would silently turn `default: .nan` into "no default".

use std::num::ParseIntError;

use serde_json::{Number, Value};

/// How a scalar was written, as far as its meaning is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ScalarForm {
    /// Plain (unquoted): resolved by its text.
    Plain,
    /// Quoted or block scalar: always text unless a core tag says otherwise.
    Quoted,
}

/// The JSON value of a scalar, or why it has none.
///
/// `core_tag` is the suffix of a `tag:yaml.org,2002:` tag (`!!int` gives `int`); other tags are
/// refused before this is called.
pub(crate) fn resolve_scalar(
    text: &str,
    form: ScalarForm,
    core_tag: Option<&str>,
) -> Result<Value, String> {
    match core_tag {
        Some("bool") => parse_bool(text)
            .map(Value::Bool)
            .ok_or_else(|| format!("{text:?} is not a boolean")),
        Some("int") => match parse_integer(text) {
            Some(Ok(value)) => Ok(value),
            Some(Err(message)) => Err(message),
            None => Err(format!("{text:?} is not an integer")),
        },
        Some("float") => parse_f64(text)
            .ok_or_else(|| format!("{text:?} is not a float"))
            .and_then(float_value),
        Some("null") => parse_null(text)
            .map(|()| Value::Null)
            .ok_or_else(|| format!("{text:?} is not null")),
        Some(_) => Ok(Value::String(text.to_string())),
        None => match form {
            ScalarForm::Plain => resolve_plain(text),
            ScalarForm::Quoted => Ok(Value::String(text.to_string())),
        },
    }
}

fn resolve_plain(text: &str) -> Result<Value, String> {
    if text.is_empty() || parse_null(text).is_some() {
        return Ok(Value::Null);
    }
    if let Some(boolean) = parse_bool(text) {
        return Ok(Value::Bool(boolean));
    }
    if let Some(integer) = parse_integer(text) {
        return integer;
    }
    if !digits_but_not_number(text)
        && let Some(float) = parse_f64(text)
    {
        return float_value(float);
    }
    Ok(Value::String(text.to_string()))
}

fn float_value(float: f64) -> Result<Value, String> {
    Number::from_f64(float).map(Value::Number).ok_or_else(|| {
        format!(
            "{float} is not a number FoxDB can store: JSON (and so Kubernetes) has no NaN or infinity, and MySQL/MariaDB and SQLite columns cannot hold them; write a finite number"
        )
    })
}

/// An integer that fits 64 bits, an error for one that only fits 128 (JSON numbers here are
/// 64-bit), or `None` when the text is not an integer at all.
fn parse_integer(text: &str) -> Option<Result<Value, String>> {
    if let Some(int) = parse_unsigned_int(text, u64::from_str_radix) {
        return Some(Ok(Value::Number(int.into())));
    }
    if let Some(int) = parse_negative_int(text, i64::from_str_radix) {
        return Some(Ok(Value::Number(int.into())));
    }
    if parse_unsigned_int(text, u128::from_str_radix).is_some()
        || parse_negative_int(text, i128::from_str_radix).is_some()
    {
        return Some(Err(format!(
            "integer {text} is out of range (a 64-bit integer is the most a manifest can hold)"
        )));
    }
    None
}

fn parse_null(text: &str) -> Option<()> {
    matches!(text, "null" | "Null" | "NULL" | "~").then_some(())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_unsigned_int<T>(
    text: &str,
    from_str_radix: fn(&str, u32) -> Result<T, ParseIntError>,
) -> Option<T> {
    let unpositive = text.strip_prefix('+').unwrap_or(text);
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = unpositive.strip_prefix(prefix) {
            if rest.starts_with(['+', '-']) {
                return None;
            }
            if let Ok(int) = from_str_radix(rest, radix) {
                return Some(int);
            }
        }
    }
    if unpositive.starts_with(['+', '-']) || digits_but_not_number(text) {
        return None;
    }
    from_str_radix(unpositive, 10).ok()
}

fn parse_negative_int<T>(
    text: &str,
    from_str_radix: fn(&str, u32) -> Result<T, ParseIntError>,
) -> Option<T> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = text.strip_prefix(prefix)
            && let Ok(int) = from_str_radix(&format!("-{rest}"), radix)
        {
            return Some(int);
        }
    }
    if digits_but_not_number(text) {
        return None;
    }
    from_str_radix(text, 10).ok()
}

fn parse_f64(text: &str) -> Option<f64> {
    let unpositive = match text.strip_prefix('+') {
        Some(rest) if rest.starts_with(['+', '-']) => return None,
        Some(rest) => rest,
        None => text,
    };
    if matches!(unpositive, ".inf" | ".Inf" | ".INF") {
        return Some(f64::INFINITY);
    }
    if matches!(text, "-.inf" | "-.Inf" | "-.INF") {
        return Some(f64::NEG_INFINITY);
    }
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Some(f64::NAN);
    }
    unpositive.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Leading zeros followed by digits are a string in YAML 1.2 (`007`, `-012`).
fn digits_but_not_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    /// What the previous reader (`serde_yaml_ng` into `serde_json::Value`) made of a plain scalar.
    fn previous_reading(text: &str) -> Result<Value, String> {
        let yaml = format!("value: {text}\n");
        let value = Value::deserialize(serde_yaml_ng::Deserializer::from_str(&yaml))
            .map_err(|e| e.to_string())?;
        Ok(value.get("value").cloned().unwrap_or(Value::Null))
    }

    #[test]
    fn plain_scalars_mean_what_they_always_meant() {
        let samples = [
            "",
            "~",
            "null",
            "Null",
            "NULL",
            "nULL",
            "true",
            "True",
            "TRUE",
            "tRUE",
            "false",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "0",
            "-0",
            "+0",
            "7",
            "+7",
            "-7",
            "007",
            "-007",
            "+007",
            "0x1F",
            "0X1F",
            "-0x1F",
            "+0x1F",
            "0x-1",
            "0o17",
            "-0o17",
            "0b101",
            "-0b101",
            "0b2",
            "1_000",
            "1e3",
            "1E3",
            "-1.5e-3",
            "+1.5",
            ".5",
            "5.",
            "1.",
            "-.5",
            "0.1",
            ".inf",
            ".Inf",
            "-.inf",
            "+.inf",
            ".nan",
            ".NaN",
            "inf",
            "nan",
            "infinity",
            "1e400",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551615",
            "-9223372036854775808",
            "-9223372036854775809",
            "1.0e+10",
            "0.",
            "++1",
            "--1",
            "12:30",
            "2024-01-01",
            "2024-01-01T00:00:00Z",
            "0012.5",
            "1,5",
            "text",
            "a b",
        ];
        let mut differences = Vec::new();
        for text in samples {
            let expected = previous_reading(text);
            let actual = resolve_scalar(text, ScalarForm::Plain, None);
            if expected == Ok(Value::Null) && parse_f64(text).is_some_and(|f| !f.is_finite()) {
                // NaN and infinities used to vanish into null; they are refused now.
                assert!(
                    actual
                        .as_ref()
                        .is_err_and(|m| m.contains("not a number FoxDB can store")),
                    "{text:?}: {actual:?}"
                );
                continue;
            }
            if actual.is_ok() != expected.is_ok() || (actual.is_ok() && actual != expected) {
                differences.push(format!("{text:?}: was {expected:?}, now {actual:?}"));
            }
        }
        assert!(differences.is_empty(), "{differences:#?}");
    }

    #[test]
    fn integers_beyond_64_bits_are_refused_as_before() {
        for text in ["18446744073709551616", "-9223372036854775809000"] {
            assert!(previous_reading(text).is_err(), "{text}");
            assert!(
                resolve_scalar(text, ScalarForm::Plain, None).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn quoted_scalars_are_text_and_core_tags_force_a_type() {
        assert_eq!(
            resolve_scalar("123", ScalarForm::Quoted, None),
            Ok(Value::String("123".into()))
        );
        assert_eq!(
            resolve_scalar("123", ScalarForm::Plain, Some("str")),
            Ok(Value::String("123".into()))
        );
        assert_eq!(
            resolve_scalar("12", ScalarForm::Quoted, Some("int")),
            Ok(Value::Number(12.into()))
        );
        assert!(resolve_scalar("x", ScalarForm::Plain, Some("bool")).is_err());
    }
}
