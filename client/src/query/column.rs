//! Typed column handles: comparisons type-check against the column's Rust type and the model
//! it belongs to.

use std::marker::PhantomData;

use super::ast::{Expr, Operator};
use super::condition::Condition;
use super::source::{Alias, Source};
use crate::model::{ColumnType, Comparable, IntoValue, Model};

/// A column of model `M` holding values of type `T`.
pub struct Column<M, T> {
    name: &'static str,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M, T> Clone for Column<M, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, T> Copy for Column<M, T> {}

impl<M, T> std::fmt::Debug for Column<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Column({})", self.name)
    }
}

/// A sort key.
#[derive(Debug)]
pub struct Order<M> {
    pub(crate) column: &'static str,
    pub(crate) descending: bool,
    _model: PhantomData<fn() -> M>,
}

/// What a query of `M` sorts by: a column's [`Order`] (`User::NAME.asc()`) or, in a grouped
/// query, an aggregate's ([`super::AggregateOrder`]: `count().desc()`, `Post::LIKES.sum().desc()`).
pub trait IntoOrder<M> {
    /// The sort key.
    #[doc(hidden)]
    fn into_order_term(self) -> OrderTermOf<M>;
}

/// A sort key of a query of `M`, opaque outside FoxDB.
#[doc(hidden)]
#[derive(Debug)]
pub struct OrderTermOf<M> {
    pub(crate) column: &'static str,
    pub(crate) aggregate: Option<super::ast::Function>,
    pub(crate) descending: bool,
    _model: PhantomData<fn() -> M>,
}

impl<M> OrderTermOf<M> {
    pub(crate) fn new(
        column: &'static str,
        aggregate: Option<super::ast::Function>,
        descending: bool,
    ) -> Self {
        Self {
            column,
            aggregate,
            descending,
            _model: PhantomData,
        }
    }
}

impl<M> IntoOrder<M> for OrderTermOf<M> {
    fn into_order_term(self) -> OrderTermOf<M> {
        self
    }
}

impl<M> IntoOrder<M> for Order<M> {
    fn into_order_term(self) -> OrderTermOf<M> {
        OrderTermOf::new(self.column, None, self.descending)
    }
}

impl<M: Source, T: ColumnType> Column<M, T> {
    /// The handle of column `name` (the derive writes these).
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _types: PhantomData,
        }
    }

    /// The column's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    fn compare(self, operator: Operator, value: impl Comparable<T::Compared>) -> Condition<M> {
        Condition::new(Expr::Compare {
            column: self.name,
            operator,
            value: value.into_compared().into_value(),
        })
    }

    /// `column = value`.
    pub fn eq(self, value: impl Comparable<T::Compared>) -> Condition<M> {
        self.compare(Operator::Eq, value)
    }

    /// `column <> value`.
    pub fn ne(self, value: impl Comparable<T::Compared>) -> Condition<M> {
        self.compare(Operator::Ne, value)
    }

    /// `column < value`.
    pub fn lt(self, value: impl Comparable<T::Compared>) -> Condition<M> {
        self.compare(Operator::Lt, value)
    }

    /// `column <= value`.
    pub fn lte(self, value: impl Comparable<T::Compared>) -> Condition<M> {
        self.compare(Operator::Le, value)
    }

    /// `column > value`.
    pub fn gt(self, value: impl Comparable<T::Compared>) -> Condition<M> {
        self.compare(Operator::Gt, value)
    }

    /// `column >= value`.
    pub fn gte(self, value: impl Comparable<T::Compared>) -> Condition<M> {
        self.compare(Operator::Ge, value)
    }

    /// `column BETWEEN low AND high`.
    pub fn between(
        self,
        low: impl Comparable<T::Compared>,
        high: impl Comparable<T::Compared>,
    ) -> Condition<M> {
        Condition::new(Expr::Between {
            column: self.name,
            low: low.into_compared().into_value(),
            high: high.into_compared().into_value(),
        })
    }

    /// `column IN (values...)`; an empty list matches nothing.
    ///
    /// A list of any length is one statement: the values go as one array parameter, so they
    /// are not bound by the engine's parameter limit (65,535 values on PostgreSQL and MySQL,
    /// 32,766 on SQLite) and every length runs the same statement text. On PostgreSQL, one
    /// array (`column = ANY($1)`, as sqlx and Diesel bind it) of integers, floats, decimals,
    /// booleans, text, blobs, UUIDs, dates, times or timestamps; on MySQL / MariaDB and
    /// SQLite, lists of more than 200 values as one JSON array read back by `JSON_TABLE` or
    /// `json_each` (up to 200, one placeholder per value lets the optimizer see each one). The
    /// rows matched are those `column IN (?, ?, ...)` matches, collation and NULLs included;
    /// kinds without an exact array form (JSON on PostgreSQL, floats on SQLite, enum columns,
    /// dates outside years 1-9999) keep one placeholder per value.
    pub fn in_<V: Comparable<T::Compared>>(
        self,
        values: impl IntoIterator<Item = V>,
    ) -> Condition<M> {
        Condition::new(Expr::In {
            column: self.name,
            values: values
                .into_iter()
                .map(|v| v.into_compared().into_value())
                .collect(),
        })
    }

    /// `column IS NULL`.
    pub fn is_null(self) -> Condition<M> {
        Condition::new(Expr::IsNull {
            column: self.name,
            negated: false,
        })
    }

    /// `column IS NOT NULL`.
    pub fn is_not_null(self) -> Condition<M> {
        Condition::new(Expr::IsNull {
            column: self.name,
            negated: true,
        })
    }

    /// Ascending order on this column.
    pub fn asc(self) -> Order<M> {
        Order {
            column: self.name,
            descending: false,
            _model: PhantomData,
        }
    }

    /// Descending order on this column.
    pub fn desc(self) -> Order<M> {
        Order {
            column: self.name,
            descending: true,
            _model: PhantomData,
        }
    }
}

impl<M: Model, T: ColumnType> Column<M, T> {
    /// The same column of the copy of `M` joined under [`Alias`] `N` (self-joins):
    /// `User::NAME.aliased::<1>()` after `.join(User::manager().aliased::<1>())`.
    pub const fn aliased<const N: u8>(self) -> Column<Alias<M, N>, T> {
        Column::new(self.name)
    }
}
