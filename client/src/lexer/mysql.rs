//! MySQL's and MariaDB's reading: `?` placeholders; `'...'` and `"..."` are strings in which a
//! backslash escapes (the default `sql_mode`); `` `...` `` identifiers; `#` comments, and `--`
//! ones only before a space or control byte; `/*! */` and `/*M! */` hold SQL to run.

use std::ops::Range;

use super::{
    Lexer, Step, TokenKind, Uncountable, line_comment_end, skip_block_comment, skip_quoted,
    token_starts,
};

/// Reads MySQL and MariaDB text: each `?` is one value.
#[derive(Debug, Default)]
pub(super) struct MySqlLexer {
    count: usize,
    /// Inside `/*! ... */`: its SQL is read, and `*/` ends it.
    in_executable_comment: bool,
}

impl Lexer for MySqlLexer {
    const TOKEN_STARTS: [bool; 256] = token_starts(b"?`#*", false);

    const BACKSLASH_ESCAPES: bool = true;

    const DOUBLE_QUOTED_STRINGS: bool = true;

    /// `--` opens a comment only before a space or control byte (or at the end): `1--1` is
    /// `1 - (-1)`.
    fn opens_dash_comment(sql: &[u8], at: usize) -> bool {
        sql.get(at + 2).is_none_or(|&b| b <= b' ' || b == 0x7f)
    }

    /// `/*!` (MySQL, and MariaDB) and `/*M!` (MariaDB) open SQL the server runs, optionally
    /// behind a minimum server version (digits, read as a word); `/*+` holds optimizer hints,
    /// which take no placeholders. Comments do not nest.
    fn block_comment(&mut self, sql: &[u8], at: usize) -> Step {
        let opener = match (sql.get(at + 2), sql.get(at + 3)) {
            // Executable comments do not nest either: this one is a comment in it.
            _ if self.in_executable_comment => None,
            (Some(b'!'), _) => Some(3),
            (Some(b'M'), Some(b'!')) => Some(4),
            _ => None,
        };
        let Some(opener) = opener else {
            return skip_block_comment(sql, at);
        };
        self.in_executable_comment = true;
        Ok(at + opener)
    }

    fn other(&mut self, sql: &[u8], at: usize) -> Step {
        match sql[at] {
            b'?' => self.count += 1,
            b'`' => return skip_quoted(sql, at, false),
            b'#' => return Ok(line_comment_end::<Self>(sql, at + 1)),
            b'*' if self.in_executable_comment && sql.get(at + 1) == Some(&b'/') => {
                self.in_executable_comment = false;
                return Ok(at + 2);
            }
            _ => {}
        }
        Ok(at + 1)
    }

    /// `?` is a placeholder, `` `a` `` an identifier, `#` a comment; `/*!` opens SQL, which is
    /// text (a whole comment ends with `*/`).
    fn kind(sql: &[u8], span: Range<usize>) -> TokenKind {
        match sql[span.start] {
            b'?' => TokenKind::Placeholder,
            b'`' => TokenKind::QuotedIdentifier,
            b'#' => TokenKind::Comment,
            b'/' if !sql[span.clone()].ends_with(b"*/") || span.len() < 4 => TokenKind::Text,
            b'/' => TokenKind::Comment,
            _ => TokenKind::Text,
        }
    }

    fn in_conditional_sql(&self) -> bool {
        self.in_executable_comment
    }

    fn expected(self) -> Result<usize, Uncountable> {
        if self.in_executable_comment {
            return Err(Uncountable::Unterminated);
        }
        Ok(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Uncountable, expected_parameters};
    use crate::Backend;

    fn expected(sql: &str) -> Result<usize, Uncountable> {
        expected_parameters(Backend::MySql, sql)
    }

    #[test]
    fn each_question_mark_is_a_value() {
        assert_eq!(expected("SELECT 1"), Ok(0));
        assert_eq!(expected("SELECT ?, ?"), Ok(2));
        assert_eq!(expected("INSERT INTO t VALUES (?,?),(?,?)"), Ok(4));
        assert_eq!(expected("SELECT a$b, ?"), Ok(1));
    }

    #[test]
    fn strings_take_backslash_escapes_and_doubled_quotes() {
        assert_eq!(expected("SELECT 'it\\'s ?', ?"), Ok(1));
        assert_eq!(expected("SELECT 'it''s ?', ?"), Ok(1));
        assert_eq!(expected("SELECT 'a\\\\', ?"), Ok(1), "an escaped backslash");
        assert_eq!(expected("SELECT 'a''\\'?', ?"), Ok(1));
        assert_eq!(expected("SELECT \"say \\\"?\\\"\", ?"), Ok(1));
        assert_eq!(expected("SELECT \"it's \"\"?\"\"\", ?"), Ok(1));
        assert_eq!(expected("SELECT _utf8mb4'?' , x'3F', ?"), Ok(1));
    }

    #[test]
    fn backticks_quote_identifiers_without_escapes() {
        assert_eq!(expected("SELECT 1 AS `a``?`, ?"), Ok(1));
        assert_eq!(
            expected("SELECT 1 AS `a\\`, ?"),
            Ok(1),
            "a backslash is a name byte"
        );
        assert_eq!(expected("SELECT 1 AS `it's`, ?"), Ok(1));
    }

    #[test]
    fn dash_comments_need_a_space_or_control_byte() {
        assert_eq!(expected("SELECT ? -- it's ?"), Ok(1));
        assert_eq!(expected("SELECT ? --\t?\n"), Ok(1));
        assert_eq!(expected("SELECT ? --"), Ok(1));
        assert_eq!(expected("SELECT 1--?"), Ok(1), "minus minus a value");
        assert_eq!(expected("SELECT ? -- ?\n, ?"), Ok(2));
    }

    #[test]
    fn hash_and_block_comments_hide_placeholders_and_quotes() {
        assert_eq!(expected("SELECT ? # it's ?\n, ?"), Ok(2));
        assert_eq!(expected("SELECT /* it's ? */ ?"), Ok(1));
        assert_eq!(expected("SELECT /* a /* ? */ ?"), Ok(1), "no nesting");
        assert_eq!(expected("SELECT /*+ MAX_EXECUTION_TIME(?) */ ?"), Ok(1));
    }

    #[test]
    fn executable_comments_hold_sql_whose_placeholders_count() {
        assert_eq!(expected("SELECT 1 /*! + ? */"), Ok(1));
        assert_eq!(expected("SELECT 1 /*!50001 + ? */ + ?"), Ok(2));
        assert_eq!(expected("SELECT 1 /*M!100100 + ? */"), Ok(1));
        assert_eq!(
            expected("SELECT 1 /*! + '*/ ?' */, ?"),
            Ok(1),
            "a string inside"
        );
        assert_eq!(expected("SELECT 1 /*! + ? /* ? */ */"), Ok(1));
        assert_eq!(
            expected("SELECT 1 /*m! ? */"),
            Ok(0),
            "only an upper-case M"
        );
    }

    #[test]
    fn unterminated_text_is_left_to_the_server() {
        for sql in [
            "SELECT 'it\\'s",
            "SELECT \"abc",
            "SELECT `abc",
            "SELECT 'a\\",
            "SELECT ? /* abc",
            "SELECT ? /*! + ?",
            "SELECT /*!",
        ] {
            assert_eq!(expected(sql), Err(Uncountable::Unterminated), "{sql}");
        }
    }
}
