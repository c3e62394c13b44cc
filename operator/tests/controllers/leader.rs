//! Leader election: one holder, renewal, takeover after expiry, release on shutdown.

use std::time::Duration;

use fox_operator::controller::leader::{LeaderElector, LeaseTiming};
use k8s_openapi::api::coordination::v1::Lease;

use crate::api_server::ApiServer;

fn timing() -> LeaseTiming {
    LeaseTiming {
        duration: Duration::from_secs(1),
        renew: Duration::from_millis(200),
        retry: Duration::from_millis(100),
        renew_deadline: Duration::from_millis(700),
    }
}

#[tokio::test]
async fn one_process_holds_the_lease_and_another_takes_over_after_expiry() {
    let api = ApiServer::start();
    let first = LeaderElector::new(
        api.client.clone(),
        "fox-system",
        "fox-operator",
        "pod-a",
        timing(),
    );
    let second = LeaderElector::new(
        api.client.clone(),
        "fox-system",
        "fox-operator",
        "pod-b",
        timing(),
    );

    assert!(
        first.try_acquire_or_renew().await.unwrap(),
        "a free lease is taken"
    );
    assert!(
        !second.try_acquire_or_renew().await.unwrap(),
        "a held lease is not"
    );
    assert!(
        first.try_acquire_or_renew().await.unwrap(),
        "the holder renews"
    );
    let lease: Lease = api.get("fox-system", "fox-operator").unwrap();
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("pod-a"));
    assert_eq!(spec.lease_transitions, Some(0));
    // The standby saw the renewal: its wait for expiry starts again from now.
    assert!(!second.try_acquire_or_renew().await.unwrap());
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        !second.try_acquire_or_renew().await.unwrap(),
        "not expired: a whole duration has not passed since the renewal was seen"
    );

    tokio::time::sleep(Duration::from_millis(700)).await;
    assert!(
        second.try_acquire_or_renew().await.unwrap(),
        "an expired lease is taken over"
    );
    let lease: Lease = api.get("fox-system", "fox-operator").unwrap();
    assert_eq!(
        lease.spec.as_ref().unwrap().holder_identity.as_deref(),
        Some("pod-b")
    );
    assert_eq!(lease.spec.unwrap().lease_transitions, Some(1));
    // The old leader notices and stops.
    tokio::time::timeout(Duration::from_secs(5), first.hold())
        .await
        .expect("hold returns when the lease is lost");

    second.release().await.unwrap();
    let lease: Lease = api.get("fox-system", "fox-operator").unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity, None);
    assert!(
        first.try_acquire_or_renew().await.unwrap(),
        "a released lease is free at once"
    );
}

#[tokio::test]
async fn a_standby_judges_expiry_on_its_own_clock_not_the_holders() {
    let api = ApiServer::start();
    // The holder's clock runs an hour behind: its renewTime looks long expired.
    let skewed =
        k8s_openapi::jiff::Timestamp::now() - k8s_openapi::jiff::SignedDuration::from_hours(1);
    api.insert(&Lease {
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some("fox-operator".into()),
            namespace: Some("fox-system".into()),
            ..Default::default()
        },
        spec: Some(k8s_openapi::api::coordination::v1::LeaseSpec {
            holder_identity: Some("pod-x".into()),
            lease_duration_seconds: Some(1),
            renew_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
                skewed,
            )),
            ..Default::default()
        }),
    });
    let standby = LeaderElector::new(
        api.client.clone(),
        "fox-system",
        "fox-operator",
        "pod-b",
        timing(),
    );
    assert!(
        !standby.try_acquire_or_renew().await.unwrap(),
        "not before a lease duration of silence"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(
        standby.try_acquire_or_renew().await.unwrap(),
        "after a whole duration without renewal"
    );
}

#[tokio::test]
async fn a_renewal_that_hangs_cannot_carry_the_leader_past_its_deadline() {
    let api = ApiServer::start();
    // The default's proportions: renew well inside the lease, deadline before expiry.
    let timing = LeaseTiming {
        duration: Duration::from_millis(1500),
        renew: Duration::from_millis(500),
        retry: Duration::from_millis(100),
        renew_deadline: Duration::from_millis(1000),
    };
    let leader = LeaderElector::new(
        api.client.clone(),
        "fox-system",
        "fox-operator",
        "pod-a",
        timing,
    );
    assert!(leader.try_acquire_or_renew().await.unwrap());
    let renewed = std::time::Instant::now();
    // From now on the API server answers Lease requests only after the lease has expired.
    api.delay("leases", Some(Duration::from_secs(5)));
    tokio::time::timeout(Duration::from_secs(4), leader.hold())
        .await
        .expect("hold returns");
    let stopped = renewed.elapsed();
    assert!(
        stopped < Duration::from_millis(1400),
        "stopped {stopped:?} after the last renewal; a standby may take over after 1.5 s"
    );
    assert!(
        stopped >= Duration::from_millis(900),
        "not before the deadline: {stopped:?}"
    );
}

#[test]
fn the_default_timing_renews_well_inside_the_lease() {
    let timing = LeaseTiming::default();
    assert_eq!(timing.renew, Duration::from_secs(2));
    assert!(timing.renew_deadline < timing.duration);
    assert!(timing.renew * 4 < timing.renew_deadline + timing.renew);
}
