//! The tenants of a FoxSchema (`spec.tenants`): plan them together, apply each on its own.
//!
//! # Expected flow
//! 1. [`TenantTargets::plan`]: every tenant's plan, many at once (on PostgreSQL a few
//!    sessions moved between the tenants' schemas; elsewhere a connection per tenant, 16 at a
//!    time).
//! 2. [`TenantTargets::apply`] for the tenants whose plan is not empty or failed: one after
//!    another, each an ordinary apply with its own lock and history; a tenant's namespace is
//!    created first when it is missing (adding a tenant is one list entry).
//!
//! # Guarantees
//! A failure in one tenant (a refusal, a failed statement, an unreachable database) is
//! reported for that tenant and leaves the others applied: every tenant is attempted.

use fox_crds::FoxSchemaSpec;
use foxdb::DatabaseUrl;
use futures_util::{StreamExt, stream};

use super::apply::{ApplyEvent, ApplyOptions, ApplyOutcome, apply_schema, plan_schema};
use super::error::EngineError;
use super::plan::Plan;
use super::tenant_schemas::{TenantResult, create_tenant_namespace, plan_tenants};

/// Tenant databases planned at once (a connection each).
const CONCURRENT_PLANS: usize = 16;

/// Where each tenant's tables live.
#[derive(Clone, Debug)]
pub enum TenantTargets {
    /// Schema per tenant: the namespace `name` of each tenant on the server of `server`.
    Schemas {
        /// The server (the FoxSchema's database).
        server: DatabaseUrl,
        /// The tenants' namespaces.
        names: Vec<String>,
    },
    /// Database per tenant: each tenant's own database.
    Databases(Vec<(String, DatabaseUrl)>),
}

impl TenantTargets {
    /// The tenants, in the order listed.
    pub fn names(&self) -> Vec<String> {
        match self {
            Self::Schemas { names, .. } => names.clone(),
            Self::Databases(databases) => databases.iter().map(|(name, _)| name.clone()).collect(),
        }
    }

    /// Where `tenant`'s tables live, for messages (no credentials): engine, server and schema
    /// or database.
    pub fn describe(&self, tenant: &str) -> String {
        match self {
            Self::Schemas { server, .. } => {
                format!("{} {} schema {tenant}", server.backend(), server.location())
            }
            Self::Databases(databases) => databases
                .iter()
                .find(|(name, _)| name == tenant)
                .map(|(_, url)| format!("{} {}", url.backend(), url.target()))
                .unwrap_or_default(),
        }
    }

    /// The database `tenant`'s tables live in: the server's URL entering the tenant's namespace,
    /// or the tenant's own database.
    ///
    /// # Errors
    /// A tenant that is not listed; a name no namespace can take.
    // The engine's errors make `EngineError` large; this one is built at most once per tenant.
    #[allow(clippy::result_large_err)]
    pub fn url_of(&self, tenant: &str) -> Result<DatabaseUrl, EngineError> {
        match self {
            Self::Schemas { server, .. } => Ok(server.in_tenant_namespace(tenant)?),
            Self::Databases(databases) => databases
                .iter()
                .find(|(name, _)| name == tenant)
                .map(|(_, url)| url.clone())
                .ok_or_else(|| EngineError::Impossible {
                    reasons: vec![format!("tenant {tenant} is not among the tenant databases")],
                }),
        }
    }

    /// Makes sure `tenant`'s tables have a place: creates a missing tenant schema (MySQL
    /// database); a tenant database must exist already.
    ///
    /// # Errors
    /// An invalid name, SQLite (no namespaces), database errors.
    pub async fn prepare(&self, tenant: &str) -> Result<(), EngineError> {
        match self {
            Self::Schemas { server, .. } => create_tenant_namespace(server, tenant).await,
            Self::Databases(_) => Ok(()),
        }
    }

    /// Every tenant's plan, in the order listed.
    pub async fn plan(&self, spec: &FoxSchemaSpec) -> Vec<TenantResult<Plan>> {
        match self {
            Self::Schemas { server, names } => plan_tenants(server, spec, names).await,
            Self::Databases(databases) => {
                stream::iter(databases.clone())
                    .map(|(tenant, url)| async move {
                        let outcome = plan_schema(&url, spec).await;
                        TenantResult { tenant, outcome }
                    })
                    .buffered(CONCURRENT_PLANS)
                    .collect()
                    .await
            }
        }
    }

    /// Applies `spec` to the tenants named in `only` (every tenant when `None`), one after
    /// another, creating a missing tenant schema first; `started(tenant)` precedes each
    /// tenant's `progress` events.
    pub async fn apply(
        &self,
        spec: &FoxSchemaSpec,
        only: Option<&[String]>,
        options: &ApplyOptions,
        started: &mut (dyn FnMut(&str) + Send),
        progress: &mut (dyn FnMut(ApplyEvent<'_>) + Send),
    ) -> Vec<TenantResult<ApplyOutcome>> {
        let chosen: Vec<String> = self
            .names()
            .into_iter()
            .filter(|tenant| only.is_none_or(|only| only.contains(tenant)))
            .collect();
        let mut results = Vec::new();
        match self {
            Self::Schemas { server, .. } => {
                for tenant in &chosen {
                    started(tenant);
                    let outcome = match create_tenant_namespace(server, tenant).await {
                        Ok(()) => match server.in_tenant_namespace(tenant) {
                            Ok(url) => apply_schema(&url, spec, options, progress).await,
                            Err(error) => Err(error.into()),
                        },
                        Err(error) => Err(error),
                    };
                    results.push(TenantResult {
                        tenant: tenant.clone(),
                        outcome,
                    });
                }
            }
            Self::Databases(databases) => {
                let chosen: Vec<(String, DatabaseUrl)> = databases
                    .iter()
                    .filter(|(tenant, _)| chosen.contains(tenant))
                    .cloned()
                    .collect();
                for (tenant, url) in &chosen {
                    started(tenant);
                    let outcome = apply_schema(url, spec, options, progress).await;
                    results.push(TenantResult {
                        tenant: tenant.clone(),
                        outcome,
                    });
                }
            }
        }
        results
    }
}
