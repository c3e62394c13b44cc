//! What the operator tells the outside: Prometheus metrics, health endpoints, structured logs.

pub mod logging;
pub mod metrics;
pub mod server;
mod slots;

pub use metrics::Metrics;
