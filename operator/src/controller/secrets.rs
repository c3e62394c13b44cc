//! Connection URLs from Secrets. The value is read, parsed and handed to the driver; it is never
//! written to status, events, logs or metrics, and errors name the Secret and key, not the value.
//!
//! The same Secret may hold TLS material for the connection under the keys Kubernetes uses for
//! TLS Secrets: `ca.crt` (a CA to trust besides the built-in roots), `tls.crt` and `tls.key` (a
//! client certificate and its key), all PEM. They are handed to the driver from memory.

use fox_crds::{DatabaseRef, Engine, FoxReplicaSet, SecretKeyRef};
use foxdb::document_store::DocumentStoreUrl;
use foxdb::{DatabaseUrl, TlsOptions};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};

use super::error::{Error, Result};
use crate::engine::member_connection::MemberTarget;

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
    Ok(read_connection(client, namespace, reference).await?.0)
}

/// Reads the connection of a member of an `engine` FoxReplicaSet at `reference`: a SQL URL
/// with the TLS material beside it, or a `mongodb://` URL (whose TLS options are URL options).
///
/// # Errors
/// As [`read_connection`]; for MongoDB [`Error::SecretInvalid`] when the value is no
/// `mongodb://` URL naming a database, or when the Secret holds TLS keys (a `mongodb://` URL
/// takes its TLS options, such as `tls=true&tlsCAFile=...`, in the URL).
pub async fn read_member_target(
    client: &Client,
    namespace: &str,
    reference: &SecretKeyRef,
    engine: Engine,
) -> Result<MemberTarget> {
    match engine {
        Engine::Postgresql | Engine::Mysql | Engine::Mariadb | Engine::Sqlite => {
            let (url, tls) = read_connection(client, namespace, reference).await?;
            Ok(MemberTarget::Sql { url, tls })
        }
        Engine::Mongodb => {
            let secret = fetch_secret(client, namespace, reference).await?;
            Ok(MemberTarget::Document(document_store_url(
                &secret, namespace, reference,
            )?))
        }
    }
}

/// The `mongodb://` URL at `reference` of `secret`.
// The controllers' one error type, as everywhere in this module; boxing it here only moves
// the size to the callers.
#[allow(clippy::result_large_err)]
fn document_store_url(
    secret: &Secret,
    namespace: &str,
    reference: &SecretKeyRef,
) -> Result<DocumentStoreUrl> {
    let text =
        secret_text(secret, &reference.key).map_err(|p| invalid_value(namespace, reference, p))?;
    if let Some(key) = TLS_KEYS.iter().find(|key| {
        secret
            .data
            .as_ref()
            .is_some_and(|data| data.contains_key(**key))
    }) {
        return Err(Error::SecretInvalid {
            namespace: namespace.to_string(),
            name: reference.name.clone(),
            key: (*key).to_string(),
            problem: "a MongoDB connection takes its TLS settings in the mongodb:// URL (tls=true, tlsCAFile, tlsCertificateKeyFile), not from Secret keys; remove the key".into(),
        });
    }
    DocumentStoreUrl::parse(&text).map_err(|error| {
        let problem = match error {
            foxdb::document_store::DocumentStoreError::InvalidUrl { reason, .. } => reason,
            other => other.to_string(),
        };
        invalid_value(namespace, reference, &problem)
    })
}

/// Reads the text at `reference` in `namespace` (trimmed), such as the Redis URL of a
/// FoxReplicaSet's `cache.redis`.
///
/// # Errors
/// [`Error::SecretNotFound`], [`Error::SecretInvalid`] (missing key, not UTF-8, empty), API
/// errors.
pub async fn read_secret_text(
    client: &Client,
    namespace: &str,
    reference: &SecretKeyRef,
) -> Result<String> {
    let secret = fetch_secret(client, namespace, reference).await?;
    secret_text(&secret, &reference.key)
        .map_err(|problem| invalid_value(namespace, reference, problem))
}

async fn fetch_secret(
    client: &Client,
    namespace: &str,
    reference: &SecretKeyRef,
) -> Result<Secret> {
    let secrets: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let found = match secrets.get_opt(&reference.name).await {
        Err(kube::Error::Api(status)) if status.code == 403 => {
            return Err(Error::SecretInvalid {
                namespace: namespace.to_string(),
                name: reference.name.clone(),
                key: reference.key.clone(),
                problem: format!(
                    "the operator may not read Secrets in namespace {namespace}; opt the namespace in (chart value rbac.secretNamespaces, fox run --secret-namespaces)"
                ),
            });
        }
        other => other?,
    };
    found.ok_or_else(|| Error::SecretNotFound {
        namespace: namespace.to_string(),
        name: reference.name.clone(),
        key: reference.key.clone(),
    })
}

/// The trimmed text at `key` of `secret`, or what is wrong with it.
fn secret_text(secret: &Secret, key: &str) -> std::result::Result<String, &'static str> {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|data| data.get(key))
        // The API server folds `stringData` into `data`; it never returns `stringData`.
        .map(|value| value.0.clone())
        .ok_or("the key is missing")?;
    let text = String::from_utf8(bytes).map_err(|_| "the value is not UTF-8 text")?;
    let text = text.trim();
    if text.is_empty() {
        return Err("the value is empty");
    }
    Ok(text.to_string())
}

fn invalid_value(namespace: &str, reference: &SecretKeyRef, problem: &str) -> Error {
    Error::SecretInvalid {
        namespace: namespace.to_string(),
        name: reference.name.clone(),
        key: reference.key.clone(),
        problem: problem.to_string(),
    }
}

/// Secret keys of the TLS material, as in a `kubernetes.io/tls` Secret.
pub const TLS_KEYS: [&str; 3] = ["ca.crt", "tls.crt", "tls.key"];

/// Reads the URL at `reference` in `namespace` and the TLS material beside it (see the module
/// documentation).
///
/// # Errors
/// As [`read_connection_url`]; [`Error::SecretInvalid`] naming the key when `tls.crt` is given
/// without `tls.key` or the other way round.
pub async fn read_connection(
    client: &Client,
    namespace: &str,
    reference: &SecretKeyRef,
) -> Result<(DatabaseUrl, TlsOptions)> {
    let secret = fetch_secret(client, namespace, reference).await?;
    let invalid = |problem: &str| invalid_value(namespace, reference, problem);
    let text = secret_text(&secret, &reference.key).map_err(invalid)?;
    let text = text.as_str();
    // The parse error names the reason and never quotes the value.
    let url = DatabaseUrl::parse(text).map_err(|error| match error {
        foxdb::Error::InvalidUrl { reason, .. } => {
            invalid(&format!("the value is not a database URL: {reason}"))
        }
        other => invalid(&other.to_string()),
    })?;
    let tls = tls_options(secret.data.as_ref()).map_err(|(key, problem)| Error::SecretInvalid {
        namespace: namespace.to_string(),
        name: reference.name.clone(),
        key: key.to_string(),
        problem: problem.to_string(),
    })?;
    Ok((url, tls))
}

/// The TLS material among a Secret's `data`: a key naming what is wrong, and why, otherwise.
fn tls_options(
    data: Option<&std::collections::BTreeMap<String, k8s_openapi::ByteString>>,
) -> std::result::Result<TlsOptions, (&'static str, &'static str)> {
    let [ca, cert, key] = TLS_KEYS.map(|name| {
        data.and_then(|data| data.get(name))
            .map(|value| value.0.clone())
    });
    match (&cert, &key) {
        (Some(_), None) => return Err(("tls.key", "tls.crt is given without its key tls.key")),
        (None, Some(_)) => {
            return Err((
                "tls.crt",
                "tls.key is given without its certificate tls.crt",
            ));
        }
        _ => {}
    }
    Ok(TlsOptions {
        ca_pem: ca,
        client_cert_pem: cert,
        client_key_pem: key,
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
    // The Secret's certificates travel with the URL, so the schema engine's and the migration
    // runner's connections verify the server as the FoxReplicaSet's pools do.
    let (url, tls) = read_connection(client, namespace, connection).await?;
    let url = url.with_tls(tls);
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

/// The MongoDB FoxReplicaSet a FoxSchema of collections or a FoxMigration of `upCommands`
/// names, and its primary's URL; `feature` names what the caller does, for the refusal on a
/// SQL engine.
///
/// # Errors
/// [`Error::DatabaseNotFound`], [`Error::Unsupported`] when the FoxReplicaSet is not MongoDB,
/// [`Error::SecretNotFound`], [`Error::SecretInvalid`] when the Secret holds no `mongodb://`
/// URL (the message never shows it).
pub async fn resolve_document_store(
    client: &Client,
    namespace: &str,
    reference: &DatabaseRef,
    feature: &str,
) -> Result<(FoxReplicaSet, DocumentStoreUrl)> {
    let databases: Api<FoxReplicaSet> = Api::namespaced(client.clone(), namespace);
    let Some(database) = databases.get_opt(&reference.name).await? else {
        return Err(Error::DatabaseNotFound {
            namespace: namespace.to_string(),
            name: reference.name.clone(),
        });
    };
    if !matches!(database.spec.engine, Engine::Mongodb) {
        return Err(Error::Unsupported {
            engine: database.spec.engine.to_string(),
            feature: feature.to_string(),
        });
    }
    let connection = &database.spec.primary.connection;
    let secret = fetch_secret(client, namespace, connection).await?;
    let url = document_store_url(&secret, namespace, connection)?;
    Ok((database, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_material_is_read_from_the_kubernetes_tls_keys() {
        let data: std::collections::BTreeMap<String, k8s_openapi::ByteString> = [
            ("url", "postgres://db.example.com/app"),
            ("ca.crt", "CA"),
            ("tls.crt", "CERT"),
            ("tls.key", "KEY"),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                k8s_openapi::ByteString(v.as_bytes().to_vec()),
            )
        })
        .collect();
        let tls = tls_options(Some(&data)).expect("complete");
        assert_eq!(tls.ca_pem.as_deref(), Some(&b"CA"[..]));
        assert_eq!(tls.client_cert_pem.as_deref(), Some(&b"CERT"[..]));
        assert_eq!(tls.client_key_pem.as_deref(), Some(&b"KEY"[..]));
        let mut without_key = data.clone();
        without_key.remove("tls.key");
        assert_eq!(tls_options(Some(&without_key)).unwrap_err().0, "tls.key");
        assert_eq!(tls_options(None), Ok(TlsOptions::default()));
    }
}
