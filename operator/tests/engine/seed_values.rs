//! Seed rows as each engine stores them: a second apply upserts nothing, instants are kept in
//! UTC, and rows that reference each other are written parents first.

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::{EngineError, plan_schema};

use super::support::{applied, apply, live_schema, plan, query_texts, schema, url};

fn seeded(tables: &str, seed: &str) -> String {
    format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: seeded}}\nspec:\n  databaseRef: {{name: db}}\n  tables:\n{tables}  seed:\n{seed}"
    )
}

async fn assert_second_apply_upserts_nothing(engine: Backend, database: &TestDatabase, yaml: &str) {
    let declared = schema(yaml);
    applied(apply(database, &declared, false).await);
    let again = plan(database, &declared).await;
    assert!(
        again.is_empty(),
        "{engine}: nothing to do after the first apply, got {:#?} / {:#?}",
        again.changes,
        again.seeds
    );
}

#[tokio::test]
async fn real_seed_values_are_not_upserted_again_on_every_engine() {
    let yaml = seeded(
        "    - name: readings
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: value, type: real}
        - {name: precise, type: double, nullable: true}
",
        "    - table: readings
      rows:
        - {id: 1, value: 0.1, precise: 0.1}
        - {id: 2, value: 0.3333333333333333}
        - {id: 3, value: 123456789.123}
        - {id: 4, value: 1e20}
        - {id: 5, value: 123456789}
",
    );
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        assert_second_apply_upserts_nothing(engine, &database, &yaml).await;
    }
}

#[tokio::test]
async fn timestamptz_seeds_with_offsets_are_stored_in_utc_on_every_engine() {
    let yaml = seeded(
        "    - name: events
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: at, type: timestamptz}
",
        "    - table: events
      rows:
        - {id: 1, at: \"2024-01-01T10:00:00+02:00\"}
        - {id: 2, at: \"2024-01-01T09:00:00Z\"}
        - {id: 3, at: \"2024-01-01T08:30:00.250+00:00\"}
        - {id: 4, at: \"2024-01-01 07:00:00-03:00\"}
",
    );
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        assert_second_apply_upserts_nothing(engine, &database, &yaml).await;
        let order = query_texts(
            &database,
            "SELECT CAST(id AS CHAR(20)) FROM events ORDER BY at",
        )
        .await;
        let order: Vec<String> = order
            .into_iter()
            .filter_map(|row| row[0].as_deref().map(|id| id.trim().to_string()))
            .collect();
        // 08:00Z, 08:30Z, 09:00Z, 10:00Z.
        assert_eq!(
            order,
            ["1", "3", "2", "4"],
            "{engine}: rows sort by instant"
        );
    }
}

const LINKED_TABLES: &str = "    - name: categories
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: name, type: text}
        - {name: parent_id, type: integer, nullable: true, references: {table: categories}}
    - name: people
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: best_friend_id, type: integer, nullable: true, references: {table: people}}
    - name: departments
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: manager_id, type: integer, nullable: true, references: {table: employees}}
    - name: employees
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: department_id, type: integer, references: {table: departments}}
";

#[tokio::test]
async fn self_referencing_and_cyclic_seed_rows_apply_on_every_engine() {
    let yaml = seeded(
        LINKED_TABLES,
        "    - table: categories
      rows:
        - {id: 3, name: laptops, parent_id: 2}
        - {id: 2, name: computers, parent_id: 1}
        - {id: 1, name: all, parent_id: 1}
    - table: people
      rows:
        - {id: 1, best_friend_id: 2}
        - {id: 2, best_friend_id: 1}
    - table: employees
      rows:
        - {id: 10, department_id: 1}
    - table: departments
      rows:
        - {id: 1, manager_id: 10}
",
    );
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        assert_second_apply_upserts_nothing(engine, &database, &yaml).await;
        let links = query_texts(
            &database,
            "SELECT CAST((SELECT best_friend_id FROM people WHERE id = 1) AS CHAR(20)), \
                    CAST((SELECT best_friend_id FROM people WHERE id = 2) AS CHAR(20)), \
                    CAST((SELECT manager_id FROM departments WHERE id = 1) AS CHAR(20)), \
                    CAST((SELECT parent_id FROM categories WHERE id = 3) AS CHAR(20))",
        )
        .await;
        let links: Vec<Option<String>> = links
            .into_iter()
            .flatten()
            .map(|v| v.map(|v| v.trim().to_string()))
            .collect();
        assert_eq!(
            links,
            [Some("2"), Some("1"), Some("10"), Some("2")].map(|v| v.map(String::from)),
            "{engine}: every reference is written"
        );
    }
}

#[tokio::test]
async fn seed_rows_in_a_not_null_cycle_are_refused_before_anything_runs() {
    let yaml = seeded(
        &LINKED_TABLES.replace(
            "{name: manager_id, type: integer, nullable: true, references: {table: employees}}",
            "{name: manager_id, type: integer, references: {table: employees}}",
        ),
        "    - table: departments
      rows:
        - {id: 1, manager_id: 10}
    - table: employees
      rows:
        - {id: 10, department_id: 1}
",
    );
    let declared = schema(&yaml);
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let refused = plan_schema(&url(&database), &declared.spec).await;
        let Err(EngineError::Impossible { reasons }) = refused else {
            panic!("{engine}: the plan is refused, got {refused:?}");
        };
        assert!(
            reasons[0].contains("cycle through NOT NULL foreign key columns")
                && reasons[0].contains("departments (id=1)")
                && reasons[0].contains("employees (id=10)"),
            "{engine}: {reasons:?}"
        );
        assert!(
            live_schema(&database).await.tables.is_empty(),
            "{engine}: no table was created"
        );
    }
}

#[tokio::test]
async fn a_failing_seed_row_leaves_no_seed_row_written_on_every_engine() {
    let tables = "    - name: parents
      columns:
        - {name: id, type: integer, primaryKey: true}
    - name: children
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: parent_id, type: integer, nullable: true, references: {table: parents}}
";
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        applied(apply(&database, &schema(&seeded(tables, "    []\n")), false).await);
        // The second row references a parent the database does not have: its insert fails
        // after the first row's (on SQLite, whose engine sessions check keys as a whole, the
        // check before commit fails).
        let seeds = schema(&seeded(
            tables,
            "    - table: children
      rows:
        - {id: 1}
        - {id: 2, parent_id: 99}
",
        ));
        let failed = fox_operator::engine::seed_schema(
            &url(&database),
            &seeds.spec,
            std::time::Duration::from_secs(30),
        )
        .await;
        match failed {
            Err(EngineError::StatementFailed { outcome, .. }) => {
                assert!(
                    outcome.contains("no seed row was written"),
                    "{engine}: {outcome}"
                )
            }
            Err(EngineError::ForeignKeyViolation(message)) if engine == Backend::Sqlite => {
                assert!(
                    message.contains("children row 2 references a missing parents row"),
                    "{message}"
                )
            }
            other => panic!("{engine}: expected the seed to fail, got {other:?}"),
        }
        assert_eq!(
            query_texts(&database, "SELECT id FROM children").await,
            Vec::<Vec<Option<String>>>::new(),
            "{engine}: all seed rows or none"
        );
    }
}
