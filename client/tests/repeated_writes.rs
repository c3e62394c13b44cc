//! Builder updates, deletes and selects of one shape run again and again (their texts kept per shape):
//! each run binds its own values, a changed shape gets its own text, and the refusals still
//! hold, on every engine.

mod support;

use fox_e2e::Backend;
use foxdb::{Database, ModelExt};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "counters")]
struct Counter {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
    hits: i64,
    note: Option<String>,
}

async fn counters(engine: Backend) -> (fox_e2e::TestDatabase, Database) {
    let (test, db) = support::database_with_table(
        engine,
        "counters",
        "name varchar(40) NOT NULL, hits bigint NOT NULL, note varchar(40)",
    )
    .await;
    let rows: Vec<Counter> = (0..6)
        .map(|i| Counter {
            id: 0,
            name: format!("c{i}"),
            hits: i,
            note: None,
        })
        .collect();
    db.insert_many(&rows).await.expect("inserts");
    (test, db)
}

async fn hits(db: &Database) -> Vec<(String, i64, Option<String>)> {
    Counter::find()
        .order_by(Counter::ID.asc())
        .all(db)
        .await
        .expect("reads")
        .into_iter()
        .map(|c| (c.name, c.hits, c.note))
        .collect()
}

#[tokio::test]
async fn each_run_of_a_repeated_write_binds_its_own_values() {
    for engine in Backend::ALL {
        let (_test, db) = counters(engine).await;
        for (i, name) in ["c1", "c2", "c1"].into_iter().enumerate() {
            let changed = Counter::update()
                .set(Counter::HITS, 100 + i as i64)
                .filter(Counter::NAME.eq(name))
                .exec(&db)
                .await
                .expect("updates");
            assert_eq!(changed, 1, "{engine}");
        }
        // Another shape of the same statement: two columns, an AND of comparisons.
        let changed = Counter::update()
            .set(Counter::HITS, 7)
            .set(Counter::NOTE, Some("low"))
            .filter(Counter::HITS.lt(4).and(Counter::HITS.gte(3)))
            .exec(&db)
            .await
            .expect("updates");
        assert_eq!(changed, 1, "{engine}");
        let changed = Counter::update()
            .set(Counter::NOTE, None::<String>)
            .filter(Counter::HITS.gt(100))
            .exec(&db)
            .await
            .expect("updates");
        assert_eq!(changed, 2, "{engine}: 101 and 102");
        assert_eq!(
            hits(&db).await,
            vec![
                ("c0".into(), 0, None),
                ("c1".into(), 102, None),
                ("c2".into(), 101, None),
                ("c3".into(), 7, Some("low".into())),
                ("c4".into(), 4, None),
                ("c5".into(), 5, None),
            ],
            "{engine}"
        );

        for name in ["c0", "c4", "nobody"] {
            Counter::delete()
                .filter(Counter::NAME.eq(name))
                .exec(&db)
                .await
                .expect("deletes");
        }
        assert_eq!(hits(&db).await.len(), 4, "{engine}");
        // Without a filter the same table's statements are refused, kept texts or not.
        assert!(
            Counter::update()
                .set(Counter::HITS, 0)
                .exec(&db)
                .await
                .is_err(),
            "{engine}"
        );
        assert!(Counter::delete().exec(&db).await.is_err(), "{engine}");
        assert_eq!(
            Counter::update()
                .set(Counter::HITS, 0)
                .all_rows()
                .exec(&db)
                .await
                .expect("updates every row"),
            4,
            "{engine}"
        );
        assert!(Counter::delete().exec(&db).await.is_err(), "{engine}");
        assert_eq!(
            Counter::delete()
                .all_rows()
                .exec(&db)
                .await
                .expect("deletes every row"),
            4,
            "{engine}"
        );
        db.close().await;
    }
}

/// Builder selects of one shape run again and again (their texts kept per shape too): each run
/// binds its own values, and another limit, offset, order or filter is another shape.
#[tokio::test]
async fn each_run_of_a_repeated_select_binds_its_own_values_and_limits() {
    for engine in Backend::ALL {
        let (_test, db) = counters(engine).await;
        let names = |rows: Vec<Counter>| rows.into_iter().map(|c| c.name).collect::<Vec<_>>();
        for (limit, expected) in [
            (1, vec!["c0"]),
            (3, vec!["c0", "c1", "c2"]),
            (1, vec!["c0"]),
        ] {
            let rows = Counter::find()
                .order_by(Counter::ID.asc())
                .limit(limit)
                .all(&db)
                .await
                .expect("reads");
            assert_eq!(names(rows), expected, "{engine}: limit {limit}");
        }
        let rows = Counter::find()
            .order_by(Counter::ID.desc())
            .limit(2)
            .offset(1)
            .all(&db)
            .await
            .expect("reads");
        assert_eq!(names(rows), ["c4", "c3"], "{engine}");
        for (low, expected) in [
            (4, vec!["c4", "c5"]),
            (5, vec!["c5"]),
            (4, vec!["c4", "c5"]),
        ] {
            let rows = Counter::find()
                .filter(Counter::HITS.gte(low).and(Counter::NAME.ne("nobody")))
                .order_by(Counter::HITS.asc())
                .all(&db)
                .await
                .expect("reads");
            assert_eq!(names(rows), expected, "{engine}: hits ≥ {low}");
        }
        for name in ["c2", "c3", "nobody"] {
            let found = Counter::find()
                .filter(Counter::NAME.eq(name))
                .one(&db)
                .await
                .expect("reads");
            assert_eq!(
                found.map(|c| c.name).as_deref(),
                (name != "nobody").then_some(name)
            );
        }
        db.close().await;
    }
}
