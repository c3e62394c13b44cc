//! Applying a schema and reading it back gives the declaration (in the engine's canonical form),
//! and the next plan is empty.

use fox_e2e::{TestDatabase, TestEngine};

use super::support::{applied, apply, expected_schema, live_schema, plan, schema};

const EVERY_TYPE: &str = include_str!("../fixtures/every-type.yaml");
const BLOG: &str = include_str!("../../../examples/blog/10-schema.yaml");

async fn round_trip(engine: TestEngine, yaml: &str) {
    let database = TestDatabase::create(engine).await;
    let declared = schema(yaml);
    applied(apply(&database, &declared, false).await);
    let live = live_schema(&database).await;
    let expected = expected_schema(&database, &declared);
    for (live_table, expected_table) in live.tables.iter().zip(&expected.tables) {
        assert_eq!(
            live_table, expected_table,
            "{engine}: table {}",
            expected_table.name
        );
    }
    assert_eq!(
        live, expected,
        "{engine}: introspection equals the declaration"
    );
    let again = plan(&database, &declared).await;
    assert!(
        again.is_empty(),
        "{engine}: re-plan is empty, got {:#?}",
        again.changes
    );
}

#[tokio::test]
async fn every_type_round_trips_on_postgres() {
    round_trip(TestEngine::Postgres, EVERY_TYPE).await;
}

#[tokio::test]
async fn every_type_round_trips_on_mysql() {
    round_trip(TestEngine::Mysql, EVERY_TYPE).await;
}

#[tokio::test]
async fn every_type_round_trips_on_sqlite() {
    round_trip(TestEngine::Sqlite, EVERY_TYPE).await;
}

#[tokio::test]
async fn blog_example_round_trips_on_every_engine() {
    for engine in TestEngine::ALL {
        round_trip(engine, BLOG).await;
    }
}
