//! The condition types FoxDB resources report, and which `Ready=False` reasons need a person.
//!
//! One spelling for code, status, docs and `kubectl wait --for=condition=<Type>`: the
//! controllers take a [`ConditionType`], never a string.
//!
//! Besides `Ready`, every kind reports the two conditions of the kstatus convention that
//! Flux, Helm 4 `--wait`, Argo CD and `kubectl wait` read:
//! - `Reconciling=True` while work is pending or a transient failure is being retried
//!   (`DatabaseUnavailable`, `Locked`, ...);
//! - `Stalled=True` when only a change by a person can make progress ([`Remedy::Stall`]).

use std::fmt;

/// Declares [`ConditionType`]: each variant with what True means (its doc comment, also
/// returned by [`ConditionType::meaning`]) and the kinds that set it.
macro_rules! condition_types {
    ($($(#[doc = $doc:literal])+ $variant:ident [$($kind:ident),+];)+) => {
        /// A condition type of a FoxDB resource.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ConditionType {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl ConditionType {
            /// Every condition type.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The spelling in `status.conditions[].type`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant),)+
                }
            }

            /// What status True means (its doc comment).
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($($doc),+).trim(),)+
                }
            }

            /// The kinds that set this condition.
            pub fn kinds(self) -> &'static [ResourceKind] {
                match self {
                    $(Self::$variant => &[$(ResourceKind::$kind),+],)+
                }
            }
        }
    };
}

condition_types! {
    /// The declared state is reached.
    Ready [FoxReplicaSet, FoxSchema, FoxMigration];
    /// Work is pending, or a transient failure is being retried (kstatus; follows from `Ready`).
    Reconciling [FoxReplicaSet, FoxSchema, FoxMigration];
    /// No progress without a change by a person (kstatus; follows from `Ready`: a reason that
    /// needs a person).
    Stalled [FoxReplicaSet, FoxSchema, FoxMigration];
    /// The primary answered the last check.
    PrimaryHealthy [FoxReplicaSet];
    /// Every replica answered and lags at most `maxReplicaLagSeconds` (reason `NoReplicas`
    /// without replicas).
    ReplicasHealthy [FoxReplicaSet];
    /// With `cache`: the operator follows the change log and bumps the Redis table versions,
    /// so writes made by other programs invalidate cached reads.
    CacheInvalidating [FoxReplicaSet];
    /// A plan waits (for approval, a policy change, or a drift repair).
    Planned [FoxSchema];
    /// The plan is destructive or waits for approval.
    Blocked [FoxSchema];
    /// The database was changed outside FoxDB after the schema was applied.
    Drifted [FoxSchema];
    /// The version is recorded as applied in the database.
    Applied [FoxMigration];
    /// The version failed, stopped part-way, or changed after apply.
    Failed [FoxMigration];
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

/// A kind of FoxDB resource, for the reference of which reasons each kind reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    /// `FoxReplicaSet`.
    FoxReplicaSet,
    /// `FoxSchema`.
    FoxSchema,
    /// `FoxMigration`.
    FoxMigration,
}

impl ResourceKind {
    /// Every kind.
    pub const ALL: [Self; 3] = [Self::FoxReplicaSet, Self::FoxSchema, Self::FoxMigration];

    /// The spelling in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FoxReplicaSet => "FoxReplicaSet",
            Self::FoxSchema => "FoxSchema",
            Self::FoxMigration => "FoxMigration",
        }
    }
}

/// What a reason asks of the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Remedy {
    /// Nothing: the reason reports a state.
    Report,
    /// Time: the cause passes on its own and the operator retries (with backoff); as `Ready`'s
    /// reason with status False or Unknown it sets `Reconciling=True`.
    Wait,
    /// A person: no retry resolves it; as `Ready`'s reason with status False it sets
    /// `Stalled=True` until the object (or the database) is changed.
    Stall,
}

/// The type of a Kubernetes Event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// Something went as declared.
    Normal,
    /// Something needs attention.
    Warning,
}

impl EventType {
    /// The spelling in an Event's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// Declares [`Reason`]: each variant with its meaning (its doc comment, also returned by
/// [`Reason::meaning`]), the kinds that report it, its [`Remedy`], and the type of the Event
/// published with it and for which kinds, if any.
macro_rules! reasons {
    ($(
        $(#[doc = $doc:literal])+
        $variant:ident [$($kind:ident),+] $remedy:ident
        $(, event $event:ident [$($event_kind:ident),+])?;
    )+) => {
        /// The `reason` of a condition or an Event the operator writes: one spelling for code,
        /// status, Events and the reference (docs/reference/conditions.md is generated from
        /// this list), so no reason can be written without being documented.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reason {
            $($(#[doc = $doc])+ $variant,)+
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The spelling in `reason` (CamelCase, as Kubernetes expects).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant),)+
                }
            }

            /// What the reason means (its doc comment).
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Self::$variant => concat!($($doc),+).trim(),)+
                }
            }

            /// The kinds that report this reason.
            pub fn kinds(self) -> &'static [ResourceKind] {
                match self {
                    $(Self::$variant => &[$(ResourceKind::$kind),+],)+
                }
            }

            /// What the reason asks of the reader.
            pub fn remedy(self) -> Remedy {
                match self {
                    $(Self::$variant => Remedy::$remedy,)+
                }
            }

            /// The type of the Event published with this reason and the kinds that publish
            /// it; `None` for a reason only conditions carry.
            pub fn event(self) -> Option<(EventType, &'static [ResourceKind])> {
                match self {
                    $(Self::$variant => reasons!(@event $($event [$($event_kind),+])?),)+
                }
            }
        }
    };
    (@event) => { None };
    (@event $event:ident [$($event_kind:ident),+]) => {
        Some((EventType::$event, &[$(ResourceKind::$event_kind),+]))
    };
}

reasons! {
    // Errors of a reconcile (`Error::condition_reason`): `Ready` (and for a FoxSchema `Blocked`),
    // and a Warning Event of the FoxSchema or FoxMigration that failed.
    /// The Kubernetes API refused or failed a request; retried.
    KubernetesApiError [FoxReplicaSet, FoxSchema, FoxMigration] Wait,
        event Warning [FoxSchema, FoxMigration];
    /// The FoxReplicaSet named by `database` does not exist; the object runs as soon as it
    /// appears (it is watched).
    DatabaseNotFound [FoxSchema, FoxMigration] Wait, event Warning [FoxSchema, FoxMigration];
    /// A Secret a member or the cache names does not exist; the object runs as soon as it
    /// appears (Secrets are watched).
    SecretNotFound [FoxReplicaSet, FoxSchema, FoxMigration] Wait,
        event Warning [FoxSchema, FoxMigration];
    /// The Secret lacks the key, or its value is not a database URL (the value is never shown).
    SecretInvalid [FoxReplicaSet, FoxSchema, FoxMigration] Stall,
        event Warning [FoxSchema, FoxMigration];
    /// The database did not answer or refused the connection; retried.
    DatabaseUnavailable [FoxSchema, FoxMigration] Wait, event Warning [FoxSchema, FoxMigration];
    /// Another apply or migration holds the database lock (the message names the holder);
    /// retried.
    Locked [FoxSchema, FoxMigration] Wait, event Warning [FoxSchema, FoxMigration];
    /// The engine cannot make a declared change (the message says which and why).
    ImpossibleChange [FoxSchema] Stall, event Warning [FoxSchema];
    /// The plan drops or narrows data and `policy.allowDestructive` is false.
    DestructiveChange [FoxSchema] Stall, event Warning [FoxSchema];
    /// Tables of the plan belong to another FoxSchema of the same database.
    OwnedByAnotherSchema [FoxSchema] Stall, event Warning [FoxSchema];
    /// The engine failed a step: a statement of the plan (its first line, scrubbed, is in the
    /// message), or a MongoDB connection or command; retried.
    ApplyFailed [FoxSchema, FoxMigration] Wait, event Warning [FoxSchema, FoxMigration];
    /// The migration's statements failed, or the database is dirty from a failed run.
    MigrationFailed [FoxMigration] Stall, event Warning [FoxMigration];
    /// The recorded history does not match the migrations (a checksum or order check failed).
    IntegrityCheckFailed [FoxMigration] Stall, event Warning [FoxMigration];
    /// A rollback was asked of a migration without `down`.
    Irreversible [FoxMigration] Stall, event Warning [FoxMigration];
    /// The version asked for is not a known migration.
    UnknownVersion [FoxMigration] Stall, event Warning [FoxMigration];
    /// The migration's files or ConfigMap cannot be read.
    MigrationUnreadable [FoxMigration] Stall, event Warning [FoxMigration];
    /// The engine does not support a declared feature (the message names engine and feature).
    Unsupported [FoxReplicaSet, FoxSchema, FoxMigration] Stall,
        event Warning [FoxSchema, FoxMigration];
    /// The spec breaks a rule (what `fox validate` reports, with field paths), or the object
    /// cannot be read at all (one stored under an older CRD: it stalls only itself).
    InvalidSpec [FoxReplicaSet, FoxSchema, FoxMigration] Stall,
        event Warning [FoxReplicaSet, FoxSchema, FoxMigration];
    /// A Service, EndpointSlice or ConfigMap of a name the FoxReplicaSet would publish exists
    /// under another controller; nothing is written.
    PublishConflict [FoxReplicaSet] Stall;
    /// The tenants of `tenants.fromQuery` could not be listed; retried.
    TenantsNotListed [FoxSchema, FoxMigration] Wait, event Warning [FoxSchema, FoxMigration];
    /// Adding or removing the finalizer failed; retried.
    FinalizerError [FoxReplicaSet, FoxSchema, FoxMigration] Wait;

    // FoxReplicaSet: members, routing, distributed transactions, the query cache.
    /// `Ready`: the primary answers; the message says where writes go and how many readers.
    PrimaryHealthy [FoxReplicaSet] Report;
    /// `Ready`: the primary does not answer, so writes fail; `CacheInvalidating` (Unknown)
    /// waits for it.
    PrimaryUnhealthy [FoxReplicaSet] Wait;
    /// `Ready` (Unknown): no member answers the operator; the last published endpoints are
    /// kept, as the operator's own network may be what is broken.
    MembersUnreachable [FoxReplicaSet] Wait;
    /// The primary's (on `Ready`) or a replica's (on `ReplicasHealthy`) address may not be
    /// published (`--member-address-policy`); the message says why.
    MemberAddressRefused [FoxReplicaSet] Stall;
    /// `Ready`: the routing Services, EndpointSlices or ConfigMap could not be written; retried.
    PublishFailed [FoxReplicaSet] Wait;
    /// `PrimaryHealthy` or `ReplicasHealthy`: every member checked answers (replicas within
    /// the lag limit).
    Healthy [FoxReplicaSet] Report;
    /// `PrimaryHealthy`: the primary's check failed.
    Unhealthy [FoxReplicaSet] Wait;
    /// `PrimaryHealthy` or `ReplicasHealthy` (Unknown): no member answers, so health cannot be
    /// told.
    Unreachable [FoxReplicaSet] Wait;
    /// `ReplicasHealthy`: a replica is down or lags beyond `maxReplicaLagSeconds`.
    Degraded [FoxReplicaSet] Wait;
    /// `ReplicasHealthy` (True): no replicas are declared.
    NoReplicas [FoxReplicaSet] Report;
    /// `ReplicasHealthy`: replicas are declared but the primary is a standalone server without
    /// replication (MongoDB without `--replSet`).
    StandaloneServer [FoxReplicaSet] Stall;
    /// Event: a member's check failed after it was healthy (or at its first check).
    MemberUnhealthy [FoxReplicaSet] Report, event Warning [FoxReplicaSet];
    /// Event: a member answers again.
    MemberHealthy [FoxReplicaSet] Report, event Normal [FoxReplicaSet];
    /// Event: distributed transaction branches left prepared on the primary were ended as the
    /// coordinator's log decided.
    InDoubtResolved [FoxReplicaSet] Report, event Normal [FoxReplicaSet];
    /// Event: recovering distributed transaction branches failed.
    InDoubtRecoveryFailed [FoxReplicaSet] Report, event Warning [FoxReplicaSet];
    /// `CacheInvalidating`: the operator follows the change log and bumps the Redis table
    /// versions; the message names the captured tables.
    Following [FoxReplicaSet] Report;
    /// `CacheInvalidating`: the value of the `cache.redis` Secret key is not a Redis URL.
    InvalidRedisUrl [FoxReplicaSet] Stall;
    /// `CacheInvalidating`: no table has change capture, so only writes through foxdb
    /// invalidate cached reads (turn `realtime` on for the cached tables).
    NoChangeCapture [FoxReplicaSet] Stall;
    /// `CacheInvalidating`: the change log could not be read or its tables listed.
    ChangeLogUnreadable [FoxReplicaSet] Wait;
    /// `CacheInvalidating`: the change feed ended on an unreadable change (the message says
    /// which); it starts over from the head at the next check.
    FeedStopped [FoxReplicaSet] Wait;
    /// `CacheInvalidating`: Redis does not answer (the message names `host:port`, never the
    /// URL); applications read from the database meanwhile.
    RedisUnreachable [FoxReplicaSet] Wait;

    // FoxSchema and FoxMigration.
    /// `Ready` (and a FoxMigration's `Applied`): the plan or migration ran (the message says
    /// what).
    Applied [FoxSchema, FoxMigration] Report, event Normal [FoxSchema, FoxMigration];
    /// `Ready` (and a FoxMigration's `Failed`): some tenants failed (listed in
    /// `status.failedTenants`), the others are applied.
    TenantsFailed [FoxSchema, FoxMigration] Wait, event Warning [FoxSchema, FoxMigration];

    // FoxSchema.
    /// `Ready`: the database matches the schema, nothing had to run; `Drifted` (False): no
    /// drift.
    InSync [FoxSchema] Report;
    /// `Ready`: the plan waits for `spec.approval` to name its hash; `Blocked` says the same.
    ApprovalPending [FoxSchema] Stall, event Warning [FoxSchema];
    /// `Ready`: the database drifted from the applied schema and `policy.onDrift` is `Report`.
    Drifted [FoxSchema] Wait;
    /// Event: the database drifted from an applied FoxSchema (with `policy.onDrift: Report`).
    DriftDetected [FoxSchema] Report, event Warning [FoxSchema];
    /// `Drifted` (True): the database was changed outside FoxDB; the message lists the repair.
    LiveSchemaChanged [FoxSchema] Report;
    /// `Drifted` (False): this spec was not applied to this database yet, so it cannot drift.
    NotApplied [FoxSchema] Report;
    /// `Planned` (True): a plan waits; the message gives its hash and counts.
    PlanReady [FoxSchema] Report;
    /// `Planned` (True): a plan repairs the drift.
    RepairPlanned [FoxSchema] Report;
    /// `Planned` (False): nothing to apply.
    NoChanges [FoxSchema] Report;
    /// `Blocked` (False): nothing blocks the plan.
    NotBlocked [FoxSchema] Report;

    // FoxMigration.
    /// `Ready` and `Applied` (False): the version waits for its turn (earlier versions first).
    Pending [FoxMigration] Wait;
    /// `Ready` (True) and `Applied` (False): the version is above the FoxReplicaSet's
    /// `rollbackTo` and was never applied; it waits until the target is raised or removed.
    HeldBack [FoxMigration] Report;
    /// `Ready` (True) and `Applied` (False): the version's `down` ran (it is above the
    /// FoxReplicaSet's `rollbackTo`).
    RolledBack [FoxMigration] Report, event Normal [FoxMigration];
    /// `Ready` and `Failed`: the version's text changed after it was applied.
    ChecksumChanged [FoxMigration] Stall;
    /// `Ready` and `Failed`: the version stopped part-way; repair the database and
    /// `fox migrate repair`.
    Dirty [FoxMigration] Stall;
    /// `Failed` (False): the version did not fail.
    NotFailed [FoxMigration] Report;
}

impl Reason {
    /// The reason spelled `text`, if it is one.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.as_str() == text)
    }

    /// Whether `Ready=False` with this reason needs a person ([`Remedy::Stall`]).
    pub fn is_stalled(self) -> bool {
        self.remedy() == Remedy::Stall
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Reason {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

/// Whether `Ready=False` with `reason` needs a person (see [`Reason::is_stalled`]); a text
/// that is no [`Reason`] does not.
pub fn is_stalled_reason(reason: &str) -> bool {
    Reason::parse(reason).is_some_and(Reason::is_stalled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_reasons_that_stall_are_those_only_a_person_resolves() {
        let stalled: Vec<&str> = Reason::ALL
            .iter()
            .filter(|r| r.is_stalled())
            .map(|r| r.as_str())
            .collect();
        for reason in [
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
        ] {
            assert!(stalled.contains(&reason), "{reason} stalls");
        }
        for reason in [
            "DatabaseUnavailable",
            "Locked",
            "Drifted",
            "Pending",
            "TenantsFailed",
        ] {
            assert!(!is_stalled_reason(reason), "{reason} is retried");
        }
    }

    #[test]
    fn every_reason_has_a_meaning_and_one_spelling() {
        for reason in Reason::ALL {
            assert!(
                reason.meaning().ends_with('.'),
                "{reason}: {}",
                reason.meaning()
            );
            assert_eq!(Reason::parse(reason.as_str()), Some(*reason));
            if let Some((_, kinds)) = reason.event() {
                for kind in kinds {
                    assert!(reason.kinds().contains(kind), "{reason}: event of {kind:?}");
                }
            }
        }
    }
}
