//! `fox apply`: make each database match its FoxSchema.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::collection_report::{collection_plan_summary, collection_plan_text};
use super::report::{plan_summary, plan_text, print_tenant_results, statement_headline};
use super::target::{
    CollectionTarget, Target, load_valid_manifests, resolve_schema_targets, tenant_targets,
};
use crate::engine::collections::{CollectionApplyOutcome, apply_collections};
use crate::engine::tenants::TenantTargets;
use crate::engine::{ApplyEvent, ApplyOptions, ApplyOutcome, apply_schema};

/// Flags of `fox apply`.
#[derive(Clone, Debug, Default)]
pub struct ApplyFlags {
    /// `--database`.
    pub database: Option<String>,
    /// `--allow-destructive`.
    pub allow_destructive: bool,
    /// `--approve HASH`.
    pub approve: Option<String>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--replaces NAME`.
    pub replaces: Option<String>,
}

/// Applies every FoxSchema under `paths`.
///
/// Exit codes: 0 applied or already in sync (or dry run), 2 waiting for `--approve`, 1 on
/// error or refusal.
///
/// # Errors
/// Invalid manifests, unreachable databases, refusals, failed statements.
pub async fn run(paths: &[PathBuf], flags: &ApplyFlags) -> anyhow::Result<ExitCode> {
    let set = load_valid_manifests(paths)?;
    let (targets, collection_targets) = resolve_schema_targets(&set, flags.database.as_deref())?;
    let mut awaiting = false;
    let mut failed_tenants = Vec::new();
    for target in &collection_targets {
        awaiting |= apply_to_collections(target, flags).await?;
    }
    for target in &targets {
        if let Some(tenants) = tenant_targets(&set, target)? {
            failed_tenants.extend(apply_to_tenants(target, &tenants, flags).await?);
            continue;
        }
        let policy = &target.schema.spec.policy;
        let options = ApplyOptions {
            schema_name: target.schema_name(),
            owner_uid: target.schema.metadata.uid.clone(),
            replaces: flags.replaces.clone(),
            allow_destructive: flags.allow_destructive || policy.allow_destructive,
            // `--approve HASH` means "this plan and no other", with or without the policy.
            require_approval: policy.require_approval || flags.approve.is_some(),
            approve: flags.approve.clone(),
            approval_scope: None,
            dry_run: flags.dry_run,
            lock_timeout: Duration::from_secs(u64::from(policy.lock_timeout_seconds)),
        };
        println!(
            "FoxSchema/{} → {} {} ({})",
            target.schema_name(),
            target.url.backend(),
            target.url.location(),
            target.source
        );
        let mut stdout = std::io::stdout();
        let mut progress = |event: ApplyEvent<'_>| match event {
            ApplyEvent::Planned { plan } => {
                let _ = write!(stdout, "{}", plan_text(plan));
                let _ = writeln!(
                    stdout,
                    "Applying plan {}: {}",
                    plan.hash,
                    plan_summary(plan)
                );
            }
            ApplyEvent::Started {
                first,
                last,
                total,
                sql,
            } => {
                let width = total.to_string().len();
                let step = if first == last {
                    format!("{first:>width$}/{total}] {}", statement_headline(sql))
                } else {
                    format!(
                        "{first:>width$}-{last}/{total}] {} statements from {}",
                        last - first + 1,
                        statement_headline(sql)
                    )
                };
                let _ = write!(stdout, "  [{step} ");
                let _ = stdout.flush();
            }
            ApplyEvent::Finished { elapsed, .. } => {
                let _ = writeln!(stdout, "({} ms)", elapsed.as_millis());
            }
        };
        let outcome = apply_schema(&target.url, &target.schema.spec, &options, &mut progress)
            .await
            .map_err(|e| anyhow::anyhow!("FoxSchema/{}: {e}", target.schema_name()))?;
        match outcome {
            ApplyOutcome::InSync { interrupted } => {
                for line in interrupted {
                    println!(
                        "  note: an earlier apply was interrupted ({line}); the database already matches"
                    );
                }
                println!("In sync: nothing to do.");
            }
            ApplyOutcome::Applied {
                plan,
                duration,
                interrupted,
            } => {
                for line in interrupted {
                    println!("  note: resumed after an interrupted apply ({line})");
                }
                println!(
                    "Applied plan {} in {} ms: {}.",
                    plan.hash,
                    duration.as_millis(),
                    plan_summary(&plan)
                );
            }
            ApplyOutcome::DryRun(plan) => {
                print!("{}", plan_text(&plan));
                println!(
                    "Dry run: plan {} ({}) was not applied.",
                    plan.hash,
                    plan_summary(&plan)
                );
            }
            ApplyOutcome::AwaitingApproval(plan) => {
                print!("{}", plan_text(&plan));
                if let Some(stale) = &flags.approve {
                    println!(
                        "The approved plan {stale} no longer matches: the database or the manifests changed since it was reviewed, and nothing was applied."
                    );
                }
                println!(
                    "Plan {} ({}) needs approval: review it, then run fox apply --approve {}",
                    plan.hash,
                    plan_summary(&plan),
                    plan.hash
                );
                awaiting = true;
            }
        }
    }
    if !failed_tenants.is_empty() {
        eprintln!(
            "fox: {} tenant(s) failed: {}",
            failed_tenants.len(),
            failed_tenants.join(", ")
        );
        return Ok(ExitCode::from(1));
    }
    Ok(if awaiting {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Applies a FoxSchema of MongoDB collections; returns whether its plan waits for approval.
///
/// # Errors
/// `--replaces` (MongoDB databases record no owner), unreachable server, refusals, failed
/// commands.
async fn apply_to_collections(
    target: &CollectionTarget,
    flags: &ApplyFlags,
) -> anyhow::Result<bool> {
    if flags.replaces.is_some() {
        anyhow::bail!(
            "FoxSchema/{}: --replaces is not supported for MongoDB collections; nothing was done",
            target.schema_name()
        );
    }
    let policy = &target.schema.spec.policy;
    let options = ApplyOptions {
        schema_name: target.schema_name(),
        owner_uid: target.schema.metadata.uid.clone(),
        replaces: None,
        allow_destructive: flags.allow_destructive || policy.allow_destructive,
        require_approval: policy.require_approval || flags.approve.is_some(),
        approve: flags.approve.clone(),
        approval_scope: None,
        dry_run: flags.dry_run,
        lock_timeout: Duration::from_secs(u64::from(policy.lock_timeout_seconds)),
    };
    println!(
        "FoxSchema/{} → mongodb {} ({})",
        target.schema_name(),
        target.url.location(),
        target.source
    );
    let mut stdout = std::io::stdout();
    let mut progress = |index: usize, total: usize, change: &str| {
        let width = total.to_string().len();
        let _ = writeln!(stdout, "  [{index:>width$}/{total}] {change}");
    };
    let outcome = apply_collections(&target.url, &target.schema.spec, &options, &mut progress)
        .await
        .map_err(|e| anyhow::anyhow!("FoxSchema/{}: {e}", target.schema_name()))?;
    match outcome {
        CollectionApplyOutcome::InSync => println!("In sync: nothing to do."),
        CollectionApplyOutcome::Applied { plan, duration } => println!(
            "Applied plan {} in {} ms: {}.",
            plan.hash,
            duration.as_millis(),
            collection_plan_summary(&plan)
        ),
        CollectionApplyOutcome::DryRun(plan) => {
            print!("{}", collection_plan_text(&plan));
            println!(
                "Dry run: plan {} ({}) was not applied.",
                plan.hash,
                collection_plan_summary(&plan)
            );
        }
        CollectionApplyOutcome::AwaitingApproval(plan) => {
            print!("{}", collection_plan_text(&plan));
            if let Some(stale) = &flags.approve {
                println!(
                    "The approved plan {stale} no longer matches: the database or the manifests changed since it was reviewed, and nothing was applied."
                );
            }
            println!(
                "Plan {} ({}) needs approval: review it, then run fox apply --approve {}",
                plan.hash,
                collection_plan_summary(&plan),
                plan.hash
            );
            return Ok(true);
        }
    }
    Ok(false)
}

/// Applies `target`'s FoxSchema to each of its tenants: plans them all together, then applies
/// those whose plan is not empty (or could not be made), one after another, never stopping at
/// a failure. Returns the tenants that failed.
///
/// # Errors
/// `--approve` or `--replaces`, which name one plan or one database, not a list of tenants.
async fn apply_to_tenants(
    target: &Target,
    tenants: &TenantTargets,
    flags: &ApplyFlags,
) -> anyhow::Result<Vec<String>> {
    if flags.approve.is_some() || flags.replaces.is_some() {
        anyhow::bail!(
            "FoxSchema/{} lists tenants: --approve and --replaces name one database's plan; apply them per tenant URL (fox apply --database ..)",
            target.schema_name()
        );
    }
    let spec = &target.schema.spec;
    let names = tenants.names();
    println!(
        "FoxSchema/{} → {} tenant(s) ({})",
        target.schema_name(),
        names.len(),
        target.source
    );
    let mut failed = Vec::new();
    let mut to_apply = Vec::new();
    for result in tenants.plan(spec).await {
        match result.outcome {
            Ok(plan) if plan.is_empty() => println!("  {}: in sync", result.tenant),
            Ok(plan) if flags.dry_run => {
                println!("  {}: {}", result.tenant, tenants.describe(&result.tenant));
                print!("{}", plan_text(&plan));
                println!(
                    "  {}: dry run: plan {} ({}) was not applied",
                    result.tenant,
                    plan.hash,
                    plan_summary(&plan)
                );
            }
            Ok(_) => to_apply.push(result.tenant),
            // A schema that does not exist yet is created by the apply.
            Err(_) if !flags.dry_run => to_apply.push(result.tenant),
            Err(error) => {
                println!("  {}: FAILED: {error}", result.tenant);
                failed.push(result.tenant);
            }
        }
    }
    if to_apply.is_empty() {
        return Ok(failed);
    }
    let policy = &spec.policy;
    let options = ApplyOptions {
        schema_name: target.schema_name(),
        owner_uid: target.schema.metadata.uid.clone(),
        replaces: None,
        allow_destructive: flags.allow_destructive || policy.allow_destructive,
        require_approval: false,
        approve: None,
        approval_scope: None,
        dry_run: false,
        lock_timeout: Duration::from_secs(u64::from(policy.lock_timeout_seconds)),
    };
    let results = tenants
        .apply(spec, Some(&to_apply), &options, &mut |_| {}, &mut |_| {})
        .await;
    failed.extend(print_tenant_results(results));
    Ok(failed)
}
