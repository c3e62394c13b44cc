//! Reading a MongoDB database's collections into the model a FoxSchema declares
//! ([`CollectionSpec`]): `listCollections` for each collection's validator, validation level and
//! action, `listIndexes` for its indexes.
//!
//! # Expected flow
//! `introspect_collections(&store).await?` lists every collection but FoxDB's own (`_fox_*`)
//! and the server's (`system.*`), in name order, each with its indexes but `_id_` (which every
//! collection has). An index of a kind the portable model cannot express (`2dsphere`,
//! wildcard, ...) is listed in [`LiveCollections::unmanaged_indexes`] and left alone.

use fox_crds::mongo_command::{MongoCommand, OrderedJson};
use fox_crds::schema::{
    CollectionIndexKey, CollectionIndexSpec, CollectionSpec, IndexOrder, ValidationAction,
    ValidationLevel,
};
use mongodb::bson::{Bson, Document, doc};
use serde_json::{Map, Value};

use crate::document_store::{DocumentStore, DocumentStoreError};

use super::BOOKKEEPING_PREFIX;

/// The collections of a live database.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LiveCollections {
    /// The collections, in name order, indexes in name order.
    pub collections: Vec<CollectionSpec>,
    /// `collection.index` of each index the portable model cannot express, with its key.
    pub unmanaged_indexes: Vec<String>,
}

impl LiveCollections {
    /// The collection named `name`.
    pub fn collection(&self, name: &str) -> Option<&CollectionSpec> {
        self.collections.iter().find(|c| c.name == name)
    }
}

/// Reads the collections of the database behind `store`.
///
/// # Errors
/// A command failed, or its reply lacks a collection's name or an index's key.
pub async fn introspect_collections(
    store: &DocumentStore,
) -> Result<LiveCollections, DocumentStoreError> {
    let listed = store
        .run_cursor_command(doc! {"listCollections": 1, "filter": {"type": "collection"}})
        .await?;
    let mut live = LiveCollections::default();
    for entry in listed {
        let name = entry
            .get_str("name")
            .map_err(|_| reply_error(store, "listCollections", "an entry without a name"))?
            .to_string();
        if name.starts_with(BOOKKEEPING_PREFIX) || name.starts_with("system.") {
            continue;
        }
        let options = entry.get_document("options").ok();
        let mut collection = CollectionSpec {
            name: name.clone(),
            validator: options
                .and_then(|o| o.get_document("validator").ok())
                .filter(|v| !v.is_empty())
                .map(|v| document_to_json(v.clone())),
            validation_level: options
                .and_then(|o| o.get_str("validationLevel").ok())
                .and_then(|level| match level {
                    "off" => Some(ValidationLevel::Off),
                    "strict" => Some(ValidationLevel::Strict),
                    "moderate" => Some(ValidationLevel::Moderate),
                    _ => None,
                }),
            validation_action: options
                .and_then(|o| o.get_str("validationAction").ok())
                .and_then(|action| match action {
                    "error" => Some(ValidationAction::Error),
                    "warn" => Some(ValidationAction::Warn),
                    _ => None,
                }),
            indexes: Vec::new(),
        };
        let indexes = store
            .run_cursor_command(doc! {"listIndexes": &name})
            .await?;
        for index in indexes {
            let index_name = index.get_str("name").unwrap_or_default().to_string();
            if index_name == "_id_" {
                continue;
            }
            match index_spec(&index) {
                Some(spec) => collection.indexes.push(spec),
                None => live.unmanaged_indexes.push(format!(
                    "{name}.{index_name} {}",
                    index
                        .get_document("key")
                        .map(|k| Bson::Document(k.clone()).into_relaxed_extjson().to_string())
                        .unwrap_or_default()
                )),
            }
        }
        collection.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        live.collections.push(collection);
    }
    live.collections.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(live)
}

/// The portable form of one `listIndexes` entry; `None` for a kind the model cannot express.
fn index_spec(index: &Document) -> Option<CollectionIndexSpec> {
    let key = index.get_document("key").ok()?;
    let keys = if key.contains_key("_fts") {
        // A text index: its fields are the keys of `weights`, the others keep their order.
        let mut keys: Vec<CollectionIndexKey> = Vec::new();
        for (field, order) in key {
            match field.as_str() {
                "_fts" => {
                    let weights = index.get_document("weights").ok()?;
                    keys.extend(weights.keys().map(|field| CollectionIndexKey {
                        field: field.clone(),
                        order: IndexOrder::Text,
                    }));
                }
                "_ftsx" => {}
                _ => keys.push(CollectionIndexKey {
                    field: field.clone(),
                    order: key_order(order)?,
                }),
            }
        }
        keys
    } else {
        key.iter()
            .map(|(field, order)| {
                Some(CollectionIndexKey {
                    field: field.clone(),
                    order: key_order(order)?,
                })
            })
            .collect::<Option<Vec<_>>>()?
    };
    Some(CollectionIndexSpec {
        keys,
        unique: index.get_bool("unique").unwrap_or(false),
        name: index.get_str("name").ok().map(str::to_string),
        expire_after_seconds: index
            .get("expireAfterSeconds")
            .and_then(bson_integer)
            .and_then(|s| u32::try_from(s).ok()),
        partial_filter_expression: index
            .get_document("partialFilterExpression")
            .ok()
            .map(|f| document_to_json(f.clone())),
    })
}

fn key_order(value: &Bson) -> Option<IndexOrder> {
    match value {
        Bson::String(kind) if kind == "text" => Some(IndexOrder::Text),
        Bson::String(kind) if kind == "hashed" => Some(IndexOrder::Hashed),
        Bson::String(_) => None,
        number => match bson_integer(number)? {
            n if n > 0 => Some(IndexOrder::Asc),
            n if n < 0 => Some(IndexOrder::Desc),
            _ => None,
        },
    }
}

fn bson_integer(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(n) => Some(i64::from(*n)),
        Bson::Int64(n) => Some(*n),
        #[allow(clippy::cast_possible_truncation)]
        Bson::Double(n) if n.fract() == 0.0 => Some(*n as i64),
        _ => None,
    }
}

/// A BSON document as JSON (relaxed extended JSON: numbers stay numbers).
pub fn document_to_json(document: Document) -> Map<String, Value> {
    match Bson::Document(document).into_relaxed_extjson() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A JSON object as a BSON document (numbers that are whole become 32- or 64-bit integers, as
/// MongoDB's shell would send them).
///
/// # Errors
/// A value extended JSON cannot express (`{"$date": "not a date"}`).
pub fn json_to_document(json: &Map<String, Value>) -> Result<Document, String> {
    match Bson::try_from(Value::Object(json.clone())) {
        Ok(Bson::Document(document)) => Ok(document),
        Ok(other) => Err(format!("expected a document, got {other}")),
        Err(error) => Err(error.to_string()),
    }
}

/// Keys that open a MongoDB Extended JSON value (`{"$date": ...}`, `{"$oid": ...}`), as
/// opposed to a query or update operator (`{"$set": ...}`).
const EXTENDED_JSON_KEYS: [&str; 19] = [
    "$oid",
    "$symbol",
    "$numberInt",
    "$numberLong",
    "$numberDouble",
    "$numberDecimal",
    "$binary",
    "$code",
    "$timestamp",
    "$regularExpression",
    "$regex",
    "$dbPointer",
    "$date",
    "$minKey",
    "$maxKey",
    "$undefined",
    "$uuid",
    "$type",
    "$scope",
];

/// A migration's command as a BSON document with every key in the order written (see
/// [`fox_crds::mongo_command`]); values read as [`json_to_document`] reads them (Extended
/// JSON included).
///
/// # Errors
/// A value Extended JSON cannot express (`{"$date": "not a date"}`).
pub fn command_document(command: &MongoCommand) -> Result<Document, String> {
    ordered_document(command.fields())
}

fn ordered_document(fields: &[(String, OrderedJson)]) -> Result<Document, String> {
    let mut document = Document::new();
    for (key, value) in fields {
        document.insert(key.clone(), ordered_bson(value)?);
    }
    Ok(document)
}

fn ordered_bson(value: &OrderedJson) -> Result<Bson, String> {
    match value {
        OrderedJson::Object(fields)
            if !fields
                .first()
                .is_some_and(|(key, _)| EXTENDED_JSON_KEYS.contains(&key.as_str())) =>
        {
            ordered_document(fields).map(Bson::Document)
        }
        OrderedJson::Array(items) => items
            .iter()
            .map(ordered_bson)
            .collect::<Result<Vec<_>, _>>()
            .map(Bson::Array),
        // Scalars and Extended JSON values, whose key order carries no meaning.
        other => Bson::try_from(other.to_json()).map_err(|error| error.to_string()),
    }
}

fn reply_error(store: &DocumentStore, command: &str, reason: &str) -> DocumentStoreError {
    DocumentStoreError::Reply {
        command: command.into(),
        target: store.url().target(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_become_documents_in_the_order_written() {
        let command = MongoCommand::parse_text(
            r#"{"createIndexes": "posts", "indexes": [{"key": {"b": 1, "a": -1}, "name": "b_1_a_-1"}],
                "comment": {"at": {"$date": "2026-01-02T03:04:05Z"}, "n": 5000000000}}"#,
        )
        .expect("a command");
        let document = command_document(&command).expect("converts");
        assert_eq!(
            document.keys().collect::<Vec<_>>(),
            ["createIndexes", "indexes", "comment"]
        );
        let key = document
            .get_array("indexes")
            .ok()
            .and_then(|indexes| indexes.first())
            .and_then(Bson::as_document)
            .and_then(|index| index.get_document("key").ok())
            .expect("the index key");
        assert_eq!(key.keys().collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(key.get("b"), Some(&Bson::Int32(1)));
        let comment = document.get_document("comment").expect("comment");
        assert!(
            matches!(comment.get("at"), Some(Bson::DateTime(_))),
            "{comment}"
        );
        assert_eq!(comment.get("n"), Some(&Bson::Int64(5_000_000_000)));
        // The same values as the unordered conversion gives.
        let unordered = json_to_document(&command.to_sorted_json()).expect("converts");
        assert_eq!(unordered.get_document("comment").expect("comment"), comment);
        assert!(
            command_document(&MongoCommand::parse_text(r#"{"x": {"$date": "no"}}"#).expect("json"))
                .is_err()
        );
    }
}
