//! `fox plan`: what `fox apply` would do, without changing anything.

use std::path::PathBuf;
use std::process::ExitCode;

use super::report::{OutputFormat, plan_json, plan_sql, plan_summary, plan_text};
use super::target::{load_valid_manifests, resolve_targets};
use crate::engine::plan_schema;

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
    let targets = resolve_targets(&set, database)?;
    let mut pending = false;
    let mut documents = Vec::new();
    for target in &targets {
        let plan = plan_schema(&target.url, &target.schema.spec)
            .await
            .map_err(|e| anyhow::anyhow!("FoxSchema/{}: {e}", target.schema_name()))?;
        pending |= !plan.is_empty();
        match output {
            OutputFormat::Text => {
                println!(
                    "FoxSchema/{} → {} {} ({})",
                    target.schema_name(),
                    target.url.backend(),
                    target.url.location(),
                    target.source
                );
                print!("{}", plan_text(&plan));
                if plan.is_empty() {
                    println!("Plan: in sync.");
                } else {
                    println!("Plan {}: {}.", plan.hash, plan_summary(&plan));
                    if !plan.destructive().is_empty() {
                        println!(
                            "Destructive changes need policy.allowDestructive or --allow-destructive."
                        );
                    }
                }
            }
            OutputFormat::Json => documents.push(plan_json(
                &target.schema_name(),
                &target.url.to_string(),
                &plan,
            )),
            OutputFormat::Sql => {
                println!(
                    "-- FoxSchema/{} → {}: plan {}",
                    target.schema_name(),
                    target.url,
                    plan.hash
                );
                print!("{}", plan_sql(&plan));
            }
        }
    }
    if output == OutputFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"plans": documents}))?
        );
    }
    Ok(if detailed_exitcode && pending {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
