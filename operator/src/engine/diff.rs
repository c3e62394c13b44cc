//! Desired vs live schema → an ordered list of typed changes.
//!
//! Both schemas must be in canonical form for the engine (`foxdb::introspect::canonical_schema`)
//! so that only real differences show up. Renames happen only through `previousNames`.

use std::collections::{BTreeMap, HashSet};

use fox_crds::schema::FoxSchemaSpec;
use foxdb::schema::{Column, ForeignKey, Schema, Table};

use super::change::Change;

/// Former names declared with `previousNames`.
#[derive(Clone, Debug, Default)]
pub struct Renames {
    /// New table name → its former names.
    pub tables: BTreeMap<String, Vec<String>>,
    /// (table, new column name) → former names.
    pub columns: BTreeMap<(String, String), Vec<String>>,
}

impl Renames {
    /// The renames a FoxSchema declares.
    pub fn from_spec(spec: &FoxSchemaSpec) -> Self {
        let mut renames = Self::default();
        for table in &spec.tables {
            if !table.previous_names.is_empty() {
                renames
                    .tables
                    .insert(table.name.clone(), table.previous_names.clone());
            }
            for column in &table.columns {
                if !column.previous_names.is_empty() {
                    renames.columns.insert(
                        (table.name.clone(), column.name.clone()),
                        column.previous_names.clone(),
                    );
                }
            }
        }
        renames
    }
}

/// Why a declaration cannot be planned at all.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A declared table (or a table a declared one was renamed from) exists with a column the
    /// portable vocabulary cannot express.
    #[error(
        "table {table} is declared, but the live table {live} cannot be managed: its {reason}, which the portable vocabulary cannot express; change that column with a FoxMigration, or remove {table} from the FoxSchema to leave the table alone"
    )]
    UnmanagedTableDeclared {
        /// The declared table.
        table: String,
        /// The live table it stands for (itself or a previous name).
        live: String,
        /// The first unportable column.
        reason: String,
    },
    /// The primary key of an existing table differs.
    #[error(
        "table {table}: changing the primary key from ({from}) to ({to}) is not supported by the declarative engine; write a FoxMigration for it"
    )]
    PrimaryKeyChange {
        /// Table.
        table: String,
        /// Live key.
        from: String,
        /// Declared key.
        to: String,
    },
}

/// Phase of a change: renames first (later changes use the new names), then drops before
/// re-creates, tables before the keys that need them. An index is dropped late — after its
/// replacement exists, which MySQL needs when it backs a foreign key — unless it must go early
/// (replaced under the same name, or on a column being dropped).
fn phase(change: &Change, early_index_drop: bool) -> u8 {
    match change {
        Change::RenameTable { .. } => 0,
        Change::RenameColumn { .. } => 1,
        Change::DropForeignKey { .. } => 2,
        Change::DropIndex { .. } if early_index_drop => 3,
        Change::DropTable { .. } => 4,
        Change::DropColumn { .. } => 5,
        Change::CreateTable { .. } => 6,
        Change::AddColumn { .. } => 7,
        Change::AlterColumn { .. } => 8,
        Change::CreateIndex { .. } => 9,
        Change::DropIndex { .. } => 10,
        Change::AddForeignKey { .. } => 11,
        Change::EnableCapture { .. }
        | Change::DisableCapture { .. }
        | Change::EnableAudit { .. }
        | Change::DisableAudit { .. } => 12,
        Change::EnableTenantIsolation { .. } | Change::DisableTenantIsolation { .. } => 13,
    }
}

fn is_early_index_drop(change: &Change, changes: &[Change]) -> bool {
    let Change::DropIndex { table, index } = change else {
        return false;
    };
    changes.iter().any(|other| match other {
        Change::CreateIndex {
            table: t,
            index: created,
        } => t == table && created.name == index.name,
        Change::DropColumn { table: t, column } => {
            t == table && index.columns.contains(&column.name)
        }
        _ => false,
    })
}

/// Plans the changes that turn `live` into `desired`.
///
/// # Errors
/// [`DiffError`] for differences the declarative engine does not apply.
pub fn plan_changes(
    live: &Schema,
    desired: &Schema,
    renames: &Renames,
) -> Result<Vec<Change>, DiffError> {
    refuse_unmanaged_declarations(live, desired, renames)?;
    let mut live = live.clone();
    let mut changes = Vec::new();
    let desired_names: HashSet<&str> = desired.tables.iter().map(|t| t.name.as_str()).collect();

    // Renames first, applied to the copy of the live schema so the rest compares like with like.
    for table in &desired.tables {
        if live.table(&table.name).is_some() {
            continue;
        }
        let from = renames.tables.get(&table.name).and_then(|old| {
            old.iter()
                .find(|o| live.table(o).is_some() && !desired_names.contains(o.as_str()))
                .cloned()
        });
        if let Some(from) = from {
            rename_live_table(&mut live, &from, &table.name);
            let renamed = live.table(&table.name).cloned().unwrap_or_default();
            changes.push(Change::RenameTable {
                from,
                table: renamed,
            });
        }
    }
    for table in &desired.tables {
        let Some(live_table) = live.table(&table.name) else {
            continue;
        };
        let mut column_renames = Vec::new();
        for column in &table.columns {
            if live_table.column(&column.name).is_some() {
                continue;
            }
            let key = (table.name.clone(), column.name.clone());
            if let Some(from) = renames.columns.get(&key).and_then(|old| {
                old.iter()
                    .find(|o| live_table.column(o).is_some() && table.column(o).is_none())
                    .cloned()
            }) {
                column_renames.push((from, column.name.clone()));
            }
        }
        for (from, to) in column_renames {
            rename_live_column(&mut live, &table.name, &from, &to);
            let column = live
                .table(&table.name)
                .and_then(|t| t.column(&to))
                .cloned()
                .unwrap_or_else(|| placeholder_column(&to));
            changes.push(Change::RenameColumn {
                table: table.name.clone(),
                from,
                column,
            });
        }
    }

    // Tables that go away, children before the parents they reference.
    let mut dropped: Vec<Table> = live
        .tables
        .iter()
        .filter(|t| !desired_names.contains(t.name.as_str()))
        .cloned()
        .collect();
    while !dropped.is_empty() {
        let position = dropped
            .iter()
            .position(|candidate| {
                !dropped.iter().any(|other| {
                    other.name != candidate.name
                        && other
                            .foreign_keys
                            .iter()
                            .any(|f| f.referenced_table == candidate.name)
                })
            })
            .unwrap_or(0);
        let table = dropped.remove(position);
        changes.push(Change::DropTable { table });
    }

    for table in &desired.tables {
        match live.table(&table.name) {
            None => {
                changes.push(Change::CreateTable {
                    table: table.clone(),
                });
                for index in &table.indexes {
                    changes.push(Change::CreateIndex {
                        table: table.name.clone(),
                        index: index.clone(),
                    });
                }
                for foreign_key in &table.foreign_keys {
                    changes.push(Change::AddForeignKey {
                        table: table.name.clone(),
                        foreign_key: foreign_key.clone(),
                    });
                }
            }
            Some(live_table) => diff_table(live_table, table, &live, desired, &mut changes)?,
        }
    }
    // Foreign keys of kept tables pointing at dropped tables.
    for live_table in live
        .tables
        .iter()
        .filter(|t| desired_names.contains(t.name.as_str()))
    {
        for foreign_key in &live_table.foreign_keys {
            if !desired_names.contains(foreign_key.referenced_table.as_str())
                && !changes.iter().any(|c| matches!(c, Change::DropForeignKey { table, foreign_key: f } if *table == live_table.name && f.name == foreign_key.name))
            {
                changes.push(Change::DropForeignKey {
                    table: live_table.name.clone(),
                    foreign_key: foreign_key.clone(),
                });
            }
        }
    }
    plan_capture(&live, desired, &mut changes);
    plan_audit(&live, desired, &mut changes);
    plan_tenant_isolation(&live, desired, &mut changes);
    let keys: Vec<u8> = changes
        .iter()
        .map(|c| phase(c, is_early_index_drop(c, &changes)))
        .collect();
    let mut keyed: Vec<(u8, Change)> = keys.into_iter().zip(changes).collect();
    keyed.sort_by_key(|(key, _)| *key);
    let changes: Vec<Change> = keyed.into_iter().map(|(_, c)| c).collect();
    let mut unique = Vec::with_capacity(changes.len());
    for change in changes {
        if !unique.contains(&change) {
            unique.push(change);
        }
    }
    Ok(unique)
}

/// Capture changes: on where `realtime` turns on, off where it turns off, installed again
/// where the row image changes (columns added, dropped, renamed or retyped, or the table
/// renamed) so the triggers name the columns the table has. `live` has renames applied.
fn plan_capture(live: &Schema, desired: &Schema, changes: &mut Vec<Change>) {
    for table in &desired.tables {
        let renamed_from = changes.iter().find_map(|c| match c {
            Change::RenameTable { from, table: t } if t.name == table.name => Some(from.clone()),
            _ => None,
        });
        let captured = live.table(&table.name).is_some_and(|t| t.realtime);
        // Any other change of the table may change its row image, and a SQLite rebuild
        // drops its triggers: install again (a few statements, safe to repeat).
        let reshaped = renamed_from.is_some() || changes.iter().any(|c| c.table() == table.name);
        if table.realtime && (!captured || reshaped) {
            changes.push(Change::EnableCapture {
                table: table.clone(),
                refresh: captured,
                renamed_from,
            });
        } else if !table.realtime && captured {
            changes.push(Change::DisableCapture {
                table: table.name.clone(),
                renamed_from,
            });
        }
    }
}

/// Audit capture: installed where `audit` turns on, removed where it turns off (records kept;
/// the plan deletes them with `allowDestructive`), installed again
/// where its settings change or the table's row changes shape. `live` has renames applied.
fn plan_audit(live: &Schema, desired: &Schema, changes: &mut Vec<Change>) {
    for table in &desired.tables {
        let renamed_from = changes.iter().find_map(|c| match c {
            Change::RenameTable { from, table: t } if t.name == table.name => Some(from.clone()),
            _ => None,
        });
        let installed = live.table(&table.name).and_then(|t| t.audit.as_ref());
        // Audit changes of other tables, capture changes included, do not reshape this one.
        let reshaped = renamed_from.is_some()
            || changes.iter().any(|c| {
                c.table() == table.name
                    && !matches!(
                        c,
                        Change::EnableCapture { .. } | Change::DisableCapture { .. }
                    )
            });
        match (&table.audit, installed) {
            (Some(wanted), Some(live_settings)) if wanted == live_settings && !reshaped => {}
            (Some(_), installed) => changes.push(Change::EnableAudit {
                table: table.clone(),
                refresh: installed.is_some(),
                renamed_from,
            }),
            (None, Some(_)) => changes.push(Change::DisableAudit {
                table: table.name.clone(),
                renamed_from,
                delete_records: false,
            }),
            (None, None) => {}
        }
    }
}

/// Tenant isolation in the database: installed where `tenantColumn` is declared (or names
/// another column than the installed policy), removed where it is gone. Both schemas are
/// canonical, so engines without row-level security plan nothing. Renames keep the policy
/// (PostgreSQL moves it with the table and column).
fn plan_tenant_isolation(live: &Schema, desired: &Schema, changes: &mut Vec<Change>) {
    for table in &desired.tables {
        let installed = live
            .table(&table.name)
            .and_then(|t| t.tenant_isolation.clone());
        match (&table.tenant_isolation, installed) {
            (Some(column), installed) if installed.as_ref() != Some(column) => {
                changes.push(Change::EnableTenantIsolation {
                    table: table.name.clone(),
                    column: column.clone(),
                    replaces: installed,
                });
            }
            (None, Some(_)) => changes.push(Change::DisableTenantIsolation {
                table: table.name.clone(),
            }),
            _ => {}
        }
    }
}

/// Undeclared tables the model cannot describe are left alone; declaring one is an error,
/// since FoxDB could neither compare nor rebuild it.
fn refuse_unmanaged_declarations(
    live: &Schema,
    desired: &Schema,
    renames: &Renames,
) -> Result<(), DiffError> {
    for table in &desired.tables {
        let previous = renames.tables.get(&table.name).into_iter().flatten();
        for name in std::iter::once(&table.name).chain(previous) {
            if let Some(unmanaged) = live.unmanaged_table(name) {
                return Err(DiffError::UnmanagedTableDeclared {
                    table: table.name.clone(),
                    live: unmanaged.name.clone(),
                    reason: unmanaged.reason.clone(),
                });
            }
        }
    }
    Ok(())
}

fn placeholder_column(name: &str) -> Column {
    Column {
        name: name.to_string(),
        ty: fox_crds::ColumnType::Text,
        nullable: true,
        default: None,
    }
}

fn rename_live_table(live: &mut Schema, from: &str, to: &str) {
    for table in &mut live.tables {
        if table.name == from {
            table.name = to.to_string();
        }
        for foreign_key in &mut table.foreign_keys {
            if foreign_key.referenced_table == from {
                foreign_key.referenced_table = to.to_string();
            }
        }
    }
}

fn rename_live_column(live: &mut Schema, table_name: &str, from: &str, to: &str) {
    let rename = |names: &mut Vec<String>| {
        for name in names.iter_mut() {
            if name == from {
                *name = to.to_string();
            }
        }
    };
    for table in &mut live.tables {
        if table.name == table_name {
            for column in &mut table.columns {
                if column.name == from {
                    column.name = to.to_string();
                }
            }
            rename(&mut table.primary_key);
            for index in &mut table.indexes {
                rename(&mut index.columns);
            }
            for foreign_key in &mut table.foreign_keys {
                rename(&mut foreign_key.columns);
            }
        }
        for foreign_key in &mut table.foreign_keys {
            if foreign_key.referenced_table == table_name {
                rename(&mut foreign_key.referenced_columns);
            }
        }
    }
}

fn diff_table(
    live_table: &Table,
    table: &Table,
    live: &Schema,
    desired: &Schema,
    changes: &mut Vec<Change>,
) -> Result<(), DiffError> {
    if live_table.primary_key != table.primary_key {
        return Err(DiffError::PrimaryKeyChange {
            table: table.name.clone(),
            from: live_table.primary_key.join(", "),
            to: table.primary_key.join(", "),
        });
    }
    let mut retyped: Vec<&str> = Vec::new();
    for column in &table.columns {
        match live_table.column(&column.name) {
            None => changes.push(Change::AddColumn {
                table: table.name.clone(),
                column: column.clone(),
            }),
            Some(current) if current != column => {
                if current.ty != column.ty {
                    retyped.push(&column.name);
                }
                changes.push(Change::AlterColumn {
                    table: table.name.clone(),
                    from: current.clone(),
                    to: column.clone(),
                });
            }
            Some(_) => {}
        }
    }
    for column in &live_table.columns {
        if table.column(&column.name).is_none() {
            changes.push(Change::DropColumn {
                table: table.name.clone(),
                column: column.clone(),
            });
        }
    }
    for index in &table.indexes {
        match live_table.index(&index.name) {
            Some(current) if current == index => {}
            Some(current) => {
                changes.push(Change::DropIndex {
                    table: table.name.clone(),
                    index: current.clone(),
                });
                changes.push(Change::CreateIndex {
                    table: table.name.clone(),
                    index: index.clone(),
                });
            }
            None => changes.push(Change::CreateIndex {
                table: table.name.clone(),
                index: index.clone(),
            }),
        }
    }
    for index in &live_table.indexes {
        if table.index(&index.name).is_none() {
            changes.push(Change::DropIndex {
                table: table.name.clone(),
                index: index.clone(),
            });
        }
    }
    let find = |keys: &[ForeignKey], name: &str| keys.iter().find(|f| f.name == name).cloned();
    for foreign_key in &table.foreign_keys {
        let current = find(&live_table.foreign_keys, &foreign_key.name);
        // A key over a column whose type changes is dropped and re-added around the change.
        let touches_retyped = foreign_key
            .columns
            .iter()
            .any(|c| retyped.contains(&c.as_str()));
        match current {
            Some(current) if current == *foreign_key && !touches_retyped => {}
            Some(current) => {
                changes.push(Change::DropForeignKey {
                    table: table.name.clone(),
                    foreign_key: current,
                });
                changes.push(Change::AddForeignKey {
                    table: table.name.clone(),
                    foreign_key: foreign_key.clone(),
                });
            }
            None => changes.push(Change::AddForeignKey {
                table: table.name.clone(),
                foreign_key: foreign_key.clone(),
            }),
        }
    }
    for foreign_key in &live_table.foreign_keys {
        if find(&table.foreign_keys, &foreign_key.name).is_none() {
            changes.push(Change::DropForeignKey {
                table: table.name.clone(),
                foreign_key: foreign_key.clone(),
            });
        }
    }
    // Keys in other tables that reference a column whose type changes.
    for other in &desired.tables {
        if other.name == table.name {
            continue;
        }
        for foreign_key in &other.foreign_keys {
            let references_retyped = foreign_key.referenced_table == table.name
                && foreign_key
                    .referenced_columns
                    .iter()
                    .any(|c| retyped.contains(&c.as_str()));
            let live_key = live
                .table(&other.name)
                .and_then(|t| find(&t.foreign_keys, &foreign_key.name));
            if references_retyped && let Some(live_key) = live_key {
                changes.push(Change::DropForeignKey {
                    table: other.name.clone(),
                    foreign_key: live_key,
                });
                changes.push(Change::AddForeignKey {
                    table: other.name.clone(),
                    foreign_key: foreign_key.clone(),
                });
            }
        }
    }
    Ok(())
}
