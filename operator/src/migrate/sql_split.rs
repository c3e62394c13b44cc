//! Where one statement of a migration ends, by each engine's own rules, over the tokens of
//! [`super::script_lexer`]:
//!
//! - **SQLite**: the state machine of `sqlite3_complete()` (SQLite's `complete.c`): a
//!   `CREATE [TEMP] TRIGGER` statement ends only at a `;` that follows `; END`.
//! - **PostgreSQL**: psql's rules: `;` outside quotes, comments and dollar-quoted bodies ends a
//!   statement, except inside the `BEGIN ATOMIC ... END` body of a `CREATE FUNCTION` or
//!   `CREATE PROCEDURE`. psql meta-commands: `\restrict` and `\unrestrict` (which `pg_dump`
//!   writes around a dump) are skipped; any other one, and `COPY ... FROM stdin` data, is
//!   refused before anything runs.
//! - **MySQL/MariaDB**: the mysql client's `DELIMITER` convention (a `DELIMITER //` line
//!   changes the delimiter; the line itself is not sent), and without it the server's compound
//!   statements: `BEGIN ... END` bodies of `CREATE PROCEDURE|FUNCTION|TRIGGER|EVENT` and
//!   `BEGIN NOT ATOMIC` blocks are one statement.

use foxdb::Backend;

use super::script_lexer::{Lexer, Token, TokenKind};

/// One statement of a migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlStatement {
    /// The text sent to the server (from its first significant token to its last).
    pub text: String,
    /// 1-based line in the migration text where it starts.
    pub line: usize,
}

impl SqlStatement {
    /// The first line of the statement, for messages.
    pub fn first_line(&self) -> &str {
        self.text.lines().next().unwrap_or_default().trim_end()
    }
}

/// Why migration SQL cannot be cut into statements.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A psql meta-command other than `\restrict`/`\unrestrict`.
    #[error(
        "line {line}: `{command}` is a psql meta-command, not SQL; fox migrate sends SQL only: remove it (or run the file with psql)"
    )]
    MetaCommand {
        /// Line.
        line: usize,
        /// The command line.
        command: String,
    },
    /// `COPY ... FROM stdin` with inline data.
    #[error(
        "line {line}: COPY ... FROM stdin reads data lines that only psql can send; dump with `pg_dump --inserts` (or --schema-only) instead"
    )]
    CopyFromStdin {
        /// Line.
        line: usize,
    },
    /// A `DELIMITER` line without a delimiter.
    #[error("line {line}: DELIMITER needs a delimiter (for example `DELIMITER //`)")]
    EmptyDelimiter {
        /// Line.
        line: usize,
    },
}

/// The statements of `sql` as `backend` reads them; empty and comment-only statements dropped.
///
/// # Errors
/// [`SplitError`]: client-only commands that cannot be sent to the server.
///
/// ```
/// use fox_operator::migrate::sql_split::split_statements;
/// use foxdb::Backend;
/// let sql = "CREATE TABLE t (x text DEFAULT ';'); -- a; comment\n\
///            CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;";
/// assert_eq!(split_statements(sql, Backend::Sqlite).unwrap().len(), 2);
/// ```
pub fn split_statements(sql: &str, backend: Backend) -> Result<Vec<SqlStatement>, SplitError> {
    let mut lexer = Lexer::new(sql, backend);
    let mut lines = LineCounter::default();
    let mut statements = Vec::new();
    let mut delimiter = String::from(";");
    let mut current = Current::new(backend);
    while let Some(token) = lexer.next_token(&delimiter, current.first.is_none()) {
        let text = &sql[token.start..token.end];
        match token.kind {
            TokenKind::Directive => {
                let line = lines.line_of(sql, token.start);
                directive(text, line, &mut delimiter)?;
            }
            TokenKind::Delimiter if current.ends_at_delimiter(&delimiter) => {
                current.finish(sql, &mut lines, &mut statements)?;
                current = Current::new(backend);
            }
            _ => current.push(sql, token),
        }
    }
    current.finish(sql, &mut lines, &mut statements)?;
    Ok(statements)
}

/// Applies a client directive: a MySQL `DELIMITER`, or a psql meta-command.
fn directive(text: &str, line: usize, delimiter: &mut String) -> Result<(), SplitError> {
    let text = text.trim();
    if let Some(command) = text.strip_prefix('\\') {
        // `pg_dump` brackets its output with `\restrict KEY` / `\unrestrict KEY`, which stop
        // psql from running meta-commands hidden in the dump; fox runs none, so both are moot.
        let name = command.split_whitespace().next().unwrap_or_default();
        return if name == "restrict" || name == "unrestrict" {
            Ok(())
        } else {
            Err(SplitError::MetaCommand {
                line,
                command: text.to_string(),
            })
        };
    }
    let value = text
        .split_whitespace()
        .nth(1)
        .ok_or(SplitError::EmptyDelimiter { line })?;
    *delimiter = value.to_string();
    Ok(())
}

/// Counts lines incrementally (statements come in order).
#[derive(Default)]
struct LineCounter {
    position: usize,
    line: usize,
}

impl LineCounter {
    fn line_of(&mut self, sql: &str, position: usize) -> usize {
        self.line += sql.as_bytes()[self.position..position]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.position = position;
        self.line + 1
    }
}

/// How an engine decides where a statement ends.
#[derive(Clone, Copy, Debug)]
struct Boundaries {
    /// `sqlite3_complete()`'s trigger rule, instead of counting blocks.
    sqlite_complete: bool,
    /// Statements `CREATE ... <program>` whose `BEGIN ... END` body may hold `;`.
    programs: &'static [&'static str],
    /// `BEGIN NOT ATOMIC ... END` is one statement (MariaDB).
    begin_not_atomic: bool,
    /// `COPY ... FROM stdin` needs psql's data protocol.
    refuse_copy_from_stdin: bool,
}

impl Boundaries {
    fn of(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => Self {
                sqlite_complete: true,
                programs: &[],
                begin_not_atomic: false,
                refuse_copy_from_stdin: false,
            },
            Backend::Postgres => Self {
                sqlite_complete: false,
                programs: &["FUNCTION", "PROCEDURE"],
                begin_not_atomic: false,
                refuse_copy_from_stdin: true,
            },
            Backend::MySql => Self {
                sqlite_complete: false,
                programs: &["FUNCTION", "PROCEDURE", "TRIGGER", "EVENT"],
                begin_not_atomic: true,
                refuse_copy_from_stdin: false,
            },
        }
    }
}

/// The statement being read.
struct Current {
    rules: Boundaries,
    /// Start of its first significant token.
    first: Option<usize>,
    /// End of its last significant token.
    last: usize,
    /// Its first words, upper-cased.
    words: Vec<String>,
    /// `sqlite3_complete()` state (SQLite).
    trigger_state: u8,
    /// Open `BEGIN`/`CASE` blocks of a compound statement (PostgreSQL, MySQL).
    depth: usize,
    /// An `END` was read; whether it closes a block depends on the next word (`END IF`).
    pending_end: bool,
    /// The last word read, upper-cased.
    last_word: String,
    /// `COPY ... FROM STDIN` was read.
    copy_from_stdin: bool,
}

/// How many leading words are kept to classify a statement.
const LEADING_WORDS: usize = 8;

// `sqlite3_complete()`'s states and token classes (SQLite's `complete.c`).
const START: u8 = 1;
const SEMI: usize = 0;
const WS: usize = 1;
const OTHER: usize = 2;
const EXPLAIN: usize = 3;
const CREATE: usize = 4;
const TEMP: usize = 5;
const TRIGGER: usize = 6;
const END: usize = 7;
const TRANSITIONS: [[u8; 8]; 8] = [
    // SEMI WS OTHER EXPLAIN CREATE TEMP TRIGGER END
    [1, 0, 2, 3, 4, 2, 2, 2], // 0 INVALID
    [1, 1, 2, 3, 4, 2, 2, 2], // 1 START
    [1, 2, 2, 2, 2, 2, 2, 2], // 2 NORMAL
    [1, 3, 3, 2, 4, 2, 2, 2], // 3 EXPLAIN
    [1, 4, 2, 2, 2, 4, 5, 2], // 4 CREATE
    [6, 5, 5, 5, 5, 5, 5, 5], // 5 TRIGGER
    [6, 6, 5, 5, 5, 5, 5, 7], // 6 SEMI
    [1, 7, 5, 5, 5, 5, 5, 5], // 7 END
];

impl Current {
    fn new(backend: Backend) -> Self {
        Self {
            rules: Boundaries::of(backend),
            first: None,
            last: 0,
            words: Vec::new(),
            trigger_state: START,
            depth: 0,
            pending_end: false,
            last_word: String::new(),
            copy_from_stdin: false,
        }
    }

    /// Whether a delimiter token ends the statement here (and otherwise belongs to it).
    fn ends_at_delimiter(&mut self, delimiter: &str) -> bool {
        if self.rules.sqlite_complete {
            self.trigger_state = TRANSITIONS[usize::from(self.trigger_state)][SEMI];
            return self.trigger_state == START;
        }
        self.resolve_pending_end(None);
        // With a DELIMITER of their own, authors mark every boundary themselves.
        delimiter != ";" || self.depth == 0
    }

    fn push(&mut self, sql: &str, token: Token) {
        let text = &sql[token.start..token.end];
        if self.rules.sqlite_complete {
            let class = match token.kind {
                TokenKind::Space | TokenKind::Comment => WS,
                TokenKind::Delimiter => SEMI,
                TokenKind::Word => match text.to_ascii_uppercase().as_str() {
                    "EXPLAIN" => EXPLAIN,
                    "CREATE" => CREATE,
                    "TEMP" | "TEMPORARY" => TEMP,
                    "TRIGGER" => TRIGGER,
                    "END" => END,
                    _ => OTHER,
                },
                TokenKind::Quoted | TokenKind::Other | TokenKind::Directive => OTHER,
            };
            self.trigger_state = TRANSITIONS[usize::from(self.trigger_state)][class];
        }
        if !token.is_significant() {
            return;
        }
        self.first.get_or_insert(token.start);
        self.last = token.end;
        if token.kind == TokenKind::Word {
            let word = text.to_ascii_uppercase();
            if !self.rules.sqlite_complete {
                self.track_blocks(&word);
            }
            self.copy_from_stdin |= self.words.first().is_some_and(|w| w == "COPY")
                && self.last_word == "FROM"
                && word == "STDIN";
            self.last_word.clone_from(&word);
            if self.words.len() < LEADING_WORDS {
                self.words.push(word);
            }
            // `BEGIN NOT ATOMIC` opens its block with its first word.
            if self.words.len() == 2 && self.is_compound() && self.words[0] == "BEGIN" {
                self.depth = 1;
            }
        } else {
            self.resolve_pending_end(None);
        }
    }

    /// Counts the `BEGIN`/`CASE` ... `END` blocks of compound statements.
    fn track_blocks(&mut self, word: &str) {
        if self.resolve_pending_end(Some(word)) {
            return;
        }
        if !self.is_compound() {
            return;
        }
        match word {
            "BEGIN" | "CASE" => self.depth += 1,
            "END" if self.depth > 0 => self.pending_end = true,
            _ => {}
        }
    }

    /// Settles an `END` read before `next`: `END IF|LOOP|WHILE|REPEAT` close blocks that are not
    /// counted; a bare `END` (or `END CASE`) closes the innermost `BEGIN`/`CASE`. Returns whether
    /// `next` was consumed as part of the `END`.
    fn resolve_pending_end(&mut self, next: Option<&str>) -> bool {
        if !std::mem::take(&mut self.pending_end) {
            return false;
        }
        match next {
            Some("IF" | "LOOP" | "WHILE" | "REPEAT") => true,
            Some("CASE") => {
                self.depth = self.depth.saturating_sub(1);
                true
            }
            _ => {
                self.depth = self.depth.saturating_sub(1);
                false
            }
        }
    }

    /// Whether the statement is one whose body may hold `;`: PostgreSQL `CREATE FUNCTION` /
    /// `PROCEDURE` (a `BEGIN ATOMIC` body), MySQL stored programs and `BEGIN NOT ATOMIC`.
    fn is_compound(&self) -> bool {
        let programs = self.rules.programs;
        let words = &self.words;
        match words.first().map(String::as_str) {
            Some("CREATE") => words[1..]
                .iter()
                .take_while(|w| !matches!(w.as_str(), "TABLE" | "VIEW" | "INDEX" | "BEGIN"))
                .any(|w| programs.contains(&w.as_str())),
            Some("BEGIN") => {
                self.rules.begin_not_atomic && words.get(1).is_some_and(|w| w == "NOT")
            }
            _ => false,
        }
    }

    /// Ends the statement: records it if the server would see anything.
    fn finish(
        &mut self,
        sql: &str,
        lines: &mut LineCounter,
        statements: &mut Vec<SqlStatement>,
    ) -> Result<(), SplitError> {
        let Some(first) = self.first else {
            return Ok(());
        };
        let line = lines.line_of(sql, first);
        if self.rules.refuse_copy_from_stdin && self.copy_from_stdin {
            return Err(SplitError::CopyFromStdin { line });
        }
        statements.push(SqlStatement {
            text: sql[first..self.last].to_string(),
            line,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str, backend: Backend) -> Vec<String> {
        split_statements(sql, backend)
            .expect("splits")
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn splits_only_at_top_level_semicolons() {
        let sql = r#"
            CREATE TABLE "a;b" (x text DEFAULT 'it''s; fine');
            /* block; comment */ INSERT INTO t VALUES ('; still quoted');
            CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN RETURN NEW; END; $body$ LANGUAGE plpgsql;
            SELECT $1;
        "#;
        let statements = split_statements(sql, Backend::Postgres).expect("splits");
        assert_eq!(statements.len(), 4, "{statements:#?}");
        assert!(statements[2].text.ends_with("LANGUAGE plpgsql"));
        assert_eq!(statements[3].text, "SELECT $1");
        assert_eq!(
            statements.iter().map(|s| s.line).collect::<Vec<_>>(),
            [2, 3, 4, 5]
        );
    }

    #[test]
    fn sqlite_triggers_end_at_end_semicolon_as_sqlite3_complete_says() {
        let sql = "CREATE TEMP TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN n > 0 THEN n END;\n  INSERT INTO c VALUES (';');\nEND;\nCREATE TABLE trigger_log (x);";
        let statements = texts(sql, Backend::Sqlite);
        assert_eq!(statements.len(), 2, "{statements:#?}");
        assert!(statements[0].ends_with("END"));
    }

    #[test]
    fn mysql_compound_statements_and_delimiter_lines() {
        let compound = "CREATE DEFINER=`root`@`%` TRIGGER t BEFORE INSERT ON a FOR EACH ROW\nBEGIN\n  IF NEW.n < 0 THEN SET NEW.n = 0; END IF;\n  SET NEW.s = CASE WHEN NEW.n > 9 THEN 'big' ELSE 'small' END;\nEND;\nCREATE TABLE event (`begin` int, `end` int);\nBEGIN NOT ATOMIC SELECT 1; END;";
        let statements = texts(compound, Backend::MySql);
        assert_eq!(statements.len(), 3, "{statements:#?}");
        assert!(statements[0].ends_with("END"));

        let delimited = "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //\ndelimiter ;\nCALL p();";
        let statements = texts(delimited, Backend::MySql);
        assert_eq!(
            statements,
            [
                "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
                "CALL p()"
            ]
        );
    }

    #[test]
    fn postgres_begin_atomic_bodies_and_psql_commands() {
        let sql = "\\restrict abc\nCREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql\n BEGIN ATOMIC\n SELECT CASE WHEN a > 0 THEN a END + b;\nEND;\nSELECT 1;\n\\unrestrict abc\n";
        let statements = texts(sql, Backend::Postgres);
        assert_eq!(statements.len(), 2, "{statements:#?}");
        assert!(statements[0].ends_with("END"));
        assert_eq!(
            split_statements("SELECT 1;\n\\connect other\n", Backend::Postgres),
            Err(SplitError::MetaCommand {
                line: 2,
                command: "\\connect other".into()
            })
        );
        assert_eq!(
            split_statements(
                "COPY public.t (a, b, c, d, e, f, g) FROM stdin;\n1\n\\.\n",
                Backend::Postgres
            ),
            Err(SplitError::CopyFromStdin { line: 1 })
        );
    }

    #[test]
    fn mysql_executable_comments_are_statements() {
        let sql = "/*!40101 SET @OLD=@@CHARACTER_SET_CLIENT */;\n-- just a comment;\n";
        assert_eq!(
            texts(sql, Backend::MySql),
            ["/*!40101 SET @OLD=@@CHARACTER_SET_CLIENT */"]
        );
    }

    /// Where the splitter once read SQL otherwise than the client's lexer, the server's rule
    /// now holds for both.
    #[test]
    fn statements_end_where_the_engines_own_lexer_says() {
        // A backtick quotes on MySQL and SQLite, not on PostgreSQL.
        let backtick = "SELECT 1 `; SELECT 2;";
        assert_eq!(
            texts(backtick, Backend::Postgres),
            ["SELECT 1 `", "SELECT 2"]
        );
        assert_eq!(texts(backtick, Backend::MySql), [backtick]);
        assert_eq!(texts(backtick, Backend::Sqlite), [backtick]);

        // A carriage return ends a PostgreSQL `--` comment; MySQL's runs to a line feed.
        let carriage_return = "SELECT 1; -- note\rSELECT 2;";
        assert_eq!(
            texts(carriage_return, Backend::Postgres),
            ["SELECT 1", "SELECT 2"]
        );
        assert_eq!(texts(carriage_return, Backend::MySql), ["SELECT 1"]);

        // Text left open inside a string or comment is sent as it is: the server's error
        // points at it. SQLite accepts a comment left open.
        assert_eq!(
            texts("SELECT 1; /* open; SELECT 2;", Backend::Postgres),
            ["SELECT 1", "/* open; SELECT 2;"]
        );
        assert_eq!(
            texts("SELECT 1; /* open; SELECT 2;", Backend::Sqlite),
            ["SELECT 1"]
        );
        assert_eq!(
            texts("SELECT 1; SELECT 'open; SELECT 3;", Backend::MySql),
            ["SELECT 1", "SELECT 'open; SELECT 3;"]
        );

        // MySQL's executable comments hold SQL: a string in one may hold `*/` and `;`, and no
        // statement ends inside one.
        assert_eq!(
            texts("/*!50001 SELECT '*/;' ; */; SELECT 2;", Backend::MySql),
            ["/*!50001 SELECT '*/;' ; */", "SELECT 2"]
        );
    }
}
