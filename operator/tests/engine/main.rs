//! The schema engine against real PostgreSQL, MariaDB and SQLite databases.

mod changes;
mod cli;
mod concurrency;
mod crash;
mod default_values;
mod generated_client;
mod migrate;
mod ownership;
mod round_trip;
mod seed_values;
mod support;
