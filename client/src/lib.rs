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
//!
//! # Cargo features
//! `postgres`, `mysql` (MySQL and MariaDB) and `sqlite` each compile one engine's driver in; all
//! three are on by default. Any non-empty set builds with the same API:
//! `foxdb = { version = "0.1", default-features = false, features = ["postgres"] }` leaves the
//! MySQL and SQLite drivers out. URLs, [`Backend`], the [`dialect`]s and the [`schema`] model work
//! for every engine whatever the features; connecting to an engine left out returns
//! [`Error::BackendNotEnabled`] naming the feature to turn on ([`Backend::is_enabled`] tells up
//! front). [`Connection`] and [`Row`] have a variant only for the engines compiled in.
//! `mongodb` (on by default) compiles [`mongo`] in: the same models and conditions on MongoDB.
#![warn(missing_docs)]
// Denied, not forbidden: one call into SQLite's C API that sqlx does not wrap (turning the
// double-quoted string fallback off, backend/sqlite.rs) is allowed where it is made.
#![deny(unsafe_code)]

// The derive macros name `::foxdb`; this lets foxdb derive its own models.
extern crate self as foxdb;

// Without any engine the per-engine enums (connections, pools, transactions, rows) would be
// empty: rather than carry code for a client that can connect to nothing, the build stops here.
#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!(
    "foxdb needs at least one of its `postgres`, `mysql` and `sqlite` features (all three are on by default), such as: foxdb = { default-features = false, features = [\"postgres\"] }"
);

pub mod audit;
mod backend;
#[cfg(feature = "cache")]
pub mod cache;
mod commit_hooks;
mod connect_failure;
pub mod connection;
pub mod database;
pub mod dialect;
pub mod distributed;
#[cfg(feature = "mongodb")]
pub mod document_store;
pub mod enum_label;
pub mod error;
pub mod events;
pub mod executor;
pub mod introspect;
mod kept_connections;
pub mod lexer;
pub mod model;
#[cfg(feature = "mongodb")]
pub mod mongo;
pub mod outbox;
pub mod query;
pub mod raw;
pub mod realtime;
pub mod relation;
pub mod replication;
pub mod router;
pub mod row;
pub mod schema;
pub mod stats;
pub mod tenant;
pub mod tenant_pools;
pub mod tenant_schema;
pub mod tls;
pub mod transaction;
pub mod url;
pub mod verify;

pub use backend::Backend;
pub use connection::{ConnectOptions, Connection, Value};
pub use database::{Database, ModelExt, PoolOptions, PoolState, PostgresDriver};
pub use enum_label::{Enum, EnumLabel};
pub use error::{ConnectFailure, DriverError, Error, Result};
pub use executor::{Executed, Executor};
pub use foxdb_derive::{Enum, FromRow, Model, query, query_as};
pub use model::{Assignable, Changes, ColumnType, Comparable, Hooks, IntoValue, Model, NewRow};
pub use query::{Aggregate, Column, Condition, Order, count, escape_like, select};
pub use relation::Relation;
pub use router::{DatabaseBuilder, PoolConfig, ReadPreference, RoutingMetrics};
pub use row::{FromColumn, FromRow, Row};
pub use stats::QueryStats;
pub use tenant::Tenant;
pub use tenant_schema::TenantSchema;
pub use tls::TlsOptions;
pub use transaction::{Isolation, Transaction};
pub use url::DatabaseUrl;

/// docs/client.md, whose Rust examples `cargo test --doc -p foxdb` compiles (and runs, where
/// they need no server).
#[cfg(doctest)]
#[doc = include_str!("../../docs/client.md")]
pub struct ClientGuide;

/// docs/getting-started.md, whose typed query `cargo test --doc -p foxdb` compiles against the
/// blog's generated models.
#[cfg(doctest)]
#[doc = include_str!("../../docs/getting-started.md")]
pub struct GettingStarted;

/// docs/audit.md, whose Rust examples `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/audit.md")]
pub struct AuditGuide;

/// docs/distributed-transactions.md, whose Rust examples `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/distributed-transactions.md")]
pub struct DistributedTransactionsGuide;

/// docs/event-sourcing.md, whose Rust examples `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/event-sourcing.md")]
pub struct EventSourcingGuide;

/// docs/multi-tenancy.md, whose Rust examples `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/multi-tenancy.md")]
pub struct MultiTenancyGuide;

/// docs/realtime.md, whose Rust examples `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/realtime.md")]
pub struct RealtimeGuide;
/// docs/migrating-from-prisma.md, whose Rust queries `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-prisma.md")]
pub struct MigratingFromPrisma;

/// docs/migrating-from-typeorm.md, whose Rust queries `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-typeorm.md")]
pub struct MigratingFromTypeorm;

/// docs/migrating-from-seaorm.md, whose Rust queries `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-seaorm.md")]
pub struct MigratingFromSeaorm;

/// docs/migrating-from-diesel.md, whose Rust queries `cargo test --doc -p foxdb` compiles.
#[cfg(doctest)]
#[doc = include_str!("../../docs/migrating-from-diesel.md")]
pub struct MigratingFromDiesel;

/// docs/mongodb-client.md, whose Rust examples `cargo test --doc -p foxdb` compiles.
#[cfg(all(doctest, feature = "mongodb"))]
#[doc = include_str!("../../docs/mongodb-client.md")]
pub struct MongodbClientGuide;
