//! Removing enum labels counts only the rows holding them, and a failed PostgreSQL apply says
//! which labels it could not take back.

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::change::Safety;

use super::support::{applied, apply, execute, plan, query_texts, tables};

fn items(labels: &str, name_unique: bool) -> fox_crds::FoxSchema {
    tables(&format!(
        "
    - name: items
      columns:
        - {{name: id, type: integer, primaryKey: true}}
        - {{name: name, type: varchar(20), unique: {name_unique}}}
        - {{name: kind, type: \"enum({labels})\", default: a}}
"
    ))
}

#[tokio::test]
async fn removing_enum_labels_counts_only_the_rows_holding_them() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        applied(apply(&database, &items("a,b,c", false), false).await);
        execute(
            &database,
            "INSERT INTO items (id, name, kind) VALUES (1, 'x', 'a'), (2, 'y', 'a'), (3, 'z', 'c')",
        )
        .await;

        let without_c = plan(&database, &items("a,b", false)).await;
        let verdicts: Vec<&Safety> = without_c.changes.iter().map(|c| &c.safety).collect();
        assert!(
            matches!(verdicts.as_slice(), [Safety::Impossible(why)] if why.contains("removed labels ('c') are held by 1 row")),
            "{engine}: {verdicts:?}"
        );

        // No row holds 'b': removing it is safe, without --allow-destructive.
        applied(apply(&database, &items("a,c", false), false).await);
        assert!(
            plan(&database, &items("a,c", false)).await.is_empty(),
            "{engine}"
        );
        assert_eq!(
            query_texts(&database, "SELECT name FROM items WHERE kind = 'c'").await,
            vec![vec![Some("z".to_string())]],
            "{engine}"
        );
    }
}

#[tokio::test]
async fn a_failed_postgres_apply_names_the_enum_labels_that_remain() {
    let database = TestDatabase::create(Backend::Postgres).await;
    applied(apply(&database, &items("a,b", false), false).await);
    execute(
        &database,
        "INSERT INTO items (id, name, kind) VALUES (1, 'same', 'a'), (2, 'same', 'b')",
    )
    .await;

    // The new label is committed first; the unique index then fails inside the transaction.
    let error = apply(&database, &items("a,b,c", true), false)
        .await
        .expect_err("duplicate names fail the unique index")
        .to_string();
    assert!(
        error.contains("these enum labels were committed before the transaction and remain")
            && error.contains("ADD VALUE IF NOT EXISTS 'c'")
            && !error.contains("the database is unchanged"),
        "{error}"
    );

    // Going back needs no --allow-destructive: no row holds the leftover label.
    applied(apply(&database, &items("a,b", false), false).await);
    assert!(plan(&database, &items("a,b", false)).await.is_empty());
}
