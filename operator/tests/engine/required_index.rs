//! Turning `autoIndexForeignKeys` off: engines that need an index on a foreign key's columns
//! (InnoDB) keep it, and the plan says so and converges; the others drop it.

use fox_e2e::{Backend, TestDatabase};

use super::support::{applied, apply, live_schema, plan, schema, schema_yaml};

fn posts(policy: &str) -> fox_crds::FoxSchema {
    schema(&schema_yaml(
        policy,
        "
    - name: users
      columns:
        - {name: id, type: integer, primaryKey: true}
    - name: posts
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: author_id, type: integer, references: {table: users}}
",
    ))
}

#[tokio::test]
async fn turning_auto_index_off_keeps_an_index_the_engine_requires_and_converges() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        applied(apply(&database, &posts(""), false).await);
        let has_index = |schema: &foxdb::schema::Schema| {
            schema
                .table("posts")
                .is_some_and(|t| t.index("posts_author_id_idx").is_some())
        };
        assert!(has_index(&live_schema(&database).await), "{engine}");

        let manual = posts("autoIndexForeignKeys: false");
        let planned = plan(&database, &manual).await;
        let needs_index = engine == Backend::MySql;
        if needs_index {
            assert!(planned.is_empty(), "{engine}: {:#?}", planned.changes);
            let shown = fox_operator::commands::report::plan_text(&planned);
            assert!(
                shown.contains("note: index posts_author_id_idx on posts is kept"),
                "{shown}"
            );
            assert_eq!(planned.notes.len(), 1, "{engine}");
            assert!(
                planned.notes[0].contains("index posts_author_id_idx on posts is kept")
                    && planned.notes[0].contains("foreign key posts_author_id_fkey"),
                "{engine}: {}",
                planned.notes[0]
            );
        } else {
            assert!(planned.notes.is_empty(), "{engine}: {:?}", planned.notes);
            assert_eq!(planned.changes.len(), 1, "{engine}: {:#?}", planned.changes);
        }
        applied(apply(&database, &manual, false).await);
        assert!(
            plan(&database, &manual).await.is_empty(),
            "{engine}: converges"
        );
        assert_eq!(
            has_index(&live_schema(&database).await),
            needs_index,
            "{engine}"
        );
    }
}
