//! Selecting columns and aggregates into tuples:
//! `User::find().select((User::ID, User::NAME))`,
//! `User::find().group_by(User::ROLE).select((User::ROLE, count()))`.

use std::borrow::Cow;

use super::aggregate::Aggregate;
use super::column::Column;
use super::render::push_aggregate;
use super::select::Select;
use super::source::{Contains, Nullable, Nullness, Source};
use super::writer::{EnumColumns, SqlWriter};
use crate::error::Result;
use crate::executor::Executor;
use crate::model::{ColumnType, Model};
use crate::row::{FromColumn, Row};

/// Something a query can select for rows of `M`: a column or an aggregate (`Sync`, as the
/// selection is borrowed by the query's future while rows are decoded).
pub trait Selectable<M>: Sync {
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
        push_aggregate(writer, self.function, None, self.column);
    }
}

/// Columns and aggregates of model `M` selected together, decoded into a tuple.
pub trait Selection<M>: Sync {
    /// The decoded row.
    type Output: Send;

    /// Writes the select list (items aliased `_fox_0`, `_fox_1`, ...).
    fn render(&self, writer: &mut SqlWriter);

    /// Decodes one row.
    ///
    /// # Errors
    /// A value of another type.
    fn decode(&self, row: &Row) -> Result<Self::Output>;
}

/// The aliases of selected items, by position (rows are decoded by position).
const ALIASES: [&str; 12] = [
    "_fox_0", "_fox_1", "_fox_2", "_fox_3", "_fox_4", "_fox_5", "_fox_6", "_fox_7", "_fox_8",
    "_fox_9", "_fox_10", "_fox_11",
];

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
                    writer.push_identifier(ALIASES[$index]);
                )+
            }

            fn decode(&self, row: &Row) -> Result<Self::Output> {
                Ok(($(row.get_at::<$ty::Value>($index)?,)+))
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
tuple_selection!(A => 0, B => 1, C => 2, D => 3, E => 4, F => 5, G => 6);
tuple_selection!(A => 0, B => 1, C => 2, D => 3, E => 4, F => 5, G => 6, H => 7);
tuple_selection!(A => 0, B => 1, C => 2, D => 3, E => 4, F => 5, G => 6, H => 7, J => 8);
tuple_selection!(A => 0, B => 1, C => 2, D => 3, E => 4, F => 5, G => 6, H => 7, J => 8, K => 9);
tuple_selection!(A => 0, B => 1, C => 2, D => 3, E => 4, F => 5, G => 6, H => 7, J => 8, K => 9, P => 10);
tuple_selection!(A => 0, B => 1, C => 2, D => 3, E => 4, F => 5, G => 6, H => 7, J => 8, K => 9, P => 10, Q => 11);

/// Something a joined query with table list `L` can select: a column or an aggregate of one of
/// its tables (`I` says which; the compiler infers it).
pub trait JoinSelectable<L, I>: Sync {
    /// The Rust type it decodes into: an `Option` for a column of a left-joined table.
    type Value: FromColumn;

    /// Writes the expression, qualified by its table.
    fn render(&self, writer: &mut SqlWriter);

    /// The table (by the name the query calls it) and column it reads, when it is a column:
    /// with them the query's text can be kept (see `rendered_statements`).
    #[doc(hidden)]
    fn selected_column(&self) -> Option<(Cow<'static, str>, &'static str)> {
        None
    }
}

impl<L, I, S: Source, T: ColumnType + Nullable> JoinSelectable<L, I> for Column<S, T>
where
    L: Contains<S, I>,
{
    type Value = <L::Nullness as Nullness>::Of<T>;

    fn render(&self, writer: &mut SqlWriter) {
        let outer = writer.swap_casts(EnumColumns::of::<S::Model>());
        writer.push_column_expression_of(Some(&S::name()), self.name());
        writer.swap_casts(outer);
    }

    fn selected_column(&self) -> Option<(Cow<'static, str>, &'static str)> {
        Some((S::name(), self.name()))
    }
}

impl<L, I, S: Source, T: FromColumn> JoinSelectable<L, I> for Aggregate<S, T>
where
    L: Contains<S, I>,
{
    type Value = T;

    fn render(&self, writer: &mut SqlWriter) {
        push_aggregate(writer, self.function, Some(&S::name()), self.column);
    }
}

/// Columns and aggregates of a joined query's tables selected together, decoded into a tuple.
pub trait JoinSelection<L, I>: Sync {
    /// The decoded row.
    type Output: Send;

    /// Writes the select list (items aliased `_fox_0`, `_fox_1`, ...).
    fn render(&self, writer: &mut SqlWriter);

    /// Decodes one row.
    ///
    /// # Errors
    /// A value of another type.
    fn decode(&self, row: &Row) -> Result<Self::Output>;

    /// Hands `each` every selected column's table and column in order; `None` (at once) when
    /// an item is not a column (see [`JoinSelectable::selected_column`]) or `each` says so.
    #[doc(hidden)]
    fn each_column(
        &self,
        _each: &mut dyn FnMut(Cow<'static, str>, &'static str) -> Option<()>,
    ) -> Option<()> {
        None
    }
}

macro_rules! join_tuple_selection {
    ($($ty:ident $index_ty:ident => $index:tt),+) => {
        impl<L, $($ty: JoinSelectable<L, $index_ty>, $index_ty,)+> JoinSelection<L, ($($index_ty,)+)>
            for ($($ty,)+)
        {
            type Output = ($($ty::Value,)+);

            fn render(&self, writer: &mut SqlWriter) {
                $(
                    if $index > 0 {
                        writer.push(", ");
                    }
                    self.$index.render(writer);
                    writer.push(" AS ");
                    writer.push_identifier(ALIASES[$index]);
                )+
            }

            fn decode(&self, row: &Row) -> Result<Self::Output> {
                Ok(($(row.get_at::<$ty::Value>($index)?,)+))
            }

            fn each_column(
                &self,
                each: &mut dyn FnMut(Cow<'static, str>, &'static str) -> Option<()>,
            ) -> Option<()> {
                $(
                    let (source, column) = self.$index.selected_column()?;
                    each(source, column)?;
                )+
                Some(())
            }
        }
    };
}

join_tuple_selection!(A IA => 0);
join_tuple_selection!(A IA => 0, B IB => 1);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3, E IE => 4);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3, E IE => 4, F IF => 5);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3, E IE => 4, F IF => 5, G IG => 6);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3, E IE => 4, F IF => 5, G IG => 6, H IH => 7);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3, E IE => 4, F IF => 5, G IG => 6, H IH => 7, J IJ => 8);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3, E IE => 4, F IF => 5, G IG => 6, H IH => 7, J IJ => 8, K IK => 9);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3, E IE => 4, F IF => 5, G IG => 6, H IH => 7, J IJ => 8, K IK => 9, P IP => 10);
join_tuple_selection!(A IA => 0, B IB => 1, C IC => 2, D ID => 3, E IE => 4, F IF => 5, G IG => 6, H IH => 7, J IJ => 8, K IK => 9, P IP => 10, Q IQ => 11);

/// A query returning some columns of `M` as tuples.
#[derive(Debug)]
pub struct SelectColumns<M, S> {
    pub(crate) query: Select<M>,
    pub(crate) selection: S,
}

impl<M: Model> Select<M> {
    /// Selects only these columns, into tuples:
    /// `User::find().select((User::ID, User::EMAIL)).all(&db)` → `Vec<(i64, String)>`.
    pub fn select<S: Selection<M>>(self, selection: S) -> SelectColumns<M, S> {
        SelectColumns {
            query: self,
            selection,
        }
    }
}

impl<M: Model, S: Selection<M>> SelectColumns<M, S> {
    /// Sorts by a column or, grouped, an aggregate, as [`Select::order_by`]: after
    /// `.select(..)` as before it (`.select((User::ROLE, count())).order_by(count().desc())`).
    pub fn order_by(mut self, order: impl super::column::IntoOrder<M>) -> Self {
        self.query = self.query.order_by(order);
        self
    }

    /// At most `count` rows, as [`Select::limit`].
    pub fn limit(mut self, count: u64) -> Self {
        self.query = self.query.limit(count);
        self
    }

    /// Skips the first `count` rows, as [`Select::offset`].
    pub fn offset(mut self, count: u64) -> Self {
        self.query = self.query.offset(count);
        self
    }

    /// The SQL and its parameters for `backend`.
    pub fn to_sql(&self, backend: crate::Backend) -> (String, Vec<crate::connection::Value>) {
        self.query
            .to_sql_with(backend, |w| self.selection.render(w))
    }

    /// Every matching row.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn all(&self, mut database: impl Executor) -> Result<Vec<S::Output>> {
        let (sql, values) = self
            .query
            .to_sql_with(database.backend(), |w| self.selection.render(w));
        database
            .fetch_decoded(&sql, &values, |row| self.selection.decode(&row))
            .await
    }

    /// The first matching row, if any.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn one(self, mut database: impl Executor) -> Result<Option<S::Output>> {
        let query = self.query.limit(1);
        let (sql, values) = query.to_sql_with(database.backend(), |w| self.selection.render(w));
        match database.fetch_all(&sql, &values).await?.first() {
            Some(row) => self.selection.decode(row).map(Some),
            None => Ok(None),
        }
    }
}
