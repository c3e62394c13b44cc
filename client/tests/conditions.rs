//! Conditions that look at other rows — `in_subquery` (with its filter, grouping, order and
//! limit), relation `exists` along every relation kind, `IS NOT NULL` — against real
//! PostgreSQL, MariaDB and SQLite databases.

mod support;

use fox_e2e::Backend;
use foxdb::{ModelExt, count};
use support::blog::{Post, Tag, User, blog, names, owned};

#[tokio::test]
async fn in_subquery_takes_the_whole_subquery_on_every_engine() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        let db = &blog.db;
        let by_name = |condition| async move {
            let users = User::find()
                .filter(condition)
                .order_by(User::NAME.asc())
                .all(db)
                .await
                .unwrap_or_else(|e| panic!("{engine}: {e}"));
            names(&users)
        };

        let authors = Post::find()
            .filter(Post::PUBLISHED.eq(true))
            .select((Post::AUTHOR_ID,));
        assert_eq!(
            by_name(User::ID.in_subquery(authors)).await,
            owned(&["ann", "bob"]),
            "{engine}: filtered"
        );

        let prolific = Post::find()
            .filter(Post::PUBLISHED.eq(true))
            .group_by(Post::AUTHOR_ID)
            .having(count().gt(1))
            .select((Post::AUTHOR_ID,));
        assert_eq!(
            by_name(User::ID.in_subquery(prolific)).await,
            owned(&["ann"]),
            "{engine}: grouped with HAVING"
        );

        // The last title alphabetically is bob's b1: the limit keeps ann's posts out.
        let last_title = Post::find()
            .order_by(Post::TITLE.desc())
            .limit(1)
            .select((Post::AUTHOR_ID,));
        assert_eq!(
            by_name(User::ID.in_subquery(last_title)).await,
            owned(&["bob"]),
            "{engine}: ordered with a limit"
        );

        // Skipping b1 and a4 leaves a3, a2, a1: ann's.
        let after_two = Post::find()
            .order_by(Post::TITLE.desc())
            .limit(3)
            .offset(2)
            .select((Post::AUTHOR_ID,));
        assert_eq!(
            by_name(User::ID.in_subquery(after_two)).await,
            owned(&["ann"]),
            "{engine}: ordered with an offset"
        );

        let not_authors = User::ID
            .in_subquery(Post::find().select((Post::AUTHOR_ID,)))
            .not();
        assert_eq!(
            by_name(not_authors).await,
            owned(&["cid", "dee", "eve"]),
            "{engine}: NOT IN"
        );
    }
}

#[tokio::test]
async fn relation_exists_along_every_kind_on_every_engine() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        let db = &blog.db;

        // has-many, filtered
        let with_drafts = User::find()
            .filter(User::posts().filter(Post::PUBLISHED.eq(false)).exists())
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(names(&with_drafts), ["ann"], "{engine}: has-many");

        // has-many, negated
        let without_posts = User::find()
            .filter(User::posts().exists().not())
            .order_by(User::NAME.asc())
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            names(&without_posts),
            ["cid", "dee", "eve"],
            "{engine}: NOT EXISTS"
        );

        // belongs-to: posts whose author reports to someone
        let managed = Post::find()
            .filter(
                Post::author()
                    .filter(User::MANAGER_ID.is_not_null())
                    .exists(),
            )
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let titles: Vec<&str> = managed.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["b1"], "{engine}: belongs-to");

        // many-to-many through the join table
        let about_rust = Post::find()
            .filter(Post::tags().filter(Tag::NAME.eq("rust")).exists())
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        let titles: Vec<&str> = about_rust.iter().map(|p| p.title.as_str()).collect();
        assert_eq!(titles, ["a4"], "{engine}: many-to-many");

        // self-referencing has-many combined with a column condition
        let managers = User::find()
            .filter(User::reports().exists().and(User::MANAGER_ID.is_not_null()))
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(names(&managers), ["bob"], "{engine}: self-relation");

        let managed_count = User::find()
            .filter(User::MANAGER_ID.is_not_null())
            .count(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(managed_count, 3, "{engine}: IS NOT NULL");
    }
}
