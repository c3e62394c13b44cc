//! Lists as one parameter: the array and JSON forms per engine.

use super::json::*;
use super::postgres::*;
use super::*;
use crate::query::EnumColumns;

fn long<T: Clone>(value: T) -> Vec<T> {
    vec![value; PLACEHOLDERS_UP_TO + 1]
}

fn rendered(backend: Backend, values: &[Value]) -> (String, Vec<Value>) {
    let mut writer = SqlWriter::for_model(backend, EnumColumns::default());
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
fn postgres_array_literals_write_integers_as_rust_formats_them() {
    let integers = [0, 7, -7, 10, 1_234_567_890, i64::MAX, i64::MIN, -1];
    let values: Vec<Value> = integers.iter().copied().map(Value::Int).collect();
    let formatted: Vec<String> = integers.iter().map(i64::to_string).collect();
    assert_eq!(
        postgres_array_literal(&values),
        format!("{{{}}}", formatted.join(","))
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
        sql.contains(
            "SELECT JSON_UNQUOTE(_fox_list.v) FROM JSON_TABLE(?, '$[*]' COLUMNS (v JSON PATH '$'))"
        ),
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
