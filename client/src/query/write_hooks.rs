//! Running builder updates and deletes: one statement, or, for models with hooks, the hooks
//! run for every affected row, in one transaction with the write, as they do for `save` and
//! `remove` of one row.
//!
//! # Expected flow
//! 1. Through the pool, a transaction begins; on a transaction, the caller's is used.
//! 2. The rows the filter matches are read, locked (`FOR UPDATE` on PostgreSQL and MySQL;
//!    SQLite's write transactions are serializable), so every row read is the row written.
//! 3. Update: each row gets the `set` values in memory, then its `before_update`, which may
//!    change it further. Delete: each row's `before_delete`. A hook error stops here, before
//!    anything is written.
//! 4. The rows are written by primary key. Rows the hooks left with the same changes share one
//!    statement (batched under the engine's parameter limit); the columns written are the ones
//!    `set` plus any the hooks changed.
//! 5. Each written row's `after_update` / `after_delete` runs; an error rolls the pool's
//!    transaction back, or, in the caller's transaction, rolls back to a savepoint taken
//!    before step 2, so the statement is all-or-nothing there too.

use std::collections::HashMap;

use super::ast::Expr;
use super::condition::key_condition;
use super::filtered_write::{
    Delete, FilteredWrite, Update, delete as delete_statement, render_returning,
    update as update_statement,
};
use super::select::select;
use crate::Backend;
use crate::connection::Value;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::model::Model;
use crate::transaction::Transaction;

impl<M: Model> Update<M> {
    /// Runs it; returns the number of rows changed.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a filter or `all_rows()`, or without `set`; hook
    /// errors (nothing is written); database errors.
    pub async fn exec(&self, database: impl Executor) -> Result<u64> {
        exec(self, database).await
    }

    /// Runs it and returns the changed rows as they are now (PostgreSQL and SQLite; MySQL
    /// cannot return rows from an UPDATE).
    ///
    /// # Errors
    /// [`Error::Unsupported`] on MySQL and as for [`Update::exec`]; database errors.
    pub async fn returning(&self, database: impl Executor) -> Result<Vec<M>> {
        returning(self, database).await
    }
}

impl<M: Model> Delete<M> {
    /// Runs it; returns the number of rows deleted.
    ///
    /// # Errors
    /// [`Error::Unsupported`] without a filter or `all_rows()`; hook errors (nothing is
    /// deleted); database errors.
    pub async fn exec(&self, database: impl Executor) -> Result<u64> {
        exec(self, database).await
    }

    /// Runs it and returns the deleted rows (PostgreSQL and SQLite; MySQL cannot return rows
    /// from a DELETE).
    ///
    /// # Errors
    /// [`Error::Unsupported`] on MySQL and as for [`Delete::exec`]; database errors.
    pub async fn returning(&self, database: impl Executor) -> Result<Vec<M>> {
        returning(self, database).await
    }
}

/// A builder write that runs the model's hooks per row.
trait HookedWrite<M: Model>: FilteredWrite<M> {
    /// The write with the model's hooks per row: rows changed, and the rows when `returning`.
    async fn with_hooks(&self, database: impl Executor, returning: bool) -> Result<(u64, Vec<M>)>;
}

impl<M: Model> HookedWrite<M> for Update<M> {
    async fn with_hooks(&self, database: impl Executor, returning: bool) -> Result<(u64, Vec<M>)> {
        update(self, database, returning).await
    }
}

impl<M: Model> HookedWrite<M> for Delete<M> {
    async fn with_hooks(&self, database: impl Executor, returning: bool) -> Result<(u64, Vec<M>)> {
        delete(self, database, returning).await
    }
}

async fn exec<M: Model, W: HookedWrite<M>>(write: &W, mut database: impl Executor) -> Result<u64> {
    let backend = database.backend();
    if write.scope().runs_hooks::<M>() {
        // Refused before anything runs, as without hooks.
        write.render(backend)?;
        return Ok(write.with_hooks(database, false).await?.0);
    }
    let (sql, values) = write.statement(backend)?;
    let built = values.lend_built();
    let lent = values.lent().unwrap_or(&built);
    Ok(database
        .execute_lent(&sql, lent, values.built())
        .await?
        .rows_affected)
}

async fn returning<M: Model, W: HookedWrite<M>>(
    write: &W,
    mut database: impl Executor,
) -> Result<Vec<M>> {
    let writer = render_returning(write, database.backend())?;
    if write.scope().runs_hooks::<M>() {
        return Ok(write.with_hooks(database, true).await?.1);
    }
    let (sql, values) = writer.finish();
    database
        .fetch_all(&sql, &values)
        .await?
        .iter()
        .map(M::from_row)
        .collect()
}

/// Runs `update` with the model's update hooks; returns the rows changed and, when `returning`
/// (PostgreSQL and SQLite), the changed rows as stored.
async fn update<M: Model, E: Executor>(
    update: &Update<M>,
    mut executor: E,
    returning: bool,
) -> Result<(u64, Vec<M>)> {
    if let Some(database) = executor.database() {
        return database
            .transaction(async |transaction| update_rows(update, transaction, returning).await)
            .await;
    }
    match executor.transaction() {
        // In the caller's transaction, a savepoint keeps a failed statement all-or-nothing.
        Some(transaction) => {
            transaction
                .savepoint(async |transaction| update_rows(update, transaction, returning).await)
                .await
        }
        None => Err(no_transaction(executor.backend())),
    }
}

/// Runs `delete` with the model's delete hooks; returns the rows deleted and, when
/// `returning`, the deleted rows.
async fn delete<M: Model, E: Executor>(
    delete: &Delete<M>,
    mut executor: E,
    returning: bool,
) -> Result<(u64, Vec<M>)> {
    if let Some(database) = executor.database() {
        return database
            .transaction(async |transaction| delete_rows(delete, transaction, returning).await)
            .await;
    }
    match executor.transaction() {
        // In the caller's transaction, a savepoint keeps a failed statement all-or-nothing.
        Some(transaction) => {
            transaction
                .savepoint(async |transaction| delete_rows(delete, transaction, returning).await)
                .await
        }
        None => Err(no_transaction(executor.backend())),
    }
}

/// Hooks need a transaction, and an executor of the caller's own cannot give one.
fn no_transaction(backend: Backend) -> Error {
    Error::Unsupported {
        backend,
        feature: "running a model's hooks on a builder write through an executor that is neither a Database nor a Transaction (call .without_hooks())".into(),
    }
}

/// The rows `filter` matches, locked until the transaction ends where the engine can.
async fn read_locked<M: Model, E: Executor>(
    mut executor: E,
    filter: Option<&Expr>,
    schema: Option<&String>,
) -> Result<Vec<M>> {
    let backend = executor.backend();
    let mut query = select::<M>();
    query.core.filter = filter.cloned();
    query.schema = schema.cloned();
    let (sql, values) = query.to_sql_for_update(backend);
    executor
        .fetch_all(&sql, &values)
        .await?
        .iter()
        .map(M::from_row)
        .collect()
}

/// A condition matching `rows` by primary key: `key IN (...)`, or one AND per row for
/// composite keys.
fn keys_condition<M: Model>(rows: &[&M]) -> Expr {
    if let [key] = M::PRIMARY_KEY {
        return Expr::In {
            column: key,
            values: rows
                .iter()
                .map(|row| row.value_of(key).unwrap_or(Value::Null))
                .collect(),
        };
    }
    Expr::Or(rows.iter().map(|row| key_condition(*row).expr).collect())
}

/// Composite keys are matched by an OR of ANDs, which SQLite parses into a tree as deep as the
/// rows it names; its depth limit is 1000.
const COMPOSITE_KEYS_PER_STATEMENT: usize = 400;

/// How many rows one statement can name by key next to `bound` other parameters.
fn keys_per_statement<M: Model>(backend: Backend, bound: usize) -> usize {
    let by_parameters = (crate::dialect::dialect_for(backend)
        .parameter_limit()
        .saturating_sub(bound)
        / M::PRIMARY_KEY.len().max(1))
    .max(1);
    if M::PRIMARY_KEY.len() > 1 {
        by_parameters.min(COMPOSITE_KEYS_PER_STATEMENT)
    } else {
        by_parameters
    }
}

/// Columns to write with their values.
type Changes = Vec<(&'static str, Value)>;

// The row functions take the transaction itself: the reads are locked and the writes undone
// together only inside one, the pool's or the caller's.
async fn update_rows<M: Model>(
    update: &Update<M>,
    transaction: &mut Transaction,
    returning: bool,
) -> Result<(u64, Vec<M>)> {
    let backend = transaction.backend();
    let rows: Vec<M> = read_locked(
        &mut *transaction,
        update.scope.filter.as_ref(),
        update.scope.schema.as_ref(),
    )
    .await?;
    let assigned: Vec<&str> = update.assignments.iter().map(|(c, _)| *c).collect();
    // Rows grouped by the changes to write: (changes, the rows as read).
    let mut groups: Vec<(Changes, Vec<&M>)> = Vec::new();
    let mut group_of: HashMap<String, usize> = HashMap::new();
    let mut written = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut next = row.clone();
        for (column, value) in &update.assignments {
            next.set_value(column, value.clone())?;
        }
        next.before_update(transaction).await?;
        let changes: Changes = next
            .values()
            .into_iter()
            .zip(row.values())
            .filter(|((column, new), (_, old))| assigned.contains(column) || new != old)
            .map(|((column, new), _)| (column, new))
            .collect();
        // Values have no Hash; their debug text is as exact (a float prints its shortest
        // round-trip form).
        let index = *group_of.entry(format!("{changes:?}")).or_insert_with(|| {
            groups.push((changes, Vec::new()));
            groups.len() - 1
        });
        groups[index].1.push(row);
        written.push(next);
    }

    let mut changed = 0;
    let mut stored = Vec::new();
    for (changes, originals) in &groups {
        for chunk in originals.chunks(keys_per_statement::<M>(backend, changes.len())) {
            let mut statement = update_statement::<M>();
            statement.assignments = changes.as_slice().into();
            statement.scope.filter = Some(keys_condition(chunk));
            statement.scope.schema = update.scope.schema.clone();
            let mut writer = statement.render(backend)?;
            if returning {
                writer.push(" RETURNING ");
                writer.push_select_columns(M::COLUMNS);
                let (sql, values) = writer.finish();
                let rows = transaction.fetch_all(&sql, &values).await?;
                changed += rows.len() as u64;
                for row in &rows {
                    stored.push(M::from_row(row)?);
                }
            } else {
                let (sql, values) = writer.finish();
                changed += transaction.execute(&sql, &values).await?;
            }
        }
    }
    // The rows were read locked, so each one read was written.
    for row in &written {
        row.after_update(transaction).await?;
    }
    Ok((changed, stored))
}

async fn delete_rows<M: Model>(
    delete: &Delete<M>,
    transaction: &mut Transaction,
    returning: bool,
) -> Result<(u64, Vec<M>)> {
    let backend = transaction.backend();
    let rows: Vec<M> = read_locked(
        &mut *transaction,
        delete.scope.filter.as_ref(),
        delete.scope.schema.as_ref(),
    )
    .await?;
    for row in &rows {
        row.before_delete(transaction).await?;
    }
    let mut deleted = 0;
    let all: Vec<&M> = rows.iter().collect();
    for chunk in all.chunks(keys_per_statement::<M>(backend, 0)) {
        let mut statement = delete_statement::<M>();
        statement.scope.filter = Some(keys_condition(chunk));
        statement.scope.schema = delete.scope.schema.clone();
        let (sql, values) = statement.render(backend)?.finish();
        deleted += transaction.execute(&sql, &values).await?;
    }
    // The rows were read locked, so each one read was deleted.
    for row in &rows {
        row.after_delete(transaction).await?;
    }
    Ok((deleted, if returning { rows } else { Vec::new() }))
}
