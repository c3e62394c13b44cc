//! Who takes writes and reads: the routing table computed from member health and lag, and the
//! objects that publish it (`<name>-rw` / `<name>-ro` Services with their EndpointSlices, and
//! the `<name>-routing` ConfigMap).

use std::collections::BTreeMap;
use std::net::IpAddr;

use fox_crds::replica_set::{PublishedCache, ReadPreference, RoutingSpec, RoutingTable};
use fox_crds::{Engine, PublishedRouting, RoutedMember};
use foxdb::DatabaseUrl;

use crate::engine::member_connection::MemberTarget;
use k8s_openapi::api::core::v1::{ConfigMap, Service, ServicePort, ServiceSpec};
use k8s_openapi::api::discovery::v1::{Endpoint, EndpointConditions, EndpointPort, EndpointSlice};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// One member as the router sees it after a health check.
#[derive(Clone, Debug, PartialEq)]
pub struct RoutedState {
    /// Member name.
    pub name: String,
    /// Read weight.
    pub weight: u32,
    /// Whether the check succeeded.
    pub healthy: bool,
    /// Replication lag (replicas).
    pub lag_seconds: Option<f64>,
    /// Host and port from the URL (none for SQLite).
    pub address: Option<(String, u16)>,
}

/// The routing decision: the primary when healthy; readers by `readPreference` among healthy
/// replicas within `maxReplicaLagSeconds` (weight 0 excludes a replica).
pub fn routing_table(
    spec: &RoutingSpec,
    primary: &RoutedState,
    replicas: &[RoutedState],
) -> RoutingTable {
    let primary_name = primary.healthy.then(|| primary.name.clone());
    let eligible: Vec<String> = eligible_replicas(spec, replicas)
        .map(|r| r.name.clone())
        .collect();
    let readers = match spec.read_preference {
        ReadPreference::Primary => primary_name.iter().cloned().collect(),
        ReadPreference::ReplicaPreferred if eligible.is_empty() => {
            primary_name.iter().cloned().collect()
        }
        ReadPreference::ReplicaPreferred | ReadPreference::Replica => eligible,
    };
    RoutingTable {
        primary: primary_name,
        reader_count: u32::try_from(readers.len()).unwrap_or(u32::MAX),
        readers,
    }
}

fn eligible_replicas<'a>(
    spec: &'a RoutingSpec,
    replicas: &'a [RoutedState],
) -> impl Iterator<Item = &'a RoutedState> {
    let limit = f64::from(spec.max_replica_lag_seconds);
    replicas
        .iter()
        .filter(move |r| r.healthy && r.weight > 0 && r.lag_seconds.is_some_and(|lag| lag <= limit))
}

/// Why a replica is not a reader, for the `ReplicasHealthy` condition; empty when all are.
pub fn replica_problems(spec: &RoutingSpec, replicas: &[RoutedState]) -> Vec<String> {
    let limit = f64::from(spec.max_replica_lag_seconds);
    replicas
        .iter()
        .filter_map(|r| {
            if !r.healthy {
                Some(format!("{} is unhealthy", r.name))
            } else {
                match r.lag_seconds {
                    Some(lag) if lag > limit => Some(format!(
                        "{} lags {lag:.1} s (more than routing.maxReplicaLagSeconds {limit})",
                        r.name
                    )),
                    None => Some(format!("{} reports no replication lag", r.name)),
                    _ => None,
                }
            }
        })
        .collect()
}

/// Host and port of a URL: the engine's default port when none is given; `None` for SQLite
/// and for socket-only URLs.
pub fn url_address(url: &DatabaseUrl) -> Option<(String, u16)> {
    let default_port = match url.backend() {
        foxdb::Backend::Postgres => 5432,
        foxdb::Backend::MySql => 3306,
        foxdb::Backend::Sqlite => return None,
    };
    host_port(&url.location(), default_port)
}

/// Host and port of a member: [`url_address`] for SQL; for MongoDB the one host of its URL
/// (27017 when it gives no port), `None` when the URL lists several (the member would not be
/// one server).
pub fn member_address(target: &MemberTarget) -> Option<(String, u16)> {
    match target {
        MemberTarget::Sql { url, .. } => url_address(url),
        MemberTarget::Document(url) => host_port(&url.location(), 27017),
    }
}

/// `host[:port]` or `[v6]:port` with `default_port`; `None` for several hosts or none.
fn host_port(location: &str, default_port: u16) -> Option<(String, u16)> {
    if location.contains(',') {
        return None;
    }
    let (host, port) = if let Some(rest) = location.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (
            host.to_string(),
            after.strip_prefix(':').map(str::to_string),
        )
    } else {
        match location.rsplit_once(':') {
            Some((host, port)) => (host.to_string(), Some(port.to_string())),
            None => (location.to_string(), None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    Some((host, port))
}

/// The engine's usual port, which the Services expose.
pub fn service_port(engine: Engine) -> u16 {
    match engine {
        Engine::Postgresql => 5432,
        Engine::Mysql | Engine::Mariadb => 3306,
        Engine::Mongodb => 27017,
        Engine::Sqlite => 0,
    }
}

/// The ConfigMap contents.
pub fn published_routing(
    engine: Engine,
    spec: &RoutingSpec,
    table: &RoutingTable,
    members: &[RoutedState],
    generation: Option<i64>,
    cache: Option<PublishedCache>,
) -> PublishedRouting {
    let routed = |name: &str| {
        let member = members.iter().find(|m| m.name == name)?;
        let (host, port) = member.address.clone()?;
        Some(RoutedMember {
            name: member.name.clone(),
            host,
            port,
            weight: member.weight,
        })
    };
    PublishedRouting {
        engine,
        primary: table.primary.as_deref().and_then(routed),
        readers: table.readers.iter().filter_map(|r| routed(r)).collect(),
        read_preference: spec.read_preference,
        max_replica_lag_seconds: spec.max_replica_lag_seconds,
        read_your_writes: spec.read_your_writes,
        read_your_writes_seconds: spec.read_your_writes_seconds,
        observed_generation: generation,
        cache,
    }
}

/// Labels on every object the operator publishes for a FoxReplicaSet.
pub fn published_labels(replicaset: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "app.kubernetes.io/managed-by".to_string(),
            "fox-operator".to_string(),
        ),
        ("foxdb.dev/replicaset".to_string(), replicaset.to_string()),
    ])
}

fn metadata(name: &str, namespace: &str, replicaset: &str, owner: &OwnerReference) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(namespace.to_string()),
        labels: Some(published_labels(replicaset)),
        owner_references: Some(vec![owner.clone()]),
        ..ObjectMeta::default()
    }
}

/// A Service without a selector: its endpoints are the EndpointSlice of the same name.
pub fn routing_service(
    name: &str,
    namespace: &str,
    replicaset: &str,
    engine: Engine,
    owner: &OwnerReference,
) -> Service {
    Service {
        metadata: metadata(name, namespace, replicaset, owner),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            ports: Some(vec![ServicePort {
                name: Some("db".into()),
                port: i32::from(service_port(engine)),
                protocol: Some("TCP".into()),
                target_port: Some(IntOrString::String("db".into())),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The endpoints behind a routing Service: the given members' addresses that resolved to
/// IPv4, on the port most of them use (a slice has one port list; members on other ports stay
/// in the ConfigMap only).
pub fn routing_endpoint_slice(
    service: &str,
    namespace: &str,
    replicaset: &str,
    owner: &OwnerReference,
    members: &[(String, IpAddr, u16)],
    fallback_port: u16,
) -> EndpointSlice {
    let mut port_counts: BTreeMap<u16, usize> = BTreeMap::new();
    for (_, _, port) in members.iter().filter(|(_, ip, _)| ip.is_ipv4()) {
        *port_counts.entry(*port).or_default() += 1;
    }
    let port = port_counts
        .iter()
        .max_by_key(|(port, count)| (**count, std::cmp::Reverse(**port)))
        .map(|(port, _)| *port)
        .unwrap_or(fallback_port);
    let endpoints = members
        .iter()
        .filter(|(_, ip, p)| *p == port && ip.is_ipv4())
        .map(|(_, ip, _)| Endpoint {
            addresses: vec![ip.to_string()],
            conditions: Some(EndpointConditions {
                ready: Some(true),
                serving: Some(true),
                terminating: Some(false),
            }),
            hostname: None,
            target_ref: None,
            zone: None,
            node_name: None,
            deprecated_topology: None,
            hints: None,
        })
        .collect();
    let mut meta = metadata(service, namespace, replicaset, owner);
    if let Some(labels) = meta.labels.as_mut() {
        labels.insert("kubernetes.io/service-name".into(), service.to_string());
        labels.insert(
            "endpointslice.kubernetes.io/managed-by".into(),
            "fox-operator.foxdb.dev".into(),
        );
    }
    EndpointSlice {
        metadata: meta,
        address_type: "IPv4".into(),
        endpoints,
        ports: Some(vec![EndpointPort {
            name: Some("db".into()),
            port: Some(i32::from(port)),
            protocol: Some("TCP".into()),
            app_protocol: None,
        }]),
    }
}

/// The `<name>-routing` ConfigMap.
pub fn routing_config_map(
    name: &str,
    namespace: &str,
    replicaset: &str,
    owner: &OwnerReference,
    routing: &PublishedRouting,
) -> ConfigMap {
    let json = serde_json::to_string_pretty(routing).unwrap_or_default();
    ConfigMap {
        metadata: metadata(name, namespace, replicaset, owner),
        data: Some(BTreeMap::from([("routing.json".to_string(), json)])),
        ..ConfigMap::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(name: &str, healthy: bool, lag: Option<f64>) -> RoutedState {
        RoutedState {
            name: name.into(),
            weight: 100,
            healthy,
            lag_seconds: lag,
            address: Some(("10.0.0.1".into(), 5432)),
        }
    }

    #[test]
    fn a_lagging_replica_leaves_the_readers() {
        let spec = RoutingSpec::default();
        let table = routing_table(
            &spec,
            &member("p", true, None),
            &[
                member("r1", true, Some(0.5)),
                member("r2", true, Some(30.0)),
            ],
        );
        assert_eq!(table.primary.as_deref(), Some("p"));
        assert_eq!(table.readers, vec!["r1".to_string()]);
        assert_eq!(table.reader_count, 1);
        let problems = replica_problems(&spec, &[member("r2", true, Some(30.0))]);
        assert!(problems[0].contains("r2 lags 30.0 s"), "{problems:?}");
    }

    #[test]
    fn replica_preferred_falls_back_to_the_primary_and_replica_only_does_not() {
        let mut spec = RoutingSpec::default();
        let replicas = [member("r1", false, None)];
        let table = routing_table(&spec, &member("p", true, None), &replicas);
        assert_eq!(table.readers, vec!["p".to_string()]);
        spec.read_preference = ReadPreference::Replica;
        let table = routing_table(&spec, &member("p", true, None), &replicas);
        assert!(table.readers.is_empty());
        spec.read_preference = ReadPreference::Primary;
        let table = routing_table(
            &spec,
            &member("p", false, None),
            &[member("r1", true, Some(0.0))],
        );
        assert_eq!(table.primary, None);
        assert!(table.readers.is_empty());
    }

    #[test]
    fn addresses_come_from_the_url_without_credentials() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.example:6543/app").unwrap();
        assert_eq!(url_address(&url), Some(("db.example".into(), 6543)));
        let url = DatabaseUrl::parse("mysql://root@[::1]/x").unwrap();
        assert_eq!(url_address(&url), Some(("::1".into(), 3306)));
        let url = DatabaseUrl::parse("sqlite://data/app.sqlite").unwrap();
        assert_eq!(url_address(&url), None);
    }
}
