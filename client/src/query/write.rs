//! `INSERT`, upsert, save and remove of model rows (`UPDATE`/`DELETE` by filter: [`super::filtered_write`]).

use super::condition::key_condition;
use super::filtered_write::{delete, update};
use super::select::select;
use super::writer::SqlWriter;
use crate::Backend;
use crate::connection::Value;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::model::{Changes, Model};

/// `INSERT` of `rows` (generated columns left to the database), as one statement.
pub fn insert_statement<M: Model>(backend: Backend, rows: &[&M]) -> (String, Vec<Value>) {
    let columns: Vec<&str> = M::COLUMNS
        .iter()
        .copied()
        .filter(|c| !M::GENERATED.contains(c))
        .collect();
    let mut writer = SqlWriter::for_model(backend, M::PG_TYPES);
    writer.push("INSERT INTO ");
    writer.push_identifier(M::TABLE);
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
            writer.push_column_value(column, value);
        }
        writer.push(")");
    }
    writer.finish()
}

/// `INSERT` of every column of `model` that replaces the stored row when the primary key
/// exists (on MySQL the plain insert that [`upsert`] runs when no row has the key).
#[doc(hidden)]
pub fn upsert_statement<M: Model>(backend: Backend, model: &M) -> (String, Vec<Value>) {
    let mut writer = SqlWriter::for_model(backend, M::PG_TYPES);
    writer.push("INSERT INTO ");
    writer.push_identifier(M::TABLE);
    writer.push(" (");
    writer.push_identifiers(M::COLUMNS);
    writer.push(") VALUES (");
    for (i, (column, value)) in model.values().into_iter().enumerate() {
        if i > 0 {
            writer.push(", ");
        }
        writer.push_column_value(column, value);
    }
    writer.push(")");
    let updated: Vec<&str> = M::COLUMNS
        .iter()
        .copied()
        .filter(|c| !M::PRIMARY_KEY.contains(c))
        .collect();
    match backend {
        // MySQL upserts go through `upsert`'s update-then-insert; this is its plain insert.
        Backend::MySql => {}
        Backend::Postgres | Backend::Sqlite => {
            writer.push(" ON CONFLICT (");
            writer.push_identifiers(M::PRIMARY_KEY);
            writer.push(")");
            if updated.is_empty() {
                // A no-op update still returns the row (DO NOTHING would return none).
                writer.push(" DO UPDATE SET ");
                writer.push_identifier(M::PRIMARY_KEY[0]);
                writer.push(" = excluded.");
                writer.push_identifier(M::PRIMARY_KEY[0]);
            } else {
                writer.push(" DO UPDATE SET ");
                for (i, column) in updated.iter().enumerate() {
                    if i > 0 {
                        writer.push(", ");
                    }
                    writer.push_identifier(column);
                    writer.push(" = excluded.");
                    writer.push_identifier(column);
                }
            }
        }
    }
    writer.finish()
}

/// Inserts `model`, or replaces the stored row with the same primary key; returns the row as
/// stored. Also `db.upsert(&model)`.
///
/// # Errors
/// Database and decoding errors.
pub async fn upsert<M: Model, E: Executor>(mut executor: E, model: &M) -> Result<M> {
    let mut model = model.clone();
    model.before_insert()?;
    let stored = if executor.backend() == Backend::MySql {
        // MySQL's ON DUPLICATE KEY fires on any unique key, which could change another row:
        // update by primary key, and insert only when no row has it.
        if save_values(&mut executor, &model).await? {
            let rows = select::<M>()
                .filter(key_condition(&model))
                .all(&mut executor)
                .await?;
            rows.into_iter().next().ok_or_else(|| Error::NotFound {
                table: M::TABLE.to_string(),
            })?
        } else {
            let generated_unset = model
                .values()
                .iter()
                .any(|(c, v)| M::GENERATED.contains(c) && matches!(v, Value::Int(0) | Value::Null));
            insert_row(&mut executor, &model, !generated_unset).await?
        }
    } else {
        insert_row(&mut executor, &model, true).await?
    };
    stored.after_insert()?;
    Ok(stored)
}

/// Writes every non-key column of `model` over its stored row (found by primary key), with
/// the update hooks; returns whether a row was changed. Also `db.save(&model)`.
///
/// # Errors
/// Hook and database errors.
pub async fn save<M: Model, E: Executor>(executor: E, model: &M) -> Result<bool> {
    let mut model = model.clone();
    model.before_update()?;
    let changed = save_values(executor, &model).await?;
    if changed {
        model.after_update()?;
    }
    Ok(changed)
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
    if executor.backend() == Backend::MySql
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
        update.assignments = assignments;
        if executor.backend() != Backend::MySql {
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
pub async fn remove<M: Model, E: Executor>(mut executor: E, model: &M) -> Result<bool> {
    model.before_delete()?;
    // The delete hooks run here, once; the builder's per-row hooks would run them again.
    let deleted = delete::<M>()
        .filter(key_condition(model))
        .without_hooks()
        .exec(&mut executor)
        .await?
        > 0;
    if deleted {
        model.after_delete()?;
    }
    Ok(deleted)
}

/// Inserts a new row giving only some columns (the database fills the rest from defaults) and
/// returns it as a model. Also `db.create(&new)`.
///
/// # Errors
/// Database and decoding errors.
pub async fn create<N: crate::model::NewRow, E: Executor>(
    mut executor: E,
    new: &N,
) -> Result<N::Model> {
    type M<N> = <N as crate::model::NewRow>::Model;
    let backend = executor.backend();
    let values = new.values();
    let columns: Vec<&str> = values.iter().map(|(c, _)| *c).collect();
    let mut writer = SqlWriter::for_model(backend, M::<N>::PG_TYPES);
    writer.push("INSERT INTO ");
    writer.push_identifier(M::<N>::TABLE);
    if columns.is_empty() {
        writer.push(if backend == Backend::MySql {
            " () VALUES ()"
        } else {
            " DEFAULT VALUES"
        });
    } else {
        writer.push(" (");
        writer.push_identifiers(&columns);
        writer.push(") VALUES (");
        for (i, (column, value)) in values.into_iter().enumerate() {
            if i > 0 {
                writer.push(", ");
            }
            writer.push_column_value(column, value);
        }
        writer.push(")");
    }
    if backend != Backend::MySql {
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
    let mut reader = SqlWriter::for_model(backend, M::<N>::PG_TYPES);
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
/// Database and decoding errors.
pub async fn insert<M: Model, E: Executor>(mut executor: E, model: &M) -> Result<M> {
    let mut model = model.clone();
    model.before_insert()?;
    let stored = insert_row(&mut executor, &model, false).await?;
    stored.after_insert()?;
    Ok(stored)
}

/// Inserts one row (every column when `upsert`, replacing the stored row on a key conflict)
/// and reads it back.
async fn insert_row<M: Model, E: Executor>(mut executor: E, model: &M, upsert: bool) -> Result<M> {
    let backend = executor.backend();
    let (mut sql, values) = if upsert {
        upsert_statement::<M>(backend, model)
    } else {
        insert_statement::<M>(backend, &[model])
    };
    if backend != Backend::MySql {
        let mut returning = SqlWriter::for_model(backend, M::PG_TYPES);
        returning.push(" RETURNING ");
        returning.push_select_columns(M::COLUMNS);
        sql.push_str(&returning.finish().0);
        let rows = executor.fetch_all(&sql, &values).await?;
        let row = rows.first().ok_or_else(|| Error::NotFound {
            table: M::TABLE.to_string(),
        })?;
        return M::from_row(row);
    }
    let inserted_id = executor
        .execute(&sql, &values)
        .await?
        .last_insert_id
        .unwrap_or_default();
    let generated_key_given = upsert;
    // Read back by key: the generated id, else the key values given.
    let mut writer = SqlWriter::for_model(backend, M::PG_TYPES);
    writer.push("SELECT ");
    writer.push_select_columns(M::COLUMNS);
    writer.push(" FROM ");
    writer.push_identifier(M::TABLE);
    writer.push(" WHERE ");
    let given = model.values();
    for (i, key) in M::PRIMARY_KEY.iter().enumerate() {
        if i > 0 {
            writer.push(" AND ");
        }
        writer.push_identifier(key);
        writer.push(" = ");
        let value = if M::GENERATED.contains(key) && !generated_key_given {
            Value::Int(inserted_id as i64)
        } else {
            given
                .iter()
                .find(|(c, _)| c == key)
                .map_or(Value::Null, |(_, v)| v.clone())
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

/// Inserts many rows through `executor` in as few statements as the engine's parameter limit
/// allows; returns the number of rows inserted. Also `db.insert_many(&rows)`.
///
/// # Errors
/// Database errors; earlier batches stay inserted unless run inside a transaction.
pub async fn insert_many<M: Model, E: Executor>(mut executor: E, models: &[M]) -> Result<u64> {
    let prepared: Vec<M>;
    let models = if M::HAS_HOOKS {
        let mut rows = models.to_vec();
        for row in &mut rows {
            row.before_insert()?;
        }
        prepared = rows;
        &prepared[..]
    } else {
        models
    };
    let backend = executor.backend();
    let per_row = M::COLUMNS
        .iter()
        .filter(|c| !M::GENERATED.contains(c))
        .count()
        .max(1);
    let batch = (crate::dialect::dialect_for(backend).parameter_limit() / per_row).max(1);
    let mut inserted = 0;
    for chunk in models.chunks(batch) {
        let rows: Vec<&M> = chunk.iter().collect();
        let (sql, values) = insert_statement::<M>(backend, &rows);
        inserted += executor.execute(&sql, &values).await?.rows_affected;
    }
    Ok(inserted)
}

impl Database {
    /// Inserts `model` and returns it as stored; see [`insert`]. Models with their own hooks
    /// are inserted in a transaction.
    ///
    /// # Errors
    /// Hook, database and decoding errors.
    pub async fn insert<M: Model>(&self, model: &M) -> Result<M> {
        if M::HAS_HOOKS {
            return self.transaction(async |tx| insert(tx, model).await).await;
        }
        insert(self, model).await
    }

    /// Inserts or replaces `model` by primary key; see [`upsert`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn upsert<M: Model>(&self, model: &M) -> Result<M> {
        // MySQL's update-then-insert, and hooks, must be atomic.
        if M::HAS_HOOKS || self.backend() == Backend::MySql {
            return self.transaction(async |tx| upsert(tx, model).await).await;
        }
        upsert(self, model).await
    }

    /// Inserts a row giving only some columns; see [`create`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn create<N: crate::model::NewRow>(&self, new: &N) -> Result<N::Model> {
        create(self, new).await
    }

    /// Saves `model` over its stored row; see [`save`]. Models with their own hooks are saved
    /// in a transaction.
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn save<M: Model>(&self, model: &M) -> Result<bool> {
        if M::HAS_HOOKS {
            return self.transaction(async |tx| save(tx, model).await).await;
        }
        save(self, model).await
    }

    /// Writes `changes` to `model`'s row and returns it as stored; see [`patch`]. On MySQL the
    /// write and the read back share a transaction.
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn patch<C: Changes>(
        &self,
        model: &C::Model,
        changes: &C,
    ) -> Result<Option<C::Model>> {
        patch(self, model, changes).await
    }

    /// Deletes `model`'s row; see [`remove`]. Models with their own hooks are deleted in a
    /// transaction.
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn remove<M: Model>(&self, model: &M) -> Result<bool> {
        if M::HAS_HOOKS {
            return self.transaction(async |tx| remove(tx, model).await).await;
        }
        remove(self, model).await
    }

    /// Inserts many rows in batches; see [`insert_many`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_many<M: Model>(&self, models: &[M]) -> Result<u64> {
        insert_many(self, models).await
    }
}

impl crate::transaction::Transaction {
    /// Inserts `model` in this transaction and returns it as stored; see [`insert`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn insert<M: Model>(&mut self, model: &M) -> Result<M> {
        insert(self, model).await
    }

    /// Inserts a row giving only some columns, in this transaction; see [`create`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn create<N: crate::model::NewRow>(&mut self, new: &N) -> Result<N::Model> {
        create(self, new).await
    }

    /// Inserts or replaces `model` in this transaction; see [`upsert`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn upsert<M: Model>(&mut self, model: &M) -> Result<M> {
        upsert(self, model).await
    }

    /// Saves `model` over its stored row in this transaction; see [`save`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn save<M: Model>(&mut self, model: &M) -> Result<bool> {
        save(self, model).await
    }

    /// Writes `changes` to `model`'s row in this transaction and returns it as stored; see
    /// [`patch`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn patch<C: Changes>(
        &mut self,
        model: &C::Model,
        changes: &C,
    ) -> Result<Option<C::Model>> {
        patch(self, model, changes).await
    }

    /// Deletes `model`'s row in this transaction; see [`remove`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn remove<M: Model>(&mut self, model: &M) -> Result<bool> {
        remove(self, model).await
    }

    /// Inserts many rows in this transaction; see [`insert_many`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_many<M: Model>(&mut self, models: &[M]) -> Result<u64> {
        insert_many(self, models).await
    }
}
