//! [`TokenReader`]: the engines' lexers as an iterator of tokens, for whoever must find the
//! strings, identifiers and comments of SQL text other than by counting placeholders (the
//! operator cuts migration scripts into statements with it).

use super::mysql::MySqlLexer;
use super::postgres::PostgresLexer;
use super::sqlite::SqliteLexer;
use super::{Lexer, TokenKind, Uncountable, plain_end, read_token};
use crate::Backend;

/// One token of SQL text: what it is and its byte range (always on character boundaries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is. [`TokenKind::Text`] runs hold no string, identifier or comment, but may hold
    /// many words, spaces and punctuation.
    pub kind: TokenKind,
    /// First byte.
    pub start: usize,
    /// Just past the last byte.
    pub end: usize,
}

/// Reads SQL text as an engine's server reads it, token by token, never failing: the tokens
/// cover the text without gaps.
///
/// # Expected flow
/// Iterate; a caller that consumes text itself (a client directive such as a `DELIMITER`
/// line) calls [`TokenReader::skip_to`] past it and iterates on. [`TokenReader::in_conditional_sql`]
/// tells whether the text read so far has left SQL that runs conditionally open (MySQL's
/// `/*! ... */`), where a statement does not end.
///
/// ```
/// use foxdb::Backend;
/// use foxdb::lexer::{TokenKind, TokenReader};
/// let sql = "SELECT ';' -- a; comment\n, $1";
/// let kinds: Vec<TokenKind> = TokenReader::new(Backend::Postgres, sql)
///     .map(|token| token.kind)
///     .filter(|kind| *kind != TokenKind::Text)
///     .collect();
/// assert_eq!(kinds, [TokenKind::String, TokenKind::Comment, TokenKind::Placeholder]);
/// ```
#[derive(Debug)]
pub struct TokenReader<'a> {
    sql: &'a [u8],
    at: usize,
    lexer: EngineLexer,
}

/// The lexer of one engine, with its state.
#[derive(Debug)]
enum EngineLexer {
    Postgres(PostgresLexer),
    MySql(MySqlLexer),
    Sqlite(SqliteLexer),
}

impl<'a> TokenReader<'a> {
    /// A reader of `sql` with `backend`'s rules.
    pub fn new(backend: Backend, sql: &'a str) -> Self {
        let lexer = match backend {
            Backend::Postgres => EngineLexer::Postgres(PostgresLexer::default()),
            Backend::MySql => EngineLexer::MySql(MySqlLexer::default()),
            Backend::Sqlite => EngineLexer::Sqlite(SqliteLexer::default()),
        };
        Self {
            sql: sql.as_bytes(),
            at: 0,
            lexer,
        }
    }

    /// Where the next token starts.
    pub fn position(&self) -> usize {
        self.at
    }

    /// Goes on reading at `position` (a character boundary), when the caller has consumed the
    /// text up to there itself; a position behind the current one is ignored.
    pub fn skip_to(&mut self, position: usize) {
        self.at = self.at.max(position.min(self.sql.len()));
    }

    /// Whether the text read so far has opened SQL that the server runs only conditionally
    /// (MySQL's `/*! ... */`, `/*M! ... */`) and not closed it.
    pub fn in_conditional_sql(&self) -> bool {
        match &self.lexer {
            EngineLexer::Postgres(lexer) => lexer.in_conditional_sql(),
            EngineLexer::MySql(lexer) => lexer.in_conditional_sql(),
            EngineLexer::Sqlite(lexer) => lexer.in_conditional_sql(),
        }
    }

    fn next_with<L: Lexer>(sql: &[u8], at: usize, lexer: &mut L) -> Token {
        let plain = plain_end::<L>(sql, at);
        if plain > at {
            return Token {
                kind: TokenKind::Text,
                start: at,
                end: plain,
            };
        }
        let (kind, end) = match read_token(lexer, sql, at) {
            Ok((end, kind)) => (kind, end),
            Err(Uncountable::Unterminated) => (TokenKind::Unterminated, sql.len()),
            // What counting refuses to bind is still a placeholder to a reader.
            Err(Uncountable::Unbindable { span, .. }) => {
                (TokenKind::Placeholder, span.end.max(at + 1))
            }
        };
        Token {
            kind,
            start: at,
            end,
        }
    }
}

impl Iterator for TokenReader<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        if self.at >= self.sql.len() {
            return None;
        }
        let (sql, at) = (self.sql, self.at);
        let token = match &mut self.lexer {
            EngineLexer::Postgres(lexer) => Self::next_with(sql, at, lexer),
            EngineLexer::MySql(lexer) => Self::next_with(sql, at, lexer),
            EngineLexer::Sqlite(lexer) => Self::next_with(sql, at, lexer),
        };
        self.at = token.end;
        Some(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(backend: Backend, sql: &str) -> Vec<(TokenKind, &str)> {
        TokenReader::new(backend, sql)
            .map(|t| (t.kind, &sql[t.start..t.end]))
            .collect()
    }

    #[test]
    fn tokens_cover_the_text_without_gaps_whatever_it_is() {
        for backend in [Backend::Postgres, Backend::MySql, Backend::Sqlite] {
            for sql in [
                "SELECT 'a', \"b\", `c`, [d] -- e\n/* f */ $1 ? :g #h $$i$$ /*!j*/",
                "SELECT 'open",
                "SELECT ?, ?2, :named",
                "/*",
                "é'ü",
            ] {
                let mut at = 0;
                for token in TokenReader::new(backend, sql) {
                    assert_eq!(token.start, at, "{backend}: {sql}");
                    assert!(token.end > token.start, "{backend}: {sql}");
                    at = token.end;
                }
                assert_eq!(at, sql.len(), "{backend}: {sql}");
            }
        }
    }

    #[test]
    fn unterminated_text_is_one_token_to_the_end() {
        assert_eq!(
            tokens(Backend::Postgres, "SELECT 'a; SELECT 2"),
            [
                (TokenKind::Text, "SELECT"),
                (TokenKind::Text, " "),
                (TokenKind::Unterminated, "'a; SELECT 2")
            ]
        );
        // SQLite accepts a comment left open.
        assert_eq!(
            tokens(Backend::Sqlite, "SELECT 1 /* a; b").last(),
            Some(&(TokenKind::Comment, "/* a; b"))
        );
    }

    #[test]
    fn what_counting_refuses_is_read_as_a_placeholder() {
        assert_eq!(
            tokens(Backend::Sqlite, "SELECT :id, ?")
                .into_iter()
                .filter(|(kind, _)| *kind == TokenKind::Placeholder)
                .collect::<Vec<_>>(),
            [
                (TokenKind::Placeholder, ":id"),
                (TokenKind::Placeholder, "?")
            ]
        );
    }

    #[test]
    fn mysql_conditional_sql_is_read_inside_and_known_to_be_open() {
        let sql = "SELECT 1 /*!50001 + ';' */ ;";
        let mut reader = TokenReader::new(Backend::MySql, sql);
        let mut open_at_string = None;
        for token in reader.by_ref() {
            if token.kind == TokenKind::String {
                open_at_string = Some(true);
            }
            if &sql[token.start..token.end] == "*/" {
                break;
            }
        }
        assert_eq!(open_at_string, Some(true), "the string inside is a token");
        assert!(!reader.in_conditional_sql(), "closed by */");
        let mut reader = TokenReader::new(Backend::MySql, "SELECT /*! 1");
        reader.by_ref().for_each(drop);
        assert!(reader.in_conditional_sql());
    }
}
