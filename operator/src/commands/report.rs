//! How plans and applies are shown: text for people, JSON for tools, SQL for review.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use crate::engine::Plan;
use crate::engine::change::Safety;

/// Output format of `fox plan`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Changes grouped per table, destructive ones marked.
    Text,
    /// One JSON document.
    Json,
    /// The SQL statements.
    Sql,
}

/// The plan in words, grouped per table.
pub fn plan_text(plan: &Plan) -> String {
    // What the plan leaves alone, and why, comes first.
    let mut preamble = String::new();
    for table in &plan.live.unmanaged {
        preamble.push_str(&format!(
            "  table {} is not managed (left alone): its {}, outside the portable types\n",
            table.name, table.reason
        ));
    }
    for note in &plan.notes {
        preamble.push_str(&format!("  note: {note}\n"));
    }
    if plan.is_empty() {
        return format!("{preamble}  no changes: the database matches the schema\n");
    }
    let mut by_table: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for planned in &plan.changes {
        let table = planned.change.table();
        if !order.contains(&table) {
            order.push(table);
        }
        let marker = match &planned.safety {
            Safety::Safe => String::new(),
            Safety::Destructive(why) => format!("\n        ! DESTRUCTIVE: {why}"),
            Safety::Impossible(why) => format!("\n        ! CANNOT APPLY: {why}"),
        };
        by_table.entry(table).or_default().push(format!(
            "    {} {}{marker}",
            planned.change.symbol(),
            planned.change
        ));
    }
    let mut text = preamble;
    for table in order {
        text.push_str(&format!("  table {table}\n"));
        for line in &by_table[table] {
            text.push_str(line);
            text.push('\n');
        }
    }
    if !plan.seeds.is_empty() {
        let per_table = plan.seed_rows_per_table();
        text.push_str("  seed\n");
        for (table, count) in per_table {
            text.push_str(&format!(
                "    + upsert {count} row{} into {table}\n",
                if count == 1 { "" } else { "s" }
            ));
        }
    }
    text
}

/// One-line summary: counts and the hash.
pub fn plan_summary(plan: &Plan) -> String {
    let destructive = plan.destructive().len();
    let impossible = plan.impossible().len();
    let mut summary = format!(
        "{} change{}",
        plan.changes.len(),
        if plan.changes.len() == 1 { "" } else { "s" }
    );
    if destructive > 0 {
        summary.push_str(&format!(" ({destructive} destructive)"));
    }
    if impossible > 0 {
        summary.push_str(&format!(" ({impossible} cannot be applied)"));
    }
    summary.push_str(&format!(
        ", {} statement{}, {} seed row{}",
        plan.statements.len(),
        if plan.statements.len() == 1 { "" } else { "s" },
        plan.seeds.len(),
        if plan.seeds.len() == 1 { "" } else { "s" }
    ));
    summary
}

/// The plan as JSON.
pub fn plan_json(schema: &str, database: &str, plan: &Plan) -> Json {
    let changes: Vec<Json> = plan
        .changes
        .iter()
        .map(|p| {
            let (safety, reason) = match &p.safety {
                Safety::Safe => ("safe", None),
                Safety::Destructive(why) => ("destructive", Some(why.clone())),
                Safety::Impossible(why) => ("impossible", Some(why.clone())),
            };
            json!({
                "table": p.change.table(),
                "kind": p.change.kind(),
                "description": p.change.to_string(),
                "safety": safety,
                "reason": reason,
            })
        })
        .collect();
    let seeds: Vec<Json> = plan
        .seeds
        .iter()
        .map(|s| json!({"table": s.row.table, "values": s.row.values.iter().cloned().collect::<BTreeMap<_, _>>()}))
        .collect();
    json!({
        "schema": schema,
        "database": database,
        "engine": plan.backend.as_str(),
        "hash": plan.hash,
        "inSync": plan.is_empty(),
        "changes": changes,
        "seeds": seeds,
        "notes": plan.notes,
        "unmanaged": plan
            .live
            .unmanaged
            .iter()
            .map(|t| json!({"table": t.name, "reason": t.reason}))
            .collect::<Vec<_>>(),
        "statements": plan.all_sql(),
    })
}

/// The plan as SQL, statements terminated by `;`.
pub fn plan_sql(plan: &Plan) -> String {
    plan.all_sql().iter().map(|s| format!("{s};\n")).collect()
}

/// First line of a statement, shortened for progress output.
pub fn statement_headline(sql: &str) -> String {
    let first = sql.lines().next().unwrap_or_default();
    let mut headline: String = first.chars().take(90).collect();
    if first.chars().count() > 90 || sql.lines().count() > 1 {
        headline.push_str(" …");
    }
    headline
}

/// Prints one line per tenant of an apply to every tenant and returns the tenants that did not
/// apply (failed, or held for approval).
pub fn print_tenant_results(
    results: Vec<crate::engine::tenant_schemas::TenantResult<crate::engine::ApplyOutcome>>,
) -> Vec<String> {
    use crate::engine::ApplyOutcome;
    let mut failed = Vec::new();
    for result in results {
        match result.outcome {
            Ok(ApplyOutcome::Applied { plan, duration, .. }) => println!(
                "  {}: applied plan {} in {} ms: {}",
                result.tenant,
                plan.hash,
                duration.as_millis(),
                plan_summary(&plan)
            ),
            Ok(ApplyOutcome::InSync { .. }) => println!("  {}: in sync", result.tenant),
            Ok(ApplyOutcome::DryRun(_) | ApplyOutcome::AwaitingApproval(_)) => {
                println!("  {}: not applied (awaiting approval)", result.tenant);
                failed.push(result.tenant);
            }
            Err(error) => {
                println!("  {}: FAILED: {error}", result.tenant);
                failed.push(result.tenant);
            }
        }
    }
    failed
}
