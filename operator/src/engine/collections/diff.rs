//! Declared collections against live ones: the ordered changes between them.

use fox_crds::schema::{CollectionIndexSpec, CollectionSpec};

use super::change::{CollectionChange, Validation, index_name};

/// The changes that turn `live` into `desired`, in the order they run: new collections, then
/// validators, then dropped indexes (a redefined index is dropped before it is created again),
/// then new indexes, then dropped collections.
pub fn plan_collection_changes(
    live: &[CollectionSpec],
    desired: &[CollectionSpec],
) -> Vec<CollectionChange> {
    let mut creates = Vec::new();
    let mut validations = Vec::new();
    let mut dropped_indexes = Vec::new();
    let mut created_indexes = Vec::new();
    let mut dropped = Vec::new();
    for wanted in desired {
        let wanted_indexes: Vec<CollectionIndexSpec> =
            wanted.indexes.iter().map(named_index).collect();
        let Some(existing) = live.iter().find(|c| c.name == wanted.name) else {
            creates.push(CollectionChange::CreateCollection {
                collection: wanted.name.clone(),
                validation: Validation::of(wanted),
            });
            created_indexes.extend(wanted_indexes.into_iter().map(|index| {
                CollectionChange::CreateIndex {
                    collection: wanted.name.clone(),
                    index,
                }
            }));
            continue;
        };
        let (from, to) = (Validation::of(existing), Validation::of(wanted));
        if !same_validation(&from, &to) {
            validations.push(CollectionChange::SetValidation {
                collection: wanted.name.clone(),
                from,
                to,
            });
        }
        let existing_indexes: Vec<CollectionIndexSpec> =
            existing.indexes.iter().map(named_index).collect();
        for index in &existing_indexes {
            let kept = wanted_indexes
                .iter()
                .any(|w| w.name == index.name && same_index(w, index));
            if !kept {
                dropped_indexes.push(CollectionChange::DropIndex {
                    collection: wanted.name.clone(),
                    name: index_name(index),
                });
            }
        }
        for index in wanted_indexes {
            let present = existing_indexes
                .iter()
                .any(|e| e.name == index.name && same_index(e, &index));
            if !present {
                created_indexes.push(CollectionChange::CreateIndex {
                    collection: wanted.name.clone(),
                    index,
                });
            }
        }
    }
    for existing in live {
        if !desired.iter().any(|d| d.name == existing.name) {
            dropped.push(CollectionChange::DropCollection {
                collection: existing.name.clone(),
            });
        }
    }
    creates
        .into_iter()
        .chain(validations)
        .chain(dropped_indexes)
        .chain(created_indexes)
        .chain(dropped)
        .collect()
}

/// `index` with its name filled in (MongoDB's default where none is declared).
fn named_index(index: &CollectionIndexSpec) -> CollectionIndexSpec {
    CollectionIndexSpec {
        name: Some(index_name(index)),
        ..index.clone()
    }
}

/// Level and action matter only while there is a validator.
fn same_validation(a: &Validation, b: &Validation) -> bool {
    match (&a.validator, &b.validator) {
        (None, None) => true,
        (Some(x), Some(y)) => x == y && a.level == b.level && a.action == b.action,
        _ => false,
    }
}

fn same_index(a: &CollectionIndexSpec, b: &CollectionIndexSpec) -> bool {
    a.keys == b.keys
        && a.unique == b.unique
        && a.expire_after_seconds == b.expire_after_seconds
        && a.partial_filter_expression == b.partial_filter_expression
}

#[cfg(test)]
mod tests {
    use fox_crds::schema::{CollectionIndexKey, IndexOrder};
    use serde_json::json;

    use super::*;

    fn collection(name: &str, fields: &[(&str, IndexOrder)]) -> CollectionSpec {
        CollectionSpec {
            name: name.into(),
            indexes: fields
                .iter()
                .map(|(field, order)| CollectionIndexSpec {
                    keys: vec![CollectionIndexKey {
                        field: (*field).into(),
                        order: *order,
                    }],
                    ..CollectionIndexSpec::default()
                })
                .collect(),
            ..CollectionSpec::default()
        }
    }

    #[test]
    fn a_new_collection_is_created_before_its_indexes_and_undeclared_ones_are_dropped_last() {
        let live = vec![collection("old", &[])];
        let desired = vec![collection("posts", &[("title", IndexOrder::Asc)])];
        let words: Vec<String> = plan_collection_changes(&live, &desired)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            words,
            [
                "create collection posts",
                "create index title_1 on posts (title asc)",
                "drop collection old"
            ]
        );
    }

    #[test]
    fn a_redefined_index_is_dropped_then_created_and_a_matching_one_is_left_alone() {
        let live = vec![collection(
            "posts",
            &[("title", IndexOrder::Asc), ("at", IndexOrder::Desc)],
        )];
        let mut desired = live.clone();
        desired[0].indexes[0].unique = true;
        let words: Vec<String> = plan_collection_changes(&live, &desired)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            words,
            [
                "drop index title_1 on posts",
                "create unique index title_1 on posts (title asc)"
            ]
        );
        assert!(plan_collection_changes(&desired, &desired).is_empty());
    }

    #[test]
    fn validators_compare_with_mongodb_defaults_filled_in() {
        let mut live = collection("posts", &[]);
        live.validator = json!({"$jsonSchema": {"bsonType": "object"}})
            .as_object()
            .cloned();
        live.validation_level = Some(fox_crds::schema::ValidationLevel::Strict);
        let mut desired = live.clone();
        desired.validation_level = None;
        assert!(plan_collection_changes(&[live.clone()], &[desired.clone()]).is_empty());
        desired.validation_action = Some(fox_crds::schema::ValidationAction::Warn);
        let changes = plan_collection_changes(&[live], &[desired]);
        assert_eq!(
            changes[0].to_string(),
            "set validator of posts: $jsonSchema (0 properties, 0 required), level strict, action error → $jsonSchema (0 properties, 0 required), level strict, action warn"
        );
    }
}
