//! UUIDs, dates, times, timestamps and JSON round-trip through models on every engine, and
//! compare in filters.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, ModelExt};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "events")]
struct Event {
    #[foxdb(primary_key)]
    id: uuid::Uuid,
    happened_at: DateTime<Utc>,
    local_time: NaiveDateTime,
    day: NaiveDate,
    at: Option<NaiveTime>,
    payload: serde_json::Value,
    amount: rust_decimal::Decimal,
}

fn ddl(engine: Backend) -> &'static str {
    match engine {
        Backend::Postgres => {
            "CREATE TABLE events (id uuid PRIMARY KEY, happened_at timestamptz NOT NULL, local_time timestamp NOT NULL, day date NOT NULL, at time, payload jsonb NOT NULL, amount numeric(12,2) NOT NULL)"
        }
        Backend::MySql => {
            "CREATE TABLE events (id char(36) PRIMARY KEY, happened_at timestamp(6) NOT NULL, local_time datetime(6) NOT NULL, day date NOT NULL, at time NULL, payload json NOT NULL, amount decimal(12,2) NOT NULL)"
        }
        Backend::Sqlite => {
            "CREATE TABLE events (id UUID PRIMARY KEY, happened_at TIMESTAMPTZ NOT NULL, local_time TIMESTAMP NOT NULL, day DATE NOT NULL, at TIME, payload JSON NOT NULL, amount DECIMAL(12,2) NOT NULL)"
        }
    }
}

#[tokio::test]
async fn typed_values_round_trip_on_every_engine() {
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let db = Database::connect(test.url()).await.expect("connects");
        db.execute(ddl(engine), &[]).await.expect("creates");
        let instant = DateTime::parse_from_rfc3339("2026-11-27T08:15:30.123456Z")
            .expect("valid")
            .with_timezone(&Utc);
        let event = Event {
            id: uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
            happened_at: instant,
            local_time: instant.naive_utc(),
            day: NaiveDate::from_ymd_opt(2026, 11, 27).expect("valid"),
            at: NaiveTime::from_hms_opt(8, 15, 30),
            payload: serde_json::json!({"kind": "signup", "tags": ["a", "b"]}),
            amount: rust_decimal::Decimal::new(1250, 2),
        };
        let stored = db
            .insert(&event)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(stored, event, "{engine}: round trip");
        let found = Event::find()
            .filter(
                Event::ID
                    .eq(event.id)
                    .and(Event::HAPPENED_AT.gte(instant))
                    .and(Event::DAY.eq(event.day)),
            )
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(found, vec![event.clone()], "{engine}: typed filters");
        let without_time = Event::update()
            .set_null(Event::AT)
            .filter(Event::ID.eq(event.id))
            .exec(&db)
            .await
            .expect("updates");
        assert_eq!(without_time, 1);
        assert_eq!(
            Event::find()
                .filter(Event::AT.is_null())
                .count(&db)
                .await
                .expect("counts"),
            1,
            "{engine}"
        );
        db.close().await;
    }
}

/// Every nullable field kind, its column given another type where a NULL must still read as
/// `None` (`label` is an integer column).
#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "nullables")]
struct Nullables {
    #[foxdb(primary_key)]
    id: i64,
    label: Option<String>,
    note: Option<String>,
    count: Option<i64>,
    small: Option<i32>,
    flag: Option<bool>,
    day: Option<NaiveDate>,
}

#[tokio::test]
async fn nullable_fields_read_none_for_null_whatever_the_column_and_values_once_on_every_driver() {
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let mut drivers = vec![foxdb::PostgresDriver::TokioPostgres];
        if engine == Backend::Postgres {
            drivers.push(foxdb::PostgresDriver::Sqlx);
        }
        let setup = Database::connect(test.url()).await.expect("connects");
        setup
            .execute(
                "CREATE TABLE nullables (id bigint PRIMARY KEY, label integer, note text, \
                 count bigint, small bigint, flag boolean, day date)",
                &[],
            )
            .await
            .expect("creates");
        setup
            .execute(
                "INSERT INTO nullables (id, label, note, count, small, flag, day) VALUES \
                 (1, NULL, NULL, NULL, NULL, NULL, NULL), \
                 (2, NULL, 'text', 9000000000, 7, TRUE, '2026-12-06')",
                &[],
            )
            .await
            .expect("inserts");
        for driver in drivers {
            let db = test.connect_on(driver).await;
            let rows = Nullables::find()
                .order_by(Nullables::ID.asc())
                .all(&db)
                .await
                .unwrap_or_else(|e| panic!("{engine} ({driver:?}): {e}"));
            assert_eq!(
                rows,
                vec![
                    Nullables {
                        id: 1,
                        label: None,
                        note: None,
                        count: None,
                        small: None,
                        flag: None,
                        day: None,
                    },
                    Nullables {
                        id: 2,
                        label: None,
                        note: Some("text".into()),
                        count: Some(9_000_000_000),
                        small: Some(7),
                        flag: Some(true),
                        day: NaiveDate::from_ymd_opt(2026, 12, 6),
                    },
                ],
                "{engine} ({driver:?})"
            );
            // A value that does not fit the field is refused, not read as NULL.
            db.execute("UPDATE nullables SET small = 9000000000 WHERE id = 2", &[])
                .await
                .expect("updates");
            let error = Nullables::find()
                .all(&db)
                .await
                .expect_err("out of an i32's range");
            assert!(
                error.to_string().contains("small"),
                "{engine} ({driver:?}): {error}"
            );
            db.execute("UPDATE nullables SET small = 7 WHERE id = 2", &[])
                .await
                .expect("updates");
        }
    }
}
