//! Which tables a statement reads or writes, for cache keys and version bumps.
//!
//! Read from the text: the builders quote every identifier and put tables after `FROM` and
//! `JOIN`; hand-written SQL that names a table otherwise (a view, a function) must name its
//! tables itself (`Cached::reading`). A write whose table cannot be told is
//! [`Written::Unknown`], which makes every cached result of the database stale: wrong only in
//! the safe direction.

/// What a statement writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// Nothing (a read).
    Nothing,
    /// These tables.
    Tables(Vec<String>),
    /// Something, but which tables is not known.
    Unknown,
}

/// Words of `sql` outside string literals and comments: identifiers (quotes removed, unquoted
/// ones lower-cased), keywords upper-cased, and single punctuation characters.
fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            i += 1;
            while i < chars.len() {
                if chars[i] == '\\' {
                    i += 2;
                    continue;
                }
                if chars[i] == '\'' {
                    if chars.get(i + 1) == Some(&'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i += 1;
            out.push(Token::Other('\''));
        } else if c == '"' || c == '`' {
            let mut name = String::new();
            i += 1;
            while i < chars.len() {
                if chars[i] == c {
                    if chars.get(i + 1) == Some(&c) {
                        name.push(c);
                        i += 2;
                        continue;
                    }
                    break;
                }
                name.push(chars[i]);
                i += 1;
            }
            i += 1;
            out.push(Token::Name(name));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(Token::Word(word));
        } else {
            out.push(Token::Other(c));
            i += 1;
        }
    }
    out
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Name(String),
    Other(char),
}

impl Token {
    fn is(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

/// The table named at `tokens[at..]` (`name`, `"name"`, `schema.name`), and where it ends.
fn table_at(tokens: &[Token], at: usize) -> Option<(String, usize)> {
    let mut name = match tokens.get(at)? {
        Token::Word(w) => w.to_lowercase(),
        Token::Name(n) => n.to_lowercase(),
        Token::Other(_) => return None,
    };
    let mut end = at + 1;
    while tokens.get(end) == Some(&Token::Other('.')) {
        match tokens.get(end + 1) {
            Some(Token::Word(w)) => name = w.to_lowercase(),
            Some(Token::Name(n)) => name = n.to_lowercase(),
            _ => break,
        }
        end += 2;
    }
    Some((name, end))
}

/// Tables a query reads: every name after `FROM` (and its comma list) and `JOIN`, subqueries
/// included; sorted, without repeats.
pub fn tables_read(sql: &str) -> Vec<String> {
    let tokens = tokens(sql);
    let mut tables = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].is("FROM") || tokens[i].is("JOIN") {
            let mut at = i + 1;
            while let Some((table, end)) = table_at(&tokens, at) {
                tables.push(table);
                // `FROM a, b`: skip an alias, then go on after a comma.
                let mut next = end;
                if tokens.get(next).is_some_and(|t| t.is("AS")) {
                    next += 1;
                }
                if matches!(tokens.get(next), Some(Token::Word(w)) if !is_clause_keyword(w))
                    || matches!(tokens.get(next), Some(Token::Name(_)))
                {
                    next += 1;
                }
                if tokens.get(next) == Some(&Token::Other(',')) && tokens[i].is("FROM") {
                    at = next + 1;
                } else {
                    break;
                }
            }
        }
        i += 1;
    }
    tables.sort();
    tables.dedup();
    tables
}

fn is_clause_keyword(word: &str) -> bool {
    [
        "WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "HAVING", "JOIN", "INNER", "LEFT", "RIGHT",
        "FULL", "CROSS", "ON", "UNION", "FOR", "WINDOW", "USING", "NATURAL", "LATERAL",
    ]
    .iter()
    .any(|k| word.eq_ignore_ascii_case(k))
}

/// What a statement that is not a plain read writes.
pub fn tables_written(sql: &str) -> Written {
    let tokens = tokens(sql);
    let skip = |mut at: usize, words: &[&str]| {
        while tokens
            .get(at)
            .is_some_and(|t| words.iter().any(|w| t.is(w)))
        {
            at += 1;
        }
        at
    };
    let Some(first) = tokens.first() else {
        return Written::Nothing;
    };
    let target = if first.is("SELECT") || first.is("SHOW") || first.is("VALUES") {
        // A read, or a row lock (`FOR UPDATE`): no data changes.
        return Written::Nothing;
    } else if first.is("INSERT") || first.is("REPLACE") {
        let at = skip(1, &["IGNORE", "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY"]);
        if !tokens.get(at).is_some_and(|t| t.is("INTO")) {
            return Written::Unknown;
        }
        table_at(&tokens, at + 1)
    } else if first.is("UPDATE") {
        table_at(&tokens, skip(1, &["LOW_PRIORITY", "IGNORE", "ONLY"]))
    } else if first.is("DELETE") {
        let at = skip(1, &["LOW_PRIORITY", "QUICK", "IGNORE"]);
        if !tokens.get(at).is_some_and(|t| t.is("FROM")) {
            return Written::Unknown;
        }
        table_at(&tokens, skip(at + 1, &["ONLY"]))
    } else if first.is("COPY") {
        // `COPY table (columns) FROM STDIN` loads rows into the table; anything else
        // (`COPY (query) TO ...`) is left unknown.
        if !tokens.iter().any(|t| t.is("FROM")) {
            return Written::Unknown;
        }
        table_at(&tokens, 1)
    } else if first.is("TRUNCATE") {
        table_at(&tokens, skip(1, &["TABLE", "ONLY"]))
    } else if first.is("ALTER") || first.is("DROP") || first.is("CREATE") {
        if !tokens.get(1).is_some_and(|t| t.is("TABLE")) {
            return Written::Unknown;
        }
        table_at(&tokens, skip(2, &["IF", "NOT", "EXISTS"]))
    } else if first.is("BEGIN")
        || first.is("COMMIT")
        || first.is("SAVEPOINT")
        || first.is("RELEASE")
    {
        return Written::Nothing;
    } else {
        None
    };
    match target {
        // A statement that also writes elsewhere (a multi-table UPDATE or DELETE on MySQL)
        // names more tables after the first.
        Some((table, end))
            if !tokens[end..]
                .iter()
                .any(|t| t.is("JOIN") || *t == Token::Other(','))
                || first.is("INSERT")
                || first.is("COPY") =>
        {
            Written::Tables(vec![table])
        }
        _ => Written::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_queries_name_their_tables() {
        assert_eq!(
            tables_read(
                r#"SELECT "users"."id" FROM "users" WHERE "users"."id" IN (SELECT "author_id" FROM "posts")"#
            ),
            vec!["posts", "users"]
        );
        assert_eq!(
            tables_read(
                "SELECT * FROM (SELECT p.*, ROW_NUMBER() OVER (PARTITION BY a) AS r FROM `posts` p) AS t INNER JOIN `post_tags` ON x = y"
            ),
            vec!["post_tags", "posts"]
        );
        assert_eq!(
            tables_read("select * from a x, public.B where 'from c' = ''"),
            vec!["a", "b"]
        );
    }

    #[test]
    fn writes_name_their_table_or_are_unknown() {
        assert_eq!(
            tables_written(
                r#"INSERT INTO "notes" ("id") VALUES ($1) ON CONFLICT ("id") DO NOTHING"#
            ),
            Written::Tables(vec!["notes".into()])
        );
        assert_eq!(
            tables_written("UPDATE `t` SET a = 1"),
            Written::Tables(vec!["t".into()])
        );
        assert_eq!(
            tables_written("delete from Notes where id = 1"),
            Written::Tables(vec!["notes".into()])
        );
        assert_eq!(
            tables_written("TRUNCATE TABLE x"),
            Written::Tables(vec!["x".into()])
        );
        assert_eq!(
            tables_written("SELECT * FROM t FOR UPDATE"),
            Written::Nothing
        );
        assert_eq!(
            tables_written("WITH d AS (DELETE FROM t) SELECT 1"),
            Written::Unknown
        );
        assert_eq!(
            tables_written("UPDATE a JOIN b ON a.id = b.id SET a.x = b.x"),
            Written::Unknown
        );
        assert_eq!(tables_written("CALL refresh()"), Written::Unknown);
        assert_eq!(
            tables_written(r#"COPY "users" ("name", "bio") FROM STDIN"#),
            Written::Tables(vec!["users".into()])
        );
        assert_eq!(
            tables_written("COPY (SELECT 1) TO STDOUT"),
            Written::Unknown
        );
    }
}
