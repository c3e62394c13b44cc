//! The order seed rows are written in: every row after the seed rows it references, within a
//! table (a category and its parent) and across tables, so foreign keys checked per statement
//! (PostgreSQL, MySQL) never see a missing parent.
//!
//! Rows that reference each other in a cycle are written in two steps: the row where the cycle
//! is broken is first written without its nullable reference columns, and written whole after
//! every other row. A cycle only through NOT NULL columns cannot be written by any engine
//! (FoxDB's foreign keys are not deferrable) and is refused before anything runs.

use foxdb::schema::Schema;

use super::seed::{SeedRow, SeedValue};

/// Seed rows that reference each other only through NOT NULL columns.
#[derive(Debug, thiserror::Error)]
#[error(
    "seed rows reference each other in a cycle through NOT NULL foreign key columns, which no engine can insert: {rows}; make one of those columns nullable or remove a reference from the seed"
)]
pub struct SeedCycle {
    /// The rows left in the cycle, `table (column=value, ...)`.
    pub rows: String,
}

/// A reference from one seed row to another: the referencing columns and the parent's index.
struct Reference {
    columns: Vec<String>,
    parent: usize,
}

/// Orders `rows` (already in table dependency order) so parents come first.
///
/// # Errors
/// [`SeedCycle`] when rows reference each other only through NOT NULL columns.
pub fn order_seed_rows(rows: Vec<SeedRow>, desired: &Schema) -> Result<Vec<SeedRow>, SeedCycle> {
    let references: Vec<Vec<Reference>> = rows
        .iter()
        .enumerate()
        .map(|(index, row)| references_of(index, row, &rows, desired))
        .collect();
    let mut written = vec![false; rows.len()];
    let mut ordered = Vec::with_capacity(rows.len());
    let mut completions = Vec::new();
    while written.iter().any(|w| !w) {
        let pending = |i: &usize| !written[*i];
        let unresolved = |i: usize| references[i].iter().filter(|r| !written[r.parent]);
        if let Some(ready) = (0..rows.len())
            .filter(pending)
            .find(|&i| unresolved(i).next().is_none())
        {
            written[ready] = true;
            ordered.push(rows[ready].clone());
            continue;
        }
        let nullable = |table: &str, column: &str| {
            desired
                .table(table)
                .and_then(|t| t.column(column))
                .is_some_and(|c| c.nullable)
        };
        let breakable = (0..rows.len()).filter(pending).find(|&i| {
            unresolved(i).all(|r| r.columns.iter().all(|c| nullable(&rows[i].table, c)))
        });
        let Some(broken) = breakable else {
            let rows = (0..rows.len())
                .filter(pending)
                .map(|i| describe(&rows[i], desired))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(SeedCycle { rows });
        };
        let omitted: Vec<&String> = unresolved(broken).flat_map(|r| &r.columns).collect();
        let mut first_step = rows[broken].clone();
        first_step
            .values
            .retain(|(column, _)| !omitted.contains(&column));
        written[broken] = true;
        ordered.push(first_step);
        completions.push(rows[broken].clone());
    }
    ordered.extend(completions);
    Ok(ordered)
}

/// The seed rows `rows[index]` references through the foreign keys of its table.
fn references_of(
    index: usize,
    row: &SeedRow,
    rows: &[SeedRow],
    desired: &Schema,
) -> Vec<Reference> {
    let Some(table) = desired.table(&row.table) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for foreign_key in &table.foreign_keys {
        let Some(values) = key_of(row, &foreign_key.columns) else {
            continue;
        };
        let parent = rows.iter().position(|candidate| {
            candidate.table == foreign_key.referenced_table
                && key_of(candidate, &foreign_key.referenced_columns).as_ref() == Some(&values)
        });
        // A row referencing itself is inserted in one statement, which every engine accepts.
        if let Some(parent) = parent
            && parent != index
        {
            found.push(Reference {
                columns: foreign_key.columns.clone(),
                parent,
            });
        }
    }
    found
}

/// The values of `columns` in `row` as comparable text; `None` when one is missing or NULL.
fn key_of(row: &SeedRow, columns: &[String]) -> Option<Vec<String>> {
    columns
        .iter()
        .map(|column| row.value(column).and_then(key_text))
        .collect()
}

fn key_text(value: &SeedValue) -> Option<String> {
    match value {
        SeedValue::Null => None,
        SeedValue::Bool(b) => Some(b.to_string()),
        SeedValue::Int(i) => Some(i.to_string()),
        SeedValue::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => {
            Some((*x as i64).to_string())
        }
        SeedValue::Float(x) => Some(x.to_string()),
        SeedValue::Text(s) => Some(s.clone()),
    }
}

fn describe(row: &SeedRow, desired: &Schema) -> String {
    let key: Vec<String> = desired
        .table(&row.table)
        .map(|t| t.primary_key.clone())
        .unwrap_or_default()
        .iter()
        .map(|column| {
            let value = row.value(column).and_then(key_text).unwrap_or_default();
            format!("{column}={value}")
        })
        .collect();
    format!("{} ({})", row.table, key.join(", "))
}
