//! `foxdb::mongo` against a MongoDB-wire server (nx-27017 on 127.0.0.1:27017 by default, a real
//! `mongod` with `FOX_TEST_MONGO_URL`): the same models and builder conditions as SQL, as
//! documents. Each test has its own database, dropped at its end.

mod mongo_support;

use std::str::FromStr;
use std::time::{Duration, Instant};

use foxdb::mongo::bson::doc;
use foxdb::mongo::{MongoDatabase, SEQUENCES};
use foxdb::{ConnectFailure, Error, ModelExt, Relation};
use mongo_support::MongoTest;

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "users")]
struct User {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    email: String,
    name: String,
    age: i32,
    score: f64,
    active: bool,
    bio: Option<String>,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "posts")]
struct Post {
    #[foxdb(primary_key)]
    id: i64,
    author_id: i64,
    title: String,
    likes: i64,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "comments")]
struct Comment {
    #[foxdb(primary_key)]
    id: i64,
    post_id: i64,
    body: String,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "prices")]
struct Price {
    #[foxdb(primary_key)]
    id: i64,
    amount: rust_decimal::Decimal,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "typed")]
struct Typed {
    #[foxdb(primary_key)]
    id: uuid::Uuid,
    at: chrono::DateTime<chrono::Utc>,
    local: chrono::NaiveDateTime,
    day: chrono::NaiveDate,
    time: chrono::NaiveTime,
    data: serde_json::Value,
    blob: Vec<u8>,
    ratio: f32,
    small: i16,
    note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "accounts")]
struct Account {
    #[foxdb(primary_key)]
    id: i64,
    #[foxdb(tenant)]
    tenant_id: String,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "audited", hooks)]
struct Audited {
    #[foxdb(primary_key)]
    id: i64,
}

impl foxdb::Hooks for Audited {}

fn user(email: &str, name: &str, age: i32, bio: Option<&str>) -> User {
    User {
        id: 0,
        email: email.into(),
        name: name.into(),
        age,
        score: f64::from(age) / 10.0,
        active: age % 2 == 0,
        bio: bio.map(str::to_string),
    }
}

/// Five users, inserted with generated ids 1..=5.
async fn five_users(db: &MongoDatabase) -> Vec<User> {
    let users = [
        user("ann@example.com", "Ann", 31, Some("likes 100% cotton")),
        user("bob@example.com", "Bob", 24, None),
        user("cy@example.org", "Cy", 40, Some("a_b")),
        user("dee@example.com", "Dee", 19, None),
        user("eve@example.net", "Eve", 52, Some("Likes rust")),
    ];
    let mut stored = Vec::new();
    for user in &users {
        stored.push(db.insert(user).await.expect("inserts"));
    }
    stored
}

fn names(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

#[tokio::test]
async fn insert_one_generates_the_key_and_reads_back_the_same_model() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let users = five_users(db).await;
    assert_eq!(
        users.iter().map(|u| u.id).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    let found = db.find(&User::find().filter(User::ID.eq(3))).await.unwrap();
    assert_eq!(found, std::slice::from_ref(&users[2]));
    // The key is the document's _id; the other columns are fields of their own name.
    let raw: foxdb::mongo::bson::Document = db
        .driver()
        .collection("users")
        .find_one(doc! { "_id": 3_i64 })
        .await
        .unwrap()
        .expect("the document");
    assert_eq!(raw.get_str("email").unwrap(), "cy@example.org");
    assert!(!raw.contains_key("id"), "{raw}");
    // The counter lives in _fox_sequences.
    let counter: foxdb::mongo::bson::Document = db
        .driver()
        .collection(SEQUENCES)
        .find_one(doc! { "_id": "users" })
        .await
        .unwrap()
        .expect("the counter");
    let next = match counter.get("next") {
        Some(foxdb::mongo::bson::Bson::Int32(n)) => i64::from(*n),
        Some(foxdb::mongo::bson::Bson::Int64(n)) => *n,
        other => panic!("the counter holds {other:?}"),
    };
    assert_eq!(next, 5);
}

#[tokio::test]
async fn insert_many_writes_every_model_in_one_command() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let before = db.commands_sent("insert");
    let inserted = db
        .insert_many(&[
            user("a@x.io", "A", 1, None),
            user("b@x.io", "B", 2, None),
            user("c@x.io", "C", 3, None),
        ])
        .await
        .unwrap();
    assert_eq!(inserted, 3);
    assert_eq!(db.commands_sent("insert") - before, 1);
    let all = db
        .find(&User::find().order_by(User::ID.asc()))
        .await
        .unwrap();
    assert_eq!(
        all.iter()
            .map(|u| (u.id, u.name.as_str()))
            .collect::<Vec<_>>(),
        [(1, "A"), (2, "B"), (3, "C")]
    );
    assert_eq!(db.insert_many::<User>(&[]).await.unwrap(), 0);
}

#[tokio::test]
async fn comparisons_render_to_their_query_operators() {
    let test = MongoTest::new().await;
    let db = &test.db;
    five_users(db).await;
    let by_age = |users: Vec<User>| {
        let mut names: Vec<String> = users.into_iter().map(|u| u.name).collect();
        names.sort();
        names
    };
    let cases: Vec<(foxdb::Condition<User>, &[&str])> = vec![
        (User::AGE.eq(24), &["Bob"]),
        (User::AGE.ne(24), &["Ann", "Cy", "Dee", "Eve"]),
        (User::AGE.lt(24), &["Dee"]),
        (User::AGE.lte(24), &["Bob", "Dee"]),
        (User::AGE.gt(40), &["Eve"]),
        (User::AGE.gte(40), &["Cy", "Eve"]),
        (User::NAME.in_(["Ann", "Eve", "Zed"]), &["Ann", "Eve"]),
        (User::NAME.in_(["Ann", "Eve"]).not(), &["Bob", "Cy", "Dee"]),
        (User::BIO.in_(["a_b"]).not(), &["Ann", "Eve"]),
        (User::AGE.between(24, 40), &["Ann", "Bob", "Cy"]),
        (User::BIO.is_null(), &["Bob", "Dee"]),
        (User::BIO.is_not_null(), &["Ann", "Cy", "Eve"]),
        (User::ACTIVE.eq(true), &["Bob", "Cy", "Eve"]),
        (User::SCORE.gt(3.0), &["Ann", "Cy", "Eve"]),
    ];
    for (condition, expected) in cases {
        let shown = format!("{condition:?}");
        let found = db.find(&User::find().filter(condition)).await.unwrap();
        assert_eq!(by_age(found), expected, "{shown}");
    }
}

#[tokio::test]
async fn and_or_not_keep_sqls_meaning_with_missing_values() {
    let test = MongoTest::new().await;
    let db = &test.db;
    five_users(db).await;
    let query = |c: foxdb::Condition<User>| User::find().filter(c).order_by(User::NAME.asc());
    let found = db
        .find(&query(
            User::AGE.gt(20).and(User::EMAIL.ends_with("@example.com")),
        ))
        .await
        .unwrap();
    assert_eq!(names(&found), ["Ann", "Bob"]);
    let found = db
        .find(&query(User::AGE.lt(20).or(User::AGE.gt(50))))
        .await
        .unwrap();
    assert_eq!(names(&found), ["Dee", "Eve"]);
    let found = db.find(&query(User::AGE.lt(30).not())).await.unwrap();
    assert_eq!(names(&found), ["Ann", "Cy", "Eve"]);
    // SQL: NOT (bio = 'a_b') is unknown for a NULL bio, so Bob and Dee are not matched.
    let found = db.find(&query(User::BIO.eq("a_b").not())).await.unwrap();
    assert_eq!(names(&found), ["Ann", "Eve"]);
    let found = db
        .find(&query(User::NAME.eq("Ann").or(User::NAME.eq("Bob")).not()))
        .await
        .unwrap();
    assert_eq!(names(&found), ["Cy", "Dee", "Eve"]);
}

#[tokio::test]
async fn like_is_an_anchored_regex_with_wildcards_and_literal_text_escaped() {
    let test = MongoTest::new().await;
    let db = &test.db;
    five_users(db).await;
    let query = |c: foxdb::Condition<User>| User::find().filter(c).order_by(User::NAME.asc());
    let found = db
        .find(&query(User::EMAIL.like("%@example.com")))
        .await
        .unwrap();
    assert_eq!(names(&found), ["Ann", "Bob", "Dee"]);
    // Anchored: "example" alone matches nothing.
    assert!(
        db.find(&query(User::EMAIL.like("example")))
            .await
            .unwrap()
            .is_empty()
    );
    let found = db.find(&query(User::NAME.like("_e_"))).await.unwrap();
    assert_eq!(names(&found), ["Dee"]);
    // `%` and `_` in user text are literal; `.` is not a regex wildcard.
    let found = db.find(&query(User::BIO.contains("100%"))).await.unwrap();
    assert_eq!(names(&found), ["Ann"]);
    let found = db.find(&query(User::BIO.contains("a_b"))).await.unwrap();
    assert_eq!(names(&found), ["Cy"]);
    assert!(
        db.find(&query(User::EMAIL.like("%@example.co")))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.find(&query(User::EMAIL.contains("example.co.")))
            .await
            .unwrap()
            .is_empty()
    );
    let found = db
        .find(&query(User::EMAIL.starts_with("dee@")))
        .await
        .unwrap();
    assert_eq!(names(&found), ["Dee"]);
    // Case-sensitive, as on PostgreSQL.
    let found = db.find(&query(User::BIO.like("likes%"))).await.unwrap();
    assert_eq!(names(&found), ["Ann"]);
}

#[tokio::test]
async fn sort_skip_limit_and_count() {
    let test = MongoTest::new().await;
    let db = &test.db;
    five_users(db).await;
    let page = db
        .find(&User::find().order_by(User::AGE.desc()).offset(1).limit(2))
        .await
        .unwrap();
    assert_eq!(names(&page), ["Cy", "Ann"]);
    let sorted = db
        .find(
            &User::find()
                .order_by(User::ACTIVE.asc())
                .order_by(User::NAME.desc()),
        )
        .await
        .unwrap();
    assert_eq!(names(&sorted), ["Dee", "Ann", "Eve", "Cy", "Bob"]);
    // Count ignores limit and offset, as on SQL.
    let adults = User::find().filter(User::AGE.gte(21)).limit(1).offset(1);
    assert_eq!(db.count(&adults).await.unwrap(), 4);
    assert_eq!(db.count(&User::find()).await.unwrap(), 5);
    let first = db
        .find_one(User::find().order_by(User::AGE.asc()))
        .await
        .unwrap();
    assert_eq!(first.map(|u| u.name).as_deref(), Some("Dee"));
    assert_eq!(
        db.find_one(User::find().filter(User::AGE.gt(99)))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn a_projection_reads_only_the_selected_fields() {
    let test = MongoTest::new().await;
    let db = &test.db;
    five_users(db).await;
    let rows = db
        .find_columns(
            &User::find()
                .filter(User::AGE.lt(30))
                .order_by(User::AGE.asc()),
            (User::ID, User::EMAIL, User::BIO),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        [
            (4, "dee@example.com".to_string(), None),
            (2, "bob@example.com".to_string(), None)
        ]
    );
    let just_names = db
        .find_columns(&User::find().order_by(User::NAME.asc()), (User::NAME,))
        .await
        .unwrap();
    assert_eq!(just_names.len(), 5);
    assert_eq!(just_names[0].0, "Ann");
}

#[tokio::test]
async fn update_sets_fields_on_every_matching_document() {
    let test = MongoTest::new().await;
    let db = &test.db;
    five_users(db).await;
    let changed = db
        .update(
            &User::update()
                .set(User::ACTIVE, false)
                .set(User::BIO, Some("moved"))
                .filter(User::AGE.gt(30)),
        )
        .await
        .unwrap();
    assert_eq!(changed, 3);
    let moved = db
        .find(
            &User::find()
                .filter(User::BIO.eq("moved"))
                .order_by(User::NAME.asc()),
        )
        .await
        .unwrap();
    assert_eq!(names(&moved), ["Ann", "Cy", "Eve"]);
    assert!(moved.iter().all(|u| !u.active));
    db.update(
        &User::update()
            .set_null(User::BIO)
            .filter(User::NAME.eq("Ann")),
    )
    .await
    .unwrap();
    let ann = db
        .find_one(User::find().filter(User::NAME.eq("Ann")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ann.bio, None);
    // An unfiltered update is a decision, never an accident; the key never changes.
    let error = db
        .update(&User::update().set(User::AGE, 1))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::MongoUnsupported { feature } if feature.contains(".all_rows()")),
        "{error}"
    );
    assert_eq!(
        db.update(&User::update().set(User::AGE, 1).all_rows())
            .await
            .unwrap(),
        5
    );
    let error = db
        .update(&User::update().set(User::ID, 9).filter(User::ID.eq(1)))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MongoUnsupported { .. }), "{error}");
}

#[tokio::test]
async fn delete_removes_the_matching_documents() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let users = five_users(db).await;
    assert_eq!(
        db.delete(&User::delete().filter(User::AGE.lt(25)))
            .await
            .unwrap(),
        2
    );
    assert!(db.remove(&users[0]).await.unwrap());
    assert!(!db.remove(&users[0]).await.unwrap());
    let left = db
        .find(&User::find().order_by(User::NAME.asc()))
        .await
        .unwrap();
    assert_eq!(names(&left), ["Cy", "Eve"]);
    assert!(db.delete(&User::delete()).await.is_err());
    assert_eq!(db.delete(&User::delete().all_rows()).await.unwrap(), 2);
    assert_eq!(db.count(&User::find()).await.unwrap(), 0);
}

#[tokio::test]
async fn upsert_inserts_then_replaces_by_key_and_save_only_replaces() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let post = Post {
        id: 7,
        author_id: 1,
        title: "first".into(),
        likes: 0,
    };
    assert_eq!(db.upsert(&post).await.unwrap(), post);
    let edited = Post {
        title: "edited".into(),
        likes: 3,
        ..post.clone()
    };
    db.upsert(&edited).await.unwrap();
    assert_eq!(
        db.find(&Post::find()).await.unwrap(),
        std::slice::from_ref(&edited)
    );
    assert!(
        db.save(&Post {
            likes: 4,
            ..edited.clone()
        })
        .await
        .unwrap()
    );
    assert!(!db.save(&Post { id: 8, ..edited }).await.unwrap());
    let all = db.find(&Post::find()).await.unwrap();
    assert_eq!(
        all.iter().map(|p| (p.id, p.likes)).collect::<Vec<_>>(),
        [(7, 4)]
    );
}

#[tokio::test]
async fn every_portable_type_round_trips_through_bson() {
    let test = MongoTest::new().await;
    let db = &test.db;
    // Milliseconds: BSON datetimes hold no finer digits.
    let at = chrono::DateTime::from_timestamp_millis(1_733_400_000_123).unwrap();
    let row = Typed {
        id: uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0),
        at,
        local: at.naive_utc(),
        day: at.date_naive(),
        time: chrono::NaiveTime::from_hms_micro_opt(13, 14, 15, 161_718).unwrap(),
        data: serde_json::json!({"kind": "note", "tags": ["a", "b"], "n": 1, "x": 1.5, "nested": {"ok": true}, "none": null}),
        blob: vec![0, 1, 2, 254, 255],
        ratio: 0.25,
        small: -3,
        note: None,
    };
    db.insert(&row).await.unwrap();
    assert_eq!(
        db.find(&Typed::find()).await.unwrap(),
        std::slice::from_ref(&row)
    );
    // Comparisons on the mapped types.
    let before = Typed::find().filter(Typed::AT.lt(at + chrono::Duration::seconds(1)));
    assert_eq!(db.count(&before).await.unwrap(), 1);
    let kind = Typed::find().filter(Typed::DATA.json_text(&["kind"]).eq("note"));
    assert_eq!(db.count(&kind).await.unwrap(), 1);
    let nested = Typed::find().filter(Typed::DATA.json_text(&["nested", "missing"]).is_null());
    assert_eq!(db.count(&nested).await.unwrap(), 1);
    let raw: foxdb::mongo::bson::Document = db
        .driver()
        .collection("typed")
        .find_one(doc! {})
        .await
        .unwrap()
        .unwrap();
    if test.is_real_mongod().await {
        // By UUID key, and the key stored as binary subtype 4.
        let found = db
            .find(&Typed::find().filter(Typed::ID.eq(row.id)))
            .await
            .unwrap();
        assert_eq!(found, std::slice::from_ref(&row));
        match raw.get("_id") {
            Some(foxdb::mongo::bson::Bson::Binary(b)) => {
                assert_eq!(b.subtype, foxdb::mongo::bson::spec::BinarySubtype::Uuid);
            }
            other => panic!("_id is {other:?}"),
        }
    } else {
        println!(
            "SKIPPED the UUID key filter and subtype check: the nx-27017 wire server drops binary subtypes and matches no binary _id; set FOX_TEST_MONGO_URL to a mongod to run them"
        );
    }
    assert!(raw.get_datetime("at").is_ok(), "{raw}");
    assert!(raw.get_document("data").is_ok(), "{raw}");
}

#[tokio::test]
async fn decimals_are_decimal128_exact_and_ordered_numerically() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let prices: Vec<Price> = ["9.99", "10.5", "12345.6789", "-0.001"]
        .iter()
        .zip(1..)
        .map(|(amount, id)| Price {
            id,
            amount: rust_decimal::Decimal::from_str(amount).unwrap(),
        })
        .collect();
    match db.insert_many(&prices).await {
        Ok(_) => {
            let found = db
                .find(&Price::find().order_by(Price::AMOUNT.asc()))
                .await
                .unwrap();
            let ids: Vec<i64> = found.iter().map(|p| p.id).collect();
            assert_eq!(ids, [4, 1, 2, 3], "numeric order, not text order");
            assert_eq!(found[3], prices[2], "exact");
            let above = Price::find().filter(Price::AMOUNT.gt(rust_decimal::Decimal::from(10)));
            assert_eq!(db.count(&above).await.unwrap(), 2);
        }
        // The nx-27017 wire server keeps documents as JSON and cannot store a Decimal128: a
        // typed error, nothing stored. A real mongod (FOX_TEST_MONGO_URL) runs the branch above.
        Err(error @ Error::Mongo { .. }) if !test.is_real_mongod().await => {
            println!(
                "SKIPPED decimal round trip: this server stores no Decimal128 ({error}); set FOX_TEST_MONGO_URL to a mongod to run it"
            );
            assert_eq!(db.count(&Price::find()).await.unwrap(), 0);
        }
        Err(error) => panic!("{error:?}"),
    }
}

#[tokio::test]
async fn eager_loading_sends_one_find_per_relation_level() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let users = five_users(db).await;
    let mut posts = Vec::new();
    for i in 1..=12_i64 {
        posts.push(Post {
            id: i,
            author_id: 1 + i % 4,
            title: format!("post {i}"),
            likes: i,
        });
    }
    db.insert_many(&posts).await.unwrap();
    let comments: Vec<Comment> = (1..=30_i64)
        .map(|i| Comment {
            id: i,
            post_id: 1 + i % 12,
            body: format!("comment {i}"),
        })
        .collect();
    db.insert_many(&comments).await.unwrap();

    let user_posts = Relation::has_many(User::ID, Post::AUTHOR_ID);
    let post_comments = Relation::has_many(Post::ID, Comment::POST_ID);
    let finds = db.commands_sent("find");
    let tree = db
        .find_with(
            &User::find().order_by(User::ID.asc()),
            &user_posts.clone().order_by(Post::LIKES.desc()),
        )
        .await
        .unwrap();
    let all_posts: Vec<Post> = tree.iter().flat_map(|(_, posts)| posts.clone()).collect();
    let post_comments_loaded = db.load(&post_comments, &all_posts).await.unwrap();
    // Users, their posts, the posts' comments: three finds for five users, twelve posts.
    assert_eq!(db.commands_sent("find") - finds, 3);

    assert_eq!(tree.len(), 5);
    for (user, posts) in &tree {
        let expected: Vec<i64> = (1..=12).rev().filter(|i| 1 + i % 4 == user.id).collect();
        assert_eq!(
            posts.iter().map(|p| p.id).collect::<Vec<_>>(),
            expected,
            "user {}",
            user.id
        );
    }
    assert!(tree[4].1.is_empty(), "user 5 has no posts");
    for (post, comments) in all_posts.iter().zip(&post_comments_loaded) {
        assert!(comments.iter().all(|c| c.post_id == post.id));
        let expected = (1..=30).filter(|i| 1 + i % 12 == post.id).count();
        assert_eq!(comments.len(), expected);
    }
    // A filter and a per-parent limit: still one find.
    let finds = db.commands_sent("find");
    let top = db
        .load(
            &user_posts
                .filter(Post::LIKES.gt(2))
                .order_by(Post::LIKES.desc())
                .limit(1),
            &users,
        )
        .await
        .unwrap();
    assert_eq!(db.commands_sent("find") - finds, 1);
    let top: Vec<Option<i64>> = top.iter().map(|p| p.first().map(|p| p.id)).collect();
    assert_eq!(top, [Some(12), Some(9), Some(10), Some(11), None]);
    // Belongs-to: each post's author.
    let authors = db
        .load(
            &Relation::belongs_to(Post::AUTHOR_ID, User::ID),
            &posts[..3],
        )
        .await
        .unwrap();
    assert_eq!(
        authors.iter().map(|a| a[0].id).collect::<Vec<_>>(),
        [2, 3, 4]
    );
}

#[tokio::test]
async fn a_duplicate_key_is_the_typed_unique_violation() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let post = Post {
        id: 1,
        author_id: 1,
        title: "t".into(),
        likes: 0,
    };
    db.insert(&post).await.unwrap();
    let error = db.insert(&post).await.unwrap_err();
    assert!(
        matches!(&error, Error::MongoDuplicateKey { collection, .. } if collection == "posts"),
        "{error:?}"
    );
    assert!(error.is_constraint_violation());
    // A unique index on a field.
    #[derive(serde::Deserialize)]
    struct Ok {
        ok: f64,
    }
    let reply: Ok = db
        .run_command(doc! {
            "createIndexes": "users",
            "indexes": [{ "key": { "email": 1 }, "name": "email_1", "unique": true }],
        })
        .await
        .unwrap();
    assert_eq!(reply.ok, 1.0);
    db.insert(&user("same@example.com", "One", 1, None))
        .await
        .unwrap();
    let error = db
        .insert(&user("same@example.com", "Two", 2, None))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::MongoDuplicateKey { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("users"), "{error}");
    assert_eq!(db.count(&User::find()).await.unwrap(), 1);
}

#[tokio::test]
async fn raw_commands_decode_into_a_struct() {
    let test = MongoTest::new().await;
    let db = &test.db;
    five_users(db).await;
    #[derive(Debug, serde::Deserialize)]
    struct CountReply {
        n: i64,
        ok: f64,
    }
    let reply: CountReply = db
        .run_command(doc! { "count": "users", "query": { "age": { "$gt": 30 } } })
        .await
        .unwrap();
    assert_eq!((reply.n, reply.ok), (3, 1.0));
    #[derive(Debug, serde::Deserialize)]
    struct Ping {
        ok: f64,
    }
    assert_eq!(
        db.run_command::<Ping>(doc! { "ping": 1 }).await.unwrap().ok,
        1.0
    );
    // A reply that does not fit the struct is a decode error naming the command.
    #[derive(Debug, serde::Deserialize)]
    struct Wrong {
        #[allow(dead_code)]
        missing_field: String,
    }
    let error = db
        .run_command::<Wrong>(doc! { "ping": 1 })
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Decode { column, .. } if column.contains("ping")),
        "{error}"
    );
    // A command the server refuses is a typed error, not a panic.
    let error = db
        .run_command::<Ping>(doc! { "count": 5 })
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Mongo { .. }), "{error:?}");
}

#[tokio::test]
async fn what_a_find_cannot_express_is_refused_before_anything_is_sent() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let finds = db.commands_sent("find");
    let error = db
        .find(&User::find().group_by(User::ACTIVE))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::MongoUnsupported { .. }), "{error}");
    let error = db.find(&User::find().in_schema("other")).await.unwrap_err();
    assert!(matches!(error, Error::MongoUnsupported { .. }), "{error}");
    // Tenant scoping and write hooks are SQL's: refused, not ignored.
    let error = db.find(&Account::find()).await.unwrap_err();
    assert!(
        matches!(&error, Error::MongoUnsupported { feature } if feature.contains("tenant")),
        "{error}"
    );
    let error = db.insert(&Audited { id: 1 }).await.unwrap_err();
    assert!(
        matches!(&error, Error::MongoUnsupported { feature } if feature.contains("hooks")),
        "{error}"
    );
    assert_eq!(db.commands_sent("find"), finds);
    assert_eq!(db.commands_sent("insert"), 0);
}

#[tokio::test]
async fn transactions_commit_and_abort_or_are_refused_where_the_server_has_none() {
    let test = MongoTest::new().await;
    let db = &test.db;
    // Collections exist before the transaction (MongoDB before 4.4 cannot create them in one).
    db.insert(&Post {
        id: 100,
        author_id: 1,
        title: "outside".into(),
        likes: 0,
    })
    .await
    .unwrap();
    match db.begin().await {
        Ok(mut tx) => {
            tx.insert(&Post {
                id: 1,
                author_id: 1,
                title: "kept".into(),
                likes: 0,
            })
            .await
            .unwrap();
            assert_eq!(tx.count(&Post::find()).await.unwrap(), 2);
            tx.commit().await.unwrap();
            let mut tx = db.begin().await.unwrap();
            tx.insert(&Post {
                id: 2,
                author_id: 1,
                title: "dropped".into(),
                likes: 0,
            })
            .await
            .unwrap();
            tx.abort().await.unwrap();
            let ids: Vec<i64> = db
                .find(&Post::find().order_by(Post::ID.asc()))
                .await
                .unwrap()
                .iter()
                .map(|p| p.id)
                .collect();
            assert_eq!(ids, [1, 100]);
            println!("transactions ran on the server");
        }
        Err(Error::MongoUnsupported { feature }) => {
            assert!(!test.is_real_mongod().await || !feature.is_empty());
            assert!(feature.contains("replica set"), "{feature}");
            println!("transactions refused by this server: {feature}");
            // Nothing was written by the refused begin.
            assert_eq!(db.count(&Post::find()).await.unwrap(), 1);
        }
        Err(other) => panic!("begin: {other:?}"),
    }
}

#[tokio::test]
async fn an_unreachable_server_is_a_connection_error_with_a_hint_quickly() {
    let started = Instant::now();
    let error = MongoDatabase::connect(
        "mongodb://app:hunter2@127.0.0.1:1/blog?serverSelectionTimeoutMS=1500",
    )
    .await
    .unwrap_err();
    let elapsed = started.elapsed();
    println!("port 1 with serverSelectionTimeoutMS=1500: refused in {elapsed:?}: {error}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert!(
        matches!(&error, Error::MongoConnect { reason: ConnectFailure::Refused | ConnectFailure::Unreachable, location, .. } if location == "127.0.0.1:1/blog"),
        "{error:?}"
    );
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("hint:"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    // Without the option, the default selection timeout keeps it short too.
    let started = Instant::now();
    assert!(
        MongoDatabase::connect("mongodb://127.0.0.1:1/blog")
            .await
            .is_err()
    );
    let elapsed = started.elapsed();
    println!("port 1 with the default timeout: refused in {elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
}

#[tokio::test]
async fn bad_urls_are_refused_without_echoing_the_password() {
    let error = MongoDatabase::connect("mongodb://app:hunter2@127.0.0.1:27017")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidUrl { .. }), "{error:?}");
    let shown = format!("{error} {error:?}");
    assert!(shown.contains("names no database"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
    let error =
        MongoDatabase::connect("mongodb://app:hunter2@127.0.0.1:27017/db?bogusOption=x&w=banana")
            .await
            .unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    let error = MongoDatabase::connect("postgres://127.0.0.1/db")
        .await
        .unwrap_err();
    assert!(matches!(error, Error::InvalidUrl { .. }), "{error:?}");
    let db = MongoTest::new().await;
    assert!(!format!("{:?}", db.db).contains("mongodb://"));
}
