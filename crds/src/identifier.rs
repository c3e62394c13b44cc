//! Rules for table, column, index and relation names that every engine can hold.
//!
//! Names are always quoted when rendered, so reserved words (`order`, `user`, `select`) are
//! legal. What is refused is what some engine cannot store even quoted.

/// Longest identifier every engine accepts (PostgreSQL: 63 bytes; MySQL: 64 characters).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// What [`identifier_problem`] checks, as a regular expression the API server applies itself
/// (the CRDs' `pattern`; RE2 syntax, which Go's `regexp` and Rust's `regex` read alike): no `.`,
/// no control character, no character outside the Basic Multilingual Plane, not empty, no
/// trailing space. The length limit is the CRDs' `maxLength` ([`MAX_IDENTIFIER_BYTES`]
/// characters; the limit in bytes stays `validate()`'s).
pub const IDENTIFIER_PATTERN: &str =
    r"^[^.\p{Cc}\x{10000}-\x{10FFFF}]*[^ .\p{Cc}\x{10000}-\x{10FFFF}]$";

/// The CEL rule (`x-kubernetes-validations`) that refuses the prefixes
/// [`reserved_name_problem`] refuses, in any ASCII case.
pub const RESERVED_PREFIX_RULE: &str =
    "!self.lowerAscii().startsWith('_fox_') && !self.lowerAscii().startsWith('sqlite_')";

/// Prefix of FoxDB's own bookkeeping tables; user tables may not start with it (in any case).
pub const RESERVED_PREFIX: &str = "_fox_";

/// Prefix SQLite keeps for its own tables and indexes (`sqlite_master`, `sqlite_sequence`); it
/// refuses to create user objects with it, in any case.
pub const SQLITE_RESERVED_PREFIX: &str = "sqlite_";

/// Why a name cannot be used, or `None` when every engine can hold it.
///
/// ```
/// assert_eq!(fox_crds::identifier::identifier_problem("order"), None);
/// assert!(fox_crds::identifier::identifier_problem("").is_some());
/// ```
pub fn identifier_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("name must not be empty".to_string());
    }
    if name.len() > MAX_IDENTIFIER_BYTES {
        return Some(format!(
            "name \"{name}\" is {} bytes long; PostgreSQL keeps at most {MAX_IDENTIFIER_BYTES}",
            name.len()
        ));
    }
    if name.contains('\0') {
        return Some(format!(
            "name \"{}\" contains a NUL character, which no engine can store",
            name.escape_default()
        ));
    }
    if name.chars().any(char::is_control) {
        return Some(format!(
            "name \"{}\" contains a control character",
            name.escape_default()
        ));
    }
    if name.ends_with(' ') {
        return Some(format!(
            "name \"{name}\" ends with a space, which MySQL does not allow"
        ));
    }
    if name.contains('.') {
        return Some(format!(
            "name \"{name}\" contains '.', which tools read as schema.table"
        ));
    }
    if let Some(beyond) = name.chars().find(|c| u32::from(*c) > 0xFFFF) {
        return Some(format!(
            "name \"{name}\" contains {beyond} (U+{:04X}), a character outside the Basic \
             Multilingual Plane; MySQL and MariaDB store names in utf8mb3, which cannot hold it",
            u32::from(beyond)
        ));
    }
    None
}

/// Why a table or index name cannot be used (on top of [`identifier_problem`]): the prefixes
/// FoxDB and SQLite keep for themselves, compared case-insensitively as SQLite does.
///
/// ```
/// use fox_crds::identifier::reserved_name_problem;
/// assert!(reserved_name_problem("_FOX_history").is_some());
/// assert!(reserved_name_problem("SQLite_stats").is_some());
/// assert_eq!(reserved_name_problem("fox_news"), None);
/// ```
pub fn reserved_name_problem(name: &str) -> Option<String> {
    let lower = folded(name);
    if lower.starts_with(RESERVED_PREFIX) {
        return Some(format!(
            "\"{name}\" starts with {RESERVED_PREFIX} (in any case), which is reserved for \
             FoxDB's own tables"
        ));
    }
    if lower.starts_with(SQLITE_RESERVED_PREFIX) {
        return Some(format!(
            "\"{name}\" starts with {SQLITE_RESERVED_PREFIX} (in any case), which SQLite \
             reserves for its own tables and indexes"
        ));
    }
    None
}

/// Case-folded form used to detect names that collide on case-insensitive engines (MySQL
/// columns, SQLite everything).
pub fn folded(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_words_are_legal_names() {
        for name in ["order", "user", "select", "group", "Order Items", "ünïcödé"] {
            assert_eq!(identifier_problem(name), None, "{name}");
        }
    }

    #[test]
    fn names_no_engine_can_hold_are_refused() {
        assert!(identifier_problem(&"x".repeat(64)).is_some());
        assert!(identifier_problem("a\0b").is_some());
        assert!(identifier_problem("a\nb").is_some());
        assert!(identifier_problem("trailing ").is_some());
        assert!(identifier_problem("a.b").is_some());
        assert_eq!(identifier_problem(&"x".repeat(63)), None);
    }

    #[test]
    fn names_outside_the_basic_multilingual_plane_are_refused() {
        let problem = identifier_problem("party_🎉").expect("refused");
        assert!(problem.contains("U+1F389"), "{problem}");
        assert!(problem.contains("utf8mb3"), "{problem}");
        assert_eq!(identifier_problem("größe_€_名前"), None);
    }

    #[test]
    fn reserved_prefixes_are_refused_in_any_case() {
        for name in [
            "_fox_x",
            "_FOX_x",
            "_Fox_History",
            "sqlite_x",
            "SQLITE_stat1",
            "Sqlite_y",
        ] {
            assert!(reserved_name_problem(name).is_some(), "{name}");
        }
        for name in ["fox_x", "my_sqlite_x", "sqlite", "_fox"] {
            assert_eq!(reserved_name_problem(name), None, "{name}");
        }
    }
}
