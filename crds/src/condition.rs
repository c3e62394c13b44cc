//! The condition types FoxDB resources report, and which `Ready=False` reasons need a person.
//!
//! One spelling for code, status, docs and `kubectl wait --for=condition=<Type>`: the
//! controllers take a [`ConditionType`], never a string.
//!
//! Besides `Ready`, every kind reports the two conditions of the kstatus convention that
//! Flux, Helm 4 `--wait`, Argo CD and `kubectl wait` read:
//! - `Reconciling=True` while work is pending or a transient failure is being retried
//!   (`DatabaseUnavailable`, `Locked`, ...);
//! - `Stalled=True` when only a change by a person can make progress ([`STALLED_REASONS`]).

use std::fmt;

/// A condition type of a FoxDB resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConditionType {
    /// All kinds: the declared state is reached.
    Ready,
    /// All kinds (kstatus): work is pending or a transient failure is being retried.
    Reconciling,
    /// All kinds (kstatus): no progress without a change by a person.
    Stalled,
    /// FoxReplicaSet: the primary answered the last check.
    PrimaryHealthy,
    /// FoxReplicaSet: every replica answered and lags at most `maxReplicaLagSeconds`.
    ReplicasHealthy,
    /// FoxSchema: a plan waits.
    Planned,
    /// FoxSchema: the plan is destructive or waits for approval.
    Blocked,
    /// FoxSchema: the database was changed outside FoxDB.
    Drifted,
    /// FoxMigration: the version is recorded as applied.
    Applied,
    /// FoxMigration: the version failed, stopped part-way, or changed after apply.
    Failed,
    /// FoxReplicaSet with `cache`: the operator follows the change log and bumps the Redis
    /// table versions, so writes made by other programs invalidate cached reads.
    CacheInvalidating,
}

impl ConditionType {
    /// Every condition type.
    pub const ALL: [Self; 11] = [
        Self::Ready,
        Self::Reconciling,
        Self::Stalled,
        Self::PrimaryHealthy,
        Self::ReplicasHealthy,
        Self::Planned,
        Self::Blocked,
        Self::Drifted,
        Self::Applied,
        Self::Failed,
        Self::CacheInvalidating,
    ];

    /// The spelling in `status.conditions[].type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ready => "Ready",
            Self::Reconciling => "Reconciling",
            Self::Stalled => "Stalled",
            Self::PrimaryHealthy => "PrimaryHealthy",
            Self::ReplicasHealthy => "ReplicasHealthy",
            Self::Planned => "Planned",
            Self::Blocked => "Blocked",
            Self::Drifted => "Drifted",
            Self::Applied => "Applied",
            Self::Failed => "Failed",
            Self::CacheInvalidating => "CacheInvalidating",
        }
    }
}

impl fmt::Display for ConditionType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for ConditionType {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Reasons of `Ready=False` that no retry resolves: the object is `Stalled=True` until a person
/// changes it (or the database); every other `Ready=False` reason is `Reconciling=True`.
pub const STALLED_REASONS: &[&str] = &[
    "InvalidSpec",
    "DestructiveChange",
    "ApprovalPending",
    "ImpossibleChange",
    "OwnedByAnotherSchema",
    "Irreversible",
    "Dirty",
    "ChecksumChanged",
    "IntegrityCheckFailed",
    "MigrationFailed",
    "MigrationUnreadable",
    "UnknownVersion",
    "SecretInvalid",
    "Unsupported",
    "PublishConflict",
    "MemberAddressRefused",
];

/// Whether `Ready=False` with `reason` needs a person (see [`STALLED_REASONS`]).
pub fn is_stalled_reason(reason: &str) -> bool {
    STALLED_REASONS.contains(&reason)
}
