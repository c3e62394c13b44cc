//! `fox run`: the telemetry server, leader election and the three controllers.
//!
//! # Expected flow
//! 1. Serve `/metrics`, `/healthz`, `/readyz`; connect to the API server and check the FoxDB
//!    CRDs are installed (then `/readyz` answers 200).
//! 2. With leader election on, wait for the Lease; only the leader reconciles.
//! 3. Run the controllers until SIGTERM/SIGINT (then release the Lease) or until leadership is
//!    lost (then exit non-zero so the pod restarts and competes again).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use fox_crds::{FoxMigration, FoxReplicaSet, FoxSchema};
use futures::{StreamExt, future};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::ListParams;
use kube::core::{DeserializeGuard, PartialObjectMeta};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::utils::Predicate;
use kube::runtime::{Controller, WatchStreamExt, predicates, watcher};
use kube::{Api, Client, Resource, ResourceExt};

use super::context::Context;
use super::leader::{LeaderElector, LeaseTiming};
use super::unreadable::{error_policy_guarded, reconcile_guarded};
use super::{migration, replica_set, schema};
use crate::telemetry::Metrics;
use crate::telemetry::server::{Health, TelemetryServer};

/// Settings of `fox run`.
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Address of the telemetry server.
    pub metrics_addr: SocketAddr,
    /// Whether to elect a leader with a Lease.
    pub leader_elect: bool,
    /// Lease name.
    pub lease_name: String,
    /// Lease namespace.
    pub lease_namespace: String,
    /// This process's identity (the pod name).
    pub identity: String,
    /// Watch only this namespace (all when `None`).
    pub watch_namespace: Option<String>,
    /// Periodic resync interval.
    pub resync: Duration,
    /// Which member addresses may be published in EndpointSlices.
    pub member_addresses: super::member_address::MemberAddressPolicy,
    /// Namespaces whose Secrets may be read; empty: every watched namespace.
    pub secret_namespaces: Vec<String>,
}

/// Labels selecting the objects the operator publishes (Services, EndpointSlices, ConfigMaps).
const PUBLISHED_SELECTOR: &str = "app.kubernetes.io/managed-by=fox-operator";

fn scoped<K>(client: &Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>,
{
    match namespace {
        Some(namespace) => Api::namespaced(client.clone(), namespace),
        None => Api::all(client.clone()),
    }
}

/// Runs the operator until a shutdown signal.
///
/// # Errors
/// No API server, missing CRDs, a port that cannot be bound, or lost leadership.
pub async fn run(config: RunConfig) -> anyhow::Result<()> {
    let metrics = Metrics::new();
    let health = Arc::new(Health::default());
    let server = TelemetryServer::bind(config.metrics_addr, metrics.clone(), health.clone())
        .await
        .with_context(|| format!("cannot listen on {} (--metrics-addr)", config.metrics_addr))?;
    tracing::info!(address = %server.local_addr()?, "serving /metrics, /healthz and /readyz");
    tokio::spawn(server.serve());

    let client = Client::try_default()
        .await
        .context("cannot configure a Kubernetes client (in-cluster or KUBECONFIG)")?;
    check_crds(&client, config.watch_namespace.as_deref()).await?;
    health.set_ready(true);

    let elector = LeaderElector::new(
        client.clone(),
        &config.lease_namespace,
        &config.lease_name,
        &config.identity,
        LeaseTiming::default(),
    );
    if config.leader_elect {
        tokio::select! {
            () = elector.acquire() => {}
            () = shutdown_signal() => return Ok(()),
        }
    }
    metrics.leader.set(1);

    let mut context = Context::new(
        client.clone(),
        metrics.clone(),
        Some(config.identity.clone()),
        config.resync,
    );
    context.member_addresses = config.member_addresses.clone();
    context.secret_namespaces = config.secret_namespaces.clone();
    let context = Arc::new(context);
    let controllers = run_controllers(
        client,
        config.watch_namespace.as_deref(),
        context,
        health.clone(),
    );
    let outcome = if config.leader_elect {
        tokio::select! {
            () = controllers => Ok(()),
            () = elector.hold() => {
                health.set_failed();
                Err(anyhow::anyhow!("lost the leader lease {}/{}; exiting so a fresh start competes again", config.lease_namespace, config.lease_name))
            }
        }
    } else {
        controllers.await;
        Ok(())
    };
    metrics.leader.set(0);
    if config.leader_elect
        && outcome.is_ok()
        && let Err(error) = elector.release().await
    {
        tracing::warn!(%error, "could not release the leader lease; a standby takes over when it expires");
    }
    outcome
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = interrupt => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = interrupt.await;
}

async fn check_crds(client: &Client, namespace: Option<&str>) -> anyhow::Result<()> {
    let probe = ListParams::default().limit(1);
    let missing = |kind: &str| {
        format!(
            "cannot list {kind}s: is the CRD installed (kubectl apply -f crds/, or the Helm chart) and may this service account list it?"
        )
    };
    scoped::<FoxReplicaSet>(client, namespace)
        .list_metadata(&probe)
        .await
        .with_context(|| missing("FoxReplicaSet"))?;
    scoped::<FoxSchema>(client, namespace)
        .list_metadata(&probe)
        .await
        .with_context(|| missing("FoxSchema"))?;
    scoped::<FoxMigration>(client, namespace)
        .list_metadata(&probe)
        .await
        .with_context(|| missing("FoxMigration"))?;
    Ok(())
}

/// Runs the three controllers until a shutdown signal.
///
/// # Guarantees
/// - An object that does not deserialize stalls nothing: the watches read `DeserializeGuard<K>`,
///   so it is reported on the object (`Ready=False`, `InvalidSpec`, see
///   [`super::unreadable`]) and every other object of its kind goes on.
/// - A watch error (a list or watch the API server refused, a broken stream) is logged at
///   warn and turns `/readyz` 503 through `health` until that watch answers again; the watch
///   retries with backoff.
pub async fn run_controllers(
    client: Client,
    namespace: Option<&str>,
    context: Arc<Context>,
    health: Arc<Health>,
) {
    let config = watcher::Config::default().any_semantic();
    let published = watcher::Config::default().labels(PUBLISHED_SELECTOR);

    // Status writes must not re-trigger reconciles: only spec (generation) changes do, plus
    // annotations on FoxSchemas (plan approval).
    let (replicasets, replicaset_writer) = reflector::store::<Guarded<FoxReplicaSet>>();
    let replicaset_stream = watched(
        "FoxReplicaSet",
        watcher(
            scoped::<Guarded<FoxReplicaSet>>(&client, namespace),
            config.clone(),
        ),
        &health,
    )
    .default_backoff()
    .reflect(replicaset_writer)
    .applied_objects()
    .predicate_filter(spec_or_lifecycle_change, Default::default());
    let replicasets_for_secrets = replicasets.clone();
    let replicaset_controller = Controller::for_stream(replicaset_stream, replicasets.clone())
        .watches_stream(
            secret_changes(
                &client,
                namespace,
                &context.secret_namespaces,
                &config,
                &health,
                "Secret (FoxReplicaSet)",
            ),
            move |secret| {
                let namespace = secret.namespace();
                let secret_name = secret.name_any();
                replicasets_for_secrets
                    .state()
                    .iter()
                    .filter(|rs| rs.namespace() == namespace)
                    .filter(|rs| {
                        rs.0.as_ref().is_ok_and(|rs| {
                            std::iter::once(&rs.spec.primary)
                                .chain(&rs.spec.replicas)
                                .any(|m| m.connection.name == secret_name)
                        })
                    })
                    .map(|rs| ObjectRef::from_obj(rs.as_ref()))
                    .collect::<Vec<_>>()
            },
        )
        .owns_stream(published_changes::<Service>(
            &client,
            namespace,
            &context.secret_namespaces,
            &published,
            &health,
        ))
        .owns_stream(published_changes::<EndpointSlice>(
            &client,
            namespace,
            &context.secret_namespaces,
            &published,
            &health,
        ))
        .owns_stream(published_changes::<ConfigMap>(
            &client,
            namespace,
            &context.secret_namespaces,
            &published,
            &health,
        ))
        .shutdown_on_signal()
        .run(
            |object, context| reconcile_guarded(object, context, replica_set::reconcile),
            |object, error, context| {
                error_policy_guarded(object, error, context, replica_set::error_policy)
            },
            context.clone(),
        )
        .for_each(|_| future::ready(()));

    let (schemas, schema_writer) = reflector::store::<Guarded<FoxSchema>>();
    let schema_stream = watched(
        "FoxSchema",
        watcher(
            scoped::<Guarded<FoxSchema>>(&client, namespace),
            config.clone(),
        ),
        &health,
    )
    .default_backoff()
    .reflect(schema_writer)
    .applied_objects()
    .predicate_filter(
        spec_or_lifecycle_change.combine(predicates::annotations),
        Default::default(),
    );
    let watches = Watches {
        client: &client,
        namespace,
        config: &config,
        health: &health,
        secret_namespaces: &context.secret_namespaces,
    };
    let schema_controller = dependent_controller(schema_stream, schemas, &replicasets, &watches)
        .shutdown_on_signal()
        .run(
            |object, context| reconcile_guarded(object, context, schema::reconcile),
            |object, error, context| {
                error_policy_guarded(object, error, context, schema::error_policy)
            },
            context.clone(),
        )
        .for_each(|_| future::ready(()));

    let pool_store = replicasets.clone();
    let sweep_context = context.clone();
    let (migrations, migration_writer) = reflector::store::<Guarded<FoxMigration>>();
    let migration_stream = watched(
        "FoxMigration",
        watcher(
            scoped::<Guarded<FoxMigration>>(&client, namespace),
            config.clone(),
        ),
        &health,
    )
    .default_backoff()
    .reflect(migration_writer)
    .applied_objects()
    .predicate_filter(spec_or_lifecycle_change, Default::default());
    let migrations_by_schema = migrations.clone();
    let migration_controller =
        dependent_controller(migration_stream, migrations, &replicasets, &watches)
            // A tenant added to a FoxSchema gets the migrations that run in its tenants now.
            .watches_stream(
                spec_changes::<Guarded<FoxSchema>>(
                    &client,
                    namespace,
                    &config,
                    &health,
                    "FoxSchema (FoxMigration)",
                ),
                move |schema| tenant_migrations(&migrations_by_schema, &schema),
            )
            .shutdown_on_signal()
            .run(
                |object, context| reconcile_guarded(object, context, migration::reconcile),
                |object, error, context| {
                    error_policy_guarded(object, error, context, migration::error_policy)
                },
                context,
            )
            .for_each(|_| future::ready(()));

    // FoxReplicaSets carry no finalizer: the pools of deleted ones are closed by this sweep.
    let sweep = async move {
        if pool_store.wait_until_ready().await.is_err() {
            return;
        }
        let mut interval = tokio::time::interval(sweep_context.resync.min(Duration::from_secs(60)));
        loop {
            interval.tick().await;
            let live = pool_store
                .state()
                .iter()
                .map(|rs| (rs.namespace().unwrap_or_default(), rs.name_any()))
                .collect();
            replica_set::close_pools_of_deleted(&sweep_context, &live).await;
        }
    };
    tokio::select! {
        _ = async { tokio::join!(replicaset_controller, schema_controller, migration_controller) } => {}
        () = sweep => {}
    }
}

/// An object of the operator's kinds as the watches read it: the object, or what could be
/// read of it when it does not deserialize.
type Guarded<K> = DeserializeGuard<K>;

/// `stream` with its errors logged at warn and recorded in `health` under `watch` (cleared by
/// the next answer of that watch).
fn watched<K>(
    watch: &'static str,
    stream: impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static,
    health: &Arc<Health>,
) -> impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + Send + 'static
where
    K: Send + 'static,
{
    let health = health.clone();
    stream.inspect(move |item| match item {
        Ok(_) => health.record_watch(watch, false),
        Err(error) => {
            tracing::warn!(watch, %error, "watch failed; /readyz is unready until it recovers (retrying with backoff)");
            health.record_watch(watch, true);
        }
    })
}

/// Changes of the objects the operator publishes (selected by its label).
///
/// With `opted_in` namespaces (`--secret-namespaces`: where FoxReplicaSets may live), one watch
/// per namespace, as the chart grants these kinds there only.
fn published_changes<K>(
    client: &Client,
    namespace: Option<&str>,
    opted_in: &[String],
    config: &watcher::Config,
    health: &Arc<Health>,
) -> impl futures::Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let watch = match K::kind(&()).as_ref() {
        "Service" => "Service",
        "EndpointSlice" => "EndpointSlice",
        _ => "ConfigMap",
    };
    namespaced_changes(client, namespace, opted_in, config, health, watch)
}

/// Changes of `K`: one watch per namespace of `opted_in`, or, when none opted in, one over
/// `namespace` (or all); each reported to `health` as `watch`.
fn namespaced_changes<K>(
    client: &Client,
    namespace: Option<&str>,
    opted_in: &[String],
    config: &watcher::Config,
    health: &Arc<Health>,
    watch: &'static str,
) -> impl futures::Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let apis: Vec<Api<K>> = if opted_in.is_empty() {
        vec![scoped::<K>(client, namespace)]
    } else {
        opted_in
            .iter()
            .map(|ns| Api::namespaced(client.clone(), ns))
            .collect()
    };
    futures::stream::select_all(apis.into_iter().map(|api| {
        watched(watch, watcher(api, config.clone()), health)
            .default_backoff()
            .touched_objects()
            .boxed()
    }))
}

/// What re-triggers a reconcile of the operator's own kinds: a spec change (generation), a
/// finalizer added or removed (the finalizer helper waits for that event before applying), and
/// the start of deletion. Status writes — the operator's own, every health check — do not.
pub fn spec_or_lifecycle_change<K: Resource>(object: &K) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let meta = object.meta();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    meta.generation.hash(&mut hasher);
    meta.finalizers.hash(&mut hasher);
    meta.deletion_timestamp.is_some().hash(&mut hasher);
    Some(hasher.finish())
}

/// Changes of Secrets, metadata only: no Secret data crosses the wire for the watch.
///
/// With `secret_namespaces` (the namespaces that opted in to the operator reading their
/// Secrets), one watch per namespace; otherwise one over `namespace` (or all).
fn secret_changes(
    client: &Client,
    namespace: Option<&str>,
    secret_namespaces: &[String],
    config: &watcher::Config,
    health: &Arc<Health>,
    watch: &'static str,
) -> impl futures::Stream<Item = Result<PartialObjectMeta<Secret>, watcher::Error>> + Send + 'static
{
    namespaced_changes(client, namespace, secret_namespaces, config, health, watch)
}

/// What every watch of the operator is made from.
#[derive(Clone, Copy)]
struct Watches<'a> {
    client: &'a Client,
    namespace: Option<&'a str>,
    config: &'a watcher::Config,
    health: &'a Arc<Health>,
    secret_namespaces: &'a [String],
}

/// The controller of a kind that names a FoxReplicaSet (FoxSchema, FoxMigration): it also runs
/// when that FoxReplicaSet's spec changes or its primary's Secret appears or changes.
fn dependent_controller<K>(
    stream: impl futures::Stream<Item = Result<Guarded<K>, watcher::Error>> + Send + 'static,
    store: reflector::Store<Guarded<K>>,
    replicasets: &reflector::Store<Guarded<FoxReplicaSet>>,
    watches: &Watches<'_>,
) -> Controller<Guarded<K>>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + DatabaseDependent
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let by_database = store.clone();
    let by_secret = store.clone();
    let replicasets = replicasets.clone();
    let Watches {
        client,
        namespace,
        config,
        health,
        secret_namespaces,
    } = *watches;
    let kind = K::kind(&());
    let (database_watch, secret_watch) = if kind == "FoxSchema" {
        ("FoxReplicaSet (FoxSchema)", "Secret (FoxSchema)")
    } else {
        ("FoxReplicaSet (FoxMigration)", "Secret (FoxMigration)")
    };
    Controller::for_stream(stream, store)
        .watches_stream(
            spec_changes::<Guarded<FoxReplicaSet>>(
                client,
                namespace,
                config,
                health,
                database_watch,
            ),
            move |database| dependents(&by_database, &database),
        )
        .watches_stream(
            secret_changes(
                client,
                namespace,
                secret_namespaces,
                config,
                health,
                secret_watch,
            ),
            move |secret| primary_secret_dependents(&replicasets, &by_secret, &secret),
        )
}

/// Spec changes (not status writes) of `K`.
fn spec_changes<K>(
    client: &Client,
    namespace: Option<&str>,
    config: &watcher::Config,
    health: &Arc<Health>,
    watch: &'static str,
) -> impl futures::Stream<Item = Result<K, watcher::Error>> + Send + 'static
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    watched(
        watch,
        watcher(scoped::<K>(client, namespace), config.clone()),
        health,
    )
    .default_backoff()
    .touched_objects()
    .predicate_filter(predicates::generation, Default::default())
}

/// A resource that names a FoxReplicaSet in `spec.databaseRef`.
trait DatabaseDependent {
    fn database_name(&self) -> &str;
}

impl DatabaseDependent for FoxSchema {
    fn database_name(&self) -> &str {
        &self.spec.database_ref.name
    }
}

impl DatabaseDependent for FoxMigration {
    fn database_name(&self) -> &str {
        &self.spec.database_ref.name
    }
}

/// The objects in `dependents` whose FoxReplicaSet's primary reads `secret` (a FoxSchema or
/// FoxMigration waiting for a missing Secret runs as soon as it appears).
fn primary_secret_dependents<K>(
    replicasets: &reflector::Store<Guarded<FoxReplicaSet>>,
    dependents: &reflector::Store<Guarded<K>>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<Guarded<K>>>
where
    K: Resource<DynamicType = ()> + DatabaseDependent + Clone + 'static,
{
    let namespace = secret.namespace();
    let secret_name = secret.name_any();
    let databases: Vec<String> = replicasets
        .state()
        .iter()
        .filter(|rs| {
            rs.namespace() == namespace
                && rs
                    .0
                    .as_ref()
                    .is_ok_and(|rs| rs.spec.primary.connection.name == secret_name)
        })
        .map(|rs| rs.name_any())
        .collect();
    dependents
        .state()
        .iter()
        .filter(|object| {
            object.namespace() == namespace
                && object
                    .0
                    .as_ref()
                    .is_ok_and(|o| databases.iter().any(|d| d == o.database_name()))
        })
        .map(|object| ObjectRef::from_obj(object.as_ref()))
        .collect()
}

/// The objects in `store` whose database reference names `database`, in its namespace.
fn dependents<K>(
    store: &reflector::Store<Guarded<K>>,
    database: &Guarded<FoxReplicaSet>,
) -> Vec<ObjectRef<Guarded<K>>>
where
    K: Resource<DynamicType = ()> + DatabaseDependent + Clone + 'static,
{
    let namespace = database.namespace();
    let name = database.name_any();
    store
        .state()
        .iter()
        .filter(|object| {
            object.namespace() == namespace
                && object.0.as_ref().is_ok_and(|o| o.database_name() == name)
        })
        .map(|object| ObjectRef::from_obj(object.as_ref()))
        .collect()
}

/// The FoxMigrations with `spec.tenants` of the database whose tenants `schema` lists.
fn tenant_migrations(
    store: &reflector::Store<Guarded<FoxMigration>>,
    schema: &Guarded<FoxSchema>,
) -> Vec<ObjectRef<Guarded<FoxMigration>>> {
    let Ok(schema_object) = schema.0.as_ref() else {
        return Vec::new();
    };
    if schema_object.spec.tenants.is_none() {
        return Vec::new();
    }
    let namespace = schema.namespace();
    let database = &schema_object.spec.database_ref.name;
    store
        .state()
        .iter()
        .filter(|object| {
            object.namespace() == namespace
                && object.0.as_ref().is_ok_and(|m| {
                    &m.spec.database_ref.name == database && m.spec.tenants.is_some()
                })
        })
        .map(|object| ObjectRef::from_obj(object.as_ref()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fox_crds::FoxSchemaStatus;

    #[test]
    fn status_writes_do_not_retrigger_but_finalizers_and_deletion_do() {
        let mut schema = FoxSchema::new("blog", Default::default());
        schema.metadata.generation = Some(1);
        let first = spec_or_lifecycle_change(&schema);
        schema.status = Some(FoxSchemaStatus {
            observed_generation: Some(1),
            ..FoxSchemaStatus::default()
        });
        schema.metadata.resource_version = Some("2".into());
        assert_eq!(spec_or_lifecycle_change(&schema), first, "a status write");
        schema.metadata.finalizers = Some(vec!["foxdb.dev/cleanup".into()]);
        let with_finalizer = spec_or_lifecycle_change(&schema);
        assert_ne!(with_finalizer, first, "the finalizer was added");
        schema.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::now(),
            ));
        assert_ne!(
            spec_or_lifecycle_change(&schema),
            with_finalizer,
            "deletion started"
        );
    }

    #[test]
    fn a_foxschema_listing_tenants_wakes_the_tenant_migrations_of_its_database() {
        let migration = |name: &str, database: &str, tenants: bool| {
            let mut m = FoxMigration::new(name, Default::default());
            m.metadata.namespace = Some("shop".into());
            m.spec.database_ref.name = database.into();
            m.spec.tenants = tenants.then(|| fox_crds::tenants::MigrationTenants {
                all: true,
                names: Vec::new(),
            });
            DeserializeGuard(Ok(m))
        };
        let (store, mut writer) = reflector::store::<Guarded<FoxMigration>>();
        for object in [
            migration("in-tenants", "saas-db", true),
            migration("shared", "saas-db", false),
            migration("elsewhere", "other-db", true),
        ] {
            writer.apply_watcher_event(&watcher::Event::Apply(object));
        }
        let mut schema = FoxSchema::new("notes", Default::default());
        schema.metadata.namespace = Some("shop".into());
        schema.spec.database_ref.name = "saas-db".into();
        let woken = |schema: &FoxSchema| -> Vec<String> {
            tenant_migrations(&store, &DeserializeGuard(Ok(schema.clone())))
                .into_iter()
                .map(|r| r.name)
                .collect()
        };
        assert!(woken(&schema).is_empty(), "a FoxSchema without tenants");
        schema.spec.tenants = Some(fox_crds::tenants::TenantsSpec {
            schemas: vec!["acme".into()],
            databases: Vec::new(),
        });
        assert_eq!(woken(&schema), ["in-tenants"]);
    }
}
