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

// Layers, each importing only those above it: `ast` (the tree) and `writer` (text and bound
// values); `render` (the tree as SQL, over `writer` and the engine's `Dialect`); the builders
// (`column`, `condition`, `like`, `aggregate`, `select`, `selection`, `in_subquery`,
// `join_path`, `join`); the writes (`rendered_statements`, the texts of updates and deletes
// kept per shape, below `filtered_write`; `write_hooks`, `write`, `insert_many`, `conflict`,
// and `write_methods`, the pool's and transactions' methods over them).
mod aggregate;
mod any_array;
pub(crate) mod ast;
mod column;
mod condition;
mod conflict;
mod filtered_write;
mod in_subquery;
mod insert_many;
pub mod join;
mod join_path;
mod json_path;
pub mod like;
pub(crate) mod render;
pub(crate) mod rendered_statements;
mod select;
mod selection;
pub mod source;
mod write;
mod write_hooks;
mod write_methods;
mod writer;

pub use aggregate::{Aggregate, AggregateOrder, SumsToFloat, SumsToInteger, count};
pub(crate) use any_array::{ArrayType, array_type, push_list_values};
#[doc(hidden)]
pub use column::OrderTermOf;
pub use column::{Column, IntoOrder, Order};
pub use condition::Condition;
pub(crate) use condition::key_condition;
pub use conflict::{ColumnList, Insert, OnConflict, OnConflictDoNothing, OnConflictUpdate};
pub use filtered_write::{Delete, Update, delete, update};
pub use insert_many::{COPY_MIN_ROWS, insert_many, insert_many_returning};
pub use join::{Alternatives, JoinSelect, JoinSelectColumns};
pub(crate) use join_path::JoinLink;
pub use join_path::{IntoJoinPath, JoinPath};
pub use json_path::{JsonColumn, JsonText};
pub use like::MatchesText;
pub use like::escape_like;
pub use select::{Select, select};
pub use selection::{JoinSelectable, JoinSelection, SelectColumns, Selectable, Selection};
#[doc(hidden)]
pub use source::Nullable;
pub use source::{Alias, Source};
#[doc(hidden)]
pub use write::upsert_statement;
pub use write::{create, insert, insert_statement, patch, remove, save, upsert};
pub(crate) use writer::EnumColumns;
pub use writer::SqlWriter;
