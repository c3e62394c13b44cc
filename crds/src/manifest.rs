//! Reading manifest files: multi-document YAML, files or directories, checked the way the API
//! server checks them (structural schema) and then by each resource's `validate()`.
//!
//! # Expected flow
//! `load_manifests(paths)` → `ManifestSet` holding every document it understood and every
//! problem it found (YAML syntax with file, line and column; schema; semantics). Callers print
//! `problems` and stop when there are any; otherwise they use the typed resources.
//!
//! ```
//! use fox_crds::manifest::{ManifestSet, parse_manifests};
//!
//! let yaml = r#"
//! apiVersion: foxdb.dev/v1alpha1
//! kind: FoxSchema
//! metadata: {name: blog}
//! spec:
//!   databaseRef: {name: blog-db}
//!   tables:
//!     - name: users
//!       columns:
//!         - {name: id, type: bigserial, primaryKey: true}
//!         - {name: email, type: strin}
//! "#;
//! let mut set = ManifestSet::default();
//! parse_manifests("blog.yaml".as_ref(), yaml, &mut set);
//! assert_eq!(set.problems.len(), 1);
//! assert!(set.problems[0].to_string().contains("spec.tables[0].columns[1].type: unknown type \"strin\""));
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use k8s_openapi::api::core::v1::Secret;
use kube::CustomResourceExt;
use serde::Deserialize;
use serde_json::Value;

use crate::compact_column::{compact_column_from_value, compact_entry};
use crate::migration::FoxMigration;
use crate::replica_set::FoxReplicaSet;
use crate::schema::{ColumnSpec, FoxSchema};
use crate::structural::check_structure;
use crate::validation::{Problem, Problems, ValidationError};
pub use crate::yaml_reader::FieldLines;
use crate::yaml_reader::read_yaml;

/// API version of every FoxDB resource.
pub const API_VERSION: &str = "foxdb.dev/v1alpha1";

/// Where a document came from: file and position in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The file.
    pub file: PathBuf,
    /// 0-based index of the document within the file.
    pub document: usize,
    /// 1-based line where the document starts, when known.
    pub line: Option<usize>,
    /// Line of each field of the document.
    pub fields: FieldLines,
}

impl Origin {
    /// `file:line:column` of the field at `path` (`spec.version`), or of its nearest written
    /// parent.
    pub fn at(&self, path: &str) -> String {
        match (self.fields.position_of(path), self.line) {
            (Some((line, column)), _) => format!("{}:{line}:{column}", self.file.display()),
            (None, Some(line)) => format!("{}:{line}", self.file.display()),
            (None, None) => self.to_string(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(
                f,
                "{} (document {})",
                self.file.display(),
                self.document + 1
            ),
        }
    }
}

/// One resource read from a manifest.
#[derive(Clone, Debug)]
pub enum Resource {
    /// A `FoxReplicaSet`.
    ReplicaSet(Box<FoxReplicaSet>),
    /// A `FoxSchema`.
    Schema(Box<FoxSchema>),
    /// A `FoxMigration`.
    Migration(Box<FoxMigration>),
    /// A core `Secret` (connection URLs for the cluster-free commands).
    Secret(Box<Secret>),
    /// Any other Kubernetes object; kept so directories of mixed manifests can be read.
    Other {
        /// `apiVersion` of the object.
        api_version: String,
        /// `kind` of the object.
        kind: String,
    },
}

/// A resource and where it came from.
#[derive(Clone, Debug)]
pub struct Document {
    /// Where it was read.
    pub origin: Origin,
    /// What was read.
    pub resource: Resource,
}

/// A problem found in a file, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    /// The file, with line (and column) where known.
    pub location: String,
    /// `Kind/name` of the object, when the document got that far.
    pub object: Option<String>,
    /// The problem.
    pub problem: Problem,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.object {
            Some(object) => write!(f, "{}: {object}: {}", self.location, self.problem),
            None => write!(f, "{}: {}", self.location, self.problem),
        }
    }
}

/// Everything read from a set of paths.
#[derive(Clone, Debug, Default)]
pub struct ManifestSet {
    /// Documents that parsed and passed the schema check.
    pub documents: Vec<Document>,
    /// Every problem found, in file order.
    pub problems: Vec<FileProblem>,
}

impl ManifestSet {
    /// The FoxSchemas read.
    pub fn schemas(&self) -> impl Iterator<Item = (&Origin, &FoxSchema)> {
        self.documents.iter().filter_map(|d| match &d.resource {
            Resource::Schema(s) => Some((&d.origin, s.as_ref())),
            _ => None,
        })
    }

    /// The FoxReplicaSets read.
    pub fn replica_sets(&self) -> impl Iterator<Item = (&Origin, &FoxReplicaSet)> {
        self.documents.iter().filter_map(|d| match &d.resource {
            Resource::ReplicaSet(r) => Some((&d.origin, r.as_ref())),
            _ => None,
        })
    }

    /// The FoxMigrations read.
    pub fn migrations(&self) -> impl Iterator<Item = (&Origin, &FoxMigration)> {
        self.documents.iter().filter_map(|d| match &d.resource {
            Resource::Migration(m) => Some((&d.origin, m.as_ref())),
            _ => None,
        })
    }

    /// The Secrets read.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> {
        self.documents.iter().filter_map(|d| match &d.resource {
            Resource::Secret(s) => Some(s.as_ref()),
            _ => None,
        })
    }

    /// Value of `key` in Secret `name` (from `stringData` or base64 `data`).
    pub fn secret_value(&self, name: &str, key: &str) -> Option<String> {
        let secret = self
            .secrets()
            .find(|s| s.metadata.name.as_deref() == Some(name))?;
        if let Some(value) = secret.string_data.as_ref().and_then(|d| d.get(key)) {
            return Some(value.clone());
        }
        let bytes = secret.data.as_ref()?.get(key)?;
        String::from_utf8(bytes.0.clone()).ok()
    }
}

/// Errors that stop reading altogether (as opposed to problems inside manifests).
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// A path could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A path held no manifest files.
    #[error("{path}: no .yaml, .yml or .json files found")]
    Empty {
        /// The path.
        path: PathBuf,
    },
}

/// Reads every `.yaml`, `.yml` and `.json` file under the given files and directories (sorted,
/// recursively), parses each document and checks it.
///
/// # Errors
/// Only when a path cannot be read or holds no manifest; problems inside manifests are
/// collected in [`ManifestSet::problems`].
pub fn load_manifests(paths: &[PathBuf]) -> Result<ManifestSet, ManifestError> {
    let mut set = ManifestSet::default();
    for path in paths {
        let files = manifest_files(path)?;
        if files.is_empty() {
            return Err(ManifestError::Empty { path: path.clone() });
        }
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| ManifestError::Read {
                path: file.clone(),
                source,
            })?;
            parse_manifests(&file, &text, &mut set);
        }
    }
    Ok(set)
}

fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    let read_error = |source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(read_error)?;
    if metadata.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(read_error)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            files.extend(manifest_files(&entry)?);
        } else if matches!(
            entry.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(entry);
        }
    }
    Ok(files)
}

/// Parses the documents of one file's text into `set`.
///
/// Every problem points at the line of the field it concerns (or of its nearest enclosing
/// field that is written). Duplicate keys, aliases, non-core tags and numbers JSON cannot hold
/// make a document unusable (see the `yaml_reader` module); the rest of such a document is
/// still checked for problems.
pub fn parse_manifests(file: &Path, text: &str, set: &mut ManifestSet) {
    let stream = read_yaml(text);
    for document in stream.documents {
        let origin = Origin {
            file: file.to_path_buf(),
            document: document.index,
            line: Some(document.line),
            fields: document.lines,
        };
        if !document.problems.is_empty() {
            let object = object_name(&document.value);
            let reported: Vec<String> = document.problems.iter().map(|p| p.path.clone()).collect();
            set.problems
                .extend(document.problems.into_iter().map(|problem| FileProblem {
                    location: format!("{}:{}", file.display(), problem.line),
                    object: object.clone(),
                    problem: Problem {
                        path: problem.path,
                        message: problem.message,
                    },
                }));
            // The rest of the document is still checked, so one run shows every problem; the
            // document itself is not kept. A document cut short (by an alias, say) is not.
            if document.complete && !document.value.is_null() {
                let mut rest = ManifestSet::default();
                read_document(origin, document.value, &mut rest);
                // A value the reader refused reads as null: its field is not reported twice.
                set.problems
                    .extend(rest.problems.into_iter().filter(|found| {
                        !reported.iter().any(|path| {
                            found.problem.path == *path
                                || found.problem.path.starts_with(&format!("{path}."))
                                || found.problem.path.starts_with(&format!("{path}["))
                        })
                    }));
            }
            continue;
        }
        if document.value.is_null() {
            continue;
        }
        read_document(origin, document.value, set);
    }
    if let Some(error) = stream.syntax_error {
        set.problems.push(FileProblem {
            location: format!("{}:{}:{}", file.display(), error.line, error.column),
            object: None,
            problem: Problem {
                path: String::new(),
                message: format!(
                    "YAML syntax error: {} at line {} column {}",
                    error.message, error.line, error.column
                ),
            },
        });
    }
}

/// `Kind/name` of a document, when it says.
fn object_name(value: &Value) -> Option<String> {
    let kind = value.get("kind").and_then(Value::as_str)?;
    let name = value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("<unnamed>");
    Some(format!("{kind}/{name}"))
}

fn read_document(origin: Origin, value: Value, set: &mut ManifestSet) {
    let location = |path: &str| origin.at(path);
    let field = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
    let (Some(api_version), Some(kind)) = (field("apiVersion"), field("kind")) else {
        set.problems.push(FileProblem {
            location: location(""),
            object: None,
            problem: Problem {
                path: String::new(),
                message: "not a Kubernetes object: apiVersion and kind are required".into(),
            },
        });
        return;
    };
    let object = object_name(&value);
    let mut problems = Problems::default();
    if value
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_none()
    {
        problems.add("metadata.name", "required field is missing");
    }
    let resource = match (api_version.as_str(), kind.as_str()) {
        (API_VERSION, "FoxReplicaSet") => {
            typed::<FoxReplicaSet>(&value, &mut problems, |r| r.validate())
                .map(|r| Resource::ReplicaSet(Box::new(r)))
        }
        (API_VERSION, "FoxSchema") => typed::<FoxSchema>(&value, &mut problems, |s| s.validate())
            .map(|s| Resource::Schema(Box::new(s))),
        (API_VERSION, "FoxMigration") => {
            typed::<FoxMigration>(&value, &mut problems, |m| m.validate()).map(|mut m| {
                keep_command_key_order(&mut m, &origin.fields);
                Resource::Migration(Box::new(m))
            })
        }
        (group_version, fox_kind) if group_version.starts_with("foxdb.dev/") => {
            problems.add(
                "kind",
                format!("unknown FoxDB resource {group_version} {fox_kind}; known: {API_VERSION} FoxReplicaSet, FoxSchema, FoxMigration"),
            );
            None
        }
        ("v1", "Secret") => match serde_path_to_error::deserialize::<_, Secret>(value.clone()) {
            Ok(secret) => Some(Resource::Secret(Box::new(secret))),
            Err(error) => {
                let path = error.path().to_string();
                let path = if path == "." { String::new() } else { path };
                problems.add(path, format!("invalid Secret: {}", error.into_inner()));
                None
            }
        },
        _ => Some(Resource::Other { api_version, kind }),
    };
    if let Err(error) = problems.into_result() {
        set.problems
            .extend(error.problems.into_iter().map(|problem| FileProblem {
                location: location(&problem.path),
                object: object.clone(),
                problem,
            }));
        return;
    }
    if let Some(resource) = resource {
        set.documents.push(Document { origin, resource });
    }
}

/// Puts the keys of a migration's MongoDB commands back in the order the file writes them
/// (the reader's JSON sorts them; MongoDB reads a compound index key or a sort in order).
fn keep_command_key_order(migration: &mut FoxMigration, fields: &FieldLines) {
    let position = |path: &str| fields.exact_position(path);
    for (field, commands) in [
        ("upCommands", migration.spec.up_commands.as_mut()),
        ("downCommands", migration.spec.down_commands.as_mut()),
    ] {
        for (index, command) in commands.into_iter().flatten().enumerate() {
            command.order_by_position(&format!("spec.{field}[{index}]"), &position);
        }
    }
}

/// Schema check, then typed parse, then `validate()`; every step adds its problems.
fn typed<K>(
    value: &Value,
    problems: &mut Problems,
    validate: impl Fn(&K) -> Result<(), ValidationError>,
) -> Option<K>
where
    K: CustomResourceExt + for<'de> Deserialize<'de>,
{
    let before = problems.len();
    // The API server handles apiVersion, kind and metadata itself; the CRD schema covers the rest.
    let mut body = value.clone();
    if let Some(fields) = body.as_object_mut() {
        for implicit in ["apiVersion", "kind", "metadata"] {
            fields.remove(implicit);
        }
    }
    expand_compact_columns(&mut body);
    check_structure(&body, open_api_schema::<K>(), "", problems);
    let structural_ok = problems.len() == before;
    let reported: std::collections::HashSet<String> =
        problems.paths().skip(before).map(str::to_string).collect();
    let resource = typed_parse::<K>(value, &reported, problems)?;
    // Semantic checks run even after schema problems (a bound violated by a value that still
    // parses), so one run shows everything; a field already reported is skipped.
    if let Err(error) = validate(&resource) {
        for problem in error.problems {
            if !reported.contains(&problem.path) {
                problems.add(problem.path, problem.message);
            }
        }
        return None;
    }
    structural_ok.then_some(resource)
}

/// Most type errors one document reports: past this, fixing the file is the next step anyway.
const MAX_TYPE_ERRORS: usize = 20;

/// Parses `value` as `K`, adding each type error the schema check did not already report at its
/// field path (a scalar field given a list or mapping). After an error the field is set to null
/// and parsing is retried, so every such field is reported in one run.
fn typed_parse<K>(
    value: &Value,
    reported: &std::collections::HashSet<String>,
    problems: &mut Problems,
) -> Option<K>
where
    K: for<'de> Deserialize<'de>,
{
    let mut attempt = value.clone();
    let mut failed = false;
    for _ in 0..MAX_TYPE_ERRORS {
        let error = match serde_path_to_error::deserialize::<_, K>(attempt.clone()) {
            Ok(resource) => return (!failed).then_some(resource),
            Err(error) => error,
        };
        failed = true;
        let path = error.path().to_string();
        let path = if path == "." { String::new() } else { path };
        // "missing field `x`" at `spec.a` is the schema check's "spec.a.x: required field".
        let near_reported = reported
            .iter()
            .any(|r| r == &path || r.starts_with(&path) || path.starts_with(r.as_str()));
        if !near_reported {
            problems.add(path, error.inner().to_string());
        }
        match field_mut(&mut attempt, error.path()) {
            Some(field) if !field.is_null() => *field = Value::Null,
            _ => return None,
        }
    }
    None
}

/// The value at a deserializer path, when every step is a map key or list index.
fn field_mut<'v>(value: &'v mut Value, path: &serde_path_to_error::Path) -> Option<&'v mut Value> {
    let mut current = value;
    for segment in path.iter() {
        current = match segment {
            serde_path_to_error::Segment::Map { key } => current.get_mut(key.as_str())?,
            serde_path_to_error::Segment::Seq { index } => current.get_mut(*index)?,
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {
                return None;
            }
        };
    }
    Some(current)
}

/// The `openAPIV3Schema` of a resource kind, computed once.
fn open_api_schema<K: CustomResourceExt>() -> &'static Value {
    static SCHEMAS: OnceLock<std::collections::HashMap<String, Value>> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(|| {
        crate::crdgen::custom_resource_definitions()
            .into_iter()
            .filter_map(|crd| {
                let schema = crd
                    .spec
                    .versions
                    .first()?
                    .schema
                    .as_ref()?
                    .open_api_v3_schema
                    .as_ref()?;
                let mut schema = serde_json::to_value(schema).ok()?;
                hold_columns_to_the_full_form(&mut schema);
                Some((crd.spec.names.kind.clone(), schema))
            })
            .collect()
    });
    // `api_resource()` is static data; `crd()` would generate the whole schema on every call.
    let kind = K::api_resource().kind;
    schemas.get(&kind).unwrap_or(&Value::Null)
}

/// Where a FoxSchema's column items are described in its `openAPIV3Schema`.
const COLUMN_ITEM_SCHEMA: &str =
    "/properties/spec/properties/tables/items/properties/columns/items";

/// The CRD keeps unknown fields of a column item, so the compact form's single key passes the
/// API server. Here compact items are expanded before the check ([`expand_compact_columns`]),
/// so every item is held to the full form: `name` and `type` required, unknown fields reported
/// (`nulable`, with its likely spelling).
fn hold_columns_to_the_full_form(schema: &mut Value) {
    if let Some(Value::Object(item)) = schema.pointer_mut(COLUMN_ITEM_SCHEMA) {
        item.remove("x-kubernetes-preserve-unknown-fields");
        item.insert("required".into(), serde_json::json!(["name", "type"]));
    }
}

/// Replaces each compact column of a FoxSchema body by the full form it reads as, for the
/// structural check. A compact column that does not read becomes a bare full-form column: its
/// problem is reported once, by `validate()`, at the column.
fn expand_compact_columns(body: &mut Value) {
    let Some(Value::Array(tables)) = body.pointer_mut("/spec/tables") else {
        return;
    };
    for table in tables {
        let Some(Value::Array(columns)) = table.get_mut("columns") else {
            continue;
        };
        for item in columns {
            let Some((name, value)) = item.as_object().and_then(compact_entry) else {
                continue;
            };
            let column = compact_column_from_value(name, value).unwrap_or_else(|_| ColumnSpec {
                name: name.clone(),
                ..ColumnSpec::default()
            });
            if let Ok(expanded) = serde_json::to_value(column) {
                *item = expanded;
            }
        }
    }
}
