//! Naming conventions shared by validation, the schema engine and client generation, so that a
//! relation or index gets the same generated name everywhere.

use crate::identifier::MAX_IDENTIFIER_BYTES;

/// Singular form of a table name used in generated foreign key names: `users` → `user`,
/// `categories` → `category`, `addresses` → `address`, `people` stays `people`.
///
/// ```
/// assert_eq!(fox_crds::conventions::singular("posts"), "post");
/// assert_eq!(fox_crds::conventions::singular("categories"), "category");
/// ```
pub fn singular(table: &str) -> String {
    if let Some(stem) = table.strip_suffix("ies").filter(|s| !s.is_empty()) {
        return format!("{stem}y");
    }
    for suffix in ["sses", "shes", "ches", "xes"] {
        if let Some(stem) = table.strip_suffix(suffix).filter(|s| !s.is_empty()) {
            return format!("{stem}{}", &suffix[..suffix.len() - 2]);
        }
    }
    match table.strip_suffix('s') {
        Some(stem) if !stem.is_empty() && !stem.ends_with('s') => stem.to_string(),
        _ => table.to_string(),
    }
}

/// Default foreign key column pointing at `referenced_table`: `<singular>_id`.
pub fn default_foreign_key(referenced_table: &str) -> String {
    format!("{}_id", singular(referenced_table))
}

/// Default join table of a many-to-many relation declared on `owner` towards `related`.
pub fn default_join_table(owner: &str, related: &str) -> String {
    format!("{owner}_{related}")
}

/// The two foreign key columns of a join table: towards the owner, then towards the related
/// table. A self-relation gets `related_` in front of the second.
pub fn join_table_columns(owner: &str, related: &str) -> (String, String) {
    let owner_column = default_foreign_key(owner);
    let related_column = default_foreign_key(related);
    if owner_column == related_column {
        let second = format!("related_{related_column}");
        (owner_column, second)
    } else {
        (owner_column, related_column)
    }
}

/// Default name of an index: `<table>_<col>_<col>_idx`, or `_key` for unique ones, shortened
/// with a hash suffix to fit 63 bytes.
pub fn default_index_name(table: &str, columns: &[String], unique: bool) -> String {
    let suffix = if unique { "key" } else { "idx" };
    fit_identifier(&format!("{table}_{}_{suffix}", columns.join("_")))
}

/// Default name of a foreign key constraint: `<table>_<column>_fkey`.
pub fn default_foreign_key_name(table: &str, column: &str) -> String {
    fit_identifier(&format!("{table}_{column}_fkey"))
}

/// Shortens a generated name to at most 63 bytes, keeping it unique with a hash of the full
/// name.
pub fn fit_identifier(name: &str) -> String {
    if name.len() <= MAX_IDENTIFIER_BYTES {
        return name.to_string();
    }
    let hash = format!("{:08x}", fnv1a(name.as_bytes()));
    let mut cut = MAX_IDENTIFIER_BYTES - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &name[..cut])
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn singular_handles_common_plurals() {
        for (plural, single) in [
            ("users", "user"),
            ("posts", "post"),
            ("categories", "category"),
            ("addresses", "address"),
            ("boxes", "box"),
            ("people", "people"),
            ("status", "statu"),
            ("glass", "glass"),
            ("s", "s"),
        ] {
            assert_eq!(singular(plural), single, "{plural}");
        }
    }

    #[test]
    fn self_join_tables_get_distinct_columns() {
        assert_eq!(
            join_table_columns("users", "users"),
            ("user_id".to_string(), "related_user_id".to_string())
        );
        assert_eq!(
            join_table_columns("posts", "tags"),
            ("post_id".to_string(), "tag_id".to_string())
        );
    }

    #[test]
    fn long_generated_names_fit_and_stay_distinct() {
        let a = default_index_name(&"t".repeat(60), &["alpha".into()], false);
        let b = default_index_name(&"t".repeat(60), &["beta".into()], false);
        assert!(a.len() <= MAX_IDENTIFIER_BYTES && b.len() <= MAX_IDENTIFIER_BYTES);
        assert_ne!(a, b);
        assert_eq!(
            default_index_name("posts", &["author_id".into()], false),
            "posts_author_id_idx"
        );
    }
}
