//! Server errors come back as the same typed `foxdb::Error` variants on every engine, each
//! provoked for real: unique, foreign key, NOT NULL and CHECK violations, deadlocks,
//! serialization failures and lock timeouts (retryable), and connection failures with their
//! cause.

use std::time::{Duration, Instant};

use fox_e2e::{Backend, TestDatabase};
use foxdb::{ConnectFailure, Database, Error, Isolation, ModelExt};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "members")]
struct Member {
    #[foxdb(primary_key)]
    id: i64,
    email: String,
    age: Option<i32>,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "notes")]
struct Note {
    #[foxdb(primary_key)]
    id: i64,
    member_id: i64,
}

/// The server URL without its database.
fn server_base(server: &str) -> &str {
    server.rsplit_once('/').map_or(server, |(base, _)| base)
}

/// `host:port` of a server URL.
fn host_port(server: &str) -> &str {
    let base = server_base(server);
    base.rsplit('@').next().unwrap_or(base)
}

async fn members(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    for ddl in [
        "CREATE TABLE members (id bigint PRIMARY KEY, email varchar(100) NOT NULL, age integer, \
         CONSTRAINT members_email_key UNIQUE (email), CONSTRAINT members_age_positive CHECK (age > 0))",
        "CREATE TABLE notes (id bigint PRIMARY KEY, member_id bigint NOT NULL, \
         CONSTRAINT notes_member_fk FOREIGN KEY (member_id) REFERENCES members (id))",
    ] {
        db.execute(ddl, &[])
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
    }
    db.insert(&Member {
        id: 1,
        email: "ada@example.com".into(),
        age: Some(36),
    })
    .await
    .expect("first member");
    (test, db)
}

#[tokio::test]
async fn a_duplicate_is_a_unique_violation_naming_what_the_engine_tells() {
    for engine in Backend::ALL {
        let (_test, db) = members(engine).await;
        let duplicate = Member {
            id: 2,
            email: "ada@example.com".into(),
            age: None,
        };
        let error = db.insert(&duplicate).await.expect_err("duplicate email");
        let Error::UniqueViolation {
            constraint,
            columns,
            backend,
            ..
        } = &error
        else {
            panic!("{engine}: {error:?}");
        };
        assert_eq!(*backend, engine);
        match engine {
            // PostgreSQL names both; MariaDB the key; SQLite the columns.
            Backend::Postgres => {
                assert_eq!(constraint.as_deref(), Some("members_email_key"));
                assert_eq!(columns, &["email"]);
            }
            Backend::MySql => assert_eq!(constraint.as_deref(), Some("members_email_key")),
            Backend::Sqlite => assert_eq!(columns, &["email"], "{error}"),
        }
        assert!(error.is_constraint_violation() && !error.is_retryable());
        assert!(
            error.to_string().contains("unique constraint violated"),
            "{error}"
        );

        let same_key = Member {
            id: 1,
            email: "other@example.com".into(),
            age: None,
        };
        let error = db.insert(&same_key).await.expect_err("duplicate key");
        assert!(
            matches!(error, Error::UniqueViolation { .. }),
            "{engine}: a primary key is unique too: {error:?}"
        );
    }
}

#[tokio::test]
async fn a_missing_or_still_referenced_row_is_a_foreign_key_violation() {
    for engine in Backend::ALL {
        let (_test, db) = members(engine).await;
        let error = db
            .insert(&Note {
                id: 1,
                member_id: 999,
            })
            .await
            .expect_err("no member 999");
        let Error::ForeignKeyViolation { constraint, .. } = &error else {
            panic!("{engine}: {error:?}");
        };
        if engine != Backend::Sqlite {
            assert_eq!(constraint.as_deref(), Some("notes_member_fk"), "{engine}");
        }
        db.insert(&Note {
            id: 1,
            member_id: 1,
        })
        .await
        .expect("a note of member 1");
        let error = Member::delete()
            .filter(Member::ID.eq(1))
            .exec(&db)
            .await
            .expect_err("member 1 is referenced");
        assert!(
            matches!(error, Error::ForeignKeyViolation { .. }),
            "{engine}: {error:?}"
        );
    }
}

#[tokio::test]
async fn null_for_a_not_null_column_and_a_refused_check_are_typed() {
    for engine in Backend::ALL {
        let (_test, db) = members(engine).await;
        let error = db
            .execute("INSERT INTO members (id, email) VALUES (5, NULL)", &[])
            .await
            .expect_err("email is NOT NULL");
        let Error::NotNullViolation { columns, .. } = &error else {
            panic!("{engine}: {error:?}");
        };
        assert_eq!(columns, &["email"], "{engine}: {error}");

        let error = db
            .insert(&Member {
                id: 6,
                email: "young@example.com".into(),
                age: Some(-1),
            })
            .await
            .expect_err("age must be positive");
        let Error::CheckViolation { constraint, .. } = &error else {
            panic!("{engine}: {error:?}");
        };
        assert_eq!(
            constraint.as_deref(),
            Some("members_age_positive"),
            "{engine}: {error}"
        );
        assert!(error.is_constraint_violation());
    }
}

#[tokio::test]
async fn a_deadlock_is_typed_and_retryable() {
    // SQLite has one writer at a time (transactions take the write lock at BEGIN): it cannot
    // deadlock; its lock timeout is tested below.
    for engine in [Backend::Postgres, Backend::MySql] {
        let (_test, db) = members(engine).await;
        db.insert(&Member {
            id: 2,
            email: "grace@example.com".into(),
            age: None,
        })
        .await
        .expect("second member");
        let set_age = |id: i64| {
            Member::update()
                .set(Member::AGE, 40)
                .filter(Member::ID.eq(id))
        };
        let mut first = db.begin(None).await.expect("first transaction");
        let mut second = db.begin(None).await.expect("second transaction");
        set_age(1).exec(&mut first).await.expect("first locks 1");
        set_age(2).exec(&mut second).await.expect("second locks 2");
        // Each now waits for the other's row: the engine aborts one of them.
        let crossing = tokio::spawn(async move {
            let outcome = set_age(2).exec(&mut first).await;
            (outcome, first)
        });
        let second_outcome = set_age(1).exec(&mut second).await;
        let (first_outcome, first) = crossing.await.expect("joins");
        let errors: Vec<Error> = [first_outcome, second_outcome]
            .into_iter()
            .filter_map(Result::err)
            .collect();
        assert_eq!(errors.len(), 1, "{engine}: {errors:?}");
        assert!(
            matches!(errors[0], Error::Deadlock { .. }) && errors[0].is_retryable(),
            "{engine}: {:?}",
            errors[0]
        );
        // Ended here, not dropped: the test database is dropped next, and its drop waits for
        // every open transaction on it.
        let _ = first.rollback().await;
        let _ = second.rollback().await;
    }
}

#[tokio::test]
async fn a_serialization_failure_is_typed_and_retryable() {
    // PostgreSQL: two serializable transactions that each read what the other writes.
    let (_test, db) = members(Backend::Postgres).await;
    let mut first = db
        .begin(Some(Isolation::Serializable))
        .await
        .expect("begins");
    let mut second = db
        .begin(Some(Isolation::Serializable))
        .await
        .expect("begins");
    let count = "SELECT count(*) FROM members";
    first.fetch_all(count, &[]).await.expect("first reads");
    second.fetch_all(count, &[]).await.expect("second reads");
    first
        .insert(&Member {
            id: 10,
            email: "a@x.org".into(),
            age: None,
        })
        .await
        .expect("first writes");
    second
        .insert(&Member {
            id: 11,
            email: "b@x.org".into(),
            age: None,
        })
        .await
        .expect("second writes");
    first.commit().await.expect("first commits");
    let error = second.commit().await.expect_err("second cannot be ordered");
    assert!(
        matches!(error, Error::SerializationFailure { .. }) && error.is_retryable(),
        "{error:?}"
    );

    // SQLite: a read snapshot that went stale before its first write (WAL).
    let test = TestDatabase::create(Backend::Sqlite).await;
    let url = foxdb::DatabaseUrl::parse(test.url()).expect("parses");
    let options = foxdb::ConnectOptions::default();
    let mut reader = foxdb::Connection::connect(&url, &options)
        .await
        .expect("connects");
    reader
        .execute("PRAGMA journal_mode = WAL; CREATE TABLE t (id integer PRIMARY KEY)")
        .await
        .expect("creates");
    let mut writer = foxdb::Connection::connect(&url, &options)
        .await
        .expect("connects");
    reader
        .execute("BEGIN")
        .await
        .expect("a deferred transaction");
    reader
        .fetch_i64("SELECT count(*) FROM t", &[])
        .await
        .expect("reads");
    writer
        .execute("INSERT INTO t VALUES (1)")
        .await
        .expect("another write");
    let error = reader
        .execute("INSERT INTO t VALUES (2)")
        .await
        .expect_err("the snapshot is stale");
    assert!(
        matches!(error, Error::SerializationFailure { .. }) && error.is_retryable(),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_lock_not_granted_in_time_is_a_retryable_lock_timeout() {
    for engine in Backend::ALL {
        let (test, db) = members(engine).await;
        let mut holder = db.begin(None).await.expect("begins");
        Member::update()
            .set(Member::AGE, 50)
            .filter(Member::ID.eq(1))
            .exec(&mut holder)
            .await
            .expect("holds row 1");
        let error = match engine {
            Backend::Postgres | Backend::MySql => {
                let mut waiter = db.begin(None).await.expect("begins");
                let short_wait = if engine == Backend::Postgres {
                    "SET LOCAL lock_timeout = '200ms'"
                } else {
                    "SET SESSION innodb_lock_wait_timeout = 1"
                };
                waiter.execute(short_wait, &[]).await.expect("short wait");
                let error = Member::update()
                    .set(Member::AGE, 60)
                    .filter(Member::ID.eq(1))
                    .exec(&mut waiter)
                    .await
                    .expect_err("row 1 is locked");
                // Ended here, not left to the pool: on MariaDB the open transaction keeps a
                // metadata lock on the table, and the test database's DROP would wait on it.
                waiter.rollback().await.expect("rolls back");
                error
            }
            Backend::Sqlite => {
                let url = foxdb::DatabaseUrl::parse(test.url()).expect("parses");
                let mut waiter =
                    foxdb::Connection::connect(&url, &foxdb::ConnectOptions::default())
                        .await
                        .expect("connects");
                waiter
                    .execute("PRAGMA busy_timeout = 200")
                    .await
                    .expect("short wait");
                waiter.begin().await.expect_err("the write lock is held")
            }
        };
        assert!(
            matches!(error, Error::LockTimeout { .. }) && error.is_retryable(),
            "{engine}: {error:?}"
        );
        holder.rollback().await.expect("rolls back");
    }
}

#[tokio::test]
async fn a_refused_connection_is_reported_at_once_with_its_cause() {
    for (engine, url) in [
        (
            Backend::Postgres,
            "postgres://app:s3cret-pw@127.0.0.1:1/test",
        ),
        (Backend::MySql, "mysql://app:s3cret-pw@127.0.0.1:1/test"),
    ] {
        let started = Instant::now();
        let error = Database::connect(url)
            .await
            .expect_err("nothing listens on port 1");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{engine}: took {:?} (the acquire timeout is 30 s)",
            started.elapsed()
        );
        let Error::Connect { reason, .. } = &error else {
            panic!("{engine}: {error:?}");
        };
        assert_eq!(*reason, ConnectFailure::Refused, "{engine}");
        let text = error.to_string();
        assert!(text.contains("connection refused"), "{engine}: {text}");
        assert!(!text.contains("pool timed out"), "{engine}: {text}");
        assert!(!text.contains("s3cret-pw"), "{engine}: {text}");
        assert!(
            text.contains("nothing accepts connections"),
            "{engine}: {text}"
        );
    }
}

#[tokio::test]
async fn a_missing_database_and_a_refused_login_get_their_own_hints() {
    for (engine, server) in [
        (Backend::Postgres, fox_e2e::postgres_server_url()),
        (Backend::MySql, fox_e2e::mysql_server_url()),
    ] {
        let url = format!("{}/fox_no_such_database", server_base(&server));
        let error = Database::connect(&url).await.expect_err("no such database");
        let Error::Connect { reason, hint, .. } = &error else {
            panic!("{engine}: {error:?}");
        };
        assert_eq!(
            *reason,
            ConnectFailure::UnknownDatabase,
            "{engine}: {error}"
        );
        assert!(
            hint.contains("no database `fox_no_such_database`"),
            "{engine}: {hint}"
        );
    }

    // A user the server refuses: MariaDB checks the password; PostgreSQL here trusts local
    // connections, so it refuses a user that does not exist.
    let test = TestDatabase::create(Backend::MySql).await;
    let db = Database::connect(test.url()).await.expect("connects");
    let user = format!("fox_login_{}", std::process::id());
    db.execute(&format!("DROP USER IF EXISTS '{user}'@'%'"), &[])
        .await
        .expect("drops");
    db.execute(
        &format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'right-password'"),
        &[],
    )
    .await
    .expect("creates a user");
    let server = fox_e2e::mysql_server_url();
    let host = host_port(&server);
    let wrong = format!("mysql://{user}:wrong-s3cret@{host}/{}", test.name());
    let error = Database::connect(&wrong).await.expect_err("wrong password");
    db.execute(&format!("DROP USER '{user}'@'%'"), &[])
        .await
        .expect("drops the user");
    let Error::Connect { reason, hint, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*reason, ConnectFailure::Authentication, "{error}");
    assert!(hint.contains("check the user and password"), "{hint}");
    assert!(!error.to_string().contains("wrong-s3cret"), "{error}");

    let postgres = fox_e2e::postgres_server_url();
    let host = host_port(&postgres);
    let nobody = format!("postgres://fox_nobody:s3cret-pw@{host}/test");
    let error = Database::connect(&nobody).await.expect_err("no such role");
    let Error::Connect { reason, .. } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*reason, ConnectFailure::Authentication, "{error}");
    assert!(!error.to_string().contains("s3cret-pw"), "{error}");
}

#[tokio::test]
async fn server_errors_keep_the_statement_and_the_driver_error_as_source() {
    for engine in Backend::ALL {
        let (_test, db) = members(engine).await;
        let error = db
            .execute(
                "INSERT INTO members (id, email) VALUES (1, 'x@example.com')",
                &[],
            )
            .await
            .expect_err("duplicate key");
        assert!(
            error.to_string().contains("statement: INSERT INTO members"),
            "{error}"
        );
        let source = std::error::Error::source(&error).expect("the driver's error");
        assert!(!source.to_string().is_empty());
        assert!(matches!(error, Error::UniqueViolation { .. }), "{engine}");
    }
}
