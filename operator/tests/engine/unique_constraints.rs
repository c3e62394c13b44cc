//! UNIQUE constraints FoxDB did not create (a database being adopted): kept when declared with
//! the same name and columns, dropped as constraints when not declared.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, execute, plan, query_texts, tables};

#[tokio::test]
async fn unique_constraints_of_an_adopted_table_are_kept_or_dropped_as_constraints() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        execute(
            &database,
            "CREATE TABLE items (id integer PRIMARY KEY, code varchar(20), label varchar(20), \
             CONSTRAINT items_code_key UNIQUE (code), CONSTRAINT items_label_key UNIQUE (label))",
        )
        .await;
        let items = tables(
            "
    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: code, type: varchar(20), nullable: true, unique: true}
        - {name: label, type: varchar(20), nullable: true}
",
        );
        let planned = plan(&database, &items).await;
        let described: Vec<String> = planned
            .changes
            .iter()
            .map(|c| c.change.to_string())
            .collect();
        // MySQL's UNIQUE constraints are plain unique indexes.
        let expected_drop = match engine {
            Backend::Postgres => "drop unique constraint items_label_key on items",
            Backend::MySql => "drop index items_label_key on items",
            Backend::Sqlite => "drop unique constraint items_label_key on items",
        };
        assert!(
            described.iter().any(|c| c.starts_with(expected_drop)),
            "{engine}: {described:?}"
        );
        applied(apply(&database, &items, false).await);
        let again = plan(&database, &items).await;
        assert!(again.is_empty(), "{engine}: {:#?}", again.changes);

        // The undeclared constraint is gone; the declared one still holds.
        execute(
            &database,
            "INSERT INTO items (id, code, label) VALUES (1, 'a', 'same'), (2, 'b', 'same')",
        )
        .await;
        let mut connection = super::support::connect(&database).await;
        let duplicate = connection
            .execute("INSERT INTO items (id, code, label) VALUES (3, 'a', 'other')")
            .await;
        connection.close().await;
        assert!(duplicate.is_err(), "{engine}: code stays unique");
        if engine == Backend::Postgres {
            assert_eq!(
                query_texts(
                    &database,
                    "SELECT conname::text FROM pg_constraint WHERE contype = 'u' AND conrelid = 'items'::regclass ORDER BY conname"
                )
                .await,
                vec![vec![Some("items_code_key".to_string())]],
                "the declared constraint is kept as a constraint"
            );
        }
    }
}
