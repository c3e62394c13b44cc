//! Indexes the engine itself requires: InnoDB needs an index starting with the columns of every
//! foreign key, and refuses to drop the last one. A plan keeps such an index instead of
//! dropping it (say with `autoIndexForeignKeys` turned off), and says so, so it converges.

use foxdb::Backend;
use foxdb::dialect::dialect_for;
use foxdb::schema::{Index, Schema};

use super::change::Change;

/// Removes from `changes` the index drops that would leave a declared foreign key without the
/// index its engine requires; returns one note per index kept.
pub fn keep_required_indexes(
    backend: Backend,
    desired: &Schema,
    changes: &mut Vec<Change>,
) -> Vec<String> {
    if !dialect_for(backend).foreign_keys_need_index() {
        return Vec::new();
    }
    let mut notes = Vec::new();
    for table in &desired.tables {
        // What the table will have after the plan: its declared keys and indexes, plus the
        // indexes kept below.
        let mut remaining = table.clone();
        for foreign_key in &table.foreign_keys {
            if remaining.has_index_prefix(&foreign_key.columns) {
                continue;
            }
            let kept = changes.iter().position(|change| match change {
                Change::DropIndex { table: t, index } => {
                    *t == table.name && starts_with(index, &foreign_key.columns)
                }
                _ => false,
            });
            if let Some(position) = kept {
                let Change::DropIndex { index, .. } = changes.remove(position) else {
                    continue;
                };
                notes.push(format!(
                    "index {} on {} is kept: {backend} requires an index on the columns ({}) of foreign key {}; declare it to manage it yourself",
                    index.name,
                    table.name,
                    foreign_key.columns.join(", "),
                    foreign_key.name
                ));
                remaining.indexes.push(index);
            }
        }
    }
    notes
}

fn starts_with(index: &Index, columns: &[String]) -> bool {
    index.columns.len() >= columns.len() && index.columns[..columns.len()] == *columns
}
