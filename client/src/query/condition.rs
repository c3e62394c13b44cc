//! Conditions: a backend-neutral expression tree, typed by the model it filters.

use std::marker::PhantomData;

use super::SqlWriter;
use crate::connection::Value;

/// The expression tree of a condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Compare {
        column: &'static str,
        operator: &'static str,
        value: Value,
    },
    Between {
        column: &'static str,
        low: Value,
        high: Value,
    },
    /// `column LIKE pattern`, with `ESCAPE '!'` when `escaped` (see `super::like`).
    Like {
        column: &'static str,
        pattern: Value,
        escaped: bool,
    },
    In {
        column: &'static str,
        values: Vec<Value>,
    },
    IsNull {
        column: &'static str,
        negated: bool,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Exists(Box<Exists>),
    /// `column IN (SELECT ... FROM table AS _fox_sub ...)`: see [`Subquery`].
    InSubquery {
        column: &'static str,
        subquery: Box<Subquery>,
    },
    /// `AGGREGATE(column) <op> value`, for `having`.
    Aggregate {
        function: super::aggregate::Function,
        column: Option<&'static str>,
        operator: &'static str,
        value: Value,
    },
    /// `column IN (SELECT through_child FROM through WHERE through_parent = value)`.
    InThrough {
        column: &'static str,
        through: &'static str,
        through_parent: &'static str,
        through_child: &'static str,
        value: Value,
    },
    /// `expr` on the columns of the joined table or alias `source` (with its PostgreSQL casts).
    Qualified {
        source: std::borrow::Cow<'static, str>,
        casts: &'static [(&'static str, &'static str)],
        expr: Box<Expr>,
    },
}

/// Alias of the related table in an `EXISTS` subquery (so self-relations are not shadowed).
const CHILD_ALIAS: &str = "_fox_child";
/// Alias of the table of an `IN (SELECT ...)` subquery.
const SUBQUERY_ALIAS: &str = "_fox_sub";
/// Alias of the derived table that holds a limited `IN (SELECT ...)` subquery.
const LIMITED_ALIAS: &str = "_fox_limited";
/// Alias of the join table in an `EXISTS` subquery.
const THROUGH_ALIAS: &str = "_fox_through";

/// `EXISTS (SELECT 1 FROM child [JOIN ...] WHERE <link> [AND filter])`: a relation filter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Exists {
    /// The outer (parent) table and its key column the link compares with.
    pub(crate) parent_table: &'static str,
    pub(crate) parent_key: &'static str,
    /// The related table.
    pub(crate) child_table: &'static str,
    /// Direct links: the child column holding the parent key. Join links: the child's key.
    pub(crate) child_column: &'static str,
    /// Join table, its column towards the parent and its column towards the child.
    pub(crate) through: Option<(&'static str, &'static str, &'static str)>,
    /// Condition on the child rows.
    pub(crate) filter: Option<Expr>,
    /// PostgreSQL casts of the child's columns.
    pub(crate) child_casts: &'static [(&'static str, &'static str)],
}

/// A condition on rows of model `M`; a condition on another model's columns does not compile
/// where `M`'s is expected.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition<M> {
    pub(crate) expr: Expr,
    _model: PhantomData<fn() -> M>,
}

impl<M> Condition<M> {
    pub(crate) fn new(expr: Expr) -> Self {
        Self {
            expr,
            _model: PhantomData,
        }
    }

    /// `existing AND self`, or just `self`: how repeated `filter` / `having` calls combine.
    pub(crate) fn and_after(self, existing: Option<Expr>) -> Expr {
        match existing {
            Some(existing) => Condition::<M>::new(existing).and(self).expr,
            None => self.expr,
        }
    }

    /// Both conditions hold.
    pub fn and(self, other: Condition<M>) -> Condition<M> {
        Condition::new(match self.expr {
            Expr::And(mut all) => {
                all.push(other.expr);
                Expr::And(all)
            }
            expr => Expr::And(vec![expr, other.expr]),
        })
    }

    /// Either condition holds.
    pub fn or(self, other: Condition<M>) -> Condition<M> {
        Condition::new(match self.expr {
            Expr::Or(mut any) => {
                any.push(other.expr);
                Expr::Or(any)
            }
            expr => Expr::Or(vec![expr, other.expr]),
        })
    }

    /// The condition does not hold.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Condition<M> {
        Condition::new(Expr::Not(Box::new(self.expr)))
    }
}

impl Expr {
    pub(crate) fn render(&self, writer: &mut SqlWriter) {
        self.render_with(writer, None);
    }

    /// Renders with every column qualified by `table` (for joins).
    pub(crate) fn render_qualified(&self, writer: &mut SqlWriter, table: &str) {
        self.render_with(writer, Some(table));
    }

    /// This condition on the columns of the joined table (or alias) `source`.
    pub(crate) fn qualified<S: super::source::Source>(self) -> Expr {
        Expr::Qualified {
            source: S::name(),
            casts: <S::Model as crate::Model>::PG_TYPES,
            expr: Box::new(self),
        }
    }

    fn render_with(&self, writer: &mut SqlWriter, table: Option<&str>) {
        let column_name = |writer: &mut SqlWriter, column: &str| {
            if let Some(table) = table {
                writer.push_identifier(table);
                writer.push(".");
            }
            writer.push_identifier(column);
        };
        match self {
            Self::Like {
                column,
                pattern,
                escaped,
            } => {
                // LIKE compares text, also for PostgreSQL enum columns.
                let outer = writer.swap_casts(&[]);
                if outer.iter().any(|(c, _)| c == column) {
                    writer.push("CAST(");
                    column_name(writer, column);
                    writer.push(" AS text)");
                } else {
                    column_name(writer, column);
                }
                writer.swap_casts(outer);
                writer.push(" LIKE ");
                writer.push_value(pattern.clone());
                if *escaped {
                    writer.push(super::like::ESCAPE_CLAUSE);
                }
            }
            Self::Compare {
                column,
                operator,
                value,
            } => {
                column_name(writer, column);
                writer.push(&format!(" {operator} "));
                writer.push_column_value(column, value.clone());
            }
            Self::Between { column, low, high } => {
                column_name(writer, column);
                writer.push(" BETWEEN ");
                writer.push_column_value(column, low.clone());
                writer.push(" AND ");
                writer.push_column_value(column, high.clone());
            }
            Self::In { column, values } => {
                if values.is_empty() {
                    writer.push("1 = 0");
                    return;
                }
                column_name(writer, column);
                // One array parameter on every engine (short lists on MySQL and SQLite, and
                // what has no exact array form, keep one placeholder per value).
                writer.push_in_list(Some(column), values);
            }
            Self::IsNull { column, negated } => {
                column_name(writer, column);
                writer.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Self::And(parts) | Self::Or(parts) => {
                let joiner = if matches!(self, Self::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                writer.push("(");
                for (i, part) in parts.iter().enumerate() {
                    if i > 0 {
                        writer.push(joiner);
                    }
                    part.render_with(writer, table);
                }
                writer.push(")");
            }
            Self::Exists(exists) => {
                writer.push("EXISTS (SELECT 1 FROM ");
                writer.push_identifier(exists.child_table);
                writer.push(" ");
                writer.push_identifier(CHILD_ALIAS);
                let (link_table, link_column) = match exists.through {
                    Some((through, through_parent, through_child)) => {
                        writer.push(" JOIN ");
                        writer.push_identifier(through);
                        writer.push(" ");
                        writer.push_identifier(THROUGH_ALIAS);
                        writer.push(" ON ");
                        writer.push_identifier(THROUGH_ALIAS);
                        writer.push(".");
                        writer.push_identifier(through_child);
                        writer.push(" = ");
                        writer.push_identifier(CHILD_ALIAS);
                        writer.push(".");
                        writer.push_identifier(exists.child_column);
                        (THROUGH_ALIAS, through_parent)
                    }
                    None => (CHILD_ALIAS, exists.child_column),
                };
                writer.push(" WHERE ");
                writer.push_identifier(link_table);
                writer.push(".");
                writer.push_identifier(link_column);
                writer.push(" = ");
                // Under a join alias the parent is that alias, not its table.
                writer.push_identifier(table.unwrap_or(exists.parent_table));
                writer.push(".");
                writer.push_identifier(exists.parent_key);
                if let Some(filter) = &exists.filter {
                    writer.push(" AND ");
                    let outer = writer.swap_casts(exists.child_casts);
                    filter.render_with(writer, Some(CHILD_ALIAS));
                    writer.swap_casts(outer);
                }
                writer.push(")");
            }
            Self::InSubquery { column, subquery } => {
                column_name(writer, column);
                writer.push(" IN (");
                subquery.render(writer);
                writer.push(")");
            }
            Self::Aggregate {
                function,
                column,
                operator,
                value,
            } => {
                let backend = writer.backend();
                super::aggregate::render_aggregate(writer, backend, *function, table, *column);
                writer.push(&format!(" {operator} "));
                writer.push_value(value.clone());
            }
            Self::InThrough {
                column,
                through,
                through_parent,
                through_child,
                value,
            } => {
                column_name(writer, column);
                writer.push(" IN (SELECT ");
                writer.push_identifier(through_child);
                writer.push(" FROM ");
                writer.push_identifier(through);
                writer.push(" WHERE ");
                writer.push_identifier(through_parent);
                writer.push(" = ");
                writer.push_value(value.clone());
                writer.push(")");
            }
            Self::Qualified {
                source,
                casts,
                expr,
            } => {
                let outer = writer.swap_casts(casts);
                expr.render_with(writer, Some(source));
                writer.swap_casts(outer);
            }
            Self::Not(inner) => {
                writer.push("NOT (");
                inner.render_with(writer, table);
                writer.push(")");
            }
        }
    }
}

/// The query inside `column IN (...)`: one column of another table's rows, filtered, grouped,
/// ordered and limited as that query says.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Subquery {
    pub(crate) table: &'static str,
    pub(crate) select_column: &'static str,
    pub(crate) filter: Option<Expr>,
    pub(crate) group_by: Vec<&'static str>,
    pub(crate) having: Option<Expr>,
    pub(crate) order: Vec<(&'static str, bool)>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    /// The subquery table's PostgreSQL casts, for the values of its own conditions.
    pub(crate) casts: &'static [(&'static str, &'static str)],
}

impl Subquery {
    fn render(&self, writer: &mut SqlWriter) {
        let qualified = |writer: &mut SqlWriter, column: &str| {
            writer.push_identifier(SUBQUERY_ALIAS);
            writer.push(".");
            writer.push_identifier(column);
        };
        // MySQL and MariaDB refuse a LIMIT directly inside `IN (...)`; a derived table holding
        // the limited rows works on every engine.
        let limited = self.limit.is_some() || self.offset.is_some();
        if limited {
            writer.push("SELECT ");
            writer.push_identifier(LIMITED_ALIAS);
            writer.push(".");
            writer.push_identifier(self.select_column);
            writer.push(" FROM (");
        }
        writer.push("SELECT ");
        qualified(writer, self.select_column);
        writer.push(" FROM ");
        writer.push_identifier(self.table);
        writer.push(" ");
        writer.push_identifier(SUBQUERY_ALIAS);
        let outer = writer.swap_casts(self.casts);
        if let Some(filter) = &self.filter {
            writer.push(" WHERE ");
            filter.render_with(writer, Some(SUBQUERY_ALIAS));
        }
        for (i, column) in self.group_by.iter().enumerate() {
            writer.push(if i == 0 { " GROUP BY " } else { ", " });
            qualified(writer, column);
        }
        if let Some(having) = &self.having {
            writer.push(" HAVING ");
            having.render_with(writer, Some(SUBQUERY_ALIAS));
        }
        writer.swap_casts(outer);
        // Without a limit the order cannot change which values are in the list.
        if limited {
            for (i, (column, descending)) in self.order.iter().enumerate() {
                writer.push(if i == 0 { " ORDER BY " } else { ", " });
                qualified(writer, column);
                writer.push(if *descending { " DESC" } else { " ASC" });
            }
            super::select::push_limit_offset(writer, self.limit, self.offset);
            writer.push(") ");
            writer.push_identifier(LIMITED_ALIAS);
        }
    }
}
