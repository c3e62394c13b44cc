//! The Kubernetes permissions the operator uses, and nothing more.
//!
//! The Helm chart's ClusterRole and Role hold exactly these rules; a test renders the chart and
//! compares, and the controller tests check that every request the controllers make is allowed
//! here and that every rule here is used. A server-side apply that creates an object is
//! authorized as `patch` and `create`.

use k8s_openapi::api::rbac::v1::PolicyRule;

/// One permission: API group, resources, verbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permission {
    /// API group (`""` for the core group).
    pub group: &'static str,
    /// Resources (with `/status` for the status subresource).
    pub resources: &'static [&'static str],
    /// Verbs.
    pub verbs: &'static [&'static str],
    /// Why the operator needs them (docs/reference/rbac.md is generated from it).
    pub reason: &'static str,
}

/// Cluster-wide permissions (all namespaces are watched unless `--watch-namespace` is set, in
/// which case the chart grants the same rules in that namespace only).
pub const CLUSTER_PERMISSIONS: &[Permission] = &[
    Permission {
        group: "foxdb.dev",
        resources: &["foxreplicasets"],
        verbs: &["get", "list", "watch", "patch"],
        reason: "The FoxReplicaSet controller watches them; `get` reads the FoxReplicaSet a FoxSchema or FoxMigration names in `databaseRef`; `patch` removes the finalizer an earlier operator version added.",
    },
    Permission {
        group: "foxdb.dev",
        resources: &["foxschemas", "foxmigrations"],
        verbs: &["list", "watch", "patch"],
        reason: "Their controllers watch them; `patch` removes the finalizer an earlier operator version added, and a FoxSchema's approval annotation once the plan it approved is applied.",
    },
    Permission {
        group: "foxdb.dev",
        resources: &[
            "foxreplicasets/status",
            "foxschemas/status",
            "foxmigrations/status",
        ],
        verbs: &["patch"],
        reason: "Status (conditions, members, routing, plans, migration phases) is written with server-side apply under the field manager `fox-operator`.",
    },
    Permission {
        group: "",
        resources: &["secrets"],
        verbs: &["get", "list", "watch"],
        reason: "A FoxReplicaSet names the Secrets holding its members' connection URLs (and TLS files); the watch is metadata-only and rebuilds a member's pool when its Secret changes.",
    },
    Permission {
        group: "",
        resources: &["services", "configmaps"],
        verbs: &["get", "list", "watch", "create", "patch"],
        reason: "The routing table is published as a Service per role and a ConfigMap; `get` sees who controls an object before writing it, and server-side apply creating one is authorized as `create` and `patch`.",
    },
    Permission {
        group: "discovery.k8s.io",
        resources: &["endpointslices"],
        verbs: &["get", "list", "watch", "create", "patch"],
        reason: "The members' addresses are published as EndpointSlices behind those Services (written like the Services).",
    },
    Permission {
        group: "events.k8s.io",
        resources: &["events"],
        verbs: &["create", "patch"],
        reason: "Plans, applies, refusals and health changes are reported as Events on the object; a repeated Event is patched (its series count).",
    },
];

/// Reading Secrets and writing the published Services, ConfigMaps and EndpointSlices: part of
/// [`CLUSTER_PERMISSIONS`], or, with the chart value `rbac.secretNamespaces`
/// (`fox run --secret-namespaces`: the namespaces that opted in, where FoxReplicaSets live),
/// granted by a Role in each of those namespaces only and left out of the cluster-wide rules.
pub const SECRET_PERMISSIONS: &[Permission] = &[
    Permission {
        group: "",
        resources: &["secrets"],
        verbs: &["get", "list", "watch"],
        reason: "A FoxReplicaSet names the Secrets holding its members' connection URLs (and TLS files); the watch is metadata-only and rebuilds a member's pool when its Secret changes.",
    },
    Permission {
        group: "",
        resources: &["services", "configmaps"],
        verbs: &["get", "list", "watch", "create", "patch"],
        reason: "The routing table is published as a Service per role and a ConfigMap; `get` sees who controls an object before writing it, and server-side apply creating one is authorized as `create` and `patch`.",
    },
    Permission {
        group: "discovery.k8s.io",
        resources: &["endpointslices"],
        verbs: &["get", "list", "watch", "create", "patch"],
        reason: "The members' addresses are published as EndpointSlices behind those Services (written like the Services).",
    },
];

/// [`CLUSTER_PERMISSIONS`] without [`SECRET_PERMISSIONS`].
pub fn cluster_permissions_without_secrets() -> Vec<Permission> {
    CLUSTER_PERMISSIONS
        .iter()
        .filter(|p| !SECRET_PERMISSIONS.contains(p))
        .copied()
        .collect()
}

/// Permissions in the operator's own namespace: the leader-election Lease.
pub const LEASE_PERMISSIONS: &[Permission] = &[Permission {
    group: "coordination.k8s.io",
    resources: &["leases"],
    verbs: &["get", "create", "update"],
    reason: "Leader election: one operator pod holds the Lease in the release namespace and reconciles; the others wait to take it over.",
}];

/// `permissions` as RBAC rules, in order.
pub fn policy_rules(permissions: &[Permission]) -> Vec<PolicyRule> {
    permissions
        .iter()
        .map(|p| PolicyRule {
            api_groups: Some(vec![p.group.to_string()]),
            resources: Some(p.resources.iter().map(|r| r.to_string()).collect()),
            verbs: p.verbs.iter().map(|v| v.to_string()).collect(),
            ..PolicyRule::default()
        })
        .collect()
}

/// Whether `permissions` allow `verb` on `resource` (with `/subresource`) in `group`.
pub fn allows(permissions: &[Permission], group: &str, resource: &str, verb: &str) -> bool {
    permissions
        .iter()
        .any(|p| p.group == group && p.resources.contains(&resource) && p.verbs.contains(&verb))
}
