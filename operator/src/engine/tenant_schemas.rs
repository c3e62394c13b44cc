//! Schema per tenant: one FoxSchema applied to the namespace of every tenant (a PostgreSQL
//! schema, a MySQL or MariaDB database; see [`foxdb::DatabaseUrl::in_tenant_namespace`]), each
//! tenant its own engine session, lock and history.
//!
//! # Guarantees
//! A failure in one tenant (a refusal, a failed statement, a missing namespace) is reported
//! for that tenant and leaves the others applied: every tenant is attempted.

use std::time::Duration;

use fox_crds::FoxSchemaSpec;
use foxdb::dialect::dialect_for;
use foxdb::{ConnectOptions, Connection, DatabaseUrl};
use futures_util::{StreamExt, stream};

use super::apply::{ApplyEvent, ApplyOptions, ApplyOutcome, apply_schema, plan_schema};
use super::error::EngineError;
use super::plan::Plan;

/// Tenants planned at once: each plan is a connection and a few catalog queries, so planning
/// many tenants is bound by round trips, not by the server.
const CONCURRENT_PLANS: usize = 16;

/// What one tenant's plan, apply or migration run came to.
#[derive(Debug)]
pub struct TenantResult<T, E = EngineError> {
    /// The tenant's namespace.
    pub tenant: String,
    /// Its outcome.
    pub outcome: Result<T, E>,
}

/// `url` for `tenant`, or why there is none.
fn tenant_url(url: &DatabaseUrl, tenant: &str) -> Result<DatabaseUrl, foxdb::Error> {
    url.in_tenant_namespace(tenant)
}

/// Plans `spec` for every tenant of `tenants`, in their order: on engines that switch a
/// session between namespaces (PostgreSQL's `search_path`) a few read-only sessions share the
/// tenants; elsewhere each tenant gets its own connection, a few at a time.
pub async fn plan_tenants(
    url: &DatabaseUrl,
    spec: &FoxSchemaSpec,
    tenants: &[String],
) -> Vec<TenantResult<Plan>> {
    let dialect = dialect_for(url.backend());
    if tenants.is_empty() || dialect.enter_tenant_namespace("x").is_none() {
        // Owned names: a closure over borrowed ones would make the future not provably `Send`
        // (the controller runs it on its tasks).
        return stream::iter(tenants.to_vec())
            .map(|tenant| async move {
                let outcome = match tenant_url(url, &tenant) {
                    Ok(url) => plan_schema(&url, spec).await,
                    Err(error) => Err(error.into()),
                };
                TenantResult { tenant, outcome }
            })
            .buffered(CONCURRENT_PLANS)
            .collect()
            .await;
    }
    // Tenant `i` goes to session `i % sessions`; each session plans its tenants in turn.
    let sessions = CONCURRENT_PLANS.min(tenants.len());
    let planned = futures_util::future::join_all((0..sessions).map(|session| async move {
        let mine: Vec<(usize, &String)> = tenants
            .iter()
            .enumerate()
            .skip(session)
            .step_by(sessions)
            .collect();
        plan_on_one_session(url, spec, &mine).await
    }))
    .await;
    let mut results: Vec<(usize, TenantResult<Plan>)> = planned.into_iter().flatten().collect();
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Plans `tenants` one after another on one read-only session, moving it between their
/// namespaces.
async fn plan_on_one_session(
    url: &DatabaseUrl,
    spec: &FoxSchemaSpec,
    tenants: &[(usize, &String)],
) -> Vec<(usize, TenantResult<Plan>)> {
    let dialect = dialect_for(url.backend());
    let mut connection = match super::session::connect_read_only(url).await {
        Ok(connection) => connection,
        Err(error) => {
            // Every tenant of this session reports the failed connection.
            let message = error.to_string();
            return tenants
                .iter()
                .map(|(index, tenant)| {
                    let outcome = Err(EngineError::Database(foxdb::Error::Unsupported {
                        backend: url.backend(),
                        feature: format!("planning without a connection ({message})"),
                    }));
                    let tenant = (*tenant).clone();
                    (*index, TenantResult { tenant, outcome })
                })
                .collect();
        }
    };
    let mut results = Vec::with_capacity(tenants.len());
    for (index, tenant) in tenants {
        let outcome = match tenant_url(url, tenant) {
            Err(error) => Err(error.into()),
            Ok(_) => {
                let enter = dialect.enter_tenant_namespace(tenant).unwrap_or_default();
                match connection.execute(&enter).await {
                    Ok(_) => super::plan::build_plan(&mut connection, spec).await,
                    Err(error) => Err(error.into()),
                }
            }
        };
        results.push((
            *index,
            TenantResult {
                tenant: (*tenant).clone(),
                outcome,
            },
        ));
    }
    connection.close().await;
    results
}

/// Applies `spec` to every tenant of `tenants`, one after another; `progress` hears each
/// tenant's events after `started(tenant)`.
pub async fn apply_tenants(
    url: &DatabaseUrl,
    spec: &FoxSchemaSpec,
    tenants: &[String],
    options: &ApplyOptions,
    started: &mut (dyn FnMut(&str) + Send),
    progress: &mut (dyn FnMut(ApplyEvent<'_>) + Send),
) -> Vec<TenantResult<ApplyOutcome>> {
    let mut results = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        started(tenant);
        let outcome = match tenant_url(url, tenant) {
            Ok(url) => apply_schema(&url, spec, options, progress).await,
            Err(error) => Err(error.into()),
        };
        results.push(TenantResult {
            tenant: tenant.clone(),
            outcome,
        });
    }
    results
}

/// Creates the namespace of `tenant` on the server of `url` unless it exists (`fox tenant
/// add`).
///
/// # Errors
/// An invalid name, SQLite (no namespaces), database errors.
pub async fn create_tenant_namespace(url: &DatabaseUrl, tenant: &str) -> Result<(), EngineError> {
    // Checked as the URL would be, so the name is one the other commands accept.
    tenant_url(url, tenant)?;
    let backend = url.backend();
    let Some(statement) = dialect_for(backend).create_tenant_namespace(tenant) else {
        return Err(foxdb::Error::Unsupported {
            backend,
            feature: "a schema per tenant (a SQLite database is one file)".into(),
        }
        .into());
    };
    let options = ConnectOptions {
        application_name: "fox tenant add".into(),
        connect_timeout: Duration::from_secs(10),
        ..ConnectOptions::default()
    };
    let mut connection = Connection::connect(url, &options).await?;
    let created = connection.execute(&statement).await;
    connection.close().await;
    created?;
    Ok(())
}
