//! Versioned migrations in every tenant: each tenant's schema (MySQL database) or database
//! runs the migrations that apply to it with its own lock and its own `_fox_migrations`.
//!
//! # Expected flow
//! [`migrate_tenants`] runs `up`, `down` or `status` in the tenants named, one after another,
//! each an ordinary migration command on the tenant's URL ([`TenantTargets::url_of`]): on
//! PostgreSQL the search path names the tenant's schema, so the bookkeeping tables and every
//! unqualified name of a migration land there; on MySQL the URL names the tenant's database.
//! `up` creates a missing tenant schema first, as `fox apply` does.
//!
//! # Guarantees
//! A tenant that fails (a failed statement, a refused integrity check, an unreachable
//! database) is reported with its error and leaves the others migrated: every tenant is
//! attempted. A migration whose `spec.tenants` names some tenants runs in those alone.

use super::source::Migration;
use super::{
    MigrateError, MigrateOptions, MigrateReport, StatusLine, migrate_down, migrate_up,
    migration_status,
};
use crate::engine::tenant_schemas::TenantResult;
use crate::engine::tenants::TenantTargets;

/// What to do in each tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TenantCommand {
    /// Apply pending migrations.
    Up,
    /// Roll back.
    Down,
    /// Read where each version stands.
    Status,
}

/// What one tenant's command came to.
#[derive(Debug)]
pub enum TenantRun {
    /// `up` or `down` ran (or listed what would run).
    Ran(MigrateReport),
    /// `status`.
    Status(Vec<StatusLine>),
}

/// The migrations that run in `tenant`: those without a tenant list of their own (plain SQL
/// files given for tenants) and those whose `spec.tenants` includes it.
pub fn migrations_for_tenant(migrations: &[Migration], tenant: &str) -> Vec<Migration> {
    migrations
        .iter()
        .filter(|m| m.tenants.as_ref().is_none_or(|t| t.includes(tenant)))
        .cloned()
        .collect()
}

/// Runs `command` in each tenant of `tenants` (all listed in `targets`), one after another;
/// `started(tenant)` precedes each tenant's run.
pub async fn migrate_tenants(
    targets: &TenantTargets,
    tenants: &[String],
    migrations: &[Migration],
    command: TenantCommand,
    options: &MigrateOptions,
    started: &mut (dyn FnMut(&str) + Send),
) -> Vec<TenantResult<TenantRun, MigrateError>> {
    let mut results = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        started(tenant);
        let mine = migrations_for_tenant(migrations, tenant);
        let outcome = run_in_tenant(targets, tenant, &mine, command, options).await;
        results.push(TenantResult {
            tenant: tenant.clone(),
            outcome,
        });
    }
    results
}

async fn run_in_tenant(
    targets: &TenantTargets,
    tenant: &str,
    migrations: &[Migration],
    command: TenantCommand,
    options: &MigrateOptions,
) -> Result<TenantRun, MigrateError> {
    let url = targets.url_of(tenant)?;
    match command {
        TenantCommand::Up => {
            if !options.dry_run {
                targets.prepare(tenant).await?;
            }
            Ok(TenantRun::Ran(migrate_up(&url, migrations, options).await?))
        }
        TenantCommand::Down => Ok(TenantRun::Ran(
            migrate_down(&url, migrations, options).await?,
        )),
        TenantCommand::Status => Ok(TenantRun::Status(migration_status(&url, migrations).await?)),
    }
}
