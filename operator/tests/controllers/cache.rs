//! FoxReplicaSet `cache`: the operator's invalidator follows the change log into Redis, so
//! writes made by other programs make cached reads fresh; the cache endpoint is published in
//! `<name>-routing` for `Database::from_routing`; condition and metrics say how it goes.

use std::time::{Duration, Instant};

use fox_crds::replica_set::CacheSpec;
use fox_crds::{FoxReplicaSet, PublishedRouting, SecretKeyRef};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::controller::conditions::find_condition;
use foxdb::cache::QueryCache;
use foxdb::{ConnectOptions, Connection, Database, DatabaseUrl, ModelExt};
use k8s_openapi::api::core::v1::ConfigMap;

use crate::api_server::ApiServer;
use crate::fixtures::*;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, foxdb::Model)]
#[foxdb(table = "accounts")]
struct Account {
    #[foxdb(primary_key)]
    id: i64,
    balance: i64,
}

const TTL: Duration = Duration::from_secs(600);

/// A database with table `accounts` (one row, balance 10) under change capture.
async fn captured_database(engine: Backend) -> TestDatabase {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    if engine == Backend::Sqlite {
        db.execute("PRAGMA journal_mode = WAL", &[])
            .await
            .expect("WAL");
    }
    db.execute(
        "CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)",
        &[],
    )
    .await
    .expect("creates accounts");
    db.execute("INSERT INTO accounts (id, balance) VALUES (1, 10)", &[])
        .await
        .expect("inserts");
    test.install_capture(&db, "accounts").await;
    db.close().await;
    test
}

/// What another program does: its own connection, plain SQL, no foxdb cache.
async fn write_elsewhere(test: &TestDatabase, sql: &str) {
    let url = DatabaseUrl::parse(test.url()).expect("url");
    let mut other = Connection::connect(&url, &ConnectOptions::default())
        .await
        .expect("connects");
    other.execute(sql).await.expect("writes");
    other.close().await;
}

fn cache_spec(secret: &str, prefix: &str) -> CacheSpec {
    CacheSpec {
        redis: SecretKeyRef {
            name: secret.into(),
            key: "url".into(),
        },
        default_ttl_seconds: 120,
        key_prefix: Some(prefix.into()),
    }
}

fn condition(api: &ApiServer, name: &str, type_: &str) -> Option<(String, String, String)> {
    let replicaset: FoxReplicaSet = api.get(NAMESPACE, name).expect("replicaset");
    let status = replicaset.status?;
    find_condition(&status.conditions, type_)
        .map(|c| (c.status.clone(), c.reason.clone(), c.message.clone()))
}

async fn balance(db: &Database) -> i64 {
    Account::find().cache(TTL).all(db).await.expect("reads")[0].balance
}

async fn eventually_balance(db: &Database, expected: i64, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let seen = balance(db).await;
        if seen == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the cached read never saw {expected} (still {seen})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn metric(context: &fox_operator::controller::Context, name: &str) -> Option<f64> {
    let prefix = format!("{name}{{namespace=\"{NAMESPACE}\",replicaset=\"orders\"}} ");
    context
        .metrics
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(&prefix).map(|v| v.parse().unwrap()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_by_other_programs_make_cached_reads_fresh_on_every_engine() {
    for engine in [Backend::Postgres, Backend::MySql, Backend::Sqlite] {
        let test = captured_database(engine).await;
        let prefix = format!("fox-op-cache-{}-{}:", std::process::id(), test.name());
        let api = ApiServer::start();
        let context = context(&api);
        database(&api, "orders", engine, test.url());
        api.insert(&secret("orders-redis", &fox_e2e::redis_url()));
        api.edit::<FoxReplicaSet>(NAMESPACE, "orders", |rs| {
            rs.spec.cache = Some(cache_spec("orders-redis", &prefix));
        });
        let app = Database::connect(test.url())
            .await
            .expect("connects")
            .with_cache(QueryCache::new(&fox_e2e::redis_url(), prefix.clone()).expect("url"));
        assert_eq!(balance(&app).await, 10, "{engine}: first read");

        // Written while no invalidator ran: starting, the operator drops what is cached.
        write_elsewhere(&test, "UPDATE accounts SET balance = 20 WHERE id = 1").await;
        assert_eq!(
            balance(&app).await,
            10,
            "{engine}: cached, nothing saw the write"
        );
        reconcile_replicaset(&api, &context, "orders")
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(balance(&app).await, 20, "{engine}: fresh after the start");
        let (status, reason, message) =
            condition(&api, "orders", "CacheInvalidating").expect("condition");
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("True", "Following"),
            "{engine}: {message}"
        );
        assert!(message.contains("accounts"), "{engine}: {message}");
        assert_eq!(metric(&context, "fox_cache_invalidator_up"), Some(1.0));

        // Written while it runs: seen through the change log.
        write_elsewhere(&test, "UPDATE accounts SET balance = 99 WHERE id = 1").await;
        eventually_balance(&app, 99, &format!("{engine}: a write by another program")).await;
        assert!(
            metric(&context, "fox_cache_invalidations_total").unwrap_or(0.0) >= 1.0,
            "{engine}: {}",
            context.metrics.render()
        );

        if engine != Backend::Sqlite {
            // The published table turns the same cache on in an application.
            let config_map: ConfigMap = api
                .get(NAMESPACE, "orders-routing")
                .expect("routing ConfigMap");
            let text = config_map.data.unwrap()["routing.json"].clone();
            let published: PublishedRouting = serde_json::from_str(&text).unwrap();
            let cache = published.cache.clone().expect("cache published");
            assert_eq!(cache.key_prefix, prefix);
            assert_eq!(cache.default_ttl_seconds, 120);
            assert_eq!((cache.host.as_str(), cache.port), ("127.0.0.1", 6379));
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("routing.json"), &text).unwrap();
            std::fs::write(dir.path().join("url"), test.url()).unwrap();
            let routed = Database::from_routing(dir.path().join("routing.json"))
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"));
            let cached = routed
                .query_cache()
                .expect("from_routing turned the cache on");
            assert_eq!(cached.prefix(), prefix);
            assert_eq!(cached.default_ttl(), Duration::from_secs(120));
            let hits = cached.metrics().hits();
            assert_eq!(
                Account::find().cached().all(&routed).await.unwrap()[0].balance,
                99
            );
            write_elsewhere(&test, "UPDATE accounts SET balance = 7 WHERE id = 1").await;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Account::find().cached().all(&routed).await.unwrap()[0].balance != 7 {
                assert!(
                    Instant::now() < deadline,
                    "{engine}: from_routing read stale"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(
                cached.metrics().hits() > hits,
                "{engine}: served from Redis"
            );
            routed.close().await;
        }

        // `cache` removed: the invalidator stops, its condition and metrics go.
        api.edit::<FoxReplicaSet>(NAMESPACE, "orders", |rs| rs.spec.cache = None);
        reconcile_replicaset(&api, &context, "orders")
            .await
            .unwrap();
        assert_eq!(condition(&api, "orders", "CacheInvalidating"), None);
        assert!(context.cache_invalidators.keys().is_empty());
        assert_eq!(metric(&context, "fox_cache_invalidator_up"), None);
        app.close().await;
    }
}

#[tokio::test]
async fn an_unreachable_redis_or_a_missing_secret_is_reported_without_the_password() {
    let (logs, _guard) = LogCapture::start();
    let test = captured_database(Backend::Postgres).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "orders", Backend::Postgres, test.url());
    api.insert(&secret(
        "orders-redis",
        &format!("redis://:{DISTINCTIVE_PASSWORD}@127.0.0.1:1/3"),
    ));
    api.edit::<FoxReplicaSet>(NAMESPACE, "orders", |rs| {
        rs.spec.cache = Some(cache_spec("orders-redis", "down:"));
    });
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let (status, reason, message) =
        condition(&api, "orders", "CacheInvalidating").expect("condition");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "RedisUnreachable")
    );
    assert!(message.contains("127.0.0.1:1"), "{message}");
    assert_eq!(
        condition(&api, "orders", "Ready").unwrap().0,
        "True",
        "the database serves"
    );
    assert_eq!(metric(&context, "fox_cache_invalidator_up"), Some(0.0));
    let config_map: ConfigMap = api.get(NAMESPACE, "orders-routing").unwrap();
    let published: PublishedRouting =
        serde_json::from_str(&config_map.data.unwrap()["routing.json"]).unwrap();
    let cache = published.cache.expect("published");
    assert_eq!((cache.port, cache.database), (1, 3));

    api.edit::<FoxReplicaSet>(NAMESPACE, "orders", |rs| {
        rs.spec.cache = Some(cache_spec("no-such-secret", "down:"));
    });
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let (status, reason, message) =
        condition(&api, "orders", "CacheInvalidating").expect("condition");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "SecretNotFound")
    );
    assert!(message.contains("no-such-secret"), "{message}");
    assert!(context.cache_invalidators.keys().is_empty());

    for request in api.requests() {
        assert!(
            !request.body.contains(DISTINCTIVE_PASSWORD),
            "password sent to the API server: {request:?}"
        );
    }
    assert!(!context.metrics.render().contains(DISTINCTIVE_PASSWORD));
    assert!(
        !logs.text().contains(DISTINCTIVE_PASSWORD),
        "password logged"
    );
}

#[tokio::test]
async fn without_change_capture_the_condition_says_only_foxdb_writes_invalidate() {
    let test = TestDatabase::create(Backend::Postgres).await;
    let api = ApiServer::start();
    let context = context(&api);
    database(&api, "orders", Backend::Postgres, test.url());
    api.insert(&secret("orders-redis", &fox_e2e::redis_url()));
    api.edit::<FoxReplicaSet>(NAMESPACE, "orders", |rs| {
        rs.spec.cache = Some(cache_spec("orders-redis", "nocapture:"));
    });
    reconcile_replicaset(&api, &context, "orders")
        .await
        .unwrap();
    let (status, reason, message) =
        condition(&api, "orders", "CacheInvalidating").expect("condition");
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "NoChangeCapture")
    );
    assert!(message.contains("realtime"), "{message}");
    assert_eq!(
        context.cache_invalidators.keys(),
        vec!["shop/orders".to_string()]
    );
}
