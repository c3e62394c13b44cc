//! Partial updates with the `<Model>Changes` struct `#[derive(Model)]` writes: `db.patch` and
//! `Update::changes`, with and without hooks, on PostgreSQL, MariaDB and SQLite.

mod support;

use fox_e2e::Backend;
use foxdb::{Changes, ModelExt};
use support::blog::{Post, PostChanges, User, UserChanges, blog, names};

#[tokio::test]
async fn patch_writes_only_the_given_columns_and_returns_the_stored_row() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        let db = &blog.db;
        let bob = &blog.bob;

        // A column set, a nullable column set to NULL, the others left alone.
        let changes = UserChanges {
            name: Some("robert".into()),
            manager_id: Some(None),
        };
        let stored = db
            .patch(bob, &changes)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"))
            .expect("bob's row exists");
        assert_eq!(
            (stored.id, stored.name.as_str(), stored.manager_id),
            (bob.id, "robert", None),
            "{engine}"
        );
        let mut in_memory = bob.clone();
        changes.apply_to(&mut in_memory);
        assert_eq!(in_memory, stored, "{engine}: apply_to matches the database");

        // Only the title changes: the stale fields of the model passed in are not written.
        let mut stale = User::find()
            .filter(User::NAME.eq("robert"))
            .one(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"))
            .expect("robert");
        stale.name = "not written".into();
        let only_manager = UserChanges {
            manager_id: Some(Some(blog.ann.id)),
            ..UserChanges::default()
        };
        let stored = db
            .patch(&stale, &only_manager)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"))
            .expect("the row exists");
        assert_eq!(
            (stored.name.as_str(), stored.manager_id),
            ("robert", Some(blog.ann.id)),
            "{engine}"
        );

        // No change: nothing written, the stored row comes back.
        let unchanged = db
            .patch(&stale, &UserChanges::default())
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(unchanged, Some(stored.clone()), "{engine}: empty changes");

        // No row with that key.
        let mut gone = stored.clone();
        gone.id = -7;
        let missing = db
            .patch(&gone, &changes)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(missing, None, "{engine}: no such row");

        // In a transaction, rolled back with it.
        let result: foxdb::Result<()> = db
            .transaction(async |tx| {
                let renamed = tx
                    .patch(
                        &stored,
                        &UserChanges {
                            name: Some("in a transaction".into()),
                            ..Default::default()
                        },
                    )
                    .await?;
                assert_eq!(renamed.map(|u| u.name), Some("in a transaction".into()));
                Err(foxdb::Error::NotFound {
                    table: "rolled back on purpose".into(),
                })
            })
            .await;
        assert!(result.is_err(), "{engine}");
        let users = User::find()
            .order_by(User::NAME.asc())
            .all(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(
            names(&users),
            ["ann", "cid", "dee", "eve", "robert"],
            "{engine}: the transaction's patch was rolled back"
        );
    }
}

#[tokio::test]
async fn update_takes_changes_for_every_matching_row() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        let db = &blog.db;
        let changes = PostChanges {
            published: Some(false),
            created_at: Some(9),
            ..PostChanges::default()
        };
        assert_eq!(
            format!("{changes:?}"),
            r#"PostChanges { columns: ["published", "created_at"] }"#,
            "Debug names the columns, never the values"
        );
        let changed = Post::update()
            .changes(&changes)
            .filter(Post::AUTHOR_ID.eq(blog.ann.id))
            .exec(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(changed, 4, "{engine}");
        let drafts = Post::find()
            .filter(Post::PUBLISHED.eq(false).and(Post::CREATED_AT.eq(9)))
            .count(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(drafts, 4, "{engine}: ann's posts only");
        let untouched = Post::find()
            .filter(Post::TITLE.eq("b1"))
            .one(db)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"))
            .expect("b1");
        assert_eq!((untouched.published, untouched.created_at), (true, 1));
    }
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "accounts", hooks, changes = "AccountPatch")]
struct Account {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    email: String,
    logins: i32,
}

impl foxdb::Hooks for Account {
    /// Emails are stored in lower case, however they arrive.
    async fn before_update(&mut self, _tx: &mut foxdb::Transaction) -> foxdb::Result<()> {
        self.email = self.email.to_lowercase();
        Ok(())
    }
}

/// `changes = "AccountPatch"` names the partial update type (for a model whose
/// `<Model>Changes` name is taken).
#[tokio::test]
async fn patch_runs_the_update_hooks() {
    for engine in Backend::ALL {
        let (_test, db) = support::database_with_table(
            engine,
            "accounts",
            "email varchar(100) NOT NULL, logins integer NOT NULL",
        )
        .await;
        let account = db
            .insert(&Account {
                id: 0,
                email: "ann@example.com".into(),
                logins: 3,
            })
            .await
            .expect("inserts");
        let stored = db
            .patch(
                &account,
                &AccountPatch {
                    email: Some("Ann@Example.COM".into()),
                    ..AccountPatch::default()
                },
            )
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"))
            .expect("the row");
        assert_eq!(
            (stored.email.as_str(), stored.logins),
            ("ann@example.com", 3),
            "{engine}: before_update ran on the patched row"
        );
    }
}
