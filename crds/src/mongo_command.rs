//! [`MongoCommand`]: one MongoDB database command of a FoxMigration's `upCommands` /
//! `downCommands`, with its keys in the order they were written.
//!
//! Key order matters to MongoDB: a command's name must come first, a compound index key
//! `{b: 1, a: -1}` is another index than `{a: -1, b: 1}`, and a sort on several fields sorts
//! by the first one first. `serde_json::Map` (without the `preserve_order` feature, which would
//! reorder FoxDB's other output) sorts keys, so commands are kept in their own ordered tree.
//!
//! # Where order survives
//! - **Manifest files** (`fox migrate`, `fox validate`): written mappings keep their order
//!   (the manifest reader puts keys back in the order of their positions in the file).
//! - **The Kubernetes API**: objects do *not* keep it. kubectl and the API server turn YAML
//!   into JSON through unordered maps and write keys sorted. A command whose key order
//!   matters is therefore written as a string holding the JSON object
//!   (`- '{"createIndexes": "posts", "indexes": [{"key": {"b": 1, "a": -1}, "name": "b_a"}]}'`),
//!   which every path carries verbatim and FoxDB parses in order.
//!
//! # Checksum
//! A migration's checksum is computed over [`MongoCommand::to_sorted_json`] (keys sorted),
//! exactly the text checksummed before commands kept their order, so migrations applied
//! before stay verified. The price: a change of key order alone is not a changed checksum.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// A JSON value whose objects keep their keys in the order written.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderedJson {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list.
    Array(Vec<OrderedJson>),
    /// An object, its keys in order.
    Object(Vec<(String, OrderedJson)>),
}

/// One MongoDB database command (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct MongoCommand {
    fields: Vec<(String, OrderedJson)>,
    /// Written as a string holding JSON; serialised back the same way.
    written_as_text: bool,
}

impl MongoCommand {
    /// The command's fields, in order (the first is the command's name).
    pub fn fields(&self) -> &[(String, OrderedJson)] {
        &self.fields
    }

    /// Whether the command was written as a string holding its JSON.
    pub fn written_as_text(&self) -> bool {
        self.written_as_text
    }

    /// Parses a JSON object from text, keeping its key order.
    ///
    /// # Errors
    /// Text that is not one JSON object, or an object with a key twice.
    pub fn parse_text(text: &str) -> Result<Self, String> {
        match serde_json::from_str::<OrderedJson>(text) {
            Ok(OrderedJson::Object(fields)) => Ok(Self {
                fields,
                written_as_text: true,
            }),
            Ok(_) => Err("the string holds JSON, but not an object ({\"command\": ...})".into()),
            Err(error) => Err(format!("the string is not a JSON object: {error}")),
        }
    }

    /// The command as `serde_json` holds it, keys sorted: the input of the migration's
    /// checksum (see the module docs).
    pub fn to_sorted_json(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(key, value)| (key.clone(), value.to_json()))
            .collect()
    }

    /// Puts the keys of every mapping back in the order of their positions in a file:
    /// `position(path)` is the line and column where the field at `path` is written (`path`
    /// starts with `base`, then `.key` and `[index]` as the manifest reader names fields). A
    /// command written as text already has its order.
    pub fn order_by_position(
        &mut self,
        base: &str,
        position: &dyn Fn(&str) -> Option<(usize, usize)>,
    ) {
        if !self.written_as_text {
            order_fields(&mut self.fields, base, position);
        }
    }
}

fn order_fields(
    fields: &mut [(String, OrderedJson)],
    path: &str,
    position: &dyn Fn(&str) -> Option<(usize, usize)>,
) {
    for (key, value) in fields.iter_mut() {
        order_value(value, &format!("{path}.{key}"), position);
    }
    // A key the reader did not record keeps its place after the recorded ones (stable sort).
    fields.sort_by_key(|(key, _)| position(&format!("{path}.{key}")).unwrap_or((usize::MAX, 0)));
}

fn order_value(
    value: &mut OrderedJson,
    path: &str,
    position: &dyn Fn(&str) -> Option<(usize, usize)>,
) {
    match value {
        OrderedJson::Object(fields) => order_fields(fields, path, position),
        OrderedJson::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                order_value(item, &format!("{path}[{index}]"), position);
            }
        }
        OrderedJson::Null
        | OrderedJson::Bool(_)
        | OrderedJson::Number(_)
        | OrderedJson::String(_) => {}
    }
}

impl OrderedJson {
    /// As a `serde_json` value (object keys sorted).
    pub fn to_json(&self) -> Value {
        match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => Value::Number(n.clone()),
            Self::String(s) => Value::String(s.clone()),
            Self::Array(items) => Value::Array(items.iter().map(Self::to_json).collect()),
            Self::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl From<Map<String, Value>> for MongoCommand {
    /// A command from a `serde_json` object (in its key order, sorted without
    /// `preserve_order`).
    fn from(object: Map<String, Value>) -> Self {
        Self {
            fields: object
                .into_iter()
                .map(|(k, v)| (k, OrderedJson::from(v)))
                .collect(),
            written_as_text: false,
        }
    }
}

impl From<Value> for OrderedJson {
    fn from(value: Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(b),
            Value::Number(n) => Self::Number(n),
            Value::String(s) => Self::String(s),
            Value::Array(items) => Self::Array(items.into_iter().map(Self::from).collect()),
            Value::Object(fields) => Self::Object(
                fields
                    .into_iter()
                    .map(|(k, v)| (k, Self::from(v)))
                    .collect(),
            ),
        }
    }
}

impl Serialize for OrderedJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(fields) => serialize_fields(fields, serializer),
        }
    }
}

fn serialize_fields<S: Serializer>(
    fields: &[(String, OrderedJson)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(fields.len()))?;
    for (key, value) in fields {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

impl Serialize for MongoCommand {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.written_as_text {
            let text = serde_json::to_string(&OrderedJson::Object(self.fields.clone()))
                .map_err(serde::ser::Error::custom)?;
            serializer.serialize_str(&text)
        } else {
            serialize_fields(&self.fields, serializer)
        }
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = OrderedJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_none<E>(self) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<OrderedJson, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E>(self, v: bool) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<OrderedJson, E> {
        Ok(OrderedJson::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<OrderedJson, E> {
        Number::from_f64(v)
            .map(OrderedJson::Number)
            .ok_or_else(|| E::custom(format!("{v} is not a JSON number")))
    }

    fn visit_str<E>(self, v: &str) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<OrderedJson, E> {
        Ok(OrderedJson::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedJson, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OrderedJson::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<OrderedJson, A::Error> {
        Ok(OrderedJson::Object(ordered_fields(map)?))
    }
}

fn ordered_fields<'de, A: MapAccess<'de>>(
    mut map: A,
) -> Result<Vec<(String, OrderedJson)>, A::Error> {
    let mut fields: Vec<(String, OrderedJson)> = Vec::new();
    while let Some(key) = map.next_key::<String>()? {
        if fields.iter().any(|(k, _)| *k == key) {
            return Err(de::Error::custom(format!(
                "duplicate key \"{key}\"; a key may appear once"
            )));
        }
        let value = map.next_value()?;
        fields.push((key, value));
    }
    Ok(fields)
}

impl<'de> Deserialize<'de> for OrderedJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct CommandVisitor;

impl<'de> Visitor<'de> for CommandVisitor {
    type Value = MongoCommand;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a MongoDB command: a mapping, or a string holding a JSON object")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<MongoCommand, E> {
        MongoCommand::parse_text(v).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<MongoCommand, A::Error> {
        Ok(MongoCommand {
            fields: ordered_fields(map)?,
            written_as_text: false,
        })
    }
}

impl<'de> Deserialize<'de> for MongoCommand {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CommandVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(fields: &[(String, OrderedJson)]) -> Vec<&str> {
        fields.iter().map(|(k, _)| k.as_str()).collect()
    }

    fn index_key(command: &MongoCommand) -> Vec<&str> {
        let OrderedJson::Array(indexes) = &command.fields()[1].1 else {
            panic!("indexes")
        };
        let OrderedJson::Object(index) = &indexes[0] else {
            panic!("index")
        };
        let OrderedJson::Object(key) = &index[0].1 else {
            panic!("key")
        };
        keys(key)
    }

    #[test]
    fn json_text_keeps_its_key_order_and_serialises_back_as_text() {
        let text = r#"{"createIndexes": "posts", "indexes": [{"key": {"b": 1, "a": -1}, "name": "b_1_a_-1"}]}"#;
        let command: MongoCommand =
            serde_json::from_value(Value::String(text.into())).expect("a command");
        assert!(command.written_as_text());
        assert_eq!(keys(command.fields()), ["createIndexes", "indexes"]);
        assert_eq!(index_key(&command), ["b", "a"]);
        let back = serde_json::to_value(&command).expect("serialises");
        assert_eq!(
            back,
            Value::String(text.replace(": ", ":").replace(", ", ","))
        );
    }

    #[cfg(feature = "kubernetes")]
    #[test]
    fn yaml_mappings_keep_their_key_order() {
        let yaml = "createIndexes: posts\nindexes:\n  - key: {b: 1, a: -1}\n    name: b_a\n";
        let command: MongoCommand = serde_yaml_ng::from_str(yaml).expect("a command");
        assert!(!command.written_as_text());
        assert_eq!(index_key(&command), ["b", "a"]);
        let json = serde_json::to_string(&command).expect("serialises");
        assert_eq!(
            json,
            r#"{"createIndexes":"posts","indexes":[{"key":{"b":1,"a":-1},"name":"b_a"}]}"#
        );
    }

    #[test]
    fn the_checksum_input_is_the_sorted_json_as_before() {
        let command =
            MongoCommand::parse_text(r#"{"insert": "users", "documents": [{"b": 1, "a": 2}]}"#)
                .expect("a command");
        let sorted = serde_json::to_string(&command.to_sorted_json()).expect("json");
        assert_eq!(sorted, r#"{"documents":[{"a":2,"b":1}],"insert":"users"}"#);
    }

    #[test]
    fn positions_in_the_file_put_sorted_keys_back_in_order() {
        let sorted: Map<String, Value> = serde_json::from_str(
            r#"{"createIndexes": "posts", "indexes": [{"key": {"a": -1, "b": 1}, "name": "x"}]}"#,
        )
        .expect("json");
        let mut command = MongoCommand::from(sorted);
        let position = |path: &str| match path {
            "c.createIndexes" => Some((1, 1)),
            "c.indexes" => Some((2, 1)),
            "c.indexes[0].key" => Some((3, 5)),
            "c.indexes[0].key.b" => Some((3, 11)),
            "c.indexes[0].key.a" => Some((3, 17)),
            "c.indexes[0].name" => Some((4, 5)),
            _ => None,
        };
        command.order_by_position("c", &position);
        assert_eq!(index_key(&command), ["b", "a"]);
    }

    #[test]
    fn duplicate_keys_and_non_objects_are_refused() {
        let error = MongoCommand::parse_text(r#"{"ping": 1, "ping": 2}"#).expect_err("duplicate");
        assert!(error.contains("duplicate key \"ping\""), "{error}");
        let error = MongoCommand::parse_text("[1]").expect_err("a list");
        assert!(error.contains("not an object"), "{error}");
        assert!(serde_json::from_value::<MongoCommand>(Value::from(3)).is_err());
    }
}
