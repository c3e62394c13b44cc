//! `fox generate client`: the committed models of the blog example are what the command
//! writes, they compile, and they work against the schema `fox apply` creates on every engine.

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, ModelExt};

use super::support::{applied, apply, fox, schema, text};

// Kept exactly as the generator writes it (the test below compares).
#[rustfmt::skip]
#[path = "../fixtures/blog_models.rs"]
#[allow(dead_code)]
mod blog;

const BLOG: &str = include_str!("../../../examples/blog/10-schema.yaml");

/// The same models generated with `--derive serde::Serialize,serde::Deserialize --hooks users`,
/// placed by `include!` and extended here, outside the generated file.
#[allow(dead_code)]
mod blog_extended {
    include!("../fixtures/blog_models_extended.rs");

    /// The application's own hooks for the generated `User` (`#[foxdb(hooks)]`), writing
    /// through the write's transaction.
    impl foxdb::Hooks for User {
        async fn before_insert(&mut self, _tx: &mut foxdb::Transaction) -> foxdb::Result<()> {
            self.email = self.email.trim().to_lowercase();
            Ok(())
        }

        async fn after_insert(&self, tx: &mut foxdb::Transaction) -> foxdb::Result<()> {
            tx.insert(&Profile {
                id: 0,
                bio: Some(format!("profile of {}", self.email)),
                avatar: None,
                user_id: self.id,
            })
            .await?;
            Ok(())
        }
    }
}

/// A fresh database with the blog schema applied, and a client pool on it.
async fn blog_database(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    applied(apply(&test, &schema(BLOG), false).await);
    let db = Database::connect(test.url()).await.expect("connects");
    (test, db)
}

#[test]
fn committed_models_are_what_the_generator_writes() {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/blog/10-schema.yaml"
    );
    let output = fox(&["generate", "client", "-f", schema_path]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let committed = include_str!("../fixtures/blog_models.rs");
    assert!(
        text(&output.stdout) == committed,
        "operator/tests/fixtures/blog_models.rs is stale: run `fox generate client -f examples/blog/10-schema.yaml -o operator/tests/fixtures/blog_models.rs`"
    );
}

#[test]
fn committed_extended_models_are_what_the_generator_writes() {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/blog/10-schema.yaml"
    );
    let output = fox(&[
        "generate",
        "client",
        "-f",
        schema_path,
        "--derive",
        "serde::Serialize,serde::Deserialize",
        "--hooks",
        "users",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let committed = include_str!("../fixtures/blog_models_extended.rs");
    assert!(
        text(&output.stdout) == committed,
        "operator/tests/fixtures/blog_models_extended.rs is stale: run `fox generate client -f examples/blog/10-schema.yaml --derive serde::Serialize,serde::Deserialize --hooks users -o operator/tests/fixtures/blog_models_extended.rs`"
    );
}

#[test]
fn generator_options_that_cannot_work_are_refused_with_every_reason() {
    let schema_path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/blog/10-schema.yaml"
    );
    let output = fox(&[
        "generate",
        "client",
        "-f",
        schema_path,
        "--derive",
        "serde Serialize",
        "--hooks",
        "user",
    ]);
    assert_ne!(output.status.code(), Some(0));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("is not a Rust path"), "{stderr}");
    assert!(
        stderr.contains("\"user\": the FoxSchema declares no such table"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "nothing written");
}

#[tokio::test]
async fn extended_generated_models_run_their_own_hooks_and_derives_on_every_engine() {
    use blog_extended::{Profile, User, UserRole};
    for engine in Backend::ALL {
        let (_test, db) = blog_database(engine).await;
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .expect("valid")
            .with_timezone(&chrono::Utc);
        let user = db
            .insert(&User {
                id: 0,
                email: "  Grace@Example.COM ".into(),
                name: Some("Grace".into()),
                role: UserRole::Author,
                created_at: now,
                manager_id: None,
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: inserts: {e}"));
        assert_eq!(
            user.email, "grace@example.com",
            "{engine}: the hand-written hook ran"
        );

        // One-to-one is generated as to-one: each user gets an `Option<Profile>`.
        let loaded: Vec<(User, Option<Profile>)> = User::find()
            .filter(User::ID.eq(user.id))
            .with(User::profile())
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: loads: {e}"));
        let profile = loaded[0].1.clone().expect("after_insert wrote the profile");
        assert_eq!(
            profile.bio.as_deref(),
            Some("profile of grace@example.com"),
            "{engine}"
        );

        // The extra derives: serde round trip of a row and an enum.
        let json = serde_json::to_string(&loaded[0].0).expect("serializes");
        let back: User = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, loaded[0].0, "{engine}");
        db.close().await;
    }
}

#[tokio::test]
async fn generated_models_do_crud_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = blog_database(engine).await;

        let admin = blog::User::find()
            .filter(blog::User::EMAIL.eq("admin@example.com"))
            .one_required(&db)
            .await;
        let admin = admin.unwrap_or_else(|e| panic!("{engine}: the seeded admin: {e}"));
        assert_eq!(
            admin.role,
            blog::UserRole::Admin,
            "{engine}: enum read as its label"
        );

        let now = chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
            .expect("valid")
            .with_timezone(&chrono::Utc);
        let post = db
            .insert(&blog::Post {
                id: 0,
                title: "Hello".into(),
                body: "First post".into(),
                status: blog::PostStatus::Published,
                published: true,
                published_at: Some(now),
                metadata: Some(serde_json::json!({"lang": "en"})),
                author_id: admin.id,
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: inserts a post: {e}"));
        assert!(post.id > 0);
        let published = blog::Post::find()
            .filter(
                blog::Post::STATUS
                    .eq(blog::PostStatus::Published)
                    .and(blog::Post::AUTHOR_ID.eq(admin.id)),
            )
            .count(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: filters on an enum: {e}"));
        assert_eq!(published, 1, "{engine}");

        let changed = blog::Post::update()
            .set(blog::Post::STATUS, blog::PostStatus::Archived)
            .filter(blog::Post::ID.eq(post.id))
            .exec(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: updates an enum: {e}"));
        assert_eq!(changed, 1);
        let order = db
            .insert(&blog::Order {
                id: uuid::Uuid::from_u128(7),
                user: admin.id,
                total: rust_decimal::Decimal::new(4_999, 2),
                placed_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("valid"),
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: inserts into \"order\": {e}"));
        assert_eq!(
            order.total,
            rust_decimal::Decimal::new(4_999, 2),
            "{engine}"
        );
        db.close().await;
    }
}

fn post(author_id: i64, title: &str, minute: u32) -> blog::Post {
    let at = chrono::DateTime::parse_from_rfc3339(&format!("2026-11-27T10:{minute:02}:00Z"))
        .expect("valid")
        .with_timezone(&chrono::Utc);
    blog::Post {
        id: 0,
        title: title.into(),
        body: "…".into(),
        status: blog::PostStatus::Published,
        published: true,
        published_at: Some(at),
        metadata: None,
        author_id,
    }
}

#[tokio::test]
async fn relations_load_one_query_per_level_with_per_parent_limits() {
    for engine in Backend::ALL {
        let (_test, db) = blog_database(engine).await;
        let mut authors = Vec::new();
        for name in ["ann", "bob", "cid"] {
            let user = db
                .insert(&blog::User {
                    id: 0,
                    email: format!("{name}@example.com"),
                    name: Some(name.into()),
                    role: blog::UserRole::Author,
                    created_at: chrono::Utc::now(),
                    manager_id: None,
                })
                .await
                .expect("inserts a user");
            authors.push(user);
        }
        // ann: 4 posts, bob: 1, cid: none.
        let mut posts = Vec::new();
        for (author, count) in [(authors[0].id, 4), (authors[1].id, 1)] {
            for i in 0..count {
                posts.push(
                    db.insert(&post(author, &format!("p{author}-{i}"), i))
                        .await
                        .expect("inserts a post"),
                );
            }
        }
        let tags = blog::Tag::find()
            .order_by(blog::Tag::ID.asc())
            .all(&db)
            .await
            .expect("seeded tags");
        db.insert(&blog::PostTag {
            post_id: posts[0].id,
            tag_id: tags[0].id,
        })
        .await
        .expect("tags");
        db.insert(&blog::PostTag {
            post_id: posts[0].id,
            tag_id: tags[1].id,
        })
        .await
        .expect("tags");
        db.insert(&blog::PostTag {
            post_id: posts[4].id,
            tag_id: tags[1].id,
        })
        .await
        .expect("tags");

        let before = db.statement_count();
        let newest_two = blog::User::posts()
            .filter(blog::Post::PUBLISHED.eq(true))
            .order_by(blog::Post::PUBLISHED_AT.desc())
            .limit(2)
            .load_for(&authors, &db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: eager load: {e}"));
        let all_posts: Vec<blog::Post> = newest_two.iter().flatten().cloned().collect();
        let tags_by_post = blog::Post::tags()
            .load_for(&all_posts, &db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: m2m: {e}"));
        assert_eq!(
            db.statement_count() - before,
            2,
            "{engine}: one query per relation level, no N+1"
        );

        let titles: Vec<Vec<String>> = newest_two
            .iter()
            .map(|p| p.iter().map(|p| p.title.clone()).collect())
            .collect();
        let (a, b) = (authors[0].id, authors[1].id);
        let expected: Vec<Vec<String>> = vec![
            vec![format!("p{a}-3"), format!("p{a}-2")],
            vec![format!("p{b}-0")],
            vec![],
        ];
        assert_eq!(titles, expected, "{engine}: per-parent order and limit");
        let tag_counts: Vec<usize> = tags_by_post.iter().map(Vec::len).collect();
        assert_eq!(
            tag_counts,
            [0, 0, 1],
            "{engine}: ann's newest posts have no tags; bob's post has one"
        );

        let before = db.statement_count();
        let with_posts = blog::User::find()
            .filter(blog::User::ROLE.eq(blog::UserRole::Author))
            .order_by(blog::User::ID.asc())
            .with(
                blog::User::posts()
                    .order_by(blog::Post::PUBLISHED_AT.desc())
                    .limit(1),
            )
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: with: {e}"));
        assert_eq!(
            db.statement_count() - before,
            2,
            "{engine}: parents and children in two queries"
        );
        let firsts: Vec<(i64, usize)> = with_posts.iter().map(|(u, p)| (u.id, p.len())).collect();
        assert_eq!(
            firsts,
            [(authors[0].id, 1), (authors[1].id, 1), (authors[2].id, 0)],
            "{engine}"
        );

        let lazy = blog::User::posts()
            .of(&authors[0])
            .count(&db)
            .await
            .expect("lazy");
        assert_eq!(lazy, 4, "{engine}: lazy loading one parent's children");
        db.close().await;
    }
}

#[tokio::test]
async fn relation_filters_select_parents_by_their_children() {
    for engine in Backend::ALL {
        let (_test, db) = blog_database(engine).await;
        let admin = blog::User::find()
            .one_required(&db)
            .await
            .expect("the seeded admin");
        let writer = db
            .insert(&blog::User {
                id: 0,
                email: "w@example.com".into(),
                name: None,
                role: blog::UserRole::Author,
                created_at: chrono::Utc::now(),
                manager_id: None,
            })
            .await
            .expect("inserts");
        let mut draft = post(writer.id, "draft", 1);
        draft.status = blog::PostStatus::Draft;
        let draft = db.insert(&draft).await.expect("inserts");
        let tag = blog::Tag::find()
            .one_required(&db)
            .await
            .expect("a seeded tag");
        db.insert(&blog::PostTag {
            post_id: draft.id,
            tag_id: tag.id,
        })
        .await
        .expect("tags");

        let with_posts = blog::User::find()
            .filter(blog::User::posts().exists())
            .all(&db)
            .await;
        let with_posts = with_posts.unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            with_posts.iter().map(|u| u.id).collect::<Vec<_>>(),
            [writer.id],
            "{engine}"
        );
        let with_published = blog::User::find()
            .filter(
                blog::User::posts()
                    .filter(blog::Post::STATUS.eq(blog::PostStatus::Published))
                    .exists(),
            )
            .count(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(with_published, 0, "{engine}: the only post is a draft");
        let without_posts = blog::User::find()
            .filter(blog::User::posts().exists().not())
            .all(&db)
            .await
            .expect("filters");
        assert_eq!(
            without_posts.iter().map(|u| u.id).collect::<Vec<_>>(),
            [admin.id],
            "{engine}"
        );
        let tagged = blog::Post::find()
            .filter(
                blog::Post::tags()
                    .filter(blog::Tag::NAME.eq(tag.name.clone()))
                    .exists(),
            )
            .count(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(tagged, 1, "{engine}: many-to-many exists");
        db.close().await;
    }
}

#[tokio::test]
async fn new_rows_leave_defaults_to_the_database() {
    for engine in Backend::ALL {
        let (_test, db) = blog_database(engine).await;
        let user = db
            .create(&blog::NewUser {
                email: "new@example.com".into(),
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert!(user.id > 1, "{engine}: generated id");
        assert_eq!(user.role, blog::UserRole::Reader, "{engine}: enum default");
        assert!(user.name.is_none());
        let post = db
            .create(&blog::NewPost {
                title: "T".into(),
                body: "B".into(),
                author_id: user.id,
                ..Default::default()
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            (post.status, post.published),
            (blog::PostStatus::Draft, false),
            "{engine}: defaults filled"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn shared_parents_self_relations_join_rows_and_enum_text_behave() {
    for engine in Backend::ALL {
        let (_test, db) = blog_database(engine).await;
        let boss = blog::User::find()
            .one_required(&db)
            .await
            .expect("the seeded admin");
        let worker = db
            .create(&blog::NewUser {
                email: "worker@example.com".into(),
                manager_id: Some(boss.id),
                ..Default::default()
            })
            .await
            .expect("creates");

        // Two posts by one author: each gets the author (belongs-to with a shared key).
        let p1 = db
            .insert(&post(worker.id, "one", 1))
            .await
            .expect("inserts");
        let mut second = post(worker.id, "two", 2);
        second.status = blog::PostStatus::Archived;
        let p2 = db.insert(&second).await.expect("inserts");
        let authors = foxdb::Relation::belongs_to(blog::Post::AUTHOR_ID, blog::User::ID)
            .load_for(&[p1.clone(), p2.clone()], &db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            authors.iter().map(Vec::len).collect::<Vec<_>>(),
            [1, 1],
            "{engine}: both posts get their author"
        );

        // A self-relation: users managing someone.
        let manages = foxdb::Relation::has_many(blog::User::ID, blog::User::MANAGER_ID);
        let managers = blog::User::find()
            .filter(manages.exists())
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            managers.iter().map(|u| u.id).collect::<Vec<_>>(),
            [boss.id],
            "{engine}: not shadowed by the subquery"
        );

        // Lazy loading through a join table, and join rows written twice.
        let tag = blog::Tag::find()
            .one_required(&db)
            .await
            .expect("a seeded tag");
        let link = blog::PostTag {
            post_id: p1.id,
            tag_id: tag.id,
        };
        db.upsert(&link)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        db.upsert(&link)
            .await
            .unwrap_or_else(|e| panic!("{engine}: upserting an all-key row again: {e}"));
        assert!(
            db.save(&link).await.expect("saves"),
            "{engine}: an all-key row matches itself"
        );
        assert_eq!(
            blog::Post::tags().of(&p1).count(&db).await.expect("lazy"),
            1,
            "{engine}: only this post's tags"
        );
        assert_eq!(
            blog::Post::tags().of(&p2).count(&db).await.expect("lazy"),
            0,
            "{engine}"
        );

        // An upsert colliding on another unique key fails instead of changing that row.
        let clash = blog::User {
            id: worker.id + 100,
            email: boss.email.clone(),
            ..worker.clone()
        };
        assert!(
            db.upsert(&clash).await.is_err(),
            "{engine}: the email belongs to someone else"
        );
        let boss_now = blog::User::find()
            .filter(blog::User::ID.eq(boss.id))
            .one_required(&db)
            .await
            .expect("finds");
        assert_eq!(boss_now, boss, "{engine}: the other row is untouched");

        // Enum columns: LIKE compares text, ORDER BY follows the declared order.
        let like = blog::Post::find()
            .filter(blog::Post::STATUS.like("pub%"))
            .count(&db)
            .await;
        assert_eq!(like.unwrap_or_else(|e| panic!("{engine}: {e}")), 1);
        let order: Vec<blog::PostStatus> = blog::Post::find()
            .order_by(blog::Post::STATUS.asc())
            .select((blog::Post::STATUS,))
            .all(&db)
            .await
            .expect("orders")
            .into_iter()
            .map(|(s,)| s)
            .collect();
        // Declared order on PostgreSQL and MySQL; SQLite keeps enums as checked text.
        let expected = if engine == Backend::Sqlite {
            [blog::PostStatus::Archived, blog::PostStatus::Published]
        } else {
            [blog::PostStatus::Published, blog::PostStatus::Archived]
        };
        assert_eq!(order, expected, "{engine}: enum order");
        db.close().await;
    }
}

#[tokio::test]
async fn subqueries_filter_by_another_models_column() {
    for engine in Backend::ALL {
        let (_test, db) = blog_database(engine).await;
        let admin = blog::User::find()
            .one_required(&db)
            .await
            .expect("the seeded admin");
        let writer = db
            .create(&blog::NewUser {
                email: "w@example.com".into(),
                ..Default::default()
            })
            .await
            .expect("creates");
        let mut archived = post(writer.id, "old", 1);
        archived.status = blog::PostStatus::Archived;
        db.insert(&archived).await.expect("inserts");
        let authors_of_archived = blog::User::find()
            .filter(
                blog::User::ID.in_subquery(
                    blog::Post::find()
                        .filter(blog::Post::STATUS.eq(blog::PostStatus::Archived))
                        .select((blog::Post::AUTHOR_ID,)),
                ),
            )
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            authors_of_archived.iter().map(|u| u.id).collect::<Vec<_>>(),
            [writer.id],
            "{engine}"
        );
        let others = blog::User::find()
            .filter(
                blog::User::ID
                    .in_subquery(blog::Post::find().select((blog::Post::AUTHOR_ID,)))
                    .not(),
            )
            .all(&db)
            .await
            .expect("filters");
        assert_eq!(
            others.iter().map(|u| u.id).collect::<Vec<_>>(),
            [admin.id],
            "{engine}"
        );
        db.close().await;
    }
}
