//! Many relations side by side at one level (up to eight), against real PostgreSQL, MariaDB and
//! SQLite databases: still one statement per relation, each row with all it loaded, in the
//! order the relations were added.
#![allow(
    clippy::type_complexity,
    reason = "the nested result types are spelled out: they are what is specified"
)]

mod support;

use fox_e2e::Backend;
use foxdb::ModelExt;
use support::blog::{Blog, Comment, Post, Profile, Tag, User, blog, names, owned};

/// What one user's eight relations loaded, as names.
#[derive(Debug, PartialEq)]
struct Loaded {
    posts: Vec<String>,
    profile: Option<String>,
    reports: Vec<String>,
    manager: Option<String>,
    newest_post: Option<String>,
    drafts: Vec<String>,
    last_report: Option<String>,
    /// The newest published post with its five relations.
    newest_published: Vec<PostLoaded>,
}

/// What one post's five relations loaded, as names.
#[derive(Debug, PartialEq)]
struct PostLoaded {
    title: String,
    comments: Vec<String>,
    tags: Vec<String>,
    author: Option<String>,
    last_comment: Option<String>,
    last_tag: Option<String>,
}

fn titles(posts: &[Post]) -> Vec<String> {
    posts.iter().map(|p| p.title.clone()).collect()
}

#[tokio::test]
async fn eight_relations_load_beside_each_other_and_five_under_each_child() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog(engine).await;
        let before = db.statement_count();
        let users: Vec<(
            User,
            Vec<Post>,
            Option<Profile>,
            Vec<User>,
            Option<User>,
            Option<Post>,
            Vec<Post>,
            Option<User>,
            Vec<(
                Post,
                Vec<Comment>,
                Vec<Tag>,
                Option<User>,
                Option<Comment>,
                Option<Tag>,
            )>,
        )> = User::find()
            .filter(User::NAME.in_(["ann", "bob"]))
            .order_by(User::ID.asc())
            .with(User::posts().order_by(Post::ID.asc()))
            .with(User::profile().one())
            .with(User::reports().order_by(User::ID.asc()))
            .with(User::manager().one())
            .with(User::posts().order_by(Post::CREATED_AT.desc()).one())
            .with(User::posts().filter(Post::PUBLISHED.eq(false)))
            .with(User::reports().order_by(User::ID.desc()).one())
            .with(
                User::posts()
                    .filter(Post::PUBLISHED.eq(true))
                    .order_by(Post::CREATED_AT.desc())
                    .limit(1)
                    .with(Post::comments().order_by(Comment::ID.asc()))
                    .with(Post::tags().order_by(Tag::NAME.asc()))
                    .with(Post::author().one())
                    .with(Post::comments().order_by(Comment::ID.desc()).one())
                    .with(Post::tags().order_by(Tag::NAME.desc()).one()),
            )
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            db.statement_count() - before,
            1 + 8 + 5,
            "{engine}: the users, one statement per relation beside them, one per relation under their posts"
        );
        let loaded: Vec<(String, Loaded)> = users
            .into_iter()
            .map(
                |(
                    user,
                    posts,
                    profile,
                    reports,
                    manager,
                    newest,
                    drafts,
                    last_report,
                    published,
                )| {
                    let newest_published = published
                        .into_iter()
                        .map(
                            |(post, comments, tags, author, last_comment, last_tag)| PostLoaded {
                                title: post.title,
                                comments: comments.into_iter().map(|c| c.body).collect(),
                                tags: tags.into_iter().map(|t| t.name).collect(),
                                author: author.map(|a| a.name),
                                last_comment: last_comment.map(|c| c.body),
                                last_tag: last_tag.map(|t| t.name),
                            },
                        )
                        .collect();
                    let loaded = Loaded {
                        posts: titles(&posts),
                        profile: profile.map(|p| p.bio),
                        reports: names(&reports),
                        manager: manager.map(|m| m.name),
                        newest_post: newest.map(|p| p.title),
                        drafts: titles(&drafts),
                        last_report: last_report.map(|r| r.name),
                        newest_published,
                    };
                    (user.name, loaded)
                },
            )
            .collect();
        let expected = vec![
            (
                "ann".to_string(),
                Loaded {
                    posts: owned(&["a1", "a2", "a3", "a4"]),
                    profile: Some("ann's bio".into()),
                    reports: owned(&["bob", "cid"]),
                    manager: None,
                    newest_post: Some("a4".into()),
                    drafts: owned(&["a3"]),
                    last_report: Some("cid".into()),
                    newest_published: vec![PostLoaded {
                        title: "a4".into(),
                        comments: owned(&["a4-c1", "a4-c2", "a4-c3"]),
                        tags: owned(&["rust", "sql"]),
                        author: Some("ann".into()),
                        last_comment: Some("a4-c3".into()),
                        last_tag: Some("sql".into()),
                    }],
                },
            ),
            (
                "bob".to_string(),
                Loaded {
                    posts: owned(&["b1"]),
                    profile: Some("bob's bio".into()),
                    reports: owned(&["dee"]),
                    manager: Some("ann".into()),
                    newest_post: Some("b1".into()),
                    drafts: vec![],
                    last_report: Some("dee".into()),
                    newest_published: vec![PostLoaded {
                        title: "b1".into(),
                        comments: vec![],
                        tags: owned(&["sql"]),
                        author: Some("bob".into()),
                        last_comment: None,
                        last_tag: Some("sql".into()),
                    }],
                },
            ),
        ];
        assert_eq!(loaded, expected, "{engine}");
        db.close().await;
    }
}
