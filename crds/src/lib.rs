//! FoxDB's Kubernetes resources: `FoxReplicaSet`, `FoxSchema` and `FoxMigration` (group
//! `foxdb.dev`, version `v1alpha1`), their validation, manifest reading and CRD generation, and
//! the portable vocabulary they are written in (column types, referential actions, engines,
//! naming conventions).
//!
//! # Features
//! - `kubernetes` (default): the resource kinds with metadata and status
//!   (`kube::CustomResource`), their JSON schemas, CRD generation (`crdgen`), manifest reading
//!   (`manifest::load_manifests`) and each resource's `validate()`. The same types serve
//!   `kubectl apply` (through the generated CRDs) and the cluster-free `fox` commands.
//! - Without it (`default-features = false`, as the `foxdb` client depends on it): the portable
//!   vocabulary and the spec types only, and no kube, k8s-openapi or schemars in the build.
//!
//! ```
//! use fox_crds::{ColumnType, conventions::default_foreign_key};
//!
//! let ty: ColumnType = "enum(draft,published)".parse().expect("a portable type");
//! assert_eq!(ty, ColumnType::Enum(vec!["draft".into(), "published".into()]));
//! assert_eq!(default_foreign_key("categories"), "category_id");
//! ```
#![forbid(unsafe_code)]

pub mod column_type;
pub mod compact_column;
pub mod condition;
pub mod conventions;
pub mod identifier;
pub mod migration;
pub mod mongo_command;
pub mod references;
pub mod replica_set;
pub mod scalar;
pub mod schema;
pub mod tenants;
pub mod value_validation;

#[cfg(feature = "kubernetes")]
pub mod collection_validation;
#[cfg(feature = "kubernetes")]
pub mod crdgen;
#[cfg(feature = "kubernetes")]
pub mod manifest;
#[cfg(feature = "kubernetes")]
mod migration_validation;
#[cfg(feature = "kubernetes")]
mod rename_validation;
#[cfg(feature = "kubernetes")]
mod replica_set_validation;
#[cfg(feature = "kubernetes")]
pub mod schema_validation;
#[cfg(feature = "kubernetes")]
mod seed_validation;
#[cfg(feature = "kubernetes")]
mod structural;
#[cfg(feature = "kubernetes")]
mod tenants_validation;
#[cfg(feature = "kubernetes")]
pub mod validation;
#[cfg(feature = "kubernetes")]
mod yaml_reader;
#[cfg(feature = "kubernetes")]
mod yaml_scalar;

pub use column_type::{ColumnType, ColumnTypeError};
pub use condition::{ConditionType, Reason};
#[cfg(feature = "kubernetes")]
pub use migration::{FoxMigration, FoxMigrationStatus};
pub use migration::{FoxMigrationSpec, ImportedFrom, MigrationPhase, MigrationTool};
pub use references::{DatabaseRef, SecretKeyRef};
pub use replica_set::{Engine, FoxReplicaSetSpec, MemberRole, PublishedRouting, RoutedMember};
#[cfg(feature = "kubernetes")]
pub use replica_set::{FoxReplicaSet, FoxReplicaSetStatus};
pub use scalar::Scalar;
pub use schema::FoxSchemaSpec;
#[cfg(feature = "kubernetes")]
pub use schema::{FoxSchema, FoxSchemaStatus};
#[cfg(feature = "kubernetes")]
pub use validation::{Problem, ValidationError};
