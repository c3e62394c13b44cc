//! Writes status with server-side apply under the operator's one field manager, and wraps
//! reconciles in the finalizer.

use std::fmt::Debug;
use std::sync::Arc;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::{FIELD_MANAGER, FINALIZER};
use super::error::{Error, Result};

/// Replaces the status of `name` with `status` (server-side apply, forced: the operator is the
/// only writer of status).
///
/// # Errors
/// API errors.
pub async fn apply_status<K>(api: &Api<K>, name: &str, status: &impl Serialize) -> Result<()>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug,
{
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    Ok(())
}

/// Runs `apply` or, when the object is being deleted, `cleanup`, adding and removing the
/// finalizer as needed.
///
/// # Guarantees
/// Deletion never hangs on the operator: `cleanup` only releases what the operator holds in
/// memory and publishes an event; whatever it returns, the finalizer is removed.
///
/// # Errors
/// Errors of `apply`, and API errors while adding or removing the finalizer.
pub async fn with_finalizer<K, Apply, Cleanup>(
    object: Arc<K>,
    apply: impl FnOnce(Arc<K>) -> Apply,
    cleanup: impl FnOnce(Arc<K>) -> Cleanup,
    client: kube::Client,
) -> Result<Action>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
    Apply: Future<Output = Result<Action>>,
    Cleanup: Future<Output = ()>,
{
    let namespace = object.namespace().unwrap_or_default();
    let api: Api<K> = Api::namespaced(client, &namespace);
    finalizer(&api, FINALIZER, object, |event| async move {
        match event {
            FinalizerEvent::Apply(object) => apply(object).await,
            FinalizerEvent::Cleanup(object) => {
                cleanup(object).await;
                Ok(Action::await_change())
            }
        }
    })
    .await
    .map_err(|error| match error {
        kube::runtime::finalizer::Error::ApplyFailed(error) => error,
        kube::runtime::finalizer::Error::AddFinalizer(error)
        | kube::runtime::finalizer::Error::RemoveFinalizer(error) => Error::Kube(error),
        other => Error::Finalizer(other.to_string()),
    })
}
