//! `FoxSchema`: the declared tables (or MongoDB collections) of a database.

use std::collections::BTreeMap;
use std::fmt;

#[cfg(feature = "kubernetes")]
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
#[cfg(feature = "kubernetes")]
use kube::CustomResource;
#[cfg(feature = "kubernetes")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::compact_column::{compact_column_from_value, compact_entry};
use crate::references::DatabaseRef;
use crate::scalar::Scalar;

/// The desired schema of one database: tables with columns, keys, indexes and relations (SQL
/// engines) or collections (MongoDB), plus seed data and the policy for applying changes.
///
/// The engine introspects the live database, plans the difference, refuses destructive changes
/// unless the policy allows them, and applies the rest under a database lock.
// `printcolumn(...)` repeats its keys once per column by design.
#[allow(clippy::duplicated_attributes)]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(CustomResource, JsonSchema))]
#[cfg_attr(
    feature = "kubernetes",
    kube(
        group = "foxdb.dev",
        version = "v1alpha1",
        kind = "FoxSchema",
        namespaced,
        status = "FoxSchemaStatus",
        shortname = "fxs",
        category = "fox",
        derive = "PartialEq",
        derive = "Default",
        doc = "Declared tables or collections of a FoxDB database, kept in sync by the operator.",
        printcolumn(
            name = "Database",
            type_ = "string",
            json_path = ".spec.databaseRef.name"
        ),
        printcolumn(
            name = "Ready",
            type_ = "string",
            json_path = ".status.conditions[?(@.type==\"Ready\")].status"
        ),
        printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
        printcolumn(
            name = "Plan",
            type_ = "string",
            json_path = ".status.plan.hash",
            priority = 1
        ),
        printcolumn(
            name = "Reason",
            type_ = "string",
            json_path = ".status.conditions[?(@.type==\"Ready\")].reason"
        ),
        printcolumn(
            name = "Message",
            type_ = "string",
            json_path = ".status.conditions[?(@.type==\"Ready\")].message",
            priority = 1
        ),
        printcolumn(
            name = "Age",
            type_ = "date",
            json_path = ".metadata.creationTimestamp"
        )
    )
)]
#[serde(rename_all = "camelCase")]
pub struct FoxSchemaSpec {
    /// The FoxReplicaSet whose primary receives the schema. Immutable: point another database
    /// with another FoxSchema.
    #[cfg_attr(
        feature = "kubernetes",
        schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "databaseRef is immutable; declare the other database with its own FoxSchema"}]))
    )]
    pub database_ref: DatabaseRef,
    /// How changes are applied: destructive changes, approval, lock timeout.
    #[serde(default)]
    pub policy: SchemaPolicy,
    /// Tables of a SQL database (PostgreSQL, MySQL/MariaDB, SQLite).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableSpec>,
    /// Collections of a MongoDB database.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<CollectionSpec>,
    /// Rows upserted by primary key after the schema is applied, in dependency order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seed: Vec<SeedSpec>,
    /// The tenants to apply the tables to, instead of the database of `databaseRef`: a
    /// schema (MySQL database) each on its server, or a database each. See
    /// docs/multi-tenancy.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<crate::tenants::TenantsSpec>,
}

/// How the engine may change the database.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SchemaPolicy {
    /// Allow changes that can lose data (dropping tables, columns or indexes, narrowing types,
    /// making a column holding NULLs NOT NULL). Off by default: such a plan is refused and
    /// listed instead.
    #[serde(default)]
    pub allow_destructive: bool,
    /// Stop after planning; apply only once the plan's hash is approved (`fox apply --approve
    /// HASH`, or the annotation `foxdb.dev/approve-plan: HASH` in a cluster).
    #[serde(default)]
    pub require_approval: bool,
    /// How long to wait for the database lock held by another applier before giving up.
    #[serde(default = "default_lock_timeout_seconds")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 0, max = 3600)))]
    pub lock_timeout_seconds: u32,
    /// Create an index for every foreign key column that no declared index starts with
    /// (joins and cascading deletes need one on every engine). On by default.
    #[serde(default = "default_true")]
    pub auto_index_foreign_keys: bool,
    /// What the operator does when the database drifted from an applied schema (someone
    /// changed it by hand): `Report` (the default) sets the `Drifted` condition and shows the
    /// plan that would repair it; `Reapply` applies that plan under the same policy.
    #[serde(default)]
    pub on_drift: DriftPolicy,
}

/// What to do when the live database no longer matches an applied FoxSchema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
pub enum DriftPolicy {
    /// Report the drift (condition `Drifted`, the repair plan in status); change nothing.
    #[default]
    Report,
    /// Apply the repair plan (destructive items still need `allowDestructive`).
    Reapply,
}

impl Default for SchemaPolicy {
    fn default() -> Self {
        Self {
            allow_destructive: false,
            require_approval: false,
            lock_timeout_seconds: default_lock_timeout_seconds(),
            auto_index_foreign_keys: true,
            on_drift: DriftPolicy::Report,
        }
    }
}

fn default_lock_timeout_seconds() -> u32 {
    30
}

fn default_true() -> bool {
    true
}

/// One table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct TableSpec {
    /// Table name. Any identifier of at most 63 bytes; reserved words such as `order` or `user`
    /// are fine, every engine quotes them.
    #[cfg_attr(
        feature = "kubernetes",
        schemars(length(min = 1, max = crate::identifier::MAX_IDENTIFIER_BYTES), pattern(crate::identifier::IDENTIFIER_PATTERN))
    )]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(extend("x-kubernetes-validations" = [{"rule": crate::identifier::RESERVED_PREFIX_RULE, "message": "names starting with _fox_ (FoxDB's own tables) or sqlite_ (SQLite's), in any case, are reserved"}]))
    )]
    pub name: String,
    /// Columns in order, each in the full form (`{name: email, type: text, unique: true}`) or
    /// the compact one (`email: text unique`; see docs/schema.md, "Compact columns").
    #[serde(deserialize_with = "deserialize_columns")]
    pub columns: Vec<ColumnSpec>,
    /// Table-level primary key, for composite keys. Use either this or `primaryKey: true` on
    /// columns, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Vec<String>>,
    /// Secondary indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<IndexSpec>,
    /// Relations to other tables; they generate the foreign key column, constraint and join
    /// table they need when those are not declared (see docs/schema.md, "Relations").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<RelationSpec>,
    /// Former names of this table: a live table with one of these names is renamed instead of
    /// dropped and re-created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_names: Vec<String>,
    /// Audit log of row changes.
    #[serde(default)]
    pub audit: AuditSpec,
    /// Publish row changes to subscribers (client subscriptions).
    #[serde(default)]
    pub realtime: bool,
    /// Days this table's changes stay in the change log (`_fox_changes`) when `realtime` is
    /// on: the operator's reconcile deletes older ones, never one a durable named subscriber
    /// has not acknowledged. Unset: kept until `fox realtime prune`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 1, max = 36500)))]
    pub realtime_retention_days: Option<u32>,
    /// Row-per-tenant isolation: the column naming each row's tenant (a NOT NULL `char(n)`,
    /// `varchar(n)` or `text` column of this table). Clients reach the table through a tenant
    /// handle that filters and fills it (`#[foxdb(tenant)]` on the model's field); on
    /// PostgreSQL `fox apply` also installs a row-level security policy keyed on the session
    /// setting `foxdb.tenant`. See docs/multi-tenancy.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_column: Option<String>,
}

/// One column, in the full form (these fields) or the compact one, a single key such as
/// `email: varchar(255) unique`.
// Both forms read into this type (see `crate::compact_column`). The CRD admits both: a column
// item keeps unknown fields (the compact form's single key), and the API server checks that a
// full-form item names both `name` and `type`; `validate()` checks the rest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[cfg_attr(
    feature = "kubernetes",
    schemars(transform = compact_or_full_column_schema)
)]
#[serde(rename_all = "camelCase")]
pub struct ColumnSpec {
    /// Column name.
    #[cfg_attr(
        feature = "kubernetes",
        schemars(length(min = 1, max = crate::identifier::MAX_IDENTIFIER_BYTES), pattern(crate::identifier::IDENTIFIER_PATTERN))
    )]
    pub name: String,
    /// Portable type: smallint, integer, bigint, serial, bigserial, boolean, real, double,
    /// decimal(p,s), char(n), varchar(n), text, date, time, timestamp, timestamptz, uuid, json,
    /// bytes, enum(a,b,...).
    #[serde(rename = "type")]
    pub type_: String,
    /// Whether NULL is allowed. Columns are NOT NULL unless this is true.
    #[serde(default)]
    pub nullable: bool,
    /// Part of the primary key (single-column form).
    #[serde(default)]
    pub primary_key: bool,
    /// Values must be unique.
    #[serde(default)]
    pub unique: bool,
    /// Default value: a literal (string, number, boolean) or one of the portable expressions
    /// `now()`, `current_date`, `current_time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Scalar>,
    /// Foreign key to a column of another (or the same) table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<ForeignKeySpec>,
    /// Former names of this column: renamed instead of dropped and re-added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub previous_names: Vec<String>,
    /// Why the compact text this column was written as does not read, if it does not:
    /// `validate()` reports it at the column. (Reading never fails on it, so an object the API
    /// server stored always reaches validation instead of breaking the operator's watch.)
    #[serde(skip)]
    pub compact_problem: Option<String>,
}

/// Reads a column list whose items are full-form columns or compact ones.
fn deserialize_columns<'de, D>(deserializer: D) -> Result<Vec<ColumnSpec>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let items = Vec::<serde_json::Value>::deserialize(deserializer)?;
    items
        .into_iter()
        .enumerate()
        .map(|(index, item)| {
            if let Some((name, value)) = item.as_object().and_then(compact_entry) {
                return Ok(
                    compact_column_from_value(name, value).unwrap_or_else(|problem| ColumnSpec {
                        name: name.clone(),
                        compact_problem: Some(problem.to_string()),
                        ..ColumnSpec::default()
                    }),
                );
            }
            ColumnSpec::deserialize(item)
                .map_err(|error| serde::de::Error::custom(format!("column {index}: {error}")))
        })
        .collect()
}

/// The CRD schema of a column item: the full form's fields, checked when written, and the
/// compact form's single key kept (a structural schema cannot say "this object or a one-key
/// map of strings"); `validate()` reads and checks compact items.
#[cfg(feature = "kubernetes")]
fn compact_or_full_column_schema(schema: &mut schemars::Schema) {
    schema.remove("required");
    // The API server would otherwise add `nullable: false` and the like to a compact item,
    // which would then no longer be a single key; the reader applies the same defaults.
    if let Some(serde_json::Value::Object(properties)) = schema.get_mut("properties") {
        for property in properties.values_mut() {
            if let Some(property) = property.as_object_mut() {
                property.remove("default");
            }
        }
    }
    schema.insert(
        "x-kubernetes-preserve-unknown-fields".into(),
        serde_json::Value::Bool(true),
    );
    schema.insert(
        "x-kubernetes-validations".into(),
        serde_json::json!([{
            "rule": "has(self.name) == has(self.type)",
            "message": "a column is written in full, with both name and type ({name: email, type: text}), or compact, as one key (email: text unique)"
        }]),
    );
}

/// A foreign key declared on a column.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ForeignKeySpec {
    /// Referenced table.
    #[cfg_attr(
        feature = "kubernetes",
        schemars(length(min = 1, max = crate::identifier::MAX_IDENTIFIER_BYTES), pattern(crate::identifier::IDENTIFIER_PATTERN))
    )]
    pub table: String,
    /// Referenced column; must be the table's single-column primary key or unique. Defaults to
    /// the referenced table's primary key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What happens to this row when the referenced row is deleted.
    #[serde(default)]
    pub on_delete: ReferentialAction,
    /// What happens to this row when the referenced key changes.
    #[serde(default)]
    pub on_update: ReferentialAction,
    /// Constraint name; defaults to `<table>_<column>_fkey`, shortened with a hash when longer
    /// than 63 bytes. Set it to keep the name an existing database already uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(length(min = 1, max = crate::identifier::MAX_IDENTIFIER_BYTES), pattern(crate::identifier::IDENTIFIER_PATTERN))
    )]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(extend("x-kubernetes-validations" = [{"rule": crate::identifier::RESERVED_PREFIX_RULE, "message": "names starting with _fox_ (FoxDB's own tables) or sqlite_ (SQLite's), in any case, are reserved"}]))
    )]
    pub name: Option<String>,
}

/// Referential action of a foreign key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum ReferentialAction {
    /// Refuse the change while referencing rows exist (checked at the end of the statement).
    #[default]
    NoAction,
    /// Refuse the change while referencing rows exist (checked immediately).
    Restrict,
    /// Delete or update the referencing rows too.
    Cascade,
    /// Set the referencing column to NULL (the column must be nullable).
    SetNull,
}

/// How plans and messages name the action: `no action`, `restrict`, `cascade`, `set null`.
/// (The SQL spelling belongs to the client's dialects.)
impl fmt::Display for ReferentialAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NoAction => "no action",
            Self::Restrict => "restrict",
            Self::Cascade => "cascade",
            Self::SetNull => "set null",
        })
    }
}

/// A secondary index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct IndexSpec {
    /// Indexed columns, in order.
    #[cfg_attr(
        feature = "kubernetes",
        schemars(inner(length(min = 1, max = crate::identifier::MAX_IDENTIFIER_BYTES), pattern(crate::identifier::IDENTIFIER_PATTERN)))
    )]
    pub columns: Vec<String>,
    /// Whether the indexed values must be unique.
    #[serde(default)]
    pub unique: bool,
    /// Index name; defaults to `<table>_<columns>_idx` (`_key` when unique), shortened with a
    /// hash when longer than 63 bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(length(min = 1, max = crate::identifier::MAX_IDENTIFIER_BYTES), pattern(crate::identifier::IDENTIFIER_PATTERN))
    )]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(extend("x-kubernetes-validations" = [{"rule": crate::identifier::RESERVED_PREFIX_RULE, "message": "names starting with _fox_ (FoxDB's own tables) or sqlite_ (SQLite's), in any case, are reserved"}]))
    )]
    pub name: Option<String>,
}

/// A relation between this table and another one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RelationSpec {
    /// Name of the relation, used by the client (`user.posts()`); must differ from column names.
    #[cfg_attr(
        feature = "kubernetes",
        schemars(length(min = 1, max = crate::identifier::MAX_IDENTIFIER_BYTES), pattern(crate::identifier::IDENTIFIER_PATTERN))
    )]
    pub name: String,
    /// Cardinality seen from this table.
    pub kind: RelationKind,
    /// The related table.
    pub table: String,
    /// The foreign key column. For `one-to-many` and `one-to-one` it lives on the related table,
    /// for `many-to-one` on this table. Defaults to `<singular of the referenced table>_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_key: Option<String>,
    /// Join table of a `many-to-many` relation; defaults to `<this table>_<related table>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
    /// What happens to referencing rows when the referenced row is deleted (generated
    /// foreign keys only; join tables always cascade).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<ReferentialAction>,
}

/// Cardinality of a relation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    /// This row has at most one related row, which holds a unique foreign key to it.
    OneToOne,
    /// This row has many related rows, each holding a foreign key to it.
    #[default]
    OneToMany,
    /// This row holds a foreign key to one related row.
    ManyToOne,
    /// Rows on both sides relate through a join table.
    ManyToMany,
}

/// Audit log settings of a table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditSpec {
    /// Record every insert, update and delete with the old and new values.
    #[serde(default)]
    pub enabled: bool,
    /// Columns left out of the audit record (secrets, large blobs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_fields: Vec<String>,
    /// Days audit records are kept: `fox audit prune` and the operator's reconcile delete older
    /// ones.
    #[serde(default = "default_retention_days")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 1, max = 36500)))]
    pub retention_days: u32,
    /// Store the recorded changes compressed, in the database (MySQL/MariaDB: zlib through
    /// `COMPRESS()`, every record; PostgreSQL: TOAST compression of the log column, for records
    /// over about 2 kB). Refused on SQLite, which has no compression function in SQL.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compression: bool,
    /// Chain the table's audit records by SHA-256 hashes so `fox audit verify` finds an edited,
    /// deleted or reordered record. Writes to the table then take the chain head's lock, one
    /// writing transaction at a time. Refused on SQLite, which has no hash function in SQL.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hash_chain: bool,
}

impl Default for AuditSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            exclude_fields: Vec::new(),
            retention_days: default_retention_days(),
            compression: false,
            hash_chain: false,
        }
    }
}

fn default_retention_days() -> u32 {
    90
}

/// One MongoDB collection.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CollectionSpec {
    /// Collection name.
    pub name: String,
    /// `$jsonSchema` validator document applied with `collMod`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(schema_with = "crate::scalar::any_object_schema")
    )]
    pub validator: Option<serde_json::Map<String, serde_json::Value>>,
    /// Which documents the validator checks: `strict` (every insert and update, MongoDB's
    /// default), `moderate` (updates only of documents that already pass) or `off`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_level: Option<ValidationLevel>,
    /// What a failing document causes: `error` (refused, MongoDB's default) or `warn` (logged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_action: Option<ValidationAction>,
    /// Indexes of the collection.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<CollectionIndexSpec>,
}

/// A MongoDB index.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CollectionIndexSpec {
    /// Indexed fields in order.
    pub keys: Vec<CollectionIndexKey>,
    /// Whether the indexed values must be unique.
    #[serde(default)]
    pub unique: bool,
    /// Index name; defaults to MongoDB's `<field>_<order>` naming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Remove documents this many seconds after the indexed date (TTL index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 0, max = 2147483647)))]
    pub expire_after_seconds: Option<u32>,
    /// Index only the documents matching this filter (a partial index), e.g.
    /// `{"deletedAt": {"$exists": false}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(schema_with = "crate::scalar::any_object_schema")
    )]
    pub partial_filter_expression: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Which documents a collection's validator checks (MongoDB `validationLevel`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ValidationLevel {
    /// No validation.
    Off,
    /// Every insert and update (MongoDB's default).
    #[default]
    Strict,
    /// Inserts, and updates of documents that already pass.
    Moderate,
}

impl ValidationLevel {
    /// The word MongoDB uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Strict => "strict",
            Self::Moderate => "moderate",
        }
    }
}

/// What a document failing a collection's validator causes (MongoDB `validationAction`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ValidationAction {
    /// The write is refused (MongoDB's default).
    #[default]
    Error,
    /// The write goes through and the server logs a warning.
    Warn,
}

impl ValidationAction {
    /// The word MongoDB uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
        }
    }
}

/// One field of a MongoDB index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct CollectionIndexKey {
    /// Field path (dotted for nested fields).
    pub field: String,
    /// Sort order or index kind.
    #[serde(default)]
    pub order: IndexOrder,
}

/// Order or kind of a MongoDB index key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum IndexOrder {
    /// Ascending (1).
    #[default]
    Asc,
    /// Descending (-1).
    Desc,
    /// Text index.
    Text,
    /// Hashed index.
    Hashed,
}

/// Rows to upsert into one table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SeedSpec {
    /// Table (or collection) receiving the rows.
    pub table: String,
    /// Rows as column → value maps; every row names the primary key columns, which the upsert
    /// matches on.
    pub rows: Vec<BTreeMap<String, Scalar>>,
}

/// Observed state of a FoxSchema.
#[cfg(feature = "kubernetes")]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FoxSchemaStatus {
    /// `Ready`, `Planned`, `Blocked` and `Drifted`, each with `observedGeneration`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Where the schema is: Pending, Planned, Blocked, Applying, Applied or Failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SchemaPhase>,
    /// The plan waiting to be applied (or approved), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanSummary>,
    /// Generation of the spec last applied successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_generation: Option<i64>,
    /// Hash of the plan last applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_plan_hash: Option<String>,
    /// Digest of the database the last plan was applied to (FoxReplicaSet uid, host and
    /// database name; no credentials). A differing plan against the same target is drift; a new
    /// target is simply applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_target: Option<String>,
    /// When the last plan was applied (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_time: Option<String>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// With `spec.tenants`: the tenants whose last plan or apply failed (the others are
    /// applied), each with what failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tenants: Vec<crate::tenants::FailedTenant>,
}

/// Phase of a FoxSchema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
pub enum SchemaPhase {
    /// Not planned yet.
    Pending,
    /// A plan exists and waits to be applied.
    Planned,
    /// The plan is destructive or waits for approval.
    Blocked,
    /// The plan is being applied.
    Applying,
    /// The database matches the schema.
    Applied,
    /// The last attempt failed; see the `Ready` condition.
    Failed,
}

/// A plan in words.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanSummary {
    /// Hash identifying the plan; approve it with this value.
    pub hash: String,
    /// One line per change, in the order they run.
    pub changes: Vec<String>,
    /// The destructive changes among them, with the reason each is destructive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destructive: Vec<String>,
    /// Number of SQL statements (or MongoDB commands) the plan runs.
    pub statements: u32,
}

#[cfg(test)]
mod tests {
    use super::ReferentialAction;

    #[test]
    fn referential_actions_read_as_words_in_plans() {
        let words: Vec<String> = [
            ReferentialAction::NoAction,
            ReferentialAction::Restrict,
            ReferentialAction::Cascade,
            ReferentialAction::SetNull,
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(words, ["no action", "restrict", "cascade", "set null"]);
    }
}
