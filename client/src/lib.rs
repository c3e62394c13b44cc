//! FoxDB's client: connections, SQL dialects, the schema model and introspection shared with the
//! `fox` operator, and (growing) typed models and queries for services.
//!
//! ```
//! use foxdb::{Backend, DatabaseUrl};
//!
//! let url = DatabaseUrl::parse("postgres://app:secret@db:5432/blog").unwrap();
//! assert_eq!(url.backend(), Backend::Postgres);
//! assert_eq!(url.to_string(), "postgres://app:***@db:5432/blog"); // never prints the password
//! ```
#![forbid(unsafe_code)]

// The per-engine features exist so that leaving drivers out can come without breaking users;
// until the code is split per engine, all three are needed, and this says so plainly.
#[cfg(not(all(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!(
    "foxdb needs its `postgres`, `mysql` and `sqlite` features together for now (the default); building with fewer engines is planned"
);

mod backend;
pub mod connection;
pub mod database;
pub mod dialect;
pub mod error;
pub mod executor;
pub mod introspect;
pub mod model;
pub mod query;
pub mod relation;
pub mod row;
pub mod schema;
pub mod stats;
pub mod transaction;
pub mod url;

pub use backend::Backend;
pub use connection::{ConnectOptions, Connection, Value};
pub use database::{Database, ModelExt, PoolOptions, PoolState};
pub use error::{Error, Result};
pub use executor::{Executed, Executor};
pub use foxdb_derive::{FromRow, Model};
pub use model::{ColumnType, Comparable, Hooks, IntoValue, Model, NewRow};
pub use query::{Aggregate, Column, Condition, Order, count, select};
pub use relation::Relation;
pub use row::{FromColumn, FromRow, Row};
pub use stats::QueryStats;
pub use transaction::{Isolation, Transaction};
pub use url::DatabaseUrl;
