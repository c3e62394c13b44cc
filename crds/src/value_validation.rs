//! Literal values of a FoxSchema — column defaults and seed values — checked against the type
//! of their column, so a value no engine can store is refused before any DDL runs.
//!
//! The rules are the same for a default and a seed value, with two differences: a default may
//! be one of the portable expressions ([`DEFAULT_EXPRESSIONS`]) where the column type takes it,
//! and a seed value may be text for a `bytes` column.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

use crate::column_type::ColumnType;
use crate::scalar::Scalar;

/// Portable default expressions, accepted as strings in `default:` and rendered per engine.
pub const DEFAULT_EXPRESSIONS: [&str; 3] = ["now()", "current_date", "current_time"];

/// Where a literal is written; the rules differ only in what each may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Default,
    Seed,
}

impl Place {
    fn noun(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Seed => "value",
        }
    }
}

/// Why `default` cannot be the default of a column of type `ty`, if it cannot.
///
/// ```
/// use fox_crds::{ColumnType, Scalar, value_validation::default_problem};
/// assert_eq!(default_problem(&ColumnType::Date, &Scalar::String("current_date".into())), None);
/// assert!(default_problem(&ColumnType::SmallInt, &Scalar::Integer(40_000)).is_some());
/// ```
pub fn default_problem(ty: &ColumnType, default: &Scalar) -> Option<String> {
    literal_problem(ty, default, Place::Default)
}

/// Why `value` cannot be stored in a column of type `ty` by a seed row, if it cannot.
pub fn seed_value_problem(ty: &ColumnType, value: &Scalar) -> Option<String> {
    literal_problem(ty, value, Place::Seed)
}

fn literal_problem(ty: &ColumnType, value: &Scalar, place: Place) -> Option<String> {
    let noun = place.noun();
    if let Scalar::String(s) = value
        && DEFAULT_EXPRESSIONS.contains(&s.as_str())
    {
        return expression_problem(ty, s, place);
    }
    match (ty, value) {
        (_, Scalar::Null) => None,
        (ColumnType::Boolean, Scalar::Bool(_)) => None,
        (ColumnType::SmallInt, Scalar::Integer(i)) => {
            range_problem(noun, *i, i16::MIN.into(), i16::MAX.into(), ty)
        }
        (ColumnType::Integer | ColumnType::Serial, Scalar::Integer(i)) => {
            range_problem(noun, *i, i32::MIN.into(), i32::MAX.into(), ty)
        }
        (ColumnType::BigInt | ColumnType::BigSerial, Scalar::Integer(_)) => None,
        (ColumnType::Real | ColumnType::Double, Scalar::Integer(_)) => None,
        (ColumnType::Real, Scalar::Float(x)) => float_problem(noun, *x, f64::from(f32::MAX), ty),
        (ColumnType::Double, Scalar::Float(x)) => float_problem(noun, *x, f64::MAX, ty),
        (ColumnType::Decimal { precision, scale }, Scalar::Integer(i)) => {
            decimal_problem(noun, &i.to_string(), *precision, *scale)
        }
        (ColumnType::Decimal { precision, scale }, Scalar::Float(x)) => {
            if x.is_finite() {
                decimal_problem(noun, &x.to_string(), *precision, *scale)
            } else {
                Some(format!(
                    "{noun} {x} is not a number a decimal column can hold"
                ))
            }
        }
        (ColumnType::Decimal { precision, scale }, Scalar::String(s)) => {
            decimal_problem(noun, s, *precision, *scale)
        }
        (ColumnType::Char(n) | ColumnType::Varchar(n), Scalar::String(s)) => {
            let length = s.chars().count();
            (length > *n as usize).then(|| {
                format!("{noun} is {length} characters long; a {ty} column holds at most {n}")
            })
        }
        (ColumnType::Text, Scalar::String(_)) => None,
        (ColumnType::Bytes, Scalar::String(_)) if place == Place::Seed => None,
        (ColumnType::Uuid, Scalar::String(s)) => (!is_uuid(s))
            .then(|| format!("{noun} \"{}\" is not a UUID (8-4-4-4-12 hexadecimal digits)", s.escape_default())),
        (ColumnType::Json, Scalar::Json(_)) if place == Place::Seed => None,
        (ColumnType::Json, Scalar::Json(_)) => Some(format!(
            "{noun} is a list or mapping; write a json column's default as a JSON string"
        )),
        (_, Scalar::Json(_)) => Some(format!(
            "{noun} is a list or mapping; only a json column's seed value may be one"
        )),
        (ColumnType::Json, Scalar::String(s)) => serde_json::from_str::<serde_json::Value>(s)
            .err()
            .map(|error| format!("{noun} is not a JSON document: {error}")),
        (ColumnType::Enum(labels), Scalar::String(s)) => (!labels.contains(s)).then(|| {
            format!(
                "{noun} \"{s}\" is not one of the enum labels ({})",
                labels.join(", ")
            )
        }),
        (ColumnType::Date, Scalar::String(s)) => (parse_date(s).is_none()).then(|| {
            format!("{noun} \"{}\" is not a date (YYYY-MM-DD)", s.escape_default())
        }),
        (ColumnType::Time, Scalar::String(s)) => (parse_time(s).is_none()).then(|| {
            format!(
                "{noun} \"{}\" is not a time of day (HH:MM:SS, optionally with a fraction)",
                s.escape_default()
            )
        }),
        (ColumnType::Timestamp, Scalar::String(s)) => (parse_timestamp(s).is_none()).then(|| {
            format!(
                "{noun} \"{}\" is not a date and time (YYYY-MM-DD HH:MM:SS, without a time zone)",
                s.escape_default()
            )
        }),
        (ColumnType::TimestampTz, Scalar::String(s)) => (parse_instant(s).is_none()).then(|| {
            format!(
                "{noun} \"{}\" is not an instant (RFC 3339: YYYY-MM-DDTHH:MM:SS with Z or an offset such as +02:00)",
                s.escape_default()
            )
        }),
        (
            ColumnType::SmallInt
            | ColumnType::Integer
            | ColumnType::BigInt
            | ColumnType::Serial
            | ColumnType::BigSerial
            | ColumnType::Boolean
            | ColumnType::Real
            | ColumnType::Double
            | ColumnType::Decimal { .. }
            | ColumnType::Char(_)
            | ColumnType::Varchar(_)
            | ColumnType::Text
            | ColumnType::Date
            | ColumnType::Time
            | ColumnType::Timestamp
            | ColumnType::TimestampTz
            | ColumnType::Uuid
            | ColumnType::Json
            | ColumnType::Bytes
            | ColumnType::Enum(_),
            Scalar::Bool(_) | Scalar::Integer(_) | Scalar::Float(_) | Scalar::String(_),
        ) => Some(format!("{noun} {value} does not fit type {ty}")),
    }
}

/// A portable expression (`now()`, `current_date`, `current_time`) fits only the column type
/// it produces, and only as a default.
fn expression_problem(ty: &ColumnType, expression: &str, place: Place) -> Option<String> {
    if place == Place::Seed {
        return Some(format!(
            "\"{expression}\" is an expression; seed values are literals (write the value itself)"
        ));
    }
    let fits = match expression {
        "now()" => matches!(ty, ColumnType::Timestamp | ColumnType::TimestampTz),
        "current_date" => *ty == ColumnType::Date,
        _ => *ty == ColumnType::Time,
    };
    if fits {
        return None;
    }
    let advice = match ty {
        ColumnType::Timestamp | ColumnType::TimestampTz => "; use now()",
        ColumnType::Date => "; use current_date",
        ColumnType::Time => "; use current_time",
        _ => "",
    };
    Some(format!(
        "default {expression} does not produce a {ty} value{advice}"
    ))
}

fn range_problem(noun: &str, value: i64, min: i64, max: i64, ty: &ColumnType) -> Option<String> {
    (value < min || value > max)
        .then(|| format!("{noun} {value} is out of range for {ty} ({min} to {max})"))
}

fn float_problem(noun: &str, value: f64, max: f64, ty: &ColumnType) -> Option<String> {
    if !value.is_finite() {
        return Some(format!(
            "{noun} {value} cannot be stored: MySQL/MariaDB and SQLite have no NaN or infinity in a {ty} column, so a FoxSchema holds finite numbers only"
        ));
    }
    (value.abs() > max)
        .then(|| format!("{noun} {value:e} is out of range for {ty} (largest {max:e})"))
}

/// Checks a decimal literal as a decimal: digits with an optional sign and point, at most
/// `precision - scale` digits before the point and `scale` after it.
fn decimal_problem(noun: &str, text: &str, precision: u32, scale: u32) -> Option<String> {
    let digits = text.trim();
    let unsigned = digits.strip_prefix(['-', '+']).unwrap_or(digits);
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let is_number = !(whole.is_empty() && fraction.is_empty())
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.chars().all(|c| c.is_ascii_digit());
    if !is_number {
        return Some(format!(
            "{noun} \"{}\" is not a decimal number (digits, an optional sign and decimal point)",
            text.escape_default()
        ));
    }
    let ty = format!("decimal({precision},{scale})");
    let whole_digits = whole.trim_start_matches('0').len() as u32;
    let fraction_digits = fraction.trim_end_matches('0').len() as u32;
    let room = precision - scale;
    if whole_digits > room {
        return Some(format!(
            "{noun} {digits} has {whole_digits} digits before the decimal point; {ty} holds {room}"
        ));
    }
    if fraction_digits > scale {
        return Some(format!(
            "{noun} {digits} has {fraction_digits} digits after the decimal point; {ty} keeps {scale} (engines would round it)"
        ));
    }
    None
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups.iter().zip([8, 4, 4, 4, 12]).all(|(group, length)| {
            group.len() == length && group.chars().all(|c| c.is_ascii_hexdigit())
        })
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()
}

fn parse_timestamp(text: &str) -> Option<NaiveDateTime> {
    let text = text.trim();
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((date, time)) => (parse_date(date)?, parse_time(time)?),
        None => (parse_date(text)?, NaiveTime::MIN),
    };
    Some(date.and_time(time))
}

/// Parses an instant: RFC 3339 (`2024-05-01T10:00:00+02:00`, `...Z`), the same with a space
/// instead of `T`, or a date and time without an offset, taken as UTC.
pub fn parse_instant(text: &str) -> Option<DateTime<chrono::Utc>> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.to_utc());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
        if let Ok(instant) = DateTime::parse_from_str(text, format) {
            return Some(instant.to_utc());
        }
    }
    parse_timestamp(text).map(|naive| naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(spelling: &str) -> ColumnType {
        spelling.parse().expect(spelling)
    }

    #[test]
    fn defaults_outside_their_column_type_are_refused_with_the_reason() {
        let cases = [
            (
                "smallint",
                Scalar::Integer(100_000),
                "out of range for smallint",
            ),
            (
                "integer",
                Scalar::Integer(1 << 40),
                "out of range for integer",
            ),
            (
                "varchar(3)",
                Scalar::String("toolongvalue".into()),
                "12 characters long",
            ),
            ("char(2)", Scalar::String("abc".into()), "holds at most 2"),
            (
                "decimal(3,2)",
                Scalar::Integer(12345),
                "5 digits before the decimal point",
            ),
            (
                "decimal(3,2)",
                Scalar::Float(1.234),
                "3 digits after the decimal point",
            ),
            (
                "decimal(10,2)",
                Scalar::String("NaN".into()),
                "not a decimal number",
            ),
            (
                "decimal(10,2)",
                Scalar::String("inf".into()),
                "not a decimal number",
            ),
            (
                "decimal(10,2)",
                Scalar::String("1e3".into()),
                "not a decimal number",
            ),
            ("decimal(10,2)", Scalar::Float(f64::NAN), "not a number"),
            ("real", Scalar::Float(1e39), "out of range for real"),
            ("double", Scalar::Float(f64::NAN), "no NaN or infinity"),
            ("real", Scalar::Float(f64::INFINITY), "no NaN or infinity"),
            ("date", Scalar::String("now()".into()), "use current_date"),
            (
                "time",
                Scalar::String("current_date".into()),
                "use current_time",
            ),
            (
                "timestamp",
                Scalar::String("current_time".into()),
                "use now()",
            ),
            (
                "text",
                Scalar::String("now()".into()),
                "does not produce a text value",
            ),
            ("date", Scalar::String("2024-02-30".into()), "not a date"),
            ("time", Scalar::String("25:00".into()), "not a time of day"),
            (
                "timestamptz",
                Scalar::String("yesterday".into()),
                "not an instant",
            ),
            ("uuid", Scalar::String("not-a-uuid".into()), "not a UUID"),
            (
                "json",
                Scalar::String("{oops".into()),
                "not a JSON document",
            ),
            ("boolean", Scalar::Integer(1), "does not fit type boolean"),
            (
                "bytes",
                Scalar::String("x".into()),
                "does not fit type bytes",
            ),
        ];
        for (spelling, value, expected) in cases {
            let problem = default_problem(&ty(spelling), &value)
                .unwrap_or_else(|| panic!("{spelling} default {value} is refused"));
            assert!(
                problem.contains(expected),
                "{spelling} default {value}: \"{problem}\" should say \"{expected}\""
            );
        }
    }

    #[test]
    fn defaults_that_fit_their_column_type_are_accepted() {
        let cases = [
            ("smallint", Scalar::Integer(-32_768)),
            ("integer", Scalar::Integer(2_147_483_647)),
            ("decimal(3,2)", Scalar::Float(9.99)),
            ("decimal(3,2)", Scalar::String("-1.50".into())),
            ("decimal(5,0)", Scalar::String("00012".into())),
            ("double", Scalar::Float(1e100)),
            ("real", Scalar::Float(-0.0)),
            ("varchar(3)", Scalar::String("été".into())),
            ("date", Scalar::String("current_date".into())),
            ("date", Scalar::String("2024-02-29".into())),
            ("time", Scalar::String("09:30".into())),
            ("timestamp", Scalar::String("2024-01-01T10:00:00.5".into())),
            ("timestamptz", Scalar::String("now()".into())),
            (
                "timestamptz",
                Scalar::String("2024-01-01T10:00:00+02:00".into()),
            ),
            (
                "uuid",
                Scalar::String("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11".into()),
            ),
            ("json", Scalar::String("{\"a\": [1]}".into())),
        ];
        for (spelling, value) in cases {
            assert_eq!(
                default_problem(&ty(spelling), &value),
                None,
                "{spelling} default {value}"
            );
        }
    }

    #[test]
    fn seed_values_are_literals_within_their_column_range() {
        assert!(
            seed_value_problem(&ty("smallint"), &Scalar::Integer(40_000))
                .is_some_and(|p| p.starts_with("value 40000 is out of range"))
        );
        assert!(
            seed_value_problem(&ty("timestamptz"), &Scalar::String("now()".into()))
                .is_some_and(|p| p.contains("seed values are literals"))
        );
        assert_eq!(
            seed_value_problem(&ty("bytes"), &Scalar::String("raw".into())),
            None
        );
    }

    #[test]
    fn instants_are_read_in_utc() {
        let utc = |text: &str| parse_instant(text).map(|t| t.to_rfc3339());
        assert_eq!(
            utc("2024-01-01T10:00:00+02:00").as_deref(),
            Some("2024-01-01T08:00:00+00:00")
        );
        assert_eq!(
            utc("2024-01-01 10:00:00").as_deref(),
            Some("2024-01-01T10:00:00+00:00")
        );
        assert_eq!(utc("2024-13-01T00:00:00Z"), None);
    }
}

#[cfg(all(test, feature = "kubernetes"))]
mod manifest_tests {
    use crate::manifest::{ManifestSet, parse_manifests};

    #[test]
    fn nan_and_infinity_in_a_manifest_are_refused_with_their_field_path() {
        for (spelling, shown) in [(".nan", "NaN"), ("-.Inf", "-inf"), ("1e400", "")] {
            let yaml = format!(
                "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: t}}\nspec:\n  databaseRef: {{name: db}}\n  tables:\n    - name: m\n      columns:\n        - {{name: id, type: integer, primaryKey: true}}\n        - {{name: x, type: double, nullable: true, default: {spelling}}}\n"
            );
            let mut set = ManifestSet::default();
            parse_manifests("t.yaml".as_ref(), &yaml, &mut set);
            let problems: Vec<String> = set.problems.iter().map(ToString::to_string).collect();
            assert_eq!(problems.len(), 1, "{spelling}: {problems:#?}");
            // YAML reads an overflowing number as text, refused as not a double.
            let expected = if shown.is_empty() {
                "spec.tables[0].columns[1].default: default \"1e400\" does not fit type double"
                    .to_string()
            } else {
                format!(
                    "spec.tables[0].columns[1].default: {shown} is not a number FoxDB can store"
                )
            };
            assert!(problems[0].contains(&expected), "{spelling}: {problems:#?}");
        }
    }
}
