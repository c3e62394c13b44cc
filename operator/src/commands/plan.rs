//! `fox plan`: what `fox apply` would do, without changing anything.

use std::path::PathBuf;
use std::process::ExitCode;

use super::collection_report::{
    collection_plan_commands, collection_plan_json, collection_plan_summary, collection_plan_text,
};
use super::report::{OutputFormat, plan_json, plan_sql, plan_summary, plan_text};
use super::target::{load_valid_manifests, resolve_schema_targets, tenant_targets};
use crate::engine::collections::{CollectionPlan, plan_collections};
use crate::engine::{Plan, plan_schema};

/// Plans every FoxSchema under `paths`.
///
/// Exit codes: 0 in sync (or changes pending without `--detailed-exitcode`), 2 changes pending
/// with `--detailed-exitcode`, 1 on error.
///
/// # Errors
/// Invalid manifests, unreachable databases, unsupported differences.
pub async fn run(
    paths: &[PathBuf],
    database: Option<&str>,
    output: OutputFormat,
    detailed_exitcode: bool,
) -> anyhow::Result<ExitCode> {
    let set = load_valid_manifests(paths)?;
    let (targets, collection_targets) = resolve_schema_targets(&set, database)?;
    let mut pending = false;
    let mut documents = Vec::new();
    let mut failed = Vec::new();
    for target in &collection_targets {
        let plan = plan_collections(&target.url, &target.schema.spec)
            .await
            .map_err(|e| anyhow::anyhow!("FoxSchema/{}: {e}", target.schema_name()))?;
        pending |= !plan.is_empty();
        let heading = match output {
            OutputFormat::Text => format!("mongodb {} ({})", target.url.location(), target.source),
            OutputFormat::Json | OutputFormat::Sql => target.url.to_string(),
        };
        print_collection_plan(
            output,
            &target.schema_name(),
            &heading,
            &plan,
            &mut documents,
        );
    }
    for target in &targets {
        if let Some(tenants) = tenant_targets(&set, target)? {
            // Every tenant is planned, together; failures are listed at the end.
            for result in tenants.plan(&target.schema.spec).await {
                let name = format!("{} tenant {}", target.schema_name(), result.tenant);
                match result.outcome {
                    Ok(plan) => {
                        pending |= !plan.is_empty();
                        let heading = tenants.describe(&result.tenant);
                        print_plan(output, &name, &heading, &plan, &mut documents);
                    }
                    Err(error) => {
                        eprintln!("FoxSchema/{name}: FAILED: {error}");
                        failed.push(result.tenant);
                    }
                }
            }
            continue;
        }
        let plan = plan_schema(&target.url, &target.schema.spec)
            .await
            .map_err(|e| anyhow::anyhow!("FoxSchema/{}: {e}", target.schema_name()))?;
        pending |= !plan.is_empty();
        let heading = match output {
            OutputFormat::Text => format!(
                "{} {} ({})",
                target.url.backend(),
                target.url.location(),
                target.source
            ),
            OutputFormat::Json | OutputFormat::Sql => target.url.to_string(),
        };
        print_plan(
            output,
            &target.schema_name(),
            &heading,
            &plan,
            &mut documents,
        );
    }
    if output == OutputFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"plans": documents}))?
        );
    }
    if !failed.is_empty() {
        anyhow::bail!(
            "{} tenant(s) could not be planned: {}",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(if detailed_exitcode && pending {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints (or, for JSON, collects) the plan of `schema` on the database `heading` describes.
fn print_plan(
    output: OutputFormat,
    schema: &str,
    heading: &str,
    plan: &Plan,
    documents: &mut Vec<serde_json::Value>,
) {
    match output {
        OutputFormat::Text => {
            println!("FoxSchema/{schema} → {heading}");
            print!("{}", plan_text(plan));
            if plan.is_empty() {
                println!("Plan: in sync.");
            } else {
                println!("Plan {}: {}.", plan.hash, plan_summary(plan));
                if !plan.destructive().is_empty() {
                    println!(
                        "Destructive changes need policy.allowDestructive or --allow-destructive."
                    );
                }
            }
        }
        OutputFormat::Json => documents.push(plan_json(schema, heading, plan)),
        OutputFormat::Sql => {
            println!("-- FoxSchema/{schema} → {heading}: plan {}", plan.hash);
            print!("{}", plan_sql(plan));
        }
    }
}

/// Prints (or, for JSON, collects) a MongoDB plan; `--output sql` prints its commands.
fn print_collection_plan(
    output: OutputFormat,
    schema: &str,
    heading: &str,
    plan: &CollectionPlan,
    documents: &mut Vec<serde_json::Value>,
) {
    match output {
        OutputFormat::Text => {
            println!("FoxSchema/{schema} → {heading}");
            print!("{}", collection_plan_text(plan));
            if plan.is_empty() {
                println!("Plan: in sync.");
            } else {
                println!("Plan {}: {}.", plan.hash, collection_plan_summary(plan));
                if !plan.destructive().is_empty() {
                    println!(
                        "Destructive changes need policy.allowDestructive or --allow-destructive."
                    );
                }
            }
        }
        OutputFormat::Json => documents.push(collection_plan_json(schema, heading, plan)),
        OutputFormat::Sql => {
            println!("// FoxSchema/{schema} → {heading}: plan {}", plan.hash);
            print!("{}", collection_plan_commands(plan));
        }
    }
}
