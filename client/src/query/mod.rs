//! The query builder: typed columns and conditions, rendered per dialect with every value bound
//! as a parameter and every identifier quoted.
//!
//! ```
//! # use foxdb::{Backend, Column, Model, Row, Value, Result};
//! # #[derive(Clone)] struct User { id: i64, email: String }
//! # impl foxdb::Hooks for User {}
//! # impl Model for User {
//! #     const TABLE: &'static str = "users";
//! #     const COLUMNS: &'static [&'static str] = &["id", "email"];
//! #     const PRIMARY_KEY: &'static [&'static str] = &["id"];
//! #     const GENERATED: &'static [&'static str] = &["id"];
//! #     fn from_row(row: &Row) -> Result<Self> { Ok(Self { id: row.get("id")?, email: row.get("email")? }) }
//! #     fn values(&self) -> Vec<(&'static str, Value)> { vec![] }
//! # }
//! # impl User { const ID: Column<User, i64> = Column::new("id"); const EMAIL: Column<User, String> = Column::new("email"); }
//! let query = foxdb::select::<User>()
//!     .filter(User::EMAIL.like("%@example.com").and(User::ID.gt(10)))
//!     .order_by(User::ID.desc())
//!     .limit(20);
//! let (sql, values) = query.to_sql(Backend::Postgres);
//! assert_eq!(
//!     sql,
//!     r#"SELECT "id", "email" FROM "users" WHERE ("email" LIKE $1 AND "id" > $2) ORDER BY "users"."id" DESC LIMIT 20"#
//! );
//! assert_eq!(values.len(), 2);
//! ```
//!
//! Comparisons are checked by the compiler: a column compares only with values of its type,
//!
//! ```compile_fail
//! #[derive(Clone, foxdb::Model)]
//! #[foxdb(table = "users")]
//! struct User {
//!     #[foxdb(primary_key)]
//!     id: i64,
//!     email: String,
//! }
//! let wrong = User::EMAIL.eq(42); // error: a number is not a String
//! ```
//!
//! (not even a `bool` with an integer column),
//!
//! ```compile_fail
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User {
//! #     #[foxdb(primary_key)]
//! #     id: i64,
//! # }
//! let wrong = User::ID.eq(true); // error: a bool is not an i64
//! ```
//!
//! and a query of one model takes only conditions on that model's columns.
//!
//! ```compile_fail
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User {
//! #     #[foxdb(primary_key)]
//! #     id: i64,
//! # }
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "posts")]
//! # struct Post {
//! #     #[foxdb(primary_key)]
//! #     id: i64,
//! # }
//! use foxdb::ModelExt;
//! let wrong = User::find().filter(Post::ID.eq(1)); // error: a Post condition in a User query
//! ```
//!
//! The same two lines, well-typed, compile:
//!
//! ```
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User {
//! #     #[foxdb(primary_key)]
//! #     id: i64,
//! #     email: String,
//! # }
//! use foxdb::ModelExt;
//! let right = User::find().filter(User::EMAIL.eq("a@example.com").and(User::ID.eq(1)));
//! ```
//!
//! Joined queries ([`Select::join`], [`Select::left_join`]; see [`join`]) take conditions on
//! any table they join, checked the same way.

mod aggregate;
mod any_array;
mod column;
pub(crate) mod condition;
mod filtered_write;
pub mod join;
mod join_path;
pub mod like;
mod select;
mod selection;
pub mod source;
mod write;
mod write_hooks;

pub use aggregate::{Aggregate, SumsToFloat, SumsToInteger, count};
pub use column::{Column, Order};
pub use condition::Condition;
pub use filtered_write::{Delete, Update, delete, update};
pub use join::{Alternatives, JoinSelect, JoinSelectColumns};
pub(crate) use join_path::JoinLink;
pub use join_path::{IntoJoinPath, JoinPath};
pub use like::escape_like;
pub use select::{Select, select};
pub use selection::{JoinSelectable, JoinSelection, SelectColumns, Selectable, Selection};
pub use source::{Alias, Source};
pub(crate) use write::parameter_limit;
#[doc(hidden)]
pub use write::upsert_statement;
pub use write::{create, insert, insert_many, insert_statement, patch, remove, save, upsert};

use crate::Backend;
use crate::connection::Value;
use crate::dialect::{Dialect, dialect_for};

/// SQL text being written, with the values bound so far. Opaque outside FoxDB: it appears in
/// the [`Selectable`] and [`Selection`] traits, which only FoxDB's types implement usefully.
#[derive(Debug)]
pub struct SqlWriter {
    dialect: &'static dyn Dialect,
    casts: &'static [(&'static str, &'static str)],
    pub(crate) sql: String,
    pub(crate) values: Vec<Value>,
}

impl SqlWriter {
    /// A writer that casts values of the given columns to their PostgreSQL types.
    pub(crate) fn for_model(
        backend: Backend,
        casts: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self {
            casts: if backend == Backend::Postgres {
                casts
            } else {
                &[]
            },
            dialect: dialect_for(backend),
            sql: String::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn backend(&self) -> Backend {
        self.dialect.backend()
    }

    pub(crate) fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    pub(crate) fn push_identifier(&mut self, name: &str) {
        let quoted = self.dialect.quote(name);
        self.sql.push_str(&quoted);
    }

    pub(crate) fn push_value(&mut self, value: Value) {
        // NULL too is bound, never written into the text: the statement text (and so its query
        // shape, a metric label) stays the same whichever values are NULL. Each engine binds
        // NULL so that it fits any column (`DecimalBinding::bind_null`).
        self.values.push(value);
        let placeholder = self.dialect.placeholder(self.values.len());
        self.sql.push_str(&placeholder);
    }

    /// Uses another model's casts (for a subquery on it); returns the ones in use before.
    pub(crate) fn swap_casts(
        &mut self,
        casts: &'static [(&'static str, &'static str)],
    ) -> &'static [(&'static str, &'static str)] {
        let casts = if self.dialect.backend() == Backend::Postgres {
            casts
        } else {
            &[]
        };
        std::mem::replace(&mut self.casts, casts)
    }

    /// Whether values compared with `column` are cast to its PostgreSQL type (an enum).
    pub(crate) fn casts_column(&self, column: &str) -> bool {
        self.casts.iter().any(|(c, _)| *c == column)
    }

    /// A value compared with or written to `column`, cast where the column needs it.
    pub(crate) fn push_column_value(&mut self, column: &str, value: Value) {
        match self.casts.iter().find(|(c, _)| *c == column) {
            Some((_, ty)) if value != Value::Null => {
                self.sql.push_str("CAST(");
                self.push_value(value);
                self.sql.push_str(" AS ");
                self.push_identifier(ty);
                self.sql.push(')');
            }
            _ => self.push_value(value),
        }
    }

    /// A select list: columns with a cast type are read back as text (PostgreSQL enums decode
    /// into `String` only so).
    pub(crate) fn push_select_columns(&mut self, columns: &[&str]) {
        self.push_select_columns_of(None, columns);
    }

    /// One column as a select expression, without alias (the caller aliases it).
    pub(crate) fn push_column_expression(&mut self, column: &str) {
        self.push_column_expression_of(None, column);
    }

    /// [`SqlWriter::push_column_expression`] qualified by `table`.
    pub(crate) fn push_column_expression_of(&mut self, table: Option<&str>, column: &str) {
        let cast = self.casts.iter().any(|(c, _)| *c == column);
        if cast {
            self.push("CAST(");
        }
        if let Some(table) = table {
            self.push_identifier(table);
            self.push(".");
        }
        self.push_identifier(column);
        if cast {
            self.push(" AS text)");
        }
    }

    /// [`SqlWriter::push_select_columns`] with every column qualified by `table`.
    pub(crate) fn push_select_columns_of(&mut self, table: Option<&str>, columns: &[&str]) {
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            let cast = self.casts.iter().any(|(c, _)| c == column);
            if cast {
                self.push("CAST(");
            }
            if let Some(table) = table {
                self.push_identifier(table);
                self.push(".");
            }
            self.push_identifier(column);
            if cast {
                self.push(" AS text) AS ");
                self.push_identifier(column);
            }
        }
    }

    pub(crate) fn push_identifiers(&mut self, names: &[&str]) {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_identifier(name);
        }
    }

    pub(crate) fn finish(self) -> (String, Vec<Value>) {
        (self.sql, self.values)
    }
}
