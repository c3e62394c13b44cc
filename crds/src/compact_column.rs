//! Compact columns: a column written on one line, `email: varchar(255) unique`, read into the
//! same [`ColumnSpec`] as the full form `{name: email, type: varchar(255), unique: true}`.
//!
//! # Grammar
//! A column list item that is a mapping with a single key whose value is a string is compact:
//! the key is the column's name, the string its type followed by modifiers, in any order:
//!
//! | compact                                              | full form                                   |
//! |------------------------------------------------------|---------------------------------------------|
//! | `?` (after the type or alone), `nullable`            | `nullable: true`                            |
//! | `unique`                                             | `unique: true`                              |
//! | `pk`, `primary key`                                  | `primaryKey: true`                          |
//! | `default <literal>`                                  | `default: <literal>`                        |
//! | `references <table>[.<column>]`                      | `references: {table, column}`               |
//! | `on delete <action>`, `on update <action>`           | `references: {onDelete, onUpdate}`          |
//!
//! A literal is `'text'` or `"text"` (a quote doubled inside), `true`, `false`, `null`, a
//! number, or a single word (`now()`, `draft`), which is text. Actions are `cascade`,
//! `restrict`, `set null` and `no action`. Keywords are matched case-insensitively. What the
//! compact form cannot say (`previousNames`, a foreign key's constraint `name`) is written in
//! the full form, which mixes freely with the compact one.
//!
//! ```
//! use fox_crds::compact_column::parse_compact_column;
//! use fox_crds::schema::ReferentialAction;
//!
//! let column = parse_compact_column("author_id", "bigint references users.id on delete cascade")
//!     .expect("a compact column");
//! assert_eq!(column.type_, "bigint");
//! let references = column.references.expect("a foreign key");
//! assert_eq!((references.table.as_str(), references.column.as_deref()), ("users", Some("id")));
//! assert_eq!(references.on_delete, ReferentialAction::Cascade);
//! ```

use serde_json::{Map, Value};

use crate::scalar::Scalar;
use crate::schema::{ColumnSpec, ForeignKeySpec, ReferentialAction};

/// The modifiers a compact column takes, as error messages list them.
pub const COMPACT_MODIFIERS: &str = "`?` or `nullable`, `unique`, `pk` or `primary key`, \
     `default <literal>`, `references <table>[.<column>]` followed by `on delete <action>` and \
     `on update <action>` (actions: cascade, restrict, set null, no action)";

/// The fields of a full-form column: an item with one of them as its only key is a full-form
/// column missing its other fields, not a compact column, unless its value is a string.
const FULL_FORM_FIELDS: [&str; 8] = [
    "name",
    "type",
    "nullable",
    "primaryKey",
    "unique",
    "default",
    "references",
    "previousNames",
];

/// Why a compact column's text does not read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompactColumnError {
    /// The single key's value is not a string.
    #[error(
        "a compact column is written `{name}: <type> [modifiers]` with a string value, found {found}; or write the full form `{{name: {name}, type: ...}}`"
    )]
    NotText {
        /// The column.
        name: String,
        /// What was written instead.
        found: String,
    },
    /// Nothing was written after the column name.
    #[error(
        "compact column \"{0}\" has no type; write it as `{0}: <type> [modifiers]`, e.g. `{0}: varchar(255) unique`"
    )]
    MissingType(String),
    /// A word that is no modifier.
    #[error(
        "unknown modifier \"{word}\" in \"{text}\"{hint}; the modifiers are {COMPACT_MODIFIERS}"
    )]
    UnknownModifier {
        /// The word.
        word: String,
        /// The whole compact text.
        text: String,
        /// What the writer probably meant, with its leading separator, or empty.
        hint: String,
    },
    /// A modifier written twice.
    #[error("modifier \"{modifier}\" is given twice in \"{text}\"")]
    Repeated {
        /// The modifier.
        modifier: String,
        /// The whole compact text.
        text: String,
    },
    /// A modifier without the word(s) it needs after it.
    #[error("\"{modifier}\" needs {needs} after it in \"{text}\"")]
    Incomplete {
        /// The modifier.
        modifier: String,
        /// What must follow.
        needs: String,
        /// The whole compact text.
        text: String,
    },
    /// A quote or parenthesis left open.
    #[error("unclosed {what} in \"{text}\"")]
    Unclosed {
        /// `quote` or `parenthesis`.
        what: &'static str,
        /// The whole compact text.
        text: String,
    },
}

/// The column name and text of `item` when it is written in the compact form: a mapping with a
/// single key whose value is a string, or whose key is not a full-form field (so a wrong value
/// is reported as a compact column's).
pub fn compact_entry(item: &Map<String, Value>) -> Option<(&String, &Value)> {
    let mut entries = item.iter();
    let (name, value) = entries.next()?;
    if entries.next().is_some() {
        return None;
    }
    (value.is_string() || !FULL_FORM_FIELDS.contains(&name.as_str())).then_some((name, value))
}

/// The column a compact item's key and value declare.
///
/// # Errors
/// [`CompactColumnError::NotText`] when the value is not a string; otherwise as
/// [`parse_compact_column`].
pub fn compact_column_from_value(
    name: &str,
    value: &Value,
) -> Result<ColumnSpec, CompactColumnError> {
    match value {
        Value::String(text) => parse_compact_column(name, text),
        other => Err(CompactColumnError::NotText {
            name: name.to_string(),
            found: describe(other),
        }),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

/// Reads `text` (`varchar(255) unique`) as the type and modifiers of column `name`.
///
/// The type itself is not checked here: validation checks it as it checks the full form's
/// `type`, with the same messages.
///
/// # Errors
/// A missing type, an unknown or repeated modifier, a modifier missing its argument, an
/// unclosed quote or parenthesis.
pub fn parse_compact_column(name: &str, text: &str) -> Result<ColumnSpec, CompactColumnError> {
    let words = split_words(text)?;
    let mut words = words.iter().map(String::as_str);
    let Some(first) = words.next() else {
        return Err(CompactColumnError::MissingType(name.to_string()));
    };
    let mut column = ColumnSpec {
        name: name.to_string(),
        ..ColumnSpec::default()
    };
    let mut seen: Vec<&'static str> = Vec::new();
    let mut mark = |modifier: &'static str| {
        if seen.contains(&modifier) {
            return Err(CompactColumnError::Repeated {
                modifier: modifier.to_string(),
                text: text.to_string(),
            });
        }
        seen.push(modifier);
        Ok(())
    };
    match first.strip_suffix('?') {
        Some("") => return Err(CompactColumnError::MissingType(name.to_string())),
        Some(ty) => {
            column.type_ = ty.to_string();
            column.nullable = true;
            mark("nullable")?;
        }
        None => column.type_ = first.to_string(),
    }
    let incomplete = |modifier: &str, needs: &str| CompactColumnError::Incomplete {
        modifier: modifier.to_string(),
        needs: needs.to_string(),
        text: text.to_string(),
    };
    while let Some(word) = words.next() {
        match word.to_ascii_lowercase().as_str() {
            "?" | "nullable" => {
                mark("nullable")?;
                column.nullable = true;
            }
            "unique" => {
                mark("unique")?;
                column.unique = true;
            }
            "pk" => {
                mark("primary key")?;
                column.primary_key = true;
            }
            "primary" => {
                if !words.next().is_some_and(|w| w.eq_ignore_ascii_case("key")) {
                    return Err(incomplete("primary", "`key`"));
                }
                mark("primary key")?;
                column.primary_key = true;
            }
            "default" => {
                mark("default")?;
                let literal = words.next().ok_or_else(|| {
                    incomplete(
                        "default",
                        "a value ('text', a number, true, false, null or now())",
                    )
                })?;
                column.default = Some(literal_value(literal));
            }
            "references" => {
                mark("references")?;
                let target = words
                    .next()
                    .ok_or_else(|| incomplete("references", "`<table>` or `<table>.<column>`"))?;
                column.references = Some(foreign_key(target, text)?);
            }
            "on" => {
                let event = words.next().map(str::to_ascii_lowercase);
                let Some(reference) = column.references.as_mut() else {
                    return Err(incomplete(
                        "on",
                        "a preceding `references <table>.<column>` (on delete/on update belong to a foreign key)",
                    ));
                };
                let event: &'static str = match event.as_deref() {
                    Some("delete") => "on delete",
                    Some("update") => "on update",
                    _ => return Err(incomplete("on", "`delete` or `update`")),
                };
                mark(event)?;
                let action = referential_action(&mut words)
                    .ok_or_else(|| incomplete(event, "cascade, restrict, set null or no action"))?;
                if event == "on delete" {
                    reference.on_delete = action;
                } else {
                    reference.on_update = action;
                }
            }
            _ => {
                return Err(CompactColumnError::UnknownModifier {
                    word: word.to_string(),
                    text: text.to_string(),
                    hint: modifier_hint(word),
                });
            }
        }
    }
    Ok(column)
}

/// What a writer coming from another tool probably meant by `word`.
fn modifier_hint(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let hint = match lower.as_str() {
        "auto" | "autoincrement" | "auto_increment" | "identity" | "increments" => {
            "auto-increment is a type here: serial or bigserial"
        }
        "null" => "a nullable column is written `?` or `nullable`",
        "not" => "columns are NOT NULL unless marked `?` or `nullable`",
        "key" | "primarykey" | "primary_key" | "id" => "a primary key is `pk` or `primary key`",
        "fk" | "foreign" | "ref" => "a foreign key is `references <table>[.<column>]`",
        _ => return String::new(),
    };
    format!(" ({hint})")
}

fn foreign_key(target: &str, text: &str) -> Result<ForeignKeySpec, CompactColumnError> {
    let (table, column) = match target.split_once('.') {
        Some((table, column)) => (table, Some(column)),
        None => (target, None),
    };
    if table.is_empty() || column.is_some_and(|c| c.is_empty() || c.contains('.')) {
        return Err(CompactColumnError::Incomplete {
            modifier: "references".into(),
            needs: format!("`<table>` or `<table>.<column>` (found \"{target}\")"),
            text: text.to_string(),
        });
    }
    Ok(ForeignKeySpec {
        table: table.to_string(),
        column: column.map(str::to_string),
        ..ForeignKeySpec::default()
    })
}

fn referential_action<'a>(words: &mut impl Iterator<Item = &'a str>) -> Option<ReferentialAction> {
    let word = words.next()?.to_ascii_lowercase();
    let mut then = |expected: &str| {
        words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case(expected))
    };
    match word.as_str() {
        "cascade" => Some(ReferentialAction::Cascade),
        "restrict" => Some(ReferentialAction::Restrict),
        "set" => then("null").then_some(ReferentialAction::SetNull),
        "no" => then("action").then_some(ReferentialAction::NoAction),
        _ => None,
    }
}

/// A default literal: quoted text, a boolean, null, a number, or a single word read as text.
fn literal_value(word: &str) -> Scalar {
    for quote in ['\'', '"'] {
        if let Some(inner) = word
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
            .filter(|_| word.len() >= 2)
        {
            let doubled = format!("{quote}{quote}");
            return Scalar::String(inner.replace(&doubled, &quote.to_string()));
        }
    }
    match word {
        "true" => return Scalar::Bool(true),
        "false" => return Scalar::Bool(false),
        "null" => return Scalar::Null,
        _ => {}
    }
    if let Ok(integer) = word.parse::<i64>() {
        return Scalar::Integer(integer);
    }
    let numeric = word
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'));
    if numeric
        && word.chars().any(|c| c.is_ascii_digit())
        && let Ok(float) = word.parse::<f64>()
        && float.is_finite()
    {
        return Scalar::Float(float);
    }
    Scalar::String(word.to_string())
}

/// Splits at whitespace outside quotes and parentheses: `enum(a, b)` and `'two words'` are one
/// word each. Quotes keep their quote characters (the literal reader removes them).
fn split_words(text: &str) -> Result<Vec<String>, CompactColumnError> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' if current.is_empty() => {
                current.push(c);
                let mut closed = false;
                while let Some(inner) = chars.next() {
                    current.push(inner);
                    if inner == c {
                        if chars.peek() == Some(&c) {
                            current.push(c);
                            chars.next();
                        } else {
                            closed = true;
                            break;
                        }
                    }
                }
                if !closed {
                    return Err(CompactColumnError::Unclosed {
                        what: "quote",
                        text: text.to_string(),
                    });
                }
            }
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            c if c.is_whitespace() && depth == 0 => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            // Inside parentheses spaces are dropped: `decimal(12, 2)` is `decimal(12,2)`.
            c if c.is_whitespace() => {}
            c => current.push(c),
        }
    }
    if depth > 0 {
        return Err(CompactColumnError::Unclosed {
            what: "parenthesis",
            text: text.to_string(),
        });
    }
    if !current.is_empty() {
        words.push(current);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> ColumnSpec {
        parse_compact_column("c", text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn error(text: &str) -> String {
        match parse_compact_column("c", text) {
            Ok(column) => panic!("{text} parsed as {column:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn full(yaml_like: ColumnSpec) -> ColumnSpec {
        ColumnSpec {
            name: "c".into(),
            ..yaml_like
        }
    }

    #[test]
    fn a_type_alone_is_a_not_null_column() {
        assert_eq!(
            parsed("varchar(255)"),
            full(ColumnSpec {
                type_: "varchar(255)".into(),
                ..ColumnSpec::default()
            })
        );
    }

    #[test]
    fn question_mark_and_nullable_make_the_column_nullable() {
        for text in [
            "varchar(100)?",
            "varchar(100) ?",
            "varchar(100) nullable",
            "varchar(100) NULLABLE",
        ] {
            let column = parsed(text);
            assert!(column.nullable, "{text}");
            assert_eq!(column.type_, "varchar(100)", "{text}");
        }
    }

    #[test]
    fn unique_and_both_primary_key_spellings_read() {
        assert!(parsed("text unique").unique);
        assert!(parsed("bigserial pk").primary_key);
        assert!(parsed("bigserial primary key").primary_key);
        assert!(parsed("bigserial PRIMARY KEY").primary_key);
    }

    #[test]
    fn default_literals_read_as_the_full_form_reads_them() {
        let default = |text: &str| parsed(text).default.expect("a default");
        assert_eq!(
            default("text default 'it''s'"),
            Scalar::String("it's".into())
        );
        assert_eq!(
            default("text default \"two words\""),
            Scalar::String("two words".into())
        );
        assert_eq!(
            default("text default draft"),
            Scalar::String("draft".into())
        );
        assert_eq!(default("integer default 42"), Scalar::Integer(42));
        assert_eq!(default("integer default -7"), Scalar::Integer(-7));
        assert_eq!(default("double default 1.5"), Scalar::Float(1.5));
        assert_eq!(default("boolean default true"), Scalar::Bool(true));
        assert_eq!(default("boolean default false"), Scalar::Bool(false));
        assert_eq!(default("text? default null"), Scalar::Null);
        assert_eq!(
            default("timestamptz default now()"),
            Scalar::String("now()".into())
        );
        assert_eq!(
            default("date default current_date"),
            Scalar::String("current_date".into())
        );
        assert_eq!(
            default("text default 'true'"),
            Scalar::String("true".into())
        );
        assert_eq!(default("text default ''"), Scalar::String(String::new()));
    }

    #[test]
    fn references_read_table_column_and_actions() {
        let column = parsed("bigint references users.id on delete cascade on update restrict");
        assert_eq!(
            column.references,
            Some(ForeignKeySpec {
                table: "users".into(),
                column: Some("id".into()),
                on_delete: ReferentialAction::Cascade,
                on_update: ReferentialAction::Restrict,
                name: None,
            })
        );
        let column = parsed("bigint? references users on delete set null on update no action");
        let references = column.references.expect("a foreign key");
        assert_eq!(references.column, None);
        assert_eq!(references.on_delete, ReferentialAction::SetNull);
        assert_eq!(references.on_update, ReferentialAction::NoAction);
        assert!(column.nullable);
    }

    #[test]
    fn modifiers_come_in_any_order_and_types_keep_their_arguments() {
        let column = parsed("decimal(12, 2) default 0 unique nullable");
        assert_eq!(column.type_, "decimal(12,2)");
        assert!(column.unique && column.nullable);
        assert_eq!(column.default, Some(Scalar::Integer(0)));
        assert_eq!(
            parsed("enum(draft, published) default draft").type_,
            "enum(draft,published)"
        );
    }

    #[test]
    fn an_unknown_modifier_names_the_modifiers_allowed() {
        let message = error("bigint auto");
        assert!(message.starts_with("unknown modifier \"auto\" in \"bigint auto\" (auto-increment is a type here: serial or bigserial); the modifiers are `?` or `nullable`"), "{message}");
        assert!(error("text uniq").contains("unknown modifier \"uniq\""));
        assert!(error("text not null").contains("columns are NOT NULL unless marked"));
    }

    #[test]
    fn incomplete_repeated_and_unclosed_modifiers_are_refused() {
        assert_eq!(
            error(""),
            "compact column \"c\" has no type; write it as `c: <type> [modifiers]`, e.g. `c: varchar(255) unique`"
        );
        assert_eq!(error("?"), error(""));
        assert!(error("text default").contains("\"default\" needs a value"));
        assert!(error("bigint references").contains("\"references\" needs `<table>`"));
        assert!(error("bigint references users.").contains("found \"users.\""));
        assert!(error("bigint references a.b.c").contains("found \"a.b.c\""));
        assert!(error("bigint on delete cascade").contains("a preceding `references"));
        assert!(
            error("bigint references users on insert cascade").contains("`delete` or `update`")
        );
        assert!(
            error("bigint references users on delete nothing")
                .contains("cascade, restrict, set null or no action")
        );
        assert!(error("bigint references users on delete set").contains("\"on delete\" needs"));
        assert!(error("bigint primary").contains("\"primary\" needs `key`"));
        assert_eq!(
            error("text unique unique"),
            "modifier \"unique\" is given twice in \"text unique unique\""
        );
        assert!(error("text? nullable").contains("\"nullable\" is given twice"));
        assert!(error("bigint pk primary key").contains("\"primary key\" is given twice"));
        assert!(
            error("bigint references a on delete cascade on delete restrict")
                .contains("\"on delete\" is given twice")
        );
        assert_eq!(
            error("text default 'open"),
            "unclosed quote in \"text default 'open\""
        );
        assert_eq!(
            error("decimal(12,2"),
            "unclosed parenthesis in \"decimal(12,2\""
        );
    }

    #[test]
    fn a_single_key_item_is_compact_unless_it_is_a_lone_full_form_field() {
        let item = |json: Value| json.as_object().expect("a mapping").clone();
        let compact = item(serde_json::json!({"email": "text unique"}));
        assert_eq!(
            compact_entry(&compact).map(|(k, _)| k.as_str()),
            Some("email")
        );
        // A column called `name` or `type` may be compact too.
        let named = item(serde_json::json!({"name": "varchar(100)"}));
        assert_eq!(compact_entry(&named).map(|(k, _)| k.as_str()), Some("name"));
        let not_text = item(serde_json::json!({"email": 5}));
        assert!(compact_entry(&not_text).is_some());
        let lone_field = item(serde_json::json!({"nullable": true}));
        assert_eq!(compact_entry(&lone_field), None);
        let full_form = item(serde_json::json!({"name": "email", "type": "text"}));
        assert_eq!(compact_entry(&full_form), None);
        assert_eq!(
            compact_column_from_value("email", &serde_json::json!(5)).map_err(|e| e.to_string()),
            Err("a compact column is written `email: <type> [modifiers]` with a string value, found number 5; or write the full form `{name: email, type: ...}`".to_string())
        );
    }
}
