//! Nested eager loading against real PostgreSQL, MariaDB and SQLite databases: one statement
//! per relation level, per-parent limits at every level, every relation kind.
#![allow(
    clippy::type_complexity,
    reason = "the nested result types are spelled out: they are what is specified"
)]

mod support;

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, Error, ModelExt, Relation};
use support::blog::{
    Blog, Comment, Post, PostsWithComments, Profile, Tag, User, blog, names, owned,
    posts_with_comments,
};

#[tokio::test]
async fn three_levels_load_in_three_statements_with_limits_per_parent() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog(engine).await;
        let before = db.statement_count();
        let users: Vec<(User, Vec<(Post, Vec<Comment>)>)> = User::find()
            .order_by(User::ID.asc())
            .with(
                User::posts()
                    .filter(Post::PUBLISHED.eq(true))
                    .order_by(Post::CREATED_AT.desc())
                    .limit(2)
                    .with(Post::comments().order_by(Comment::ID.asc()).limit(2)),
            )
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            db.statement_count() - before,
            3,
            "{engine}: users, posts, comments: one statement per level"
        );
        let tree: Vec<(String, PostsWithComments)> = users
            .iter()
            .map(|(user, posts)| (user.name.clone(), posts_with_comments(posts)))
            .collect();
        let expected = vec![
            (
                "ann".to_string(),
                vec![
                    ("a4".to_string(), owned(&["a4-c1", "a4-c2"])),
                    ("a2".to_string(), owned(&["a2-c1"])),
                ],
            ),
            ("bob".to_string(), vec![("b1".to_string(), vec![])]),
            ("cid".to_string(), vec![]),
            ("dee".to_string(), vec![]),
            ("eve".to_string(), vec![]),
        ];
        assert_eq!(
            tree, expected,
            "{engine}: two newest published posts per user, two first comments per post"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn two_levels_load_for_given_parents_in_two_statements() {
    for engine in Backend::ALL {
        let Blog { db, ann, bob, .. } = &blog(engine).await;
        let before = db.statement_count();
        let loaded = User::posts()
            .order_by(Post::CREATED_AT.asc())
            .with(Post::comments().order_by(Comment::ID.desc()).limit(1))
            .load_for(&[bob.clone(), ann.clone(), bob.clone()], db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(db.statement_count() - before, 2, "{engine}: no N+1");
        let shaped: Vec<PostsWithComments> =
            loaded.iter().map(|p| posts_with_comments(p)).collect();
        let bobs = vec![("b1".to_string(), vec![])];
        assert_eq!(
            shaped,
            [
                bobs.clone(),
                vec![
                    ("a1".to_string(), vec![]),
                    ("a2".to_string(), owned(&["a2-c1"])),
                    ("a3".to_string(), owned(&["a3-c1"])),
                    ("a4".to_string(), owned(&["a4-c3"])),
                ],
                bobs,
            ],
            "{engine}: in the parents' order, a parent given twice gets its rows twice"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn many_to_many_loads_under_has_many_beside_a_one_to_one() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog(engine).await;
        let before = db.statement_count();
        let users: Vec<(User, Vec<(Post, Vec<Tag>)>, Option<Profile>)> = User::find()
            .filter(User::NAME.in_(["ann", "bob", "eve"]))
            .order_by(User::ID.asc())
            .with(
                User::posts()
                    .filter(Post::PUBLISHED.eq(true))
                    .order_by(Post::CREATED_AT.desc())
                    .with(Post::tags().order_by(Tag::NAME.asc())),
            )
            .with(User::profile().one())
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            db.statement_count() - before,
            4,
            "{engine}: users, posts, tags through post_tags, profiles"
        );
        let shaped: Vec<(String, Vec<(String, Vec<String>)>, Option<String>)> = users
            .iter()
            .map(|(user, posts, profile)| {
                let posts = posts
                    .iter()
                    .map(|(post, tags)| {
                        let tags = tags.iter().map(|t| t.name.clone()).collect();
                        (post.title.clone(), tags)
                    })
                    .collect();
                (
                    user.name.clone(),
                    posts,
                    profile.as_ref().map(|p| p.bio.clone()),
                )
            })
            .collect();
        let expected = vec![
            (
                "ann".to_string(),
                vec![
                    ("a4".to_string(), owned(&["rust", "sql"])),
                    ("a2".to_string(), owned(&["sql"])),
                    ("a1".to_string(), vec![]),
                ],
                Some("ann's bio".to_string()),
            ),
            (
                "bob".to_string(),
                vec![("b1".to_string(), owned(&["sql"]))],
                Some("bob's bio".to_string()),
            ),
            ("eve".to_string(), vec![], None),
        ];
        assert_eq!(shaped, expected, "{engine}");

        // A per-parent limit through the join table: each post's first tag by name.
        let first_tags = User::posts()
            .filter(Post::PUBLISHED.eq(true))
            .order_by(Post::CREATED_AT.desc())
            .with(Post::tags().order_by(Tag::NAME.desc()).limit(1))
            .load_for(&users.iter().map(|u| u.0.clone()).collect::<Vec<_>>(), db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let anns: Vec<(String, Vec<String>)> = first_tags[0]
            .iter()
            .map(|(post, tags)| {
                (
                    post.title.clone(),
                    tags.iter().map(|t| t.name.clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            anns,
            [
                ("a4".to_string(), owned(&["sql"])),
                ("a2".to_string(), owned(&["sql"])),
                ("a1".to_string(), vec![]),
            ],
            "{engine}: one tag per post"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn belongs_to_and_one_to_one_load_as_options_shared_parents_included() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog(engine).await;
        let before = db.statement_count();
        let posts: Vec<(Post, Option<(User, Option<Profile>)>, Vec<Comment>)> = Post::find()
            .order_by(Post::ID.asc())
            .with(Post::author().one().with(User::profile().one()))
            .with(Post::comments().order_by(Comment::ID.asc()))
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            db.statement_count() - before,
            4,
            "{engine}: posts, their authors (each once), profiles, comments"
        );
        let shaped: Vec<(String, Option<(String, Option<String>)>, usize)> = posts
            .iter()
            .map(|(post, author, comments)| {
                let author = author.as_ref().map(|(user, profile)| {
                    (user.name.clone(), profile.as_ref().map(|p| p.bio.clone()))
                });
                (post.title.clone(), author, comments.len())
            })
            .collect();
        let ann = Some(("ann".to_string(), Some("ann's bio".to_string())));
        assert_eq!(
            shaped,
            [
                ("a1".to_string(), ann.clone(), 0),
                ("a2".to_string(), ann.clone(), 1),
                ("a3".to_string(), ann.clone(), 1),
                ("a4".to_string(), ann, 3),
                (
                    "b1".to_string(),
                    Some(("bob".to_string(), Some("bob's bio".to_string()))),
                    0
                ),
            ],
            "{engine}: every post gets its author, even when authors are shared"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn empty_levels_run_no_statement_and_give_empty_children() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog(engine).await;
        let nested = || {
            User::posts()
                .order_by(Post::ID.asc())
                .with(Post::comments())
                .with(Post::tags())
        };

        let before = db.statement_count();
        let nobody = User::find()
            .filter(User::NAME.eq("nobody"))
            .with(nested())
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert!(nobody.is_empty(), "{engine}");
        assert_eq!(
            db.statement_count() - before,
            1,
            "{engine}: no users, no further statement"
        );

        let before = db.statement_count();
        let without_posts = User::find()
            .filter(User::NAME.in_(["cid", "eve"]))
            .order_by(User::ID.asc())
            .with(nested())
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            db.statement_count() - before,
            2,
            "{engine}: users and posts; no posts, so no comments or tags statement"
        );
        let shaped: Vec<(String, usize)> = without_posts
            .iter()
            .map(|(user, posts)| (user.name.clone(), posts.len()))
            .collect();
        assert_eq!(shaped, [("cid".to_string(), 0), ("eve".to_string(), 0)]);

        // Unset foreign keys: no key to look up, so no statement.
        let before = db.statement_count();
        let unmanaged = User::find()
            .filter(User::MANAGER_ID.is_null())
            .order_by(User::ID.asc())
            .with(User::manager().one())
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(db.statement_count() - before, 1, "{engine}");
        let shaped: Vec<(String, bool)> = unmanaged
            .iter()
            .map(|(user, manager)| (user.name.clone(), manager.is_some()))
            .collect();
        assert_eq!(
            shaped,
            [("ann".to_string(), false), ("eve".to_string(), false)]
        );
        db.close().await;
    }
}

#[tokio::test]
async fn self_relations_nest_down_and_up() {
    for engine in Backend::ALL {
        let Blog { db, dee, .. } = &blog(engine).await;
        let before = db.statement_count();
        let chart: Vec<(User, Vec<(User, Vec<User>)>)> = User::find()
            .filter(User::MANAGER_ID.is_null())
            .order_by(User::ID.asc())
            .with(
                User::reports()
                    .order_by(User::ID.asc())
                    .limit(5)
                    .with(User::reports().order_by(User::ID.asc())),
            )
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(db.statement_count() - before, 3, "{engine}");
        let shaped: Vec<(String, Vec<(String, Vec<String>)>)> = chart
            .iter()
            .map(|(top, reports)| {
                let reports = reports
                    .iter()
                    .map(|(report, theirs)| (report.name.clone(), names(theirs)))
                    .collect();
                (top.name.clone(), reports)
            })
            .collect();
        assert_eq!(
            shaped,
            [
                (
                    "ann".to_string(),
                    vec![
                        ("bob".to_string(), owned(&["dee"])),
                        ("cid".to_string(), vec![])
                    ]
                ),
                ("eve".to_string(), vec![]),
            ],
            "{engine}: managers, their reports, and theirs"
        );

        let chain = User::manager()
            .one()
            .with(User::manager().one())
            .load_for(std::slice::from_ref(dee), db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let shaped: Vec<Option<(String, Option<String>)>> = chain
            .into_iter()
            .map(|up| up.map(|(manager, theirs)| (manager.name, theirs.map(|t| t.name))))
            .collect();
        assert_eq!(
            shaped,
            [Some(("bob".to_string(), Some("ann".to_string())))],
            "{engine}: dee's manager and the manager's manager"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn keys_are_deduplicated_and_sent_as_one_parameter() {
    const PARENTS: i64 = 70_000;
    for engine in Backend::ALL {
        let Blog { db, ann, bob, .. } = &blog(engine).await;
        // Parents need not come from the database: only their keys are read.
        let users: Vec<User> = (1..=PARENTS)
            .map(|id| User {
                id,
                name: String::new(),
                manager_id: None,
            })
            .collect();
        let before = db.statement_count();
        let loaded = User::posts()
            .filter(Post::TITLE.in_(["a2", "a4", "b1"]))
            .order_by(Post::CREATED_AT.asc())
            .with(Post::comments())
            .load_for(&users, db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        // Every key as one array parameter (a JSON array on MySQL and SQLite), past the
        // engines' parameter limits (65,535 on MySQL, 32,766 on SQLite).
        assert_eq!(
            db.statement_count() - before,
            2,
            "{engine}: {PARENTS} keys in one statement, then one comments statement"
        );
        let index = |user: &User| usize::try_from(user.id - 1).expect("a small id");
        let anns: Vec<&str> = loaded[index(ann)]
            .iter()
            .map(|(post, _)| post.title.as_str())
            .collect();
        assert_eq!(anns, ["a2", "a4"], "{engine}");
        assert_eq!(loaded[index(bob)].len(), 1, "{engine}");
        assert_eq!(
            loaded.iter().map(Vec::len).sum::<usize>(),
            3,
            "{engine}: nobody else has posts"
        );

        // Seventy thousand posts by one author: one key, one statement.
        let posts: Vec<Post> = (1..=PARENTS)
            .map(|id| Post {
                id,
                author_id: ann.id,
                title: String::new(),
                published: true,
                created_at: 0,
            })
            .collect();
        let before = db.statement_count();
        let authors = Post::author()
            .one()
            .load_for(&posts, db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            db.statement_count() - before,
            1,
            "{engine}: one distinct key"
        );
        assert!(
            authors.iter().all(|a| a.as_ref() == Some(ann)),
            "{engine}: every post gets the shared author"
        );
        db.close().await;
    }
}

#[tokio::test]
async fn nested_loading_runs_in_a_transaction() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog(engine).await;
        let loaded = db
            .transaction(async |tx| {
                let newest = User::find()
                    .filter(User::NAME.eq("ann"))
                    .with(
                        User::posts()
                            .order_by(Post::CREATED_AT.desc())
                            .limit(1)
                            .with(Post::comments().order_by(Comment::ID.asc())),
                    )
                    .all(&mut *tx)
                    .await?;
                Ok::<_, Error>(newest)
            })
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let shaped: Vec<PostsWithComments> = loaded
            .iter()
            .map(|(_, posts)| posts_with_comments(posts))
            .collect();
        assert_eq!(
            shaped,
            [vec![(
                "a4".to_string(),
                owned(&["a4-c1", "a4-c2", "a4-c3"])
            )]],
            "{engine}"
        );
        db.close().await;
    }
}

/// Text keys, some of which look like UUIDs (upper case, as a UUID decoder would not keep them).
#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "groups")]
struct Group {
    #[foxdb(primary_key)]
    code: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "labels")]
struct Label {
    #[foxdb(primary_key)]
    code: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "group_labels")]
struct GroupLabel {
    #[foxdb(primary_key)]
    group_code: String,
    #[foxdb(primary_key)]
    label_code: String,
}

#[tokio::test]
async fn text_keys_that_look_like_uuids_keep_their_children_through_a_join_table() {
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let db = Database::connect(test.url()).await.expect("connects");
        for ddl in [
            "CREATE TABLE groups (code varchar(64) PRIMARY KEY)",
            "CREATE TABLE labels (code varchar(64) PRIMARY KEY)",
            "CREATE TABLE group_labels (group_code varchar(64) NOT NULL, label_code varchar(64) NOT NULL, PRIMARY KEY (group_code, label_code))",
        ] {
            db.execute(ddl, &[]).await.expect("creates a table");
        }
        let upper = "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11";
        let plain = "ops";
        for code in [upper, plain] {
            db.insert(&Group { code: code.into() })
                .await
                .expect("inserts");
        }
        for code in ["red", "blue"] {
            db.insert(&Label { code: code.into() })
                .await
                .expect("inserts");
        }
        for (group, label) in [(upper, "red"), (upper, "blue"), (plain, "red")] {
            db.insert(&GroupLabel {
                group_code: group.into(),
                label_code: label.into(),
            })
            .await
            .expect("links");
        }
        let labels = Relation::many_to_many(
            Group::CODE,
            GroupLabel::GROUP_CODE,
            GroupLabel::LABEL_CODE,
            Label::CODE,
        );
        let loaded: Vec<(Group, Vec<Label>)> = Group::find()
            .order_by(Group::CODE.asc())
            .with(labels)
            .all(&db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let counts: Vec<(String, usize)> = loaded
            .into_iter()
            .map(|(group, labels)| (group.code, labels.len()))
            .collect();
        assert_eq!(
            counts,
            [(upper.to_string(), 2), (plain.to_string(), 1)],
            "{engine}"
        );
        db.close().await;
    }
}
