//! SQLite's reading: `?`, `?NNN` and `$NNN` placeholders; `` `...` `` and `[...]` identifiers;
//! a `/*` comment may run to the end of the text. SQLite's named parameters (`:a`, `@a`, `$a`)
//! are refused: the driver binds by position, and foxdb's values have no names.

use std::ops::Range;

use super::{
    Lexer, Step, TokenKind, Uncountable, continues_word, number_at, skip_block_comment,
    skip_quoted, token_starts,
};

/// Why a named parameter is refused.
const NAMED: &str = "foxdb binds parameters by position, not by name: write `?` for each value, or number them `?1`, `?2` (or `$1`, `$2`)";

/// Why `?0` and `$0` are refused (SQLite rejects the first; the driver cannot bind the second).
const NUMBERED_FROM_ONE: &str = "parameters are numbered from 1";

/// Why mixing bare and numbered placeholders is refused.
const MIXED: &str = "a statement cannot mix bare `?` with numbered `?NNN` or `$NNN` placeholders: SQLite numbers a bare `?` after the highest numbered one but the driver by its count of bare ones, so it would get another value; use one style";

/// Reads SQLite text: each bare `?` is one value; numbered placeholders take values up to the
/// highest number (repeats and gaps allowed, as on PostgreSQL).
#[derive(Debug, Default)]
pub(super) struct SqliteLexer {
    bare: usize,
    highest_numbered: usize,
}

impl SqliteLexer {
    fn bare(&mut self, at: usize) -> Step {
        if self.highest_numbered > 0 {
            return Err(Uncountable::Unbindable {
                span: at..at + 1,
                hint: MIXED,
            });
        }
        self.bare += 1;
        Ok(at + 1)
    }

    fn numbered(&mut self, span: std::ops::Range<usize>, number: usize) -> Step {
        let hint = match number {
            0 => NUMBERED_FROM_ONE,
            _ if self.bare > 0 => MIXED,
            _ => {
                self.highest_numbered = self.highest_numbered.max(number);
                return Ok(span.end);
            }
        };
        Err(Uncountable::Unbindable { span, hint })
    }
}

impl Lexer for SqliteLexer {
    const TOKEN_STARTS: [bool; 256] = token_starts(b"`[?$:@#", true);

    /// A `/*` comment left open runs to the end of the text: SQLite accepts that.
    fn block_comment(&mut self, sql: &[u8], at: usize) -> Step {
        skip_block_comment(sql, at).or(Ok(sql.len()))
    }

    fn other(&mut self, sql: &[u8], at: usize) -> Step {
        match sql[at] {
            b'`' => skip_quoted(sql, at, false),
            // Up to the first `]`: no escape.
            b'[' => sql[at..]
                .iter()
                .position(|&b| b == b']')
                .map(|end| at + end + 1)
                .ok_or(Uncountable::Unterminated),
            b'?' => match number_at(sql, at + 1) {
                (end, _) if end == at + 1 => self.bare(at),
                (end, number) => self.numbered(at..end, number),
            },
            prefix @ (b'$' | b':' | b'@' | b'#') => {
                let end = parameter_name_end(sql, at);
                let (digits_end, number) = number_at(sql, at + 1);
                if end == at + 1 {
                    // No name: not a parameter, the server's error.
                    Ok(at + 1)
                } else if prefix == b'$' && digits_end == end {
                    self.numbered(at..end, number)
                } else {
                    Err(Uncountable::Unbindable {
                        span: at..end,
                        hint: NAMED,
                    })
                }
            }
            _ => Ok(at + 1),
        }
    }

    /// `?`, `?NNN` and `$NNN` are placeholders (named ones are refused before this is asked),
    /// `` `a` `` and `[a]` identifiers.
    fn kind(sql: &[u8], span: Range<usize>) -> TokenKind {
        match sql[span.start] {
            b'?' => TokenKind::Placeholder,
            b'$' if span.len() > 1 => TokenKind::Placeholder,
            b'`' | b'[' => TokenKind::QuotedIdentifier,
            b'/' if sql.get(span.start + 1) == Some(&b'*') => TokenKind::Comment,
            _ => TokenKind::Text,
        }
    }

    fn expected(self) -> Result<usize, Uncountable> {
        Ok(if self.highest_numbered > 0 {
            self.highest_numbered
        } else {
            self.bare
        })
    }
}

/// Where the name of the parameter whose prefix (`$`, `:`, `@`, `#`) is at `at` ends, as
/// SQLite's tokenizer reads it: word bytes, `::` (Tcl namespaces), then an optional `(...)`
/// (a Tcl array element). `$1::int` is one parameter, named so, not `$1` and a cast.
fn parameter_name_end(sql: &[u8], at: usize) -> usize {
    let mut end = at + 1;
    let mut named = false;
    loop {
        match sql.get(end) {
            Some(&b) if continues_word(b) => {
                named = true;
                end += 1;
            }
            Some(b':') if sql.get(end + 1) == Some(&b':') => end += 2,
            Some(b'(') if named => {
                return sql[end..]
                    .iter()
                    .position(|&b| b == b')' || b.is_ascii_whitespace())
                    .filter(|&close| sql[end + close] == b')')
                    .map_or(end, |close| end + close + 1);
            }
            _ => return end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Uncountable, expected_parameters};
    use super::{MIXED, NAMED, NUMBERED_FROM_ONE};
    use crate::Backend;

    fn expected(sql: &str) -> Result<usize, Uncountable> {
        expected_parameters(Backend::Sqlite, sql)
    }

    fn refused(sql: &str) -> (&str, &'static str) {
        match expected(sql) {
            Err(Uncountable::Unbindable { span, hint }) => (&sql[span], hint),
            other => panic!("{sql}: {other:?}"),
        }
    }

    #[test]
    fn each_bare_question_mark_is_a_value() {
        assert_eq!(expected("SELECT 1"), Ok(0));
        assert_eq!(expected("INSERT INTO t VALUES (?, ?)"), Ok(2));
        assert_eq!(expected("SELECT a$1, ?"), Ok(1), "a$1 is a name");
    }

    #[test]
    fn numbered_placeholders_count_up_to_the_highest() {
        assert_eq!(expected("SELECT ?2, ?1, ?2"), Ok(2));
        assert_eq!(expected("SELECT ?3"), Ok(3));
        assert_eq!(expected("SELECT $1, $2, $1"), Ok(2));
        assert_eq!(expected("SELECT ?1, $2"), Ok(2));
    }

    #[test]
    fn strings_identifiers_and_comments_hide_placeholders() {
        assert_eq!(expected("SELECT 'it''s ?', ?"), Ok(1));
        assert_eq!(expected("SELECT 'a\\', ?"), Ok(1), "a backslash is text");
        assert_eq!(
            expected("SELECT 1 AS \"a?\", 2 AS `b?`, 3 AS [c?$1:d], ?"),
            Ok(1)
        );
        assert_eq!(expected("SELECT 1 AS [it's], ?"), Ok(1));
        assert_eq!(expected("SELECT ? -- it's ?\n, ?"), Ok(2));
        assert_eq!(expected("SELECT ? /* it's :name ? */"), Ok(1));
        assert_eq!(
            expected("SELECT ? /* it's ?"),
            Ok(1),
            "a comment may stay open"
        );
    }

    #[test]
    fn named_parameters_are_refused() {
        assert_eq!(refused("SELECT :id"), (":id", NAMED));
        assert_eq!(refused("SELECT * FROM t WHERE a = @name"), ("@name", NAMED));
        assert_eq!(refused("SELECT $name"), ("$name", NAMED));
        assert_eq!(refused("SELECT $1a"), ("$1a", NAMED));
        assert_eq!(refused("SELECT #x"), ("#x", NAMED));
        assert_eq!(refused("SELECT a:b"), (":b", NAMED));
        assert_eq!(refused("SELECT $1::int"), ("$1::int", NAMED));
        assert_eq!(refused("SELECT $a(x y)"), ("$a", NAMED));
        assert_eq!(refused("SELECT $a(b), 1"), ("$a(b)", NAMED));
    }

    #[test]
    fn numbers_start_at_one() {
        assert_eq!(refused("SELECT ?0"), ("?0", NUMBERED_FROM_ONE));
        assert_eq!(refused("SELECT $0"), ("$0", NUMBERED_FROM_ONE));
    }

    #[test]
    fn bare_and_numbered_placeholders_do_not_mix() {
        assert_eq!(refused("SELECT ?, ?2"), ("?2", MIXED));
        assert_eq!(refused("SELECT $1, ?"), ("?", MIXED));
    }

    #[test]
    fn a_prefix_without_a_name_is_left_to_the_server() {
        assert_eq!(expected("SELECT 1 : ?"), Ok(1));
        assert_eq!(expected("SELECT $ ?"), Ok(1));
    }

    #[test]
    fn unterminated_text_is_left_to_the_server() {
        for sql in ["SELECT 'abc", "SELECT \"abc", "SELECT `abc", "SELECT [abc"] {
            assert_eq!(expected(sql), Err(Uncountable::Unterminated), "{sql}");
        }
    }
}
