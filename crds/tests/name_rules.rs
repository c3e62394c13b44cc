//! Names `fox validate` refuses before any DDL runs: reserved prefixes, characters MySQL cannot
//! store, and `previousNames` the engine could not honour (swaps, reuse, shared former names,
//! case-only renames).

use fox_crds::manifest::{ManifestSet, parse_manifests};

/// Problems of a FoxSchema with the given tables (YAML list items, indented by 4), without
/// the `file:line: FoxSchema/test: ` prefix.
fn problems(tables_yaml: &str) -> Vec<String> {
    let yaml = format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  tables:\n{tables_yaml}"
    );
    let mut set = ManifestSet::default();
    parse_manifests("s.yaml".as_ref(), &yaml, &mut set);
    set.problems.iter().map(|p| p.problem.to_string()).collect()
}

fn table(name: &str, extra: &str) -> String {
    format!(
        "    - name: \"{name}\"\n{extra}      columns:\n        - {{name: id, type: integer, primaryKey: true}}\n"
    )
}

#[test]
fn sqlite_and_fox_prefixes_are_refused_in_any_case() {
    for name in [
        "sqlite_stats",
        "SQLite_Things",
        "_fox_history",
        "_FOX_History",
    ] {
        let found = problems(&table(name, ""));
        assert_eq!(found.len(), 1, "{name}: {found:#?}");
        assert!(
            found[0].starts_with("spec.tables[0].name: ")
                && found[0].contains("(in any case), which"),
            "{name}: {found:#?}"
        );
    }
    let index = format!(
        "{}      indexes:\n        - {{name: sqlite_autoindex_x, columns: [id]}}\n",
        table("items", "")
    );
    let found = problems(&index);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with(
            "spec.tables[0].indexes[0].name: \"sqlite_autoindex_x\" starts with sqlite_"
        ),
        "{found:#?}"
    );
    assert!(problems(&table("fox_news", "")).is_empty());
}

#[test]
fn names_outside_the_basic_multilingual_plane_are_refused() {
    let yaml = "    - name: \"party_🎉\"
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: \"mood_😀\", type: text}
";
    let found = problems(yaml);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with("spec.tables[0].name: name \"party_🎉\" contains 🎉 (U+1F389)"),
        "{found:#?}"
    );
    assert!(
        found[1]
            .starts_with("spec.tables[0].columns[1].name: name \"mood_😀\" contains 😀 (U+1F600)"),
        "{found:#?}"
    );
    assert!(found[0].contains("utf8mb3"), "{found:#?}");
    assert!(problems(&table("größe_名前", "")).is_empty());
}

#[test]
fn a_column_swap_through_previous_names_is_refused_with_the_two_step_way() {
    let yaml = "    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: a, type: text, previousNames: [b]}
        - {name: b, type: text, previousNames: [a]}
";
    let found = problems(yaml);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0].starts_with(
            "spec.tables[0].columns[1].previousNames[0]: \"b\" is the name of another declared column (spec.tables[0].columns[2])"
        ),
        "{found:#?}"
    );
    assert!(
        found[0].contains(
            "rename in two applies: first to a name that is not in use, then to the final one"
        ),
        "{found:#?}"
    );
    assert!(found[1].starts_with("spec.tables[0].columns[2].previousNames[0]: \"a\" is the name of another declared column"), "{found:#?}");
}

#[test]
fn reusing_a_renamed_columns_old_name_is_refused() {
    let yaml = "    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: title, type: text, previousNames: [name]}
        - {name: name, type: integer}
";
    let found = problems(yaml);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("spec.tables[0].columns[1].previousNames[0]: \"name\" is the name of another declared column"), "{found:#?}");
}

#[test]
fn two_tables_claiming_one_previous_name_are_refused() {
    let yaml = format!(
        "{}{}",
        table("products", "      previousNames: [items]\n"),
        table("articles", "      previousNames: [Items]\n")
    );
    let found = problems(&yaml);
    assert_eq!(
        found,
        vec![
            "spec.tables[1].previousNames[0]: \"Items\" is also a previous name of spec.tables[0]; a former table can be renamed into one table only"
        ]
    );
}

#[test]
fn two_columns_claiming_one_previous_name_are_refused() {
    let yaml = "    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: title, type: text, previousNames: [name]}
        - {name: label, type: text, previousNames: [old, name]}
";
    let found = problems(yaml);
    assert_eq!(
        found,
        vec![
            "spec.tables[0].columns[2].previousNames[1]: \"name\" is also a previous name of spec.tables[0].columns[1]; a former column can be renamed into one column only"
        ]
    );
}

#[test]
fn a_case_only_table_rename_is_refused_with_a_true_message() {
    let found = problems(&table("Users", "      previousNames: [users]\n"));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("spec.tables[0].previousNames[0]: \"users\" differs from this table's name only by case, which MySQL and SQLite treat as the same name"),
        "{found:#?}"
    );
    assert!(
        !found[0].contains("is the name of a declared table"),
        "{found:#?}"
    );
    assert!(found[0].contains("rename in two applies"), "{found:#?}");

    let column = "    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: Title, type: text, previousNames: [title]}
";
    let found = problems(column);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("differs from this column's name only by case"),
        "{found:#?}"
    );
}

#[test]
fn a_table_previous_name_that_is_declared_is_refused() {
    let yaml = format!(
        "{}{}",
        table("products", "      previousNames: [items]\n"),
        table("items", "")
    );
    let found = problems(&yaml);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].starts_with("spec.tables[0].previousNames[0]: \"items\" is the name of another declared table (spec.tables[1])"), "{found:#?}");
}
