//! Builder forms a new user reaches for, on PostgreSQL, MariaDB and SQLite: ORDER BY an
//! aggregate, `.with()` before `.order_by()`/`.limit()`, `set(col, Some(v))` on a nullable
//! column, many-to-many rows in a fixed order, and filters on a path inside a JSON column.

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, ModelExt, Relation, count};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "writers")]
struct Writer {
    #[foxdb(primary_key)]
    id: i64,
    name: String,
    bio: Option<String>,
    settings: serde_json::Value,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "notes")]
struct Note {
    #[foxdb(primary_key)]
    id: i64,
    writer_id: i64,
    likes: i32,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "topics")]
struct Topic {
    #[foxdb(primary_key)]
    id: i64,
    label: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "writer_topics")]
struct WriterTopic {
    #[foxdb(primary_key)]
    writer_id: i64,
    #[foxdb(primary_key)]
    topic_id: i64,
}

impl Writer {
    fn notes() -> Relation<Writer, Note> {
        Relation::has_many(Writer::ID, Note::WRITER_ID)
    }

    fn topics() -> Relation<Writer, Topic> {
        Relation::many_to_many(
            Writer::ID,
            WriterTopic::WRITER_ID,
            WriterTopic::TOPIC_ID,
            Topic::ID,
        )
    }
}

/// Ann (3 notes), Bob (1 note), Eve (2 notes); topics linked to Ann in descending id order.
async fn library(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    let json = match engine {
        Backend::Postgres => "jsonb",
        Backend::MySql => "json",
        Backend::Sqlite => "text",
    };
    for ddl in [
        format!(
            "CREATE TABLE writers (id bigint PRIMARY KEY, name varchar(50) NOT NULL, bio varchar(200) NULL, settings {json} NOT NULL)"
        ),
        "CREATE TABLE notes (id bigint PRIMARY KEY, writer_id bigint NOT NULL, likes integer NOT NULL)".into(),
        "CREATE TABLE topics (id bigint PRIMARY KEY, label varchar(50) NOT NULL)".into(),
        "CREATE TABLE writer_topics (writer_id bigint NOT NULL, topic_id bigint NOT NULL, PRIMARY KEY (writer_id, topic_id))".into(),
    ] {
        db.execute(&ddl, &[]).await.expect("creates a table");
    }
    let settings = [
        serde_json::json!({"ui": {"theme": "dark"}, "level": 5, "beta": true, "note": null}),
        serde_json::json!({"ui": {"theme": "light"}, "level": 7, "beta": false}),
        serde_json::json!({"ui": {"theme": "dark \"night\""}, "level": 1.5}),
    ];
    for (i, (name, settings)) in ["Ann", "Bob", "Eve"].into_iter().zip(settings).enumerate() {
        db.insert(&Writer {
            id: i as i64 + 1,
            name: name.into(),
            bio: None,
            settings,
        })
        .await
        .expect("inserts a writer");
    }
    let notes = [
        (1, 1, 5),
        (2, 1, 1),
        (3, 1, 2),
        (4, 2, 50),
        (5, 3, 3),
        (6, 3, 4),
    ];
    for (id, writer_id, likes) in notes {
        db.insert(&Note {
            id,
            writer_id,
            likes,
        })
        .await
        .expect("inserts a note");
    }
    // Inserted in descending order (and, on SQLite, stored so by rowid): a load without an
    // order would come back this way on some engines.
    for id in [30, 20, 10] {
        db.insert(&Topic {
            id,
            label: format!("topic {id}"),
        })
        .await
        .expect("inserts a topic");
        db.insert(&WriterTopic {
            writer_id: 1,
            topic_id: id,
        })
        .await
        .expect("links");
    }
    (test, db)
}

#[tokio::test]
async fn grouped_queries_order_by_an_aggregate_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = library(engine).await;
        let by_count: Vec<(i64, i64)> = Note::find()
            .group_by(Note::WRITER_ID)
            .order_by(count::<Note>().desc())
            .select((Note::WRITER_ID, count()))
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(by_count, [(1, 3), (3, 2), (2, 1)], "{engine}");
        // The order after the selection, as a reader of SQL writes it.
        let top: Vec<(i64, i64)> = Note::find()
            .group_by(Note::WRITER_ID)
            .select((Note::WRITER_ID, count()))
            .order_by(count::<Note>().desc())
            .limit(1)
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(top, [(1, 3)], "{engine}");
        // By an aggregate not selected, then by a column.
        let by_likes: Vec<(i64,)> = Note::find()
            .group_by(Note::WRITER_ID)
            .order_by(Note::LIKES.sum().asc())
            .order_by(Note::WRITER_ID.asc())
            .select((Note::WRITER_ID,))
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(by_likes, [(3,), (1,), (2,)], "{engine}: sums 7, 8, 50");
    }
}

#[tokio::test]
async fn joined_grouped_queries_order_by_an_aggregate_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = library(engine).await;
        let most_liked: Vec<(String, i64)> = Writer::find()
            .left_join(Writer::notes())
            .group_by(Writer::NAME)
            .order_by(Note::LIKES.sum().desc())
            .select((Writer::NAME, count::<Note>()))
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let expected = [("Bob", 1), ("Ann", 3), ("Eve", 2)].map(|(n, c)| (n.to_string(), c));
        assert_eq!(most_liked, expected, "{engine}: by likes 50, 8, 7");
    }
}

#[tokio::test]
async fn with_is_accepted_before_order_by_and_limit_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = library(engine).await;
        let loaded: Vec<(Writer, Vec<Note>)> = Writer::find()
            .with(Writer::notes().order_by(Note::ID.asc()))
            .filter(Writer::ID.lt(3))
            .order_by(Writer::ID.desc())
            .limit(1)
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(loaded.len(), 1, "{engine}");
        assert_eq!(loaded[0].0.name, "Bob", "{engine}");
        assert_eq!(loaded[0].1.len(), 1, "{engine}");
        let same: Vec<(Writer, Vec<Note>)> = Writer::find()
            .filter(Writer::ID.lt(3))
            .order_by(Writer::ID.desc())
            .limit(1)
            .with(Writer::notes().order_by(Note::ID.asc()))
            .all(&db)
            .await
            .expect("loads");
        assert_eq!(
            same, loaded,
            "{engine}: the order of the calls does not matter"
        );
    }
}

#[tokio::test]
async fn nullable_columns_are_set_from_options_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = library(engine).await;
        let bio: Option<&str> = Some("writes things");
        Writer::update()
            .set(Writer::BIO, bio)
            .filter(Writer::ID.eq(1))
            .exec(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        Writer::update()
            .set(Writer::BIO, Some("plain".to_string()))
            .filter(Writer::ID.eq(2))
            .exec(&db)
            .await
            .expect("sets");
        Writer::update()
            .set(Writer::BIO, "bare value")
            .filter(Writer::ID.eq(3))
            .exec(&db)
            .await
            .expect("sets");
        let bios: Vec<(Option<String>,)> = Writer::find()
            .order_by(Writer::ID.asc())
            .select((Writer::BIO,))
            .all(&db)
            .await
            .expect("reads");
        assert_eq!(
            bios,
            [
                (Some("writes things".into()),),
                (Some("plain".into()),),
                (Some("bare value".into()),)
            ],
            "{engine}"
        );
        Writer::update()
            .set(Writer::BIO, None::<&str>)
            .filter(Writer::ID.eq(1))
            .exec(&db)
            .await
            .expect("sets NULL");
        let first = Writer::find()
            .filter(Writer::ID.eq(1))
            .one_required(&db)
            .await
            .expect("reads");
        assert_eq!(first.bio, None, "{engine}: None writes NULL");
    }
}

#[tokio::test]
async fn many_to_many_rows_load_in_the_childs_key_order_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = library(engine).await;
        let loaded: Vec<(Writer, Vec<Topic>)> = Writer::find()
            .filter(Writer::ID.eq(1))
            .with(Writer::topics())
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let ids: Vec<i64> = loaded[0].1.iter().map(|t| t.id).collect();
        assert_eq!(ids, [10, 20, 30], "{engine}: by the topic's key");
        let statements = Writer::find().with(Writer::topics()).statements(engine);
        assert!(
            statements[1].0.contains("ORDER BY"),
            "{engine}: {}",
            statements[1].0
        );
        // An order given is kept.
        let loaded: Vec<(Writer, Vec<Topic>)> = Writer::find()
            .filter(Writer::ID.eq(1))
            .with(Writer::topics().order_by(Topic::ID.desc()))
            .all(&db)
            .await
            .expect("loads");
        let ids: Vec<i64> = loaded[0].1.iter().map(|t| t.id).collect();
        assert_eq!(ids, [30, 20, 10], "{engine}");
    }
}

#[tokio::test]
async fn json_path_filters_read_the_same_text_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = library(engine).await;
        let names = async |condition: foxdb::Condition<Writer>| -> Vec<String> {
            Writer::find()
                .filter(condition)
                .order_by(Writer::ID.asc())
                .all(&db)
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"))
                .into_iter()
                .map(|w| w.name)
                .collect()
        };
        assert_eq!(
            names(Writer::SETTINGS.json_text(&["ui", "theme"]).eq("dark")).await,
            ["Ann"],
            "{engine}: a nested string, unquoted"
        );
        assert_eq!(
            names(
                Writer::SETTINGS
                    .json_text(&["ui", "theme"])
                    .eq("dark \"night\"")
            )
            .await,
            ["Eve"],
            "{engine}: quotes inside the string"
        );
        assert_eq!(
            names(Writer::SETTINGS.json_text(&["level"]).eq("7")).await,
            ["Bob"],
            "{engine}: a number as written"
        );
        assert_eq!(
            names(Writer::SETTINGS.json_text(&["level"]).eq("1.5")).await,
            ["Eve"],
            "{engine}: a fraction"
        );
        assert_eq!(
            names(Writer::SETTINGS.json_text(&["beta"]).eq("true")).await,
            ["Ann"],
            "{engine}: booleans read true/false"
        );
        assert_eq!(
            names(Writer::SETTINGS.json_text(&["beta"]).eq("false")).await,
            ["Bob"],
            "{engine}"
        );
        assert_eq!(
            names(Writer::SETTINGS.json_text(&["note"]).is_null()).await,
            ["Ann", "Bob", "Eve"],
            "{engine}: JSON null and a missing key are NULL"
        );
        assert_eq!(
            names(Writer::SETTINGS.json_text(&["beta"]).is_not_null()).await,
            ["Ann", "Bob"],
            "{engine}"
        );
        assert_eq!(
            names(Writer::SETTINGS.json_text(&["ui", "theme"]).ne("dark")).await,
            ["Bob", "Eve"],
            "{engine}"
        );
    }
}

#[test]
fn a_json_path_renders_through_each_engines_json_functions() {
    let query = Writer::find().filter(Writer::SETTINGS.json_text(&["ui", "theme"]).eq("dark"));
    let (postgres, _) = query.to_sql(foxdb::Backend::Postgres);
    assert!(
        postgres.ends_with(r#"WHERE ("settings" -> 'ui' ->> 'theme') = $1"#),
        "{postgres}"
    );
    let (mysql, _) = query.to_sql(foxdb::Backend::MySql);
    assert!(
        mysql.ends_with(
            r#"WHERE JSON_UNQUOTE(NULLIF(JSON_EXTRACT(`settings`, '$."ui"."theme"'), 'null')) = ?"#
        ),
        "{mysql}"
    );
    let (sqlite, _) = query.to_sql(foxdb::Backend::Sqlite);
    assert!(
        sqlite.contains(r#"json_extract("settings", '$."ui"."theme"')"#),
        "{sqlite}"
    );
}

#[tokio::test]
async fn eager_loading_selects_some_columns_of_related_rows_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = library(engine).await;
        let before = db.statement_count();
        let loaded: Vec<(Writer, Vec<(i64, i32)>)> = Writer::find()
            .order_by(Writer::ID.asc())
            .with(
                Writer::notes()
                    .order_by(Note::LIKES.desc())
                    .limit(2)
                    .select((Note::ID, Note::LIKES)),
            )
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            db.statement_count() - before,
            2,
            "{engine}: one statement per level"
        );
        let notes: Vec<(String, Vec<(i64, i32)>)> = loaded
            .into_iter()
            .map(|(writer, notes)| (writer.name, notes))
            .collect();
        assert_eq!(
            notes,
            [
                ("Ann".to_string(), vec![(1, 5), (3, 2)]),
                ("Bob".to_string(), vec![(4, 50)]),
                ("Eve".to_string(), vec![(6, 4), (5, 3)]),
            ],
            "{engine}: the two most liked notes of each, two columns each"
        );

        // Through a join table, in the child's key order; a second relation beside it.
        let loaded: Vec<(Writer, Vec<(String,)>, Vec<Note>)> = Writer::find()
            .filter(Writer::ID.eq(1))
            .with(Writer::topics().select((Topic::LABEL,)))
            .with(Writer::notes().order_by(Note::ID.asc()))
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        // To-one: each parent's first row's selection, as an `Option`.
        let newest: Vec<(Writer, Option<(i64,)>)> = Writer::find()
            .order_by(Writer::ID.asc())
            .with(
                Writer::notes()
                    .order_by(Note::ID.desc())
                    .one()
                    .select((Note::ID,)),
            )
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let newest: Vec<Option<(i64,)>> = newest.into_iter().map(|(_, n)| n).collect();
        assert_eq!(newest, [Some((3,)), Some((4,)), Some((6,))], "{engine}");
        let labels: Vec<&str> = loaded[0].1.iter().map(|(l,)| l.as_str()).collect();
        assert_eq!(labels, ["topic 10", "topic 20", "topic 30"], "{engine}");
        assert_eq!(loaded[0].2.len(), 3, "{engine}");
    }
}
