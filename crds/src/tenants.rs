//! The tenants of a FoxSchema (`spec.tenants`): schema per tenant or database per tenant.
//!
//! Without `spec.tenants` a FoxSchema is applied to the database of its `databaseRef`. With it
//! the same tables are applied to every tenant listed instead, each tenant its own engine
//! session, lock, history and plan:
//!
//! - `schemas`: a namespace each on the server of `databaseRef` (a PostgreSQL schema, a MySQL
//!   or MariaDB database), created if missing. Adding a tenant is one list entry.
//! - `databases`: a database each, its URL read from a Secret like a FoxReplicaSet member's.
//!
//! A FoxSchema takes one of the two. A FoxMigration with `spec.tenants` ([`MigrationTenants`])
//! runs in each tenant of the FoxSchema that lists the tenants of its `databaseRef`, instead of
//! in that database itself. See docs/multi-tenancy.md.

#[cfg(feature = "kubernetes")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::references::SecretKeyRef;

/// The tenants a FoxSchema is applied to, instead of its `databaseRef`'s own database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantsSpec {
    /// Schema per tenant: the namespace of each tenant on the server of `databaseRef` (a
    /// PostgreSQL schema, a MySQL or MariaDB database; created when missing). Names are 1 to
    /// 63 lower-case letters, digits and `_`, starting with a letter or `_`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// Database per tenant: each tenant's own database, reached through a Secret. Its engine
    /// must be the engine of `databaseRef`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<TenantDatabase>,
}

impl TenantsSpec {
    /// The tenants' names, in the order listed.
    pub fn names(&self) -> Vec<String> {
        self.schemas
            .iter()
            .cloned()
            .chain(self.databases.iter().map(|d| d.name.clone()))
            .collect()
    }
}

/// One tenant's database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TenantDatabase {
    /// The tenant's name (reported in status and events): 1 to 63 lower-case letters, digits
    /// and `_`, starting with a letter or `_`.
    pub name: String,
    /// The Secret key holding the tenant database's connection URL.
    pub connection: SecretKeyRef,
}

/// A tenant whose last plan or apply failed, in a FoxSchema's status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FailedTenant {
    /// The tenant's name.
    pub name: String,
    /// What failed (no credentials).
    pub message: String,
}

/// Which tenants a FoxMigration runs in, instead of the database of its `databaseRef`: tenants
/// of the FoxSchema whose `spec.tenants` lists the tenants of the same `databaseRef`. Each
/// tenant (schema or database) keeps its own migration records. Give `all` or `names`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MigrationTenants {
    /// Every tenant the FoxSchema lists, including tenants added later.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all: bool,
    /// Only these tenants (each one the FoxSchema lists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

impl MigrationTenants {
    /// Whether the migration runs in `tenant`.
    pub fn includes(&self, tenant: &str) -> bool {
        self.all || self.names.iter().any(|name| name == tenant)
    }
}
