//! The schema engine against real PostgreSQL, MariaDB and SQLite databases.

mod approval;
mod audit_capture;
mod changes;
mod cli;
mod concurrency;
mod crash;
mod default_values;
mod enum_labels;
mod generate_migration;
mod generate_schema;
mod generated_client;
mod migrate;
mod migrate_recovery;
mod migrate_sql;
mod mysql_limits;
mod ownership;
mod read_only;
mod realtime_capture;
mod required_index;
mod round_trip;
mod seed_values;
mod support;
mod tenant_isolation;
mod tenant_schemas;
mod unique_constraints;
mod unmanaged;
