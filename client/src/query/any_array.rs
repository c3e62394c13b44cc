//! `column IN (list)` with the whole list bound as ONE parameter on every engine, as
//! hand-written sqlx and Diesel do on PostgreSQL: one parameter and one statement text whatever
//! the number of values, so long lists neither hit the engines' parameter limits (65,535 on
//! PostgreSQL and MySQL, 32,766 on SQLite) nor make a new statement text (and a new prepared
//! statement) per length.
//!
//! | engine | SQL after the column | the parameter |
//! |---|---|---|
//! | PostgreSQL | ` = ANY(CAST($1 AS bigint[]))`; past [`HASHED_FROM`] values ` IN (SELECT UNNEST(CAST($1 AS bigint[])))` | the array literal `{1,2,3}` |
//! | MySQL, MariaDB | ` IN (SELECT _fox_list.v FROM JSON_TABLE(?, '$[*]' COLUMNS (v BIGINT PATH '$')) AS _fox_list)` | the JSON array `[1,2,3]` |
//! | SQLite | ` IN (SELECT +value FROM json_each(?))` | the JSON array `[1,2,3]` |
//!
//! # Guarantees
//! - A list matches exactly the rows the per-value form `IN (?, ?, ...)` matches, NULL
//!   semantics included (`NOT (column IN ...)` leaves out rows whose column is NULL): each
//!   element comes back from the array as the value the driver would have bound, and compares
//!   the way a bound value compares (the column's collation on MySQL, its affinity on SQLite).
//! - Lists that cannot keep that promise keep one placeholder per value: see [`array_type`].
//!
//! # Per engine
//! - **PostgreSQL** compares `= ANY(array)` element by element for every row it scans (a
//!   generic plan cannot hash a parameter array); past [`HASHED_FROM`] values the `UNNEST`
//!   subquery becomes a hashed semi-join instead. Integers, floats, decimals, booleans, UUIDs,
//!   text, blobs, dates, times and timestamps (years 1-9999, no leap second); not JSON.
//! - **MySQL / MariaDB**: `JSON_TABLE` reads the array into a column of the type the values
//!   bind as (`BIGINT`, `DOUBLE`, `DECIMAL(65,30)`, `DATE`, `TIME(6)`, `DATETIME(6)`), and the
//!   optimizer turns the `IN` into a semi-join that looks each element up in the column's index
//!   (`EXPLAIN`: the materialized list, then `eq_ref`/`ref` on the index). Text is read as a
//!   JSON value and unquoted: a `VARCHAR` column of `JSON_TABLE` would take the database's
//!   default character set (losing what latin1 cannot hold) and an implicit collation that
//!   clashes with a column of another one ("Illegal mix of collations") or, being `_bin`,
//!   overrides a case-insensitive one. `JSON_UNQUOTE` gives coercible `utf8mb4` text, like a
//!   bound value, so the column's collation decides (verified on MariaDB 10.11; MySQL 8's
//!   source gives it the same coercible derivation, not run on a MySQL 8 server). One
//!   difference remains on columns of a non-Unicode character set: a value the column cannot
//!   hold (an emoji against latin1) is converted to `?` and can match a stored `?`, where a
//!   bound value fails with "Illegal mix of collations"; foxdb creates `utf8mb4` tables. Blobs
//!   go as hex text, `UNHEX`ed.
//! - **SQLite**: `json_each` returns integers (and booleans, written `1`/`0`) as INTEGER,
//!   text as TEXT, blobs as hex text that `unhex` turns back into BLOBs; dates, times and
//!   timestamps as the text the driver binds them as. The unary `+` strips the column
//!   affinity of `json_each`'s `value`, so the compared column's affinity applies as it does to
//!   a bound value (`text_column IN (1)` matches `'1'`). Floats keep placeholders: SQLite's
//!   JSON parser does not read every double back exactly (3.51: one random double in six came
//!   back one unit in the last place off), and a float bound as a value is exact.
//!
//! Up to [`PLACEHOLDERS_UP_TO`] values, MySQL and SQLite keep one placeholder per value: the
//! optimizer then sees every value (MariaDB and MySQL look each one up in the index to estimate
//! rows, up to `eq_range_index_dive_limit`, 200 by default, while it assumes 40 elements for any
//! `JSON_TABLE`), and on MariaDB 10.11 an already prepared short list ran 10-30 µs faster (a
//! range scan). From 300 values on both forms ran as fast, and a list as one parameter avoids
//! preparing a new statement per length (10,000 ids: 28-35 ms against 44 ms prepared and 53 ms
//! not yet prepared). At 60,000 ids a per-value statement already prepared for that very length
//! ran faster (130-155 ms against 200-225 ms), one not yet prepared slower (200-290 ms); past
//! 65,535 values there is no per-value form. On SQLite both forms ran as fast at every length.

use super::writer::SqlWriter;
use crate::Backend;
use crate::connection::Value;

/// Lists longer than this go through `UNNEST` in a subquery on PostgreSQL (see
/// [`SqlWriter::push_in_list`]).
pub(crate) const HASHED_FROM: usize = 1000;

/// Lists of up to this many values keep one placeholder per value on MySQL and SQLite (see
/// the module documentation for the measurements); longer ones are one JSON array parameter.
pub(crate) const PLACEHOLDERS_UP_TO: usize = 200;

/// The one array parameter a list is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ArrayType {
    /// A PostgreSQL array literal cast to this array type (`bigint[]`, `text[]`, `uuid[]`,
    /// `float8[]`, `numeric[]`, `boolean[]`, `bytea[]`, `date[]`, `time[]`, `timestamp[]`,
    /// `timestamptz[]`).
    Postgres(&'static str),
    /// A JSON array that MySQL's `JSON_TABLE` reads back, each element as this kind.
    MySqlJson(Element),
    /// A JSON array that SQLite's `json_each` reads back, each element as this kind.
    SqliteJson(Element),
}

/// What the elements of a JSON list are: how each is written and read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Element {
    /// Integers: JSON numbers.
    Integer,
    /// Booleans: the numbers `1` and `0`, as the drivers bind them.
    Boolean,
    /// Finite doubles: JSON numbers in their shortest exact form (MySQL only).
    Float,
    /// Exact decimals: JSON numbers on MySQL, strings on SQLite (bound as text there).
    Decimal,
    /// Text and UUIDs (hyphenated, as they are stored on MySQL and SQLite): JSON strings.
    Text,
    /// Binary data: JSON strings of hex digits.
    Bytes,
    /// Dates: JSON strings.
    Date,
    /// Times of day: JSON strings.
    Time,
    /// Dates and times without zone: JSON strings.
    Timestamp,
    /// Instants: JSON strings (in UTC on MySQL; SQLite's driver text on SQLite).
    TimestampTz,
}

/// How `values` go as one parameter on `backend`, or `None` for one placeholder per value:
/// an empty list; lists with a NULL (the typed API never builds one) or JSON documents; kinds
/// mixed in one list; lists of up to [`PLACEHOLDERS_UP_TO`] values on MySQL and SQLite; on
/// PostgreSQL, JSON and dates outside years 1-9999 or with a leap second; on SQLite, floats; on MySQL,
/// non-finite floats and dates or times MySQL cannot hold (years outside 1000-9999, leap
/// seconds), which bound as values fail the same way they always did.
///
/// The caller leaves out columns PostgreSQL compares only through a cast (enum columns): an
/// enum does not compare with `text[]`.
pub(crate) fn array_type(backend: Backend, values: &[Value]) -> Option<ArrayType> {
    if values.is_empty() {
        return None;
    }
    match backend {
        Backend::Postgres => postgres_array_type(values).map(ArrayType::Postgres),
        Backend::MySql | Backend::Sqlite if values.len() <= PLACEHOLDERS_UP_TO => None,
        Backend::MySql => json_element(backend, values).map(ArrayType::MySqlJson),
        Backend::Sqlite => json_element(backend, values).map(ArrayType::SqliteJson),
    }
}

/// The PostgreSQL array type of a list of values of one kind that has an exact text form in an
/// array literal, or `None`.
fn postgres_array_type(values: &[Value]) -> Option<&'static str> {
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

/// The one kind every value of the list has in a JSON array on `backend`.
fn json_element(backend: Backend, values: &[Value]) -> Option<Element> {
    let first = element_of(backend, &values[0])?;
    values[1..]
        .iter()
        .all(|value| element_of(backend, value) == Some(first))
        .then_some(first)
}

/// The kind of one value in a JSON array on `backend`, or `None` where it does not come back
/// exactly as the driver would bind it.
fn element_of(backend: Backend, value: &Value) -> Option<Element> {
    use chrono::{Datelike, Timelike};
    let mysql = backend == Backend::MySql;
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
        | Value::Json(_)
        | Value::Float(_)
        | Value::Date(_)
        | Value::Time(_)
        | Value::Timestamp(_)
        | Value::TimestampTz(_) => return None,
    })
}

impl SqlWriter {
    /// How `values` compared with `column` go as one parameter here, or `None` for one
    /// placeholder per value (see [`array_type`]); `column` is `None` for a column of another
    /// table than the writer's model (its casts do not apply).
    pub(crate) fn in_list_array_type(
        &self,
        column: Option<&str>,
        values: &[Value],
    ) -> Option<ArrayType> {
        // A PostgreSQL enum column compares only with values cast to its type, one by one.
        if column.is_some_and(|column| self.casts_column(column)) {
            return None;
        }
        array_type(self.backend(), values)
    }

    /// What follows a column to compare it with every value of a non-empty list: one array
    /// parameter where [`SqlWriter::in_list_array_type`] gives one (see the module
    /// documentation for each engine's SQL), else ` IN (?, ?, ...)`, each value cast to
    /// `column`'s PostgreSQL type where it has one.
    pub(crate) fn push_in_list(&mut self, column: Option<&str>, values: &[Value]) {
        match self.in_list_array_type(column, values) {
            Some(ArrayType::Postgres(array_type)) => {
                let hashed = values.len() > HASHED_FROM;
                self.push(if hashed {
                    " IN (SELECT UNNEST(CAST("
                } else {
                    " = ANY(CAST("
                });
                self.push_value(Value::Text(postgres_array_literal(values)));
                self.push(" AS ");
                self.push(array_type);
                self.push(if hashed { ")))" } else { "))" });
            }
            Some(ArrayType::MySqlJson(element)) => {
                let (column_type, selected) = match element {
                    Element::Integer | Element::Boolean => ("BIGINT", "_fox_list.v"),
                    Element::Float => ("DOUBLE", "_fox_list.v"),
                    Element::Decimal => ("DECIMAL(65,30)", "_fox_list.v"),
                    Element::Date => ("DATE", "_fox_list.v"),
                    Element::Time => ("TIME(6)", "_fox_list.v"),
                    Element::Timestamp | Element::TimestampTz => ("DATETIME(6)", "_fox_list.v"),
                    Element::Text => ("JSON", "JSON_UNQUOTE(_fox_list.v)"),
                    Element::Bytes => ("JSON", "UNHEX(JSON_UNQUOTE(_fox_list.v))"),
                };
                self.push(" IN (SELECT ");
                self.push(selected);
                self.push(" FROM JSON_TABLE(");
                self.push_value(Value::Text(json_array(Backend::MySql, values)));
                self.push(", '$[*]' COLUMNS (v ");
                self.push(column_type);
                self.push(" PATH '$')) AS _fox_list)");
            }
            Some(ArrayType::SqliteJson(element)) => {
                self.push(if element == Element::Bytes {
                    " IN (SELECT unhex(value) FROM json_each("
                } else {
                    " IN (SELECT +value FROM json_each("
                });
                self.push_value(Value::Text(json_array(Backend::Sqlite, values)));
                self.push("))");
            }
            None => {
                self.push(" IN (");
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    match column {
                        Some(column) => self.push_column_value(column, value.clone()),
                        None => self.push_value(value.clone()),
                    }
                }
                self.push(")");
            }
        }
    }
}

/// PostgreSQL's text form of an array of `values` (of one kind [`postgres_array_type`] takes):
/// `{1,2,3}`, text and timestamps quoted.
fn postgres_array_literal(values: &[Value]) -> String {
    let mut literal = String::from("{");
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            literal.push(',');
        }
        match value {
            Value::Int(i) => literal.push_str(&i.to_string()),
            Value::Uuid(id) => literal.push_str(&id.hyphenated().to_string()),
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
fn driver_microseconds(at: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    (at - epoch)
        .num_microseconds()
        .map_or(at, |micros| epoch + chrono::TimeDelta::microseconds(micros))
}

/// The JSON array of `values` (all of one [`Element`] kind on `backend`), each element as
/// the driver binds it there.
fn json_array(backend: Backend, values: &[Value]) -> String {
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

fn push_json_element(json: &mut String, backend: Backend, value: &Value) {
    use std::fmt::Write as _;
    let mysql = backend == Backend::MySql;
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
        // `array_type` sends no NULLs or JSON documents as arrays.
        Value::Null | Value::Json(_) => {
            json.push_str("null");
            return;
        }
    };
    push_json_string(json, &text);
}

/// `text` as a JSON string: quotes, backslashes and control characters escaped, everything
/// else as it is (JSON text is UTF-8).
fn push_json_string(json: &mut String, text: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn long<T: Clone>(value: T) -> Vec<T> {
        vec![value; PLACEHOLDERS_UP_TO + 1]
    }

    fn rendered(backend: Backend, values: &[Value]) -> (String, Vec<Value>) {
        let mut writer = SqlWriter::for_model(backend, &[]);
        writer.push("x");
        writer.push_in_list(Some("x"), values);
        writer.finish()
    }

    #[test]
    fn postgres_array_literals_quote_text_and_escape_quotes_and_backslashes() {
        assert_eq!(
            postgres_array_literal(&[Value::Int(1), Value::Int(-2)]),
            "{1,-2}"
        );
        assert_eq!(
            postgres_array_literal(&[Value::Text("a\"b".into()), Value::Text("c\\,d".into())]),
            r#"{"a\"b","c\\,d"}"#
        );
        let id = uuid::Uuid::nil();
        assert_eq!(
            postgres_array_literal(&[Value::Uuid(id)]),
            format!("{{{}}}", id.hyphenated())
        );
    }

    #[test]
    fn only_homogeneous_lists_of_a_kind_with_a_text_form_become_postgres_arrays() {
        let ints = [Value::Int(1), Value::Int(2)];
        assert_eq!(
            array_type(Backend::Postgres, &ints),
            Some(ArrayType::Postgres("bigint[]"))
        );
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Text("a".into())]),
            Some(ArrayType::Postgres("text[]"))
        );
        assert_eq!(array_type(Backend::Postgres, &[]), None);
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Int(1), Value::Null]),
            None
        );
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Int(1), Value::Text("1".into())]),
            None
        );
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Float(1.0)]),
            Some(ArrayType::Postgres("float8[]"))
        );
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Bytes(vec![1])]),
            Some(ArrayType::Postgres("bytea[]"))
        );
        assert_eq!(
            postgres_array_literal(&[Value::Bytes(vec![1, 0xab]), Value::Bytes(Vec::new())]),
            r#"{"\\x01ab","\\x"}"#
        );
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Json(serde_json::json!(1))]),
            None
        );
        let bc = chrono::NaiveDate::from_ymd_opt(-5, 1, 1).expect("a date");
        assert_eq!(array_type(Backend::Postgres, &[Value::Date(bc)]), None);
    }

    #[test]
    fn postgres_array_literals_of_floats_dates_and_times_read_back_exactly() {
        let at = chrono::NaiveDate::from_ymd_opt(2024, 2, 29)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 58, 123_456_789))
            .expect("a timestamp");
        assert_eq!(
            postgres_array_literal(&[
                Value::Float(0.1),
                Value::Float(-0.0),
                Value::Float(1e300),
                Value::Float(f64::NAN),
                Value::Float(f64::NEG_INFINITY),
            ]),
            "{0.1,-0.0,1e300,NaN,-Infinity}"
        );
        assert_eq!(
            postgres_array_literal(&[Value::Timestamp(at), Value::Timestamp(at)]),
            r#"{"2024-02-29 23:59:58.123456","2024-02-29 23:59:58.123456"}"#,
            "microseconds truncated, as the driver binds them"
        );
        assert_eq!(
            postgres_array_literal(&[Value::TimestampTz(at.and_utc())]),
            r#"{"2024-02-29 23:59:58.123456+00"}"#
        );
        let before_2000 = chrono::NaiveDate::from_ymd_opt(1999, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 123_456_789))
            .expect("a timestamp");
        assert_eq!(
            postgres_array_literal(&[Value::Timestamp(before_2000)]),
            r#"{"1999-12-31 23:59:59.123457"}"#,
            "before 2000 the driver rounds toward 2000"
        );
        assert_eq!(
            postgres_array_literal(&[Value::Date(at.date())]),
            "{2024-02-29}"
        );
        assert_eq!(
            postgres_array_literal(&[Value::Time(at.time())]),
            "{23:59:58.123456}"
        );
        assert_eq!(
            postgres_array_literal(&[Value::Bool(true), Value::Bool(false)]),
            "{t,f}"
        );
    }

    #[test]
    fn short_lists_keep_placeholders_on_mysql_and_sqlite() {
        let short = vec![Value::Int(7); PLACEHOLDERS_UP_TO];
        for backend in [Backend::MySql, Backend::Sqlite] {
            assert_eq!(array_type(backend, &short), None, "{backend}");
            let (sql, values) = rendered(backend, &short);
            assert_eq!(values.len(), PLACEHOLDERS_UP_TO, "{backend}");
            assert!(sql.starts_with("x IN (?, ?"), "{sql}");
        }
    }

    #[test]
    fn long_lists_are_one_json_parameter_on_mysql_and_sqlite() {
        let ints = long(Value::Int(-3));
        let (sql, values) = rendered(Backend::MySql, &ints);
        assert_eq!(
            sql,
            "x IN (SELECT _fox_list.v FROM JSON_TABLE(?, '$[*]' COLUMNS (v BIGINT PATH '$')) AS _fox_list)"
        );
        assert_eq!(values.len(), 1);
        assert!(matches!(&values[0], Value::Text(json) if json.starts_with("[-3,-3,")));

        let (sql, values) = rendered(Backend::Sqlite, &ints);
        assert_eq!(sql, "x IN (SELECT +value FROM json_each(?))");
        assert_eq!(values.len(), 1);

        let texts = long(Value::Text("a".into()));
        let (sql, _) = rendered(Backend::MySql, &texts);
        assert!(
            sql.contains("SELECT JSON_UNQUOTE(_fox_list.v) FROM JSON_TABLE(?, '$[*]' COLUMNS (v JSON PATH '$'))"),
            "{sql}"
        );
        let bytes = long(Value::Bytes(vec![0, 0xab]));
        let (sql, values) = rendered(Backend::Sqlite, &bytes);
        assert_eq!(sql, "x IN (SELECT unhex(value) FROM json_each(?))");
        assert!(matches!(&values[0], Value::Text(json) if json.starts_with(r#"["00AB","00AB","#)));
    }

    #[test]
    fn lists_without_an_exact_json_form_keep_placeholders() {
        let nan = long(Value::Float(f64::NAN));
        let mut with_null = long(Value::Int(1));
        with_null.push(Value::Null);
        let mut mixed = long(Value::Int(1));
        mixed.push(Value::Text("1".into()));
        let ancient = long(Value::Date(
            chrono::NaiveDate::from_ymd_opt(999, 1, 1).expect("a date"),
        ));
        for (backend, values) in [
            (Backend::MySql, &nan),
            (Backend::Sqlite, &long(Value::Float(0.1))),
            (Backend::MySql, &with_null),
            (Backend::Sqlite, &with_null),
            (Backend::MySql, &mixed),
            (Backend::MySql, &long(Value::Json(serde_json::json!({})))),
            (Backend::MySql, &ancient),
        ] {
            assert_eq!(array_type(backend, values), None, "{backend}: {values:?}");
        }
        assert_eq!(
            array_type(Backend::MySql, &long(Value::Float(0.1))),
            Some(ArrayType::MySqlJson(Element::Float))
        );
        assert_eq!(
            array_type(Backend::Sqlite, &ancient),
            Some(ArrayType::SqliteJson(Element::Date))
        );
        // UUIDs are text on MySQL and SQLite, and may share a list with text.
        let mut ids = long(Value::Uuid(uuid::Uuid::nil()));
        ids.push(Value::Text("x".into()));
        assert_eq!(
            array_type(Backend::Sqlite, &ids),
            Some(ArrayType::SqliteJson(Element::Text))
        );
    }

    #[test]
    fn json_elements_are_written_as_each_driver_binds_them() {
        let json = |backend, values: &[Value]| json_array(backend, values);
        assert_eq!(
            json(
                Backend::MySql,
                &[Value::Int(i64::MIN), Value::Int(i64::MAX)]
            ),
            "[-9223372036854775808,9223372036854775807]"
        );
        assert_eq!(
            json(Backend::Sqlite, &[Value::Bool(true), Value::Bool(false)]),
            "[1,0]"
        );
        assert_eq!(
            json(
                Backend::MySql,
                &[Value::Float(0.1), Value::Float(1e300), Value::Float(-0.0)]
            ),
            "[0.1,1e+300,-0.0]"
        );
        assert_eq!(
            json(Backend::Sqlite, &[Value::Text("q\"b\\s\u{0}\n😀 é".into())]),
            r#"["q\"b\\s\u0000\u000a😀 é"]"#
        );
        let decimal = Value::Decimal(rust_decimal::Decimal::new(-15_000, 4));
        assert_eq!(
            json(Backend::MySql, std::slice::from_ref(&decimal)),
            r#"["-1.5000"]"#,
            "a string: MySQL 8 may read a JSON number as a double"
        );
        assert_eq!(json(Backend::Sqlite, &[decimal]), r#"["-1.5000"]"#);
        let instant = chrono::DateTime::parse_from_rfc3339("2026-11-27T08:15:30.123456789Z")
            .expect("valid")
            .with_timezone(&chrono::Utc);
        assert_eq!(
            json(Backend::MySql, &[Value::TimestampTz(instant)]),
            r#"["2026-11-27 08:15:30.123456"]"#
        );
        assert_eq!(
            json(Backend::Sqlite, &[Value::TimestampTz(instant)]),
            r#"["2026-11-27T08:15:30.123456789+00:00"]"#
        );
        assert_eq!(
            json(Backend::Sqlite, &[Value::Timestamp(instant.naive_utc())]),
            r#"["2026-11-27 08:15:30.123456789"]"#
        );
        assert_eq!(
            json(Backend::MySql, &[Value::Time(instant.time())]),
            r#"["08:15:30.123456"]"#
        );
        assert_eq!(
            json(
                Backend::MySql,
                &[Value::Bytes(vec![]), Value::Bytes(vec![0, 255])]
            ),
            r#"["","00FF"]"#
        );
    }
}
