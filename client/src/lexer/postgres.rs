//! PostgreSQL's reading: `$n` placeholders, `E'...'` strings with backslash escapes,
//! dollar-quoted strings, nested block comments, `--` comments ending at `\r` too. `?` is an
//! operator here (jsonb `?`, `?|`, `?&`), never a placeholder.

use std::ops::Range;

use super::{
    Lexer, Step, TokenKind, Uncountable, number_at, skip_quoted, starts_word, token_starts,
    word_end,
};

/// Reads PostgreSQL text. The highest `$n` is the number of values: `$1` may appear many times,
/// and a value no `$n` names is bound and left unused (the server accepts both).
#[derive(Debug, Default)]
pub(super) struct PostgresLexer {
    highest: usize,
}

impl Lexer for PostgresLexer {
    const TOKEN_STARTS: [bool; 256] = token_starts(b"$", true);

    fn ends_line_comment(byte: u8) -> bool {
        matches!(byte, b'\n' | b'\r')
    }

    /// Comments nest: `/* a /* b */ still a comment */`.
    fn block_comment(&mut self, sql: &[u8], at: usize) -> Step {
        let mut depth = 0usize;
        let mut at = at;
        loop {
            match sql.get(at..at + 2) {
                Some([b'/', b'*']) => {
                    depth += 1;
                    at += 2;
                }
                Some([b'*', b'/']) => {
                    depth -= 1;
                    at += 2;
                    if depth == 0 {
                        return Ok(at);
                    }
                }
                Some(_) => at += 1,
                None => return Err(Uncountable::Unterminated),
            }
        }
    }

    /// `E'...'` (or `e'...'`) is a string in which a backslash escapes: the `E` is a word of its
    /// own, so `type'...'` is a plain string after the word `type`.
    fn word(sql: &[u8], at: usize) -> Step {
        if matches!(sql[at], b'E' | b'e') && sql.get(at + 1) == Some(&b'\'') {
            return skip_quoted(sql, at + 1, true);
        }
        Ok(word_end(sql, at))
    }

    /// `$n` is a placeholder; `$$` and `$tag$` open a string that ends at the same tag.
    fn other(&mut self, sql: &[u8], at: usize) -> Step {
        if sql[at] != b'$' {
            return Ok(at + 1);
        }
        let (end, n) = number_at(sql, at + 1);
        if end > at + 1 {
            self.highest = self.highest.max(n);
            return Ok(end);
        }
        let Some(tag_end) = dollar_tag_end(sql, at) else {
            // A lone `$`: not valid, the server says so.
            return Ok(at + 1);
        };
        let tag = &sql[at..tag_end];
        sql[tag_end..]
            .windows(tag.len())
            .position(|window| window == tag)
            .map(|body| tag_end + body + tag.len())
            .ok_or(Uncountable::Unterminated)
    }

    /// `E'...'` and `$$...$$` (or `$tag$...$tag$`) are strings, `$n` a placeholder.
    fn kind(sql: &[u8], span: Range<usize>) -> TokenKind {
        match (sql[span.start], sql.get(span.start + 1)) {
            (b'E' | b'e', Some(b'\'')) => TokenKind::String,
            (b'$', Some(b'0'..=b'9')) => TokenKind::Placeholder,
            (b'$', _) if span.len() > 1 => TokenKind::String,
            (b'/', Some(b'*')) => TokenKind::Comment,
            _ => TokenKind::Text,
        }
    }

    fn expected(self) -> Result<usize, Uncountable> {
        Ok(self.highest)
    }
}

/// Where the `$tag$` opening at `at` ends, if one does: a tag is empty or a word without `$`
/// (its first byte is no digit: `$` and a digit were read as a placeholder).
fn dollar_tag_end(sql: &[u8], at: usize) -> Option<usize> {
    let tag = sql.get(at + 1..)?;
    let length = tag
        .iter()
        .position(|&b| !starts_word(b))
        .unwrap_or(tag.len());
    (tag.get(length) == Some(&b'$')).then_some(at + 1 + length + 1)
}

#[cfg(test)]
mod tests {
    use super::super::{Uncountable, expected_parameters};
    use crate::Backend;

    fn expected(sql: &str) -> Result<usize, Uncountable> {
        expected_parameters(Backend::Postgres, sql)
    }

    #[test]
    fn the_highest_numbered_placeholder_is_the_count() {
        assert_eq!(expected("SELECT 1"), Ok(0));
        assert_eq!(expected("SELECT $1, $2"), Ok(2));
        assert_eq!(expected("SELECT $2, $1"), Ok(2));
        assert_eq!(expected("SELECT $1 + $1"), Ok(1), "repeats");
        assert_eq!(
            expected("SELECT $1, $3"),
            Ok(3),
            "a gap is a value left unused"
        );
        assert_eq!(expected("SELECT $10"), Ok(10));
        assert_eq!(expected("SELECT $1::int + $2::text::int"), Ok(2), "casts");
        assert_eq!(expected("SELECT ($1)"), Ok(1));
    }

    #[test]
    fn a_dollar_inside_a_word_is_part_of_it() {
        assert_eq!(expected("SELECT a$1 FROM t$2"), Ok(0));
    }

    #[test]
    fn question_marks_are_operators() {
        assert_eq!(expected("SELECT '{\"a\":1}'::jsonb ? $1"), Ok(1));
        assert_eq!(
            expected("SELECT j ?| array['a', $1], j ?& array[$2]"),
            Ok(2)
        );
        assert_eq!(expected("SELECT ?"), Ok(0));
    }

    #[test]
    fn standard_strings_hide_placeholders_and_keep_backslashes() {
        assert_eq!(expected("SELECT '$2', 'it''s $3', $1"), Ok(1));
        assert_eq!(expected("SELECT '\\', $1"), Ok(1), "a backslash is text");
        assert_eq!(expected("SELECT 'a' -- $2\n, $1"), Ok(1));
        assert_eq!(expected("SELECT type'$2', U&'\\0061$3', $1"), Ok(1));
    }

    #[test]
    fn escape_strings_take_backslash_escapes() {
        assert_eq!(expected("SELECT E'it\\'s $2', $1"), Ok(1));
        assert_eq!(expected("SELECT e'\\\\', $1"), Ok(1));
        assert_eq!(expected("SELECT E'a''\\'$2', $1"), Ok(1));
        assert_eq!(expected("SELECT 1 AS e, $1"), Ok(1));
    }

    #[test]
    fn quoted_identifiers_hide_placeholders() {
        assert_eq!(expected("SELECT 1 AS \"a\"\"$2\", $1"), Ok(1));
        assert_eq!(expected("SELECT 1 AS \"'\", $1"), Ok(1));
    }

    #[test]
    fn dollar_quoted_strings_hide_everything_up_to_their_tag() {
        assert_eq!(expected("SELECT $$it's $2$$, $1"), Ok(1));
        assert_eq!(expected("SELECT $fn$ $$ ' $2 $fn$, $1"), Ok(1));
        assert_eq!(expected("SELECT $a$ $b$ $2 $b$ $a$, $1"), Ok(1));
        assert_eq!(expected("SELECT $ü$ $2 $ü$, $1"), Ok(1));
        assert_eq!(expected("SELECT $_1$ $2 $_1$ || $1"), Ok(1));
    }

    #[test]
    fn comments_hide_placeholders_and_quotes() {
        assert_eq!(expected("SELECT $1 -- it's $2"), Ok(1));
        assert_eq!(
            expected("SELECT -- $3\r$1"),
            Ok(1),
            "a carriage return ends it"
        );
        assert_eq!(expected("SELECT /* it's $2 */ $1"), Ok(1));
        assert_eq!(
            expected("SELECT /* a /* $3 */ it's $2 */ $1"),
            Ok(1),
            "nested"
        );
        assert_eq!(expected("SELECT /**/ $1 /*/ $2 */"), Ok(1));
        assert_eq!(expected("SELECT 2 */* $2 */ $1"), Ok(1));
    }

    #[test]
    fn unterminated_text_is_left_to_the_server() {
        for sql in [
            "SELECT 'abc",
            "SELECT \"abc",
            "SELECT E'\\'",
            "SELECT $$abc",
            "SELECT $a$ abc $b$",
            "SELECT /* a /* b */",
            "SELECT $1, 'it''",
        ] {
            assert_eq!(expected(sql), Err(Uncountable::Unterminated), "{sql}");
        }
    }

    #[test]
    fn a_lone_dollar_is_left_to_the_server() {
        assert_eq!(expected("SELECT $ , $1"), Ok(1));
        assert_eq!(expected("SELECT $a, $1"), Ok(1));
    }
}
