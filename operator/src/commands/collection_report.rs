//! How MongoDB plans are shown: the same words and layout as SQL plans, grouped per
//! collection; JSON for tools; the database commands for review.

use serde_json::{Value as Json, json};

use crate::engine::change::Safety;
use crate::engine::collections::CollectionPlan;

/// The plan in words, grouped per collection.
pub fn collection_plan_text(plan: &CollectionPlan) -> String {
    let mut text: String = plan
        .notes
        .iter()
        .map(|note| format!("  note: {note}\n"))
        .collect();
    if plan.is_empty() {
        text.push_str("  no changes: the database matches the schema\n");
        return text;
    }
    // Grouped per collection in the order collections first appear; the commands run in the
    // plan's order (collections before their indexes).
    let mut order: Vec<&str> = Vec::new();
    for planned in &plan.changes {
        if !order.contains(&planned.change.collection()) {
            order.push(planned.change.collection());
        }
    }
    for collection in order {
        text.push_str(&format!("  collection {collection}\n"));
        for planned in plan
            .changes
            .iter()
            .filter(|p| p.change.collection() == collection)
        {
            let marker = match &planned.safety {
                Safety::Safe => String::new(),
                Safety::Destructive(why) => format!("\n        ! DESTRUCTIVE: {why}"),
                Safety::Impossible(why) => format!("\n        ! CANNOT APPLY: {why}"),
            };
            text.push_str(&format!(
                "    {} {}{marker}\n",
                planned.change.symbol(),
                planned.change
            ));
        }
    }
    text
}

/// One-line summary: counts.
pub fn collection_plan_summary(plan: &CollectionPlan) -> String {
    let changes = plan.changes.len();
    let destructive = plan.destructive().len();
    let mut summary = format!("{changes} change{}", if changes == 1 { "" } else { "s" });
    if destructive > 0 {
        summary.push_str(&format!(" ({destructive} destructive)"));
    }
    summary.push_str(&format!(
        ", {changes} command{}",
        if changes == 1 { "" } else { "s" }
    ));
    summary
}

/// The plan as JSON (the shape of SQL plans; `commands` instead of `statements`).
pub fn collection_plan_json(schema: &str, database: &str, plan: &CollectionPlan) -> Json {
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
                "collection": p.change.collection(),
                "description": p.change.to_string(),
                "safety": safety,
                "reason": reason,
            })
        })
        .collect();
    json!({
        "schema": schema,
        "database": database,
        "engine": "mongodb",
        "hash": plan.hash,
        "inSync": plan.is_empty(),
        "changes": changes,
        "notes": plan.notes,
        "commands": plan.commands_json(),
    })
}

/// The plan's commands, one extended-JSON document a line.
pub fn collection_plan_commands(plan: &CollectionPlan) -> String {
    plan.commands_json()
        .iter()
        .map(|c| format!("{c}\n"))
        .collect()
}
