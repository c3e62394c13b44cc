//! Which statements a replica may answer.
//!
//! A statement is a plain read when its first keyword is `SELECT` (or `VALUES`, `SHOW`,
//! `TABLE`) and it names nothing that writes, locks or changes session state: no row lock
//! (`FOR UPDATE`, `FOR SHARE`, `LOCK IN SHARE MODE`), no `INTO` (PostgreSQL's `SELECT INTO`
//! creates a table, MySQL's writes variables or files), no sequence or lock function. The
//! check looks at the raw text, so such a word inside a string literal sends the statement
//! to the primary too: a mistake in the safe direction. Everything else (`WITH`, which on
//! PostgreSQL may hold an `INSERT`, included) runs on the primary.

/// Words that make a `SELECT` more than a read, upper case, matched as whole words.
const NOT_READ_ONLY: &[&str] = &[
    "FOR",  // FOR UPDATE, FOR SHARE, FOR NO KEY UPDATE, FOR KEY SHARE
    "LOCK", // LOCK IN SHARE MODE
    "INTO",
    "NEXTVAL",
    "SETVAL",
    "LASTVAL",
    "PG_ADVISORY_LOCK",
    "PG_ADVISORY_XACT_LOCK",
    "PG_TRY_ADVISORY_LOCK",
    "PG_TRY_ADVISORY_XACT_LOCK",
    "PG_ADVISORY_UNLOCK",
    "PG_ADVISORY_UNLOCK_ALL",
    "SET_CONFIG",
    "GET_LOCK",
    "RELEASE_LOCK",
    "RELEASE_ALL_LOCKS",
    "LAST_INSERT_ID",
    "TXID_CURRENT",
    "PG_CURRENT_XACT_ID",
    "NEXT",
];

/// Whether `sql` is a plain read that a replica may answer (see the module documentation).
/// Allocates nothing: it runs before every statement of a database with replicas.
pub fn is_plain_read(sql: &str) -> bool {
    let body = skip_leading_trivia(sql).as_bytes();
    let first = body
        .split(|b| !b.is_ascii_alphabetic())
        .next()
        .unwrap_or_default();
    if ![&b"SELECT"[..], b"VALUES", b"SHOW", b"TABLE"]
        .iter()
        .any(|k| first.eq_ignore_ascii_case(k))
    {
        return false;
    }
    // One statement only: a second one after `;` may be anything.
    if let Some(end) = body.iter().position(|b| *b == b';')
        && !body[end + 1..].trim_ascii().is_empty()
    {
        return false;
    }
    // Bytes, not chars: a multi-byte character is never part of an ASCII keyword, and this
    // runs before every statement.
    !body
        .split(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .filter(|w| w.len() >= 3 && FIRST_LETTERS.contains(&w[0].to_ascii_uppercase()))
        .any(|word| {
            NOT_READ_ONLY
                .iter()
                .any(|k| word.eq_ignore_ascii_case(k.as_bytes()))
        })
}

/// The first letters of [`NOT_READ_ONLY`]: most words of a statement are skipped on one test.
const FIRST_LETTERS: &[u8] = b"FLINSPGRT";

/// The text after leading whitespace, opening parentheses and comments.
fn skip_leading_trivia(mut sql: &str) -> &str {
    loop {
        let trimmed = sql.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(rest) = trimmed.strip_prefix("--") {
            sql = rest.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(rest) = trimmed.strip_prefix("/*") {
            sql = rest.split_once("*/").map_or("", |(_, after)| after);
        } else {
            return trimmed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_plain_read;

    #[test]
    fn every_word_that_is_not_read_only_starts_with_a_listed_letter() {
        for word in super::NOT_READ_ONLY {
            assert!(super::FIRST_LETTERS.contains(&word.as_bytes()[0]), "{word}");
        }
    }

    #[test]
    fn selects_are_reads() {
        assert!(is_plain_read(
            "SELECT \"id\" FROM \"users\" WHERE \"id\" = $1"
        ));
        assert!(is_plain_read(
            "  -- note\n/* x */ (SELECT 1) UNION (SELECT 2)"
        ));
        assert!(is_plain_read("select count(*) from t;"));
        assert!(is_plain_read("SHOW SLAVE STATUS"));
    }

    #[test]
    fn writes_locks_and_side_effects_go_to_the_primary() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
            "SELECT * FROM t FOR UPDATE",
            "SELECT * FROM t WHERE id = 1 FOR SHARE",
            "SELECT * FROM t LOCK IN SHARE MODE",
            "SELECT * INTO copy FROM t",
            "SELECT nextval('s')",
            "SELECT pg_advisory_lock(1)",
            "SELECT GET_LOCK('x', 1)",
            "SELECT 1; DELETE FROM t",
            "BEGIN",
            "",
        ] {
            assert!(!is_plain_read(sql), "{sql}");
        }
    }
}
