//! `FoxMigration`: one versioned, checksummed up/down migration.

#[cfg(feature = "kubernetes")]
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
#[cfg(feature = "kubernetes")]
use kube::CustomResource;
#[cfg(feature = "kubernetes")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::references::DatabaseRef;

/// Longest FoxMigration `name`, in characters: what the migration records hold
/// (`_fox_migrations.name` and `_fox_migration_log.name` are `varchar(255)`).
pub const MAX_MIGRATION_NAME_CHARS: usize = 255;

/// A versioned migration, applied exactly once per database in version order and rolled back by
/// running `down` steps in reverse order.
///
/// Its checksum is recorded when applied; a migration whose text changed afterwards is reported
/// as `Changed`, never silently re-run.
// `printcolumn(...)` repeats its keys once per column by design.
#[allow(clippy::duplicated_attributes)]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(CustomResource, JsonSchema))]
#[cfg_attr(
    feature = "kubernetes",
    kube(
        group = "foxdb.dev",
        version = "v1alpha1",
        kind = "FoxMigration",
        namespaced,
        status = "FoxMigrationStatus",
        shortname = "fxm",
        category = "fox",
        derive = "PartialEq",
        derive = "Default",
        doc = "A versioned up/down migration of a FoxDB database.",
        printcolumn(
            name = "Database",
            type_ = "string",
            json_path = ".spec.databaseRef.name"
        ),
        printcolumn(name = "Version", type_ = "integer", json_path = ".spec.version"),
        printcolumn(
            name = "Ready",
            type_ = "string",
            json_path = ".status.conditions[?(@.type==\"Ready\")].status"
        ),
        printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
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
#[cfg_attr(
    feature = "kubernetes",
    schemars(extend("x-kubernetes-validations" = [
        {"rule": "!(has(self.up) && has(self.upCommands))", "message": "up and upCommands exclude each other (SQL or MongoDB commands)"},
        {"rule": "!(has(self.down) && has(self.downCommands))", "message": "down and downCommands exclude each other (SQL or MongoDB commands)"}
    ]))
)]
#[serde(rename_all = "camelCase")]
pub struct FoxMigrationSpec {
    /// The FoxReplicaSet whose primary is migrated. Immutable.
    #[cfg_attr(
        feature = "kubernetes",
        schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "databaseRef is immutable; a migration of another database is another FoxMigration"}]))
    )]
    pub database_ref: DatabaseRef,
    /// Ordering key: migrations apply in ascending version (for example `1`, `2` or a timestamp
    /// such as `20261127120000`). Immutable.
    #[cfg_attr(feature = "kubernetes", schemars(range(min = 1)))]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "version is immutable; add a new FoxMigration instead"}]))
    )]
    pub version: u64,
    /// Short description, shown in history and status: at most 255 characters, not blank.
    #[cfg_attr(
        feature = "kubernetes",
        schemars(length(min = 1, max = crate::migration::MAX_MIGRATION_NAME_CHARS), pattern(r"\S"))
    )]
    pub name: String,
    /// SQL run to apply the migration (SQL engines). Several statements are separated by `;`.
    /// Immutable once set: a change after apply is never re-run, so the API server refuses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(extend("x-kubernetes-validations" = [{"rule": "self == oldSelf", "message": "up is immutable; add a new FoxMigration for the change"}]))
    )]
    pub up: Option<String>,
    /// SQL run to roll the migration back. Absent means the migration is irreversible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<String>,
    /// MongoDB commands run to apply the migration (instead of `up`), in order. Each is a
    /// mapping, or a string holding a JSON object: the string form keeps its key order through
    /// kubectl and the API server, which sort mapping keys (a compound index key or a sort on
    /// several fields depends on the order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(schema_with = "crate::scalar::command_list_schema")
    )]
    pub up_commands: Option<Vec<crate::mongo_command::MongoCommand>>,
    /// MongoDB commands run to roll the migration back (instead of `down`), written as in
    /// `upCommands`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "kubernetes",
        schemars(schema_with = "crate::scalar::command_list_schema")
    )]
    pub down_commands: Option<Vec<crate::mongo_command::MongoCommand>>,
    /// Run in one transaction where the engine allows it. Turn off for statements that cannot
    /// run inside a transaction (for example `CREATE INDEX CONCURRENTLY`).
    #[serde(default = "default_true")]
    pub transactional: bool,
    /// Run in tenants instead of the database of `databaseRef`: `{all: true}` for every tenant
    /// of the FoxSchema that lists the tenants of `databaseRef` (`spec.tenants`), or
    /// `{names: [..]}` for some of them. Each tenant keeps its own migration records; a tenant
    /// that fails is listed in `status.failedTenants` while the others are migrated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<crate::tenants::MigrationTenants>,
    /// Set by `fox import migrations`: the tool that applied this migration before FoxDB took
    /// over. On its first `fox migrate up` FoxDB reads that tool's own bookkeeping table and
    /// records the versions the tool applied as applied, without running them; a version the
    /// tool marks failed or dirty, or whose recorded checksum differs from this one, is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<ImportedFrom>,
}

/// The migration tool a FoxMigration was imported from, and how that tool identifies it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportedFrom {
    /// The tool whose bookkeeping table records this migration.
    pub tool: MigrationTool,
    /// The migration's key in that table, as the tool writes it: the version number
    /// (golang-migrate, sqlx, diesel, flyway) or the migration folder's name (prisma).
    #[cfg_attr(feature = "kubernetes", schemars(length(min = 1)))]
    pub version: String,
    /// The tool's checksum of the `up` text, in the tool's algorithm and spelling: sqlx
    /// SHA-384 (hex), prisma SHA-256 (hex), flyway CRC32 (signed decimal). golang-migrate and
    /// diesel keep no checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// A migration tool whose folders `fox import migrations` reads and whose bookkeeping table
/// `fox migrate up` adopts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum MigrationTool {
    /// golang-migrate: `schema_migrations(version, dirty)`.
    #[default]
    GolangMigrate,
    /// sqlx: `_sqlx_migrations(version, success, checksum)`.
    Sqlx,
    /// Prisma Migrate: `_prisma_migrations(migration_name, checksum, finished_at,
    /// rolled_back_at)`.
    Prisma,
    /// Diesel: `__diesel_schema_migrations(version)`.
    Diesel,
    /// Flyway: `flyway_schema_history(version, checksum, success)`.
    Flyway,
}

impl MigrationTool {
    /// Every tool, in the order the documentation lists them.
    pub const ALL: [MigrationTool; 5] = [
        Self::GolangMigrate,
        Self::Sqlx,
        Self::Prisma,
        Self::Diesel,
        Self::Flyway,
    ];

    /// The spelling in manifests and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Self::GolangMigrate => "golang-migrate",
            Self::Sqlx => "sqlx",
            Self::Prisma => "prisma",
            Self::Diesel => "diesel",
            Self::Flyway => "flyway",
        }
    }

    /// Whether the tool records a checksum of each migration's script.
    pub fn keeps_checksums(self) -> bool {
        match self {
            Self::Sqlx | Self::Prisma | Self::Flyway => true,
            Self::GolangMigrate | Self::Diesel => false,
        }
    }
}

impl std::fmt::Display for MigrationTool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

fn default_true() -> bool {
    true
}

/// Observed state of a FoxMigration.
#[cfg(feature = "kubernetes")]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct FoxMigrationStatus {
    /// `Ready`, `Applied` and `Failed`, each with `observedGeneration`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Where the migration is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<MigrationPhase>,
    /// SHA-256 of the `up` text as applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// When it was applied (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<String>,
    /// How long applying took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// With `spec.tenants`: the tenants where this version (or an earlier one) failed, and
    /// why; the others are migrated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tenants: Vec<crate::tenants::FailedTenant>,
}

/// Phase of a FoxMigration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
pub enum MigrationPhase {
    /// Waiting for earlier versions or for the database.
    Pending,
    /// Being applied.
    Running,
    /// Applied with the recorded checksum.
    Applied,
    /// Applied, but the text now differs from what was applied.
    Changed,
    /// Failed; on MySQL the record is dirty until `fox migrate repair`.
    Failed,
    /// Its `down` ran.
    RolledBack,
}
