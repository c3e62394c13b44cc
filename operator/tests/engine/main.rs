//! The schema engine against real PostgreSQL, MariaDB and SQLite databases.

mod approval;
mod changes;
mod cli;
mod concurrency;
mod crash;
mod enum_labels;
mod generated_client;
mod migrate;
mod mysql_limits;
mod read_only;
mod required_index;
mod round_trip;
mod support;
mod unique_constraints;
mod unmanaged;
