//! `.one()` on an eagerly loaded relation, against real PostgreSQL, MariaDB and SQLite
//! databases: at most one child per parent leaves the database, chosen by the relation's order
//! and then by the child's primary key.
#![allow(
    clippy::type_complexity,
    reason = "the nested result types are spelled out: they are what is specified"
)]

mod support;

use fox_e2e::Backend;
use foxdb::relation::One;
use foxdb::{Database, ModelExt, Relation};
use support::blog::{Blog, Post, Tag, User, blog};
use support::statement_log::{Logged, StatementLog};

/// The blog plus a0: one more post of ann's, added last but with the lowest id (-1), a draft
/// created at 0. Without ordering by id a database could give any of ann's posts first
/// (PostgreSQL, in the order rows were written, would give a1).
async fn blog_with_a0(engine: Backend) -> Blog {
    let blog = blog(engine).await;
    let insert = format!(
        "INSERT INTO posts (id, author_id, title, published, created_at) VALUES (-1, {}, 'a0', false, 0)",
        blog.ann.id
    );
    blog.db
        .execute(&insert, &[])
        .await
        .unwrap_or_else(|e| panic!("{engine}: {e}"));
    blog
}

/// Each user (by id) with the title of the post `relation` picks for them, and the posts
/// statement that ran.
async fn first_posts(
    db: &Database,
    relation: One<Relation<User, Post>>,
) -> (Vec<(String, Option<String>)>, Logged) {
    let mut log = StatementLog::new(db);
    let users = User::find()
        .order_by(User::ID.asc())
        .with(relation)
        .all(&mut log)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.backend()));
    let picked = users
        .into_iter()
        .map(|(user, post)| (user.name, post.map(|p| p.title)))
        .collect();
    (picked, log.only_query_reading("posts").clone())
}

/// `(name, Some(title))` for ann and bob, `None` for the users without posts.
fn picks(ann: &str, bob: &str) -> Vec<(String, Option<String>)> {
    [
        ("ann", Some(ann)),
        ("bob", Some(bob)),
        ("cid", None),
        ("dee", None),
        ("eve", None),
    ]
    .into_iter()
    .map(|(user, post)| (user.to_string(), post.map(str::to_string)))
    .collect()
}

/// The statement with identifiers quoted the PostgreSQL way, whatever the engine.
fn normalized(sql: &str) -> String {
    sql.replace('`', "\"")
}

#[tokio::test]
async fn one_on_a_has_many_fetches_a_single_post_per_user_in_the_relations_order() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog_with_a0(engine).await;
        for (relation, expected, order) in [
            (
                User::posts().order_by(Post::CREATED_AT.desc()).one(),
                picks("a4", "b1"),
                "the newest",
            ),
            (
                User::posts().order_by(Post::CREATED_AT.asc()).one(),
                picks("a0", "b1"),
                "the oldest",
            ),
            (
                User::posts().filter(Post::PUBLISHED.eq(true)).one(),
                picks("a1", "b1"),
                "without an order: the lowest id",
            ),
            (
                User::posts().order_by(Post::PUBLISHED.desc()).one(),
                picks("a1", "b1"),
                "published first; among a1, a2 and a4, the lowest id",
            ),
            (
                User::posts()
                    .order_by(Post::CREATED_AT.desc())
                    .limit(3)
                    .one(),
                picks("a4", "b1"),
                "a limit before `.one()` still fetches one",
            ),
        ] {
            let (picked, statement) = first_posts(db, relation).await;
            assert_eq!(picked, expected, "{engine}: {order}");
            assert_eq!(
                statement.rows, 2,
                "{engine}: {order}: one row for ann (of five posts) and one for bob, ranked in SQL: {}",
                statement.sql
            );
            assert!(
                normalized(&statement.sql)
                    .contains(r#"ROW_NUMBER() OVER (PARTITION BY "posts"."author_id""#),
                "{engine}: {}",
                statement.sql
            );
        }

        // Ties and an unordered relation rank by the primary key after the relation's order.
        let (picked, statement) = first_posts(db, User::posts().one()).await;
        assert_eq!(picked, picks("a0", "b1"), "{engine}: the lowest id");
        assert!(
            normalized(&statement.sql)
                .contains(r#"PARTITION BY "posts"."author_id" ORDER BY "posts"."id" ASC)"#),
            "{engine}: {}",
            statement.sql
        );
        db.close().await;
    }
}

#[tokio::test]
async fn one_on_a_belongs_to_looks_each_author_up_once_without_ranking() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog(engine).await;
        let mut log = StatementLog::new(db);
        let posts = Post::find()
            .order_by(Post::ID.asc())
            .with(Post::author().one())
            .all(&mut log)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let authors: Vec<(String, Option<String>)> = posts
            .into_iter()
            .map(|(post, author)| (post.title, author.map(|a| a.name)))
            .collect();
        let expected: Vec<(String, Option<String>)> = [
            ("a1", "ann"),
            ("a2", "ann"),
            ("a3", "ann"),
            ("a4", "ann"),
            ("b1", "bob"),
        ]
        .into_iter()
        .map(|(post, author)| (post.to_string(), Some(author.to_string())))
        .collect();
        assert_eq!(authors, expected, "{engine}");
        let users = log.only_query_reading("users");
        assert_eq!(users.rows, 2, "{engine}: ann and bob, once each");
        assert!(
            !users.sql.contains("ROW_NUMBER"),
            "{engine}: an id matches one user at most; nothing to rank: {}",
            users.sql
        );
        db.close().await;
    }
}

#[tokio::test]
async fn one_through_a_join_table_fetches_a_single_tag_per_post() {
    for engine in Backend::ALL {
        let Blog { db, .. } = &blog(engine).await;
        for (tags, a4, order) in [
            (Post::tags().one(), "rust", "the lowest id"),
            (
                Post::tags().order_by(Tag::NAME.desc()).one(),
                "sql",
                "the last name",
            ),
        ] {
            let mut log = StatementLog::new(db);
            let posts: Vec<(Post, Option<Tag>)> = Post::find()
                .order_by(Post::ID.asc())
                .with(tags)
                .all(&mut log)
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"));
            let picked: Vec<(String, Option<String>)> = posts
                .into_iter()
                .map(|(post, tag)| (post.title, tag.map(|t| t.name)))
                .collect();
            let expected: Vec<(String, Option<String>)> = [
                ("a1", None),
                ("a2", Some("sql")),
                ("a3", None),
                ("a4", Some(a4)),
                ("b1", Some("sql")),
            ]
            .into_iter()
            .map(|(post, tag)| (post.to_string(), tag.map(str::to_string)))
            .collect();
            assert_eq!(picked, expected, "{engine}: {order}");
            let statement = log.only_query_reading("tags");
            assert_eq!(
                statement.rows, 3,
                "{engine}: {order}: one tag each for a2, a4 (of two) and b1: {}",
                statement.sql
            );
        }
        db.close().await;
    }
}

#[tokio::test]
async fn lazy_loading_with_a_limit_picks_what_eager_loading_picks() {
    for engine in Backend::ALL {
        let blog = blog_with_a0(engine).await;
        let db = &blog.db;
        for relation in [
            User::posts().limit(2),
            User::posts().order_by(Post::PUBLISHED.desc()).limit(2),
        ] {
            let lazy: Vec<String> = relation
                .of(&blog.ann)
                .all(db)
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"))
                .into_iter()
                .map(|post| post.title)
                .collect();
            let eager: Vec<String> = User::find()
                .filter(User::ID.eq(blog.ann.id))
                .with(relation)
                .all(db)
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"))
                .into_iter()
                .flat_map(|(_, posts)| posts.into_iter().map(|post| post.title))
                .collect();
            assert_eq!(lazy, eager, "{engine}");
            assert_eq!(lazy.len(), 2, "{engine}");
        }
    }
}
