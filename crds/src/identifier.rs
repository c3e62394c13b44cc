//! Rules for table, column, index and relation names that every engine can hold.
//!
//! Names are always quoted when rendered, so reserved words (`order`, `user`, `select`) are
//! legal. What is refused is what some engine cannot store even quoted.

/// Longest identifier every engine accepts (PostgreSQL: 63 bytes; MySQL: 64 characters).
pub const MAX_IDENTIFIER_BYTES: usize = 63;

/// Prefix of FoxDB's own bookkeeping tables; user tables may not start with it.
pub const RESERVED_PREFIX: &str = "_fox_";

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
}
