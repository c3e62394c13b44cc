//! Changes → SQL statements for one engine. SQLite column and key changes become the
//! documented table rebuild (create new, copy, drop old, rename, re-index), checked with
//! `PRAGMA foreign_key_check` before commit.

use std::collections::{BTreeSet, HashMap};

use foxdb::Backend;
use foxdb::dialect::{Dialect, dialect_for};
use foxdb::schema::{ColumnDefault, ForeignKey, Index, Schema, Table};
use serde::Serialize;

use super::change::Change;

/// Prefix of the temporary table a SQLite rebuild copies into.
const REBUILD_PREFIX: &str = "_fox_new_";

/// One statement of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// The SQL.
    pub sql: String,
    /// Index of the change (in the plan's change list) it implements.
    pub change: usize,
    /// Runs before the plan's transaction: PostgreSQL cannot use an enum label added in the
    /// same transaction, so new labels are committed first (`ADD VALUE IF NOT EXISTS`, safe to
    /// repeat).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub before_transaction: bool,
}

/// Renders `changes` for `backend`. `desired` supplies full table definitions for SQLite
/// rebuilds.
pub fn render_changes(backend: Backend, changes: &[Change], desired: &Schema) -> Vec<Statement> {
    let dialect = dialect_for(backend);
    let rebuilt = if dialect.rebuilds_altered_tables() {
        tables_to_rebuild(changes)
    } else {
        BTreeSet::new()
    };
    let created: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    let mut inline = InlineKeys::of(dialect, changes);
    let mut statements = Vec::new();
    let mut rebuilds_done = false;
    for (position, change) in changes.iter().enumerate() {
        let push = |statements: &mut Vec<Statement>, sql: String| {
            statements.push(Statement {
                sql,
                change: position,
                before_transaction: false,
            })
        };
        // SQLite rebuilds (which drop the old table and its triggers) run before capture is
        // installed.
        let is_index_phase = matches!(
            change,
            Change::CreateIndex { .. }
                | Change::AddForeignKey { .. }
                | Change::EnableCapture { .. }
                | Change::DisableCapture { .. }
                | Change::EnableAudit { .. }
                | Change::DisableAudit { .. }
        );
        if is_index_phase && !rebuilds_done {
            rebuilds_done = true;
            for table in &rebuilt {
                if let Some(definition) = desired.table(table) {
                    let first = changes
                        .iter()
                        .position(|c| c.table() == table)
                        .unwrap_or(position);
                    for sql in rebuild_table(dialect, definition, changes) {
                        statements.push(Statement {
                            sql,
                            change: first,
                            before_transaction: false,
                        });
                    }
                }
            }
        }
        if rebuilt.contains(change.table()) && is_rebuild_member(change) {
            continue;
        }
        match change {
            Change::CreateTable { table } if !inline.tables.is_empty() => {
                // All new tables at the first one's turn, parents first, keys inline.
                if inline.emitted {
                    continue;
                }
                inline.emitted = true;
                for &created in &inline.order {
                    let Change::CreateTable { table } = &changes[created] else {
                        continue;
                    };
                    let (indexes, foreign_keys) = &inline.tables[table.name.as_str()];
                    for sql in dialect.create_table_with_keys(table, indexes, foreign_keys) {
                        statements.push(Statement {
                            sql,
                            change: created,
                            before_transaction: false,
                        });
                    }
                }
            }
            Change::CreateTable { table } => {
                for sql in dialect.create_table(table) {
                    push(&mut statements, sql);
                }
            }
            Change::DropTable { table } => {
                for sql in dialect.drop_table(table) {
                    push(&mut statements, sql);
                }
            }
            Change::RenameTable { from, table } => {
                for sql in dialect.rename_table(from, table) {
                    push(&mut statements, sql);
                }
            }
            Change::AddColumn { table, column } => {
                for sql in dialect.add_column(table, column) {
                    push(&mut statements, sql);
                }
            }
            Change::DropColumn { table, column } => {
                for sql in dialect.drop_column(table, column) {
                    push(&mut statements, sql);
                }
            }
            Change::RenameColumn {
                table,
                from,
                column,
            } => {
                for sql in dialect.rename_column(table, from, column) {
                    push(&mut statements, sql);
                }
            }
            Change::AlterColumn { table, from, to } => {
                if from.nullable
                    && !to.nullable
                    && let Some(default) = &to.default
                {
                    // Change everything but nullability, fill the NULLs with the (new-typed)
                    // default, then forbid NULL.
                    let still_nullable = foxdb::schema::Column {
                        nullable: true,
                        ..to.clone()
                    };
                    for sql in dialect
                        .alter_column(table, from, &still_nullable)
                        .unwrap_or_default()
                    {
                        push(&mut statements, sql);
                    }
                    push(
                        &mut statements,
                        format!(
                            "UPDATE {} SET {} = {} WHERE {} IS NULL",
                            dialect.quote(table),
                            dialect.quote(&to.name),
                            dialect.default_expression(&to.ty, default),
                            dialect.quote(&to.name)
                        ),
                    );
                    for sql in dialect
                        .alter_column(table, &still_nullable, to)
                        .unwrap_or_default()
                    {
                        push(&mut statements, sql);
                    }
                } else {
                    for sql in dialect.alter_column(table, from, to).unwrap_or_default() {
                        push(&mut statements, sql);
                    }
                }
            }
            Change::CreateIndex { table, index } => {
                if !inline.has_index(table, &index.name) {
                    push(&mut statements, dialect.create_index(table, index))
                }
            }
            Change::DropIndex { table, index } if index.constraint => {
                if let Some(sql) = dialect.drop_unique_constraint(table, &index.name) {
                    push(&mut statements, sql);
                }
            }
            Change::DropIndex { table, index } => {
                push(&mut statements, dialect.drop_index(table, &index.name))
            }
            Change::AddForeignKey { table, foreign_key } => {
                // SQLite declares keys inline in CREATE TABLE.
                if dialect.foreign_keys_inline() && created.contains(table.as_str())
                    || inline.has_foreign_key(table, &foreign_key.name)
                {
                    continue;
                }
                if let Some(sql) = dialect.add_foreign_key(table, foreign_key) {
                    push(&mut statements, sql);
                }
            }
            Change::DropForeignKey { table, foreign_key } => {
                if let Some(sql) = dialect.drop_foreign_key(table, &foreign_key.name) {
                    push(&mut statements, sql);
                }
            }
            Change::EnableCapture {
                table,
                renamed_from,
                ..
            } => {
                let capture = dialect.change_capture();
                for sql in renamed_from
                    .iter()
                    .flat_map(|from| capture.remove(from))
                    .chain(capture.install(table))
                {
                    push(&mut statements, sql);
                }
            }
            Change::DisableCapture {
                table,
                renamed_from,
            } => {
                let capture = dialect.change_capture();
                for sql in renamed_from
                    .iter()
                    .flat_map(|from| capture.remove(from))
                    .chain(capture.remove(table))
                {
                    push(&mut statements, sql);
                }
            }
            Change::EnableAudit {
                table,
                renamed_from,
                ..
            } => {
                let audit = dialect.audit_capture();
                let settings = table.audit.clone().unwrap_or_default();
                for sql in renamed_from
                    .iter()
                    .flat_map(|from| audit.remove(from))
                    .chain(audit.install(table, &settings))
                {
                    push(&mut statements, sql);
                }
            }
            Change::DisableAudit {
                table,
                renamed_from,
                delete_records,
            } => {
                let audit = dialect.audit_capture();
                let mut sqls: Vec<String> = renamed_from
                    .iter()
                    .flat_map(|from| audit.remove(from))
                    .chain(audit.remove(table))
                    .collect();
                if *delete_records {
                    sqls.extend(audit.delete_log(table));
                }
                for sql in sqls {
                    push(&mut statements, sql);
                }
            }
            Change::EnableTenantIsolation {
                table,
                column,
                replaces,
            } => {
                // Planned only where the dialect isolates (the canonical schemas say so).
                let replaced = replaces
                    .as_ref()
                    .and_then(|_| dialect.drop_tenant_isolation(table))
                    .into_iter()
                    .flatten();
                for sql in replaced.chain(
                    dialect
                        .tenant_isolation(table, column)
                        .into_iter()
                        .flatten(),
                ) {
                    push(&mut statements, sql);
                }
            }
            Change::DisableTenantIsolation { table } => {
                for sql in dialect.drop_tenant_isolation(table).into_iter().flatten() {
                    push(&mut statements, sql);
                }
            }
        }
    }
    if !rebuilds_done {
        let last = changes.len().saturating_sub(1);
        for table in &rebuilt {
            if let Some(definition) = desired.table(table) {
                for sql in rebuild_table(dialect, definition, changes) {
                    statements.push(Statement {
                        sql,
                        change: last,
                        before_transaction: false,
                    });
                }
            }
        }
    }
    for statement in &mut statements {
        statement.before_transaction = dialect.commits_before_use(&statement.sql);
    }
    // Run order: what must be committed first, first (a stable sort: the rest keeps its order).
    statements.sort_by_key(|s| !s.before_transaction);
    statements
}

/// The new indexes and foreign keys of each table the plan creates that go inside its
/// `CREATE TABLE` ([`Dialect::keys_in_create_table`]): all its new indexes, and the foreign
/// keys referencing itself or another new table, which is then created before it (a key in a
/// cycle of new tables, or to a table that already exists and may lack its key or index until
/// later in the plan, stays a separate statement after the indexes).
#[derive(Default)]
struct InlineKeys<'a> {
    tables: HashMap<&'a str, TableKeys<'a>>,
    /// Positions of the `CreateTable` changes, parents first.
    order: Vec<usize>,
    /// Whether the new tables were rendered.
    emitted: bool,
}

/// A created table's inlined indexes and foreign keys.
type TableKeys<'a> = (Vec<&'a Index>, Vec<&'a ForeignKey>);

impl<'a> InlineKeys<'a> {
    fn of(dialect: &dyn Dialect, changes: &'a [Change]) -> Self {
        let mut inline = Self::default();
        if !dialect.keys_in_create_table() {
            return inline;
        }
        // Position of each new table's CreateTable change.
        let mut position: HashMap<&str, usize> = HashMap::new();
        for (at, change) in changes.iter().enumerate() {
            if let Change::CreateTable { table } = change {
                position.insert(table.name.as_str(), at);
                inline
                    .tables
                    .insert(table.name.as_str(), (Vec::new(), Vec::new()));
            }
        }
        // Parents first (Kahn's algorithm, ties in plan order); tables left in a cycle follow
        // in plan order.
        let mut parents: HashMap<usize, usize> = HashMap::new();
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        for change in changes {
            if let Change::AddForeignKey { table, foreign_key } = change
                && let (Some(&child), Some(&parent)) = (
                    position.get(table.as_str()),
                    position.get(foreign_key.referenced_table.as_str()),
                )
                && child != parent
            {
                *parents.entry(child).or_default() += 1;
                children.entry(parent).or_default().push(child);
            }
        }
        let mut ready: BTreeSet<usize> = position
            .values()
            .copied()
            .filter(|at| !parents.contains_key(at))
            .collect();
        while let Some(at) = ready.pop_first() {
            inline.order.push(at);
            for child in children.get(&at).into_iter().flatten() {
                if let Some(waiting) = parents.get_mut(child) {
                    *waiting -= 1;
                    if *waiting == 0 {
                        ready.insert(*child);
                    }
                }
            }
        }
        let mut cyclic: Vec<usize> = parents
            .iter()
            .filter(|(_, waiting)| **waiting > 0)
            .map(|(at, _)| *at)
            .collect();
        cyclic.sort_unstable();
        inline.order.extend(cyclic);
        let rank: HashMap<usize, usize> = inline
            .order
            .iter()
            .enumerate()
            .map(|(rank, at)| (*at, rank))
            .collect();
        for change in changes {
            match change {
                Change::CreateIndex { table, index } => {
                    if let Some((indexes, _)) = inline.tables.get_mut(table.as_str()) {
                        indexes.push(index);
                    }
                }
                Change::AddForeignKey { table, foreign_key } => {
                    let rank_of = |name: &str| position.get(name).map(|at| rank[at]);
                    let earlier = match (
                        rank_of(foreign_key.referenced_table.as_str()),
                        rank_of(table.as_str()),
                    ) {
                        (Some(parent), Some(child)) => parent <= child,
                        _ => false,
                    };
                    if earlier
                        && let Some((_, foreign_keys)) = inline.tables.get_mut(table.as_str())
                    {
                        foreign_keys.push(foreign_key);
                    }
                }
                _ => {}
            }
        }
        inline
    }

    fn has_index(&self, table: &str, name: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|(indexes, _)| indexes.iter().any(|i| i.name == name))
    }

    fn has_foreign_key(&self, table: &str, name: &str) -> bool {
        self.tables
            .get(table)
            .is_some_and(|(_, keys)| keys.iter().any(|k| k.name == name))
    }
}

/// Changes a SQLite rebuild carries out for its table.
fn is_rebuild_member(change: &Change) -> bool {
    matches!(
        change,
        Change::AddColumn { .. }
            | Change::DropColumn { .. }
            | Change::AlterColumn { .. }
            | Change::CreateIndex { .. }
            | Change::DropIndex { .. }
            | Change::AddForeignKey { .. }
            | Change::DropForeignKey { .. }
    )
}

/// Existing SQLite tables whose changes `ALTER TABLE` cannot make.
fn tables_to_rebuild(changes: &[Change]) -> BTreeSet<String> {
    let created_or_dropped: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable { table } | Change::DropTable { table } => {
                Some(table.name.as_str())
            }
            _ => None,
        })
        .collect();
    changes
        .iter()
        .filter(|c| !created_or_dropped.contains(c.table()))
        .filter(|c| match c {
            Change::AlterColumn { .. }
            | Change::DropColumn { .. }
            | Change::AddForeignKey { .. }
            | Change::DropForeignKey { .. } => true,
            Change::DropIndex { index, .. } => index.constraint,
            Change::AddColumn { column, .. } => {
                (!column.nullable && column.default.is_none())
                    || matches!(
                        column.default,
                        Some(
                            ColumnDefault::Now
                                | ColumnDefault::CurrentDate
                                | ColumnDefault::CurrentTime
                                | ColumnDefault::Expression(_)
                        )
                    )
            }
            _ => false,
        })
        .map(|c| c.table().to_string())
        .collect()
}

/// The SQLite rebuild of `table` to its declared definition, keeping the rows of every column
/// that existed before.
fn rebuild_table(dialect: &dyn Dialect, table: &Table, changes: &[Change]) -> Vec<String> {
    let added: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| match c {
            Change::AddColumn { table: t, column } if *t == table.name => {
                Some(column.name.as_str())
            }
            _ => None,
        })
        .collect();
    let temporary = format!("{REBUILD_PREFIX}{}", table.name);
    let mut definition = table.clone();
    definition.name.clone_from(&temporary);
    let mut statements = dialect.create_table(&definition);
    let copied: Vec<_> = table
        .columns
        .iter()
        .filter(|c| !added.contains(c.name.as_str()))
        .collect();
    if !copied.is_empty() {
        let targets: Vec<String> = copied.iter().map(|c| dialect.quote(&c.name)).collect();
        let sources: Vec<String> = copied
            .iter()
            .map(|c| match (&c.default, c.nullable) {
                // A column becoming NOT NULL takes its default where it held NULL.
                (Some(default), false) => format!(
                    "COALESCE({}, {})",
                    dialect.quote(&c.name),
                    dialect.default_expression(&c.ty, default)
                ),
                _ => dialect.quote(&c.name),
            })
            .collect();
        statements.push(format!(
            "INSERT INTO {} ({}) SELECT {} FROM {}",
            dialect.quote(&temporary),
            targets.join(", "),
            sources.join(", "),
            dialect.quote(&table.name)
        ));
    }
    let autoincrement = matches!(table.primary_key.as_slice(), [key] if table.column(key).is_some_and(|c| c.ty.is_auto_increment()));
    let sequence_name = dialect.string_literal(&table.name);
    if autoincrement {
        // Keep the AUTOINCREMENT high-water mark, so ids of deleted rows are never reused.
        statements.push(
            "CREATE TEMP TABLE IF NOT EXISTS \"_fox_sequence\" (\"name\" TEXT, \"seq\" INTEGER)"
                .into(),
        );
        statements.push(format!(
            "INSERT INTO temp.\"_fox_sequence\" SELECT name, seq FROM sqlite_sequence WHERE name = {sequence_name}"
        ));
    }
    statements.push(format!("DROP TABLE {}", dialect.quote(&table.name)));
    // Keep other tables' references to this name as they are (the new table takes the name).
    statements.push("PRAGMA legacy_alter_table = ON".into());
    statements.push(format!(
        "ALTER TABLE {} RENAME TO {}",
        dialect.quote(&temporary),
        dialect.quote(&table.name)
    ));
    statements.push("PRAGMA legacy_alter_table = OFF".into());
    if autoincrement {
        statements.push(format!(
            "INSERT INTO temp.\"_fox_sequence\" SELECT name, seq FROM sqlite_sequence WHERE name = {sequence_name}"
        ));
        statements.push(format!(
            "DELETE FROM sqlite_sequence WHERE name = {sequence_name}"
        ));
        statements.push(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {sequence_name}, MAX(seq) FROM temp.\"_fox_sequence\" WHERE name = {sequence_name} HAVING COUNT(*) > 0"
        ));
        statements.push(format!(
            "DELETE FROM temp.\"_fox_sequence\" WHERE name = {sequence_name}"
        ));
    }
    for index in &table.indexes {
        statements.push(dialect.create_index(&table.name, index));
    }
    statements
}
