//! Query statistics against real PostgreSQL, MariaDB and SQLite databases: bounded in number,
//! free of literal values in shapes, metric labels and the slow-query log.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, PoolOptions};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "readings")]
struct Reading {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
    note: Option<String>,
    level: Option<i64>,
    taken: Option<chrono::NaiveDateTime>,
}

/// The `/metrics` text of `db`'s statistics.
fn metrics_text(db: &Database) -> String {
    let registry = prometheus::Registry::new();
    db.stats().register(&registry).expect("registers");
    let mut text = String::new();
    prometheus::TextEncoder::new()
        .encode_utf8(&registry.gather(), &mut text)
        .expect("encodes");
    text
}

/// Series of the query-duration histogram: one per shape label.
fn duration_series(text: &str) -> usize {
    text.lines()
        .filter(|line| line.starts_with("foxdb_query_duration_seconds_count{"))
        .count()
}

async fn connect(test: &TestDatabase, options: &PoolOptions) -> Database {
    Database::connect_with(test.url(), options)
        .await
        .expect("connects")
}

#[tokio::test]
async fn inserts_with_varying_null_patterns_share_one_shape_on_every_engine() {
    const STATEMENTS: usize = 20_000;
    for engine in Backend::ALL {
        let taken_type = match engine {
            Backend::Postgres => "timestamp",
            Backend::MySql => "datetime",
            Backend::Sqlite => "TEXT",
        };
        let (test, _) = support::database_with_table(
            engine,
            "readings",
            &format!("name varchar(40) NOT NULL, note text, level bigint, taken {taken_type}"),
        )
        .await;
        let options = PoolOptions {
            max_query_shapes: 50,
            ..PoolOptions::default()
        };
        let db = connect(&test, &options).await;
        let taken = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .expect("a valid time");
        // Every statement 8 rows, each row a different pattern of NULLs in 3 columns: without
        // bound NULLs, almost every statement is a shape of its own.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut tx = db.begin(None).await.expect("begins");
        for _ in 0..STATEMENTS {
            let rows: Vec<Reading> = (0..8)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    Reading {
                        id: 0,
                        name: "r".into(),
                        note: (seed & 1 == 0).then(|| "n".to_string()),
                        level: (seed & 2 == 0).then_some(7),
                        taken: (seed & 4 == 0).then_some(taken),
                    }
                })
                .collect();
            tx.insert_many(&rows)
                .await
                .unwrap_or_else(|e| panic!("{engine}: inserts: {e}"));
        }
        tx.commit().await.expect("commits");
        let shapes = db.stats().snapshot();
        let inserts: Vec<_> = shapes
            .iter()
            .filter(|(shape, _)| shape.starts_with("INSERT"))
            .collect();
        assert_eq!(inserts.len(), 1, "{engine}: one insert shape: {shapes:?}");
        assert_eq!(inserts[0].1.count, STATEMENTS as u64, "{engine}");
        assert!(
            shapes.iter().all(|(shape, _)| shape != "other"),
            "{engine}: nothing overflowed: {shapes:?}"
        );
        let text = metrics_text(&db);
        assert!(duration_series(&text) <= 50, "{engine}: {text}");
        assert!(text.len() < 64 * 1024, "{engine}: {} bytes", text.len());
        db.close().await;
    }
}

#[tokio::test]
async fn shapes_past_the_cap_count_under_other_on_every_engine() {
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let options = PoolOptions {
            max_query_shapes: 10,
            slow_query_threshold: Some(Duration::ZERO),
            ..PoolOptions::default()
        };
        let db = connect(&test, &options).await;
        for i in 0..200 {
            db.fetch_all(&format!("SELECT 1 AS c{i}"), &[])
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"));
        }
        let shapes = db.stats().snapshot();
        assert_eq!(shapes.len(), 11, "{engine}: 10 shapes and `other`");
        assert_eq!(shapes[0].0, "other", "{engine}");
        assert_eq!(shapes[0].1.count, 190, "{engine}");
        let text = metrics_text(&db);
        assert_eq!(duration_series(&text), 11, "{engine}: {text}");
        assert!(text.contains(r#"shape="other""#), "{engine}");
        assert!(
            shapes.iter().any(|(shape, _)| shape.ends_with("AS c0")),
            "{engine}: {shapes:?}"
        );
        assert!(
            !format!("{db:?}").contains("AS c0"),
            "{engine}: Debug of a Database leaves the shapes out"
        );
        db.close().await;
    }
}

/// A `tracing` writer into a shared buffer: the slow-query log as text.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuffer {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Statements holding `s3cr3t` in every literal form the engine has.
fn literal_statements(engine: Backend) -> &'static [&'static str] {
    match engine {
        Backend::Postgres => &[
            "SELECT 's3cr3t' AS a",
            "SELECT 'it''s s3cr3t' AS a",
            r"SELECT E'it\'s s3cr3t' AS a",
            "SELECT $$api_key=s3cr3t$$ AS a",
            "SELECT $tag$ $$ s3cr3t $tag$ AS a",
            "SELECT U&'s3cr3t' AS a",
            "SELECT 1 AS a /* s3cr3t /* nested */ s3cr3t */",
            "SELECT 1 AS a -- s3cr3t",
            "SELECT 31337 AS a",
        ],
        Backend::MySql => &[
            "SELECT 's3cr3t' AS a",
            r#"SELECT "s3cr3t" AS a"#,
            r#"SELECT "say \"s3cr3t\"" AS a"#,
            r"SELECT 'it\'s s3cr3t' AS a",
            "SELECT _utf8mb4's3cr3t' AS a",
            "SELECT 1 AS a # s3cr3t",
            "SELECT 1 AS a /* s3cr3t */",
            "SELECT 1 AS a -- s3cr3t",
            "SELECT 0x31337 AS a",
            "SELECT 31337 AS a",
        ],
        Backend::Sqlite => &[
            "SELECT 's3cr3t' AS a",
            "SELECT 'it''s s3cr3t' AS a",
            "SELECT x'533363' AS a",
            "SELECT 1 AS a /* s3cr3t */",
            "SELECT 1 AS a -- s3cr3t",
            "SELECT 31337 AS a",
            "SELECT 3.1337e3 AS a",
        ],
    }
}

#[tokio::test]
async fn no_literal_reaches_metrics_or_the_slow_query_log_on_every_engine() {
    let log = LogBuffer::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let options = PoolOptions {
            slow_query_threshold: Some(Duration::ZERO),
            ..PoolOptions::default()
        };
        let db = connect(&test, &options).await;
        for sql in literal_statements(engine) {
            db.fetch_all(sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{engine}: {sql}: {e}"));
        }
        let text = metrics_text(&db);
        for secret in ["s3cr3t", "31337", "533363"] {
            assert!(
                !text.contains(secret),
                "{engine}: {secret} in /metrics:\n{text}"
            );
        }
        db.close().await;
    }
    let logged =
        String::from_utf8_lossy(&log.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    assert!(
        logged.contains("slow query"),
        "the log was captured: {logged}"
    );
    for secret in ["s3cr3t", "31337", "533363"] {
        assert!(
            !logged.contains(secret),
            "{secret} in the slow-query log:\n{logged}"
        );
    }
}
