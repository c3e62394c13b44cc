//! The FoxReplicaSet controller: health-checks every member through the operator's own pool,
//! measures replication lag, computes the routing table and publishes it in status, in the
//! `<name>-rw` / `<name>-ro` Services and in the `<name>-routing` ConfigMap.
//!
//! # Expected flow
//! 1. For each member, read its Secret and (re)build its pool when the URL or `spec.pool`
//!    changed; probe it within the acquire timeout.
//! 2. Route: writes to the primary when healthy; reads per `routing.readPreference` among
//!    healthy replicas within `routing.maxReplicaLagSeconds`.
//! 3. Publish (server-side apply, owned by the FoxReplicaSet so they go with it), write status
//!    and metrics, and requeue after `pool.healthCheckIntervalSeconds`.
//! 4. With `spec.transactions`, end the distributed transaction branches left in doubt on a
//!    healthy primary as the coordinator log decided ([`super::in_doubt`]).
//!
//! # Guarantees
//! Connection URLs stay in memory: status, events, logs, metrics and the ConfigMap carry member
//! names, hosts and ports only.

use std::sync::Arc;
use std::time::Duration;

use fox_crds::replica_set::{MemberSpec, MemberStatus};
use fox_crds::{Engine, FoxReplicaSet, FoxReplicaSetStatus, MemberRole};
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Api, Resource, ResourceExt};

use super::cache_invalidator::reconcile_cache;
use super::conditions::{ConditionType, ConditionUpdate, Reason, merge_conditions};
use super::context::{Context, MemberPool};
use super::error::{Error, Result};
use super::publish::{Endpoints, RefusedAddress, publish_routing};
use super::routing::{RoutedState, member_address, replica_problems, routing_table};
use super::secrets::read_member_target;
use super::status::{apply_status, reconcile_object, retry_after_error};
use crate::engine::health::{MemberProbe, probe_member};
use crate::engine::member_connection::MemberTarget;

/// Metrics label of this controller.
pub const KIND: &str = "FoxReplicaSet";

/// Reconciles one FoxReplicaSet (see the module docs).
///
/// # Errors
/// API errors (status could not be written); member failures are reported in status instead.
pub async fn reconcile(replicaset: Arc<FoxReplicaSet>, context: Arc<Context>) -> Result<Action> {
    reconcile_object(KIND, replicaset, &context.clone(), |replicaset| {
        apply(replicaset, context.clone())
    })
    .await
}

/// Requeue policy after an error.
pub fn error_policy(
    replicaset: Arc<FoxReplicaSet>,
    error: &Error,
    context: Arc<Context>,
) -> Action {
    retry_after_error(KIND, replicaset.as_ref(), error, &context)
}

fn members(replicaset: &FoxReplicaSet) -> impl Iterator<Item = (&MemberSpec, MemberRole)> {
    std::iter::once((&replicaset.spec.primary, MemberRole::Primary)).chain(
        replicaset
            .spec
            .replicas
            .iter()
            .map(|r| (r, MemberRole::Replica)),
    )
}

fn pool_key(namespace: &str, replicaset: &str, member: &str) -> String {
    format!("{namespace}/{replicaset}/{member}")
}

/// One member's check: its state for routing and for status.
struct Checked {
    routed: RoutedState,
    role: MemberRole,
    message: Option<String>,
    /// The member's server answered the probe (healthy or not in its role).
    answered: bool,
    /// The server runs without replication (a standalone MongoDB server).
    standalone: bool,
}

async fn apply(replicaset: Arc<FoxReplicaSet>, context: Arc<Context>) -> Result<Action> {
    let spec = &replicaset.spec;
    let interval = Duration::from_secs(u64::from(spec.pool.health_check_interval_seconds.max(1)));
    let previous = replicaset.status.clone().unwrap_or_default();
    let generation = replicaset.metadata.generation;
    let now = Timestamp::now();

    let refused =
        super::error::check_valid(KIND, replicaset.as_ref(), FoxReplicaSet::validate).err();
    if let Some(error) = refused {
        let namespace = replicaset.namespace().unwrap_or_default();
        if context
            .cache_invalidators
            .stop(&namespace, &replicaset.name_any())
        {
            tracing::info!(namespace, replicaset = %replicaset.name_any(), "invalid spec; its cache invalidator stopped");
        }
        let status = FoxReplicaSetStatus {
            conditions: merge_conditions(
                &previous.conditions,
                &[ConditionUpdate::no(
                    ConditionType::Ready,
                    error.condition_reason(),
                    error.to_string(),
                )],
                generation,
                now,
            ),
            observed_generation: generation,
            ..previous.clone()
        };
        if Some(&status) != replicaset.status.as_ref() {
            write_status(&replicaset, &context, &status).await?;
        }
        return Err(error);
    }

    // Members are checked at once: a dead replica must not delay noticing a dead primary.
    let checked: Vec<Checked> = futures::future::join_all(
        members(&replicaset)
            .map(|(member, role)| check_member(&replicaset, member, role, &context)),
    )
    .await;
    let declared: Vec<&str> = members(&replicaset).map(|(m, _)| m.name.as_str()).collect();
    forget_members(&replicaset, &context, &declared, &previous.members).await;

    let primary = &checked[0];
    let replicas: Vec<RoutedState> = checked[1..].iter().map(|c| c.routed.clone()).collect();
    let cache = {
        let pool = if primary.routed.healthy {
            healthy_primary_pool(&replicaset, &context).await
        } else {
            None
        };
        reconcile_cache(&replicaset, &context, pool.as_ref()).await
    };
    let table = routing_table(&spec.routing, &primary.routed, &replicas);
    let problems = replica_problems(&spec.routing, &replicas);

    let last_check = now.to_string();
    let members: Vec<MemberStatus> = checked
        .iter()
        .map(|c| MemberStatus {
            name: c.routed.name.clone(),
            role: c.role,
            healthy: c.routed.healthy,
            lag_seconds: c.routed.lag_seconds.map(|l| (l * 1000.0).round() / 1000.0),
            last_check_time: Some(last_check.clone()),
            message: c.message.clone(),
        })
        .collect();
    announce_health_changes(&replicaset, &context, &previous.members, &members).await;

    // No member answers the operator: its own network may be what is broken, so what was
    // published stays and health is Unknown rather than False.
    let none_answer = checked
        .iter()
        .all(|c| !c.answered && c.routed.address.is_some());
    let publishes = match spec.engine {
        Engine::Postgresql | Engine::Mysql | Engine::Mariadb | Engine::Mongodb => true,
        Engine::Sqlite => false,
    };
    // Status is written whatever publishing does, with the publishing error in Ready.
    let published = if publishes {
        let routed: Vec<RoutedState> = checked.iter().map(|c| c.routed.clone()).collect();
        let endpoints = if none_answer {
            Endpoints::KeepLast
        } else {
            Endpoints::Publish
        };
        publish_routing(
            &replicaset,
            &context,
            &table,
            &routed,
            endpoints,
            cache.published.as_ref(),
        )
        .await
    } else {
        Ok(Vec::new())
    };
    let refused: Vec<RefusedAddress> = published.as_ref().cloned().unwrap_or_default();
    let refused_message = |member: &str| {
        refused
            .iter()
            .find(|r| r.member == member)
            .map(|r| r.message.clone())
    };
    let members: Vec<MemberStatus> = members
        .into_iter()
        .map(|mut m| {
            if let Some(message) = refused_message(&m.name) {
                m.message = Some(message);
            }
            m
        })
        .collect();

    let primary_refused = refused_message(&primary.routed.name);
    let replicas_refused: Vec<String> = checked[1..]
        .iter()
        .filter_map(|c| refused_message(&c.routed.name))
        .collect();
    let primary_condition = if none_answer {
        ConditionUpdate::unknown(
            ConditionType::PrimaryHealthy,
            Reason::Unreachable,
            primary_problem(primary),
        )
    } else if primary.routed.healthy {
        ConditionUpdate::yes(
            ConditionType::PrimaryHealthy,
            Reason::Healthy,
            format!("{} answers", primary.routed.name),
        )
    } else {
        ConditionUpdate::no(
            ConditionType::PrimaryHealthy,
            Reason::Unhealthy,
            primary_problem(primary),
        )
    };
    let replicas_condition = if primary.standalone && !spec.replicas.is_empty() {
        ConditionUpdate::no(
            ConditionType::ReplicasHealthy,
            Reason::StandaloneServer,
            format!(
                "the primary {} is a standalone server without replication, so it has no replicas and their lag cannot be measured; remove spec.replicas, or run it as a replica set (mongod --replSet) and declare its members",
                primary.routed.name
            ),
        )
    } else if spec.replicas.is_empty() && primary.standalone {
        ConditionUpdate::yes(
            ConditionType::ReplicasHealthy,
            Reason::NoReplicas,
            format!(
                "no replicas declared; {} is a standalone server without replication, so there is no lag to measure",
                primary.routed.name
            ),
        )
    } else if spec.replicas.is_empty() {
        ConditionUpdate::yes(
            ConditionType::ReplicasHealthy,
            Reason::NoReplicas,
            "no replicas declared",
        )
    } else if none_answer {
        ConditionUpdate::unknown(
            ConditionType::ReplicasHealthy,
            Reason::Unreachable,
            "no replica answers the operator",
        )
    } else if !replicas_refused.is_empty() {
        ConditionUpdate::no(
            ConditionType::ReplicasHealthy,
            Reason::MemberAddressRefused,
            replicas_refused.join("; "),
        )
    } else if problems.is_empty() {
        ConditionUpdate::yes(
            ConditionType::ReplicasHealthy,
            Reason::Healthy,
            format!("{} replica(s) healthy within the lag limit", replicas.len()),
        )
    } else {
        ConditionUpdate::no(
            ConditionType::ReplicasHealthy,
            Reason::Degraded,
            problems.join("; "),
        )
    };
    let ready = if none_answer {
        ConditionUpdate::unknown(
            ConditionType::Ready,
            Reason::MembersUnreachable,
            format!(
                "no member answers the operator ({}); the last published endpoints are kept, as the operator's own network may be what is broken",
                primary_problem(primary)
            ),
        )
    } else if let Some(message) = primary_refused {
        ConditionUpdate::no(ConditionType::Ready, Reason::MemberAddressRefused, message)
    } else if primary.routed.healthy {
        ConditionUpdate::yes(
            ConditionType::Ready,
            Reason::PrimaryHealthy,
            format!(
                "writes go to {}; {} reader(s)",
                primary.routed.name, table.reader_count
            ),
        )
    } else {
        ConditionUpdate::no(
            ConditionType::Ready,
            Reason::PrimaryUnhealthy,
            "the primary does not answer; writes fail",
        )
    };
    let ready = match &published {
        Ok(_) => ready,
        Err(error @ Error::PublishConflict { .. }) => ConditionUpdate::no(
            ConditionType::Ready,
            error.condition_reason(),
            error.to_string(),
        ),
        Err(error) => ConditionUpdate::no(
            ConditionType::Ready,
            Reason::PublishFailed,
            format!("the routing Services or ConfigMap could not be written: {error}"),
        ),
    };
    let routing = if none_answer {
        previous.routing.clone().unwrap_or(table)
    } else {
        table
    };

    let mut updates = vec![ready, primary_condition, replicas_condition];
    // Without `cache` there is no CacheInvalidating condition (one left from before goes).
    let kept: Vec<_> = previous
        .conditions
        .iter()
        .filter(|c| {
            cache.condition.is_some() || c.type_ != ConditionType::CacheInvalidating.as_str()
        })
        .cloned()
        .collect();
    updates.extend(cache.condition.clone());
    let status = FoxReplicaSetStatus {
        conditions: merge_conditions(&kept, &updates, generation, now),
        members,
        routing: Some(routing),
        observed_generation: generation,
    };
    if status_needs_writing(&previous, &status, now, context.resync) {
        write_status(&replicaset, &context, &status).await?;
    }
    let primary_pool = match &spec.transactions {
        Some(_) if primary.routed.healthy => healthy_primary_pool(&replicaset, &context).await,
        _ => None,
    };
    if let (Some(transactions), Some(pool)) = (&spec.transactions, primary_pool)
        && let Some(database) = pool.connection.sql()
    {
        super::in_doubt::recover_and_announce(&replicaset, transactions, database, &context).await;
    }
    published?;
    Ok(Action::requeue(interval))
}

/// The operator's pool to the primary (call only when its check passed).
async fn healthy_primary_pool(replicaset: &FoxReplicaSet, context: &Context) -> Option<MemberPool> {
    let key = pool_key(
        &replicaset.namespace().unwrap_or_default(),
        &replicaset.name_any(),
        &replicaset.spec.primary.name,
    );
    // The lock is released on return: recovery takes it again for the log's pool.
    context.pools.lock().await.get(&key).cloned()
}

fn primary_problem(primary: &Checked) -> String {
    format!(
        "{}: {}",
        primary.routed.name,
        primary
            .message
            .clone()
            .unwrap_or_else(|| "unhealthy".into())
    )
}

/// Whether `next` is worth an API write over `previous`: something other than the check time
/// and the lag changed (health, a message, routing, a condition, the generation), or the
/// written check time is older than `heartbeat`. A check that changes nothing writes nothing,
/// instead of an etcd write per FoxReplicaSet every `healthCheckIntervalSeconds`.
pub fn status_needs_writing(
    previous: &FoxReplicaSetStatus,
    next: &FoxReplicaSetStatus,
    now: Timestamp,
    heartbeat: Duration,
) -> bool {
    let without_timing = |status: &FoxReplicaSetStatus| {
        let mut status = status.clone();
        for member in &mut status.members {
            member.last_check_time = None;
            member.lag_seconds = None;
        }
        status
    };
    if without_timing(previous) != without_timing(next) {
        return true;
    }
    let oldest_check = previous
        .members
        .iter()
        .map(|m| {
            m.last_check_time
                .as_deref()
                .and_then(|t| t.parse::<Timestamp>().ok())
        })
        .min()
        .flatten();
    let heartbeat = k8s_openapi::jiff::SignedDuration::try_from(heartbeat).unwrap_or_default();
    oldest_check.is_none_or(|checked| now.duration_since(checked) >= heartbeat)
}

async fn write_status(
    replicaset: &FoxReplicaSet,
    context: &Context,
    status: &FoxReplicaSetStatus,
) -> Result<()> {
    let api: Api<FoxReplicaSet> = Api::namespaced(
        context.client.clone(),
        &replicaset.namespace().unwrap_or_default(),
    );
    apply_status(&api, &replicaset.name_any(), status).await
}

/// The member's pool, built or rebuilt as needed (connecting with `pool.retries` retries and
/// exponential backoff).
pub(super) async fn member_pool(
    replicaset: &FoxReplicaSet,
    member: &MemberSpec,
    target: &MemberTarget,
    context: &Context,
) -> std::result::Result<MemberPool, String> {
    let namespace = replicaset.namespace().unwrap_or_default();
    let key = pool_key(&namespace, &replicaset.name_any(), &member.name);
    let fingerprint = target.fingerprint(&replicaset.spec.pool);
    if let Some(existing) = context.pools.lock().await.get(&key)
        && existing.fingerprint == fingerprint
    {
        return Ok(existing.clone());
    }
    let pool = &replicaset.spec.pool;
    let mut attempt = 0;
    let connection = loop {
        match target.connect(pool).await {
            Ok(connection) => break connection,
            Err(message) if attempt >= pool.retries => {
                return Err(message);
            }
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200 << attempt.min(5))).await;
                attempt += 1;
            }
        }
    };
    let entry = MemberPool {
        fingerprint,
        connection,
        in_flight: std::sync::Arc::default(),
    };
    let replaced = context.pools.lock().await.insert(key, entry.clone());
    if let Some(old) = replaced {
        old.connection.close().await;
    }
    Ok(entry)
}

async fn check_member(
    replicaset: &FoxReplicaSet,
    member: &MemberSpec,
    role: MemberRole,
    context: &Context,
) -> Checked {
    let namespace = replicaset.namespace().unwrap_or_default();
    let name = replicaset.name_any();
    let unhealthy = |message: String, address| Checked {
        routed: RoutedState {
            name: member.name.clone(),
            weight: member.weight,
            healthy: false,
            lag_seconds: None,
            address,
        },
        role,
        message: Some(message),
        answered: false,
        standalone: false,
    };
    let target = match read_member_target(
        &context.client,
        &namespace,
        &member.connection,
        replicaset.spec.engine,
    )
    .await
    {
        Ok(target) => target,
        Err(error) => {
            record_member_metrics(context, &namespace, &name, &member.name, role, None, None);
            return unhealthy(error.to_string(), None);
        }
    };
    let address = member_address(&target);
    let pool = match member_pool(replicaset, member, &target, context).await {
        Ok(pool) => pool,
        Err(message) => {
            record_member_metrics(context, &namespace, &name, &member.name, role, None, None);
            return unhealthy(message, address);
        }
    };
    let timeout = Duration::from_secs(u64::from(
        replicaset.spec.pool.acquire_timeout_seconds.clamp(1, 10),
    ));
    pool.in_flight
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let probe: MemberProbe = probe_member(&pool.connection, role, timeout).await;
    pool.in_flight
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    record_member_metrics(
        context,
        &namespace,
        &name,
        &member.name,
        role,
        Some(&probe),
        Some(&pool),
    );
    Checked {
        routed: RoutedState {
            name: member.name.clone(),
            weight: member.weight,
            healthy: probe.healthy,
            lag_seconds: probe.lag_seconds,
            address,
        },
        role,
        answered: probe.answered,
        message: probe.message,
        standalone: probe.standalone,
    }
}

fn record_member_metrics(
    context: &Context,
    namespace: &str,
    replicaset: &str,
    member: &str,
    role: MemberRole,
    probe: Option<&MemberProbe>,
    pool: Option<&MemberPool>,
) {
    let metrics = &context.metrics;
    let role_label = match role {
        MemberRole::Primary => "primary",
        MemberRole::Replica => "replica",
    };
    metrics
        .member_healthy
        .with_label_values(&[namespace, replicaset, member, role_label])
        .set(i64::from(probe.is_some_and(|p| p.healthy)));
    match probe.and_then(|p| p.lag_seconds) {
        Some(lag) => metrics
            .replica_lag
            .with_label_values(&[namespace, replicaset, member])
            .set(lag),
        // An unknown lag is not the last known one.
        None => {
            let _ = metrics
                .replica_lag
                .remove_label_values(&[namespace, replicaset, member]);
        }
    }
    let state = pool.map(|p| p.connection.pool_state()).unwrap_or_default();
    metrics
        .pool_connections
        .with_label_values(&[namespace, replicaset, member, "open"])
        .set(i64::from(state.open));
    metrics
        .pool_connections
        .with_label_values(&[namespace, replicaset, member, "idle"])
        .set(i64::from(state.idle));
    metrics
        .pool_waiters
        .with_label_values(&[namespace, replicaset, member])
        .set(i64::from(pool.map(MemberPool::waiters).unwrap_or(0)));
}

/// Closes the pools and forgets the metrics of members not in `keep`: those with a pool, and
/// those `previous` (the last status) listed, which may never have had one.
/// Closes the pools (and forgets the metrics) of FoxReplicaSets that no longer exist; `live`
/// holds `(namespace, name)` of every FoxReplicaSet there is. Run periodically by the manager:
/// FoxReplicaSets carry no finalizer, so their deletion never waits on the operator.
pub async fn close_pools_of_deleted(
    context: &Context,
    live: &std::collections::HashSet<(String, String)>,
) {
    for key in context.cache_invalidators.retain(live) {
        let (namespace, name) = key.split_once('/').unwrap_or_default();
        context.metrics.forget_cache_invalidator(namespace, name);
        tracing::info!(
            namespace,
            replicaset = name,
            "FoxReplicaSet deleted; its cache invalidator stopped"
        );
    }
    let removed: Vec<(String, MemberPool)> = {
        let mut pools = context.pools.lock().await;
        let gone: Vec<String> = pools
            .keys()
            .filter(|key| {
                let mut parts = key.splitn(3, '/');
                let owner = (
                    parts.next().unwrap_or_default().to_string(),
                    parts.next().unwrap_or_default().to_string(),
                );
                !live.contains(&owner)
            })
            .cloned()
            .collect();
        gone.into_iter()
            .filter_map(|k| pools.remove(&k).map(|p| (k, p)))
            .collect()
    };
    for (key, pool) in removed {
        pool.connection.close().await;
        let mut parts = key.splitn(3, '/');
        let (namespace, name, member) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        context.metrics.forget_member(namespace, name, member);
        tracing::info!(
            namespace,
            replicaset = name,
            member,
            "FoxReplicaSet deleted; closed its member pool"
        );
    }
}

async fn forget_members(
    replicaset: &FoxReplicaSet,
    context: &Context,
    keep: &[&str],
    previous: &[MemberStatus],
) {
    let namespace = replicaset.namespace().unwrap_or_default();
    let name = replicaset.name_any();
    let prefix = pool_key(&namespace, &name, "");
    let removed: Vec<(String, MemberPool)> = {
        let mut pools = context.pools.lock().await;
        let keys: Vec<String> = pools
            .keys()
            .filter(|k| {
                k.strip_prefix(&prefix)
                    .is_some_and(|member| !keep.contains(&member))
            })
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| pools.remove(&k).map(|p| (k, p)))
            .collect()
    };
    for (key, pool) in removed {
        pool.connection.close().await;
        context
            .metrics
            .forget_member(&namespace, &name, key.trim_start_matches(&prefix));
    }
    for member in previous.iter().filter(|m| !keep.contains(&m.name.as_str())) {
        context
            .metrics
            .forget_member(&namespace, &name, &member.name);
    }
}

async fn announce_health_changes(
    replicaset: &FoxReplicaSet,
    context: &Context,
    before: &[MemberStatus],
    after: &[MemberStatus],
) {
    for member in after {
        let was = before
            .iter()
            .find(|b| b.name == member.name)
            .map(|b| b.healthy);
        let (reason, note) = match (was, member.healthy) {
            (Some(true) | None, false) => (
                Reason::MemberUnhealthy,
                format!(
                    "{} is unhealthy: {}",
                    member.name,
                    member.message.clone().unwrap_or_default()
                ),
            ),
            (Some(false), true) => (
                Reason::MemberHealthy,
                format!("{} is healthy again", member.name),
            ),
            _ => continue,
        };
        // Kubernetes groups repeated Events by action and reason, not by message: naming the
        // member in the action keeps one series per member.
        context
            .publish(
                &replicaset.object_ref(&()),
                reason,
                &format!("HealthCheck/{}", member.name),
                note,
            )
            .await;
    }
}
