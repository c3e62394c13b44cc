//! Publishing a FoxReplicaSet's routing table: the `<name>-rw` and `<name>-ro` Services with
//! their EndpointSlices, and the `<name>-routing` ConfigMap.
//!
//! # Guarantees
//! - Only objects this FoxReplicaSet controls are written: an object of one of those names
//!   that exists without this FoxReplicaSet as its controller (another controller's `-rw`
//!   Service, a ConfigMap made by hand) is never force-applied over; the reconcile fails with
//!   [`Error::PublishConflict`] before anything is written.
//! - When no member answers the operator ([`Endpoints::KeepLast`]), the EndpointSlices and the
//!   ConfigMap keep what they hold: the operator's own network may be what is broken, and
//!   emptying `-rw` would turn that into an outage.
//! - Addresses the [`MemberAddressPolicy`] refuses are left out of the EndpointSlices.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use fox_crds::FoxReplicaSet;
use fox_crds::replica_set::{PublishedCache, RoutingTable};

use super::context::{Context, FIELD_MANAGER};
use super::error::{Error, Result};
use super::member_address::{MemberAddressPolicy, refusal_message};
use super::routing::{
    RoutedState, published_routing, routing_config_map, routing_endpoint_slice, routing_service,
    service_port,
};

/// What to do with the addresses in the EndpointSlices and ConfigMap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoints {
    /// Publish the routing table as computed.
    Publish,
    /// Keep what is published (create them empty only if missing): no member answered.
    KeepLast,
}

/// A member whose address was left out of the EndpointSlices, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedAddress {
    /// Member name.
    pub member: String,
    /// The reason, for status.
    pub message: String,
}

/// Resolves member hosts to IPs for the EndpointSlices (kube-proxy needs addresses).
async fn resolve(address: &(String, u16)) -> Option<IpAddr> {
    if let Ok(ip) = address.0.parse::<IpAddr>() {
        return Some(ip);
    }
    tokio::net::lookup_host((address.0.as_str(), address.1))
        .await
        .ok()?
        .map(|a| a.ip())
        .find(IpAddr::is_ipv4)
}

/// Whether the object `name` may be written: `Ok(true)` when it exists and this FoxReplicaSet
/// controls it, `Ok(false)` when it does not exist.
///
/// # Errors
/// [`Error::PublishConflict`] when it exists under another controller (or none); API errors.
async fn controlled_by<K>(api: &Api<K>, name: &str, owner: &FoxReplicaSet) -> Result<bool>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    let Some(existing) = api.get_opt(name).await? else {
        return Ok(false);
    };
    let uid = owner.uid().unwrap_or_default();
    let controller = existing
        .owner_references()
        .iter()
        .find(|r| r.controller == Some(true));
    match controller {
        Some(reference) if reference.uid == uid => Ok(true),
        other => Err(Error::PublishConflict {
            kind: K::kind(&()).into_owned(),
            namespace: owner.namespace().unwrap_or_default(),
            name: name.to_string(),
            holder: other.map_or_else(
                || "it has no controller".to_string(),
                |r| format!("it is controlled by {} {}", r.kind, r.name),
            ),
        }),
    }
}

async fn apply<K: Serialize + Clone + DeserializeOwned + std::fmt::Debug>(
    api: &Api<K>,
    name: &str,
    object: &K,
) -> Result<()> {
    api.patch(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(object),
    )
    .await?;
    Ok(())
}

/// Writes the Services, EndpointSlices and ConfigMap of `replicaset` for `table`; returns the
/// members whose addresses were refused.
///
/// # Errors
/// [`Error::PublishConflict`] (nothing is written then); API errors.
pub async fn publish_routing(
    replicaset: &FoxReplicaSet,
    context: &Context,
    table: &RoutingTable,
    members: &[RoutedState],
    endpoints: Endpoints,
    cache: Option<&PublishedCache>,
) -> Result<Vec<RefusedAddress>> {
    let namespace = replicaset.namespace().unwrap_or_default();
    let name = replicaset.name_any();
    let Some(owner) = replicaset.controller_owner_ref(&()) else {
        return Ok(Vec::new());
    };
    let engine = replicaset.spec.engine;
    let services: Api<Service> = Api::namespaced(context.client.clone(), &namespace);
    let slices: Api<EndpointSlice> = Api::namespaced(context.client.clone(), &namespace);
    let config_maps: Api<ConfigMap> = Api::namespaced(context.client.clone(), &namespace);
    let groups = [
        (
            format!("{name}-rw"),
            table.primary.iter().cloned().collect::<Vec<_>>(),
        ),
        (format!("{name}-ro"), table.readers.clone()),
    ];
    let config_map_name = format!("{name}-routing");

    // Every name is checked before anything is written.
    let mut slice_exists = Vec::new();
    for (service_name, _) in &groups {
        controlled_by(&services, service_name, replicaset).await?;
        slice_exists.push(controlled_by(&slices, service_name, replicaset).await?);
    }
    let config_map_exists = controlled_by(&config_maps, &config_map_name, replicaset).await?;

    let mut refused = Vec::new();
    for ((service_name, routed_names), exists) in groups.iter().zip(slice_exists) {
        let service = routing_service(service_name, &namespace, &name, engine, &owner);
        apply(&services, service_name, &service).await?;
        if endpoints == Endpoints::KeepLast && exists {
            continue;
        }
        let mut addresses = Vec::new();
        if endpoints == Endpoints::Publish {
            for member in members.iter().filter(|m| routed_names.contains(&m.name)) {
                let Some(address) = &member.address else {
                    continue;
                };
                let Some(ip) = resolve(address).await else {
                    continue;
                };
                match policy(context).refusal(ip) {
                    Some(class) => refused.push(RefusedAddress {
                        member: member.name.clone(),
                        message: refusal_message(&member.name, ip, class),
                    }),
                    None => addresses.push((member.name.clone(), ip, address.1)),
                }
            }
        }
        let slice = routing_endpoint_slice(
            service_name,
            &namespace,
            &name,
            &owner,
            &addresses,
            service_port(engine),
        );
        apply(&slices, service_name, &slice).await?;
    }
    if endpoints == Endpoints::Publish || !config_map_exists {
        let routing = published_routing(
            engine,
            &replicaset.spec.routing,
            table,
            members,
            replicaset.metadata.generation,
            cache.cloned(),
        );
        let config_map = routing_config_map(&config_map_name, &namespace, &name, &owner, &routing);
        apply(&config_maps, &config_map_name, &config_map).await?;
    }
    refused.dedup();
    Ok(refused)
}

fn policy(context: &Context) -> &MemberAddressPolicy {
    &context.member_addresses
}
