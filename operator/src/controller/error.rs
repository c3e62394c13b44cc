//! Why a reconcile did not finish; each variant names the object and what to do.

use crate::engine::EngineError;
use crate::migrate::MigrateError;
use fox_crds::Reason;

/// Everything that can stop a reconcile.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The Kubernetes API refused or failed a request.
    #[error("Kubernetes API request failed: {0}")]
    Kube(#[from] kube::Error),
    /// The FoxReplicaSet named by `databaseRef` does not exist.
    #[error(
        "FoxReplicaSet {namespace}/{name} (spec.databaseRef) does not exist; create it or fix the reference"
    )]
    DatabaseNotFound {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
    /// A Secret named by a FoxReplicaSet does not exist.
    #[error(
        "Secret {namespace}/{name} does not exist; create it with the connection URL under key {key:?}"
    )]
    SecretNotFound {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// The key expected in it.
        key: String,
    },
    /// The Secret exists but not its key, or the value is not a usable URL.
    #[error("Secret {namespace}/{name} key {key:?}: {problem}")]
    SecretInvalid {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// Key.
        key: String,
        /// What is wrong, without the value.
        problem: String,
    },
    /// The schema engine failed (connection, lock, statement, refused change).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The migration engine failed.
    #[error(transparent)]
    Migrate(#[from] MigrateError),
    /// A MongoDB migration (`upCommands`/`downCommands`) was refused or failed.
    #[error("{message}")]
    CommandMigration {
        /// What happened, from [`crate::migrate::commands`].
        message: String,
        /// The resource itself failed: the run was refused before anything ran (a changed,
        /// dirty or out-of-order migration, no `downCommands`), or its own version stopped
        /// part way. Otherwise another version failed and this one waits.
        failed: bool,
    },
    /// The engine of the database cannot do what the resource asks.
    #[error("{feature} is not supported on {engine} by this version of FoxDB")]
    Unsupported {
        /// Engine.
        engine: String,
        /// What was asked.
        feature: String,
    },
    /// The resource breaks a rule its CRD schema cannot express (checked by `fox validate` too).
    #[error("{kind} {namespace}/{name} is invalid:\n{problems}")]
    InvalidSpec {
        /// Kind.
        kind: &'static str,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// One line per problem, with its field path.
        problems: String,
    },
    /// A Service, EndpointSlice or ConfigMap the FoxReplicaSet would publish exists under
    /// another controller; the operator does not take it over.
    #[error(
        "{kind} {namespace}/{name} exists and is not controlled by this FoxReplicaSet ({holder}); the operator does not take it over: rename the FoxReplicaSet, or delete that {kind} if it is a leftover"
    )]
    PublishConflict {
        /// Kind of the existing object.
        kind: String,
        /// Namespace.
        namespace: String,
        /// Its name.
        name: String,
        /// Who controls it.
        holder: String,
    },
    /// A FoxMigration with `spec.tenants` found no FoxSchema listing the tenants of its
    /// database, or several.
    #[error(
        "FoxMigration spec.tenants runs in the tenants of the FoxSchema whose spec.tenants lists them for FoxReplicaSet {namespace}/{database}; {}",
        if found.is_empty() { "no FoxSchema there lists tenants: add spec.tenants to its FoxSchema".to_string() } else { format!("several do ({}): keep the tenants of a database in one FoxSchema", found.join(", ")) }
    )]
    TenantsNotListed {
        /// Namespace.
        namespace: String,
        /// The FoxReplicaSet.
        database: String,
        /// The FoxSchemas listing tenants of it.
        found: Vec<String>,
    },
    /// The finalizer machinery failed (adding or removing the finalizer).
    #[error("finalizer: {0}")]
    Finalizer(String),
}

impl Error {
    /// Short label for metrics and condition reasons.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Kube(_) => "kubernetes-api",
            Self::DatabaseNotFound { .. } => "database-not-found",
            Self::SecretNotFound { .. } => "secret-not-found",
            Self::SecretInvalid { .. } => "secret-invalid",
            Self::Engine(error) => error.label(),
            Self::Migrate(MigrateError::Engine(error)) => error.label(),
            Self::Migrate(MigrateError::Integrity { .. }) => "migration-integrity",
            Self::Migrate(MigrateError::Failed { .. }) => "migration-failed",
            Self::Migrate(MigrateError::Irreversible { .. }) => "migration-irreversible",
            Self::Migrate(MigrateError::UnknownTarget { .. }) => "migration-unknown-target",
            Self::Migrate(MigrateError::Unreadable { .. }) => "migration-unreadable",
            Self::CommandMigration { .. } => "migration-failed",
            Self::Unsupported { .. } => "unsupported",
            Self::InvalidSpec { .. } => "invalid-spec",
            Self::PublishConflict { .. } => "publish-conflict",
            Self::TenantsNotListed { .. } => "tenants-not-listed",
            Self::Finalizer(_) => "finalizer",
        }
    }

    /// The `reason` of a condition (and Event) reporting this error.
    pub fn condition_reason(&self) -> Reason {
        match self {
            Self::Kube(_) => Reason::KubernetesApiError,
            Self::DatabaseNotFound { .. } => Reason::DatabaseNotFound,
            Self::SecretNotFound { .. } => Reason::SecretNotFound,
            Self::SecretInvalid { .. } => Reason::SecretInvalid,
            Self::Engine(EngineError::Database(_)) => Reason::DatabaseUnavailable,
            Self::Engine(EngineError::LockTimeout { .. })
            | Self::Migrate(MigrateError::Engine(EngineError::LockTimeout { .. })) => {
                Reason::Locked
            }
            Self::Engine(
                EngineError::Diff(_)
                | EngineError::Impossible { .. }
                | EngineError::StorageLimits { .. },
            ) => Reason::ImpossibleChange,
            Self::Engine(EngineError::DestructiveRefused { .. }) => Reason::DestructiveChange,
            Self::Engine(EngineError::OwnedByAnotherSchema { .. }) => Reason::OwnedByAnotherSchema,
            Self::Engine(_) => Reason::ApplyFailed,
            Self::Migrate(MigrateError::Engine(EngineError::Database(_))) => {
                Reason::DatabaseUnavailable
            }
            Self::Migrate(MigrateError::Engine(_)) => Reason::MigrationFailed,
            Self::Migrate(MigrateError::Integrity { .. }) => Reason::IntegrityCheckFailed,
            Self::Migrate(MigrateError::Failed { .. }) => Reason::MigrationFailed,
            Self::Migrate(MigrateError::Irreversible { .. }) => Reason::Irreversible,
            Self::Migrate(MigrateError::UnknownTarget { .. }) => Reason::UnknownVersion,
            Self::Migrate(MigrateError::Unreadable { .. }) => Reason::MigrationUnreadable,
            Self::CommandMigration { .. } => Reason::MigrationFailed,
            Self::Unsupported { .. } => Reason::Unsupported,
            Self::InvalidSpec { .. } => Reason::InvalidSpec,
            Self::PublishConflict { .. } => Reason::PublishConflict,
            Self::TenantsNotListed { .. } => Reason::TenantsNotListed,
            Self::Finalizer(_) => Reason::FinalizerError,
        }
    }

    /// The message for conditions, Events and logs: a failed statement as its scrubbed,
    /// shortened first line and the server's message without row values or quoted literals
    /// (see [`super::redact`]); every other error as it displays.
    pub fn public_message(&self) -> String {
        use super::redact::{server_message, statement_shape};
        fn engine_message(error: &EngineError) -> String {
            match error {
                EngineError::StatementFailed {
                    index,
                    total,
                    outcome,
                    source,
                } => format!(
                    "statement {index} of {total} failed; {outcome}\n  {}",
                    server_message(&source.to_string())
                ),
                EngineError::Database(error) => server_message(&error.to_string()),
                other => other.to_string(),
            }
        }
        match self {
            Self::Migrate(MigrateError::Failed {
                version,
                name,
                direction,
                index,
                total,
                line,
                first_line,
                message,
                outcome,
            }) => format!(
                "migration {version} ({name}) {direction} failed at statement {index} of {total} (line {line}): {}\n  {}\n  {outcome}",
                statement_shape(first_line),
                server_message(message)
            ),
            Self::Migrate(MigrateError::Engine(error)) | Self::Engine(error) => {
                engine_message(error)
            }
            Self::CommandMigration { message, .. } => super::redact::command_message(message),
            other => other.to_string(),
        }
    }

    /// Whether retrying soon can help (the database or API may come back), as opposed to an
    /// error only a change of the resource fixes.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Kube(_)
                | Self::Engine(EngineError::Database(_) | EngineError::LockTimeout { .. })
                | Self::Migrate(MigrateError::Engine(
                    EngineError::Database(_) | EngineError::LockTimeout { .. }
                ))
                | Self::Finalizer(_)
        )
    }
}

/// Result of controller steps.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Runs the resource's own validation (the checks `fox validate` makes beyond the CRD schema).
///
/// # Errors
/// [`Error::InvalidSpec`] with every problem.
// The engine's errors make `Error` large; it is built at most once per failed reconcile.
#[allow(clippy::result_large_err)]
pub fn check_valid<K: kube::Resource>(
    kind: &'static str,
    object: &K,
    validate: impl FnOnce(&K) -> std::result::Result<(), fox_crds::ValidationError>,
) -> Result<()> {
    validate(object).map_err(|problems| Error::InvalidSpec {
        kind,
        namespace: object.meta().namespace.clone().unwrap_or_default(),
        name: object.meta().name.clone().unwrap_or_default(),
        problems: problems.to_string(),
    })
}
