//! `fox migrate status|up|down|repair` in tenants: FoxMigrations with `spec.tenants`, or any
//! migrations with `--tenant NAME` / `--all-tenants`, run in each tenant of the FoxSchema that
//! lists the tenants (`spec.tenants`, in the files) — or, without such a FoxSchema, in the
//! schemas `--tenant` names on the database. Each tenant has its own migration records; a
//! tenant that fails is reported and the others are still migrated (exit 1 if any failed).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use fox_crds::manifest::ManifestSet;
use foxdb::DatabaseUrl;

use super::migrate::{MigrateCommand, MigrateTarget, print_report, print_status};
use super::target::{Target, tenant_targets};
use crate::engine::tenants::TenantTargets;
use crate::migrate::source::Migration;
use crate::migrate::tenants::{TenantCommand, TenantRun, migrate_tenants};
use crate::migrate::{MigrateOptions, migrate_repair};

/// Runs `command` in the tenants chosen by `target`'s flags, the migrations' `spec.tenants`
/// and the FoxSchema in the files; `database` is the resolved URL of the migrations'
/// database (the server of schema tenants) and where it came from.
///
/// # Errors
/// Migrations for tenants mixed with migrations for the database itself; no tenant list;
/// a `--tenant` the FoxSchema does not list; `repair` without exactly one `--tenant`.
/// Failures of single tenants are reported and make the exit code 1 (status: the highest
/// code of any tenant).
pub async fn run_in_tenants(
    command: MigrateCommand,
    target: &MigrateTarget,
    migrations: &[Migration],
    set: &ManifestSet,
    database_ref: Option<&str>,
    database: (DatabaseUrl, String),
) -> anyhow::Result<ExitCode> {
    let for_tenants = migrations.iter().any(|m| m.tenants.is_some());
    if let Some(shared) = migrations
        .iter()
        .find(|m| for_tenants && m.database_ref.is_some() && m.tenants.is_none())
    {
        bail!(
            "{} has no spec.tenants but other FoxMigrations in the files run in tenants; migrate the database's own schema and the tenants in separate runs; nothing was done",
            shared.origin
        );
    }
    let (url, source) = database;
    let targets = tenant_list(set, database_ref, &url, &source, &target.tenants)?;
    let listed = targets.names();
    let chosen: Vec<String> = if target.tenants.is_empty() {
        listed
    } else {
        if let Some(unknown) = target.tenants.iter().find(|t| !listed.contains(t)) {
            bail!(
                "tenant {unknown} is not listed in the FoxSchema's spec.tenants ({}); nothing was done",
                listed.join(", ")
            );
        }
        target.tenants.clone()
    };
    println!(
        "{} {} ({source}): {} migration(s) in the files, {} tenant(s)",
        url.backend(),
        url.location(),
        migrations.len(),
        chosen.len()
    );
    let (tenant_command, options, verb) = match &command {
        MigrateCommand::Status { .. } => (TenantCommand::Status, options(None, false, 30), ""),
        MigrateCommand::Up {
            to,
            run,
            allow_out_of_order,
            ..
        } => {
            let mut options = options(*to, run.dry_run, run.lock.lock_timeout);
            options.allow_out_of_order = *allow_out_of_order;
            (TenantCommand::Up, options, "Applied")
        }
        MigrateCommand::Down { to, run, .. } => (
            TenantCommand::Down,
            options(*to, run.dry_run, run.lock.lock_timeout),
            "Rolled back",
        ),
        MigrateCommand::Repair {
            version,
            applied,
            lock,
            ..
        } => {
            let [tenant] = chosen.as_slice() else {
                bail!(
                    "fox migrate repair fixes one tenant's records after a person fixed its database: name it with --tenant NAME"
                );
            };
            let url = targets.url_of(tenant)?;
            let mine = crate::migrate::tenants::migrations_for_tenant(migrations, tenant);
            let repaired = migrate_repair(
                &url,
                &mine,
                *version,
                *applied,
                Duration::from_secs(lock.lock_timeout),
            )
            .await?;
            if repaired.is_empty() {
                println!("Tenant {tenant}: no dirty migration to repair.");
            }
            for line in &repaired {
                println!("Tenant {tenant}: repaired {line}.");
            }
            return Ok(ExitCode::SUCCESS);
        }
    };
    let detailed_exitcode = matches!(
        command,
        MigrateCommand::Status {
            detailed_exitcode: true,
            ..
        }
    );
    let results = migrate_tenants(
        &targets,
        &chosen,
        migrations,
        tenant_command,
        &options,
        &mut |_| {},
    )
    .await;
    let mut failed = Vec::new();
    let mut code = 0;
    for result in results {
        println!(
            "Tenant {} ({}):",
            result.tenant,
            targets.describe(&result.tenant)
        );
        match result.outcome {
            Ok(TenantRun::Ran(report)) => print_report(verb, &report, options.dry_run),
            Ok(TenantRun::Status(lines)) => {
                code = code.max(print_status(&lines, detailed_exitcode));
            }
            Err(error) => {
                println!("  {}: FAILED: {error}", result.tenant);
                failed.push(result.tenant);
            }
        }
    }
    if failed.is_empty() {
        return Ok(ExitCode::from(code));
    }
    eprintln!(
        "fox: {} tenant(s) failed: {}{}",
        failed.len(),
        failed.join(", "),
        if matches!(tenant_command, TenantCommand::Status) {
            ""
        } else {
            "; the others were migrated"
        }
    );
    Ok(ExitCode::from(1))
}

fn options(to: Option<u64>, dry_run: bool, lock_timeout: u64) -> MigrateOptions {
    MigrateOptions {
        to,
        dry_run,
        allow_out_of_order: false,
        lock_timeout: Duration::from_secs(lock_timeout),
    }
}

/// The tenants of the FoxSchema in `set` that lists tenants for `database_ref` (any, for
/// plain SQL files); without one, the schemas `named` on `url`.
fn tenant_list(
    set: &ManifestSet,
    database_ref: Option<&str>,
    url: &DatabaseUrl,
    source: &str,
    named: &[String],
) -> anyhow::Result<TenantTargets> {
    let schemas: Vec<_> = set
        .schemas()
        .map(|(_, schema)| schema)
        .filter(|schema| schema.spec.tenants.is_some())
        .filter(|schema| database_ref.is_none_or(|name| schema.spec.database_ref.name == name))
        .collect();
    match schemas.as_slice() {
        [schema] => {
            let target = Target {
                schema: (*schema).clone(),
                url: url.clone(),
                source: source.to_string(),
            };
            tenant_targets(set, &target)?.ok_or_else(|| {
                anyhow::anyhow!("FoxSchema/{} lists no tenants", target.schema_name())
            })
        }
        [] if !named.is_empty() => Ok(TenantTargets::Schemas {
            server: url.clone(),
            names: named.to_vec(),
        }),
        [] => bail!(
            "no FoxSchema in the files lists the tenants (spec.tenants){}; add it to the files, or name the tenant schemas with --tenant; nothing was done",
            database_ref.map_or_else(String::new, |name| format!(" of databaseRef {name}"))
        ),
        several => bail!(
            "{} FoxSchemas in the files list tenants{}; give the files of one; nothing was done",
            several.len(),
            database_ref.map_or_else(String::new, |name| format!(" of databaseRef {name}"))
        ),
    }
}
