//! Applying a schema and reading it back gives the declaration (in the engine's canonical form),
//! and the next plan is empty.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, expected_schema, live_schema, plan, schema};

const EVERY_TYPE: &str = include_str!("../fixtures/every-type.yaml");
const BLOG: &str = include_str!("../../../examples/blog/10-schema.yaml");

async fn round_trip(engine: Backend, yaml: &str) {
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
    round_trip(Backend::Postgres, EVERY_TYPE).await;
}

#[tokio::test]
async fn every_type_round_trips_on_mysql() {
    round_trip(Backend::MySql, EVERY_TYPE).await;
}

#[tokio::test]
async fn every_type_round_trips_on_sqlite() {
    round_trip(Backend::Sqlite, EVERY_TYPE).await;
}

#[tokio::test]
async fn blog_example_round_trips_on_every_engine() {
    for engine in Backend::ALL {
        round_trip(engine, BLOG).await;
    }
}

#[tokio::test]
async fn seed_rows_are_upserted_only_when_they_differ() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let declared = schema(BLOG);
        applied(apply(&database, &declared, false).await);
        super::support::execute(
            &database,
            "UPDATE users SET name = 'Changed by hand' WHERE id = 1",
        )
        .await;
        let drifted = plan(&database, &declared).await;
        assert!(drifted.changes.is_empty(), "{engine}: schema still matches");
        assert_eq!(
            drifted.seeds.len(),
            1,
            "{engine}: the edited row is upserted again"
        );
        applied(apply(&database, &declared, false).await);
        let rows =
            super::support::query_texts(&database, "SELECT name FROM users WHERE id = 1").await;
        assert_eq!(rows, vec![vec![Some("Admin".to_string())]], "{engine}");
        // Ids written by seeds do not collide with generated ones afterwards.
        super::support::execute(
            &database,
            "INSERT INTO users (email) VALUES ('next@example.com')",
        )
        .await;
        assert!(
            plan(&database, &declared).await.is_empty(),
            "{engine}: in sync again"
        );
    }
}

fn seeded(extra_columns: &str, row: &str) -> String {
    format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: seeded}}\nspec:\n  databaseRef: {{name: db}}\n  tables:\n    - name: items\n      columns:\n        - {{name: id, type: integer, primaryKey: true}}\n        - {{name: name, type: varchar(50)}}\n{extra_columns}  seed:\n    - table: items\n      rows:\n        - {row}\n"
    )
}

#[tokio::test]
async fn seeds_may_fill_columns_the_same_plan_adds_and_hold_nulls() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let before = schema(&seeded("", "{id: 1, name: apple}"));
        applied(apply(&database, &before, false).await);
        let after = schema(&seeded(
            "        - {name: price, type: \"decimal(10,2)\", nullable: true}\n        - {name: tag, type: uuid, nullable: true}\n        - {name: seen, type: timestamptz, nullable: true}\n        - {name: doc, type: json, nullable: true}\n",
            "{id: 1, name: apple, price: 9.5, tag: null, seen: null, doc: null}",
        ));
        applied(apply(&database, &after, false).await);
        let again = plan(&database, &after).await;
        assert!(
            again.is_empty(),
            "{engine}: in sync, got {:#?} / {:#?}",
            again.changes,
            again.seeds
        );
    }
}
