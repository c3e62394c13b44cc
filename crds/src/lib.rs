//! FoxDB's Kubernetes resources: `FoxReplicaSet`, `FoxSchema` and `FoxMigration` (group
//! `foxdb.dev`, version `v1alpha1`), their validation, manifest reading and CRD generation.
//!
//! The same types serve `kubectl apply` (through the generated CRDs) and the cluster-free `fox`
//! commands (through [`manifest::load_manifests`]).
//!
//! ```
//! use fox_crds::{FoxSchema, manifest::{ManifestSet, parse_manifests}};
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
#![forbid(unsafe_code)]

pub mod column_type;
pub mod conventions;
pub mod crdgen;
pub mod identifier;
pub mod manifest;
pub mod migration;
mod migration_validation;
pub mod references;
mod rename_validation;
pub mod replica_set;
mod replica_set_validation;
pub mod scalar;
pub mod schema;
pub mod schema_validation;
mod seed_validation;
mod structural;
pub mod validation;
pub mod value_validation;
mod yaml_reader;
mod yaml_scalar;

pub use column_type::{ColumnType, ColumnTypeError};
pub use migration::{FoxMigration, FoxMigrationSpec, FoxMigrationStatus, MigrationPhase};
pub use references::{DatabaseRef, SecretKeyRef};
pub use replica_set::{
    Engine, FoxReplicaSet, FoxReplicaSetSpec, FoxReplicaSetStatus, MemberRole, PublishedRouting,
    RoutedMember,
};
pub use scalar::Scalar;
pub use schema::{FoxSchema, FoxSchemaSpec, FoxSchemaStatus};
pub use validation::{Problem, ValidationError};
