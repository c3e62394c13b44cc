//! Connection URLs from Secrets. The value is read, parsed and handed to the driver; it is never
//! written to status, events, logs or metrics, and errors name the Secret and key, not the value.

use fox_crds::{DatabaseRef, Engine, FoxReplicaSet, SecretKeyRef};
use foxdb::DatabaseUrl;
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use super::error::{Error, Result};

/// Reads the URL at `reference` in `namespace`.
///
/// # Errors
/// [`Error::SecretNotFound`], [`Error::SecretInvalid`] (missing key, not UTF-8, unknown scheme),
/// API errors.
pub async fn read_connection_url(
    client: &Client,
    namespace: &str,
    reference: &SecretKeyRef,
) -> Result<DatabaseUrl> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let Some(secret) = secrets.get_opt(&reference.name).await? else {
        return Err(Error::SecretNotFound {
            namespace: namespace.to_string(),
            name: reference.name.clone(),
            key: reference.key.clone(),
        });
    };
    let invalid = |problem: &str| Error::SecretInvalid {
        namespace: namespace.to_string(),
        name: reference.name.clone(),
        key: reference.key.clone(),
        problem: problem.to_string(),
    };
    let bytes = secret
        .data
        .as_ref()
        .and_then(|data| data.get(&reference.key))
        // The API server folds `stringData` into `data`; it never returns `stringData`.
        .map(|value| value.0.clone())
        .ok_or_else(|| invalid("the key is missing"))?;
    let text = String::from_utf8(bytes).map_err(|_| invalid("the value is not UTF-8 text"))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(invalid("the value is empty"));
    }
    // The parse error names the reason and never quotes the value.
    DatabaseUrl::parse(text).map_err(|error| match error {
        foxdb::Error::InvalidUrl { reason, .. } => {
            invalid(&format!("the value is not a database URL: {reason}"))
        }
        other => invalid(&other.to_string()),
    })
}

/// The FoxReplicaSet a FoxSchema or FoxMigration names, and its primary's URL; `feature` names
/// what the caller does, for the refusal on MongoDB.
///
/// # Errors
/// [`Error::DatabaseNotFound`], [`Error::Unsupported`] on MongoDB, the errors of
/// [`read_connection_url`].
pub async fn resolve_primary(
    client: &Client,
    namespace: &str,
    reference: &DatabaseRef,
    feature: &str,
) -> Result<(FoxReplicaSet, DatabaseUrl)> {
    let databases: Api<FoxReplicaSet> = Api::namespaced(client.clone(), namespace);
    let Some(database) = databases.get_opt(&reference.name).await? else {
        return Err(Error::DatabaseNotFound {
            namespace: namespace.to_string(),
            name: reference.name.clone(),
        });
    };
    if database.spec.engine == Engine::Mongodb {
        return Err(Error::Unsupported {
            engine: Engine::Mongodb.to_string(),
            feature: feature.to_string(),
        });
    }
    let connection = &database.spec.primary.connection;
    let url = read_connection_url(client, namespace, connection).await?;
    if !url.matches_engine(database.spec.engine) {
        return Err(Error::SecretInvalid {
            namespace: namespace.to_string(),
            name: connection.name.clone(),
            key: connection.key.clone(),
            problem: format!(
                "the URL is for {}, but FoxReplicaSet/{} declares engine {}",
                url.backend(),
                reference.name,
                database.spec.engine
            ),
        });
    }
    Ok((database, url))
}
