//! `INSERT`, upsert, save and remove of model rows (`UPDATE`/`DELETE` by filter: [`super::filtered_write`]).

use std::convert::Infallible;

use super::condition::key_condition;
use super::filtered_write::{delete, update};
use super::rendered_statements::{Conflict, InsertShape, StatementShape, StatementText, text_of};
use super::select::select;
use super::writer::{EnumColumns, SqlWriter};
use crate::Backend;
use crate::connection::Value;
use crate::dialect::dialect_for;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::model::{Changes, Hooks as _, Model};
use crate::transaction::Transaction;

/// `INSERT` of `rows` (generated columns left to the database), as one statement.
pub fn insert_statement<M: Model>(backend: Backend, rows: &[&M]) -> (String, Vec<Value>) {
    insert_writer(backend, None, rows).finish()
}

/// [`insert_statement`] as a writer (into the table in `schema`, when given), for clauses to
/// follow.
pub(super) fn insert_writer<M: Model>(
    backend: Backend,
    schema: Option<&str>,
    rows: &[&M],
) -> SqlWriter {
    let columns: Vec<&str> = M::COLUMNS
        .iter()
        .copied()
        .filter(|c| !M::GENERATED.contains(c))
        .collect();
    let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<M>());
    writer.set_schema(schema);
    writer.push("INSERT INTO ");
    writer.push_table(M::TABLE);
    writer.push(" (");
    writer.push_identifiers(&columns);
    writer.push(") VALUES ");
    for (r, row) in rows.iter().enumerate() {
        if r > 0 {
            writer.push(", ");
        }
        writer.push("(");
        let values = row.values();
        let mut first = true;
        for (column, value) in values {
            if M::GENERATED.contains(&column) {
                continue;
            }
            if !first {
                writer.push(", ");
            }
            first = false;
            writer.push_written_value(column, value);
        }
        writer.push(")");
    }
    writer
}

/// The text of an `INSERT` of `rows` (into the table in `schema`, when given; with the upsert
/// clause of [`upsert_statement`] when `upsert`, for one row; ending in `RETURNING` every
/// column when `returning`) and its values in the order the text binds them, the text kept
/// per shape ([`shaped_insert`]).
pub(super) fn insert_text<M: Model>(
    backend: Backend,
    schema: Option<&str>,
    rows: &[&M],
    upsert: bool,
    returning: bool,
) -> (StatementText, Vec<Value>) {
    let (left_out, conflict) = match rows {
        [model] if upsert => (unset_generated(*model), Conflict::PrimaryKey),
        _ => (left_out_of::<M>(|_| true), Conflict::None),
    };
    let shape = InsertShape {
        left_out,
        rows: rows.len(),
        conflict,
        returning,
    };
    let rendered = shaped_insert(backend, schema, rows, shape, || {
        let mut writer = match rows {
            [model] if upsert => upsert_writer::<M>(backend, schema, model),
            _ => insert_writer::<M>(backend, schema, rows),
        };
        if returning {
            writer.push(" RETURNING ");
            writer.push_select_columns(M::COLUMNS);
        }
        Ok::<_, Infallible>(writer)
    });
    let Ok(statement) = rendered;
    statement
}

/// The text `render` writes for an `INSERT` of `rows` of the shape `insert` (into the table in
/// `schema`, when given) and its values, in the order the text binds them. The text is kept
/// per shape ([`super::rendered_statements`]) where it depends on nothing else: no schema, a
/// model without tenant and enum columns; the values are then collected straight from the
/// rows.
pub(super) fn shaped_insert<M: Model, E>(
    backend: Backend,
    schema: Option<&str>,
    rows: &[&M],
    insert: InsertShape<'_>,
    render: impl FnOnce() -> Result<SqlWriter, E>,
) -> Result<(StatementText, Vec<Value>), E> {
    let shape = (schema.is_none() && M::TENANT_COLUMN.is_none() && M::ENUM_COLUMNS.is_empty())
        .then(|| StatementShape::of_insert::<M>(backend, insert))
        .flatten();
    let Some(shape) = shape else {
        let (sql, values) = render()?.finish();
        return Ok((StatementText::Rendered(sql), values));
    };
    let (text, rendered) = text_of(&shape, || render().map(SqlWriter::finish))?;
    let values = rendered.unwrap_or_else(|| {
        let left_out = insert.left_out;
        let written = M::COLUMNS.len() - left_out.count_ones() as usize;
        let mut values = Vec::with_capacity(rows.len() * written);
        for row in rows {
            row.push_values(left_out, &mut values);
        }
        values
    });
    Ok((StatementText::Kept(text), values))
}

/// The positions of `M`'s generated columns that `left_out` leaves out, a bit each (see
/// [`Model::push_values`]; positions past 63 have no bit, and their models no shape).
pub(super) fn left_out_of<M: Model>(left_out: impl Fn(&'static str) -> bool) -> u64 {
    M::COLUMNS
        .iter()
        .take(64)
        .enumerate()
        .filter(|&(_, &column)| M::GENERATED.contains(&column) && left_out(column))
        .fold(0, |mask, (position, _)| mask | 1 << position)
}

/// The positions of the generated keys `model` leaves at their placeholder, which an upsert
/// leaves to the database ([`upsert_insert_writer`]), as [`left_out_of`].
pub(super) fn unset_generated<M: Model>(model: &M) -> u64 {
    left_out_of::<M>(|column| {
        model
            .value_of(column)
            .is_some_and(|value| is_unset_generated::<M>(column, &value))
    })
}

/// Whether `column` is a generated key left at its placeholder (`0`, or NULL) in `value`: the
/// database generates it, as for an insert.
fn is_unset_generated<M: Model>(column: &str, value: &Value) -> bool {
    M::GENERATED.contains(&column) && matches!(value, Value::Int(0) | Value::Null)
}

/// `INSERT` of `model` followed by the engine's upsert clause on the primary key
/// ([`crate::dialect::Dialect::upsert_clause`]): a row whose key is stored already gets every
/// other column from `model`, in place. A generated key left at its placeholder (`0`) is left
/// to the database, as [`insert`] leaves it.
#[doc(hidden)]
pub fn upsert_statement<M: Model>(backend: Backend, model: &M) -> (String, Vec<Value>) {
    upsert_writer(backend, None, model).finish()
}

/// [`upsert_statement`] into the table in `schema`, when given.
pub(super) fn upsert_writer<M: Model>(
    backend: Backend,
    schema: Option<&str>,
    model: &M,
) -> SqlWriter {
    let mut writer = upsert_insert_writer(backend, schema, model);
    let key: Vec<String> = M::PRIMARY_KEY.iter().map(|c| c.to_string()).collect();
    let mut updated: Vec<String> = M::COLUMNS
        .iter()
        .filter(|c| !M::PRIMARY_KEY.contains(c))
        .map(|c| c.to_string())
        .collect();
    if updated.is_empty() {
        // Every column is part of the key: a no-op update of the key still returns the row
        // (`DO NOTHING` would return none).
        updated.push(key[0].clone());
    }
    let clause = writer.dialect().upsert_clause(&key, &updated);
    writer.push(&clause);
    writer
}

/// The `INSERT INTO t (...) VALUES (...)` an upsert starts with: every column of `model`, but a
/// generated key left at its placeholder (`0`), which is left to the database.
pub(super) fn upsert_insert_writer<M: Model>(
    backend: Backend,
    schema: Option<&str>,
    model: &M,
) -> SqlWriter {
    let values: Vec<(&'static str, Value)> = model
        .values()
        .into_iter()
        .filter(|(column, value)| !is_unset_generated::<M>(column, value))
        .collect();
    let columns: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<M>());
    writer.set_schema(schema);
    writer.push("INSERT INTO ");
    writer.push_table(M::TABLE);
    writer.push(" (");
    writer.push_identifiers(&columns);
    writer.push(") VALUES (");
    for (i, (column, value)) in values.into_iter().enumerate() {
        if i > 0 {
            writer.push(", ");
        }
        writer.push_written_value(column, value);
    }
    writer.push(")");
    writer
}

/// Inserts `model`, or updates the stored row with the same primary key in place; returns the
/// row as stored. One statement, the engine's upsert ([`crate::dialect::Dialect::upsert_clause`]):
/// `ON CONFLICT (key) DO UPDATE` on PostgreSQL and SQLite, `ON DUPLICATE KEY UPDATE` on MySQL
/// (which also takes a conflict on another unique key as the row to update). A generated key
/// left at its placeholder (`0`) is generated by the database on every engine, as [`insert`]
/// does. Also `db.upsert(&model)`.
///
/// A tenant-scoped model ([`Model::TENANT_COLUMN`]) upserts only when its primary key holds
/// the tenant column: a conflict is then always on the writing tenant's own row, never on
/// another tenant's row with the same key.
///
/// # Errors
/// Hook, database and decoding errors; [`Error::Unsupported`] for a model with hooks through an
/// executor that is neither a `Database` nor a `Transaction`, and for a tenant-scoped model whose
/// primary key leaves the tenant column out.
pub async fn upsert<M: Model, E: Executor>(executor: E, model: &M) -> Result<M> {
    upsert_in(executor, model, None).await
}

/// [`upsert`] into the table in `schema`, when given.
pub(super) async fn upsert_in<M: Model, E: Executor>(
    executor: E,
    model: &M,
    schema: Option<&str>,
) -> Result<M> {
    if let Some(tenant) = M::TENANT_COLUMN
        && !M::PRIMARY_KEY.contains(&tenant)
    {
        return Err(Error::Unsupported {
            backend: executor.backend(),
            feature: format!(
                "upserting `{}` rows: its primary key leaves out its tenant column `{tenant}`, so a conflicting key could be another tenant's row (make `{tenant}` part of the primary key, or insert and save instead)",
                M::TABLE
            ),
        });
    }
    insert_with_hooks(executor, model, true, schema).await
}

/// Writes every non-key column of `model` over its stored row (found by primary key), with
/// the update hooks; returns whether a row was changed. Also `db.save(&model)`.
///
/// # Errors
/// Hook and database errors.
pub async fn save<M: Model, E: Executor>(executor: E, model: &M) -> Result<bool> {
    if !M::HAS_HOOKS {
        return save_values(executor, model).await;
    }
    in_transaction(executor, async |transaction| {
        let mut model = model.clone();
        model.before_update(transaction).await?;
        let changed = save_values(&mut *transaction, &model).await?;
        if changed {
            model.after_update(transaction).await?;
        }
        Ok(changed)
    })
    .await
}

/// Writes the non-key columns of `model` over the row with its key; whether a row matched.
async fn save_values<M: Model, E: Executor>(executor: E, model: &M) -> Result<bool> {
    // The callers run the hooks once for the row themselves.
    let mut update = update::<M>().filter(key_condition(model)).without_hooks();
    for (column, value) in model.values() {
        if !M::PRIMARY_KEY.contains(&column) {
            update.assignments.push((column, value));
        }
    }
    if update.assignments.is_empty() {
        // Every column is part of the key: nothing to write; the row matches if it exists.
        return select::<M>()
            .filter(key_condition(model))
            .exists(executor)
            .await;
    }
    Ok(update.exec(executor).await? > 0)
}

/// Writes `changes` to `model`'s row (found by primary key; the other fields of `model` are not
/// written) with the model's update hooks, and returns the row as stored afterwards, or `None`
/// when no row has that key. Changes that set nothing write nothing and return the stored row.
/// One `UPDATE ... RETURNING` on PostgreSQL and SQLite; on MySQL an `UPDATE` and a `SELECT` in
/// one transaction.
/// Also `db.patch(&model, &changes)`.
///
/// # Errors
/// Hook and database errors.
pub async fn patch<C: Changes, E: Executor>(
    executor: E,
    model: &C::Model,
    changes: &C,
) -> Result<Option<C::Model>> {
    if !dialect_for(executor.backend()).supports_returning()
        && !changes.is_empty()
        && let Some(database) = executor.database()
    {
        // The UPDATE and the SELECT that reads the row back share a transaction (a caller's
        // transaction already holds them together).
        return database
            .transaction(async |transaction| patch_row(transaction, model, changes).await)
            .await;
    }
    patch_row(executor, model, changes).await
}

async fn patch_row<C: Changes, E: Executor>(
    mut executor: E,
    model: &C::Model,
    changes: &C,
) -> Result<Option<C::Model>> {
    let assignments = changes.assignments();
    if !assignments.is_empty() {
        let mut update = update::<C::Model>().filter(key_condition(model));
        update.assignments = assignments.into();
        if dialect_for(executor.backend()).supports_returning() {
            return Ok(update.returning(executor).await?.into_iter().next());
        }
        update.exec(&mut executor).await?;
    }
    Ok(select::<C::Model>()
        .filter(key_condition(model))
        .all(executor)
        .await?
        .into_iter()
        .next())
}

/// Deletes `model`'s row (by primary key), with the delete hooks; returns whether a row went
/// away. Also `db.remove(&model)`.
///
/// # Errors
/// Hook and database errors.
pub async fn remove<M: Model, E: Executor>(executor: E, model: &M) -> Result<bool> {
    // The delete hooks run here, once; the builder's per-row hooks would run them again.
    let statement = delete::<M>().filter(key_condition(model)).without_hooks();
    if !M::HAS_HOOKS {
        return Ok(statement.exec(executor).await? > 0);
    }
    in_transaction(executor, async |transaction| {
        model.before_delete(transaction).await?;
        let deleted = statement.exec(&mut *transaction).await? > 0;
        if deleted {
            model.after_delete(transaction).await?;
        }
        Ok(deleted)
    })
    .await
}

/// Inserts a new row giving only some columns (the database fills the rest from defaults) and
/// returns it as a model. Also `db.create(&new)`.
///
/// For a model with hooks, in one transaction: the row is inserted and read back with its
/// defaults, `before_insert` runs on that row (what it changes is written, as `save` would),
/// then `after_insert` on the row as stored.
///
/// # Errors
/// Hook, database and decoding errors.
pub async fn create<N: crate::model::NewRow, E: Executor>(
    executor: E,
    new: &N,
) -> Result<N::Model> {
    if !<N::Model as Model>::HAS_HOOKS {
        return create_row(executor, new).await;
    }
    in_transaction(executor, async |transaction| {
        let inserted = create_row(&mut *transaction, new).await?;
        let mut prepared = inserted.clone();
        prepared.before_insert(transaction).await?;
        let stored = if prepared.values() == inserted.values() {
            inserted
        } else {
            save_values(&mut *transaction, &prepared).await?;
            select::<N::Model>()
                .filter(key_condition(&prepared))
                .all(&mut *transaction)
                .await?
                .into_iter()
                .next()
                .ok_or_else(|| Error::NotFound {
                    table: <N::Model as Model>::TABLE.to_string(),
                })?
        };
        stored.after_insert(transaction).await?;
        Ok(stored)
    })
    .await
}

/// The `INSERT` of [`create`], without hooks, and the row read back.
async fn create_row<N: crate::model::NewRow, E: Executor>(
    mut executor: E,
    new: &N,
) -> Result<N::Model> {
    type M<N> = <N as crate::model::NewRow>::Model;
    let backend = executor.backend();
    let values = new.values();
    let columns: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<M<N>>());
    writer.push("INSERT INTO ");
    writer.push_identifier(M::<N>::TABLE);
    if columns.is_empty() {
        writer.push(dialect_for(backend).default_values_insert());
    } else {
        writer.push(" (");
        writer.push_identifiers(&columns);
        writer.push(") VALUES (");
        for (i, (column, value)) in values.into_iter().enumerate() {
            if i > 0 {
                writer.push(", ");
            }
            writer.push_written_value(column, value);
        }
        writer.push(")");
    }
    if dialect_for(backend).supports_returning() {
        writer.push(" RETURNING ");
        writer.push_select_columns(M::<N>::COLUMNS);
        let (sql, values) = writer.finish();
        let rows = executor.fetch_all(&sql, &values).await?;
        let row = rows.first().ok_or_else(|| Error::NotFound {
            table: M::<N>::TABLE.to_string(),
        })?;
        return M::<N>::from_row(row);
    }
    let (sql, values) = writer.finish();
    let inserted_id = executor
        .execute(&sql, &values)
        .await?
        .last_insert_id
        .unwrap_or_default();
    let given = new.values();
    let mut reader = SqlWriter::for_model(backend, EnumColumns::of::<M<N>>());
    reader.push("SELECT ");
    reader.push_select_columns(M::<N>::COLUMNS);
    reader.push(" FROM ");
    reader.push_identifier(M::<N>::TABLE);
    reader.push(" WHERE ");
    for (i, key) in M::<N>::PRIMARY_KEY.iter().enumerate() {
        if i > 0 {
            reader.push(" AND ");
        }
        reader.push_identifier(key);
        reader.push(" = ");
        let value = match given.iter().find(|(c, _)| c == key) {
            Some((_, value)) => value.clone(),
            None => Value::Int(inserted_id as i64),
        };
        reader.push_column_value(key, value);
    }
    let (sql, values) = reader.finish();
    let rows = executor.fetch_all(&sql, &values).await?;
    let row = rows.first().ok_or_else(|| Error::NotFound {
        table: M::<N>::TABLE.to_string(),
    })?;
    M::<N>::from_row(row)
}

/// Inserts `model` through `executor` and returns it as stored (generated keys and defaults
/// filled in). Also `db.insert(&model)` and `tx.insert(&model)`.
///
/// # Errors
/// Hook, database and decoding errors; [`Error::Unsupported`] for a model with hooks through an
/// executor that is neither a `Database` nor a `Transaction`.
pub async fn insert<M: Model, E: Executor>(executor: E, model: &M) -> Result<M> {
    insert_with_hooks(executor, model, false, None).await
}

/// [`insert_row`] with the insert hooks, in a transaction, for a model that has them; into
/// the table in `schema`, when given.
pub(super) async fn insert_with_hooks<M: Model, E: Executor>(
    executor: E,
    model: &M,
    upsert: bool,
    schema: Option<&str>,
) -> Result<M> {
    if !M::HAS_HOOKS {
        return insert_row(executor, model, upsert, schema).await;
    }
    in_transaction(executor, async |transaction| {
        let mut model = model.clone();
        model.before_insert(transaction).await?;
        let stored = insert_row(&mut *transaction, &model, upsert, schema).await?;
        stored.after_insert(transaction).await?;
        Ok(stored)
    })
    .await
}

/// Runs `work` in a transaction, for writes whose hooks or read back must share one with the
/// write: the pool's new one, or a savepoint of the caller's (so a failing hook undoes only
/// its own write there).
///
/// # Errors
/// `work`'s errors; [`Error::Unsupported`] through an executor that is neither a `Database`
/// nor a `Transaction`, which cannot give one.
pub(super) async fn in_transaction<T>(
    mut executor: impl Executor,
    work: impl AsyncFnOnce(&mut Transaction) -> Result<T>,
) -> Result<T> {
    if let Some(database) = executor.database() {
        return database.transaction(work).await;
    }
    match executor.transaction() {
        Some(transaction) => transaction.savepoint(work).await,
        None => Err(Error::Unsupported {
            backend: executor.backend(),
            feature: "a write that needs a transaction (a model with hooks; on MySQL, a read back) through an executor that is neither a Database nor a Transaction".into(),
        }),
    }
}

/// Inserts one row (with the upsert clause when `upsert`: [`upsert_statement`]) and reads it
/// back: through `RETURNING`, else by its key (a generated one from the engine's last insert
/// id).
pub(super) async fn insert_row<M: Model, E: Executor>(
    mut executor: E,
    model: &M,
    upsert: bool,
    schema: Option<&str>,
) -> Result<M> {
    let backend = executor.backend();
    let returning = dialect_for(backend).supports_returning();
    let (sql, values) = insert_text::<M>(backend, schema, &[model], upsert, returning);
    if returning {
        // `RETURNING` lists the columns in field order: decoded by position, in the stream.
        let rows = executor
            .fetch_decoded(&sql, &values, |row| M::from_row_in_order(&row))
            .await?;
        return rows.into_iter().next().ok_or_else(|| Error::NotFound {
            table: M::TABLE.to_string(),
        });
    }
    let inserted_id = executor
        .execute(&sql, &values)
        .await?
        .last_insert_id
        .unwrap_or_default();
    // Read back by key: the generated id, else the key values given.
    let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<M>());
    writer.set_schema(schema);
    writer.push("SELECT ");
    writer.push_select_columns(M::COLUMNS);
    writer.push(" FROM ");
    writer.push_table(M::TABLE);
    writer.push(" WHERE ");
    let given = model.values();
    for (i, key) in M::PRIMARY_KEY.iter().enumerate() {
        if i > 0 {
            writer.push(" AND ");
        }
        writer.push_identifier(key);
        writer.push(" = ");
        let given_value = given
            .iter()
            .find(|(c, _)| c == key)
            .map_or(Value::Null, |(_, v)| v.clone());
        // An insert leaves every generated key to the database, an upsert only one at its
        // placeholder.
        let value = if M::GENERATED.contains(key)
            && (!upsert || is_unset_generated::<M>(key, &given_value))
        {
            Value::Int(inserted_id as i64)
        } else {
            given_value
        };
        writer.push_column_value(key, value);
    }
    let (sql, values) = writer.finish();
    let rows = executor.fetch_all(&sql, &values).await?;
    let row = rows.first().ok_or_else(|| Error::NotFound {
        table: M::TABLE.to_string(),
    })?;
    M::from_row(row)
}
