//! The schema engine against real PostgreSQL, MariaDB and SQLite databases.

mod changes;
mod cli;
mod concurrency;
mod crash;
mod generate_migration;
mod generated_client;
mod migrate;
mod migrate_recovery;
mod migrate_sql;
mod round_trip;
mod support;
