//! The lexical layer under [`super::sql_split`]: cuts migration SQL into tokens (words,
//! quoted text, comments, the statement delimiter) with each engine's quoting and comment
//! rules, so that boundaries are only ever looked for outside quotes, comments and bodies.
//!
//! The rules per engine are the ones its own client and parser apply: backslash escapes and
//! `#`, `-- ` and `/*! ... */` (executable) comments on MySQL/MariaDB; dollar quoting, `E'...'`
//! strings and nested block comments on PostgreSQL; `[identifier]` and backticks on SQLite.

use foxdb::Backend;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// A keyword or unquoted identifier (letters, digits, `_`, `$`, any non-ASCII).
    Word,
    /// A string, quoted identifier or dollar-quoted body.
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
    /// Any other character (operators, punctuation), and MySQL's executable comments.
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

/// The lexical rules of one engine.
#[derive(Clone, Copy, Debug)]
struct Rules {
    /// `\` escapes the next character inside `'...'` and `"..."` (MySQL's default mode).
    backslash_escapes: bool,
    /// `$tag$ ... $tag$` bodies and `E'...'` strings (PostgreSQL).
    postgres_quoting: bool,
    /// `/* /* */ */` nests (PostgreSQL).
    nested_comments: bool,
    /// `# ...` comments, `--` only before whitespace, `/*! ... */` executed (MySQL).
    mysql_comments: bool,
    /// `[identifier]` (SQLite).
    bracket_identifiers: bool,
    /// A line starting with `\` at a statement start is a psql meta-command.
    psql_meta_commands: bool,
    /// A `DELIMITER x` line at a statement start changes the delimiter (the mysql client).
    delimiter_command: bool,
}

impl Rules {
    fn of(backend: Backend) -> Self {
        let none = Self {
            backslash_escapes: false,
            postgres_quoting: false,
            nested_comments: false,
            mysql_comments: false,
            bracket_identifiers: false,
            psql_meta_commands: false,
            delimiter_command: false,
        };
        match backend {
            Backend::Postgres => Self {
                postgres_quoting: true,
                nested_comments: true,
                psql_meta_commands: true,
                ..none
            },
            Backend::MySql => Self {
                backslash_escapes: true,
                mysql_comments: true,
                delimiter_command: true,
                ..none
            },
            Backend::Sqlite => Self {
                bracket_identifiers: true,
                ..none
            },
        }
    }
}

/// Reads tokens from migration SQL.
#[derive(Debug)]
pub struct Lexer<'a> {
    bytes: &'a [u8],
    position: usize,
    rules: Rules,
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

impl<'a> Lexer<'a> {
    /// A lexer over `sql` with `backend`'s rules.
    pub fn new(sql: &'a str, backend: Backend) -> Self {
        Self {
            bytes: sql.as_bytes(),
            position: 0,
            rules: Rules::of(backend),
        }
    }

    /// The next token, given the current delimiter and whether no significant token of a
    /// statement has been read yet (client directives are only recognised there). Token
    /// boundaries always fall on ASCII bytes, so they are valid `str` indices.
    pub fn next_token(&mut self, delimiter: &str, at_statement_start: bool) -> Option<Token> {
        let bytes = self.bytes;
        let start = self.position;
        let &first = bytes.get(start)?;
        let next = bytes.get(start + 1).copied();
        let (kind, end) = if at_statement_start && self.is_directive(start) {
            (TokenKind::Directive, self.line_end(start))
        } else if first.is_ascii_whitespace() {
            let end = (start..bytes.len())
                .find(|&i| !bytes[i].is_ascii_whitespace())
                .unwrap_or(bytes.len());
            (TokenKind::Space, end)
        } else if (first == b'-' && next == Some(b'-') && self.dash_comment_starts(start))
            || (first == b'#' && self.rules.mysql_comments)
        {
            (TokenKind::Comment, self.line_end(start))
        } else if first == b'/' && next == Some(b'*') {
            let executable = self.rules.mysql_comments
                && (bytes.get(start + 2) == Some(&b'!') || bytes[start + 2..].starts_with(b"M!"));
            let kind = if executable {
                TokenKind::Other
            } else {
                TokenKind::Comment
            };
            (kind, self.block_comment_end(start))
        } else if bytes[start..].starts_with(delimiter.as_bytes()) && !delimiter.is_empty() {
            (TokenKind::Delimiter, start + delimiter.len())
        } else if matches!(first, b'\'' | b'"' | b'`') {
            let escapes = self.rules.backslash_escapes && first != b'`';
            (TokenKind::Quoted, self.quote_end(start + 1, first, escapes))
        } else if first == b'[' && self.rules.bracket_identifiers {
            let end = (start + 1..bytes.len())
                .find(|&i| bytes[i] == b']')
                .map_or(bytes.len(), |i| i + 1);
            (TokenKind::Quoted, end)
        } else if first == b'$' && self.rules.postgres_quoting && self.dollar_tag(start).is_some() {
            (TokenKind::Quoted, self.dollar_body_end(start))
        } else if matches!(first, b'e' | b'E') && next == Some(b'\'') && self.rules.postgres_quoting
        {
            (TokenKind::Quoted, self.quote_end(start + 2, b'\'', true))
        } else if is_word_byte(first) && first != b'$' {
            let end = (start..bytes.len())
                .find(|&i| !is_word_byte(bytes[i]))
                .unwrap_or(bytes.len());
            (TokenKind::Word, end)
        } else {
            (TokenKind::Other, start + 1)
        };
        self.position = end;
        Some(Token { kind, start, end })
    }

    fn line_end(&self, from: usize) -> usize {
        (from..self.bytes.len())
            .find(|&i| self.bytes[i] == b'\n')
            .unwrap_or(self.bytes.len())
    }

    /// `--` starts a comment, on MySQL only when followed by whitespace or the end.
    fn dash_comment_starts(&self, start: usize) -> bool {
        !self.rules.mysql_comments
            || self
                .bytes
                .get(start + 2)
                .is_none_or(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    }

    fn is_directive(&self, start: usize) -> bool {
        let rest = &self.bytes[start..];
        if self.rules.psql_meta_commands && rest.first() == Some(&b'\\') {
            return true;
        }
        self.rules.delimiter_command
            && rest.len() > "delimiter".len()
            && rest[.."delimiter".len()].eq_ignore_ascii_case(b"delimiter")
            && rest["delimiter".len()].is_ascii_whitespace()
    }

    fn block_comment_end(&self, start: usize) -> usize {
        let bytes = self.bytes;
        let mut depth = 0_usize;
        let mut i = start;
        while i + 1 < bytes.len() {
            if bytes[i] == b'/'
                && bytes[i + 1] == b'*'
                && (depth == 0 || self.rules.nested_comments)
            {
                depth += 1;
                i += 2;
            } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            } else {
                i += 1;
            }
        }
        bytes.len()
    }

    /// Just past the closing `quote` of a quoted run starting at `from` (doubled quotes escape;
    /// with `escapes`, so does a backslash).
    fn quote_end(&self, from: usize, quote: u8, escapes: bool) -> usize {
        let bytes = self.bytes;
        let mut i = from;
        while i < bytes.len() {
            if escapes && bytes[i] == b'\\' {
                i += 2;
                continue;
            }
            if bytes[i] == quote {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i += 1;
        }
        bytes.len()
    }

    /// The `$tag$` opener at `start`, if there is one (`$1` is a parameter, not a tag).
    fn dollar_tag(&self, start: usize) -> Option<&'a [u8]> {
        let bytes = self.bytes;
        let mut i = start + 1;
        while i < bytes.len()
            && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
        {
            i += 1;
        }
        let starts_with_digit = bytes.get(start + 1).is_some_and(u8::is_ascii_digit);
        (bytes.get(i) == Some(&b'$') && !starts_with_digit).then(|| &bytes[start..=i])
    }

    fn dollar_body_end(&self, start: usize) -> usize {
        let Some(tag) = self.dollar_tag(start) else {
            return start + 1;
        };
        let body = start + tag.len();
        (body..self.bytes.len())
            .find(|&i| self.bytes[i..].starts_with(tag))
            .map_or(self.bytes.len(), |i| i + tag.len())
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
            kinds("/*!40101 SET x=1 */ --x", Backend::MySql),
            [
                (Other, "/*!40101 SET x=1 */"),
                (Other, "-"),
                (Other, "-"),
                (Word, "x")
            ]
        );
    }
}
