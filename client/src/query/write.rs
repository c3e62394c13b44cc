//! `INSERT`, `UPDATE` and `DELETE` of one model.

use std::marker::PhantomData;

use super::SqlWriter;
use super::column::Column;
use super::condition::{Condition, Expr};
use crate::Backend;
use crate::connection::Value;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::model::{ColumnType, IntoValue, Model};

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

/// Most parameters one statement may bind.
fn parameter_limit(backend: Backend) -> usize {
    match backend {
        Backend::Postgres | Backend::MySql => 65_535,
        Backend::Sqlite => 32_766,
    }
}

/// Inserts `model` through `executor` and returns it as stored (generated keys and defaults
/// filled in). Also `db.insert(&model)` and `tx.insert(&model)`.
///
/// # Errors
/// Database and decoding errors.
pub async fn insert<M: Model, E: Executor>(mut executor: E, model: &M) -> Result<M> {
    let backend = executor.backend();
    let (mut sql, values) = insert_statement::<M>(backend, &[model]);
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
        .by_ref()
        .execute(&sql, &values)
        .await?
        .last_insert_id
        .unwrap_or_default();
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
        let value = if M::GENERATED.contains(key) {
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
    let backend = executor.backend();
    let per_row = M::COLUMNS
        .iter()
        .filter(|c| !M::GENERATED.contains(c))
        .count()
        .max(1);
    let batch = (parameter_limit(backend) / per_row).max(1);
    let mut inserted = 0;
    for chunk in models.chunks(batch) {
        let rows: Vec<&M> = chunk.iter().collect();
        let (sql, values) = insert_statement::<M>(backend, &rows);
        inserted += executor
            .by_ref()
            .execute(&sql, &values)
            .await?
            .rows_affected;
    }
    Ok(inserted)
}

impl Database {
    /// Inserts `model` and returns it as stored; see [`insert`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn insert<M: Model>(&self, model: &M) -> Result<M> {
        insert(self, model).await
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

    /// Inserts many rows in this transaction; see [`insert_many`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_many<M: Model>(&mut self, models: &[M]) -> Result<u64> {
        insert_many(self, models).await
    }
}

/// An `UPDATE` of rows of `M`.
#[derive(Debug)]
pub struct Update<M> {
    assignments: Vec<(&'static str, Value)>,
    filter: Option<Expr>,
    all_rows: bool,
    _model: PhantomData<fn() -> M>,
}

/// Starts an `UPDATE` of rows of `M`.
pub fn update<M: Model>() -> Update<M> {
    Update {
        assignments: Vec::new(),
        filter: None,
        all_rows: false,
        _model: PhantomData,
    }
}

impl<M: Model> Update<M> {
    /// Sets `column` to `value`.
    pub fn set<T: ColumnType>(
        mut self,
        column: Column<M, T>,
        value: impl Into<T::Compared>,
    ) -> Self {
        self.assignments
            .push((column.name(), value.into().into_value()));
        self
    }

    /// Sets `column` to NULL.
    pub fn set_null<T: ColumnType>(mut self, column: Column<M, Option<T>>) -> Self
    where
        Option<T>: ColumnType,
    {
        self.assignments.push((column.name(), Value::Null));
        self
    }

    /// Changes only rows matching `condition`.
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(existing) => Condition::<M>::new(existing).and(condition).expr,
            None => condition.expr,
        });
        self
    }

    /// Changes every row: needed when there is no filter, so an unfiltered update is a
    /// decision, never an accident.
    pub fn all_rows(mut self) -> Self {
        self.all_rows = true;
        self
    }

    /// Runs it; returns the number of rows changed.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a filter or `all_rows()`; database errors.
    pub async fn exec(&self, database: impl Executor) -> Result<u64> {
        let backend = database.backend();
        if self.filter.is_none() && !self.all_rows {
            return Err(Error::Unsupported {
                backend,
                feature: format!(
                    "an UPDATE of {} without a filter (call .all_rows() to change every row)",
                    M::TABLE
                ),
            });
        }
        let mut writer = SqlWriter::for_model(backend, M::PG_TYPES);
        writer.push("UPDATE ");
        writer.push_identifier(M::TABLE);
        writer.push(" SET ");
        for (i, (column, value)) in self.assignments.iter().enumerate() {
            if i > 0 {
                writer.push(", ");
            }
            writer.push_identifier(column);
            writer.push(" = ");
            writer.push_column_value(column, value.clone());
        }
        if let Some(filter) = &self.filter {
            writer.push(" WHERE ");
            filter.render(&mut writer);
        }
        let (sql, values) = writer.finish();
        Ok(database.execute(&sql, &values).await?.rows_affected)
    }
}

/// A `DELETE` of rows of `M`.
#[derive(Debug)]
pub struct Delete<M> {
    filter: Option<Expr>,
    all_rows: bool,
    _model: PhantomData<fn() -> M>,
}

/// Starts a `DELETE` of rows of `M`.
pub fn delete<M: Model>() -> Delete<M> {
    Delete {
        filter: None,
        all_rows: false,
        _model: PhantomData,
    }
}

impl<M: Model> Delete<M> {
    /// Deletes only rows matching `condition`.
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(existing) => Condition::<M>::new(existing).and(condition).expr,
            None => condition.expr,
        });
        self
    }

    /// Deletes every row: needed when there is no filter.
    pub fn all_rows(mut self) -> Self {
        self.all_rows = true;
        self
    }

    /// Runs it; returns the number of rows deleted.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a filter or `all_rows()`; database errors.
    pub async fn exec(&self, database: impl Executor) -> Result<u64> {
        let backend = database.backend();
        if self.filter.is_none() && !self.all_rows {
            return Err(Error::Unsupported {
                backend,
                feature: format!(
                    "a DELETE from {} without a filter (call .all_rows() to delete every row)",
                    M::TABLE
                ),
            });
        }
        let mut writer = SqlWriter::for_model(backend, M::PG_TYPES);
        writer.push("DELETE FROM ");
        writer.push_identifier(M::TABLE);
        if let Some(filter) = &self.filter {
            writer.push(" WHERE ");
            filter.render(&mut writer);
        }
        let (sql, values) = writer.finish();
        Ok(database.execute(&sql, &values).await?.rows_affected)
    }
}
