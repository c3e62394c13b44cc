//! Filters on a value inside a JSON column: `User::SETTINGS.json_text(&["theme"]).eq("dark")`
//! compares the text at a path of object keys, each engine through its own JSON functions
//! ([`crate::dialect::Dialect::json_text_at`]): `->` / `->>` on PostgreSQL,
//! `JSON_UNQUOTE(JSON_EXTRACT(..))` on MySQL/MariaDB, `json_extract` on SQLite.
//!
//! The text compared is the same on every engine: a string without its quotes, a number as
//! written, `true`/`false`, and SQL NULL where the path is missing or holds JSON `null`.
//!
//! ```
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User {
//! #     #[foxdb(primary_key)]
//! #     id: i64,
//! #     settings: serde_json::Value,
//! # }
//! use foxdb::{Backend, ModelExt};
//! let query = User::find().filter(User::SETTINGS.json_text(&["ui", "theme"]).eq("dark"));
//! let (sql, _) = query.to_sql(Backend::Postgres);
//! assert!(sql.ends_with(r#"WHERE ("settings" -> 'ui' ->> 'theme') = $1"#), "{sql}");
//! ```
//!
//! Only JSON columns have paths:
//!
//! ```compile_fail
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User { #[foxdb(primary_key)] id: i64, email: String }
//! use foxdb::ModelExt;
//! let wrong = User::find().filter(User::EMAIL.json_text(&["theme"]).eq("dark"));
//! ```

use std::marker::PhantomData;

use super::ast::{Expr, Operator};
use super::column::Column;
use super::condition::Condition;
use super::source::Source;
use crate::connection::Value;

/// Column types holding JSON: `serde_json::Value` and its `Option`.
pub trait JsonColumn {}
impl JsonColumn for serde_json::Value {}
impl JsonColumn for Option<serde_json::Value> {}

/// The text at a path inside a JSON column of `M`; see [`Column::json_text`].
#[derive(Debug, Clone)]
pub struct JsonText<M> {
    column: &'static str,
    path: Vec<&'static str>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Source, T: JsonColumn + crate::model::ColumnType> Column<M, T> {
    /// The text at `path` (object keys, outermost first) inside this JSON column, to compare:
    /// `User::SETTINGS.json_text(&["ui", "theme"]).eq("dark")`.
    pub fn json_text(self, path: &[&'static str]) -> JsonText<M> {
        JsonText {
            column: self.name(),
            path: path.to_vec(),
            _model: PhantomData,
        }
    }
}

impl<M> JsonText<M> {
    fn compare(self, operator: Operator, value: impl Into<String>) -> Condition<M> {
        Condition::new(Expr::JsonText {
            column: self.column,
            path: self.path,
            operator,
            value: Value::Text(value.into()),
        })
    }

    /// The text equals `value`.
    pub fn eq(self, value: impl Into<String>) -> Condition<M> {
        self.compare(Operator::Eq, value)
    }

    /// The text differs from `value` (a missing path matches neither `eq` nor `ne`).
    pub fn ne(self, value: impl Into<String>) -> Condition<M> {
        self.compare(Operator::Ne, value)
    }

    /// There is a non-null value at the path.
    pub fn is_not_null(self) -> Condition<M> {
        Condition::new(Expr::JsonTextNull {
            column: self.column,
            path: self.path,
            negated: true,
        })
    }

    /// The path is missing or holds JSON `null`.
    pub fn is_null(self) -> Condition<M> {
        Condition::new(Expr::JsonTextNull {
            column: self.column,
            path: self.path,
            negated: false,
        })
    }
}
