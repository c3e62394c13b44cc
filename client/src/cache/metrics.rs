//! Prometheus series of the query cache.

use prometheus::{IntCounterVec, Opts, Registry};

/// Counters of one [`super::QueryCache`]: `foxdb_cache_requests_total{outcome}` (`hit`,
/// `miss`, `bypass`: Redis unavailable, the query went to the database) and
/// `foxdb_cache_errors_total{operation}` (`connect`, `versions`, `read`, `store`, `bump`,
/// `encode`, `decode`).
#[derive(Clone, Debug)]
pub struct CacheMetrics {
    requests: IntCounterVec,
    errors: IntCounterVec,
}

impl CacheMetrics {
    pub(crate) fn new() -> Self {
        let counter = |name: &str, help: &str, label: &str| {
            IntCounterVec::new(Opts::new(name, help), &[label])
                .unwrap_or_else(|error| unreachable!("fixed metric definition: {error}"))
        };
        Self {
            requests: counter(
                "foxdb_cache_requests_total",
                "Cached reads by outcome: hit, miss, bypass (Redis unavailable).",
                "outcome",
            ),
            errors: counter(
                "foxdb_cache_errors_total",
                "Redis commands that failed or timed out, by operation.",
                "operation",
            ),
        }
    }

    /// Adds the series to `registry`.
    ///
    /// # Errors
    /// The registry already holds series with these names.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.requests.clone()))?;
        registry.register(Box::new(self.errors.clone()))
    }

    /// Reads answered from Redis.
    pub fn hits(&self) -> u64 {
        self.requests.with_label_values(&["hit"]).get()
    }

    /// Reads that ran the query and stored its result.
    pub fn misses(&self) -> u64 {
        self.requests.with_label_values(&["miss"]).get()
    }

    /// Reads that went to the database because Redis was unavailable.
    pub fn bypasses(&self) -> u64 {
        self.requests.with_label_values(&["bypass"]).get()
    }

    /// Failed Redis commands of every operation.
    pub fn errors(&self) -> u64 {
        [
            "connect", "versions", "read", "store", "bump", "encode", "decode",
        ]
        .iter()
        .map(|op| self.errors.with_label_values(&[op]).get())
        .sum()
    }

    pub(crate) fn hit(&self) {
        self.requests.with_label_values(&["hit"]).inc();
    }

    pub(crate) fn miss(&self) {
        self.requests.with_label_values(&["miss"]).inc();
    }

    pub(crate) fn bypass(&self) {
        self.requests.with_label_values(&["bypass"]).inc();
    }

    pub(crate) fn error(&self, operation: &str) {
        self.errors.with_label_values(&[operation]).inc();
    }
}
