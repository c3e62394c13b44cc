//! The schema engine for MongoDB, the document store: declared collections (validators,
//! indexes) → plan → apply, beside the SQL engine rather than inside it (a document store has
//! no dialect). Introspection and the connection come from `foxdb`
//! ([`foxdb::introspect::mongo`], [`foxdb::document_store`]).

pub mod apply;
pub mod change;
pub mod diff;
pub mod history;
pub mod lock;
pub mod plan;

pub use apply::{CollectionApplyOutcome, apply_collections, plan_collections};
pub use plan::CollectionPlan;
