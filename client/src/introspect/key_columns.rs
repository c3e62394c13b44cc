//! Indexes and foreign keys assembled from catalog rows that list them one key column per row,
//! as PostgreSQL's and MySQL's catalogs do (SQLite's pragmas are read per index instead).

use super::parse_action;
use crate::schema::{ForeignKey, Index, Table};

/// One row of an index as the catalogs list it: one row per column, in key order.
pub(crate) struct IndexColumn {
    pub(crate) name: String,
    pub(crate) column: String,
    pub(crate) unique: bool,
    /// Backed by a UNIQUE constraint (dropped as one).
    pub(crate) constraint: bool,
}

/// Adds one column of an index read row by row (the rows of one index arrive in key order).
pub(crate) fn add_index_column(table: &mut Table, row: IndexColumn) {
    match table.indexes.iter_mut().find(|i| i.name == row.name) {
        Some(index) => index.columns.push(row.column),
        None => table.indexes.push(Index {
            name: row.name,
            columns: vec![row.column],
            unique: row.unique,
            constraint: row.constraint,
        }),
    }
}

/// One row of a foreign key as the catalogs list it: one row per column, in key order.
pub(crate) struct ForeignKeyColumn {
    pub(crate) name: String,
    pub(crate) column: String,
    pub(crate) referenced_table: String,
    pub(crate) referenced_column: String,
    pub(crate) on_delete: String,
    pub(crate) on_update: String,
}

/// Adds one column of a foreign key read row by row.
pub(crate) fn add_foreign_key_column(table: &mut Table, row: ForeignKeyColumn) {
    match table.foreign_keys.iter_mut().find(|f| f.name == row.name) {
        Some(foreign_key) => {
            foreign_key.columns.push(row.column);
            foreign_key.referenced_columns.push(row.referenced_column);
        }
        None => table.foreign_keys.push(ForeignKey {
            name: row.name,
            columns: vec![row.column],
            referenced_table: row.referenced_table,
            referenced_columns: vec![row.referenced_column],
            on_delete: parse_action(&row.on_delete),
            on_update: parse_action(&row.on_update),
        }),
    }
}
