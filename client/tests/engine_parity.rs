//! Behaviour that used to differ between engines and now is the same on every one: a column
//! name with a typo is an error (SQLite's double-quoted string fallback is off), integers
//! decode into any integer field whose range holds them, and statement counts include
//! transactions.

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, Error, ModelExt};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "people")]
struct Person {
    #[foxdb(primary_key)]
    id: i64,
    email: String,
}

/// The same table with a typo in a field name.
#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "people")]
struct PersonWithTypo {
    #[foxdb(primary_key)]
    id: i64,
    emial: String,
}

async fn people(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    db.execute(
        "CREATE TABLE people (id bigint PRIMARY KEY, email varchar(100) NOT NULL)",
        &[],
    )
    .await
    .expect("creates");
    db.insert(&Person {
        id: 1,
        email: "ada@example.com".into(),
    })
    .await
    .expect("inserts");
    (test, db)
}

#[tokio::test]
async fn a_misspelt_column_is_an_error_not_its_own_name() {
    for engine in Backend::ALL {
        let (test, db) = people(engine).await;
        let error = PersonWithTypo::find()
            .all(&db)
            .await
            .expect_err("there is no column emial");
        assert!(matches!(error, Error::Query { .. }), "{engine}: {error:?}");
        assert!(error.to_string().contains("emial"), "{engine}: {error}");

        let filtered = PersonWithTypo::find()
            .filter(PersonWithTypo::EMIAL.eq("x"))
            .count(&db)
            .await;
        assert!(filtered.is_err(), "{engine}: a filter on it fails too");

        // The single connection (the schema engine's) refuses it as well, in DDL too.
        let url = foxdb::DatabaseUrl::parse(test.url()).expect("parses");
        let mut connection = foxdb::Connection::connect(&url, &foxdb::ConnectOptions::default())
            .await
            .expect("connects");
        let quoted = match engine {
            Backend::MySql => "SELECT `emial` FROM people",
            _ => "SELECT \"emial\" FROM people",
        };
        assert!(
            connection.fetch_text_rows(quoted, &[]).await.is_err(),
            "{engine}: {quoted}"
        );
        if engine == Backend::Sqlite {
            let ddl = "CREATE INDEX people_typo ON people (\"emial\")";
            assert!(connection.execute(ddl).await.is_err(), "{ddl}");
        }
        connection.close().await;
    }
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "counters", new_row)]
struct Counter {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    small: i64,
    medium: i64,
    narrow: i32,
    ratio: f64,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "counters")]
struct TooNarrow {
    #[foxdb(primary_key, auto_increment)]
    id: i16,
    small: i16,
    medium: i16,
    narrow: i16,
    ratio: f64,
}

#[tokio::test]
async fn integers_widen_into_any_integer_field_on_every_engine() {
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let db = Database::connect(test.url()).await.expect("connects");
        let key = match engine {
            Backend::Postgres => "serial PRIMARY KEY",
            Backend::MySql => "integer AUTO_INCREMENT PRIMARY KEY",
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        let real = if engine == Backend::MySql {
            "float"
        } else {
            "real"
        };
        db.execute(
            &format!(
                "CREATE TABLE counters (id {key}, small smallint NOT NULL, medium integer NOT NULL, narrow smallint NOT NULL, ratio {real} NOT NULL)"
            ),
            &[],
        )
        .await
        .expect("creates");
        db.execute(
            "INSERT INTO counters (small, medium, narrow, ratio) VALUES (7, 40000, 3, 0.5)",
            &[],
        )
        .await
        .expect("inserts");
        let counters = Counter::find()
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: an i64 field over serial/int4/int2: {e}"));
        assert_eq!(
            counters,
            [Counter {
                id: 1,
                small: 7,
                medium: 40_000,
                narrow: 3,
                ratio: 0.5
            }],
            "{engine}"
        );
        let created = db
            .create(&NewCounter {
                small: 1,
                medium: 2,
                narrow: 3,
                ratio: 0.25,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            created.id, 2,
            "{engine}: the generated int4 key reads as i64"
        );

        // A value past the field's range is refused alike, naming the column.
        let error = TooNarrow::find()
            .filter(TooNarrow::ID.eq(1))
            .all(&db)
            .await
            .expect_err("40000 does not fit an i16");
        assert!(
            matches!(&error, Error::Decode { column, .. } if column == "medium"),
            "{engine}: {error:?}"
        );
    }
}

#[tokio::test]
async fn statements_inside_transactions_are_counted_with_the_pool() {
    for engine in Backend::ALL {
        let (_test, db) = people(engine).await;
        let before = db.statement_count();
        let shapes_before: u64 = db.stats().snapshot().iter().map(|(_, s)| s.count).sum();
        db.transaction(async |tx| {
            Person::find().count(&mut *tx).await?;
            tx.insert(&Person {
                id: 2,
                email: "grace@example.com".into(),
            })
            .await?;
            tx.savepoint(async |tx| Person::find().all(&mut *tx).await.map(drop))
                .await
        })
        .await
        .expect("commits");
        // count + insert + (SAVEPOINT, select, RELEASE); MySQL, without RETURNING, reads the
        // inserted row back with one more statement.
        let expected = if engine == Backend::MySql { 6 } else { 5 };
        assert_eq!(db.statement_count() - before, expected, "{engine}");
        let shapes_after: u64 = db.stats().snapshot().iter().map(|(_, s)| s.count).sum();
        assert_eq!(
            shapes_after - shapes_before,
            expected,
            "{engine}: the statistics agree"
        );

        let mut tx = db.begin(None).await.expect("begins");
        tx.fetch_all("SELECT 1", &[]).await.expect("selects");
        tx.rollback().await.expect("rolls back");
        assert_eq!(db.statement_count() - before, expected + 1, "{engine}");
    }
}
