//! The controllers against a scripted API server, with real databases behind them.
// Test code: a failed unwrap is a failed test, with its message.
#![allow(clippy::unwrap_used)]

mod api_server;
mod cache;
mod fixtures;
mod in_doubt;
mod leader;
mod migration;
mod migration_commands;
mod migration_tenants;
mod rbac;
mod replica_set;
mod replica_set_mongo;
mod schema;
mod schema_collections;
mod schema_tenants;
mod stalling;
mod telemetry;
