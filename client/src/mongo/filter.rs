//! The query tree ([`crate::query::ast`]) as MongoDB query documents: the document store's
//! renderer, beside the SQL one (`crate::query::render`), over the same tree the builders make.
//!
//! Conditions keep SQL's meaning where MongoDB's differs: a comparison never matches a missing
//! or null field (`ne` is `$nin: [value, null]`, a negated condition excludes nulls as SQL's
//! three-valued `NOT` does), `like` is a regular expression anchored at both ends with every
//! other character escaped, and an empty `or` matches nothing.

use mongodb::bson::{Bson, Document, doc};

use super::values::{field_path, to_bson};
use crate::connection::Value;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::ast::{Expr, LIKE_ESCAPE, Operator, SelectCore};

/// The filter document of `filter` on `M` (`{}` for none).
///
/// # Errors
/// [`Error::MongoUnsupported`] for conditions that need SQL (relation filters, subqueries,
/// aggregates, joined tables).
pub(crate) fn filter_document<M: Model>(filter: Option<&Expr>) -> Result<Document> {
    filter.map_or_else(|| Ok(Document::new()), condition::<M>)
}

fn unsupported(what: &str) -> Error {
    Error::MongoUnsupported {
        feature: format!(
            "{what} in a MongoDB filter (it needs SQL; filter the documents by their own fields)"
        ),
    }
}

fn operator_name(operator: Operator) -> &'static str {
    match operator {
        Operator::Eq => "$eq",
        Operator::Ne => "$ne",
        Operator::Lt => "$lt",
        Operator::Le => "$lte",
        Operator::Gt => "$gt",
        Operator::Ge => "$gte",
    }
}

/// `field <op> value` with SQL's null handling: `<>` does not match null or missing fields.
fn comparison(field: String, operator: Operator, value: &Value) -> Result<Document> {
    let bson = to_bson(value)?;
    Ok(match operator {
        Operator::Ne => doc! { field: { "$nin": [bson, Bson::Null] } },
        operator => doc! { field: { operator_name(operator): bson } },
    })
}

fn json_field<M: Model>(column: &str, path: &[&str]) -> String {
    let mut field = field_path::<M>(column);
    for part in path {
        field.push('.');
        field.push_str(part);
    }
    field
}

fn condition<M: Model>(expr: &Expr) -> Result<Document> {
    Ok(match expr {
        Expr::Compare {
            column,
            operator,
            value,
        } => comparison(field_path::<M>(column), *operator, value)?,
        Expr::Between { column, low, high } => {
            doc! { field_path::<M>(column): { "$gte": to_bson(low)?, "$lte": to_bson(high)? } }
        }
        Expr::Like {
            column,
            pattern,
            escaped,
        } => {
            let Value::Text(pattern) = pattern else {
                return Err(unsupported("a LIKE pattern that is not text"));
            };
            // `$regex` with `$options` rather than a BSON regex value: the same query on every
            // server, and the form the nx-27017 wire server reads.
            let regex = like_regex(pattern, *escaped);
            // `s`: `.` matches a newline too, as `%` and `_` do in SQL.
            doc! { field_path::<M>(column): { "$regex": regex, "$options": "s" } }
        }
        Expr::In { column, values } => {
            let values = values.iter().map(to_bson).collect::<Result<Vec<_>>>()?;
            doc! { field_path::<M>(column): { "$in": values } }
        }
        Expr::IsNull { column, negated } => {
            if *negated {
                doc! { field_path::<M>(column): { "$ne": Bson::Null } }
            } else {
                doc! { field_path::<M>(column): Bson::Null }
            }
        }
        Expr::And(all) if all.is_empty() => Document::new(),
        Expr::And(all) => {
            doc! { "$and": all.iter().map(condition::<M>).collect::<Result<Vec<_>>>()? }
        }
        Expr::Or(any) if any.is_empty() => nothing(),
        Expr::Or(any) => {
            doc! { "$or": any.iter().map(condition::<M>).collect::<Result<Vec<_>>>()? }
        }
        Expr::Not(inner) => negation::<M>(inner)?,
        Expr::JsonText {
            column,
            path,
            operator,
            value,
        } => comparison(json_field::<M>(column, path), *operator, value)?,
        Expr::JsonTextNull {
            column,
            path,
            negated,
        } => {
            let field = json_field::<M>(column, path);
            if *negated {
                doc! { field: { "$ne": Bson::Null } }
            } else {
                doc! { field: Bson::Null }
            }
        }
        Expr::Exists(_) | Expr::InThrough { .. } => return Err(unsupported("a relation filter")),
        Expr::InSubquery { .. } => return Err(unsupported("an IN subquery")),
        Expr::Aggregate { .. } => return Err(unsupported("an aggregate condition")),
        Expr::Qualified { .. } => return Err(unsupported("a condition on a joined table")),
    })
}

/// A filter no document matches.
fn nothing() -> Document {
    doc! { "_id": { "$in": [] } }
}

/// `NOT expr` as SQL means it: where `expr` compares a field, a null or missing field matches
/// neither the condition nor its negation.
fn negation<M: Model>(inner: &Expr) -> Result<Document> {
    let not_null = |column: &str| doc! { field_path::<M>(column): { "$ne": Bson::Null } };
    Ok(match inner {
        Expr::Compare {
            column,
            operator,
            value,
        } => {
            let flipped = match operator {
                Operator::Eq => Operator::Ne,
                Operator::Ne => Operator::Eq,
                Operator::Lt => Operator::Ge,
                Operator::Le => Operator::Gt,
                Operator::Gt => Operator::Le,
                Operator::Ge => Operator::Lt,
            };
            doc! { "$and": [comparison(field_path::<M>(column), flipped, value)?, not_null(column)] }
        }
        Expr::In { column, values } => {
            let mut values = values.iter().map(to_bson).collect::<Result<Vec<_>>>()?;
            values.push(Bson::Null);
            doc! { field_path::<M>(column): { "$nin": values } }
        }
        Expr::IsNull { column, negated } => condition::<M>(&Expr::IsNull {
            column,
            negated: !negated,
        })?,
        Expr::Not(twice) => condition::<M>(twice)?,
        Expr::Between { column, .. } | Expr::Like { column, .. } => {
            doc! { "$and": [not_null(column), { "$nor": [condition::<M>(inner)?] }] }
        }
        other => doc! { "$nor": [condition::<M>(other)?] },
    })
}

/// A LIKE pattern as an anchored regular expression: `%` any run, `_` one character, the
/// escape character (`!` for the escaped forms, a backslash otherwise, as PostgreSQL reads a
/// plain `like`) makes the next character literal; everything else matches itself.
pub(crate) fn like_regex(pattern: &str, escaped: bool) -> String {
    let escape = if escaped { LIKE_ESCAPE } else { '\\' };
    let mut regex = String::with_capacity(pattern.len() + 4);
    regex.push('^');
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c == escape => {
                if let Some(next) = chars.next() {
                    push_literal(&mut regex, next);
                }
            }
            '%' => regex.push_str(".*"),
            '_' => regex.push('.'),
            c => push_literal(&mut regex, c),
        }
    }
    regex.push('$');
    regex
}

fn push_literal(regex: &mut String, c: char) {
    if "\\^$.|?*+()[]{}/-".contains(c) {
        regex.push('\\');
    }
    regex.push(c);
}

/// The sort document of a query's order terms.
///
/// # Errors
/// [`Error::MongoUnsupported`] for sorting by an aggregate.
pub(crate) fn sort_document<M: Model>(core: &SelectCore) -> Result<Document> {
    let mut sort = Document::new();
    for term in &core.order {
        if term.aggregate.is_some() {
            return Err(unsupported("sorting by an aggregate"));
        }
        sort.insert(
            field_path::<M>(term.column.column),
            if term.descending { -1 } else { 1 },
        );
    }
    Ok(sort)
}

/// Refuses what a `find` cannot do: grouping and tenant scoping.
///
/// # Errors
/// [`Error::MongoUnsupported`] naming what was asked.
pub(crate) fn check_plain_find<M: Model>(core: &SelectCore, schema: Option<&str>) -> Result<()> {
    if core.is_grouped() {
        return Err(Error::MongoUnsupported {
            feature: "group_by and having (use an aggregation pipeline through run_command)".into(),
        });
    }
    if schema.is_some() {
        return Err(Error::MongoUnsupported {
            feature: format!(
                "in_schema on {} (open a MongoDatabase on the other database instead)",
                M::TABLE
            ),
        });
    }
    check_model::<M>()
}

/// Refuses models MongoDB cannot serve the way SQL does.
///
/// # Errors
/// [`Error::MongoUnsupported`] for tenant-scoped models.
pub(crate) fn check_model<M: Model>() -> Result<()> {
    if let Some(column) = M::TENANT_COLUMN {
        return Err(Error::MongoUnsupported {
            feature: format!(
                "tenant-scoped models ({} by {column}): tenant scoping is SQL-only",
                M::TABLE
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{filter_document, like_regex};
    use crate::ModelExt;
    use mongodb::bson::{Bson, doc};

    #[derive(Clone, crate::Model)]
    #[foxdb(table = "people")]
    struct Person {
        #[foxdb(primary_key)]
        id: i64,
        name: Option<String>,
        age: i64,
    }

    fn rendered(query: crate::query::Select<Person>) -> mongodb::bson::Document {
        filter_document::<Person>(query.core.filter.as_ref()).expect("renders")
    }

    #[test]
    fn conditions_render_with_sqls_null_semantics() {
        assert_eq!(rendered(Person::find()), doc! {});
        assert_eq!(
            rendered(Person::find().filter(Person::ID.eq(1))),
            doc! { "_id": { "$eq": 1_i64 } }
        );
        assert_eq!(
            rendered(Person::find().filter(Person::AGE.ne(3))),
            doc! { "age": { "$nin": [3_i64, Bson::Null] } }
        );
        assert_eq!(
            rendered(Person::find().filter(Person::AGE.lt(3).not())),
            doc! { "$and": [{ "age": { "$gte": 3_i64 } }, { "age": { "$ne": Bson::Null } }] }
        );
        assert_eq!(
            rendered(Person::find().filter(Person::NAME.in_(["a"]).not())),
            doc! { "name": { "$nin": ["a", Bson::Null] } }
        );
        assert_eq!(
            rendered(Person::find().filter(Person::NAME.is_null().or(Person::AGE.gte(18)))),
            doc! { "$or": [{ "name": Bson::Null }, { "age": { "$gte": 18_i64 } }] }
        );
        assert_eq!(
            rendered(Person::find().filter(Person::NAME.starts_with("a.b"))),
            doc! { "name": { "$regex": "^a\\.b.*$", "$options": "s" } }
        );
    }

    #[test]
    fn like_patterns_become_anchored_escaped_regexes() {
        assert_eq!(like_regex("a%b_c", false), "^a.*b.c$");
        assert_eq!(like_regex("%1.5 (x)%", false), "^.*1\\.5 \\(x\\).*$");
        assert_eq!(like_regex("100!%!_done%", true), "^100%_done.*$");
        assert_eq!(like_regex("a\\%b", false), "^a%b$");
        assert_eq!(like_regex("a\\%b", true), "^a\\\\.*b$");
    }
}
