//! Writes status with server-side apply under the operator's one field manager, and wraps
//! reconciles in the finalizer.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as FinalizerEvent, finalizer};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::context::{Context, FIELD_MANAGER, FINALIZER};
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

/// First retry after a transient failure; doubled per consecutive failure up to
/// [`MAX_RETRY_DELAY`].
pub const FIRST_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Longest retry delay after transient failures.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(300);

fn object_key<K: Resource<DynamicType = ()>>(kind: &str, object: &K) -> String {
    format!(
        "{kind}/{}/{}",
        object.meta().namespace.as_deref().unwrap_or_default(),
        object.meta().name.as_deref().unwrap_or_default()
    )
}

/// One reconcile of `object` of `kind`: finalizer handling, a `reconcile` span carrying the
/// kind, namespace and name on every log line, metrics, and a reset of the retry backoff on
/// success.
///
/// # Errors
/// Errors of `apply` and of the finalizer machinery.
pub async fn reconcile_object<K, Apply, Cleanup>(
    kind: &'static str,
    object: Arc<K>,
    context: &Context,
    apply: impl FnOnce(Arc<K>) -> Apply,
    cleanup: impl FnOnce(Arc<K>) -> Cleanup,
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
    let key = object_key(kind, object.as_ref());
    let span = tracing::info_span!(
        "reconcile",
        kind,
        namespace = object.meta().namespace.as_deref().unwrap_or_default(),
        name = object.meta().name.as_deref().unwrap_or_default(),
    );
    let started = Instant::now();
    let result = with_finalizer(object, apply, cleanup, context.client.clone())
        .instrument(span)
        .await;
    context.metrics.observe_reconcile(kind, started.elapsed());
    if result.is_ok() {
        context.forget_failures(&key);
    }
    result
}

/// When to retry after `error`: transient errors (database down, lock held, API trouble) with
/// exponential backoff from [`FIRST_RETRY_DELAY`] to [`MAX_RETRY_DELAY`]; errors only a change
/// of the resource can fix at the next resync (the change itself triggers a reconcile).
pub fn retry_after_error<K: Resource<DynamicType = ()>>(
    kind: &'static str,
    object: &K,
    error: &Error,
    context: &Context,
) -> Action {
    context.metrics.observe_error(kind, error.metric_label());
    tracing::warn!(
        kind,
        namespace = object.meta().namespace.as_deref().unwrap_or_default(),
        name = object.meta().name.as_deref().unwrap_or_default(),
        error = %error.public_message(),
        "reconcile failed"
    );
    if !error.is_transient() {
        return Action::requeue(context.resync);
    }
    let failed_before = context.record_failure(&object_key(kind, object));
    let delay = FIRST_RETRY_DELAY.saturating_mul(1u32 << failed_before.min(16));
    Action::requeue(delay.min(MAX_RETRY_DELAY))
}
