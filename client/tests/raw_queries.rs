//! `foxdb::query_as!` and `foxdb::query!`: one hand-written query, its `{values}` bound as
//! parameters, runs unchanged on every engine (only the URL differs).

use chrono::{DateTime, Duration, TimeZone, Utc};
use fox_e2e::{Backend, TestDatabase};
use foxdb::Database;

#[derive(Debug, PartialEq, foxdb::FromRow)]
struct UserStats {
    email: String,
    posts: i64,
}

async fn blog(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    let instant = if engine == Backend::MySql {
        "timestamp(6)"
    } else {
        "timestamptz"
    };
    for ddl in [
        format!(
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL, created_at {instant} NOT NULL)"
        ),
        "CREATE TABLE posts (id bigint PRIMARY KEY, author_id bigint NOT NULL, title varchar(100) NOT NULL)".into(),
    ] {
        db.execute(&ddl, &[]).await.expect("creates");
    }
    (test, db)
}

fn day(n: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, n, 12, 0, 0)
        .single()
        .expect("a valid date")
}

#[tokio::test]
async fn one_raw_query_runs_on_every_engine_with_bound_values() {
    for engine in Backend::ALL {
        let (_test, db) = blog(engine).await;
        for (id, email, created) in [
            (1_i64, "ada@x.org", day(1)),
            (2, "grace@x.org", day(10)),
            (3, "linus@x.org", day(20)),
        ] {
            foxdb::query!(
                "INSERT INTO users (id, email, created_at) VALUES ({id}, {email}, {created})"
            )
            .execute(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        }
        for (id, author) in [(1_i64, 2_i64), (2, 2), (3, 3)] {
            let title = format!("post {id}");
            let inserted = foxdb::query!(
                "INSERT INTO posts (id, author_id, title) VALUES ({id}, {author}, {title})"
            )
            .execute(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
            assert_eq!(inserted, 1);
        }

        let since = day(5);
        let suffix = "%@x.org";
        let stats: Vec<UserStats> = foxdb::query_as!(
            UserStats,
            "SELECT u.email, COUNT(p.id) AS posts
               FROM users u LEFT JOIN posts p ON p.author_id = u.id
              WHERE u.created_at > {since} AND u.email LIKE {suffix}
              GROUP BY u.email
              ORDER BY u.email"
        )
        .all(&db)
        .await
        .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            stats,
            [
                UserStats {
                    email: "grace@x.org".into(),
                    posts: 2
                },
                UserStats {
                    email: "linus@x.org".into(),
                    posts: 1
                },
            ],
            "{engine}"
        );

        // Expressions, a value used twice, braces written as `{{ }}`, and a transaction.
        let window = (day(1) - Duration::days(1), day(15));
        let count = db
            .transaction(async |tx| {
                foxdb::query_as!(
                    Count,
                    "SELECT COUNT(*) AS n FROM users
                      WHERE created_at BETWEEN {window.0} AND {window.1}
                        AND email <> {\"{{nobody}}\"} AND email <> {suffix}"
                )
                .one(&mut *tx)
                .await
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"))
            .expect("one row");
        assert_eq!(count.n, 2, "{engine}");
        assert!(suffix.ends_with("x.org"), "values are borrowed, not moved");
    }
}

#[derive(Debug, foxdb::FromRow)]
struct Count {
    n: i64,
}

#[test]
fn each_engine_gets_its_placeholders_and_values_stay_out_of_the_text() {
    let email = "o'brien@x.org".to_string();
    let id = 7_i64;
    let query = foxdb::query_as!(
        Count,
        "SELECT COUNT(*) AS n FROM users WHERE email = {email} AND id > {id}"
    );
    let (postgres, values) = query.to_sql(Backend::Postgres);
    assert_eq!(
        postgres,
        "SELECT COUNT(*) AS n FROM users WHERE email = $1 AND id > $2"
    );
    assert_eq!(
        values,
        [foxdb::Value::Text(email.clone()), foxdb::Value::Int(7)]
    );
    for engine in [Backend::MySql, Backend::Sqlite] {
        let (sql, _) = query.to_sql(engine);
        assert_eq!(
            sql,
            "SELECT COUNT(*) AS n FROM users WHERE email = ? AND id > ?"
        );
    }
    let (literal_braces, values) =
        foxdb::query!("SELECT '{{\"a\": 1}}' AS doc").to_sql(Backend::Postgres);
    assert_eq!(literal_braces, "SELECT '{\"a\": 1}' AS doc");
    assert!(values.is_empty());
}
