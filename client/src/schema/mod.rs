//! The model of a relational schema shared by declaration (FoxSchema), introspection (the live
//! database) and the schema engine's diff: tables, columns with portable types, keys, indexes
//! and foreign keys.

mod model;

pub use model::{
    Column, ColumnDefault, ForeignKey, Index, Schema, Table, TableAudit, UnmanagedTable,
};
