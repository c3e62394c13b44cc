//! Selecting some columns into tuples: `User::find().select((User::ID, User::NAME))`.

use super::column::Column;
use super::select::Select;
use crate::error::Result;
use crate::executor::Executor;
use crate::model::{ColumnType, Model};
use crate::row::{FromColumn, Row};

/// Columns of model `M` selected together, decoded into a tuple.
pub trait Selection<M> {
    /// The decoded row.
    type Output;

    /// The selected column names, in order.
    fn columns(&self) -> Vec<&'static str>;

    /// Decodes one row.
    ///
    /// # Errors
    /// A column holds another type.
    fn decode(&self, row: &Row) -> Result<Self::Output>;
}

macro_rules! tuple_selection {
    ($($name:ident: $ty:ident => $index:tt),+) => {
        impl<M: Model, $($ty: ColumnType + FromColumn),+> Selection<M> for ($(Column<M, $ty>,)+) {
            type Output = ($($ty,)+);

            fn columns(&self) -> Vec<&'static str> {
                vec![$(self.$index.name()),+]
            }

            fn decode(&self, row: &Row) -> Result<Self::Output> {
                Ok(($(row.get::<$ty>(self.$index.name())?,)+))
            }
        }
    };
}

tuple_selection!(a: A => 0);
tuple_selection!(a: A => 0, b: B => 1);
tuple_selection!(a: A => 0, b: B => 1, c: C => 2);
tuple_selection!(a: A => 0, b: B => 1, c: C => 2, d: D => 3);
tuple_selection!(a: A => 0, b: B => 1, c: C => 2, d: D => 3, e: E => 4);
tuple_selection!(a: A => 0, b: B => 1, c: C => 2, d: D => 3, e: E => 4, f: F => 5);

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
            .to_sql_columns(database.backend(), &self.selection.columns());
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
        let (sql, values) = query.to_sql_columns(database.backend(), &self.selection.columns());
        match database.fetch_all(&sql, &values).await?.first() {
            Some(row) => self.selection.decode(row).map(Some),
            None => Ok(None),
        }
    }
}
