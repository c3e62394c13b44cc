//! The schema engine: desired state → plan → apply, with introspection and dialects from
//! `foxdb`. No Kubernetes types beyond the CRD specs it is given.

pub mod apply;
pub mod audit_retention;
pub mod bookkeeping;
pub mod change;
pub mod clock;
pub mod collections;
pub mod conversion;
pub mod desired;
pub mod diff;
pub mod error;
pub mod foreign_key_check;
pub mod health;
pub mod history;
pub mod lock;
pub mod member_connection;
pub mod ownership;
pub mod plan;
pub mod realtime_retention;
pub mod render;
pub mod required_index;
pub mod seed;
pub mod seed_order;
pub mod session;
pub mod tenant_schemas;
pub mod tenants;

pub use apply::{ApplyEvent, ApplyOptions, ApplyOutcome, apply_schema, plan_schema, seed_schema};
pub use audit_retention::prune_expired_audit;
pub use error::EngineError;
pub use plan::Plan;
pub use realtime_retention::prune_expired_changes;
