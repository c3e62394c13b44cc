//! FoxDB's benchmarks.
//!
//! - `bench-migrate` (`make bench-migrate`): the schema engine on a [`generated_schema`]
//!   against the same DDL run by the engine's own client.
//! - `bench-client` (`make bench`): the foxdb client against raw sqlx, SeaORM, Diesel and
//!   TypeORM on the diesel_bench [`workload`]s. A [`driver`] prepares the [`dataset`] once per
//!   engine and runs each of the [`peers`] in its own process; peers print [`measurement`]s,
//!   the driver prints one table ([`report`]).
//! - `bench-routing` (`make bench-routing`): the replica router against a direct connection,
//!   both measured in one process in interleaved [`rounds`].
#![forbid(unsafe_code)]

pub mod dataset;
pub mod driver;
pub mod generated_schema;
pub mod measurement;
pub mod peers;
pub mod report;
pub mod rounds;
pub mod timing;
pub mod workload;

pub use generated_schema::{Random, generated_schema};
pub use timing::{median, show};
