//! Leader election with a `coordination.k8s.io` Lease, so several replicas of the operator can
//! run and exactly one reconciles.
//!
//! # Expected flow
//! A process tries to acquire the Lease every `retry` until it holds it (the Lease is free,
//! expired, or already its own). The leader renews it every `renew` (2 s), well inside the
//! lease; each renewal may take only what is left of `renew_deadline` (counted from when the
//! last successful renewal was sent), so a request that hangs cannot carry the leader past its
//! deadline. Without a renewal within `renew_deadline` (10 s, shorter than the 15 s lease) it
//! stops reconciling ([`LeaderElector::hold`] returns) before any standby may take over, and
//! the process exits so a fresh start competes again. On shutdown the leader releases the
//! Lease, so a standby takes over at once.
//!
//! # Guarantees
//! A standby judges expiry on its own monotonic clock, as client-go does: it notes when it last
//! saw the holder's `renewTime` change and takes over only after a whole lease duration without
//! change, so clock skew between nodes cannot make it take over early.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::api::PostParams;
use kube::{Api, Client};

/// Lease timing.
#[derive(Clone, Copy, Debug)]
pub struct LeaseTiming {
    /// How long a Lease stays valid without renewal.
    pub duration: Duration,
    /// How often the leader renews.
    pub renew: Duration,
    /// How often a standby retries.
    pub retry: Duration,
    /// The leader stops when it has not renewed for this long (less than `duration`); each
    /// request is also cut off after it.
    pub renew_deadline: Duration,
}

impl Default for LeaseTiming {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(15),
            renew: Duration::from_secs(2),
            retry: Duration::from_secs(2),
            renew_deadline: Duration::from_secs(10),
        }
    }
}

/// One contender for a Lease.
#[derive(Debug)]
pub struct LeaderElector {
    leases: Api<Lease>,
    name: String,
    identity: String,
    timing: LeaseTiming,
    /// The other holder's last seen (holder, renewTime) and when this process saw it change.
    observed: std::sync::Mutex<Option<(String, String, tokio::time::Instant)>>,
}

impl LeaderElector {
    /// A contender named `identity` for Lease `name` in `namespace`.
    pub fn new(
        client: Client,
        namespace: &str,
        name: &str,
        identity: &str,
        timing: LeaseTiming,
    ) -> Self {
        Self {
            leases: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            timing,
            observed: std::sync::Mutex::new(None),
        }
    }

    /// Whether another holder's Lease expired, judged on this process's monotonic clock.
    fn expired_locally(&self, holder: &str, renew_time: &str, duration: Duration) -> bool {
        let mut observed = self.observed.lock().unwrap_or_else(|e| e.into_inner());
        let now = tokio::time::Instant::now();
        match observed.as_ref() {
            Some((seen_holder, seen_renew, since))
                if seen_holder == holder && seen_renew == renew_time =>
            {
                now.duration_since(*since) > duration
            }
            _ => {
                *observed = Some((holder.to_string(), renew_time.to_string(), now));
                false
            }
        }
    }

    /// One attempt, cut off after `limit`.
    async fn attempt(&self, limit: Duration) -> Result<bool, String> {
        match tokio::time::timeout(limit, self.try_acquire_or_renew()).await {
            Ok(Ok(held)) => Ok(held),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!(
                "no answer from the API server within {} s",
                limit.as_secs_f64()
            )),
        }
    }

    /// Takes or renews the Lease once; `true` when this process holds it afterwards.
    ///
    /// # Errors
    /// API errors other than a lost race (a conflict means another process won: `false`).
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = Timestamp::now();
        let duration_seconds = i32::try_from(self.timing.duration.as_secs()).unwrap_or(i32::MAX);
        let Some(mut lease) = self.leases.get_opt(&self.name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(self.identity.clone()),
                    lease_duration_seconds: Some(duration_seconds),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.leases.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(status)) if status.is_already_exists() => Ok(false),
                Err(error) => Err(error),
            };
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().filter(|h| !h.is_empty());
        let ours = holder.as_deref() == Some(self.identity.as_str());
        if let (false, Some(holder)) = (ours, holder.as_deref()) {
            let renewed = spec
                .renew_time
                .as_ref()
                .map(|t| t.0.to_string())
                .unwrap_or_default();
            let duration = Duration::from_secs(
                u64::try_from(spec.lease_duration_seconds.unwrap_or(duration_seconds)).unwrap_or(0),
            );
            if !self.expired_locally(holder, &renewed, duration) {
                return Ok(false);
            }
        }
        if !ours {
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            spec.holder_identity = Some(self.identity.clone());
        }
        spec.renew_time = Some(MicroTime(now));
        spec.lease_duration_seconds = Some(duration_seconds);
        // The resourceVersion from the read makes this a compare-and-swap.
        match self
            .leases
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.is_conflict() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Waits until this process holds the Lease.
    pub async fn acquire(&self) {
        loop {
            match self.attempt(self.timing.renew_deadline).await {
                Ok(true) => {
                    tracing::info!(lease = %self.name, identity = %self.identity, "acquired the leader lease");
                    return;
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(%error, lease = %self.name, "leader election failed; retrying");
                }
            }
            tokio::time::sleep(self.timing.retry).await;
        }
    }

    /// Renews the Lease until another process holds it or no renewal succeeded within
    /// `renew_deadline`; then returns (the caller must stop reconciling at once).
    pub async fn hold(&self) {
        let mut last_renewed = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(self.timing.renew).await;
            let sent = tokio::time::Instant::now();
            let remaining = self
                .timing
                .renew_deadline
                .saturating_sub(last_renewed.elapsed());
            if remaining.is_zero() {
                tracing::error!(lease = %self.name, "the leader lease was not renewed in time");
                return;
            }
            match self.attempt(remaining).await {
                Ok(true) => last_renewed = sent,
                Ok(false) => {
                    tracing::error!(lease = %self.name, "another process holds the leader lease");
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, lease = %self.name, "could not renew the leader lease");
                }
            }
            if last_renewed.elapsed() >= self.timing.renew_deadline {
                tracing::error!(lease = %self.name, "the leader lease was not renewed in time");
                return;
            }
        }
    }

    /// Gives the Lease up (on shutdown) so a standby takes over at once.
    ///
    /// # Errors
    /// API errors.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let Some(mut lease) = self.leases.get_opt(&self.name).await? else {
            return Ok(());
        };
        let Some(spec) = lease.spec.as_mut() else {
            return Ok(());
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        spec.acquire_time = None;
        self.leases
            .replace(&self.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
    }
}
