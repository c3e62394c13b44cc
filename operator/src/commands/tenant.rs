//! `fox tenant add NAME` and `fox tenant apply --tenant NAME...`: schema per tenant, where each
//! tenant's tables live in its own namespace (a PostgreSQL schema, a MySQL or MariaDB database)
//! on the database server of the FoxSchema (see docs/multi-tenancy.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

use super::report::print_tenant_results;
use super::target::{Target, load_valid_manifests, resolve_targets};
use crate::engine::ApplyOptions;
use crate::engine::tenant_schemas::{apply_tenants, create_tenant_namespace};

/// What `fox tenant` does.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create the namespace of tenant NAME (a PostgreSQL schema, a MySQL database) unless it
    /// exists, and apply the FoxSchemas to it.
    Add {
        /// The tenant's schema (database) name: lower-case letters, digits and `_`.
        name: String,
        /// Manifest files or directories holding FoxSchemas.
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// Database URL; overrides FOX_DATABASE_URL and the FoxReplicaSet in the files.
        #[arg(long)]
        database: Option<String>,
    },
    /// Apply the FoxSchemas to the namespace of every tenant named, one after another: a
    /// tenant that fails is reported and the others are still applied (exit 1 if any failed).
    Apply {
        /// A tenant's schema (database) name; repeat for each tenant.
        #[arg(long = "tenant", required = true, num_args = 1..)]
        tenants: Vec<String>,
        /// Manifest files or directories holding FoxSchemas.
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// Database URL; overrides FOX_DATABASE_URL and the FoxReplicaSet in the files.
        #[arg(long)]
        database: Option<String>,
        /// Apply destructive changes as if policy.allowDestructive were set.
        #[arg(long)]
        allow_destructive: bool,
    },
}

/// Runs a `fox tenant` command.
///
/// # Errors
/// Invalid manifests, an invalid tenant name, unreachable databases. Failures of single
/// tenants are reported and make the exit code 1.
pub async fn run(command: TenantCommand) -> anyhow::Result<ExitCode> {
    match command {
        TenantCommand::Add {
            name,
            paths,
            database,
        } => {
            let set = load_valid_manifests(&paths)?;
            let targets = resolve_targets(&set, database.as_deref())?;
            for target in &targets {
                create_tenant_namespace(&target.url, &name)
                    .await
                    .map_err(|e| anyhow::anyhow!("tenant {name}: {e}"))?;
                println!(
                    "Tenant {name}: namespace ready on {} {}",
                    target.url.backend(),
                    target.url.location()
                );
            }
            apply_all(&targets, &[name], false).await
        }
        TenantCommand::Apply {
            tenants,
            paths,
            database,
            allow_destructive,
        } => {
            let set = load_valid_manifests(&paths)?;
            let targets = resolve_targets(&set, database.as_deref())?;
            apply_all(&targets, &tenants, allow_destructive).await
        }
    }
}

async fn apply_all(
    targets: &[Target],
    tenants: &[String],
    allow_destructive: bool,
) -> anyhow::Result<ExitCode> {
    let mut failed = Vec::new();
    for target in targets {
        let policy = &target.schema.spec.policy;
        if policy.require_approval {
            anyhow::bail!(
                "FoxSchema/{}: policy.requireApproval is set; approve each tenant's plan with fox apply --approve on its URL",
                target.schema_name()
            );
        }
        let options = ApplyOptions {
            schema_name: target.schema_name(),
            owner_uid: target.schema.metadata.uid.clone(),
            replaces: None,
            allow_destructive: allow_destructive || policy.allow_destructive,
            require_approval: false,
            approve: None,
            approval_scope: None,
            dry_run: false,
            lock_timeout: Duration::from_secs(u64::from(policy.lock_timeout_seconds)),
        };
        println!(
            "FoxSchema/{} → {} {}: {} tenant(s)",
            target.schema_name(),
            target.url.backend(),
            target.url.location(),
            tenants.len()
        );
        let results = apply_tenants(
            &target.url,
            &target.schema.spec,
            tenants,
            &options,
            &mut |_| {},
            &mut |_| {},
        )
        .await;
        failed.extend(print_tenant_results(results));
    }
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "fox: {} tenant(s) failed: {}",
            failed.len(),
            failed.join(", ")
        );
        Ok(ExitCode::from(1))
    }
}
