//! What the operator tells the outside: Prometheus metrics, health endpoints, structured logs.

pub mod logging;
pub mod metrics;
pub mod server;

pub use metrics::Metrics;
