//! Desired vs live schema → an ordered list of typed changes.
//!
//! Both schemas must be in canonical form for the engine (`foxdb::introspect::canonical_schema`)
//! so that only real differences show up. Renames happen only through `previousNames`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use fox_crds::schema::FoxSchemaSpec;
use foxdb::schema::{Column, ForeignKey, Schema, Table, UnmanagedTable};

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

/// What decides whether an index drop must run early, gathered once for the whole plan.
#[derive(Default)]
struct EarlyIndexDrops<'a> {
    /// (table, index name) of every index the plan creates.
    created: HashSet<(&'a str, &'a str)>,
    /// Table → the columns the plan drops from it.
    dropped_columns: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> EarlyIndexDrops<'a> {
    fn of(changes: &'a [Change]) -> Self {
        let mut found = Self::default();
        for change in changes {
            match change {
                Change::CreateIndex { table, index } => {
                    found.created.insert((table, &index.name));
                }
                Change::DropColumn { table, column } => {
                    found
                        .dropped_columns
                        .entry(table)
                        .or_default()
                        .push(&column.name);
                }
                _ => {}
            }
        }
        found
    }

    fn is_early(&self, change: &Change) -> bool {
        let Change::DropIndex { table, index } = change else {
            return false;
        };
        self.created
            .contains(&(table.as_str(), index.name.as_str()))
            || self
                .dropped_columns
                .get(table.as_str())
                .is_some_and(|columns| columns.iter().any(|c| index.columns.iter().any(|i| i == c)))
    }
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
    // Table names stay unique through renames (a table is renamed only to a name not in use).
    let mut live_positions: HashMap<String, usize> = live
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    for table in &desired.tables {
        if live_positions.contains_key(&table.name) {
            continue;
        }
        let from = renames.tables.get(&table.name).and_then(|old| {
            old.iter()
                .find(|o| live_positions.contains_key(*o) && !desired_names.contains(o.as_str()))
                .cloned()
        });
        if let Some(from) = from {
            rename_live_table(&mut live, &from, &table.name);
            let Some(position) = live_positions.remove(&from) else {
                continue;
            };
            live_positions.insert(table.name.clone(), position);
            changes.push(Change::RenameTable {
                from,
                table: live.tables[position].clone(),
            });
        }
    }
    for table in &desired.tables {
        let Some(&position) = live_positions.get(&table.name) else {
            continue;
        };
        let live_table = &live.tables[position];
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
            let column = live.tables[position]
                .column(&to)
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
    let dropped: Vec<&Table> = live
        .tables
        .iter()
        .filter(|t| !desired_names.contains(t.name.as_str()))
        .collect();
    for table in children_first(&dropped) {
        changes.push(Change::DropTable {
            table: table.clone(),
        });
    }

    let live_tables: HashMap<&str, &Table> =
        live.tables.iter().map(|t| (t.name.as_str(), t)).collect();
    for table in &desired.tables {
        match live_tables.get(table.name.as_str()).copied() {
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
            Some(live_table) => diff_table(live_table, table, &live_tables, desired, &mut changes)?,
        }
    }
    // Foreign keys of kept tables pointing at dropped tables.
    let mut foreign_keys_dropped: HashSet<(String, String)> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropForeignKey { table, foreign_key } => {
                Some((table.clone(), foreign_key.name.clone()))
            }
            _ => None,
        })
        .collect();
    for live_table in live
        .tables
        .iter()
        .filter(|t| desired_names.contains(t.name.as_str()))
    {
        for foreign_key in &live_table.foreign_keys {
            if !desired_names.contains(foreign_key.referenced_table.as_str())
                && foreign_keys_dropped.insert((live_table.name.clone(), foreign_key.name.clone()))
            {
                changes.push(Change::DropForeignKey {
                    table: live_table.name.clone(),
                    foreign_key: foreign_key.clone(),
                });
            }
        }
    }
    let reshaped = Reshaped::of(&changes);
    plan_capture(&live_tables, desired, &reshaped, &mut changes);
    plan_audit(&live_tables, desired, &reshaped, &mut changes);
    plan_tenant_isolation(&live_tables, desired, &mut changes);
    let early = EarlyIndexDrops::of(&changes);
    let keys: Vec<u8> = changes
        .iter()
        .map(|c| phase(c, early.is_early(c)))
        .collect();
    let mut keyed: Vec<(u8, Change)> = keys.into_iter().zip(changes).collect();
    keyed.sort_by_key(|(key, _)| *key);
    Ok(without_repeats(keyed.into_iter().map(|(_, c)| c)))
}

/// The changes in their order, each repeat of an earlier one left out (a key dropped and
/// added again is planned from both of its tables when a column it uses is retyped). Equal
/// changes concern the same table, so each is compared with that table's changes only.
fn without_repeats(changes: impl Iterator<Item = Change>) -> Vec<Change> {
    let mut unique: Vec<Change> = Vec::new();
    let mut per_table: HashMap<String, Vec<usize>> = HashMap::new();
    for change in changes {
        let earlier = per_table.entry(change.table().to_string()).or_default();
        if earlier.iter().any(|&i| unique[i] == change) {
            continue;
        }
        earlier.push(unique.len());
        unique.push(change);
    }
    unique
}

/// Orders tables to drop so that a table goes before the tables it references (the first
/// listed of those ready goes first; in a cycle of references, the first listed left).
fn children_first<'a>(dropped: &[&'a Table]) -> Vec<&'a Table> {
    let position: HashMap<&str, usize> = dropped
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.as_str(), i))
        .collect();
    // How many keys of other tables still to drop reference each table.
    let mut referenced_by = vec![0usize; dropped.len()];
    for table in dropped {
        for foreign_key in &table.foreign_keys {
            if let Some(&parent) = position.get(foreign_key.referenced_table.as_str())
                && foreign_key.referenced_table != table.name
            {
                referenced_by[parent] += 1;
            }
        }
    }
    let mut ready: BTreeSet<usize> = (0..dropped.len())
        .filter(|&i| referenced_by[i] == 0)
        .collect();
    let mut remaining: BTreeSet<usize> = (0..dropped.len()).collect();
    let mut ordered = Vec::with_capacity(dropped.len());
    while let Some(&first) = remaining.first() {
        let next = ready.pop_first().unwrap_or(first);
        remaining.remove(&next);
        let table = dropped[next];
        for foreign_key in &table.foreign_keys {
            if let Some(&parent) = position.get(foreign_key.referenced_table.as_str())
                && foreign_key.referenced_table != table.name
                && remaining.contains(&parent)
            {
                referenced_by[parent] -= 1;
                if referenced_by[parent] == 0 {
                    ready.insert(parent);
                }
            }
        }
        ordered.push(table);
    }
    ordered
}

/// Which tables a plan renames (new name → former name) or otherwise changes, before capture,
/// audit and tenant isolation are planned.
#[derive(Debug, Default)]
struct Reshaped {
    renamed_from: HashMap<String, String>,
    changed: HashSet<String>,
}

impl Reshaped {
    fn of(changes: &[Change]) -> Self {
        let mut reshaped = Self::default();
        for change in changes {
            if let Change::RenameTable { from, table } = change {
                reshaped
                    .renamed_from
                    .entry(table.name.clone())
                    .or_insert_with(|| from.clone());
            }
            reshaped.changed.insert(change.table().to_string());
        }
        reshaped
    }

    fn renamed_from(&self, table: &str) -> Option<String> {
        self.renamed_from.get(table).cloned()
    }

    fn is_changed(&self, table: &str) -> bool {
        self.changed.contains(table)
    }
}

/// Capture changes: on where `realtime` turns on, off where it turns off, installed again
/// where the row image changes (columns added, dropped, renamed or retyped, or the table
/// renamed) so the triggers name the columns the table has. `live` has renames applied.
fn plan_capture(
    live: &HashMap<&str, &Table>,
    desired: &Schema,
    reshaped: &Reshaped,
    changes: &mut Vec<Change>,
) {
    for table in &desired.tables {
        let renamed_from = reshaped.renamed_from(&table.name);
        let captured = live.get(table.name.as_str()).is_some_and(|t| t.realtime);
        // Any other change of the table may change its row image, and a SQLite rebuild
        // drops its triggers: install again (a few statements, safe to repeat).
        let reshaped = renamed_from.is_some() || reshaped.is_changed(&table.name);
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
fn plan_audit(
    live: &HashMap<&str, &Table>,
    desired: &Schema,
    reshaped: &Reshaped,
    changes: &mut Vec<Change>,
) {
    for table in &desired.tables {
        let renamed_from = reshaped.renamed_from(&table.name);
        let installed = live.get(table.name.as_str()).and_then(|t| t.audit.as_ref());
        // Audit changes of other tables, capture changes included, do not reshape this one
        // (`reshaped` was taken before capture was planned).
        let reshaped = renamed_from.is_some() || reshaped.is_changed(&table.name);
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
fn plan_tenant_isolation(
    live: &HashMap<&str, &Table>,
    desired: &Schema,
    changes: &mut Vec<Change>,
) {
    for table in &desired.tables {
        let installed = live
            .get(table.name.as_str())
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
    let unmanaged: HashMap<&str, &UnmanagedTable> = live
        .unmanaged
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    for table in &desired.tables {
        let previous = renames.tables.get(&table.name).into_iter().flatten();
        for name in std::iter::once(&table.name).chain(previous) {
            if let Some(unmanaged) = unmanaged.get(name.as_str()) {
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
    live: &HashMap<&str, &Table>,
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
    if retyped.is_empty() {
        return Ok(());
    }
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
            if !references_retyped {
                continue;
            }
            let live_key = live
                .get(other.name.as_str())
                .and_then(|t| find(&t.foreign_keys, &foreign_key.name));
            if let Some(live_key) = live_key {
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

#[cfg(test)]
mod ordering_tests {
    use fox_crds::schema::ReferentialAction;
    use foxdb::schema::{ForeignKey, Table};

    use super::{Change, children_first, without_repeats};

    fn table(name: &str, parents: &[&str]) -> Table {
        Table {
            name: name.into(),
            foreign_keys: parents
                .iter()
                .map(|parent| ForeignKey {
                    name: format!("{name}_{parent}_fkey"),
                    columns: vec![format!("{parent}_id")],
                    referenced_table: (*parent).into(),
                    referenced_columns: vec!["id".into()],
                    on_delete: ReferentialAction::NoAction,
                    on_update: ReferentialAction::NoAction,
                })
                .collect(),
            ..Table::default()
        }
    }

    fn names(tables: &[&Table]) -> Vec<String> {
        tables.iter().map(|t| t.name.clone()).collect()
    }

    #[test]
    fn dropped_tables_go_before_the_tables_they_reference() {
        let (users, posts, comments) = (
            table("users", &[]),
            table("posts", &["users"]),
            table("comments", &["posts", "users"]),
        );
        let order = children_first(&[&users, &posts, &comments]);
        assert_eq!(names(&order), ["comments", "posts", "users"]);
    }

    #[test]
    fn a_cycle_of_dropped_tables_starts_at_the_first_listed() {
        let (a, b, c) = (table("a", &["b"]), table("b", &["a"]), table("c", &["c"]));
        let order = children_first(&[&a, &b, &c]);
        // `c` only references itself: ready first; then the cycle from its first table.
        assert_eq!(names(&order), ["c", "a", "b"]);
    }

    #[test]
    fn repeated_changes_are_planned_once_in_first_place() {
        let drop = |table: &str| Change::DropTable {
            table: self::table(table, &[]),
        };
        let changes = vec![drop("a"), drop("b"), drop("a"), drop("c"), drop("b")];
        let unique = without_repeats(changes.into_iter());
        assert_eq!(unique, vec![drop("a"), drop("b"), drop("c")]);
    }
}
