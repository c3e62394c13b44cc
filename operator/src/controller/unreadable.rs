//! Objects the API server admitted but the operator cannot read: reported on the object, never
//! a stall of the whole kind.
//!
//! The controllers watch `DeserializeGuard<K>` instead of `K`: one object that does not
//! deserialize (a field the CRD schema admits and the Rust type does not, written by an older
//! CRD or by hand) no longer fails the watcher's list for its kind in every namespace. It is
//! handed to [`reconcile_guarded`] as an [`InvalidObject`], which sets `Ready=False` and
//! `Stalled=True` with reason `InvalidSpec` and the deserializer's message, publishes a Warning
//! Event, and waits for the object to change; every other object goes on being reconciled.

use std::fmt::Debug;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::core::error_boundary::InvalidObject;
use kube::runtime::controller::Action;
use kube::{Api, Resource};
use serde::de::DeserializeOwned;

use super::conditions::{ConditionType, ConditionUpdate, Reason, merge_conditions};
use super::context::{Context, FIELD_MANAGER};
use super::error::{Error, Result};

/// Runs `reconcile` on a readable object; reports an unreadable one (see the module docs).
///
/// # Errors
/// Errors of `reconcile`; API errors while reporting an unreadable object.
pub async fn reconcile_guarded<K, Reconcile, Fut>(
    object: Arc<DeserializeGuard<K>>,
    context: Arc<Context>,
    reconcile: Reconcile,
) -> Result<Action>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
    Reconcile: FnOnce(Arc<K>, Arc<Context>) -> Fut,
    Fut: Future<Output = Result<Action>>,
{
    match &object.0 {
        Ok(readable) => reconcile(Arc::new(readable.clone()), context).await,
        Err(unreadable) => {
            report_unreadable::<K>(unreadable, &context).await?;
            Ok(Action::await_change())
        }
    }
}

/// The retry policy of a readable object (`policy`); an unreadable one waits for a change.
pub fn error_policy_guarded<K>(
    object: Arc<DeserializeGuard<K>>,
    error: &Error,
    context: Arc<Context>,
    policy: impl FnOnce(Arc<K>, &Error, Arc<Context>) -> Action,
) -> Action
where
    K: Resource<DynamicType = ()> + Clone,
{
    match &object.0 {
        Ok(readable) => policy(Arc::new(readable.clone()), error, context),
        Err(_) => Action::await_change(),
    }
}

/// The message reported for an object of `kind` that does not deserialize.
pub fn unreadable_message(kind: &str, invalid: &InvalidObject) -> String {
    format!(
        "the operator cannot read this {kind}: {}; fix the field (`fox validate` shows every problem) and apply it again",
        invalid.error
    )
}

async fn report_unreadable<K>(invalid: &InvalidObject, context: &Context) -> Result<()>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let kind = K::kind(&());
    let namespace = invalid.metadata.namespace.clone().unwrap_or_default();
    let name = invalid.metadata.name.clone().unwrap_or_default();
    let generation = invalid.metadata.generation;
    let message = unreadable_message(&kind, invalid);
    tracing::warn!(
        kind = %kind,
        namespace,
        name,
        error = %invalid.error,
        "object does not deserialize; reported as InvalidSpec"
    );
    context
        .metrics
        .observe_error(kind_label(&kind), "invalid-spec");
    let conditions = merge_conditions(
        &[],
        &[
            ConditionUpdate::no(ConditionType::Ready, Reason::InvalidSpec, message.clone()),
            ConditionUpdate::yes(ConditionType::Stalled, Reason::InvalidSpec, message.clone()),
            ConditionUpdate::no(ConditionType::Reconciling, Reason::InvalidSpec, ""),
        ],
        generation,
        k8s_openapi::jiff::Timestamp::now(),
    );
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": kind,
        "status": {"conditions": conditions, "observedGeneration": generation},
    });
    // The answer is the object again, which does not deserialize into `K` either.
    let api: Api<DeserializeGuard<K>> = Api::namespaced(context.client.clone(), &namespace);
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await?;
    let reference = ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(kind.clone().into_owned()),
        namespace: Some(namespace),
        name: Some(name),
        uid: invalid.metadata.uid.clone(),
        ..ObjectReference::default()
    };
    context
        .publish(&reference, Reason::InvalidSpec, "Reconcile", message)
        .await;
    Ok(())
}

/// Metric label of a kind (the label values the controllers use).
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "FoxReplicaSet" => "FoxReplicaSet",
        "FoxSchema" => "FoxSchema",
        "FoxMigration" => "FoxMigration",
        _ => "unknown",
    }
}
