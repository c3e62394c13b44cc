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

mod json;
mod postgres;
#[cfg(test)]
mod tests;

use super::writer::SqlWriter;
use crate::Backend;
use crate::connection::Value;
use json::{json_array, json_element};
use postgres::{postgres_array_literal, postgres_array_type};

/// Lists longer than this go through `UNNEST` in a subquery on PostgreSQL (see
/// [`SqlWriter::push_in_list`]).
pub(crate) const HASHED_FROM: usize = 1000;

/// Lists of up to this many values keep one placeholder per value on MySQL and SQLite (see
/// the module documentation for the measurements); longer ones are one JSON array parameter.
pub(crate) const PLACEHOLDERS_UP_TO: usize = 200;

/// The one array parameter a list is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// The one parameter `values` go as in the form `array` (see [`array_type`]).
fn list_parameter(array: ArrayType, values: &[Value]) -> Value {
    Value::Text(match array {
        ArrayType::Postgres(_) => postgres_array_literal(values),
        ArrayType::MySqlJson(_) => json_array(Backend::MySql, values),
        ArrayType::SqliteJson(_) => json_array(Backend::Sqlite, values),
    })
}

/// The values [`SqlWriter::push_in_list`] binds for `values` of a column without a cast, in
/// order, given their form `array` ([`array_type`]): the one array parameter, or each value.
pub(crate) fn push_list_values(array: Option<ArrayType>, values: &[Value], out: &mut Vec<Value>) {
    match array {
        Some(array) => out.push(list_parameter(array, values)),
        None => out.extend_from_slice(values),
    }
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
                self.push_value(list_parameter(ArrayType::Postgres(array_type), values));
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
                self.push_value(list_parameter(ArrayType::MySqlJson(element), values));
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
                self.push_value(list_parameter(ArrayType::SqliteJson(element), values));
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
