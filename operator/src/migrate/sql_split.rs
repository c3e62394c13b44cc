//! Splitting migration SQL into statements at top-level `;`, aware of quotes, comments and
//! PostgreSQL dollar quoting (function bodies).

/// The statements of `sql`, trimmed, empty ones dropped.
///
/// ```
/// use fox_operator::migrate::sql_split::split_statements;
/// let sql = "CREATE TABLE a (x text DEFAULT ';'); -- a; comment\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;";
/// assert_eq!(split_statements(sql).len(), 2);
/// ```
pub fn split_statements(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            '\'' | '"' | '`' => {
                let end = find_quote_end(&chars, i, c);
                current.extend(&chars[i..end]);
                i = end;
                continue;
            }
            '-' if next == Some('-') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            '/' if next == Some('*') => {
                i += 2;
                while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                    i += 1;
                }
                i += 2;
                continue;
            }
            '$' => {
                if let Some(tag_end) = dollar_tag_end(&chars, i) {
                    let tag: String = chars[i..=tag_end].iter().collect();
                    let body_start = tag_end + 1;
                    let close = find_sequence(&chars, body_start, &tag).unwrap_or(chars.len());
                    let end = (close + tag.chars().count()).min(chars.len());
                    current.extend(&chars[i..end]);
                    i = end;
                    continue;
                }
            }
            ';' => {
                push_statement(&mut statements, &mut current);
                i += 1;
                continue;
            }
            _ => {}
        }
        current.push(c);
        i += 1;
    }
    push_statement(&mut statements, &mut current);
    statements
}

fn push_statement(statements: &mut Vec<String>, current: &mut String) {
    let statement = current.trim();
    if !statement.is_empty() {
        statements.push(statement.to_string());
    }
    current.clear();
}

/// Index just past the closing quote (doubled quotes and, outside `"`, backslashes escape).
fn find_quote_end(chars: &[char], start: usize, quote: char) -> usize {
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\\' && quote != '"' {
            i += 2;
            continue;
        }
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    chars.len()
}

/// End of a `$tag$` opener at `start`, if there is one.
fn dollar_tag_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
        i += 1;
    }
    // `$1` is a parameter, not a tag.
    let tag_is_digits = chars[start + 1..i].iter().all(char::is_ascii_digit) && i > start + 1;
    (chars.get(i) == Some(&'$') && !tag_is_digits).then_some(i)
}

fn find_sequence(chars: &[char], from: usize, needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    (from..chars.len().saturating_sub(needle.len() - 1)).find(|&i| chars[i..].starts_with(&needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_only_at_top_level_semicolons() {
        let sql = r#"
            CREATE TABLE "a;b" (x text DEFAULT 'it''s; fine');
            /* block; comment */ INSERT INTO t VALUES ('\'; still quoted');
            CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN RETURN NEW; END; $body$ LANGUAGE plpgsql;
            SELECT $1;
        "#;
        let statements = split_statements(sql);
        assert_eq!(statements.len(), 4, "{statements:#?}");
        assert!(statements[2].ends_with("LANGUAGE plpgsql"));
        assert_eq!(statements[3], "SELECT $1");
    }
}
