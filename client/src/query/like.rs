//! `LIKE` on text columns: patterns as written (`like`), and user text matched literally
//! (`contains`, `starts_with`, `ends_with`, or `like_escaped` with [`escape_like`]).
//!
//! `%` and `_` in user text are wildcards to `LIKE`, and the engines disagree on escaping them:
//! PostgreSQL and MySQL take a backslash by default, SQLite has no escape character unless the
//! statement names one. The literal forms therefore always name one, `ESCAPE '!'`, which every
//! engine reads the same way and which needs no escaping inside a string on any of them (a
//! backslash would, on MySQL). With it a backslash in the text is a plain character everywhere.
//!
//! Case follows the engine, as for `like`: case-sensitive on PostgreSQL, by the column's
//! collation on MySQL/MariaDB (case-insensitive by default), ASCII case-insensitive on SQLite.
//!
//! ```
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "files")]
//! # struct File {
//! #     #[foxdb(primary_key)]
//! #     id: i64,
//! #     name: String,
//! # }
//! use foxdb::{Backend, ModelExt};
//! let query = File::find().filter(File::NAME.contains("100%_done"));
//! let (sql, values) = query.to_sql(Backend::Postgres);
//! assert!(sql.ends_with(r#"WHERE "name" LIKE $1 ESCAPE '!'"#), "{sql}");
//! assert_eq!(values, [foxdb::Value::Text("%100!%!_done%".into())]);
//! ```

use super::ast::{Expr, LIKE_ESCAPE as ESCAPE};
use super::column::Column;
use super::condition::Condition;
use super::source::Source;
use crate::model::{ColumnType, Comparable, IntoValue};

/// `text` with `%`, `_` and the escape character `!` escaped, for a pattern given to
/// [`Column::like_escaped`]: `format!("{}%", escape_like(prefix))` matches text starting with
/// `prefix`, whatever it holds.
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | ESCAPE) {
            escaped.push(ESCAPE);
        }
        escaped.push(c);
    }
    escaped
}

/// A column type `LIKE` matches: text, and the labels of enum columns (`#[derive(foxdb::Enum)]`
/// types get it from their derive).
pub trait MatchesText: ColumnType {}

impl MatchesText for String {}

impl<T: MatchesText> MatchesText for Option<T> {}

impl<M: Source, T: MatchesText> Column<M, T> {
    /// `column LIKE pattern` (`%` any run, `_` one character), the pattern as written: its
    /// escaping is each engine's own (a backslash on PostgreSQL and MySQL, none on SQLite). For
    /// user text, use [`Column::contains`], [`Column::starts_with`], [`Column::ends_with`] or
    /// [`Column::like_escaped`].
    pub fn like(self, pattern: impl Comparable<String>) -> Condition<M> {
        self.like_condition(pattern.into_compared().into_value(), false)
    }

    /// `column LIKE pattern ESCAPE '!'`: `%` and `_` are wildcards, and `!` makes the character
    /// after it literal on every engine; build the literal parts with [`escape_like`].
    pub fn like_escaped(self, pattern: impl Into<String>) -> Condition<M> {
        self.like_condition(pattern.into().into_value(), true)
    }

    /// The column holds `text` anywhere, matched literally (`%`, `_`, `\` are plain
    /// characters).
    pub fn contains(self, text: &str) -> Condition<M> {
        self.like_escaped(format!("%{}%", escape_like(text)))
    }

    /// The column starts with `text`, matched literally.
    pub fn starts_with(self, text: &str) -> Condition<M> {
        self.like_escaped(format!("{}%", escape_like(text)))
    }

    /// The column ends with `text`, matched literally.
    pub fn ends_with(self, text: &str) -> Condition<M> {
        self.like_escaped(format!("%{}", escape_like(text)))
    }

    fn like_condition(self, pattern: crate::Value, escaped: bool) -> Condition<M> {
        Condition::new(Expr::Like {
            column: self.name(),
            pattern,
            escaped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn wildcards_and_the_escape_character_are_escaped() {
        assert_eq!(escape_like("a%b_c!d\\e"), "a!%b!_c!!d\\e");
        assert_eq!(escape_like(""), "");
        assert_eq!(escape_like("ü_"), "ü!_");
    }
}
