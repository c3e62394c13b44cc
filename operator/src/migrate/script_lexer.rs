//! The lexical layer under [`super::sql_split`]: migration scripts as tokens (words, quoted
//! text, comments, the statement delimiter, client directives), so that boundaries are only
//! ever looked for outside quotes, comments and bodies.
//!
//! What is quoted or a comment is the client's to say: the tokens come from
//! [`foxdb::lexer::TokenReader`], the same lexer per engine that counts placeholders, so
//! `fox migrate` and the client read SQL alike. This layer adds what belongs to the script,
//! not to the server: the delimiter (`;`, or what a MySQL `DELIMITER` line set, never inside
//! MySQL's `/*! ... */`), client directives at a statement start (psql meta-commands, the
//! mysql client's `DELIMITER`), and words told from spaces and punctuation.

use foxdb::Backend;
use foxdb::lexer::{self, TokenReader};

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A keyword or unquoted identifier (letters, digits, `_`, `$`, any non-ASCII).
    Word,
    /// A string, quoted identifier, dollar-quoted body or placeholder; also the rest of a
    /// text that ends inside one (the server reports that).
    Quoted,
    /// A comment the server ignores.
    Comment,
    /// Whitespace.
    Space,
    /// The statement delimiter (`;`, or what a MySQL `DELIMITER` line set).
    Delimiter,
    /// A client directive at the start of a statement (a psql meta-command such as
    /// `\restrict`, a MySQL `DELIMITER` line): read by the client, never sent to the server.
    Directive,
    /// Any other character (operators, punctuation, the delimiters of MySQL's executable
    /// comments).
    Other,
}

/// One token: its kind and its byte range in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// First byte.
    pub start: usize,
    /// Just past the last byte.
    pub end: usize,
}

impl Token {
    /// Whether the server sees it (not whitespace, not an ignored comment).
    pub fn is_significant(&self) -> bool {
        !matches!(self.kind, TokenKind::Space | TokenKind::Comment)
    }
}

/// The client directives a script may hold: conventions of an engine's command-line client.
#[derive(Clone, Copy, Debug)]
struct Directives {
    /// A line starting with `\` at a statement start is a psql meta-command.
    psql_meta_commands: bool,
    /// A `DELIMITER x` line at a statement start changes the delimiter (the mysql client).
    delimiter_command: bool,
}

impl Directives {
    fn of(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => Self {
                psql_meta_commands: true,
                delimiter_command: false,
            },
            Backend::MySql => Self {
                psql_meta_commands: false,
                delimiter_command: true,
            },
            Backend::Sqlite => Self {
                psql_meta_commands: false,
                delimiter_command: false,
            },
        }
    }
}

/// Reads tokens from a migration script.
#[derive(Debug)]
pub struct Lexer<'a> {
    sql: &'a str,
    reader: TokenReader<'a>,
    directives: Directives,
    /// The part of a text token of the reader not cut up yet.
    text: Option<(usize, usize)>,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

impl<'a> Lexer<'a> {
    /// A lexer over `sql` with `backend`'s rules.
    pub fn new(sql: &'a str, backend: Backend) -> Self {
        Self {
            sql,
            reader: TokenReader::new(backend, sql),
            directives: Directives::of(backend),
            text: None,
        }
    }

    /// The next token, given the current delimiter and whether no significant token of a
    /// statement has been read yet (client directives are only recognised there). Token
    /// boundaries always fall on ASCII bytes, so they are valid `str` indices.
    pub fn next_token(&mut self, delimiter: &str, at_statement_start: bool) -> Option<Token> {
        let (start, run_end) = match self.text.take() {
            Some(run) => run,
            None => {
                let token = self.reader.next()?;
                let kind = match token.kind {
                    lexer::TokenKind::Text => None,
                    lexer::TokenKind::Comment => Some(TokenKind::Comment),
                    lexer::TokenKind::String
                    | lexer::TokenKind::QuotedIdentifier
                    | lexer::TokenKind::Placeholder
                    | lexer::TokenKind::Unterminated => Some(TokenKind::Quoted),
                };
                match kind {
                    Some(kind) => {
                        return Some(Token {
                            kind,
                            start: token.start,
                            end: token.end,
                        });
                    }
                    None => (token.start, token.end),
                }
            }
        };
        let bytes = self.sql.as_bytes();
        let first = bytes[start];
        let (kind, end) = if at_statement_start && self.is_directive(start) {
            (TokenKind::Directive, self.line_end(start))
        } else if !delimiter.is_empty()
            && bytes[start..].starts_with(delimiter.as_bytes())
            && !self.reader.in_conditional_sql()
        {
            (TokenKind::Delimiter, start + delimiter.len())
        } else if first.is_ascii_whitespace() {
            let end = (start..run_end)
                .find(|&i| !bytes[i].is_ascii_whitespace())
                .unwrap_or(run_end);
            (TokenKind::Space, end)
        } else if is_word_byte(first) {
            let end = (start..run_end)
                .find(|&i| !is_word_byte(bytes[i]))
                .unwrap_or(run_end);
            (TokenKind::Word, end)
        } else {
            (TokenKind::Other, start + 1)
        };
        if end < run_end {
            self.text = Some((end, run_end));
        } else {
            // A directive or delimiter may reach past the reader's token.
            self.reader.skip_to(end);
        }
        Some(Token { kind, start, end })
    }

    fn line_end(&self, from: usize) -> usize {
        let bytes = self.sql.as_bytes();
        (from..bytes.len())
            .find(|&i| bytes[i] == b'\n')
            .unwrap_or(bytes.len())
    }

    fn is_directive(&self, start: usize) -> bool {
        let rest = &self.sql.as_bytes()[start..];
        if self.directives.psql_meta_commands && rest.first() == Some(&b'\\') {
            return true;
        }
        self.directives.delimiter_command
            && rest.len() > "delimiter".len()
            && rest[.."delimiter".len()].eq_ignore_ascii_case(b"delimiter")
            && rest["delimiter".len()].is_ascii_whitespace()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str, backend: Backend) -> Vec<(TokenKind, &str)> {
        let mut lexer = Lexer::new(sql, backend);
        std::iter::from_fn(|| lexer.next_token(";", false))
            .filter(|t| t.kind != TokenKind::Space)
            .map(|t| (t.kind, &sql[t.start..t.end]))
            .collect()
    }

    #[test]
    fn quotes_and_comments_follow_each_engines_rules() {
        use TokenKind::*;
        assert_eq!(
            kinds(r"'a\';' ; # c", Backend::MySql),
            [(Quoted, r"'a\';'"), (Delimiter, ";"), (Comment, "# c")]
        );
        assert_eq!(
            kinds(r"'a\' ; x", Backend::Postgres),
            [(Quoted, r"'a\'"), (Delimiter, ";"), (Word, "x")]
        );
        assert_eq!(
            kinds(r"E'a\'b' $f$ ; $f$ /* /* ; */ */", Backend::Postgres),
            [
                (Quoted, r"E'a\'b'"),
                (Quoted, "$f$ ; $f$"),
                (Comment, "/* /* ; */ */")
            ]
        );
        assert_eq!(
            kinds("[a;b] /*!40101 SET x=1 */", Backend::Sqlite),
            [(Quoted, "[a;b]"), (Comment, "/*!40101 SET x=1 */")]
        );
        assert_eq!(
            kinds("/*!40101 SET x=1; */ --x", Backend::MySql),
            [
                (Other, "/"),
                (Other, "*"),
                (Other, "!"),
                (Word, "40101"),
                (Word, "SET"),
                (Word, "x"),
                (Other, "="),
                (Word, "1"),
                (Other, ";"),
                (Other, "*"),
                (Other, "/"),
                (Other, "-"),
                (Other, "-"),
                (Word, "x")
            ]
        );
    }

    #[test]
    fn a_delimiter_longer_than_one_byte_is_one_token() {
        let sql = "END //\nx";
        let mut lexer = Lexer::new(sql, Backend::MySql);
        let tokens: Vec<(TokenKind, &str)> = std::iter::from_fn(|| lexer.next_token("//", false))
            .map(|t| (t.kind, &sql[t.start..t.end]))
            .collect();
        assert_eq!(
            tokens,
            [
                (TokenKind::Word, "END"),
                (TokenKind::Space, " "),
                (TokenKind::Delimiter, "//"),
                (TokenKind::Space, "\n"),
                (TokenKind::Word, "x")
            ]
        );
    }
}
