//! Hand-written SQL whose strings, quoted identifiers and comments hold placeholder-like text
//! runs with exactly the values its real placeholders take, against real PostgreSQL, MariaDB and
//! SQLite databases: foxdb counts placeholders the way each server's lexer finds them.

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, Error, Value};

async fn database(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    let database = Database::connect(test.url()).await.expect("connects");
    (test, database)
}

fn text(value: &str) -> Value {
    Value::Text(value.into())
}

/// The one row `sql` returns, its first `width` columns as text.
async fn only_row(db: &Database, sql: &str, params: &[Value], width: usize) -> Vec<String> {
    let rows = db
        .fetch_all(sql, params)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(rows.len(), 1, "{sql}: one row");
    (0..width)
        .map(|i| {
            rows[0]
                .get_at::<String>(i)
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
        .collect()
}

/// The message of the error foxdb gives before running `sql`.
async fn refusal(db: &Database, sql: &str, params: &[Value]) -> String {
    match db.fetch_all(sql, params).await {
        Err(Error::Query {
            message, statement, ..
        }) => {
            assert_eq!(statement.as_deref(), Some(sql));
            message
        }
        Err(other) => panic!("{sql}: another error: {other}"),
        Ok(_) => panic!("{sql}: ran"),
    }
}

#[derive(foxdb::FromRow, Debug, PartialEq)]
struct Echo {
    v: String,
}

#[tokio::test]
async fn postgres_counts_only_dollar_placeholders_outside_strings_and_comments() {
    let (_test, db) = database(Backend::Postgres).await;

    let row = only_row(
        &db,
        r#"SELECT '?' AS q, '$1' AS d, 'it''s $2' AS s, '\' AS b, 1::text AS "a?$2", $1::text AS v"#,
        &[text("x")],
        6,
    )
    .await;
    assert_eq!(row, ["?", "$1", "it's $2", r"\", "1", "x"]);

    let row = only_row(
        &db,
        r"SELECT E'it\'s $2' AS e, e'\\' AS b, $1::text AS v",
        &[text("x")],
        3,
    )
    .await;
    assert_eq!(row, ["it's $2", r"\", "x"]);

    let row = only_row(
        &db,
        "SELECT $$it's $2 and ?$$ AS body, $fn$ $$ ' $3 $fn$ AS tagged, $1::text || $1::text AS v",
        &[text("x")],
        3,
    )
    .await;
    assert_eq!(row, ["it's $2 and ?", " $$ ' $3 ", "xx"]);

    let row = only_row(
        &db,
        "SELECT /* it's $2 /* nested, don't $3 */ still ' $4 */ $1::text AS v -- isn't $5\n, $2::text AS w -- $9\r, 'end' AS e",
        &[text("x"), text("y")],
        3,
    )
    .await;
    assert_eq!(row, ["x", "y", "end"]);

    let row = only_row(
        &db,
        "SELECT $1::text || $3::text AS v",
        &[text("a"), text("unused"), text("c")],
        1,
    )
    .await;
    assert_eq!(
        row,
        ["ac"],
        "the highest $n counts: a gap is a value bound and unused"
    );

    let echoed = db
        .raw::<Echo>("SELECT $1::text AS v /* $2 */", &[text("raw")])
        .await
        .expect("runs");
    assert_eq!(echoed, [Echo { v: "raw".into() }]);
}

#[tokio::test]
async fn postgres_jsonb_question_mark_operators_are_not_placeholders() {
    let (_test, db) = database(Backend::Postgres).await;
    let row = only_row(
        &db,
        r#"SELECT ('{"a":1,"b":2}'::jsonb ? $1)::text AS has, ('{"a":1}'::jsonb ? 'z')::text AS lacks, ('{"a":1}'::jsonb ?| array['z', $2])::text AS any, ('{"a":1,"b":2}'::jsonb ?& array['a', 'b'])::text AS every"#,
        &[text("a"), text("a")],
        4,
    )
    .await;
    assert_eq!(row, ["true", "false", "true", "true"]);
}

#[tokio::test]
async fn postgres_refuses_a_count_that_differs_before_running() {
    let (_test, db) = database(Backend::Postgres).await;
    let message = refusal(&db, "SELECT '$2', $1::text -- $3", &[text("a"), text("b")]).await;
    assert_eq!(
        message,
        "statement has 1 placeholders but 2 parameters were given"
    );
}

#[tokio::test]
async fn mariadb_reads_backslash_escapes_comments_and_executable_comments() {
    let (_test, db) = database(Backend::MySql).await;

    let row = only_row(
        &db,
        r#"SELECT '?' AS q, 'it\'s ?' AS esc, 'it''s ?' AS doubled, "say \"?\"" AS dq, 'a\\' AS b, ? AS `it's ?`"#,
        &[text("x")],
        6,
    )
    .await;
    assert_eq!(row, ["?", "it's ?", "it's ?", r#"say "?""#, r"a\", "x"]);

    let row = only_row(
        &db,
        "SELECT ? AS v # it's ?\n, ? AS w -- isn't ?\n, CAST(1--? AS CHAR) AS minus /* don't ? */",
        &[text("x"), text("y"), Value::Int(1)],
        3,
    )
    .await;
    assert_eq!(row, ["x", "y", "2"]);

    let row = only_row(
        &db,
        "SELECT CAST(1 /*! + ? */ /*M!100100 + ? */ /*+ no hint ? */ AS CHAR) AS v, '*/ ?' AS s",
        &[Value::Int(2), Value::Int(3)],
        2,
    )
    .await;
    assert_eq!(row, ["6", "*/ ?"]);

    let echoed = db
        .raw::<Echo>(r"SELECT ? AS v /* it\'s ? */", &[text("raw")])
        .await
        .expect("runs");
    assert_eq!(echoed, [Echo { v: "raw".into() }]);

    let message = refusal(&db, r"SELECT 'it\'s ?'", &[text("a")]).await;
    assert_eq!(
        message,
        "statement has 0 placeholders but 1 parameters were given"
    );
}

#[tokio::test]
async fn sqlite_reads_its_quotes_and_binds_bare_or_numbered_placeholders() {
    let (_test, db) = database(Backend::Sqlite).await;

    let row = only_row(
        &db,
        r#"SELECT '?' AS q, 'it''s ?' AS s, 'a\' AS b, '1' AS [a?], '2' AS "b?", '3' AS `c?`, ? AS v"#,
        &[text("x")],
        7,
    )
    .await;
    assert_eq!(row, ["?", "it's ?", r"a\", "1", "2", "3", "x"]);
    let row = only_row(&db, "SELECT ? AS v -- it's ?\n", &[text("x")], 1).await;
    assert_eq!(row, ["x"]);

    let row = only_row(
        &db,
        "SELECT ?2 AS a, ?1 AS b, ?2 AS c /* it's :name ? */",
        &[text("one"), text("two")],
        3,
    )
    .await;
    assert_eq!(row, ["two", "one", "two"]);

    let row = only_row(&db, "SELECT $2 || $1 AS v", &[text("a"), text("b")], 1).await;
    assert_eq!(row, ["ba"]);

    let row = only_row(
        &db,
        "SELECT ? AS v /* a comment left open, it's ?",
        &[text("x")],
        1,
    )
    .await;
    assert_eq!(row, ["x"]);

    db.execute("CREATE TABLE notes (body TEXT NOT NULL)", &[])
        .await
        .expect("creates");
    db.execute(
        "INSERT INTO notes (body) VALUES ('it''s ?'), (?) -- , (?)",
        &[text("second")],
    )
    .await
    .expect("inserts");
    let bodies = db
        .raw::<Echo>("SELECT body AS v FROM notes ORDER BY rowid", &[])
        .await
        .expect("selects");
    assert_eq!(
        bodies,
        [Echo { v: "it's ?".into() }, Echo { v: "second".into() }]
    );
}

#[tokio::test]
async fn sqlite_refuses_named_and_mixed_placeholders_with_a_hint() {
    let (_test, db) = database(Backend::Sqlite).await;
    let message = refusal(&db, "SELECT :id AS v", &[text("x")]).await;
    assert!(
        message.starts_with("cannot bind placeholder `:id`: foxdb binds parameters by position"),
        "{message}"
    );
    let message = refusal(&db, "SELECT ? AS a, ?2 AS b", &[text("x"), text("y")]).await;
    assert!(
        message.starts_with("cannot bind placeholder `?2`: a statement cannot mix bare `?`"),
        "{message}"
    );
    let message = refusal(&db, "SELECT ?, '?'", &[]).await;
    assert_eq!(
        message,
        "statement has 1 placeholders but 0 parameters were given"
    );
}
