//! Writes status with server-side apply under the operator's one field manager, and wraps
//! reconciles (span, metrics, backoff reset, no finalizers).

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;

use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
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

/// Removes the finalizer `foxdb.dev/cleanup` that earlier versions put on every object. The
/// operator keeps no finalizers: nothing it would clean up lives outside its own memory (the
/// database is never touched on deletion, published objects go by owner reference, pools are
/// closed by the manager's sweep), and a finalizer would make deletion wait for an operator
/// that may be uninstalled.
///
/// # Errors
/// API errors.
async fn remove_legacy_finalizer<K>(object: &K, client: kube::Client) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let finalizers = object.finalizers();
    let Some(index) = finalizers.iter().position(|f| f == FINALIZER) else {
        return Ok(());
    };
    let api: Api<K> = Api::namespaced(client, &object.namespace().unwrap_or_default());
    // Test-and-remove, as kube's finalizer helper does: a concurrent change fails the patch.
    let patch = json_patch::Patch(vec![
        json_patch::PatchOperation::Test(json_patch::TestOperation {
            path: json_patch::jsonptr::PointerBuf::parse(format!("/metadata/finalizers/{index}"))
                .map_err(|e| Error::Finalizer(e.to_string()))?,
            value: FINALIZER.into(),
        }),
        json_patch::PatchOperation::Remove(json_patch::RemoveOperation {
            path: json_patch::jsonptr::PointerBuf::parse(format!("/metadata/finalizers/{index}"))
                .map_err(|e| Error::Finalizer(e.to_string()))?,
        }),
    ]);
    api.patch(
        &object.name_any(),
        &PatchParams::default(),
        &Patch::<()>::Json(patch),
    )
    .await?;
    Ok(())
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

/// One reconcile of `object` of `kind`: a `reconcile` span carrying the kind, namespace and
/// name on every log line, metrics, and a reset of the retry backoff on success. An object
/// being deleted is left alone (it carries no finalizer of ours: see
/// [`remove_legacy_finalizer`]).
///
/// # Errors
/// Errors of `apply`; API errors removing a legacy finalizer.
pub async fn reconcile_object<K, Apply>(
    kind: &'static str,
    object: Arc<K>,
    context: &Context,
    apply: impl FnOnce(Arc<K>) -> Apply,
) -> Result<Action>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
    Apply: Future<Output = Result<Action>>,
{
    let key = object_key(kind, object.as_ref());
    let span = tracing::info_span!(
        "reconcile",
        kind,
        namespace = object.meta().namespace.as_deref().unwrap_or_default(),
        name = object.meta().name.as_deref().unwrap_or_default(),
    );
    let started = Instant::now();
    let client = context.client.clone();
    let result = async move {
        remove_legacy_finalizer(object.as_ref(), client).await?;
        if object.meta().deletion_timestamp.is_some() {
            return Ok(Action::await_change());
        }
        apply(object).await
    }
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
