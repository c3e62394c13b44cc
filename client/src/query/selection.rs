//! Selecting columns and aggregates into tuples:
//! `User::find().select((User::ID, User::NAME))`,
//! `User::find().group_by(User::ROLE).select((User::ROLE, count()))`.

use super::SqlWriter;
use super::aggregate::{Aggregate, render_aggregate};
use super::column::Column;
use super::select::Select;
use crate::error::Result;
use crate::executor::Executor;
use crate::model::{ColumnType, Model};
use crate::row::{FromColumn, Row};

/// Something a query can select for rows of `M`: a column or an aggregate.
pub trait Selectable<M> {
    /// The Rust type it decodes into.
    type Value: FromColumn;

    /// Writes the expression.
    fn render(&self, writer: &mut SqlWriter);
}

impl<M: Model, T: ColumnType + FromColumn> Selectable<M> for Column<M, T> {
    type Value = T;

    fn render(&self, writer: &mut SqlWriter) {
        writer.push_column_expression(self.name());
    }
}

impl<M: Model, T: FromColumn> Selectable<M> for Aggregate<M, T> {
    type Value = T;

    fn render(&self, writer: &mut SqlWriter) {
        let backend = writer.backend();
        render_aggregate(writer, backend, self.function, self.column);
    }
}

/// Columns and aggregates of model `M` selected together, decoded into a tuple.
pub trait Selection<M> {
    /// The decoded row.
    type Output;

    /// Writes the select list (items aliased `_fox_0`, `_fox_1`, ...).
    fn render(&self, writer: &mut SqlWriter);

    /// Decodes one row.
    ///
    /// # Errors
    /// A value of another type.
    fn decode(&self, row: &Row) -> Result<Self::Output>;
}

fn alias(index: usize) -> String {
    format!("_fox_{index}")
}

macro_rules! tuple_selection {
    ($($ty:ident => $index:tt),+) => {
        impl<M: Model, $($ty: Selectable<M>),+> Selection<M> for ($($ty,)+) {
            type Output = ($($ty::Value,)+);

            fn render(&self, writer: &mut SqlWriter) {
                $(
                    if $index > 0 {
                        writer.push(", ");
                    }
                    self.$index.render(writer);
                    writer.push(" AS ");
                    writer.push_identifier(&alias($index));
                )+
            }

            fn decode(&self, row: &Row) -> Result<Self::Output> {
                Ok(($(row.get::<$ty::Value>(&alias($index))?,)+))
            }
        }
    };
}

tuple_selection!(A => 0);
tuple_selection!(A => 0, B => 1);
tuple_selection!(A => 0, B => 1, C => 2);
tuple_selection!(A => 0, B => 1, C => 2, D => 3);
tuple_selection!(A => 0, B => 1, C => 2, D => 3, E => 4);
tuple_selection!(A => 0, B => 1, C => 2, D => 3, E => 4, F => 5);

/// A query returning some columns of `M` as tuples.
#[derive(Debug)]
pub struct SelectColumns<M, S> {
    pub(crate) query: Select<M>,
    pub(crate) selection: S,
}

impl<M: Model, S: Selection<M>> SelectColumns<M, S> {
    /// Every matching row.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn all(&self, database: impl Executor) -> Result<Vec<S::Output>> {
        let (sql, values) = self
            .query
            .to_sql_with(database.backend(), |w| self.selection.render(w));
        database
            .fetch_all(&sql, &values)
            .await?
            .iter()
            .map(|row| self.selection.decode(row))
            .collect()
    }

    /// The first matching row, if any.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn one(self, database: impl Executor) -> Result<Option<S::Output>> {
        let query = self.query.limit(1);
        let (sql, values) = query.to_sql_with(database.backend(), |w| self.selection.render(w));
        match database.fetch_all(&sql, &values).await?.first() {
            Some(row) => self.selection.decode(row).map(Some),
            None => Ok(None),
        }
    }
}
