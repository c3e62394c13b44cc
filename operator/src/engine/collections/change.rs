//! One change to a MongoDB database's collections, in words and as the database command that
//! makes it.

use std::fmt;

use fox_crds::schema::{
    CollectionIndexSpec, CollectionSpec, IndexOrder, ValidationAction, ValidationLevel,
};
use foxdb::document_store::bson::{Bson, Document, doc};
use foxdb::introspect::mongo::json_to_document;
use serde_json::{Map, Value};

use crate::engine::change::Safety;

/// What a collection's validator is: the `$jsonSchema` document, level and action.
#[derive(Clone, Debug, PartialEq)]
pub struct Validation {
    /// The validator document (`{"$jsonSchema": {...}}`); `None` for none.
    pub validator: Option<Map<String, Value>>,
    /// `validationLevel` (`strict` unless declared).
    pub level: ValidationLevel,
    /// `validationAction` (`error` unless declared).
    pub action: ValidationAction,
}

impl Validation {
    /// The validation of `collection`, with MongoDB's defaults filled in.
    pub fn of(collection: &CollectionSpec) -> Self {
        Self {
            validator: collection.validator.clone().filter(|v| !v.is_empty()),
            level: collection.validation_level.unwrap_or_default(),
            action: collection.validation_action.unwrap_or_default(),
        }
    }

    fn describe(&self) -> String {
        match &self.validator {
            Some(validator) => {
                let required = validator
                    .get("$jsonSchema")
                    .and_then(|s| s.get("required"))
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                let properties = validator
                    .get("$jsonSchema")
                    .and_then(|s| s.get("properties"))
                    .and_then(Value::as_object)
                    .map_or(0, Map::len);
                format!(
                    "$jsonSchema ({properties} properties, {required} required), level {}, action {}",
                    self.level.as_str(),
                    self.action.as_str()
                )
            }
            None => "none".into(),
        }
    }
}

/// A change to the collections of a database.
#[derive(Clone, Debug, PartialEq)]
pub enum CollectionChange {
    /// `create` the collection, with its validator.
    CreateCollection {
        /// Collection name.
        collection: String,
        /// Its validation.
        validation: Validation,
    },
    /// `collMod` the validator, level or action.
    SetValidation {
        /// Collection name.
        collection: String,
        /// What the database has.
        from: Validation,
        /// What is declared.
        to: Validation,
    },
    /// `createIndexes` one index.
    CreateIndex {
        /// Collection name.
        collection: String,
        /// The index (its name filled in).
        index: CollectionIndexSpec,
    },
    /// `dropIndexes` one index.
    DropIndex {
        /// Collection name.
        collection: String,
        /// Index name.
        name: String,
    },
    /// `drop` the collection and its documents.
    DropCollection {
        /// Collection name.
        collection: String,
    },
}

impl CollectionChange {
    /// The collection the change is about.
    pub fn collection(&self) -> &str {
        match self {
            Self::CreateCollection { collection, .. }
            | Self::SetValidation { collection, .. }
            | Self::CreateIndex { collection, .. }
            | Self::DropIndex { collection, .. }
            | Self::DropCollection { collection } => collection,
        }
    }

    /// `+` adds, `-` removes, `~` changes (as in SQL plans).
    pub fn symbol(&self) -> char {
        match self {
            Self::CreateCollection { .. } | Self::CreateIndex { .. } => '+',
            Self::DropIndex { .. } | Self::DropCollection { .. } => '-',
            Self::SetValidation { .. } => '~',
        }
    }

    /// Whether the change can lose data (or what queries and uniqueness rely on).
    pub fn safety(&self) -> Safety {
        match self {
            Self::DropCollection { collection } => Safety::Destructive(format!(
                "deletes collection {collection} and every document in it"
            )),
            Self::DropIndex { collection, name } => Safety::Destructive(format!(
                "queries on {collection} that use index {name} lose it, and a unique index stops enforcing uniqueness"
            )),
            Self::CreateCollection { .. }
            | Self::SetValidation { .. }
            | Self::CreateIndex { .. } => Safety::Safe,
        }
    }

    /// The database command that makes the change.
    ///
    /// # Errors
    /// A validator or partial filter that extended JSON cannot express.
    pub fn command(&self) -> Result<Document, String> {
        Ok(match self {
            Self::CreateCollection {
                collection,
                validation,
            } => {
                let mut command = doc! {"create": collection};
                if let Some(validator) = &validation.validator {
                    command.insert("validator", json_to_document(validator)?);
                    command.insert("validationLevel", validation.level.as_str());
                    command.insert("validationAction", validation.action.as_str());
                }
                command
            }
            Self::SetValidation { collection, to, .. } => {
                let validator = match &to.validator {
                    Some(validator) => json_to_document(validator)?,
                    None => Document::new(),
                };
                doc! {
                    "collMod": collection,
                    "validator": validator,
                    "validationLevel": to.level.as_str(),
                    "validationAction": to.action.as_str(),
                }
            }
            Self::CreateIndex { collection, index } => {
                let mut key = Document::new();
                for k in &index.keys {
                    let order = match k.order {
                        IndexOrder::Asc => Bson::Int32(1),
                        IndexOrder::Desc => Bson::Int32(-1),
                        IndexOrder::Text => Bson::String("text".into()),
                        IndexOrder::Hashed => Bson::String("hashed".into()),
                    };
                    key.insert(k.field.clone(), order);
                }
                let mut model = doc! {"key": key, "name": index_name(index)};
                if index.unique {
                    model.insert("unique", true);
                }
                if let Some(seconds) = index.expire_after_seconds {
                    model.insert("expireAfterSeconds", i64::from(seconds));
                }
                if let Some(filter) = &index.partial_filter_expression {
                    model.insert("partialFilterExpression", json_to_document(filter)?);
                }
                doc! {"createIndexes": collection, "indexes": [model]}
            }
            Self::DropIndex { collection, name } => {
                doc! {"dropIndexes": collection, "index": name}
            }
            Self::DropCollection { collection } => doc! {"drop": collection},
        })
    }
}

/// An index's name: the declared one, else MongoDB's default (`field_1_other_-1`).
pub fn index_name(index: &CollectionIndexSpec) -> String {
    index.name.clone().unwrap_or_else(|| {
        index
            .keys
            .iter()
            .map(|k| {
                let order = match k.order {
                    IndexOrder::Asc => "1",
                    IndexOrder::Desc => "-1",
                    IndexOrder::Text => "text",
                    IndexOrder::Hashed => "hashed",
                };
                format!("{}_{order}", k.field)
            })
            .collect::<Vec<_>>()
            .join("_")
    })
}

fn describe_index(index: &CollectionIndexSpec) -> String {
    let keys: Vec<String> = index
        .keys
        .iter()
        .map(|k| {
            let order = match k.order {
                IndexOrder::Asc => "asc",
                IndexOrder::Desc => "desc",
                IndexOrder::Text => "text",
                IndexOrder::Hashed => "hashed",
            };
            format!("{} {order}", k.field)
        })
        .collect();
    let mut text = keys.join(", ");
    if let Some(seconds) = index.expire_after_seconds {
        text.push_str(&format!("; expire after {seconds} s"));
    }
    if let Some(filter) = &index.partial_filter_expression {
        text.push_str(&format!("; where {}", Value::Object(filter.clone())));
    }
    text
}

impl fmt::Display for CollectionChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateCollection {
                collection,
                validation,
            } => match validation.validator {
                Some(_) => write!(
                    f,
                    "create collection {collection} (validator {})",
                    validation.describe()
                ),
                None => write!(f, "create collection {collection}"),
            },
            Self::SetValidation {
                collection,
                from,
                to,
            } => write!(
                f,
                "set validator of {collection}: {} → {}",
                from.describe(),
                to.describe()
            ),
            Self::CreateIndex { collection, index } => write!(
                f,
                "create {}index {} on {collection} ({})",
                if index.unique { "unique " } else { "" },
                index_name(index),
                describe_index(index)
            ),
            Self::DropIndex { collection, name } => {
                write!(f, "drop index {name} on {collection}")
            }
            Self::DropCollection { collection } => write!(f, "drop collection {collection}"),
        }
    }
}
