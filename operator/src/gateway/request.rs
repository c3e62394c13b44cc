//! What a gateway request asks for (tables, column-equality filters, a resume position),
//! parsed from its query string and checked against its token's scope.

use std::collections::BTreeMap;

use foxdb::realtime::{Position, RawChange};
use serde_json::Value;

use super::token::Scope;

/// A parsed, authorised request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wanted {
    /// Tables to send changes of.
    pub tables: Vec<String>,
    /// Column equalities; the token's own filters included.
    pub filters: BTreeMap<String, String>,
    /// Resume after this position (`Last-Event-ID` or `from`); `None`: from now.
    pub from: Option<Position>,
}

/// Why a request was refused: 400 (malformed) or 403 (outside the token's scope).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Malformed: 400 with the reason.
    #[error("{0}")]
    BadRequest(String),
    /// Outside the token's scope: 403 with the reason.
    #[error("{0}")]
    Forbidden(String),
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 63
}

/// Parses the query pairs (`table=items`, `filter=team=a`, `from=42`, `access_token=...`,
/// each but `from` repeatable) and a `Last-Event-ID`, then checks them against `scope`.
///
/// # Errors
/// [`Refusal::BadRequest`] for a malformed part, [`Refusal::Forbidden`] for a table outside
/// the token's tables or a filter contradicting the token's.
pub fn parse_request(
    pairs: &[(String, String)],
    last_event_id: Option<&str>,
    scope: &Scope,
) -> Result<Wanted, Refusal> {
    let mut tables = Vec::new();
    let mut filters = BTreeMap::new();
    let mut from = None;
    for (key, value) in pairs {
        match key.as_str() {
            "table" => {
                if !is_identifier(value) {
                    return Err(Refusal::BadRequest(format!(
                        "table {value:?} is not a table name (letters, digits and _, at most 63)"
                    )));
                }
                tables.push(value.clone());
            }
            "filter" => {
                let Some((column, expected)) = value.split_once('=') else {
                    return Err(Refusal::BadRequest(format!(
                        "filter {value:?} is malformed: write column=value, such as filter=team=a"
                    )));
                };
                if !is_identifier(column) {
                    return Err(Refusal::BadRequest(format!(
                        "filter {value:?} is malformed: {column:?} is not a column name"
                    )));
                }
                if filters
                    .insert(column.to_string(), expected.to_string())
                    .is_some_and(|earlier| earlier != expected)
                {
                    return Err(Refusal::BadRequest(format!(
                        "filter on {column} is given twice with different values"
                    )));
                }
            }
            "from" => {
                from = Some(value.parse::<Position>().map_err(|_| {
                    Refusal::BadRequest(format!(
                        "from={value:?} is not a position (a whole number)"
                    ))
                })?);
            }
            "access_token" => {}
            other => {
                return Err(Refusal::BadRequest(format!(
                    "unknown parameter {other:?}: use table, filter, from, access_token"
                )));
            }
        }
    }
    if let Some(id) = last_event_id.filter(|id| !id.trim().is_empty()) {
        from =
            Some(id.parse::<Position>().map_err(|_| {
                Refusal::BadRequest(format!("Last-Event-ID {id:?} is not a position"))
            })?);
    }
    if tables.is_empty() {
        tables.clone_from(&scope.tables);
    }
    for table in &tables {
        if !scope.tables.contains(table) {
            return Err(Refusal::Forbidden(format!(
                "the token does not grant table {table}"
            )));
        }
    }
    for (column, value) in &scope.filters {
        match filters.get(column) {
            Some(asked) if asked != value => {
                return Err(Refusal::Forbidden(format!(
                    "the token grants only rows with {column}={value}"
                )));
            }
            _ => {
                filters.insert(column.clone(), value.clone());
            }
        }
    }
    Ok(Wanted {
        tables,
        filters,
        from,
    })
}

/// A column value as filters compare it: strings as they are, numbers and booleans as JSON
/// writes them.
fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn row_matches(row: Option<&Value>, filters: &BTreeMap<String, String>) -> bool {
    row.is_some_and(|row| {
        filters
            .iter()
            .all(|(column, expected)| row.get(column).is_some_and(|v| text_of(v) == *expected))
    })
}

/// The key under which connections share their messages: connections with the same filters
/// get the same text for a change (the tables only decide whether they get it at all).
pub fn filter_key(filters: &BTreeMap<String, String>) -> String {
    serde_json::to_string(filters).unwrap_or_default()
}

/// A message as sent: borrowed from the change, serialized once.
#[derive(serde::Serialize)]
struct Message<'a> {
    position: i64,
    table: &'a str,
    op: &'a str,
    key: &'a Value,
    old: Option<&'a Value>,
    new: Option<&'a Value>,
    #[serde(rename = "committedAt")]
    committed_at: String,
}

/// The JSON text of the message for `change` under `filters`, or `None` when no row image
/// matches them. A row image that does not match is left out (`null`), so a scoped token
/// never sees a row outside its filters, also when an update moves a row out of them. (The
/// table is checked by the caller: [`Wanted::tables`].)
pub fn message_text(change: &RawChange, filters: &BTreeMap<String, String>) -> Option<String> {
    let (old, new) = if filters.is_empty() {
        (change.old.as_ref(), change.new.as_ref())
    } else {
        let old = change
            .old
            .as_ref()
            .filter(|_| row_matches(change.old.as_ref(), filters));
        let new = change
            .new
            .as_ref()
            .filter(|_| row_matches(change.new.as_ref(), filters));
        if old.is_none() && new.is_none() {
            return None;
        }
        (old, new)
    };
    serde_json::to_string(&Message {
        position: change.position.0,
        table: &change.table,
        op: change.op.as_str(),
        key: &change.primary_key,
        old,
        new,
        committed_at: change
            .committed_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    fn scope() -> Scope {
        Scope {
            tables: vec!["items".into()],
            filters: BTreeMap::from([("team".into(), "a".into())]),
            exp: i64::MAX,
        }
    }

    #[test]
    fn a_malformed_filter_is_a_bad_request_with_the_reason() {
        let refused = parse_request(&pairs(&[("filter", "team")]), None, &scope());
        assert!(
            matches!(&refused, Err(Refusal::BadRequest(why)) if why.contains("column=value")),
            "{refused:?}"
        );
    }

    #[test]
    fn tables_and_filters_outside_the_scope_are_forbidden() {
        assert!(matches!(
            parse_request(&pairs(&[("table", "users")]), None, &scope()),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            parse_request(&pairs(&[("filter", "team=b")]), None, &scope()),
            Err(Refusal::Forbidden(_))
        ));
        let wanted =
            parse_request(&pairs(&[("filter", "kind=x")]), Some("41"), &scope()).expect("in scope");
        assert_eq!(wanted.tables, ["items"]);
        assert_eq!(wanted.filters.len(), 2, "the token's filter is added");
        assert_eq!(wanted.from, Some(Position(41)));
    }
}
