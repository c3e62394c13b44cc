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

mod backend;
pub mod connection;
pub mod dialect;
pub mod error;
pub mod introspect;
pub mod schema;
pub mod url;

pub use backend::Backend;
pub use connection::{ConnectOptions, Connection, Value};
pub use error::{Error, Result};
pub use url::DatabaseUrl;
