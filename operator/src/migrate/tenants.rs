//! Versioned migrations in every tenant: each tenant's schema (MySQL database) or database
//! runs the migrations that apply to it with its own lock and its own `_fox_migrations`.
//!
//! # Expected flow
//! [`migrate_tenants`] runs `up`, `down` or `status` in the tenants named, one after another,
//! each an ordinary migration command on the tenant's URL ([`TenantTargets::url_of`]): on
//! PostgreSQL the search path names the tenant's schema, so the bookkeeping tables and every
//! unqualified name of a migration land there; on MySQL the URL names the tenant's database.
//! `up` creates a missing tenant schema first, as `fox apply` does. Where each tenant stands
//! is read first, many tenants at once (a read-only connection each, 16 at a time), and `up`
//! runs only in the tenants with something to do — so a run with nothing pending costs a
//! read per tenant, not a locked session per tenant.
//!
//! # Guarantees
//! A tenant that fails (a failed statement, a refused integrity check, an unreachable
//! database) is reported with its error and leaves the others migrated: every tenant is
//! attempted. A migration whose `spec.tenants` names some tenants runs in those alone.

use futures_util::{StreamExt, stream};

use super::source::Migration;
use super::{
    MigrateError, MigrateOptions, MigrateReport, StatusLine, VersionStatus, migrate_down,
    migrate_up, migration_status,
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
    let read = match command {
        TenantCommand::Status | TenantCommand::Up => {
            read_statuses(targets, tenants, migrations).await
        }
        TenantCommand::Down => Vec::new(),
    };
    let mut read = read.into_iter();
    let mut results = Vec::with_capacity(tenants.len());
    for tenant in tenants {
        started(tenant);
        let mine = migrations_for_tenant(migrations, tenant);
        let outcome = match (command, read.next()) {
            (TenantCommand::Status, Some(status)) => status.outcome.map(TenantRun::Status),
            // A `--to` that names no version of the tenant's is refused by the run itself.
            (
                TenantCommand::Up,
                Some(TenantResult {
                    outcome: Ok(lines), ..
                }),
            ) if up_to_date(&lines, options.to)
                && options
                    .to
                    .is_none_or(|to| mine.iter().any(|m| m.version == to)) =>
            {
                Ok(TenantRun::Ran(MigrateReport::default()))
            }
            _ => run_in_tenant(targets, tenant, &mine, command, options).await,
        };
        results.push(TenantResult {
            tenant: tenant.clone(),
            outcome,
        });
    }
    results
}

/// Tenants whose statuses are read at once.
const CONCURRENT_READS: usize = 16;

/// Where each version stands in each tenant, in the order of `tenants`.
async fn read_statuses(
    targets: &TenantTargets,
    tenants: &[String],
    migrations: &[Migration],
) -> Vec<TenantResult<Vec<StatusLine>, MigrateError>> {
    stream::iter(tenants.to_vec())
        .map(|tenant| async move {
            let mine = migrations_for_tenant(migrations, &tenant);
            let outcome = match targets.url_of(&tenant) {
                Ok(url) => migration_status(&url, &mine).await,
                Err(error) => Err(error.into()),
            };
            TenantResult { tenant, outcome }
        })
        .buffered(CONCURRENT_READS)
        .collect()
        .await
}

/// Whether `up` (to `to`) has nothing to do and nothing to report: every version is applied,
/// or pending beyond `to`.
fn up_to_date(lines: &[StatusLine], to: Option<u64>) -> bool {
    lines.iter().all(|line| match line.status {
        VersionStatus::Applied => true,
        VersionStatus::Pending => to.is_some_and(|to| line.version > to),
        VersionStatus::Changed { .. } | VersionStatus::Missing | VersionStatus::Dirty => false,
    })
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
