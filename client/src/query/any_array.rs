//! `column = ANY(CAST($1 AS type[]))`: a list of values sent to PostgreSQL as one array
//! parameter, as hand-written sqlx and Diesel do. One parameter and one statement text whatever
//! the number of values, so long lists neither hit the 65,535-parameter limit nor make a new
//! statement shape per length.

use super::SqlWriter;
use crate::Backend;
use crate::connection::Value;

/// The PostgreSQL array type `values` are sent as, or `None` for an `IN (...)` list: other
/// engines, an empty list, NULLs, mixed kinds, and kinds without a safe array cast. Integers
/// go as `bigint[]`, UUIDs as `uuid[]`, text as `text[]`.
///
/// The caller leaves out columns PostgreSQL compares only through a cast (enum columns): an
/// enum does not compare with `text[]`.
pub(crate) fn array_type(backend: Backend, values: &[Value]) -> Option<&'static str> {
    if backend != Backend::Postgres || values.is_empty() {
        return None;
    }
    let all = |kind: fn(&Value) -> bool| values.iter().all(kind);
    if all(|v| matches!(v, Value::Int(_))) {
        Some("bigint[]")
    } else if all(|v| matches!(v, Value::Uuid(_))) {
        Some("uuid[]")
    } else if all(|v| matches!(v, Value::Text(_))) {
        Some("text[]")
    } else {
        None
    }
}

/// Lists longer than this go through `UNNEST` in a subquery (see
/// [`SqlWriter::push_any_array`]).
pub(crate) const HASHED_FROM: usize = 1000;

impl SqlWriter {
    /// ` = ANY(CAST($n AS array_type))`, `values` bound as one array literal; `array_type` is
    /// what [`array_type`] returned for them.
    ///
    /// Past [`HASHED_FROM`] values it writes ` IN (SELECT UNNEST(CAST($n AS array_type)))`
    /// instead: PostgreSQL compares `= ANY(array)` element by element for every row it scans
    /// (a generic plan cannot hash a parameter array), while the subquery becomes a hashed
    /// semi-join.
    pub(crate) fn push_any_array(&mut self, values: &[Value], array_type: &'static str) {
        let hashed = values.len() > HASHED_FROM;
        self.push(if hashed {
            " IN (SELECT UNNEST(CAST("
        } else {
            " = ANY(CAST("
        });
        self.push_value(Value::Text(array_literal(values)));
        self.push(" AS ");
        self.push(array_type);
        self.push(if hashed { ")))" } else { "))" });
    }
}

/// PostgreSQL's text form of an array of `values` (integers, UUIDs or text): `{1,2,3}`, text
/// elements quoted.
fn array_literal(values: &[Value]) -> String {
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
            // `array_type` sends only the three kinds above as arrays.
            other => literal.push_str(&format!("{other:?}")),
        }
    }
    literal.push('}');
    literal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_literals_quote_text_and_escape_quotes_and_backslashes() {
        assert_eq!(array_literal(&[Value::Int(1), Value::Int(-2)]), "{1,-2}");
        assert_eq!(
            array_literal(&[Value::Text("a\"b".into()), Value::Text("c\\,d".into())]),
            r#"{"a\"b","c\\,d"}"#
        );
        let id = uuid::Uuid::nil();
        assert_eq!(
            array_literal(&[Value::Uuid(id)]),
            format!("{{{}}}", id.hyphenated())
        );
    }

    #[test]
    fn only_homogeneous_integers_uuids_or_text_on_postgres_become_arrays() {
        let ints = [Value::Int(1), Value::Int(2)];
        assert_eq!(array_type(Backend::Postgres, &ints), Some("bigint[]"));
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Text("a".into())]),
            Some("text[]")
        );
        assert_eq!(array_type(Backend::MySql, &ints), None);
        assert_eq!(array_type(Backend::Sqlite, &ints), None);
        assert_eq!(array_type(Backend::Postgres, &[]), None);
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Int(1), Value::Null]),
            None
        );
        assert_eq!(
            array_type(Backend::Postgres, &[Value::Int(1), Value::Text("1".into())]),
            None
        );
    }
}
