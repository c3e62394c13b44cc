//! Tables the portable vocabulary cannot describe: left alone when undeclared (whatever
//! `allowDestructive` says), a clear refusal when declared.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, execute, plan, query_texts, tables};

const ITEMS: &str = "
    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
";

/// A table with columns outside the portable types, as each engine spells them.
fn unportable_table(engine: Backend) -> &'static str {
    match engine {
        Backend::Postgres => "CREATE TABLE hosts (id integer PRIMARY KEY, ip inet, ports int[])",
        Backend::MySql => "CREATE TABLE hosts (id int PRIMARY KEY, flags set('a','b'), born year)",
        Backend::Sqlite => "CREATE TABLE hosts (id integer PRIMARY KEY, anything)",
    }
}

#[tokio::test]
async fn undeclared_tables_of_unportable_types_are_left_alone() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        execute(&database, unportable_table(engine)).await;
        execute(&database, "INSERT INTO hosts (id) VALUES (1)").await;
        let items = tables(ITEMS);

        let planned = plan(&database, &items).await;
        assert_eq!(
            planned.live.unmanaged.len(),
            1,
            "{engine}: {:?}",
            planned.live
        );
        assert_eq!(planned.live.unmanaged[0].name, "hosts");
        let shown = fox_operator::commands::report::plan_text(&planned);
        assert!(
            shown.contains("table hosts is not managed (left alone): its column \""),
            "{engine}: {shown}"
        );
        assert!(
            planned.changes.iter().all(|c| c.change.table() == "items"),
            "{engine}: {:#?}",
            planned.changes
        );
        // Even with destructive changes allowed, the table and its rows stay.
        applied(apply(&database, &items, true).await);
        assert!(plan(&database, &items).await.is_empty(), "{engine}");
        assert_eq!(
            query_texts(&database, "SELECT 'kept' FROM hosts").await,
            vec![vec![Some("kept".to_string())]],
            "{engine}"
        );
    }
}

#[tokio::test]
async fn declaring_a_table_of_unportable_types_is_refused_by_name() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        execute(&database, unportable_table(engine)).await;
        let hosts = tables(
            "
    - name: hosts
      columns:
        - {name: id, type: integer, primaryKey: true}
",
        );
        let error = apply(&database, &hosts, true)
            .await
            .expect_err("a declared unportable table is refused");
        let message = error.to_string();
        assert!(
            message.contains("table hosts is declared")
                && message.contains("column \"")
                && message.contains("FoxMigration"),
            "{engine}: {message}"
        );
    }
}
