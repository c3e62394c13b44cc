//! Builder updates, deletes and selects, and inserts, upserts and `insert_many` batches, of one
//! shape run again and again (their texts kept per shape): each run binds its own values, a
//! changed shape gets its own text, and the refusals still hold, on every engine.

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

/// The same table as [`Counter`] through fewer columns: another column list, another text.
#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "counters")]
struct NamedCounter {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
    hits: i64,
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

/// Counters with their next ones and those's next ones, as eager loading gives them.
type Chained = Vec<(Counter, Vec<(Counter, Vec<Counter>)>)>;
/// [`Chained`] by name.
type ChainedNames = Vec<(String, Vec<(String, Vec<String>)>)>;

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

#[tokio::test]
async fn each_run_of_a_repeated_list_query_binds_its_own_list() {
    for engine in Backend::ALL {
        let (_test, db) = counters(engine).await;
        let names = |rows: Vec<Counter>| rows.into_iter().map(|c| c.name).collect::<Vec<_>>();
        // Lists of changing lengths: up to 200 values keep a placeholder each on MySQL and
        // SQLite, longer ones are one JSON array there; past 1,000 PostgreSQL unnests its array.
        for (hits, expected) in [
            (vec![1, 2], vec!["c1", "c2"]),
            ((3..400).collect::<Vec<i64>>(), vec!["c3", "c4", "c5"]),
            (vec![0], vec!["c0"]),
            (vec![], vec![]),
            ((-1100..2).collect(), vec!["c0", "c1"]),
            (vec![5, 4], vec!["c4", "c5"]),
        ] {
            let count = hits.len();
            let rows = Counter::find()
                .filter(Counter::HITS.in_(hits).and(Counter::NAME.ne("nobody")))
                .order_by(Counter::ID.asc())
                .all(&db)
                .await
                .expect("reads");
            assert_eq!(names(rows), expected, "{engine}: {count} values");
        }
        for (listed, expected) in [
            (vec!["c1", "c4"], vec!["c1", "c4"]),
            (vec!["c2"], vec!["c2"]),
        ] {
            let rows = Counter::find()
                .filter(Counter::NAME.in_(listed))
                .order_by(Counter::ID.asc())
                .all(&db)
                .await
                .expect("reads");
            assert_eq!(names(rows), expected, "{engine}");
        }
        // Each counter's "next" ones: those whose hits are its id. Parents change in number
        // from run to run; the level's statement is kept per shape.
        let next = || foxdb::Relation::has_many(Counter::ID, Counter::HITS);
        for last in [2, 6, 1, 6] {
            let tree: Chained = Counter::find()
                .filter(Counter::ID.lte(last))
                .order_by(Counter::ID.asc())
                .with(next().with(next()))
                .all(&db)
                .await
                .expect("loads");
            // Counter `cN` has id N + 1 and hits N: the next of id k is c(k).
            let shape: ChainedNames = tree
                .into_iter()
                .map(|(counter, next)| {
                    let next = next
                        .into_iter()
                        .map(|(n, after)| (n.name, names(after)))
                        .collect();
                    (counter.name, next)
                })
                .collect();
            let expected: ChainedNames = (0..last)
                .map(|i| {
                    let next = (i + 1 < 6)
                        .then(|| {
                            let after = (i + 2 < 6).then(|| format!("c{}", i + 2));
                            (format!("c{}", i + 1), after.into_iter().collect())
                        })
                        .into_iter()
                        .collect();
                    (format!("c{i}"), next)
                })
                .collect();
            assert_eq!(shape, expected, "{engine}: {last} parents");
        }
        let changed = Counter::update()
            .set(Counter::NOTE, Some("listed"))
            .filter(Counter::HITS.in_([0, 5]))
            .exec(&db)
            .await
            .expect("updates");
        assert_eq!(changed, 2, "{engine}");
        let changed = Counter::update()
            .set(Counter::NOTE, Some("listed"))
            .filter(Counter::HITS.in_((1..300).collect::<Vec<i64>>()))
            .exec(&db)
            .await
            .expect("updates");
        assert_eq!(changed, 5, "{engine}");
        db.close().await;
    }
}

#[tokio::test]
async fn each_run_of_a_repeated_insert_binds_its_own_values() {
    for engine in Backend::ALL {
        let (_test, db) = counters(engine).await;
        let counter = |name: &str, hits: i64, note: Option<&str>| Counter {
            id: 0,
            name: name.to_string(),
            hits,
            note: note.map(str::to_string),
        };
        let mut expected = hits(&db).await;
        for round in 0..3_i64 {
            // One row of each column list, the generated key left to the database.
            let stored = db
                .insert(&counter(&format!("one{round}"), round, Some("n")))
                .await
                .expect("inserts");
            assert!(stored.id > 0, "{engine}");
            assert_eq!(
                (stored.name.as_str(), stored.hits, stored.note.as_deref()),
                (format!("one{round}").as_str(), round, Some("n")),
                "{engine}"
            );
            expected.push((format!("one{round}"), round, Some("n".to_string())));
            let named = db
                .insert(&NamedCounter {
                    id: 0,
                    name: format!("named{round}"),
                    hits: 10 + round,
                })
                .await
                .expect("inserts");
            assert_eq!(
                (named.name, named.hits),
                (format!("named{round}"), 10 + round)
            );
            expected.push((format!("named{round}"), 10 + round, None));

            // Upserts: a new row (key left out), then the stored row by its key (key given).
            let fresh = db
                .upsert(&counter(&format!("up{round}"), 20 + round, None))
                .await
                .expect("upserts");
            expected.push((format!("up{round}"), 20 + round, None));
            let changed = db
                .upsert(&Counter {
                    hits: 30 + round,
                    ..fresh.clone()
                })
                .await
                .expect("upserts");
            assert_eq!(
                (changed.id, changed.hits),
                (fresh.id, 30 + round),
                "{engine}"
            );
            expected.last_mut().expect("pushed").1 = 30 + round;

            // A conflict on the key sets only the columns named, then keeps the stored row;
            // without a key the same clauses insert.
            let given = Counter {
                hits: 60 + round,
                note: Some("given".to_string()),
                ..fresh.clone()
            };
            let updated = Counter::insert(&given)
                .on_conflict(Counter::ID)
                .update([Counter::HITS])
                .exec(&db)
                .await
                .expect("upserts");
            assert_eq!(
                (updated.id, updated.hits, updated.note),
                (fresh.id, 60 + round, None),
                "{engine}"
            );
            expected.last_mut().expect("pushed").1 = 60 + round;
            let kept = Counter::insert(&given)
                .on_conflict(Counter::ID)
                .do_nothing()
                .exec(&db)
                .await
                .expect("inserts");
            assert_eq!(kept, None, "{engine}");
            let inserted = Counter::insert(&counter(&format!("new{round}"), 70 + round, None))
                .on_conflict(Counter::ID)
                .do_nothing()
                .exec(&db)
                .await
                .expect("inserts")
                .expect("a new row");
            assert_eq!(
                (inserted.name, inserted.hits),
                (format!("new{round}"), 70 + round)
            );
            expected.push((format!("new{round}"), 70 + round, None));

            // Batches of another number of rows each round.
            let batch: Vec<Counter> = (0..=round)
                .map(|i| counter(&format!("many{round}.{i}"), 40 + i, None))
                .collect();
            assert_eq!(
                db.insert_many(&batch).await.expect("inserts"),
                batch.len() as u64,
                "{engine}"
            );
            expected.extend(batch.iter().map(|c| (c.name.clone(), c.hits, None)));
            let batch: Vec<Counter> = (0..round + 2)
                .map(|i| counter(&format!("back{round}.{i}"), 50 + i, Some("b")))
                .collect();
            let stored = db.insert_many_returning(&batch).await.expect("inserts");
            let stored: Vec<(String, i64)> = stored.into_iter().map(|c| (c.name, c.hits)).collect();
            let given: Vec<(String, i64)> =
                batch.iter().map(|c| (c.name.clone(), c.hits)).collect();
            assert_eq!(stored, given, "{engine}");
            expected.extend(
                batch
                    .iter()
                    .map(|c| (c.name.clone(), c.hits, Some("b".to_string()))),
            );
        }
        assert_eq!(hits(&db).await, expected, "{engine}");
    }
}
