//! Seed rows: upserted by primary key, parents before children, only where the stored row
//! differs, so a second apply writes nothing.

use std::collections::{BTreeMap, BTreeSet};

use fox_crds::schema::FoxSchemaSpec;
use fox_crds::value_validation::parse_instant;
use fox_crds::{ColumnType, Scalar};
use foxdb::dialect::{Dialect, FloatStorage, dialect_for};
use foxdb::schema::{Column, Schema, Table};
use foxdb::{Backend, Connection, Value};
use serde::Serialize;

use super::seed_order::{SeedCycle, order_seed_rows};

/// One row to upsert.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedRow {
    /// Table name.
    pub table: String,
    /// Column → value, primary key included.
    pub values: Vec<(String, SeedValue)>,
}

/// A seed value as declared.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SeedValue {
    /// NULL.
    Null,
    /// Boolean.
    Bool(bool),
    /// Whole number.
    Int(i64),
    /// Number with a fraction.
    Float(f64),
    /// Text.
    Text(String),
}

impl SeedRow {
    /// The value given for `column`, if the row names it.
    pub fn value(&self, column: &str) -> Option<&SeedValue> {
        self.values
            .iter()
            .find(|(name, _)| name == column)
            .map(|(_, value)| value)
    }
}

impl SeedValue {
    /// The value as the engine stores it in `column`, so the comparison with the stored row
    /// matches and every engine keeps the same thing: a `real` rounded to single precision
    /// where the engine stores one, an instant converted to UTC (bound as a timestamp, which
    /// MariaDB takes and SQLite stores in one sortable form).
    fn stored_value(&self, dialect: &dyn Dialect, column: Option<&Column>) -> Value {
        let ty = column.map(|c| &c.ty);
        match (self, ty) {
            (Self::Null, _) => Value::Null,
            (Self::Bool(b), _) => Value::Bool(*b),
            (Self::Int(i), Some(ty @ ColumnType::Real)) => single_if_stored(dialect, ty, *i as f64),
            (Self::Int(i), _) => Value::Int(*i),
            (Self::Float(x), Some(ty @ ColumnType::Real)) => single_if_stored(dialect, ty, *x),
            (Self::Float(x), _) => Value::Float(*x),
            (Self::Text(s), Some(ColumnType::TimestampTz)) => match parse_instant(s) {
                Some(instant) => Value::TimestampTz(instant),
                None => Value::Text(s.clone()),
            },
            (Self::Text(s), _) => Value::Text(s.clone()),
        }
    }
}

/// `value` rounded to single precision where the engine keeps `ty` so.
fn single_if_stored(dialect: &dyn Dialect, ty: &ColumnType, value: f64) -> Value {
    match dialect.float_storage(ty) {
        FloatStorage::Single | FloatStorage::SingleShownWith(_) => {
            Value::Float(f64::from(value as f32))
        }
        FloatStorage::Double => Value::Float(value),
    }
}

impl From<&Scalar> for SeedValue {
    fn from(scalar: &Scalar) -> Self {
        match scalar {
            Scalar::Null => Self::Null,
            Scalar::Bool(b) => Self::Bool(*b),
            Scalar::Integer(i) => Self::Int(*i),
            Scalar::Float(x) => Self::Float(*x),
            Scalar::String(s) => Self::Text(s.clone()),
            // A json column's seed value given as a list or mapping: its JSON text.
            Scalar::Json(value) => Self::Text(value.to_string()),
        }
    }
}

/// The declared seed rows, every row after the seed rows it references (see
/// [`order_seed_rows`]).
///
/// # Errors
/// [`SeedCycle`] when rows reference each other only through NOT NULL columns.
pub fn seed_rows(spec: &FoxSchemaSpec, desired: &Schema) -> Result<Vec<SeedRow>, SeedCycle> {
    let order = dependency_order(desired);
    let mut rows: Vec<(usize, SeedRow)> = Vec::new();
    for seed in &spec.seed {
        let rank = order
            .iter()
            .position(|t| *t == seed.table)
            .unwrap_or(usize::MAX);
        for row in &seed.rows {
            rows.push((
                rank,
                SeedRow {
                    table: seed.table.clone(),
                    values: row
                        .iter()
                        .map(|(c, v)| (c.clone(), SeedValue::from(v)))
                        .collect(),
                },
            ));
        }
    }
    rows.sort_by_key(|(rank, _)| *rank);
    order_seed_rows(rows.into_iter().map(|(_, row)| row).collect(), desired)
}

/// Tables in an order where every table comes after those it references (cycles broken by
/// name).
pub fn dependency_order(schema: &Schema) -> Vec<String> {
    let parents_of: BTreeMap<&str, BTreeSet<&str>> = schema
        .tables
        .iter()
        .map(|t| {
            let parents = t
                .foreign_keys
                .iter()
                .map(|f| f.referenced_table.as_str())
                .filter(|p| *p != t.name)
                .collect();
            (t.name.as_str(), parents)
        })
        .collect();
    // Kahn's algorithm over the tables of the schema (a reference to a table outside it waits
    // for nothing): the first ready table by name goes next; when none is ready (a cycle), the
    // first remaining one by name.
    let mut waiting_for: BTreeMap<&str, usize> = BTreeMap::new();
    let mut children: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (table, parents) in &parents_of {
        let inside: Vec<&str> = parents
            .iter()
            .copied()
            .filter(|p| parents_of.contains_key(p))
            .collect();
        waiting_for.insert(table, inside.len());
        for parent in inside {
            children.entry(parent).or_default().push(table);
        }
    }
    let mut ready: BTreeSet<&str> = waiting_for
        .iter()
        .filter(|(_, count)| **count == 0)
        .map(|(table, _)| *table)
        .collect();
    let mut remaining: BTreeSet<&str> = parents_of.keys().copied().collect();
    let mut order = Vec::with_capacity(remaining.len());
    while let Some(&first) = remaining.first() {
        let next = ready.pop_first().unwrap_or(first);
        remaining.remove(next);
        order.push(next.to_string());
        for child in children.get(next).into_iter().flatten() {
            if !remaining.contains(child) {
                continue;
            }
            if let Some(count) = waiting_for.get_mut(child) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    ready.insert(child);
                }
            }
        }
    }
    order
}

/// A parameter placeholder with the cast PostgreSQL needs to take text for a typed column.
fn typed_placeholder(dialect: &dyn Dialect, table: &Table, column: &str, n: usize) -> String {
    let placeholder = dialect.placeholder(n);
    match table.column(column) {
        Some(c) if !matches!(c.ty, ColumnType::Text) => {
            dialect.text_parameter_for(placeholder, &dialect.native_type(&table.name, c))
        }
        _ => placeholder,
    }
}

/// Whether the stored row already equals the seed row.
///
/// # Errors
/// Database errors.
pub async fn row_is_current(
    connection: &mut Connection,
    table: &Table,
    row: &SeedRow,
) -> foxdb::Result<bool> {
    let dialect = dialect_for(connection.backend());
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    for (column, value) in &row.values {
        if *value == SeedValue::Null {
            conditions.push(format!("{} IS NULL", dialect.quote(column)));
        } else {
            params.push(value.stored_value(dialect, table.column(column)));
            conditions.push(format!(
                "{} = {}",
                dialect.quote(column),
                typed_placeholder(dialect, table, column, params.len())
            ));
        }
    }
    let sql = format!(
        "SELECT CAST(COUNT(*) AS {}) FROM {} WHERE {}",
        dialect.integer_cast_type(),
        dialect.quote(&table.name),
        conditions.join(" AND ")
    );
    Ok(connection.fetch_i64(&sql, &params).await? > 0)
}

/// The upsert statement for one row and its parameters: the dialect's upsert on the primary key
/// ([`Dialect::upsert_clause`]), which updates a stored row in place.
pub fn upsert_statement(backend: Backend, table: &Table, row: &SeedRow) -> (String, Vec<Value>) {
    let dialect = dialect_for(backend);
    let columns: Vec<String> = row.values.iter().map(|(c, _)| dialect.quote(c)).collect();
    let placeholders: Vec<String> = row
        .values
        .iter()
        .enumerate()
        .map(|(i, (c, _))| typed_placeholder(dialect, table, c, i + 1))
        .collect();
    let updated: Vec<String> = row
        .values
        .iter()
        .map(|(c, _)| c.clone())
        .filter(|c| !table.primary_key.contains(c))
        .collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        dialect.quote(&table.name),
        columns.join(", "),
        placeholders.join(", ")
    );
    sql.push_str(&dialect.upsert_clause(&table.primary_key, &updated));
    let params = row
        .values
        .iter()
        .map(|(c, v)| v.stored_value(dialect, table.column(c)))
        .collect();
    (sql, params)
}

/// After explicit ids were written into a PostgreSQL identity column, moves its sequence past
/// them so later inserts do not collide.
pub fn sequence_fix(backend: Backend, table: &Table) -> Option<String> {
    let [key] = table.primary_key.as_slice() else {
        return None;
    };
    if !table.column(key)?.ty.is_auto_increment() {
        return None;
    }
    dialect_for(backend).reset_generated_key(&table.name, key)
}

#[cfg(test)]
mod dependency_order_tests {
    use fox_crds::schema::ReferentialAction;
    use foxdb::schema::{ForeignKey, Schema, Table};

    use super::dependency_order;

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

    fn order(tables: Vec<Table>) -> Vec<String> {
        dependency_order(&Schema {
            tables,
            unmanaged: Vec::new(),
        })
    }

    #[test]
    fn parents_come_before_children_and_ties_go_by_name() {
        let tables = vec![table("a", &[]), table("b", &["c"]), table("c", &["a"])];
        assert_eq!(order(tables), ["a", "c", "b"]);
    }

    #[test]
    fn a_cycle_is_broken_at_the_first_name_left() {
        let tables = vec![table("x", &["y"]), table("y", &["x"]), table("z", &["x"])];
        assert_eq!(order(tables), ["x", "y", "z"]);
    }

    #[test]
    fn self_references_and_tables_outside_the_schema_wait_for_nothing() {
        let tables = vec![table("u", &["missing"]), table("t", &["t"])];
        assert_eq!(order(tables), ["t", "u"]);
    }

    #[test]
    fn a_long_chain_declared_children_first_comes_out_parents_first() {
        // table_0000 references table_0001, ... : every table waits for the next one.
        let count = 2_000;
        let tables: Vec<Table> = (0..count)
            .map(|i| {
                let parent = format!("table_{:04}", i + 1);
                let parents: Vec<&str> = if i + 1 < count {
                    vec![parent.as_str()]
                } else {
                    Vec::new()
                };
                table(&format!("table_{i:04}"), &parents)
            })
            .collect();
        let expected: Vec<String> = (0..count).rev().map(|i| format!("table_{i:04}")).collect();
        assert_eq!(order(tables), expected);
    }
}
