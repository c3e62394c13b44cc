//! The renderer: the query tree ([`super::ast`]) as SQL text for one engine, with every value
//! bound through the [`SqlWriter`] and every engine difference asked of its `Dialect`.

use super::ast::{
    ALL_ROWS, CHILD_ALIAS, ColumnRef, Expr, Function, LIKE_ESCAPE, LIMITED_ALIAS, OrderTerm,
    SUBQUERY_ALIAS, SelectCore, Subquery, THROUGH_ALIAS,
};
use super::writer::SqlWriter;
use crate::Backend;

impl Expr {
    pub(crate) fn render(&self, writer: &mut SqlWriter) {
        self.render_with(writer, None);
    }

    /// Renders with every column qualified by `table` (for joins).
    pub(crate) fn render_qualified(&self, writer: &mut SqlWriter, table: &str) {
        self.render_with(writer, Some(table));
    }

    pub(crate) fn render_with(&self, writer: &mut SqlWriter, table: Option<&str>) {
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
                if writer.casts_column(column) {
                    let text = writer.dialect().text_cast_type();
                    writer.push("CAST(");
                    column_name(writer, column);
                    writer.push(" AS ");
                    writer.push(text);
                    writer.push(")");
                } else {
                    column_name(writer, column);
                }
                writer.push(" LIKE ");
                writer.push_value(pattern.clone());
                if *escaped {
                    writer.push(" ESCAPE '");
                    writer.sql.push(LIKE_ESCAPE);
                    writer.push("'");
                }
            }
            Self::Compare {
                column,
                operator,
                value,
            } => {
                column_name(writer, column);
                writer.push(" ");
                writer.push(operator.as_sql());
                writer.push(" ");
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
            Self::JsonText {
                column,
                path,
                operator,
                value,
            } => {
                push_json_text(writer, table, column, path);
                writer.push(" ");
                writer.push(operator.as_sql());
                writer.push(" ");
                writer.push_value(value.clone());
            }
            Self::JsonTextNull {
                column,
                path,
                negated,
            } => {
                push_json_text(writer, table, column, path);
                writer.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
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
                writer.push_table(exists.child_table);
                writer.push(" ");
                writer.push_identifier(CHILD_ALIAS);
                let (link_table, link_column) = match exists.through {
                    Some((through, through_parent, through_child)) => {
                        writer.push(" JOIN ");
                        writer.push_table(through);
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
                writer.push_tenant_condition_of(exists.child_casts, Some(CHILD_ALIAS), " AND ");
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
                push_aggregate(writer, *function, table, *column);
                writer.push(" ");
                writer.push(operator.as_sql());
                writer.push(" ");
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
                writer.push_table(through);
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
                let outer = writer.swap_casts(*casts);
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

impl Subquery {
    fn render(&self, writer: &mut SqlWriter) {
        // MySQL and MariaDB refuse a LIMIT directly inside `IN (...)`; a derived table holding
        // the limited rows works on every engine.
        let limited = self.core.is_limited();
        if limited {
            writer.push("SELECT ");
            writer.push_qualified(LIMITED_ALIAS, self.select_column);
            writer.push(" FROM (");
        }
        writer.push("SELECT ");
        writer.push_qualified(SUBQUERY_ALIAS, self.select_column);
        writer.push(" FROM ");
        // In the subquery's own schema, if it names one; else in the statement's.
        let outer_schema = self
            .schema
            .as_deref()
            .map(|schema| writer.swap_schema(Some(schema)));
        writer.push_table(self.table);
        writer.push(" ");
        writer.push_identifier(SUBQUERY_ALIAS);
        let outer = writer.swap_casts(self.casts);
        push_select_tail(writer, &self.core, Some(SUBQUERY_ALIAS));
        writer.swap_casts(outer);
        if let Some(schema) = outer_schema {
            writer.swap_schema(schema.as_deref());
        }
        if limited {
            writer.push(") ");
            writer.push_identifier(LIMITED_ALIAS);
        }
    }
}

/// The text at `path` inside JSON `column` (of `table`, when given), as the engine reads it.
fn push_json_text(writer: &mut SqlWriter, table: Option<&str>, column: &str, path: &[&str]) {
    let dialect = writer.dialect();
    let mut column_sql = String::new();
    if let Some(table) = table {
        column_sql.push_str(&dialect.quote(table));
        column_sql.push('.');
    }
    column_sql.push_str(&dialect.quote(column));
    writer.push(&dialect.json_text_at(&column_sql, path));
}

/// Renders an aggregate so every engine returns the documented Rust type.
pub(crate) fn push_aggregate(
    writer: &mut SqlWriter,
    function: Function,
    table: Option<&str>,
    column: Option<&str>,
) {
    let argument = |writer: &mut SqlWriter| match column {
        Some(column) => {
            if let Some(table) = table {
                writer.push_identifier(table);
                writer.push(".");
            }
            writer.push_identifier(column);
        }
        None => writer.push("*"),
    };
    let (open, close): (&str, String) = match (function, writer.backend()) {
        (Function::Count, _) => ("COUNT(", ")".into()),
        (Function::SumInteger, Backend::Postgres) => {
            ("CAST(COALESCE(SUM(", "), 0) AS BIGINT)".into())
        }
        (Function::SumInteger, Backend::MySql) => ("CAST(COALESCE(SUM(", "), 0) AS SIGNED)".into()),
        (Function::SumInteger, Backend::Sqlite) => ("COALESCE(SUM(", "), 0)".into()),
        (Function::SumFloat, Backend::Postgres) => {
            ("CAST(COALESCE(SUM(", "), 0) AS DOUBLE PRECISION)".into())
        }
        (Function::SumFloat, Backend::MySql) => ("CAST(COALESCE(SUM(", "), 0) AS DOUBLE)".into()),
        (Function::SumFloat, Backend::Sqlite) => ("CAST(COALESCE(SUM(", "), 0) AS REAL)".into()),
        (Function::Avg, Backend::Postgres) => ("CAST(AVG(", ") AS DOUBLE PRECISION)".into()),
        (Function::Avg, Backend::MySql) => ("CAST(AVG(", ") AS DOUBLE)".into()),
        (Function::Avg, Backend::Sqlite) => ("AVG(", ")".into()),
        (Function::Min, _) => ("MIN(", ")".into()),
        (Function::Max, _) => ("MAX(", ")".into()),
    };
    writer.push(open);
    argument(writer);
    writer.push(&close);
}

/// ` WHERE filter`, if there is one; its columns qualified by `scope` when given. On a
/// tenant-scoped table the tenant condition comes first (see
/// [`SqlWriter::push_tenant_condition`]), so no statement of such a table reads or writes
/// another tenant's rows, whatever its filter.
pub(crate) fn push_where(writer: &mut SqlWriter, filter: Option<&Expr>, scope: Option<&str>) {
    let scoped = writer.push_tenant_condition(scope, " WHERE ");
    if let Some(filter) = filter {
        writer.push(if scoped { " AND " } else { " WHERE " });
        filter.render_with(writer, scope);
    }
}

/// ` GROUP BY ...` and ` HAVING ...`, each if there is one.
pub(crate) fn push_grouping(writer: &mut SqlWriter, core: &SelectCore, scope: Option<&str>) {
    push_columns(writer, " GROUP BY ", &core.group_by);
    if let Some(having) = &core.having {
        writer.push(" HAVING ");
        having.render_with(writer, scope);
    }
}

/// ` ORDER BY ...`, if there are sort keys.
pub(crate) fn push_order(writer: &mut SqlWriter, order: &[OrderTerm]) {
    for (i, term) in order.iter().enumerate() {
        writer.push(if i == 0 { " ORDER BY " } else { ", " });
        match term.aggregate {
            Some(function) => {
                let column = Some(term.column.column).filter(|c| *c != ALL_ROWS);
                push_aggregate(writer, function, Some(&term.column.source), column);
            }
            None => push_column_ref(writer, &term.column),
        }
        writer.push(if term.descending { " DESC" } else { " ASC" });
    }
}

/// Everything after a `SELECT`'s tables: `WHERE`, `GROUP BY`, `HAVING`, `ORDER BY`, `LIMIT`
/// and `OFFSET`, the conditions' columns qualified by `scope` when given.
pub(crate) fn push_select_tail(writer: &mut SqlWriter, core: &SelectCore, scope: Option<&str>) {
    push_where(writer, core.filter.as_ref(), scope);
    push_grouping(writer, core, scope);
    push_order(writer, &core.order);
    let dialect = writer.dialect();
    dialect.write_limit_offset(&mut writer.sql, core.limit, core.offset);
}

fn push_columns(writer: &mut SqlWriter, keyword: &str, columns: &[ColumnRef]) {
    for (i, column) in columns.iter().enumerate() {
        writer.push(if i == 0 { keyword } else { ", " });
        push_column_ref(writer, column);
    }
}

fn push_column_ref(writer: &mut SqlWriter, column: &ColumnRef) {
    writer.push_qualified(&column.source, column.column);
}
