//! Aggregates for grouped queries: `count()`, `Column::sum()`, `avg()`, `min()`, `max()`,
//! usable in a selection and, compared, in `having`.

use std::marker::PhantomData;

use super::ast::{ALL_ROWS, Expr, Function, Operator};
use super::column::{Column, IntoOrder, OrderTermOf};
use super::condition::Condition;
use super::source::Source;
use crate::model::{ColumnType, Comparable, IntoValue, Model};

/// An aggregate over rows of `M` whose value decodes as `T`.
#[derive(Debug)]
pub struct Aggregate<M, T> {
    pub(crate) function: Function,
    pub(crate) column: Option<&'static str>,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Aggregate<M, T> {
    fn clone(&self) -> Self {
        Self {
            function: self.function,
            column: self.column,
            _types: PhantomData,
        }
    }
}

/// Rows of `M` in each group: `COUNT(<M's primary key>)`, which a primary key makes the same as
/// `COUNT(*)` except over a left join, where a missing `M` row counts 0, not 1 (`COUNT(*)` for
/// a model without a primary key).
pub fn count<M: Model>() -> Aggregate<M, i64> {
    Aggregate {
        function: Function::Count,
        column: M::PRIMARY_KEY.first().copied(),
        _types: PhantomData,
    }
}

/// Integer columns sum to an `i64`.
pub trait SumsToInteger {}
impl SumsToInteger for i16 {}
impl SumsToInteger for i32 {}
impl SumsToInteger for i64 {}
impl<T: SumsToInteger> SumsToInteger for Option<T> {}

/// Float columns sum to an `f64`.
pub trait SumsToFloat {}
impl SumsToFloat for f32 {}
impl SumsToFloat for f64 {}
impl<T: SumsToFloat> SumsToFloat for Option<T> {}

impl<M: Source, T: ColumnType> Column<M, T> {
    fn aggregate<R>(self, function: Function) -> Aggregate<M, R> {
        Aggregate {
            function,
            column: Some(self.name()),
            _types: PhantomData,
        }
    }

    /// `COUNT(column)`: non-NULL values.
    pub fn count(self) -> Aggregate<M, i64> {
        self.aggregate(Function::Count)
    }

    /// `MIN(column)` (`None` over no rows).
    pub fn min(self) -> Aggregate<M, Option<T::Compared>> {
        self.aggregate(Function::Min)
    }

    /// `MAX(column)` (`None` over no rows).
    pub fn max(self) -> Aggregate<M, Option<T::Compared>> {
        self.aggregate(Function::Max)
    }

    /// `AVG(column)` as a float (`None` over no rows).
    pub fn avg(self) -> Aggregate<M, Option<f64>> {
        self.aggregate(Function::Avg)
    }
}

impl<M: Source, T: ColumnType + SumsToInteger> Column<M, T> {
    /// `SUM(column)` of an integer column (0 over no rows).
    pub fn sum(self) -> Aggregate<M, i64> {
        self.aggregate(Function::SumInteger)
    }
}

impl<M: Source, T: ColumnType + SumsToFloat> Column<M, T> {
    /// `SUM(column)` of a float column (0 over no rows).
    pub fn sum_float(self) -> Aggregate<M, f64> {
        self.aggregate(Function::SumFloat)
    }
}

/// An aggregate as a sort key of a grouped query: `count().desc()`; see
/// [`super::Select::order_by`].
#[derive(Debug)]
pub struct AggregateOrder<M> {
    function: Function,
    column: Option<&'static str>,
    descending: bool,
    _model: PhantomData<fn() -> M>,
}

impl<M, T> Aggregate<M, T> {
    /// Ascending order on this aggregate (in a grouped query).
    pub fn asc(self) -> AggregateOrder<M> {
        self.order(false)
    }

    /// Descending order on this aggregate (in a grouped query):
    /// `Post::find().group_by(Post::AUTHOR_ID).order_by(count().desc())`.
    pub fn desc(self) -> AggregateOrder<M> {
        self.order(true)
    }

    fn order(self, descending: bool) -> AggregateOrder<M> {
        AggregateOrder {
            function: self.function,
            column: self.column,
            descending,
            _model: PhantomData,
        }
    }
}

impl<M> IntoOrder<M> for AggregateOrder<M> {
    fn into_order_term(self) -> OrderTermOf<M> {
        OrderTermOf::new(
            self.column.unwrap_or(ALL_ROWS),
            Some(self.function),
            self.descending,
        )
    }
}

impl<M, T: IntoValue> Aggregate<M, T> {
    fn compare(&self, operator: Operator, value: impl Comparable<T>) -> Condition<M> {
        Condition::new(Expr::Aggregate {
            function: self.function,
            column: self.column,
            operator,
            value: value.into_compared().into_value(),
        })
    }

    /// `aggregate = value` (in `having`).
    pub fn eq(&self, value: impl Comparable<T>) -> Condition<M> {
        self.compare(Operator::Eq, value)
    }

    /// `aggregate > value` (in `having`).
    pub fn gt(&self, value: impl Comparable<T>) -> Condition<M> {
        self.compare(Operator::Gt, value)
    }

    /// `aggregate >= value` (in `having`).
    pub fn gte(&self, value: impl Comparable<T>) -> Condition<M> {
        self.compare(Operator::Ge, value)
    }

    /// `aggregate < value` (in `having`).
    pub fn lt(&self, value: impl Comparable<T>) -> Condition<M> {
        self.compare(Operator::Lt, value)
    }

    /// `aggregate <= value` (in `having`).
    pub fn lte(&self, value: impl Comparable<T>) -> Condition<M> {
        self.compare(Operator::Le, value)
    }
}
