//! `UPDATE` and `DELETE` of the rows of one model that a filter matches.

use std::marker::PhantomData;
use std::sync::Arc;

use super::ast::Expr;
use super::column::Column;
use super::condition::Condition;
use super::render::push_where;
use super::rendered_statements::{
    BuilderValues, LentValues, StatementShape, lend_filter_values, push_filter_values, text_of,
};
use super::writer::{EnumColumns, SqlWriter};
use crate::Backend;
use crate::connection::Value;
use crate::error::{Error, Result};
use crate::model::{Assignable, Changes, ColumnType, Model};

/// The rows an `UPDATE` or `DELETE` touches and whether the model's hooks run.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scope {
    /// The `WHERE` condition, if any.
    pub(crate) filter: Option<Expr>,
    /// Set by `.all_rows()`: a write without a filter is a decision, never an accident.
    all_rows: bool,
    /// Set by `.without_hooks()`.
    skip_hooks: bool,
    /// Set by `.all_tenants()`: no tenant condition, tenant columns set as given.
    all_tenants: bool,
    /// Set by `.in_schema(..)`: the schema the table is written in.
    pub(super) schema: Option<String>,
}

impl Scope {
    fn narrow<M: Model>(&mut self, condition: Condition<M>) {
        self.filter = Some(condition.and_after(self.filter.take()));
    }

    pub(super) fn runs_hooks<M: Model>(&self) -> bool {
        M::HAS_HOOKS && !self.skip_hooks
    }

    /// Refuses `statement` ("an UPDATE of users", written only when refused) without a filter
    /// or `.all_rows()`.
    fn refuse_unscoped(
        &self,
        backend: Backend,
        statement: impl FnOnce() -> String,
        call: &str,
    ) -> Result<()> {
        if self.filter.is_none() && !self.all_rows {
            return Err(Error::Unsupported {
                backend,
                feature: format!(
                    "{} without a filter (call .all_rows() to {call})",
                    statement()
                ),
            });
        }
        Ok(())
    }

    /// Refuses a document-store write ([`crate::mongo`], "an update" of users) without a filter
    /// or `.all_rows()`, or one in a schema.
    #[cfg(feature = "mongodb")]
    pub(crate) fn refuse_unscoped_document<M: Model>(
        &self,
        statement: &str,
        call: &str,
    ) -> Result<()> {
        if self.filter.is_none() && !self.all_rows {
            return Err(Error::MongoUnsupported {
                feature: format!(
                    "{statement} of {} without a filter (call .all_rows() to {call})",
                    M::TABLE
                ),
            });
        }
        if self.schema.is_some() {
            return Err(Error::MongoUnsupported {
                feature: format!(
                    "{statement} of {} in_schema (open a MongoDatabase on the other database instead)",
                    M::TABLE
                ),
            });
        }
        Ok(())
    }

    /// A writer for the statement on `M`.
    fn writer<M: Model>(&self, backend: Backend) -> SqlWriter {
        let mut writer = SqlWriter::for_model(backend, EnumColumns::of::<M>());
        writer.set_all_tenants(self.all_tenants);
        writer.set_schema(self.schema.as_deref());
        writer
    }

    fn push_where(&self, writer: &mut SqlWriter) {
        push_where(writer, self.filter.as_ref(), None);
    }

    /// Whether a statement on `M` in this scope has a text that depends on its shape alone
    /// (see [`super::rendered_statements`]): no schema, every tenant or no tenant column, no
    /// enum columns.
    fn text_is_shaped<M: Model>(&self) -> bool {
        self.schema.is_none()
            && !self.all_tenants
            && M::TENANT_COLUMN.is_none()
            && M::ENUM_COLUMNS.is_empty()
    }
}

/// The text of `write` (kept from an earlier statement of the same `shape` on this thread,
/// else rendered) and its values: lent by `lend` when it can (`true`), else gathered by
/// `collect`, both in the renderer's order, when the text was kept.
fn shaped_statement<'a, M: Model, W: FilteredWrite<M>>(
    write: &'a W,
    backend: Backend,
    shape: Option<&StatementShape>,
    lend: impl FnOnce(&mut LentValues<'a>) -> bool,
    collect: impl FnOnce(&mut Vec<Value>),
) -> Result<(Arc<str>, BuilderValues<'a>)> {
    let Some(shape) = shape else {
        let (sql, values) = write.render(backend)?.finish();
        return Ok((sql.into(), BuilderValues::Built(values)));
    };
    let (text, rendered) = text_of(shape, || write.render(backend).map(SqlWriter::finish))?;
    if let Some(values) = rendered {
        return Ok((text, BuilderValues::Built(values)));
    }
    let values = BuilderValues::of_kept_text(lend, collect, || {
        write.render(backend).ok().map(|writer| writer.finish().1)
    });
    Ok((text, values))
}

/// What [`Update`] and [`Delete`] differ in; their `exec` and `returning` are shared
/// (`super::write_hooks`).
pub(super) trait FilteredWrite<M: Model> {
    /// "an UPDATE", "a DELETE": for refusals.
    const STATEMENT: &'static str;

    fn scope(&self) -> &Scope;

    /// Refuses what this statement cannot be (no filter without `.all_rows()`, an `UPDATE`
    /// setting nothing).
    fn check(&self, backend: Backend) -> Result<()>;

    fn render(&self, backend: Backend) -> Result<SqlWriter>;

    /// The statement and its values as `render` writes them, the text kept per shape
    /// ([`super::rendered_statements`]): what `exec` runs.
    fn statement(&self, backend: Backend) -> Result<(Arc<str>, BuilderValues<'_>)>;
}

/// The statement followed by `RETURNING` every column of `M`, or why it is refused.
pub(super) fn render_returning<M: Model, W: FilteredWrite<M>>(
    write: &W,
    backend: Backend,
) -> Result<SqlWriter> {
    if !crate::dialect::dialect_for(backend).supports_returning() {
        return Err(Error::Unsupported {
            backend,
            feature: format!("returning rows from {}", W::STATEMENT),
        });
    }
    let mut writer = write.render(backend)?;
    writer.push(" RETURNING ");
    writer.push_select_columns(M::COLUMNS);
    Ok(writer)
}

/// An `UPDATE` of rows of `M`. For a model with its own hooks (`#[foxdb(hooks)]`) it runs
/// `before_update` and `after_update` for every row it changes, in one transaction with the
/// write; see [`Update::without_hooks`] for the cost and the way out.
#[derive(Debug)]
pub struct Update<M> {
    /// The columns set and their values: one or two on most updates, kept inline.
    pub(crate) assignments: smallvec::SmallVec<[(&'static str, Value); 2]>,
    pub(crate) scope: Scope,
    _model: PhantomData<fn() -> M>,
}

/// Starts an `UPDATE` of rows of `M`.
pub fn update<M: Model>() -> Update<M> {
    Update {
        assignments: smallvec::SmallVec::new(),
        scope: Scope::default(),
        _model: PhantomData,
    }
}

impl<M: Model> Update<M> {
    /// The statement and its parameters for `backend` (without the model's hooks, which
    /// [`Update::exec`] runs around statements by primary key).
    ///
    /// # Errors
    /// As for [`Update::exec`], before anything runs.
    pub fn to_sql(&self, backend: Backend) -> Result<(String, Vec<Value>)> {
        Ok(self.render(backend)?.finish())
    }

    /// The statement of [`Update::returning`] (without the model's hooks) for `backend`.
    ///
    /// # Errors
    /// As for [`Update::returning`], before anything runs.
    #[doc(hidden)]
    pub fn returning_to_sql(&self, backend: Backend) -> Result<(String, Vec<Value>)> {
        Ok(render_returning(self, backend)?.finish())
    }

    /// Sets `column` to `value`: a value of the column's type (or a lossless widening, as
    /// comparisons take), and for a nullable column also an `Option` of one
    /// (`set(User::BIO, Some("hi"))`; `None` writes NULL, as [`Update::set_null`]).
    ///
    /// The value must fit the column:
    ///
    /// ```compile_fail
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "users")]
    /// # struct User { #[foxdb(primary_key)] id: i64, email: String, bio: Option<String> }
    /// use foxdb::ModelExt;
    /// let wrong = User::update().set(User::EMAIL, Some("a@example.com")); // not nullable
    /// ```
    ///
    /// ```compile_fail
    /// # #[derive(Clone, foxdb::Model)]
    /// # #[foxdb(table = "users")]
    /// # struct User { #[foxdb(primary_key)] id: i64, email: String, bio: Option<String> }
    /// use foxdb::ModelExt;
    /// let wrong = User::update().set(User::BIO, Some(42)); // a number is not a String
    /// ```
    pub fn set<T: ColumnType>(mut self, column: Column<M, T>, value: impl Assignable<T>) -> Self {
        self.assignments
            .push((column.name(), value.into_assigned()));
        self
    }

    /// Sets every column `changes` holds (its `Some` fields): the model's `<Model>Changes`
    /// struct, for partial updates that arrive as data (`UserChanges { name: Some(..),
    /// ..Default::default() }`).
    pub fn changes<C: Changes<Model = M>>(mut self, changes: &C) -> Self {
        self.assignments.extend(changes.assignments());
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

    /// Changes only rows matching `condition` (several calls: all of them).
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.scope.narrow(condition);
        self
    }

    /// Changes the rows of the table in `schema` (also the reads and writes of the model's
    /// hooks path, and relation filters' tables); see [`super::Select::in_schema`].
    pub fn in_schema(mut self, schema: impl Into<String>) -> Self {
        self.scope.schema = Some(schema.into());
        self
    }

    /// Changes every row: needed when there is no filter, so an unfiltered update is a
    /// decision, never an accident.
    pub fn all_rows(mut self) -> Self {
        self.scope.all_rows = true;
        self
    }

    /// Changes the matching rows of every tenant (and sets a tenant column as given); see
    /// [`super::Select::all_tenants`].
    pub fn all_tenants(mut self) -> Self {
        self.scope.all_tenants = true;
        self
    }

    /// Skips the model's update hooks: one `UPDATE` statement, as for a model without hooks.
    ///
    /// With hooks (the default for a model with `#[foxdb(hooks)]`) the update reads the
    /// matching rows first (locked: `FOR UPDATE` on PostgreSQL and MySQL), sets the columns
    /// on each row in memory and runs its `before_update` (which may change it further), writes
    /// by primary key — rows the hooks left with the same changes share one statement — and
    /// runs `after_update` for every row written, all in one transaction (the caller's, when
    /// run on one). That is one more query, every matching row in memory, and one statement per
    /// distinct outcome of the hooks; a hook error undoes the whole update.
    pub fn without_hooks(mut self) -> Self {
        self.scope.skip_hooks = true;
        self
    }
}

impl<M: Model> FilteredWrite<M> for Update<M> {
    const STATEMENT: &'static str = "an UPDATE";

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn check(&self, backend: Backend) -> Result<()> {
        let statement = || format!("{} of {}", Self::STATEMENT, M::TABLE);
        self.scope
            .refuse_unscoped(backend, statement, "change every row")?;
        if self.assignments.is_empty() {
            return Err(Error::Unsupported {
                backend,
                feature: format!("{} that sets no column (call .set())", statement()),
            });
        }
        Ok(())
    }

    fn statement(&self, backend: Backend) -> Result<(Arc<str>, BuilderValues<'_>)> {
        self.check(backend)?;
        // Built in place and lent: a shape is a few hundred bytes.
        let shape = if self.scope.text_is_shaped::<M>() {
            StatementShape::of_update(
                backend,
                M::TABLE,
                self.assignments.iter().map(|(column, _)| *column),
                self.scope.filter.as_ref(),
            )
        } else {
            None
        };
        let filter = self.scope.filter.as_ref();
        shaped_statement(
            self,
            backend,
            shape.as_ref(),
            |lent| {
                lent.extend(self.assignments.iter().map(|(_, value)| value));
                lend_filter_values(backend, filter, lent)
            },
            |values| {
                values.extend(self.assignments.iter().map(|(_, value)| value.clone()));
                push_filter_values(backend, filter, values);
            },
        )
    }

    /// The statement, or why it is refused.
    fn render(&self, backend: Backend) -> Result<SqlWriter> {
        self.check(backend)?;
        let mut writer = self.scope.writer::<M>(backend);
        writer.push("UPDATE ");
        writer.push_table(M::TABLE);
        writer.push(" SET ");
        for (i, (column, value)) in self.assignments.iter().enumerate() {
            if i > 0 {
                writer.push(", ");
            }
            writer.push_identifier(column);
            writer.push(" = ");
            writer.push_written_value(column, value.clone());
        }
        self.scope.push_where(&mut writer);
        Ok(writer)
    }
}

/// A `DELETE` of rows of `M`. For a model with its own hooks it runs `before_delete` and
/// `after_delete` for every row it deletes, in one transaction with the write; see
/// [`Delete::without_hooks`].
#[derive(Debug)]
pub struct Delete<M> {
    pub(crate) scope: Scope,
    _model: PhantomData<fn() -> M>,
}

/// Starts a `DELETE` of rows of `M`.
pub fn delete<M: Model>() -> Delete<M> {
    Delete {
        scope: Scope::default(),
        _model: PhantomData,
    }
}

impl<M: Model> Delete<M> {
    /// The statement and its parameters for `backend` (without the model's hooks, which
    /// [`Delete::exec`] runs around statements by primary key).
    ///
    /// # Errors
    /// As for [`Delete::exec`], before anything runs.
    pub fn to_sql(&self, backend: Backend) -> Result<(String, Vec<Value>)> {
        Ok(self.render(backend)?.finish())
    }

    /// The statement of [`Delete::returning`] (without the model's hooks) for `backend`.
    ///
    /// # Errors
    /// As for [`Delete::returning`], before anything runs.
    #[doc(hidden)]
    pub fn returning_to_sql(&self, backend: Backend) -> Result<(String, Vec<Value>)> {
        Ok(render_returning(self, backend)?.finish())
    }

    /// Deletes only rows matching `condition` (several calls: all of them).
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.scope.narrow(condition);
        self
    }

    /// Deletes rows of the table in `schema`; see [`super::Select::in_schema`].
    pub fn in_schema(mut self, schema: impl Into<String>) -> Self {
        self.scope.schema = Some(schema.into());
        self
    }

    /// Deletes every row: needed when there is no filter.
    pub fn all_rows(mut self) -> Self {
        self.scope.all_rows = true;
        self
    }

    /// Deletes the matching rows of every tenant; see [`super::Select::all_tenants`].
    pub fn all_tenants(mut self) -> Self {
        self.scope.all_tenants = true;
        self
    }

    /// Skips the model's delete hooks: one `DELETE` statement, as for a model without hooks.
    ///
    /// With hooks (the default for a model with `#[foxdb(hooks)]`) the delete reads the
    /// matching rows first (locked: `FOR UPDATE` on PostgreSQL and MySQL), runs each row's
    /// `before_delete`, deletes them by primary key and runs each row's `after_delete`, all in
    /// one transaction (the caller's, when run on one): one more query and every matching row
    /// in memory; a hook error undoes the whole delete.
    pub fn without_hooks(mut self) -> Self {
        self.scope.skip_hooks = true;
        self
    }
}

impl<M: Model> FilteredWrite<M> for Delete<M> {
    const STATEMENT: &'static str = "a DELETE";

    fn scope(&self) -> &Scope {
        &self.scope
    }

    fn check(&self, backend: Backend) -> Result<()> {
        self.scope.refuse_unscoped(
            backend,
            || format!("{} from {}", Self::STATEMENT, M::TABLE),
            "delete every row",
        )
    }

    fn statement(&self, backend: Backend) -> Result<(Arc<str>, BuilderValues<'_>)> {
        self.check(backend)?;
        let filter = self.scope.filter.as_ref();
        let shape = if self.scope.text_is_shaped::<M>() {
            StatementShape::of_delete(backend, M::TABLE, filter)
        } else {
            None
        };
        shaped_statement(
            self,
            backend,
            shape.as_ref(),
            |lent| lend_filter_values(backend, filter, lent),
            |values| push_filter_values(backend, filter, values),
        )
    }

    /// The statement, or why it is refused.
    fn render(&self, backend: Backend) -> Result<SqlWriter> {
        self.check(backend)?;
        let mut writer = self.scope.writer::<M>(backend);
        writer.push("DELETE FROM ");
        writer.push_table(M::TABLE);
        self.scope.push_where(&mut writer);
        Ok(writer)
    }
}
