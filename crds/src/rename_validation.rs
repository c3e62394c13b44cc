//! Rules for `previousNames`: what a table or column may declare as its former names.
//!
//! A rename is planned from the live database's old name to the declared new one, one apply at a
//! time. So a former name must be free in the declaration (no declared table or column still
//! uses it), claimed by one table or column only, and differ from the new name by more than
//! case: MySQL and SQLite compare names case-insensitively, so `users` → `Users` is one name to
//! them, and FoxDB compares declared names the same way on every engine.
//!
//! Swapping two names, reusing a renamed column's old name, or changing only the case of a name
//! is done in two applies: first rename to a name that is not in use, then to the final one.

use std::collections::HashMap;

use crate::identifier::{folded, identifier_problem};
use crate::schema::{FoxSchemaSpec, TableSpec};
use crate::validation::Problems;

const TWO_STEPS: &str = "to swap or reuse names, or to change only their case, rename in two \
                         applies: first to a name that is not in use, then to the final one";

/// What a declaration's names say about one former name.
enum FormerName<'a> {
    /// Free: no declared name uses it.
    Free,
    /// The new name itself, exactly.
    Own,
    /// The new name in another case.
    OwnInAnotherCase,
    /// The name of another declared table or column, at this path.
    Declared(&'a str),
}

/// Checks every table's and column's `previousNames`.
pub(crate) fn validate_previous_names(spec: &FoxSchemaSpec, problems: &mut Problems) {
    let tables: Vec<(String, String)> = spec
        .tables
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), format!("spec.tables[{i}]")))
        .collect();
    let mut claimed: HashMap<String, String> = HashMap::new();
    for (i, table) in spec.tables.iter().enumerate() {
        let path = format!("spec.tables[{i}]");
        for (j, previous) in table.previous_names.iter().enumerate() {
            check_former_name(
                &format!("{path}.previousNames[{j}]"),
                "table",
                previous,
                former_name(previous, &table.name, &tables),
                &path,
                &mut claimed,
                problems,
            );
        }
        validate_column_previous_names(&path, table, problems);
    }
}

fn validate_column_previous_names(path: &str, table: &TableSpec, problems: &mut Problems) {
    let columns: Vec<(String, String)> = table
        .columns
        .iter()
        .enumerate()
        .map(|(j, c)| (c.name.clone(), format!("{path}.columns[{j}]")))
        .collect();
    let mut claimed: HashMap<String, String> = HashMap::new();
    for (j, column) in table.columns.iter().enumerate() {
        let column_path = format!("{path}.columns[{j}]");
        for (k, previous) in column.previous_names.iter().enumerate() {
            check_former_name(
                &format!("{column_path}.previousNames[{k}]"),
                "column",
                previous,
                former_name(previous, &column.name, &columns),
                &column_path,
                &mut claimed,
                problems,
            );
        }
    }
}

fn former_name<'a>(previous: &str, own: &str, declared: &'a [(String, String)]) -> FormerName<'a> {
    if previous == own {
        return FormerName::Own;
    }
    if folded(previous) == folded(own) {
        return FormerName::OwnInAnotherCase;
    }
    declared
        .iter()
        .find(|(name, _)| folded(name) == folded(previous))
        .map_or(FormerName::Free, |(_, path)| FormerName::Declared(path))
}

fn check_former_name(
    path: &str,
    noun: &str,
    previous: &str,
    former: FormerName<'_>,
    owner: &str,
    claimed: &mut HashMap<String, String>,
    problems: &mut Problems,
) {
    if let Some(problem) = identifier_problem(previous) {
        problems.add(path, problem);
    }
    match former {
        FormerName::Free => {}
        FormerName::Own => problems.add(
            path,
            format!("\"{previous}\" is this {noun}'s own name; remove it from previousNames"),
        ),
        FormerName::OwnInAnotherCase => problems.add(
            path,
            format!(
                "\"{previous}\" differs from this {noun}'s name only by case, which MySQL and \
                 SQLite treat as the same name, so FoxDB cannot rename it in one step; {TWO_STEPS}"
            ),
        ),
        FormerName::Declared(other) => problems.add(
            path,
            format!(
                "\"{previous}\" is the name of another declared {noun} ({other}), so it cannot \
                 also be renamed away (a swap would do nothing, a reuse would convert the data \
                 in place); {TWO_STEPS}"
            ),
        ),
    }
    match claimed.get(&folded(previous)) {
        Some(first) if first == owner => problems.add(
            path,
            format!("\"{previous}\" is listed twice in previousNames"),
        ),
        Some(first) => problems.add(
            path,
            format!(
                "\"{previous}\" is also a previous name of {first}; a former {noun} can be renamed \
                 into one {noun} only"
            ),
        ),
        None => {
            claimed.insert(folded(previous), owner.to_string());
        }
    }
}
