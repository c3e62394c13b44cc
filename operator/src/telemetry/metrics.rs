//! Prometheus metrics of the controllers, the engine runs and the replica health checks.
//!
//! Labels carry resource names, member names and error kinds only: never a URL, a host name
//! from a Secret, or anything else read from a Secret.

use std::time::Duration;

use prometheus::core::Collector;
use prometheus::proto::MetricType;
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Every metric the operator exports, registered in its own registry.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// Name of every registered metric, in registration order.
    names: Vec<String>,
    /// Reconciles by kind.
    pub reconciles: IntCounterVec,
    /// Failed reconciles by kind and error label.
    pub reconcile_errors: IntCounterVec,
    /// Reconcile duration by kind.
    pub reconcile_duration: HistogramVec,
    /// Duration of schema applies that ran statements.
    pub schema_apply_duration: HistogramVec,
    /// Statements run by schema applies.
    pub schema_apply_statements: IntCounterVec,
    /// Migrations applied (`up`) or rolled back (`down`).
    pub migrations: IntCounterVec,
    /// Replication lag per member (replicas only).
    pub replica_lag: GaugeVec,
    /// 1 when the member's last health check succeeded.
    pub member_healthy: IntGaugeVec,
    /// Connections of the operator's pool per member, by state (`open`, `idle`).
    pub pool_connections: IntGaugeVec,
    /// Tasks waiting for a connection of the operator's pool per member.
    pub pool_waiters: IntGaugeVec,
    /// 1 while this process holds the leader Lease.
    pub leader: IntGauge,
    /// 1 while a FoxSchema's plan waits for approval.
    pub schema_approval_pending: IntGaugeVec,
    /// Always 1, labelled with the running `fox` version.
    pub build_info: IntGaugeVec,
    /// Changes from the change log that bumped a cached table's version, per FoxReplicaSet.
    pub cache_invalidations: IntCounterVec,
    /// 1 while the FoxReplicaSet's cache invalidator follows the change log and Redis answers.
    pub cache_invalidator_up: IntGaugeVec,
}

const DURATION_BUCKETS: &[f64] = &[0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0];

impl Metrics {
    /// Creates and registers every metric.
    ///
    /// # Panics
    /// Never in practice: the names below are valid and registered once per registry.
    pub fn new() -> Self {
        let registry = Registry::new();
        let member = &["namespace", "replicaset", "member"];
        let mut metrics = Self {
            reconciles: IntCounterVec::new(
                Opts::new("fox_reconcile_total", "Reconciles run, by kind"),
                &["kind"],
            )
            .expect("valid metric"),
            reconcile_errors: IntCounterVec::new(
                Opts::new(
                    "fox_reconcile_errors_total",
                    "Reconciles that failed, by kind and error",
                ),
                &["kind", "error"],
            )
            .expect("valid metric"),
            reconcile_duration: HistogramVec::new(
                HistogramOpts::new("fox_reconcile_duration_seconds", "Time spent per reconcile")
                    .buckets(DURATION_BUCKETS.to_vec()),
                &["kind"],
            )
            .expect("valid metric"),
            schema_apply_duration: HistogramVec::new(
                HistogramOpts::new(
                    "fox_schema_apply_duration_seconds",
                    "Time the statements of a FoxSchema plan took to apply",
                )
                .buckets(DURATION_BUCKETS.to_vec()),
                &["namespace", "schema"],
            )
            .expect("valid metric"),
            schema_apply_statements: IntCounterVec::new(
                Opts::new(
                    "fox_schema_apply_statements_total",
                    "Statements run by FoxSchema applies",
                ),
                &["namespace", "schema"],
            )
            .expect("valid metric"),
            migrations: IntCounterVec::new(
                Opts::new(
                    "fox_migrations_total",
                    "FoxMigrations run, by direction (up or down)",
                ),
                &["namespace", "replicaset", "direction"],
            )
            .expect("valid metric"),
            replica_lag: GaugeVec::new(
                Opts::new(
                    "fox_replica_lag_seconds",
                    "Replication lag of a replica at its last health check",
                ),
                member,
            )
            .expect("valid metric"),
            member_healthy: IntGaugeVec::new(
                Opts::new(
                    "fox_member_healthy",
                    "1 when the member's last health check succeeded (role: primary or replica)",
                ),
                &["namespace", "replicaset", "member", "role"],
            )
            .expect("valid metric"),
            pool_connections: IntGaugeVec::new(
                Opts::new(
                    "fox_pool_connections",
                    "Connections of the operator's pool to a member, by state (open, idle)",
                ),
                &["namespace", "replicaset", "member", "state"],
            )
            .expect("valid metric"),
            pool_waiters: IntGaugeVec::new(
                Opts::new(
                    "fox_pool_waiters",
                    "Health checks waiting for a connection of the operator's pool to a member (checks in flight beyond the connections in use)",
                ),
                member,
            )
            .expect("valid metric"),
            leader: IntGauge::new("fox_leader", "1 while this process holds the leader Lease")
                .expect("valid metric"),
            schema_approval_pending: IntGaugeVec::new(
                Opts::new(
                    "fox_schema_approval_pending",
                    "1 while the FoxSchema's plan waits for approval (policy.requireApproval)",
                ),
                &["namespace", "schema"],
            )
            .expect("valid metric"),
            build_info: IntGaugeVec::new(
                Opts::new(
                    "fox_build_info",
                    "Always 1; the label `version` is the running fox version (join on it to see which version each replica of the operator runs)",
                ),
                &["version"],
            )
            .expect("valid metric"),
            cache_invalidations: IntCounterVec::new(
                Opts::new(
                    "fox_cache_invalidations_total",
                    "Changes from the change log that made cached reads of their table stale",
                ),
                &["namespace", "replicaset"],
            )
            .expect("valid metric"),
            cache_invalidator_up: IntGaugeVec::new(
                Opts::new(
                    "fox_cache_invalidator_up",
                    "1 while the cache invalidator follows the change log and Redis answers",
                ),
                &["namespace", "replicaset"],
            )
            .expect("valid metric"),
            registry,
            names: Vec::new(),
        };
        metrics
            .build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        for collector in metrics.collectors() {
            metrics
                .names
                .extend(collector.desc().iter().map(|d| d.fq_name.clone()));
            metrics
                .registry
                .register(collector)
                .expect("each metric is registered once");
        }
        metrics
    }

    /// Every metric, as registered (in registration order).
    fn collectors(&self) -> Vec<Box<dyn Collector>> {
        vec![
            Box::new(self.reconciles.clone()),
            Box::new(self.reconcile_errors.clone()),
            Box::new(self.reconcile_duration.clone()),
            Box::new(self.schema_apply_duration.clone()),
            Box::new(self.schema_apply_statements.clone()),
            Box::new(self.migrations.clone()),
            Box::new(self.replica_lag.clone()),
            Box::new(self.member_healthy.clone()),
            Box::new(self.pool_connections.clone()),
            Box::new(self.pool_waiters.clone()),
            Box::new(self.leader.clone()),
            Box::new(self.schema_approval_pending.clone()),
            Box::new(self.build_info.clone()),
            Box::new(self.cache_invalidations.clone()),
            Box::new(self.cache_invalidator_up.clone()),
        ]
    }

    /// Name, type, labels and help of every metric exported, also those without a series yet
    /// (docs/reference/metrics.md is generated from it).
    pub fn descriptions(&self) -> Vec<MetricDescription> {
        describe(&self.collectors())
    }

    /// Name of every metric exported, also those without a series yet.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Counts one reconcile of `kind` that took `elapsed`.
    pub fn observe_reconcile(&self, kind: &str, elapsed: Duration) {
        self.reconciles.with_label_values(&[kind]).inc();
        self.reconcile_duration
            .with_label_values(&[kind])
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one failed reconcile.
    pub fn observe_error(&self, kind: &str, error_label: &str) {
        self.reconcile_errors
            .with_label_values(&[kind, error_label])
            .inc();
    }

    /// Forgets every series of a member (the FoxReplicaSet was deleted or the member removed).
    pub fn forget_member(&self, namespace: &str, replicaset: &str, member: &str) {
        let labels = [namespace, replicaset, member];
        let _ = self.replica_lag.remove_label_values(&labels);
        let _ = self.pool_waiters.remove_label_values(&labels);
        for role in ["primary", "replica"] {
            let _ = self
                .member_healthy
                .remove_label_values(&[namespace, replicaset, member, role]);
        }
        for state in ["open", "idle"] {
            let _ = self
                .pool_connections
                .remove_label_values(&[namespace, replicaset, member, state]);
        }
    }

    /// Forgets the cache invalidator's series of a FoxReplicaSet (its `cache` was removed or
    /// it was deleted).
    pub fn forget_cache_invalidator(&self, namespace: &str, replicaset: &str) {
        let labels = [namespace, replicaset];
        let _ = self.cache_invalidations.remove_label_values(&labels);
        let _ = self.cache_invalidator_up.remove_label_values(&labels);
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buffer);
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// One metric as the metrics reference lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricDescription {
    /// `fox_...`.
    pub name: String,
    /// `counter`, `gauge` or `histogram`, as `# TYPE` says.
    pub type_: &'static str,
    /// The label names of its series.
    pub labels: Vec<String>,
    /// Its `# HELP` text.
    pub help: String,
}

/// Describes registered `collectors` from their own descriptors: a metric without any series yet
/// is described too (a registry's `gather` leaves it out).
pub fn describe(collectors: &[Box<dyn Collector>]) -> Vec<MetricDescription> {
    collectors
        .iter()
        .flat_map(|collector| {
            let types: Vec<MetricType> = collector
                .collect()
                .iter()
                .map(|family| family.get_field_type())
                .collect();
            collector
                .desc()
                .into_iter()
                .zip(types)
                .map(|(desc, type_)| MetricDescription {
                    name: desc.fq_name.clone(),
                    type_: match type_ {
                        MetricType::COUNTER => "counter",
                        MetricType::GAUGE => "gauge",
                        MetricType::HISTOGRAM => "histogram",
                        MetricType::SUMMARY => "summary",
                        MetricType::UNTYPED => "untyped",
                    },
                    labels: desc.variable_labels.clone(),
                    help: desc.help.clone(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
