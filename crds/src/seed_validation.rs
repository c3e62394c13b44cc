//! Checks that concern seed rows as a whole rather than one value: every row of a table has its
//! own primary key, so a second apply finds each row in place and writes nothing.

use std::collections::{BTreeMap, HashMap};

use crate::scalar::Scalar;
use crate::schema::FoxSchemaSpec;
use crate::validation::Problems;

/// Reports seed rows whose primary key repeats an earlier row of the same table (in the same or
/// another `seed` entry): the upsert would write both on every apply and never be in sync.
///
/// `primary_keys` maps each declared table to its primary key columns.
pub(crate) fn validate_seed_keys(
    spec: &FoxSchemaSpec,
    primary_keys: &BTreeMap<String, Vec<String>>,
    problems: &mut Problems,
) {
    let mut first_row: HashMap<(&str, Vec<String>), String> = HashMap::new();
    for (s, seed) in spec.seed.iter().enumerate() {
        let Some(key_columns) = primary_keys.get(&seed.table) else {
            continue;
        };
        for (r, row) in seed.rows.iter().enumerate() {
            let Some(key) = key_columns
                .iter()
                .map(|column| row.get(column).map(key_text))
                .collect::<Option<Vec<String>>>()
            else {
                // A row without its key is reported where the row is checked.
                continue;
            };
            let path = format!("spec.seed[{s}].rows[{r}]");
            let shown = key.join(", ");
            if let Some(first) = first_row.insert((seed.table.as_str(), key), path.clone()) {
                problems.add(
                    path,
                    format!(
                        "duplicate primary key ({shown}) in table \"{}\" (also {first}); each seed row needs its own key",
                        seed.table
                    ),
                );
            }
        }
    }
}

/// A key value as text, equal for equal values whatever their YAML spelling (`1` and `1.0`).
fn key_text(value: &Scalar) -> String {
    match value {
        Scalar::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => format!("{}", *x as i64),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::manifest::{ManifestSet, parse_manifests};

    fn problems(yaml: &str) -> Vec<String> {
        let mut set = ManifestSet::default();
        parse_manifests("t.yaml".as_ref(), yaml, &mut set);
        set.problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn duplicate_seed_primary_keys_are_refused_with_both_rows() {
        let found = problems(
            "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {name: t}\nspec:\n  databaseRef: {name: db}\n  tables:\n    - name: items\n      columns:\n        - {name: id, type: integer, primaryKey: true}\n        - {name: name, type: text}\n  seed:\n    - table: items\n      rows:\n        - {id: 1, name: a}\n        - {id: 2, name: b}\n    - table: items\n      rows:\n        - {id: 1, name: c}\n",
        );
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("spec.seed[1].rows[0]: duplicate primary key (1) in table \"items\" (also spec.seed[0].rows[0])"),
            "{found:#?}"
        );
    }
}
