//! Inserts that meet a stored row on a unique key: `User::insert(&user)` with
//! `.on_conflict(User::EMAIL)` then `.update([User::NAME])` (set those columns of the stored
//! row from the new one) or `.do_nothing()` (keep the stored row).
//!
//! # One behaviour per engine
//! | | PostgreSQL, SQLite | MySQL, MariaDB |
//! |---|---|---|
//! | `.update(cols)` | `ON CONFLICT (key) DO UPDATE SET ... RETURNING *` | `ON DUPLICATE KEY UPDATE ...`, read back in the same transaction |
//! | `.do_nothing()` | `ON CONFLICT (key) DO NOTHING RETURNING *` | the key read locked (`FOR UPDATE`), then a plain `INSERT` if it is free |
//!
//! A conflict on another unique key than the one named is an error
//! ([`crate::Error::UniqueViolation`]) everywhere except in MySQL's `.update`: `ON DUPLICATE KEY`
//! takes a conflict on *any* unique key (the primary key included) as the row to update, and
//! that row is the one returned (for a model with a generated key, named through
//! `LAST_INSERT_ID`; otherwise read back by the conflict columns).

use super::column::Column;
use super::write::in_transaction;
use super::writer::{EnumColumns, SqlWriter};
use crate::connection::Value;
use crate::dialect::dialect_for;
use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::model::{ColumnType, Model};

/// Columns of model `M` named together: one [`Column`], an array of columns of one type, or a
/// tuple of up to six columns (`(User::NAME, User::AGE)`).
pub trait ColumnList<M> {
    /// The column names, in order.
    fn names(&self) -> Vec<&'static str>;
}

impl<M: Model, T: ColumnType> ColumnList<M> for Column<M, T> {
    fn names(&self) -> Vec<&'static str> {
        vec![self.name()]
    }
}

impl<M: Model, T: ColumnType, const N: usize> ColumnList<M> for [Column<M, T>; N] {
    fn names(&self) -> Vec<&'static str> {
        self.iter().map(Column::name).collect()
    }
}

macro_rules! tuple_column_list {
    ($($ty:ident . $index:tt),+) => {
        impl<M, $($ty: ColumnList<M>),+> ColumnList<M> for ($($ty,)+) {
            fn names(&self) -> Vec<&'static str> {
                let mut names = Vec::new();
                $(names.extend(self.$index.names());)+
                names
            }
        }
    };
}

tuple_column_list!(A.0);
tuple_column_list!(A.0, B.1);
tuple_column_list!(A.0, B.1, C.2);
tuple_column_list!(A.0, B.1, C.2, D.3);
tuple_column_list!(A.0, B.1, C.2, D.3, E.4);
tuple_column_list!(A.0, B.1, C.2, D.3, E.4, F.5);

/// An `INSERT` of one row of `M`: run it with [`Insert::exec`], or name the unique key a
/// stored row may already hold with [`Insert::on_conflict`]. Made by `User::insert(&user)`
/// ([`crate::ModelExt::insert`]).
#[derive(Debug, Clone)]
#[must_use = "an insert does nothing until it is run with .exec(&db)"]
pub struct Insert<M> {
    row: M,
}

impl<M: Model> Insert<M> {
    /// An insert of `row` (its generated keys left to the database, as [`super::insert`]).
    pub fn new(row: &M) -> Self {
        Self { row: row.clone() }
    }

    /// The unique key (one column or several: see [`ColumnList`]) on which the new row may meet
    /// a stored one; follow with [`OnConflict::update`] or [`OnConflict::do_nothing`]. The
    /// columns must be the primary key or carry a unique constraint or index of their own
    /// (PostgreSQL and SQLite refuse the statement otherwise).
    ///
    /// Only columns of `M` are accepted:
    ///
    /// ```compile_fail
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "users")]
    /// # struct User { #[foxdb(primary_key, auto_increment)] id: i64, email: String }
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "posts")]
    /// # struct Post { #[foxdb(primary_key, auto_increment)] id: i64, title: String }
    /// use foxdb::ModelExt;
    /// let user = User { id: 0, email: "ada@example.com".into() };
    /// let wrong = User::insert(&user).on_conflict(Post::TITLE); // error: a Post column
    /// ```
    pub fn on_conflict(self, key: impl ColumnList<M>) -> OnConflict<M> {
        OnConflict {
            row: self.row,
            key: key.names(),
        }
    }

    /// Inserts the row with the insert hooks and returns it as stored; the same as
    /// `db.insert(&row)`.
    ///
    /// # Errors
    /// Hook, database and decoding errors.
    pub async fn exec(&self, executor: impl Executor) -> Result<M> {
        super::write::insert(executor, &self.row).await
    }
}

/// An insert with the unique key it may conflict on; see [`Insert::on_conflict`].
#[derive(Debug, Clone)]
#[must_use = "say what a conflict does: .update([..]) or .do_nothing()"]
pub struct OnConflict<M> {
    row: M,
    key: Vec<&'static str>,
}

impl<M: Model> OnConflict<M> {
    /// On a conflict, sets `columns` of the stored row from the new row and keeps its other
    /// columns (its key included): an upsert by that key. Run with [`OnConflictUpdate::exec`],
    /// which returns the row as stored.
    ///
    /// Only columns of `M` are accepted:
    ///
    /// ```compile_fail
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "users")]
    /// # struct User { #[foxdb(primary_key, auto_increment)] id: i64, email: String }
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "posts")]
    /// # struct Post { #[foxdb(primary_key, auto_increment)] id: i64, title: String }
    /// use foxdb::ModelExt;
    /// let user = User { id: 0, email: "ada@example.com".into() };
    /// let wrong = User::insert(&user).on_conflict(User::EMAIL).update([Post::TITLE]);
    /// ```
    pub fn update(self, columns: impl ColumnList<M>) -> OnConflictUpdate<M> {
        OnConflictUpdate {
            row: self.row,
            key: self.key,
            updated: columns.names(),
        }
    }

    /// On a conflict, keeps the stored row as it is and writes nothing. Run with
    /// [`OnConflictDoNothing::exec`], which returns the inserted row, or `None` when a row
    /// held the key.
    pub fn do_nothing(self) -> OnConflictDoNothing<M> {
        OnConflictDoNothing {
            row: self.row,
            key: self.key,
        }
    }
}

/// An insert that updates the stored row on a conflict; see [`OnConflict::update`].
#[derive(Debug, Clone)]
#[must_use = "an insert does nothing until it is run with .exec(&db)"]
pub struct OnConflictUpdate<M> {
    row: M,
    key: Vec<&'static str>,
    updated: Vec<&'static str>,
}

impl<M: Model> OnConflictUpdate<M> {
    /// The statement for `backend` (hooks aside): `INSERT` with the engine's upsert clause
    /// on the conflict key, and `RETURNING` where the engine has it.
    ///
    /// # Errors
    /// [`Error::Unsupported`] with no column to update or no conflict column.
    pub fn to_sql(&self, backend: crate::Backend) -> Result<(String, Vec<Value>)> {
        Ok(self.render(&self.row, backend)?.finish())
    }

    fn render(&self, row: &M, backend: crate::Backend) -> Result<SqlWriter> {
        if self.key.is_empty() || self.updated.is_empty() {
            return Err(Error::Unsupported {
                backend,
                feature: format!(
                    "an insert into {} with .on_conflict(..).update(..) naming no {} (name at least one column, or use .do_nothing())",
                    M::TABLE,
                    if self.key.is_empty() {
                        "conflict column"
                    } else {
                        "column to update"
                    }
                ),
            });
        }
        let mut writer = insert_writer(row, backend);
        let key: Vec<String> = self.key.iter().map(|c| c.to_string()).collect();
        let updated: Vec<String> = self.updated.iter().map(|c| c.to_string()).collect();
        let dialect = dialect_for(backend);
        let clause = match generated_key::<M>() {
            Some(generated) => dialect.upsert_clause_reporting(&key, &updated, generated),
            None => dialect.upsert_clause(&key, &updated),
        };
        writer.push(&clause);
        if dialect.supports_returning() {
            writer.push(" RETURNING ");
            writer.push_select_columns(M::COLUMNS);
        }
        Ok(writer)
    }

    /// Inserts the row, or sets the chosen columns of the stored row holding its key; returns
    /// the row as stored either way. The insert hooks run around it (`before_insert` on the
    /// new row, `after_insert` on the stored one), in one transaction with the write when the
    /// model has hooks; on MySQL the write and its read back share a transaction too.
    ///
    /// # Errors
    /// [`Error::Unsupported`] as for [`OnConflictUpdate::to_sql`]; a conflict on another
    /// unique key (PostgreSQL, SQLite) as [`Error::UniqueViolation`]; hook, database and
    /// decoding errors.
    pub async fn exec(&self, executor: impl Executor) -> Result<M> {
        if M::HAS_HOOKS {
            return in_transaction(executor, async |transaction| {
                let mut row = self.row.clone();
                row.before_insert(transaction).await?;
                let stored = self.write(&mut *transaction, &row).await?;
                stored.after_insert(transaction).await?;
                Ok(stored)
            })
            .await;
        }
        if !dialect_for(executor.backend()).supports_returning() {
            return in_transaction(executor, async |transaction| {
                self.write(transaction, &self.row).await
            })
            .await;
        }
        self.write(executor, &self.row).await
    }

    /// The statement for `row` and the row as stored after it.
    async fn write(&self, mut executor: impl Executor, row: &M) -> Result<M> {
        let backend = executor.backend();
        let (sql, values) = self.render(row, backend)?.finish();
        let stored = if dialect_for(backend).supports_returning() {
            let rows = executor.fetch_all(&sql, &values).await?;
            let stored = rows.first().ok_or_else(|| Error::NotFound {
                table: M::TABLE.to_string(),
            })?;
            M::from_row(stored)?
        } else {
            let executed = executor.execute(&sql, &values).await?;
            // The row written: by the id the statement reported, else by the conflict key.
            let by: Vec<(&'static str, Value)> =
                match (generated_key::<M>(), executed.last_insert_id) {
                    (Some(generated), Some(id)) if id > 0 => {
                        vec![(generated, Value::Int(id as i64))]
                    }
                    _ => key_values(row, &self.key),
                };
            read_by(&mut executor, &by, false)
                .await?
                .ok_or_else(|| Error::NotFound {
                    table: M::TABLE.to_string(),
                })?
        };
        Ok(stored)
    }
}

/// An insert that keeps the stored row on a conflict; see [`OnConflict::do_nothing`].
#[derive(Debug, Clone)]
#[must_use = "an insert does nothing until it is run with .exec(&db)"]
pub struct OnConflictDoNothing<M> {
    row: M,
    key: Vec<&'static str>,
}

impl<M: Model> OnConflictDoNothing<M> {
    /// Inserts the row unless a stored row holds its key; returns the inserted row as stored,
    /// or `None` when the stored row was kept (nothing written, `after_insert` not run). On
    /// PostgreSQL and SQLite one `INSERT ... ON CONFLICT (key) DO NOTHING RETURNING`; on MySQL,
    /// whose `ON DUPLICATE KEY` would also swallow conflicts on other keys, the key is read
    /// locked and the row inserted only if it is free, in one transaction.
    ///
    /// # Errors
    /// [`Error::Unsupported`] with no conflict column; a conflict on another unique key as
    /// [`Error::UniqueViolation`] (every engine); hook, database and decoding errors.
    pub async fn exec(&self, executor: impl Executor) -> Result<Option<M>> {
        if M::HAS_HOOKS {
            return in_transaction(executor, async |transaction| {
                let mut row = self.row.clone();
                row.before_insert(transaction).await?;
                let stored = self.write(&mut *transaction, &row).await?;
                if let Some(stored) = &stored {
                    stored.after_insert(transaction).await?;
                }
                Ok(stored)
            })
            .await;
        }
        if !dialect_for(executor.backend()).upsert_names_its_key() {
            return in_transaction(executor, async |transaction| {
                self.write(transaction, &self.row).await
            })
            .await;
        }
        self.write(executor, &self.row).await
    }

    /// The statement(s) for `row`; the row inserted, if it was.
    async fn write(&self, mut executor: impl Executor, row: &M) -> Result<Option<M>> {
        let backend = executor.backend();
        if self.key.is_empty() {
            return Err(Error::Unsupported {
                backend,
                feature: format!(
                    "an insert into {} with .on_conflict(..) naming no column",
                    M::TABLE
                ),
            });
        }
        let dialect = dialect_for(backend);
        let stored = if dialect.upsert_names_its_key() {
            let mut writer = insert_writer(row, backend);
            let key: Vec<String> = self.key.iter().map(|c| c.to_string()).collect();
            writer.push(&dialect.upsert_clause(&key, &[]));
            writer.push(" RETURNING ");
            writer.push_select_columns(M::COLUMNS);
            let (sql, values) = writer.finish();
            match executor.fetch_all(&sql, &values).await?.first() {
                Some(stored) => M::from_row(stored)?,
                None => return Ok(None),
            }
        } else {
            if read_by::<M>(&mut executor, &key_values(row, &self.key), true)
                .await?
                .is_some()
            {
                return Ok(None);
            }
            super::write::insert_row(&mut executor, row, false).await?
        };
        Ok(Some(stored))
    }
}

/// The one generated primary-key column, if the model has one.
fn generated_key<M: Model>() -> Option<&'static str> {
    match (M::PRIMARY_KEY, M::GENERATED) {
        ([key], [generated]) if key == generated => Some(key),
        _ => None,
    }
}

/// `INSERT INTO t (columns) VALUES (...)` of `row`, generated columns left to the database.
fn insert_writer<M: Model>(row: &M, backend: crate::Backend) -> SqlWriter {
    super::write::insert_writer::<M>(backend, &[row])
}

/// `row`'s values of the `key` columns.
fn key_values<M: Model>(row: &M, key: &[&'static str]) -> Vec<(&'static str, Value)> {
    key.iter()
        .map(|column| (*column, row.value_of(column).unwrap_or(Value::Null)))
        .collect()
}

/// The row of `M` whose columns hold `values`, locked until the transaction ends when `locked`.
async fn read_by<M: Model>(
    mut executor: impl Executor,
    values: &[(&'static str, Value)],
    locked: bool,
) -> Result<Option<M>> {
    let backend = executor.backend();
    let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<M>());
    writer.push("SELECT ");
    writer.push_select_columns(M::COLUMNS);
    writer.push(" FROM ");
    writer.push_identifier(M::TABLE);
    writer.push(" WHERE ");
    for (i, (column, value)) in values.iter().enumerate() {
        if i > 0 {
            writer.push(" AND ");
        }
        writer.push_identifier(column);
        writer.push(" = ");
        writer.push_column_value(column, value.clone());
    }
    if locked {
        writer.push(dialect_for(backend).lock_rows_clause());
    }
    let (sql, values) = writer.finish();
    executor
        .fetch_all(&sql, &values)
        .await?
        .first()
        .map(M::from_row)
        .transpose()
}
