//! Prometheus series of the replica router.

use prometheus::{IntCounterVec, Opts, Registry};

/// Counters of one replicated database: where reads went, why they left a replica, and how
/// read-your-writes waits ended. Labels are bounded: targets are `primary` and the replicas'
/// names.
#[derive(Clone, Debug)]
pub struct RoutingMetrics {
    reads: IntCounterVec,
    fallbacks: IntCounterVec,
    read_your_writes: IntCounterVec,
}

impl Default for RoutingMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl RoutingMetrics {
    /// Fresh counters, registered nowhere yet.
    pub fn new() -> Self {
        let counter = |name: &str, help: &str, label: &str| {
            IntCounterVec::new(Opts::new(name, help), &[label])
                .unwrap_or_else(|error| unreachable!("fixed metric definition: {error}"))
        };
        Self {
            reads: counter(
                "foxdb_reads_total",
                "Reads answered, by target (primary or a replica's name).",
                "target",
            ),
            fallbacks: counter(
                "foxdb_read_fallbacks_total",
                "Reads that left a replica for the next replica or the primary, by reason.",
                "reason",
            ),
            read_your_writes: counter(
                "foxdb_read_your_writes_waits_total",
                "Reads of a session after its write: reached (a replica had the write, after \
                 waiting or not) or primary (none had it in time).",
                "outcome",
            ),
        }
    }

    /// Adds the series to `registry` (for a `/metrics` endpoint).
    ///
    /// # Errors
    /// The registry already holds series with these names.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.reads.clone()))?;
        registry.register(Box::new(self.fallbacks.clone()))?;
        registry.register(Box::new(self.read_your_writes.clone()))
    }

    /// Reads answered by `target` (`primary` or a replica's name) so far.
    pub fn reads_from(&self, target: &str) -> u64 {
        self.reads.with_label_values(&[target]).get()
    }

    /// Reads that left a replica for `reason` (`failed`, `unavailable`) so far.
    pub fn fallbacks(&self, reason: &str) -> u64 {
        self.fallbacks.with_label_values(&[reason]).get()
    }

    /// Read-your-writes outcomes (`reached`, `primary`) so far.
    pub fn read_your_writes(&self, outcome: &str) -> u64 {
        self.read_your_writes.with_label_values(&[outcome]).get()
    }

    /// The series of reads answered by `target`, to keep and increment without a lookup.
    pub(crate) fn reads_counter(&self, target: &str) -> prometheus::IntCounter {
        self.reads.with_label_values(&[target])
    }

    pub(crate) fn fallback(&self, reason: &str) {
        self.fallbacks.with_label_values(&[reason]).inc();
    }

    pub(crate) fn waited(&self, outcome: &str) {
        self.read_your_writes.with_label_values(&[outcome]).inc();
    }
}
