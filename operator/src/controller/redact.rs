//! Failed statements and server messages as conditions, Events and logs may show them: short,
//! and without the literals a statement carries (`CREATE ROLE app PASSWORD '...'`, a seed
//! value, a row value in PostgreSQL's `DETAIL: Key (email)=(...)`).
//!
//! The full text stays where it belongs: in the migration source and in the database's own
//! logs. What is kept is enough to find the statement: its position, its line, its shape.

/// Longest statement shape shown.
const MAX_STATEMENT: usize = 160;

/// Longest server message shown.
const MAX_SERVER_MESSAGE: usize = 400;

/// `text` with every quoted literal replaced by `'?'` (single quotes, also doubled-quote and
/// backslash escapes inside; double quotes when `double_quotes_are_literals`, as in MySQL
/// statements), every dollar-quoted body (`$$...$$`, `$tag$...$tag$`) by `$?$`, and a literal
/// left open at the end cut off with `…`.
pub fn scrub_literals(text: &str, double_quotes_are_literals: bool) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let quote = c == '\'' || (double_quotes_are_literals && c == '"');
        if quote {
            let mut j = i + 1;
            let mut closed = false;
            while j < chars.len() {
                if chars[j] == '\\' {
                    j += 2;
                    continue;
                }
                if chars[j] == c {
                    if chars.get(j + 1) == Some(&c) {
                        j += 2;
                        continue;
                    }
                    closed = true;
                    break;
                }
                j += 1;
            }
            if !closed {
                out.push('…');
                return out;
            }
            out.push(c);
            out.push('?');
            out.push(c);
            i = j + 1;
            continue;
        }
        if c == '$'
            && let Some(tag_end) = chars[i + 1..]
                .iter()
                .position(|d| !(d.is_alphanumeric() || *d == '_'))
                .map(|p| i + 1 + p)
            && chars[tag_end] == '$'
            && !chars[i + 1..tag_end]
                .first()
                .is_some_and(char::is_ascii_digit)
        {
            let tag: String = chars[i..=tag_end].iter().collect();
            let rest: String = chars[tag_end + 1..].iter().collect();
            match rest.find(&tag) {
                Some(end) => {
                    out.push_str("$?$");
                    i = tag_end + 1 + rest[..end].chars().count() + tag.chars().count();
                }
                None => {
                    out.push('…');
                    return out;
                }
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The first line of a failed statement as shown: literals scrubbed (double-quoted ones too,
/// since MySQL reads them as strings), at most [`MAX_STATEMENT`] characters.
pub fn statement_shape(first_line: &str) -> String {
    shorten(&scrub_literals(first_line.trim(), true), MAX_STATEMENT)
}

/// A database server's message as shown: PostgreSQL's `DETAIL` lines (row values) left out,
/// single-quoted literals scrubbed (PostgreSQL quotes identifiers with double quotes, which
/// stay), at most [`MAX_SERVER_MESSAGE`] characters.
pub fn server_message(message: &str) -> String {
    let kept: Vec<&str> = message
        .lines()
        .filter(|line| !line.trim_start().starts_with("DETAIL"))
        .collect();
    shorten(&scrub_literals(&kept.join("\n"), false), MAX_SERVER_MESSAGE)
}

/// Longest MongoDB migration error shown (a refusal lists every problem).
const MAX_COMMAND_MESSAGE: usize = 1000;

/// A MongoDB migration's error as shown: quoted literals scrubbed, double-quoted ones too (the
/// server quotes string values so, as in `dup key: { email: "..." }`), at most
/// [`MAX_COMMAND_MESSAGE`] characters.
pub fn command_message(message: &str) -> String {
    shorten(&scrub_literals(message, true), MAX_COMMAND_MESSAGE)
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_values_do_not_survive() {
        let shown = statement_shape("CREATE ROLE app LOGIN PASSWORD 'Fox-Pw-7q2Zx9';");
        assert_eq!(shown, "CREATE ROLE app LOGIN PASSWORD '?';");
        let shown = statement_shape("CREATE USER app IDENTIFIED BY \"s3cr'et\"");
        assert!(!shown.contains("s3cr"), "{shown}");
        let shown = statement_shape("INSERT INTO t VALUES ('it''s', E'a\\'b', $q$secret$q$, 7)");
        assert_eq!(shown, "INSERT INTO t VALUES ('?', E'?', $?$, 7)");
        let shown = statement_shape("UPDATE t SET note = 'never closed");
        assert_eq!(shown, "UPDATE t SET note = …");
        let shown = statement_shape("SELECT $1, $2 FROM t");
        assert_eq!(shown, "SELECT $1, $2 FROM t", "placeholders stay");
    }

    #[test]
    fn mongodb_messages_lose_string_values() {
        let shown = command_message(
            "migration 2 (seed) failed at upCommands[0]: E11000 duplicate key error collection: app.users index: email_1 dup key: { email: \"ann@example.com\" }",
        );
        assert!(!shown.contains("ann@example.com"), "{shown}");
        assert!(shown.contains("index: email_1 dup key"), "{shown}");
    }

    #[test]
    fn server_messages_keep_identifiers_and_lose_row_values() {
        let shown = server_message(
            "duplicate key value violates unique constraint \"users_email_key\"\nDETAIL: Key (email)=(ann@example.com) already exists.",
        );
        assert_eq!(
            shown,
            "duplicate key value violates unique constraint \"users_email_key\""
        );
        let shown = server_message("Duplicate entry 'ann@example.com' for key 'users.email'");
        assert!(!shown.contains("ann@"), "{shown}");
        assert!(server_message(&"x".repeat(2000)).chars().count() <= MAX_SERVER_MESSAGE + 1);
    }
}
