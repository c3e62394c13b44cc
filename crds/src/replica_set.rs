//! `FoxReplicaSet`: one database, its primary, read replicas, pool, routing and cache.

use std::fmt;

#[cfg(feature = "kubernetes")]
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
#[cfg(feature = "kubernetes")]
use kube::CustomResource;
#[cfg(feature = "kubernetes")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::references::SecretKeyRef;

/// A database served by a primary and optional read replicas.
///
/// The operator health-checks every member, measures replication lag, publishes the routing
/// table in status, `<name>-rw` / `<name>-ro` Services and a `<name>-routing` ConfigMap.
// `printcolumn(...)` repeats its keys once per column by design.
#[allow(clippy::duplicated_attributes)]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(CustomResource, JsonSchema))]
#[cfg_attr(
    feature = "kubernetes",
    kube(
        group = "foxdb.dev",
        version = "v1alpha1",
        kind = "FoxReplicaSet",
        namespaced,
        status = "FoxReplicaSetStatus",
        shortname = "fxrs",
        category = "fox",
        derive = "PartialEq",
        derive = "Default",
        doc = "A FoxDB database: engine, primary, read replicas, pool, routing and cache.",
        printcolumn(name = "Engine", type_ = "string", json_path = ".spec.engine"),
        printcolumn(
            name = "Ready",
            type_ = "string",
            json_path = ".status.conditions[?(@.type==\"Ready\")].status"
        ),
        printcolumn(
            name = "Primary",
            type_ = "string",
            json_path = ".status.routing.primary"
        ),
        printcolumn(
            name = "Readers",
            type_ = "integer",
            json_path = ".status.routing.readerCount"
        ),
        printcolumn(
            name = "Reason",
            type_ = "string",
            json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
        ),
        printcolumn(
            name = "Message",
            type_ = "string",
            json_path = ".status.conditions[?(@.type==\"Ready\")].message",
            priority = 1
        ),
        printcolumn(
            name = "Age",
            type_ = "date",
            json_path = ".metadata.creationTimestamp"
        )
    )
)]
#[serde(rename_all = "camelCase")]
pub struct FoxReplicaSetSpec {
    /// Database engine of every member.
    pub engine: Engine,
    /// The member that takes writes.
    pub primary: MemberSpec,
    /// Read replicas; reads go to those within `routing.maxReplicaLagSeconds`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<MemberSpec>,
    /// Connection pool settings for every member.
    #[serde(default)]
    pub pool: PoolSpec,
    /// How reads are routed between primary and replicas.
    #[serde(default)]
    pub routing: RoutingSpec,
    /// Optional Redis query cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSpec>,
    /// Roll FoxMigrations back (GitOps): every applied migration of this database whose version
    /// is greater than this runs its `down`, newest first, under the migration lock; those
    /// FoxMigrations then show phase `RolledBack` and are not re-applied while this is set.
    /// Remove the field (or raise it) to apply them again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<u64>,
    /// Distributed transactions (`foxdb::distributed`) that take part on this database: with
    /// this set, every health check also commits or rolls back the branches left prepared on
    /// the primary, as the coordinator log decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transactions: Option<TransactionsSpec>,
}

/// Database engine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// PostgreSQL 12 or later.
    #[default]
    Postgresql,
    /// MySQL 8 or later.
    Mysql,
    /// MariaDB 10.5 or later (MySQL dialect).
    Mariadb,
    /// SQLite 3.35 or later (a file; replicas are not supported).
    Sqlite,
    /// MongoDB 5 or later.
    Mongodb,
}

impl Engine {
    /// Whether the engine speaks SQL (everything but MongoDB).
    pub fn is_sql(self) -> bool {
        !matches!(self, Self::Mongodb)
    }

    /// The name used in manifests, URLs of docs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgresql => "postgresql",
            Self::Mysql => "mysql",
            Self::Mariadb => "mariadb",
            Self::Sqlite => "sqlite",
            Self::Mongodb => "mongodb",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One member (primary or replica) of a FoxReplicaSet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberSpec {
    /// Member name, unique within the FoxReplicaSet; shown in status and metrics.
    pub name: String,
    /// Secret key holding the member's connection URL.
    pub connection: SecretKeyRef,
    /// Relative share of reads this member receives among healthy readers.
    #[serde(default = "default_weight")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 0, max = 1000)))]
    pub weight: u32,
}

fn default_weight() -> u32 {
    100
}

/// Connection pool settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PoolSpec {
    /// Most connections open to one member.
    #[serde(default = "default_max_connections")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 1, max = 10000)))]
    pub max_connections: u32,
    /// Connections kept open to one member even when idle.
    #[serde(default)]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 0, max = 10000)))]
    pub min_connections: u32,
    /// Close connections idle for longer than this.
    #[serde(default = "default_idle_timeout_seconds")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 0, max = 86400)))]
    pub idle_timeout_seconds: u32,
    /// Give up waiting for a free connection after this long.
    #[serde(default = "default_acquire_timeout_seconds")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 1, max = 3600)))]
    pub acquire_timeout_seconds: u32,
    /// Retries of a failed connection attempt, with exponential backoff.
    #[serde(default = "default_retries")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 0, max = 100)))]
    pub retries: u32,
    /// Seconds between health checks of each member.
    #[serde(default = "default_health_check_interval_seconds")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 1, max = 86400)))]
    pub health_check_interval_seconds: u32,
}

impl Default for PoolSpec {
    fn default() -> Self {
        Self {
            max_connections: default_max_connections(),
            min_connections: 0,
            idle_timeout_seconds: default_idle_timeout_seconds(),
            acquire_timeout_seconds: default_acquire_timeout_seconds(),
            retries: default_retries(),
            health_check_interval_seconds: default_health_check_interval_seconds(),
        }
    }
}

fn default_max_connections() -> u32 {
    10
}
fn default_idle_timeout_seconds() -> u32 {
    600
}
fn default_acquire_timeout_seconds() -> u32 {
    30
}
fn default_retries() -> u32 {
    3
}
fn default_health_check_interval_seconds() -> u32 {
    10
}

/// Read routing rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoutingSpec {
    /// Replicas lagging more than this are taken out of the routing table.
    #[serde(default = "default_max_replica_lag_seconds")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 0, max = 86400)))]
    pub max_replica_lag_seconds: u32,
    /// Where reads go.
    #[serde(default)]
    pub read_preference: ReadPreference,
    /// After a session writes, its reads go to the primary for `readYourWritesSeconds`.
    #[serde(default = "default_true")]
    pub read_your_writes: bool,
    /// How long reads stick to the primary after a write (when `readYourWrites` is on).
    #[serde(default = "default_read_your_writes_seconds")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 0, max = 3600)))]
    pub read_your_writes_seconds: u32,
}

impl Default for RoutingSpec {
    fn default() -> Self {
        Self {
            max_replica_lag_seconds: default_max_replica_lag_seconds(),
            read_preference: ReadPreference::default(),
            read_your_writes: true,
            read_your_writes_seconds: default_read_your_writes_seconds(),
        }
    }
}

fn default_max_replica_lag_seconds() -> u32 {
    10
}
fn default_read_your_writes_seconds() -> u32 {
    5
}
fn default_true() -> bool {
    true
}

/// Where reads are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub enum ReadPreference {
    /// Every read goes to the primary.
    Primary,
    /// Reads go to healthy replicas within the lag limit, else to the primary.
    #[default]
    ReplicaPreferred,
    /// Reads go only to healthy replicas within the lag limit; they fail when none is.
    Replica,
}

/// Redis query cache.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CacheSpec {
    /// Secret key holding the Redis URL.
    pub redis: SecretKeyRef,
    /// Lifetime of a cached result unless the query sets its own.
    #[serde(default = "default_cache_ttl_seconds")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 1, max = 2592000)))]
    pub default_ttl_seconds: u32,
    /// Prefix of every cache key, so several databases can share one Redis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_prefix: Option<String>,
}

fn default_cache_ttl_seconds() -> u32 {
    60
}

/// Recovery of distributed transaction branches left in doubt on the primary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TransactionsSpec {
    /// Secret key holding the URL of the database with the coordinator log (the database
    /// given to `Coordinator::open`). Only branches of coordinators registered in that log are
    /// touched.
    pub coordinator_log: SecretKeyRef,
    /// Branches of transactions younger than this are left to their coordinator, which may
    /// still be deciding.
    #[serde(default = "default_min_age_seconds")]
    #[cfg_attr(feature = "kubernetes", schemars(range(max = 86400)))]
    pub min_age_seconds: u32,
}

fn default_min_age_seconds() -> u32 {
    60
}

/// Observed state of a FoxReplicaSet.
#[cfg(feature = "kubernetes")]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FoxReplicaSetStatus {
    /// `Ready`, `PrimaryHealthy` and `ReplicasHealthy`, each with `observedGeneration`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Health and lag of each member.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<MemberStatus>,
    /// Where writes and reads go now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<RoutingTable>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// Health of one member.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberStatus {
    /// Member name.
    pub name: String,
    /// `primary` or `replica`.
    pub role: MemberRole,
    /// Whether the last health check succeeded.
    pub healthy: bool,
    /// Replication lag in seconds (replicas only), as of `lastCheckTime`: status is written
    /// when health, routing or conditions change (and at least every resync), not on every
    /// check; the lag of every check is in the metric `fox_replica_lag_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_seconds: Option<f64>,
    /// When the member was last checked for the status written (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check_time: Option<String>,
    /// Why the member is unhealthy, without credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Role of a member.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Takes writes.
    #[default]
    Primary,
    /// Serves reads.
    Replica,
}

/// The routing table published in status and in the `<name>-routing` ConfigMap.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoutingTable {
    /// Member that takes writes, when healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// Members that take reads now.
    #[serde(default)]
    pub readers: Vec<String>,
    /// Number of readers (for the printer column).
    #[serde(default)]
    pub reader_count: u32,
}

/// What the operator publishes in the `<name>-routing` ConfigMap under key `routing.json`:
/// where writes and reads go now, for clients that follow failover and lag without restarts.
/// It holds host names and ports, never credentials (clients keep their own Secrets).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PublishedRouting {
    /// Engine of every member.
    pub engine: Engine,
    /// The member taking writes, when healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<RoutedMember>,
    /// Members taking reads now, within the lag limit.
    #[serde(default)]
    pub readers: Vec<RoutedMember>,
    /// The FoxReplicaSet's `routing.readPreference`.
    pub read_preference: ReadPreference,
    /// The FoxReplicaSet's `routing.maxReplicaLagSeconds`.
    pub max_replica_lag_seconds: u32,
    /// Whether a session's reads stick to the primary after it writes.
    pub read_your_writes: bool,
    /// How long they stick.
    pub read_your_writes_seconds: u32,
    /// Generation of the FoxReplicaSet this table was computed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// The query cache the operator keeps fresh (the FoxReplicaSet's `cache`), when set:
    /// `Database::from_routing` turns it on with this key prefix and default lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<PublishedCache>,
}

/// The query cache in the published routing table: where Redis listens and how keys are
/// named, never credentials (a password-protected Redis's URL comes from the `cache.redis`
/// Secret mounted beside the table as `redis-url`, or `FOXDB_REDIS_URL`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PublishedCache {
    /// Redis host from the `cache.redis` URL.
    pub host: String,
    /// Redis port.
    pub port: u16,
    /// Redis database number.
    #[serde(default)]
    pub database: i64,
    /// Whether Redis is reached over TLS (`rediss://`).
    #[serde(default)]
    pub tls: bool,
    /// `cache.keyPrefix` (empty when unset): the operator's invalidator bumps versions under
    /// it, so applications must use the same.
    #[serde(default)]
    pub key_prefix: String,
    /// `cache.defaultTtlSeconds`: the lifetime of results cached without one of their own.
    pub default_ttl_seconds: u32,
}

/// One member in the published routing table. (Lag is in the FoxReplicaSet's status and in
/// metrics; the table changes only when routing does.)
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoutedMember {
    /// Member name.
    pub name: String,
    /// Host from the member's connection URL.
    pub host: String,
    /// Port from the member's connection URL (the engine's default when the URL has none).
    pub port: u16,
    /// Relative share of reads.
    pub weight: u32,
}
