//! References from one FoxDB resource to another object in the same namespace.

#[cfg(feature = "kubernetes")]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Names the FoxReplicaSet (in the same namespace) a FoxSchema or FoxMigration applies to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DatabaseRef {
    /// Name of the FoxReplicaSet in the same namespace.
    pub name: String,
}

/// A key of a Secret in the same namespace. Connection URLs and passwords are only ever read
/// from Secrets, never written to status, events, logs or metrics.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "kubernetes", derive(JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Name of the Secret in the same namespace.
    pub name: String,
    /// Key inside the Secret whose value is the connection URL (for example
    /// `postgres://user:password@host:5432/db`). Defaults to `url`.
    #[serde(default = "default_secret_key")]
    pub key: String,
}

fn default_secret_key() -> String {
    "url".to_string()
}
