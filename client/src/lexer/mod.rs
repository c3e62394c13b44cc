//! SQL text read the way each engine's server reads it: what is a string, a quoted identifier,
//! a comment or a placeholder. One lexer per engine serves everything that must find those
//! in hand-written SQL: counting a statement's placeholders before binding
//! ([`expected_parameters`]), writing statement shapes without literals (`crate::stats`), and,
//! through the public [`TokenReader`], cutting a migration script into statements (the
//! operator's `fox migrate`).
//!
//! [`scan`] reads what the engines share (`'...'` with `''`, `"..."` with `""`, `--` line
//! comments, `/* */` comments, words); each engine's [`Lexer`] overrides only what its own
//! lexer reads differently:
//!
//! | engine | placeholders | what else it reads its own way |
//! |---|---|---|
//! | PostgreSQL | `$n`: the highest `n` counts, repeats and gaps allowed; `?`, `?\|`, `?&` are operators | `E'...'` with backslash escapes, `$$...$$` and `$tag$...$tag$`, nested `/* /* */ */`, `--` ending at `\r` too; a backtick is no quote |
//! | MySQL, MariaDB | `?`, each one a value | backslash escapes in `'...'` and `"..."` (both strings), `` `...` `` with ``` `` ```, `#` comments, `--` only before a space or control byte; `/*! */` and `/*M! */` hold SQL, whose placeholders count |
//! | SQLite | `?`, each one a value; or numbered `?NNN` and `$NNN`, the highest counting | `` `...` `` and `[...]` identifiers, a `/*` comment may run to the end |
//!
//! # Expected flow
//! [`expected_parameters`] before binding; a count that differs from the values given is the
//! caller's error to raise ([`crate::connection`] raises it). [`Uncountable::Unterminated`] is
//! not an error of its own: the statement is not valid SQL and the server's syntax error, which
//! points at the spot, says more than a count could. [`TokenReader`] reads on past what
//! counting refuses: an unterminated string or comment is one [`TokenKind::Unterminated`]
//! token to the end of the text (the server reports it), a placeholder foxdb cannot bind a
//! [`TokenKind::Placeholder`].
//!
//! # Guarantees
//! - One pass over the bytes, no allocation: this runs before every statement.
//! - Never panics, whatever the text.
//! - Refuses what foxdb cannot bind instead of binding it wrongly: SQLite's named parameters
//!   (`:a`, `@a`, `$a`; foxdb binds by position), `$0`/`?0`, and a statement mixing bare `?` with
//!   numbered ones (SQLite numbers a bare `?` after the highest numbered one, the driver by its
//!   own count of bare ones: they would get different values).
//!
//! # Assumptions
//! Server settings that change how strings are read are at their defaults, which foxdb never
//! changes: PostgreSQL's `standard_conforming_strings` on (a backslash is plain text in `'...'`);
//! MySQL's `sql_mode` without `NO_BACKSLASH_ESCAPES` (a backslash escapes in strings) nor
//! `ANSI_QUOTES` (`"..."` is a string). Under other settings a statement with a backslash or a
//! `"` next to a quote can be miscounted. MySQL runs the SQL in `/*!NNNNN ... */` only when the
//! server's version is at least `NNNNN`, and in `/*M! */` only on MariaDB: placeholders there are
//! counted whatever the version, as a current MariaDB reads them.

mod mysql;
mod postgres;
mod reader;
mod sqlite;

pub use reader::{Token, TokenReader};

use std::ops::Range;

use crate::Backend;

/// Why a statement's parameters are not counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Uncountable {
    /// The text ends inside a string, a quoted identifier or a comment: not valid SQL, which the
    /// server reports better than a count.
    Unterminated,
    /// A placeholder foxdb cannot bind.
    Unbindable {
        /// Where it is in the statement (bytes).
        span: Range<usize>,
        /// Why, and what to write instead.
        hint: &'static str,
    },
}

/// The number of values `sql` takes on `backend`.
///
/// # Errors
/// [`Uncountable`]: the text ends inside a string, identifier or comment, or holds a placeholder
/// foxdb cannot bind.
pub(crate) fn expected_parameters(backend: Backend, sql: &str) -> Result<usize, Uncountable> {
    read_tokens(backend, sql, &mut ())
}

/// Reads `sql` as `backend` does, handing every token, in order, to `tokens`: the text between
/// tokens is handed over as [`TokenKind::Text`], so the spans cover the text read without gaps.
/// Used to write query shapes without literals (see `crate::stats`).
///
/// # Errors
/// As [`expected_parameters`]; the tokens before the one that failed have been handed over.
pub(crate) fn read_tokens(
    backend: Backend,
    sql: &str,
    tokens: &mut impl Tokens,
) -> Result<usize, Uncountable> {
    let sql = sql.as_bytes();
    match backend {
        Backend::Postgres => scan::<postgres::PostgresLexer>(sql, tokens),
        Backend::MySql => scan::<mysql::MySqlLexer>(sql, tokens),
        Backend::Sqlite => scan::<sqlite::SqliteLexer>(sql, tokens),
    }
}

/// What a span of statement text is, as the engine reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Keywords, unquoted names, number literals, operators, punctuation, white space: what is
    /// none of the others. (Numbers are not told apart: the lexers read words only where an
    /// engine needs it.)
    Text,
    /// A quoted identifier (`"a"`, `` `a` ``, `[a]`).
    QuotedIdentifier,
    /// A string literal in any of the engine's forms (`'a'`, MySQL `"a"`, PostgreSQL `E'a'` and
    /// `$$a$$`), quotes included.
    String,
    /// A parameter placeholder (`?`, `$1`, `?1`).
    Placeholder,
    /// A comment, its delimiters included.
    Comment,
    /// The rest of a text that ends inside a string, a quoted identifier or a comment (only
    /// from [`TokenReader`]; counting stops there with [`Uncountable::Unterminated`]).
    Unterminated,
}

/// Receives the tokens [`read_tokens`] reads: `span` is a byte range of the statement, always on
/// character boundaries.
pub(crate) trait Tokens {
    /// One token.
    fn token(&mut self, kind: TokenKind, span: Range<usize>);
}

/// Counting alone: no token is kept.
impl Tokens for () {
    #[inline]
    fn token(&mut self, _kind: TokenKind, _span: Range<usize>) {}
}

/// Where the next token starts, after the one just read.
type Step = Result<usize, Uncountable>;

/// One engine's reading of statement text, as far as placeholders go. The defaults are the
/// grammar the engines share; an engine overrides only where its lexer differs. Every method is
/// given the whole text and where the token it reads starts; the token's first byte is there.
trait Lexer: Default {
    /// The bytes a token the lexer reads can start with ([`token_starts`]); the others are
    /// passed over in a tight loop.
    const TOKEN_STARTS: [bool; 256];

    /// Whether a backslash escapes the next byte inside `'...'` and `"..."`.
    const BACKSLASH_ESCAPES: bool = false;

    /// Whether `"..."` is a string (MySQL) rather than a quoted identifier.
    const DOUBLE_QUOTED_STRINGS: bool = false;

    /// Whether the `--` at `at` opens a comment.
    fn opens_dash_comment(_sql: &[u8], _at: usize) -> bool {
        true
    }

    /// Whether `byte` ends a line comment.
    fn ends_line_comment(byte: u8) -> bool {
        byte == b'\n'
    }

    /// Reads the block comment opening (`/*`) at `at`.
    fn block_comment(&mut self, sql: &[u8], at: usize) -> Step {
        skip_block_comment(sql, at)
    }

    /// Reads the word (keyword, identifier or number) starting at `at`.
    fn word(sql: &[u8], at: usize) -> Step {
        Ok(word_end(sql, at))
    }

    /// Reads a byte the shared grammar gives no meaning to: where placeholders are.
    fn other(&mut self, _sql: &[u8], at: usize) -> Step {
        Ok(at + 1)
    }

    /// The number of values taken, once the whole text is read.
    fn expected(self) -> Result<usize, Uncountable>;

    /// Whether the text read so far has opened SQL that the server runs only conditionally
    /// and not closed it (MySQL's `/*! ... */`): a statement does not end inside it.
    fn in_conditional_sql(&self) -> bool {
        false
    }

    /// What the token read by [`Lexer::word`], [`Lexer::other`] or [`Lexer::block_comment`] at
    /// `span` is. By default: a block comment is a comment, anything else text.
    fn kind(sql: &[u8], span: Range<usize>) -> TokenKind {
        match sql.get(span.start..span.start + 2) {
            Some([b'/', b'*']) => TokenKind::Comment,
            _ => TokenKind::Text,
        }
    }
}

/// Reads `sql` through `L`, handing each token to `tokens`: the loop over tokens the engines
/// share.
fn scan<L: Lexer>(sql: &[u8], tokens: &mut impl Tokens) -> Result<usize, Uncountable> {
    let mut lexer = L::default();
    let mut at = 0;
    loop {
        let plain = plain_end::<L>(sql, at);
        if plain > at {
            tokens.token(TokenKind::Text, at..plain);
        }
        at = plain;
        if at >= sql.len() {
            break;
        }
        let (end, kind) = read_token(&mut lexer, sql, at)?;
        tokens.token(kind, at..end);
        at = end;
    }
    lexer.expected()
}

/// Where the run of bytes from `at` that start no token ends (`at` itself when one starts
/// there).
#[inline]
fn plain_end<L: Lexer>(sql: &[u8], at: usize) -> usize {
    let rest = sql.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|&b| L::TOKEN_STARTS[usize::from(b)])
        .unwrap_or(rest.len())
}

/// Reads the token starting at `at` (a byte [`Lexer::TOKEN_STARTS`] marks): where it ends and
/// what it is.
#[inline]
fn read_token<L: Lexer>(
    lexer: &mut L,
    sql: &[u8],
    at: usize,
) -> Result<(usize, TokenKind), Uncountable> {
    Ok(match sql[at] {
        b'\'' => (
            skip_quoted(sql, at, L::BACKSLASH_ESCAPES)?,
            TokenKind::String,
        ),
        b'"' => (
            skip_quoted(sql, at, L::BACKSLASH_ESCAPES)?,
            if L::DOUBLE_QUOTED_STRINGS {
                TokenKind::String
            } else {
                TokenKind::QuotedIdentifier
            },
        ),
        b'-' if sql.get(at + 1) == Some(&b'-') && L::opens_dash_comment(sql, at) => {
            (line_comment_end::<L>(sql, at + 2), TokenKind::Comment)
        }
        b'/' if sql.get(at + 1) == Some(&b'*') => {
            let end = lexer.block_comment(sql, at)?;
            (end, L::kind(sql, at..end))
        }
        byte if starts_word(byte) => {
            let end = L::word(sql, at)?;
            (end, L::kind(sql, at..end))
        }
        _ => {
            let end = lexer.other(sql, at)?;
            (end, L::kind(sql, at..end))
        }
    })
}

/// The bytes that start a token: the quotes, dashes and slashes the engines share, `others`, and
/// with `words` every byte that starts a word (for an engine where a word can hide something
/// that would read differently on its own, such as `a$1` or `E'...'`).
const fn token_starts(others: &[u8], words: bool) -> [bool; 256] {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = words && starts_word(byte as u8);
        byte += 1;
    }
    let shared = b"'\"-/";
    let mut i = 0;
    while i < shared.len() {
        table[shared[i] as usize] = true;
        i += 1;
    }
    let mut i = 0;
    while i < others.len() {
        table[others[i] as usize] = true;
        i += 1;
    }
    table
}

/// Reads the string or quoted identifier opening at `at` (its quote is the byte there): a
/// doubled quote stands for one, and with `backslash_escapes` a backslash for the byte after it.
fn skip_quoted(sql: &[u8], at: usize, backslash_escapes: bool) -> Step {
    let quote = sql[at];
    let mut at = at + 1;
    loop {
        let rest = sql.get(at..).ok_or(Uncountable::Unterminated)?;
        at += rest
            .iter()
            .position(|&b| b == quote || (backslash_escapes && b == b'\\'))
            .ok_or(Uncountable::Unterminated)?;
        if sql[at] == quote && sql.get(at + 1) != Some(&quote) {
            return Ok(at + 1);
        }
        // A doubled quote, or a backslash and the byte it escapes.
        at += 2;
    }
}

/// Where the line comment whose text starts at `from` ends (its line break is read next).
fn line_comment_end<L: Lexer>(sql: &[u8], from: usize) -> usize {
    sql.get(from..)
        .and_then(|rest| rest.iter().position(|&b| L::ends_line_comment(b)))
        .map_or(sql.len(), |end| from + end)
}

/// Reads the block comment opening at `at`, up to the first `*/`: comments do not nest.
fn skip_block_comment(sql: &[u8], at: usize) -> Step {
    sql.get(at + 2..)
        .and_then(|rest| rest.windows(2).position(|pair| pair == b"*/"))
        .map(|end| at + 2 + end + 2)
        .ok_or(Uncountable::Unterminated)
}

/// Whether `byte` starts a word: a letter, a digit, `_`, or any byte of a non-ASCII character.
const fn starts_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// Whether `byte` continues a word. `$` does on every engine: `a$1` is one identifier, not `a`
/// and a placeholder.
fn continues_word(byte: u8) -> bool {
    starts_word(byte) || byte == b'$'
}

/// Where the word starting at `at` ends.
fn word_end(sql: &[u8], at: usize) -> usize {
    let rest = sql.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|&b| !continues_word(b))
        .unwrap_or(rest.len())
}

/// Where the digits starting at `from` end (`from` itself when there are none) and the number
/// they spell, saturating: a number too large for any engine is its error to report.
fn number_at(sql: &[u8], from: usize) -> (usize, usize) {
    let rest = sql.get(from..).unwrap_or_default();
    let digits = rest
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(rest.len());
    // Beyond 18 digits (more than any engine numbers) the sum could overflow: saturate.
    let number = if digits > 18 {
        usize::MAX
    } else {
        rest[..digits]
            .iter()
            .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'))
            .try_into()
            .unwrap_or(usize::MAX)
    };
    (from + digits, number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_quotes_and_backslashes_stay_inside_a_string() {
        assert_eq!(skip_quoted(b"'a''b' x", 0, false), Ok(6));
        assert_eq!(skip_quoted(b"'a\\' x", 0, false), Ok(4));
        assert_eq!(skip_quoted(b"'a\\'''' x", 0, true), Ok(7));
        assert_eq!(
            skip_quoted(b"'a\\", 0, true),
            Err(Uncountable::Unterminated)
        );
        assert_eq!(
            skip_quoted(b"'a''", 0, false),
            Err(Uncountable::Unterminated)
        );
    }

    #[test]
    fn a_block_comment_ends_at_its_first_close() {
        assert_eq!(skip_block_comment(b"/**/x", 0), Ok(4));
        assert_eq!(skip_block_comment(b"/*/ x */y", 0), Ok(8));
        assert_eq!(skip_block_comment(b"/*", 0), Err(Uncountable::Unterminated));
    }

    #[test]
    fn numbers_saturate_instead_of_overflowing() {
        assert_eq!(number_at(b"$12,", 1), (3, 12));
        assert_eq!(number_at(b"$", 1), (1, 0));
        assert_eq!(number_at(b"$99999999999999999999999", 1), (24, usize::MAX));
    }

    #[test]
    fn any_text_is_read_without_panicking() {
        let texts: [&[u8]; 9] = [b"", b"'", b"\"", b"-", b"/", b"/*", b"$", b"?", b"\\"];
        for backend in [Backend::Postgres, Backend::MySql, Backend::Sqlite] {
            for text in texts {
                for prefix in ["", "x", "E", "?", "$1", "$a", ":", "[", "`", "#", "-- "] {
                    let sql = format!("{prefix}{}", String::from_utf8_lossy(text));
                    let _ = expected_parameters(backend, &sql);
                }
            }
        }
    }
}
