//! Inserting many rows at once, in as few statements as the engine's parameter limit allows:
//! [`insert_many`] (how many were inserted) and [`insert_many_returning`] (the rows as
//! stored). For a model with hooks both run `before_insert` on every row, then the inserts,
//! then `after_insert` on every stored row, in one transaction.

use super::ast::Expr;
use super::condition::key_condition;
use super::select::select;
use super::write::{in_transaction, insert_text, left_out_of};
use crate::Backend;
use crate::connection::Value;
use crate::dialect::dialect_for;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::model::Model;
use crate::transaction::Transaction;

/// Inserts many rows through `executor` in as few statements as the engine's parameter limit
/// allows; returns the number of rows inserted. Also `db.insert_many(&rows)`. A model with
/// hooks gets its insert hooks on every row, in one transaction with the inserts.
///
/// From [`COPY_MIN_ROWS`] rows of a model without hooks or tenant column, on PostgreSQL on
/// tokio-postgres ([`Executor::copies_in`]) through a
/// `Database` without replicas or a `Transaction`, the rows are loaded by one
/// `COPY ... FROM STDIN` instead (all or none of them), counted in the statistics and bumping
/// cached queries' versions as the `INSERT`s would.
///
/// # Errors
/// Hook and database errors; without hooks, earlier batches stay inserted unless run inside a
/// transaction (a COPY loads all rows or none).
pub async fn insert_many<M: Model, E: Executor>(mut executor: E, models: &[M]) -> Result<u64> {
    if M::HAS_HOOKS {
        return in_transaction(executor, async |transaction| {
            Ok(insert_with_hooks(transaction, models).await?.len() as u64)
        })
        .await;
    }
    let backend = executor.backend();
    if executor.copies_in()
        && let Some((statement, data)) = copy_data(backend, models)
        && let Some(copied) = executor.copy_in(&statement, &data).await?
    {
        return Ok(copied);
    }
    let mut inserted = 0;
    for chunk in models.chunks(rows_per_statement::<M>(backend)) {
        let rows: Vec<&M> = chunk.iter().collect();
        let (sql, values) = insert_text::<M>(backend, None, &rows, false, false);
        inserted += executor.execute(&sql, &values).await?.rows_affected;
    }
    Ok(inserted)
}

/// [`insert_many`] returning the rows as stored (generated keys and defaults filled in), in
/// the order given. PostgreSQL and SQLite read them from `INSERT ... RETURNING`; MySQL reads
/// each batch back in the same transaction, by the consecutive ids its auto-increment hands a
/// multi-row insert (or by the keys given, for a model without a generated key). Also
/// `db.insert_many_returning(&rows)`.
///
/// # Errors
/// Hook and database errors; on MySQL [`Error::Unsupported`] when a batch's generated ids are
/// not consecutive (`innodb_autoinc_lock_mode = 2` with concurrent inserts, or an
/// `auto_increment_increment` above 1), as the rows could not be told apart.
pub async fn insert_many_returning<M: Model, E: Executor>(
    executor: E,
    models: &[M],
) -> Result<Vec<M>> {
    if M::HAS_HOOKS {
        return in_transaction(executor, async |transaction| {
            insert_with_hooks(transaction, models).await
        })
        .await;
    }
    if !dialect_for(executor.backend()).supports_returning() {
        return in_transaction(executor, async |transaction| {
            insert_stored(transaction, models).await
        })
        .await;
    }
    insert_stored(executor, models).await
}

/// The insert hooks around [`insert_stored`].
async fn insert_with_hooks<M: Model>(
    transaction: &mut Transaction,
    models: &[M],
) -> Result<Vec<M>> {
    let mut rows = models.to_vec();
    for row in &mut rows {
        row.before_insert(transaction).await?;
    }
    let stored = insert_stored(&mut *transaction, &rows).await?;
    for row in &stored {
        row.after_insert(transaction).await?;
    }
    Ok(stored)
}

/// From how many rows [`insert_many`] loads through the engine's bulk path (PostgreSQL's
/// `COPY ... FROM STDIN`) where the executor has one: below, one multi-row `INSERT` costs the
/// server less than a COPY's extra round trip.
///
/// Measured at 1,000 users on tokio-postgres (`bench-instructions`, release): the COPY, its
/// statement kept prepared, takes 916 k client instructions and two round trips; the kept,
/// prepared multi-row `INSERT` of the same rows 1.03 M and one. At 10,000 rows COPY took
/// 59.8 ms against 99.5 ms for multi-row `INSERT`s (`make bench-bulk-insert`).
pub const COPY_MIN_ROWS: usize = 1000;

/// The bulk load of `models` ([`COPY_MIN_ROWS`] of them at least) as the engine's
/// `COPY ... FROM STDIN` statement and its data, with the columns an `INSERT` writes (generated
/// keys left to the database). `None` (the rows go as `INSERT` statements): fewer rows, an
/// engine without COPY, a tenant-scoped model (its tenant is bound per executor), or a value
/// without an exact text form ([`crate::dialect::copy_text`]).
fn copy_data<M: Model>(backend: Backend, models: &[M]) -> Option<(String, String)> {
    if models.len() < COPY_MIN_ROWS || M::TENANT_COLUMN.is_some() {
        return None;
    }
    let columns: Vec<&str> = M::COLUMNS
        .iter()
        .copied()
        .filter(|c| !M::GENERATED.contains(c))
        .collect();
    let statement = dialect_for(backend).copy_from_stdin(M::TABLE, &columns)?;
    let mut data = String::with_capacity(models.len() * 16 * columns.len());
    if M::COLUMNS.len() <= 64 {
        // Written from the fields: no values are built.
        let left_out = left_out_of::<M>(|_| true);
        for model in models {
            if !model.write_copy_row(left_out, &mut data) {
                return None;
            }
        }
    } else {
        for model in models {
            let values = model
                .values()
                .into_iter()
                .filter(|(column, _)| !M::GENERATED.contains(column))
                .map(|(_, value)| value);
            if !crate::dialect::copy_text::write_copy_row(&mut data, values) {
                return None;
            }
        }
    }
    Some((statement, data))
}

/// How many rows of `M` one statement can insert under the engine's parameter limit.
fn rows_per_statement<M: Model>(backend: Backend) -> usize {
    let per_row = M::COLUMNS
        .iter()
        .filter(|c| !M::GENERATED.contains(c))
        .count()
        .max(1);
    (dialect_for(backend).parameter_limit() / per_row).max(1)
}

/// Inserts `models` in batches and reads every row back as stored.
async fn insert_stored<M: Model>(mut executor: impl Executor, models: &[M]) -> Result<Vec<M>> {
    let backend = executor.backend();
    let returning = dialect_for(backend).supports_returning();
    let mut stored = Vec::with_capacity(models.len());
    for chunk in models.chunks(rows_per_statement::<M>(backend)) {
        let rows: Vec<&M> = chunk.iter().collect();
        let (sql, values) = insert_text::<M>(backend, None, &rows, false, returning);
        if returning {
            // `RETURNING` lists the columns in field order: decoded by position.
            let rows = executor
                .fetch_decoded(&sql, &values, |row| M::from_row_in_order(&row))
                .await?;
            stored.extend(rows);
            continue;
        }
        let executed = executor.execute(&sql, &values).await?;
        stored.extend(read_back(&mut executor, &rows, executed.last_insert_id).await?);
    }
    Ok(stored)
}

/// The rows of one multi-row insert without `RETURNING`, in the order inserted: by the ids
/// from `first_id` on for a model with one generated key, else by the keys given.
async fn read_back<M: Model>(
    mut executor: impl Executor,
    rows: &[&M],
    first_id: Option<u64>,
) -> Result<Vec<M>> {
    let backend = executor.backend();
    let generated = match (M::PRIMARY_KEY, M::GENERATED) {
        ([key], [generated]) if key == generated => Some(*key),
        _ => None,
    };
    let mut query = select::<M>();
    query.core.filter = Some(match (generated, first_id) {
        (Some(key), Some(first)) => Expr::In {
            column: key,
            values: (0..rows.len() as i64)
                .map(|offset| Value::Int(first as i64 + offset))
                .collect(),
        },
        _ => Expr::Or(rows.iter().map(|row| key_condition(*row).expr).collect()),
    });
    let found = query.all(&mut executor).await?;
    if found.len() != rows.len() {
        return Err(Error::Unsupported {
            backend,
            feature: format!(
                "reading back {} rows inserted into {} at once: {} found by their keys (the engine did not hand the batch consecutive ids; use insert_many, or insert rows one by one)",
                rows.len(),
                M::TABLE,
                found.len()
            ),
        });
    }
    match generated {
        Some(key) => {
            let mut found = found;
            found.sort_by_key(|row| match row.value_of(key) {
                Some(Value::Int(id)) => id,
                _ => i64::MAX,
            });
            Ok(found)
        }
        None => {
            // In the order given: each row by its key values.
            let mut ordered = Vec::with_capacity(rows.len());
            let mut found: Vec<Option<M>> = found.into_iter().map(Some).collect();
            for row in rows {
                let key: Vec<Option<Value>> =
                    M::PRIMARY_KEY.iter().map(|k| row.value_of(k)).collect();
                let position = found.iter().position(|candidate| {
                    candidate.as_ref().is_some_and(|candidate| {
                        M::PRIMARY_KEY
                            .iter()
                            .map(|k| candidate.value_of(k))
                            .eq(key.iter().cloned())
                    })
                });
                if let Some(stored) = position.and_then(|i| found[i].take()) {
                    ordered.push(stored);
                }
            }
            Ok(ordered)
        }
    }
}
