//! Resources for the controller tests: Secrets, FoxReplicaSets, FoxSchemas and FoxMigrations
//! pointing at real test databases, and a context wired to the scripted API server.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use fox_crds::migration::FoxMigrationSpec;
use fox_crds::replica_set::MemberSpec;
use fox_crds::{
    DatabaseRef, Engine, FoxMigration, FoxReplicaSet, FoxReplicaSetSpec, FoxSchema, SecretKeyRef,
};
use fox_e2e::Backend;
use fox_operator::controller::Context;
use fox_operator::controller::member_address::MemberAddressPolicy;
use fox_operator::telemetry::Metrics;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::controller::Action;

use crate::api_server::ApiServer;

pub const NAMESPACE: &str = "shop";

/// A password no test output may ever contain.
pub const DISTINCTIVE_PASSWORD: &str = "Fox-Pw-7q2Zx9";

pub fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(NAMESPACE.into()),
        ..ObjectMeta::default()
    }
}

pub fn secret(name: &str, url: &str) -> Secret {
    Secret {
        metadata: meta(name),
        data: Some(BTreeMap::from([(
            "url".to_string(),
            ByteString(url.as_bytes().to_vec()),
        )])),
        ..Secret::default()
    }
}

pub fn engine_of(engine: Backend) -> Engine {
    match engine {
        Backend::Postgres => Engine::Postgresql,
        Backend::MySql => Engine::Mariadb,
        Backend::Sqlite => Engine::Sqlite,
    }
}

pub fn member(name: &str, secret: &str) -> MemberSpec {
    MemberSpec {
        name: name.into(),
        connection: SecretKeyRef {
            name: secret.into(),
            key: "url".into(),
        },
        weight: 100,
    }
}

pub fn replicaset(name: &str, engine: Engine, primary_secret: &str) -> FoxReplicaSet {
    let mut replicaset = FoxReplicaSet::new(
        name,
        FoxReplicaSetSpec {
            engine,
            primary: member("primary", primary_secret),
            ..FoxReplicaSetSpec::default()
        },
    );
    replicaset.metadata.namespace = Some(NAMESPACE.into());
    replicaset
}

/// The blog FoxSchema of `examples/blog`, pointing at `database`.
pub fn blog_schema(database: &str) -> FoxSchema {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/blog/10-schema.yaml"
    ))
    .unwrap();
    let mut schema: FoxSchema = serde_yaml_ng::from_str(&text).unwrap();
    schema.metadata.namespace = Some(NAMESPACE.into());
    schema.spec.database_ref = DatabaseRef {
        name: database.into(),
    };
    schema
}

pub fn migration(database: &str, version: u64, up: &str, down: Option<&str>) -> FoxMigration {
    let mut migration = FoxMigration::new(
        &format!("{database}-{version:04}"),
        FoxMigrationSpec {
            database_ref: DatabaseRef {
                name: database.into(),
            },
            version,
            name: format!("step {version}"),
            up: Some(up.into()),
            down: down.map(str::to_string),
            up_commands: None,
            down_commands: None,
            transactional: true,
            imported_from: None,
            tenants: None,
        },
    );
    migration.metadata.namespace = Some(NAMESPACE.into());
    migration
}

/// A context for the test databases, which listen on loopback: loopback member addresses are
/// published (`fox run --allow-member-addresses=loopback`); [`strict_context`] refuses them.
pub fn context(api: &ApiServer) -> Arc<Context> {
    let mut context = Context::new(
        api.client.clone(),
        Metrics::new(),
        Some("fox-operator-test".into()),
        Duration::from_secs(300),
    );
    context.member_addresses = MemberAddressPolicy::allow_all();
    Arc::new(context)
}

/// A context with `fox run`'s default member-address policy.
pub fn strict_context(api: &ApiServer) -> Arc<Context> {
    Arc::new(Context::new(
        api.client.clone(),
        Metrics::new(),
        Some("fox-operator-test".into()),
        Duration::from_secs(300),
    ))
}

/// Puts a database (Secret + FoxReplicaSet named `name`) for `url` into the API server.
pub fn database(api: &ApiServer, name: &str, engine: Backend, url: &str) {
    api.insert(&secret(&format!("{name}-primary"), url));
    api.insert(&replicaset(
        name,
        engine_of(engine),
        &format!("{name}-primary"),
    ));
}

/// Reconciles the stored object once, as the controller does on a change.
pub async fn reconcile_schema(
    api: &ApiServer,
    context: &Arc<Context>,
    name: &str,
) -> Result<Action, fox_operator::controller::Error> {
    settle(api, name, |object: FoxSchema| {
        fox_operator::controller::schema::reconcile(Arc::new(object), context.clone())
    })
    .await
}

pub async fn reconcile_migration(
    api: &ApiServer,
    context: &Arc<Context>,
    name: &str,
) -> Result<Action, fox_operator::controller::Error> {
    settle(api, name, |object: FoxMigration| {
        fox_operator::controller::migration::reconcile(Arc::new(object), context.clone())
    })
    .await
}

pub async fn reconcile_replicaset(
    api: &ApiServer,
    context: &Arc<Context>,
    name: &str,
) -> Result<Action, fox_operator::controller::Error> {
    settle(api, name, |object: FoxReplicaSet| {
        fox_operator::controller::replica_set::reconcile(Arc::new(object), context.clone())
    })
    .await
}

async fn settle<K, F, Fut>(
    api: &ApiServer,
    name: &str,
    reconcile: F,
) -> Result<Action, fox_operator::controller::Error>
where
    K: serde::de::DeserializeOwned + kube::Resource<DynamicType = ()>,
    F: Fn(K) -> Fut,
    Fut: Future<Output = Result<Action, fox_operator::controller::Error>>,
{
    let object: K = api.get(NAMESPACE, name).expect("object exists");
    reconcile(object).await
}

/// Log lines written while a [`LogCapture`] guard lives (current thread; `#[tokio::test]`
/// runs every task of the test on it).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = LogCapture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl LogCapture {
    /// Captures every event at DEBUG and above that `fox run --log-level debug` writes, as the
    /// JSON lines it writes.
    pub fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let capture = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                fox_operator::telemetry::logging::log_filter("debug"),
            ))
            .with_writer(capture.clone())
            .finish();
        (
            capture.clone(),
            tracing::subscriber::set_default(subscriber),
        )
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}
