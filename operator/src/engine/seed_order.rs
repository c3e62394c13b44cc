//! The order seed rows are written in: every row after the seed rows it references, within a
//! table (a category and its parent) and across tables, so foreign keys checked per statement
//! (PostgreSQL, MySQL) never see a missing parent.
//!
//! Rows that reference each other in a cycle are written in two steps: the row where the cycle
//! is broken is first written without its nullable reference columns, and written whole after
//! every other row. A cycle only through NOT NULL columns cannot be written by any engine
//! (FoxDB's foreign keys are not deferrable) and is refused before anything runs.

use std::collections::{BTreeSet, HashMap};

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

/// Orders `rows` (already in table dependency order) so parents come first; rows otherwise keep
/// their order.
///
/// # Errors
/// [`SeedCycle`] when rows reference each other only through NOT NULL columns.
pub fn order_seed_rows(rows: Vec<SeedRow>, desired: &Schema) -> Result<Vec<SeedRow>, SeedCycle> {
    let references = references_between(&rows, desired);
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); rows.len()];
    let mut waiting_for: Vec<usize> = vec![0; rows.len()];
    for (child, found) in references.iter().enumerate() {
        for reference in found {
            children[reference.parent].push(child);
            waiting_for[child] += 1;
        }
    }
    let mut written = vec![false; rows.len()];
    let mut ready: BTreeSet<usize> = (0..rows.len()).filter(|&i| waiting_for[i] == 0).collect();
    let mut ordered = Vec::with_capacity(rows.len());
    let mut completions = Vec::new();
    let write = |row: usize,
                 written: &mut Vec<bool>,
                 ready: &mut BTreeSet<usize>,
                 waiting_for: &mut Vec<usize>| {
        written[row] = true;
        for &child in &children[row] {
            waiting_for[child] -= 1;
            if waiting_for[child] == 0 && !written[child] {
                ready.insert(child);
            }
        }
    };
    while ordered.len() < rows.len() {
        if let Some(next) = ready.pop_first() {
            write(next, &mut written, &mut ready, &mut waiting_for);
            ordered.push(rows[next].clone());
            continue;
        }
        // Only rows in cycles are left: break one where every reference still open goes
        // through nullable columns.
        let nullable = |table: &str, column: &str| {
            desired
                .table(table)
                .and_then(|t| t.column(column))
                .is_some_and(|c| c.nullable)
        };
        let open = |i: usize| references[i].iter().filter(|r| !written[r.parent]);
        let breakable = (0..rows.len())
            .filter(|&i| !written[i])
            .find(|&i| open(i).all(|r| r.columns.iter().all(|c| nullable(&rows[i].table, c))));
        let Some(broken) = breakable else {
            let rows = (0..rows.len())
                .filter(|&i| !written[i])
                .map(|i| describe(&rows[i], desired))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(SeedCycle { rows });
        };
        let omitted: Vec<String> = open(broken).flat_map(|r| r.columns.clone()).collect();
        let mut first_step = rows[broken].clone();
        first_step
            .values
            .retain(|(column, _)| !omitted.contains(column));
        write(broken, &mut written, &mut ready, &mut waiting_for);
        ordered.push(first_step);
        completions.push(rows[broken].clone());
    }
    ordered.extend(completions);
    Ok(ordered)
}

/// For each row, the other seed rows it references through the foreign keys of its table.
fn references_between(rows: &[SeedRow], desired: &Schema) -> Vec<Vec<Reference>> {
    // (table, referenced columns, their values) → the first row holding them.
    let mut holders: HashMap<(&str, &[String], Vec<String>), usize> = HashMap::new();
    for table in &desired.tables {
        for foreign_key in &table.foreign_keys {
            for (index, row) in rows.iter().enumerate() {
                if row.table == foreign_key.referenced_table
                    && let Some(key) = key_of(row, &foreign_key.referenced_columns)
                {
                    holders
                        .entry((
                            foreign_key.referenced_table.as_str(),
                            foreign_key.referenced_columns.as_slice(),
                            key,
                        ))
                        .or_insert(index);
                }
            }
        }
    }
    rows.iter()
        .enumerate()
        .map(|(index, row)| {
            let Some(table) = desired.table(&row.table) else {
                return Vec::new();
            };
            table
                .foreign_keys
                .iter()
                .filter_map(|foreign_key| {
                    let key = key_of(row, &foreign_key.columns)?;
                    let parent = *holders.get(&(
                        foreign_key.referenced_table.as_str(),
                        foreign_key.referenced_columns.as_slice(),
                        key,
                    ))?;
                    // A row referencing itself is one statement, which every engine accepts.
                    (parent != index).then(|| Reference {
                        columns: foreign_key.columns.clone(),
                        parent,
                    })
                })
                .collect()
        })
        .collect()
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
