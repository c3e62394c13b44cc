//! What every reconcile shares: the API client, metrics, the event recorder, pools per member.

use std::collections::HashMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use tokio::sync::Mutex;

use fox_crds::Reason;

use super::member_address::MemberAddressPolicy;
use crate::engine::member_connection::MemberConnection;
use crate::telemetry::Metrics;

/// The field manager of every server-side apply the operator makes.
pub const FIELD_MANAGER: &str = "fox-operator";

/// The finalizer the operator puts on its resources.
pub const FINALIZER: &str = "foxdb.dev/cleanup";

/// Shared state of the controllers.
#[derive(Clone)]
pub struct Context {
    /// Kubernetes client.
    pub client: Client,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Publishes Kubernetes Events.
    pub recorder: Recorder,
    /// Interval of the periodic resync (drift checks, migration re-checks).
    pub resync: Duration,
    /// The operator's own connection pools, one per FoxReplicaSet member.
    pub pools: std::sync::Arc<Mutex<HashMap<String, MemberPool>>>,
    /// Which member addresses may be published in EndpointSlices.
    pub member_addresses: MemberAddressPolicy,
    /// The namespaces whose Secrets the operator may read (`--secret-namespaces`); empty means
    /// every watched namespace.
    pub secret_namespaces: Vec<String>,
    /// The query cache invalidators, one per FoxReplicaSet with `cache`.
    pub cache_invalidators: super::cache_invalidator::CacheInvalidators,
    /// Consecutive failed reconciles per object, for the retry backoff.
    failures: std::sync::Arc<std::sync::Mutex<HashMap<String, u32>>>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("resync", &self.resync)
            .finish_non_exhaustive()
    }
}

/// A pool to one member and what it was built from (compared by digest, so a changed Secret or
/// pool spec replaces it; the URL itself is not kept here).
#[derive(Clone, Debug)]
pub struct MemberPool {
    /// Digest of the URL and the pool settings.
    pub fingerprint: String,
    /// The pool (SQL, or a MongoDB client).
    pub connection: MemberConnection,
    /// Health checks running on this pool now (the operator is the pool's only user).
    pub in_flight: std::sync::Arc<std::sync::atomic::AtomicU32>,
}

impl MemberPool {
    /// Checks waiting for a connection: those running beyond the connections in use.
    pub fn waiters(&self) -> u32 {
        let state = self.connection.pool_state();
        let busy = state.open.saturating_sub(state.idle);
        self.in_flight
            .load(std::sync::atomic::Ordering::Relaxed)
            .saturating_sub(busy)
    }
}

impl Context {
    /// A context publishing events as `fox-operator` (instance `instance`).
    pub fn new(
        client: Client,
        metrics: Metrics,
        instance: Option<String>,
        resync: Duration,
    ) -> Self {
        let reporter = Reporter {
            controller: FIELD_MANAGER.to_string(),
            instance,
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            metrics,
            resync,
            pools: std::sync::Arc::default(),
            member_addresses: MemberAddressPolicy::default(),
            secret_namespaces: Vec::new(),
            cache_invalidators: super::cache_invalidator::CacheInvalidators::default(),
            failures: std::sync::Arc::default(),
        }
    }

    /// Counts a failed reconcile of `key` and returns how many failed in a row before it.
    pub fn record_failure(&self, key: &str) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let count = failures.entry(key.to_string()).or_default();
        let before = *count;
        *count = count.saturating_add(1);
        before
    }

    /// Forgets the failures of `key` after a successful reconcile.
    pub fn forget_failures(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Publishes an Event about `object` with `reason`, of the type the reason declares
    /// ([`Reason::event`]; Warning for a reason declared for conditions only); a failure is
    /// logged, never fatal (events are advice).
    pub async fn publish(
        &self,
        object: &ObjectReference,
        reason: Reason,
        action: &str,
        note: String,
    ) {
        let type_ = match reason.event().map(|(type_, _)| type_) {
            Some(fox_crds::condition::EventType::Normal) => EventType::Normal,
            Some(fox_crds::condition::EventType::Warning) | None => EventType::Warning,
        };
        let event = Event {
            type_,
            reason: reason.as_str().to_string(),
            note: Some(truncate_note(note)),
            action: action.to_string(),
            secondary: None,
        };
        if let Err(error) = self.recorder.publish(&event, object).await {
            tracing::warn!(
                %error,
                kind = object.kind.as_deref().unwrap_or_default(),
                namespace = object.namespace.as_deref().unwrap_or_default(),
                name = object.name.as_deref().unwrap_or_default(),
                reason = reason.as_str(),
                "could not publish an event"
            );
        }
    }
}

/// Events notes are limited to 1 kB.
fn truncate_note(mut note: String) -> String {
    const MAX: usize = 1000;
    if note.len() > MAX {
        let mut cut = MAX;
        while !note.is_char_boundary(cut) {
            cut -= 1;
        }
        note.truncate(cut);
        note.push('…');
    }
    note
}
