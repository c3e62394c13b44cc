//! Live tables the portable vocabulary cannot describe: collected while reading columns, then
//! taken out of the schema so the engine leaves them alone instead of failing on them.

use std::collections::BTreeMap;

#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::schema::Table;
use crate::schema::UnmanagedTable;

/// Tables found to hold a column of a type outside the portable vocabulary, with the first
/// such column.
#[derive(Debug, Default)]
pub(super) struct UnmanagedTables {
    reasons: BTreeMap<String, String>,
}

impl UnmanagedTables {
    /// Records that `table` has `column` of the native type `native`.
    pub(super) fn mark(&mut self, table: &str, column: &str, native: &str) {
        self.reasons
            .entry(table.to_string())
            .or_insert_with(|| describe(column, native));
    }

    /// Whether `table` was marked.
    #[cfg(feature = "sqlite")]
    pub(super) fn contains(&self, table: &str) -> bool {
        self.reasons.contains_key(table)
    }

    /// Removes the marked tables from `tables`.
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    pub(super) fn remove_from(&self, tables: &mut BTreeMap<String, Table>) {
        tables.retain(|name, _| !self.reasons.contains_key(name));
    }

    /// The marked tables, in name order.
    pub(super) fn into_tables(self) -> Vec<UnmanagedTable> {
        self.reasons
            .into_iter()
            .map(|(name, reason)| UnmanagedTable { name, reason })
            .collect()
    }
}

fn describe(column: &str, native: &str) -> String {
    if native.trim().is_empty() {
        format!("column \"{column}\" has no declared type")
    } else {
        format!("column \"{column}\" has type {native}")
    }
}
