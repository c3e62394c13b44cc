//! The controller manager behind `fox run`: one controller per kind, thin over the engine.
//!
//! Each controller turns a Kubernetes object into engine calls and the engine's answer into
//! status, conditions and Events; all database work happens in [`crate::engine`] and
//! [`crate::migrate`].

pub mod cache_invalidator;
pub mod conditions;
pub mod context;
pub mod error;
mod in_doubt;
pub mod leader;
pub mod manager;
pub mod member_address;
pub mod migration;
mod migration_commands;
mod migration_tenants;
pub mod publish;
pub mod rbac;
pub mod redact;
pub mod replica_set;
pub mod routing;
pub mod schema;
mod schema_collections;
mod schema_tenants;
pub mod secrets;
pub mod status;
pub mod unreadable;

pub use context::Context;
pub use error::Error;
