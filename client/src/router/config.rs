//! Pool settings of a replicated database, named as a FoxReplicaSet's `spec.pool`.

use std::time::Duration;

/// Pool settings for every member (primary and replicas) of a replicated database: exactly
/// the knobs of a FoxReplicaSet's `spec.pool`, under the same names (as [`Duration`]s where
/// the manifest counts seconds).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most connections open to one member (`maxConnections`).
    pub max_connections: u32,
    /// Connections kept open to one member even when idle (`minConnections`).
    pub min_connections: u32,
    /// Close connections idle for longer than this (`idleTimeoutSeconds`).
    pub idle_timeout: Duration,
    /// Give up waiting for a free connection after this long (`acquireTimeoutSeconds`). A
    /// read on a replica waits at most this or the health check interval, whichever is
    /// shorter, and then goes to the next replica or the primary.
    pub acquire_timeout: Duration,
    /// Further attempts after a connection failure, with exponential backoff from 50 ms
    /// (`retries`): connecting to the primary at start-up, and reads on the primary. Writes
    /// are never repeated (a statement that failed mid-way may have committed).
    pub retries: u32,
    /// Time between health checks of each replica (`healthCheckIntervalSeconds`): lag is
    /// measured this often, and a replica marked down comes back after one passes.
    pub health_check_interval: Duration,
}

impl Default for PoolConfig {
    /// The defaults of `spec.pool`.
    fn default() -> Self {
        Self::from(&fox_crds::replica_set::PoolSpec::default())
    }
}

impl From<&fox_crds::replica_set::PoolSpec> for PoolConfig {
    fn from(spec: &fox_crds::replica_set::PoolSpec) -> Self {
        let seconds = |s: u32| Duration::from_secs(u64::from(s));
        Self {
            max_connections: spec.max_connections,
            min_connections: spec.min_connections,
            idle_timeout: seconds(spec.idle_timeout_seconds),
            acquire_timeout: seconds(spec.acquire_timeout_seconds),
            retries: spec.retries,
            health_check_interval: seconds(spec.health_check_interval_seconds),
        }
    }
}

impl PoolConfig {
    /// The single-database pool options these settings give one member.
    pub(crate) fn pool_options(&self, acquire_timeout: Duration) -> crate::PoolOptions {
        crate::PoolOptions {
            max_connections: self.max_connections,
            min_connections: self.min_connections,
            acquire_timeout,
            idle_timeout: self.idle_timeout,
            ..crate::PoolOptions::default()
        }
    }

    /// How long a replica read waits for a connection before trying elsewhere.
    pub(crate) fn replica_acquire_timeout(&self) -> Duration {
        self.acquire_timeout
            .min(self.health_check_interval)
            .max(Duration::from_millis(100))
    }

    /// Pause before retry `attempt` (from 0): 50 ms, doubling, at most 2 s.
    pub(crate) fn backoff(attempt: u32) -> Duration {
        Duration::from_millis(50u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(2))
    }
}
