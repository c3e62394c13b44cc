//! A schema written with compact columns plans exactly as the same schema in the full form, on
//! every engine, and once applied the full form finds nothing to change.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, plan, schema};

const FULL: &str = include_str!("../../../examples/blog/10-schema.yaml");
const COMPACT: &str = include_str!("../fixtures/blog-compact.yaml");

async fn compact_plans_as_full(engine: Backend) {
    let full = schema(FULL);
    let compact = schema(COMPACT);
    assert_eq!(compact.spec, full.spec, "the two forms read into one spec");
    let database = TestDatabase::create(engine).await;
    let full_plan = plan(&database, &full).await;
    let compact_plan = plan(&database, &compact).await;
    assert!(
        !full_plan.is_empty(),
        "{engine}: an empty database needs the tables"
    );
    assert_eq!(
        compact_plan.hash, full_plan.hash,
        "{engine}: same plan hash"
    );
    assert_eq!(
        compact_plan.all_sql(),
        full_plan.all_sql(),
        "{engine}: same SQL"
    );
    applied(apply(&database, &compact, false).await);
    let again = plan(&database, &full).await;
    assert!(
        again.is_empty(),
        "{engine}: the full form finds the compact one applied, got {:#?}",
        again.changes
    );
}

#[tokio::test]
async fn compact_columns_plan_as_the_full_form_on_sqlite() {
    compact_plans_as_full(Backend::Sqlite).await;
}

#[tokio::test]
async fn compact_columns_plan_as_the_full_form_on_postgres() {
    compact_plans_as_full(Backend::Postgres).await;
}

#[tokio::test]
async fn compact_columns_plan_as_the_full_form_on_mariadb() {
    compact_plans_as_full(Backend::MySql).await;
}
