//! `insert_many` of many rows: one `COPY ... FROM STDIN` on PostgreSQL on tokio-postgres (from
//! `foxdb::query::COPY_MIN_ROWS` rows) that stores every portable value exactly as bound
//! statements do, all or nothing, counted and invalidating cached reads; multi-row `INSERT`s on
//! PostgreSQL on sqlx (`FOXDB_POSTGRES_DRIVER=sqlx`, where a COPY stalls), MariaDB and SQLite.

mod support;

use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use fox_e2e::{Backend, TestDatabase};
use foxdb::query::COPY_MIN_ROWS;
use foxdb::{Database, ModelExt, PostgresDriver};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "samples")]
struct Sample {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    label: String,
    note: Option<String>,
    data: Option<Vec<u8>>,
    doc: Option<serde_json::Value>,
    amount: Option<rust_decimal::Decimal>,
    ratio: Option<f64>,
    flag: Option<bool>,
    count: Option<i64>,
    happened_at: Option<DateTime<Utc>>,
    local_time: Option<NaiveDateTime>,
    day: Option<NaiveDate>,
    at: Option<NaiveTime>,
    token: Option<uuid::Uuid>,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[foxdb(table = "labels")]
struct Label {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    label: String,
}

fn labels(n: usize) -> Vec<Label> {
    (0..n)
        .map(|i| Label {
            id: 0,
            label: format!("{}#{i}", AWKWARD_TEXTS[i % AWKWARD_TEXTS.len()]),
        })
        .collect()
}

const POSTGRES_COLUMNS: &str = "label text NOT NULL, note text, data bytea, doc jsonb, \
     amount numeric(20,6), ratio double precision, flag boolean, count bigint, \
     happened_at timestamptz, local_time timestamp, day date, at time, token uuid";

/// Text COPY's format treats specially, and text that looks like its markers.
const AWKWARD_TEXTS: &[&str] = &[
    "",
    "tab\there",
    "line\nbreak",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "\\.",
    "ends with a backslash\\",
    "quote ' and \"double\" and ,comma",
    "unicode: żółć 日本語 🦊",
    "\\x41",
];

/// Row `i` of the awkward sample set: every column NULL on some rows, every awkward text and
/// float, times with sub-microsecond digits (stored truncated to the microsecond).
fn sample(i: usize) -> Sample {
    let text = AWKWARD_TEXTS[i % AWKWARD_TEXTS.len()];
    let ratios = [
        0.1,
        -0.0,
        1e-300,
        1.7976931348623157e308,
        f64::INFINITY,
        -2.5,
    ];
    let instant = DateTime::parse_from_rfc3339("2026-12-06T04:00:00.123456Z")
        .expect("valid")
        .with_timezone(&Utc)
        + chrono::Duration::seconds(i as i64);
    let some = |n: usize| !i.is_multiple_of(n);
    Sample {
        id: 0,
        label: format!("{text}#{i}"),
        note: some(7).then(|| text.repeat(1 + i % 3)),
        data: some(5).then(|| vec![0, 9, 10, 13, 92, 255, (i % 256) as u8]),
        doc: some(4).then(
            || serde_json::json!({"text": text, "n": i, "nested": {"list": [1, "two\t", null]}}),
        ),
        amount: some(6).then(|| rust_decimal::Decimal::new(-(i as i64) * 1001, 3)),
        ratio: some(3).then(|| ratios[i % ratios.len()]),
        flag: some(8).then_some(i.is_multiple_of(2)),
        count: some(9).then_some(i64::MIN + i as i64),
        happened_at: some(10).then_some(instant),
        local_time: some(11).then(|| instant.naive_utc()),
        day: some(12).then(|| instant.date_naive()),
        at: some(13).then(|| instant.time()),
        token: some(2).then(|| uuid::Uuid::from_u128(i as u128 * 0x9e37_79b9_7f4a_7c15)),
    }
}

async fn samples_table() -> (TestDatabase, Database) {
    support::database_with_table(Backend::Postgres, "samples", POSTGRES_COLUMNS).await
}

/// Every stored sample, by id.
async fn stored(db: &Database) -> Vec<Sample> {
    Sample::find()
        .order_by(Sample::ID.asc())
        .all(db)
        .await
        .expect("reads the samples back")
}

/// The statement `insert_many` loads many rows with on the driver the suite runs on: `COPY` on
/// tokio-postgres, one multi-row `INSERT` on sqlx.
fn bulk_statement() -> &'static str {
    match PostgresDriver::from_env() {
        PostgresDriver::TokioPostgres => "COPY",
        PostgresDriver::Sqlx => "INSERT",
    }
}

/// The statements of `db` whose shape starts with `prefix`, and how often they ran.
fn runs_of(db: &Database, prefix: &str) -> u64 {
    db.stats()
        .snapshot()
        .iter()
        .filter(|(shape, _)| shape.starts_with(prefix))
        .map(|(_, numbers)| numbers.count)
        .sum()
}

#[tokio::test]
async fn a_thousand_awkward_rows_round_trip_exactly_through_one_copy() {
    let (_test, db) = samples_table().await;
    let mut rows: Vec<Sample> = (0..COPY_MIN_ROWS + 200).map(sample).collect();
    // A big text and a big document, past the driver's 64 KiB COPY data chunks.
    rows[17].note = Some("x\ty\n\\".repeat(60_000));
    rows[18].doc = Some(serde_json::json!({"big": "é\n".repeat(50_000)}));
    let statements = db.statement_count();
    let inserted = db.insert_many(&rows).await.expect("loads the rows");
    assert_eq!(inserted, rows.len() as u64);
    assert_eq!(db.statement_count(), statements + 1, "one statement");
    assert_eq!(
        runs_of(&db, bulk_statement()),
        1,
        "{:?}",
        db.stats().snapshot()
    );
    let other = if bulk_statement() == "COPY" {
        "INSERT"
    } else {
        "COPY"
    };
    assert_eq!(runs_of(&db, other), 0);

    let found = stored(&db).await;
    assert_eq!(found.len(), rows.len());
    for (i, (found, mut expected)) in found.into_iter().zip(rows).enumerate() {
        expected.id = found.id;
        // Stored at the microsecond, as a bound parameter stores them.
        assert_eq!(found, expected, "row {i}");
    }
}

#[tokio::test]
async fn copy_stores_what_bound_inserts_store() {
    let (_test, db) = samples_table().await;
    let rows: Vec<Sample> = (0..COPY_MIN_ROWS).map(sample).collect();
    // The same rows once through COPY and once as single-row INSERTs with bound values.
    db.insert_many(&rows).await.expect("copies");
    for row in &rows {
        db.insert(row).await.expect("inserts");
    }
    let found = stored(&db).await;
    let (copied, inserted) = found.split_at(rows.len());
    for (copied, inserted) in copied.iter().zip(inserted) {
        let mut inserted = inserted.clone();
        inserted.id = copied.id;
        assert_eq!(*copied, inserted);
    }
    let nanos = Sample {
        happened_at: Some(
            DateTime::parse_from_rfc3339("2026-12-06T04:00:00.123456999Z")
                .expect("valid")
                .with_timezone(&Utc),
        ),
        ..sample(1)
    };
    let copied_nanos: Vec<Sample> = vec![nanos.clone(); COPY_MIN_ROWS];
    db.insert_many(&copied_nanos).await.expect("copies");
    let bound = db.insert(&nanos).await.expect("inserts");
    let last_copied = Sample::find()
        .filter(Sample::ID.eq(bound.id - 1))
        .one(&db)
        .await
        .expect("reads")
        .expect("a row");
    assert_eq!(
        last_copied.happened_at, bound.happened_at,
        "truncated alike"
    );
}

#[tokio::test]
async fn a_failing_copy_loads_nothing_and_the_pool_goes_on() {
    let (_test, db) = samples_table().await;
    db.execute("CREATE UNIQUE INDEX samples_label ON samples (label)", &[])
        .await
        .expect("indexes labels");
    let mut rows: Vec<Sample> = (0..COPY_MIN_ROWS + 10).map(sample).collect();
    rows[COPY_MIN_ROWS + 5].label = rows[3].label.clone();
    let error = db.insert_many(&rows).await.expect_err("a duplicate label");
    assert!(
        error.to_string().contains("samples_label"),
        "names the constraint: {error}"
    );
    assert_eq!(Sample::find().count(&db).await.expect("counts"), 0);
    assert_eq!(runs_of(&db, bulk_statement()), 1, "counted, failed");
    // The connection the COPY failed on is usable again (or replaced by the pool).
    rows.truncate(COPY_MIN_ROWS);
    assert_eq!(
        db.insert_many(&rows).await.expect("loads"),
        COPY_MIN_ROWS as u64
    );
}

#[tokio::test]
async fn copy_in_a_transaction_commits_and_rolls_back_with_it() {
    let (_test, db) = samples_table().await;
    let rows: Vec<Sample> = (0..COPY_MIN_ROWS).map(sample).collect();
    let mut tx = db.begin(None).await.expect("begins");
    assert_eq!(
        tx.insert_many(&rows).await.expect("copies"),
        COPY_MIN_ROWS as u64
    );
    tx.rollback().await.expect("rolls back");
    assert_eq!(Sample::find().count(&db).await.expect("counts"), 0);

    let mut tx = db.begin(None).await.expect("begins");
    tx.insert_many(&rows).await.expect("copies");
    tx.commit().await.expect("commits");
    assert_eq!(
        Sample::find().count(&db).await.expect("counts"),
        COPY_MIN_ROWS as i64
    );
    assert_eq!(runs_of(&db, bulk_statement()), 2);
}

#[tokio::test]
async fn a_value_without_exact_copy_text_falls_back_to_inserts() {
    let (_test, db) = samples_table().await;
    let mut rows: Vec<Sample> = (0..COPY_MIN_ROWS).map(sample).collect();
    // PostgreSQL writes years before 1 with `BC`; such a row goes as a bound INSERT.
    rows[500].day = NaiveDate::from_ymd_opt(0, 3, 1);
    assert_eq!(
        db.insert_many(&rows).await.expect("inserts"),
        COPY_MIN_ROWS as u64
    );
    assert_eq!(runs_of(&db, "COPY"), 0);
    assert_eq!(runs_of(&db, "INSERT"), 1);
    assert_eq!(stored(&db).await[500].day, rows[500].day);
}

#[tokio::test]
async fn a_copy_makes_cached_reads_of_its_table_fresh() {
    const TTL: Duration = Duration::from_secs(60);
    let (_test, db) =
        support::database_with_table(Backend::Postgres, "labels", "label text NOT NULL").await;
    let cache = foxdb::cache::QueryCache::new(
        &fox_e2e::redis_url(),
        format!("foxtest:bulk-insert:{}:", uuid::Uuid::new_v4()),
    )
    .expect("redis url")
    .with_timeout(Duration::from_secs(2));
    let db = db.with_cache(cache);
    assert_eq!(Label::find().cache(TTL).count(&db).await.expect("miss"), 0);
    assert_eq!(Label::find().cache(TTL).count(&db).await.expect("hit"), 0);
    db.insert_many(&labels(COPY_MIN_ROWS)).await.expect("loads");
    assert_eq!(runs_of(&db, bulk_statement()), 1);
    assert_eq!(
        Label::find().cache(TTL).count(&db).await.expect("fresh"),
        COPY_MIN_ROWS as i64
    );
}

#[tokio::test]
async fn many_rows_insert_in_batches_on_the_engines_without_copy() {
    for engine in [Backend::MySql, Backend::Sqlite] {
        let (_test, db) =
            support::database_with_table(engine, "labels", "label varchar(200) NOT NULL").await;
        let rows = labels(COPY_MIN_ROWS + 1);
        assert_eq!(
            db.insert_many(&rows).await.expect("inserts"),
            rows.len() as u64,
            "{engine}"
        );
        assert_eq!(runs_of(&db, "INSERT"), 1, "{engine}: one multi-row INSERT");
        assert_eq!(runs_of(&db, "COPY"), 0, "{engine}");
        let found = Label::find()
            .order_by(Label::ID.asc())
            .all(&db)
            .await
            .expect("reads");
        let found: Vec<&str> = found.iter().map(|l| l.label.as_str()).collect();
        let expected: Vec<&str> = rows.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(found, expected, "{engine}");
    }
}

#[tokio::test]
async fn postgres_copies_on_tokio_postgres_and_inserts_on_sqlx() {
    let test = TestDatabase::create(Backend::Postgres).await;
    for (driver, statement) in [
        (PostgresDriver::TokioPostgres, "COPY"),
        (PostgresDriver::Sqlx, "INSERT"),
    ] {
        let db = test.connect_on(driver).await;
        db.execute("DROP TABLE IF EXISTS labels", &[])
            .await
            .expect("drops");
        db.execute(
            "CREATE TABLE labels (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, label text NOT NULL)",
            &[],
        )
        .await
        .expect("creates");
        let rows = labels(COPY_MIN_ROWS);
        assert_eq!(
            db.insert_many(&rows).await.expect("loads"),
            rows.len() as u64
        );
        let mut tx = db.begin(None).await.expect("begins");
        tx.insert_many(&rows).await.expect("loads in a transaction");
        tx.commit().await.expect("commits");
        assert_eq!(
            runs_of(&db, statement),
            2,
            "{driver:?}: {:?}",
            db.stats().snapshot()
        );
        assert_eq!(
            Label::find().count(&db).await.expect("counts"),
            2 * COPY_MIN_ROWS as i64,
            "{driver:?}"
        );
        db.close().await;
    }
}
