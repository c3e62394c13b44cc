//! `foxdb::mongo` read routing and the replica set view, against the MongoDB-wire server
//! (nx-27017 on 127.0.0.1:27017, which is no replica set; a real `mongod` with
//! `FOX_TEST_MONGO_URL`): reads follow the operator's routing table or a read preference,
//! `on_primary()` reads from the primary, writes always go there.

mod mongo_support;

use std::time::Duration;

use fox_crds::{Engine, PublishedRouting, RoutedMember};
use foxdb::document_store::{DocumentStore, DocumentStoreUrl};
use foxdb::mongo::MIN_MAX_STALENESS;
use foxdb::replication::mongodb::ServerTopology;
use foxdb::router::ReadPreference;
use foxdb::{Error, ModelExt};
use mongo_support::MongoTest;

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "notes")]
struct Note {
    #[foxdb(primary_key)]
    id: i64,
    text: String,
}

/// The host and port of the test server, as a routing table member.
fn test_server() -> RoutedMember {
    let url = fox_e2e::mongo_url();
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let rest = rest.rfind('@').map_or(rest, |at| &rest[at + 1..]);
    let host_port = rest
        .split(['/', '?', ','])
        .next()
        .unwrap_or("127.0.0.1:27017");
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "27017"));
    RoutedMember {
        name: "primary".into(),
        host: host.into(),
        port: port.parse().unwrap_or(27017),
        weight: 100,
    }
}

fn table(preference: ReadPreference, readers: Vec<RoutedMember>) -> PublishedRouting {
    PublishedRouting {
        engine: Engine::Mongodb,
        primary: Some(test_server()),
        readers,
        read_preference: preference,
        max_replica_lag_seconds: 10,
        ..PublishedRouting::default()
    }
}

#[tokio::test]
async fn reads_follow_the_routing_table_and_writes_go_to_the_primary() {
    let test = MongoTest::new().await;
    // replicaPreferred with no replica within the limit: the operator lists the primary.
    let routed = test
        .db
        .with_routing(&table(
            ReadPreference::ReplicaPreferred,
            vec![test_server()],
        ))
        .unwrap();
    routed
        .insert(&Note {
            id: 1,
            text: "routed".into(),
        })
        .await
        .unwrap();
    let read = routed.find(&Note::find()).await.unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(routed.count(&Note::find()).await.unwrap(), 1);
    assert_eq!(routed.on_primary().find(&Note::find()).await.unwrap(), read);
}

#[tokio::test]
async fn a_replica_only_table_without_readers_fails_reads_at_once() {
    let test = MongoTest::new().await;
    let routed = test
        .db
        .with_routing(&table(ReadPreference::Replica, Vec::new()))
        .unwrap();
    let started = std::time::Instant::now();
    let error = routed.find(&Note::find()).await.expect_err("no reader");
    assert!(
        matches!(&error, Error::MongoConnect { message, .. } if message.contains("no replica is healthy within the lag limit")),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(1), "failed at once");
    // Writes and reads on the primary still work.
    routed
        .insert(&Note {
            id: 2,
            text: "still written".into(),
        })
        .await
        .unwrap();
    assert_eq!(routed.on_primary().count(&Note::find()).await.unwrap(), 1);
}

#[tokio::test]
async fn a_lag_limit_the_driver_cannot_enforce_is_refused() {
    let test = MongoTest::new().await;
    let error = test
        .db
        .with_read_preference(ReadPreference::ReplicaPreferred, Duration::from_secs(10))
        .expect_err("under 90 s");
    assert!(
        matches!(&error, Error::MongoUnsupported { feature } if feature.contains("no finer than 90 s")),
        "{error}"
    );
    let preferred = test
        .db
        .with_read_preference(ReadPreference::ReplicaPreferred, MIN_MAX_STALENESS)
        .unwrap();
    // On a standalone server (nx-27017) secondaryPreferred reads from it.
    assert_eq!(preferred.count(&Note::find()).await.unwrap(), 0);
    let sql_table = PublishedRouting {
        engine: Engine::Postgresql,
        ..table(ReadPreference::Primary, Vec::new())
    };
    assert!(matches!(
        test.db.with_routing(&sql_table),
        Err(Error::MongoUnsupported { .. })
    ));
}

#[tokio::test]
async fn the_server_says_whether_it_is_a_replica_set() {
    let url = DocumentStoreUrl::parse(&mongo_support::url_with_database(
        &fox_e2e::mongo_url(),
        "fox_topology",
    ))
    .unwrap();
    let store = DocumentStore::connect(&url).await.unwrap();
    match store.server_topology().await.unwrap() {
        ServerTopology::Standalone => {
            println!(
                "{} is a standalone server (nx-27017 or mongod without --replSet)",
                url.location()
            );
        }
        ServerTopology::ReplicaSet(set) => {
            let me = set.answering().expect("a member marks itself");
            assert!(set.members.iter().any(|m| m.is_primary()), "{set:?}");
            assert!(me.optime_millis.is_some(), "{me:?}");
        }
    }
    assert!(
        store.pool_state().open >= 1,
        "the ping's connection is counted"
    );
}

#[tokio::test]
async fn from_routing_follows_the_mounted_table() {
    let test = MongoTest::new().await;
    let directory = std::env::temp_dir().join(format!("fox_mongo_routing_{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let path = directory.join("routing.json");
    let write_table = |table: &PublishedRouting| {
        std::fs::write(&path, serde_json::to_string(table).unwrap()).unwrap();
    };
    write_table(&table(
        ReadPreference::ReplicaPreferred,
        vec![test_server()],
    ));
    // The credentials URL beside the table, as the member Secret's `url` key is mounted.
    std::fs::write(directory.join("url"), test.url()).unwrap();
    let db = foxdb::mongo::MongoDatabase::from_routing(&path)
        .await
        .unwrap();
    db.insert(&Note {
        id: 1,
        text: "through the table".into(),
    })
    .await
    .unwrap();
    assert_eq!(db.count(&Note::find()).await.unwrap(), 1);
    // The operator finds no replica within the limit under `replica`: reads fail once the
    // file is read again (every second), and read-your-writes is off so the write above does
    // not keep them on the primary.
    let mut strict = table(ReadPreference::Replica, Vec::new());
    strict.read_your_writes = false;
    write_table(&strict);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(matches!(
        db.count(&Note::find()).await,
        Err(Error::MongoConnect { .. })
    ));
    assert_eq!(db.on_primary().count(&Note::find()).await.unwrap(), 1);
    std::fs::remove_dir_all(&directory).unwrap();
}
