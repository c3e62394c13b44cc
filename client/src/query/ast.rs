//! The query tree every builder produces and the renderer ([`super::render`]) writes: backend
//! neutral, untyped (the builders above carry the model types), and importing nothing else of
//! the query module.

use super::writer::EnumColumns;
use std::borrow::Cow;

use crate::connection::Value;

/// The character that escapes `%`, `_` and itself in the LIKE patterns FoxDB builds; every
/// engine is told so with `ESCAPE '!'` (see [`super::like`]).
pub(crate) const LIKE_ESCAPE: char = '!';

/// Alias of the related table in an `EXISTS` subquery (so self-relations are not shadowed).
pub(crate) const CHILD_ALIAS: &str = "_fox_child";
/// Alias of the table of an `IN (SELECT ...)` subquery.
pub(crate) const SUBQUERY_ALIAS: &str = "_fox_sub";
/// Alias of the derived table that holds a limited `IN (SELECT ...)` subquery.
pub(crate) const LIMITED_ALIAS: &str = "_fox_limited";
/// Alias of the join table in an `EXISTS` subquery.
pub(crate) const THROUGH_ALIAS: &str = "_fox_through";

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Operator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Operator {
    /// The SQL spelling, the same on every engine.
    pub(crate) fn as_sql(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// An expression: a condition in `WHERE`, `HAVING` or a join's `ON`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Expr {
    Compare {
        column: &'static str,
        operator: Operator,
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
        function: Function,
        column: Option<&'static str>,
        operator: Operator,
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
    /// The text at `path` inside JSON `column` (the dialect's `json_text_at`) `<op> value`.
    JsonText {
        column: &'static str,
        path: Vec<&'static str>,
        operator: Operator,
        value: Value,
    },
    /// The text at `path` inside JSON `column` `IS [NOT] NULL`.
    JsonTextNull {
        column: &'static str,
        path: Vec<&'static str>,
        negated: bool,
    },
    /// `expr` on the columns of the joined table or alias `source` (with its PostgreSQL casts).
    Qualified {
        source: Cow<'static, str>,
        casts: EnumColumns,
        expr: Box<Expr>,
    },
}

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Function {
    Count,
    SumInteger,
    SumFloat,
    Avg,
    Min,
    Max,
}

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
    pub(crate) child_casts: EnumColumns,
}

/// A column named through the table (or alias) that holds it: `"users"."id"`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ColumnRef {
    pub(crate) source: Cow<'static, str>,
    pub(crate) column: &'static str,
}

impl ColumnRef {
    pub(crate) fn new(source: impl Into<Cow<'static, str>>, column: &'static str) -> Self {
        Self {
            source: source.into(),
            column,
        }
    }
}

/// One sort key of `ORDER BY`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct OrderTerm {
    pub(crate) column: ColumnRef,
    /// Sort by this aggregate of `column` over each group (of every row: [`ALL_ROWS`]) rather
    /// than by the column.
    pub(crate) aggregate: Option<Function>,
    pub(crate) descending: bool,
}

/// The column of an [`OrderTerm`] aggregating every row (`COUNT(*)`).
pub(crate) const ALL_ROWS: &str = "*";

/// What every `SELECT` shares after its select list and tables: `WHERE`, `GROUP BY`,
/// `HAVING`, `ORDER BY`, `LIMIT` and `OFFSET` (see `super::render::push_select_tail`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SelectCore {
    pub(crate) filter: Option<Expr>,
    pub(crate) group_by: Vec<ColumnRef>,
    pub(crate) having: Option<Expr>,
    pub(crate) order: Vec<OrderTerm>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    /// `.all_tenants()`: tenant-scoped tables are read without the tenant condition.
    pub(crate) all_tenants: bool,
}

impl SelectCore {
    /// Whether `LIMIT` or `OFFSET` cut the rows.
    pub(crate) fn is_limited(&self) -> bool {
        self.limit.is_some() || self.offset.is_some()
    }

    /// Whether rows are grouped (`GROUP BY` or `HAVING`).
    pub(crate) fn is_grouped(&self) -> bool {
        !self.group_by.is_empty() || self.having.is_some()
    }

    /// The same query with its group and order columns named through `source`.
    pub(crate) fn requalified(mut self, source: &'static str) -> Self {
        for column in &mut self.group_by {
            column.source = Cow::Borrowed(source);
        }
        for term in &mut self.order {
            term.column.source = Cow::Borrowed(source);
        }
        self
    }
}

/// The query inside `column IN (...)`: one column of another table's rows, filtered, grouped,
/// ordered and limited as that query says (its columns named through [`SUBQUERY_ALIAS`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Subquery {
    pub(crate) table: &'static str,
    pub(crate) select_column: &'static str,
    pub(crate) core: SelectCore,
    /// The subquery table's PostgreSQL casts, for the values of its own conditions.
    pub(crate) casts: EnumColumns,
    /// The schema of the subquery's own `.in_schema(..)`; `None`: the outer statement's.
    pub(crate) schema: Option<String>,
}
