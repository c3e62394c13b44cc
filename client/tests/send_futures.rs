//! Every public async operation of `foxdb` runs on a spawned task, through the pool and inside
//! a transaction, on PostgreSQL, MariaDB and SQLite. `tokio::spawn` takes only `Send`
//! futures, so this file compiles only while the operations are `Send`; each test also checks
//! what the operation returned, so a service gets the same answers on any task.

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, Error, Executor, Isolation, ModelExt, Relation, Result, count};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "users")]
struct User {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
    team: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "posts")]
struct Post {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    author_id: i64,
    title: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "comments")]
struct Comment {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    post_id: i64,
    body: String,
}

/// A model with hooks: names are stored in lower case, and "keep" cannot be deleted.
#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "members", hooks)]
struct Member {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
}

impl foxdb::Hooks for Member {
    async fn before_insert(&mut self, _tx: &mut foxdb::Transaction) -> Result<()> {
        self.name = self.name.to_lowercase();
        Ok(())
    }

    async fn before_update(&mut self, _tx: &mut foxdb::Transaction) -> Result<()> {
        self.name = self.name.to_lowercase();
        Ok(())
    }

    async fn before_delete(&self, _tx: &mut foxdb::Transaction) -> Result<()> {
        if self.name == "keep" {
            return Err(Error::NotFound {
                table: "members: refused on purpose".into(),
            });
        }
        Ok(())
    }
}

/// A new user; the database fills the id, and the team when none is given.
#[derive(Clone, Debug, Default)]
struct NewUser {
    name: String,
    team: Option<String>,
}

impl foxdb::NewRow for NewUser {
    type Model = User;

    fn values(&self) -> Vec<(&'static str, foxdb::Value)> {
        let mut values = vec![("name", foxdb::Value::Text(self.name.clone()))];
        if let Some(team) = &self.team {
            values.push(("team", foxdb::Value::Text(team.clone())));
        }
        values
    }
}

#[derive(foxdb::FromRow, Debug, PartialEq)]
struct TeamSize {
    team: String,
    size: i64,
}

impl User {
    fn posts() -> Relation<User, Post> {
        Relation::has_many(User::ID, Post::AUTHOR_ID)
    }
}

impl Post {
    fn author() -> Relation<Post, User> {
        Relation::belongs_to(Post::AUTHOR_ID, User::ID)
    }
    fn comments() -> Relation<Post, Comment> {
        Relation::has_many(Post::ID, Comment::POST_ID)
    }
}

fn user(name: &str, team: &str) -> User {
    User {
        id: 0,
        name: name.into(),
        team: team.into(),
    }
}

fn member(name: &str) -> Member {
    Member {
        id: 0,
        name: name.into(),
    }
}

/// Runs `work` with a clone of `db` on a spawned task, which takes only `Send` futures.
async fn on_task<T, W>(db: &Database, work: impl FnOnce(Database) -> W) -> T
where
    T: Send + 'static,
    W: Future<Output = T> + Send + 'static,
{
    tokio::spawn(work(db.clone()))
        .await
        .expect("the task runs to its end")
}

/// Runs `$operation` on a spawned task twice: with `$executor` the pool (`&Database`), then
/// with `$executor` a transaction (`&mut Transaction`) that commits when it succeeds. Gives
/// both results.
macro_rules! pool_and_transaction {
    ($db:expr, |$executor:ident| $operation:expr) => {
        on_task($db, |db| async move {
            let through_pool = {
                let $executor = &db;
                $operation.await
            };
            let in_transaction = db
                .transaction(async |tx| {
                    let $executor = &mut *tx;
                    $operation.await
                })
                .await;
            (through_pool, in_transaction)
        })
    };
}

/// Both results, or the first error.
fn both<T>((pool, transaction): (Result<T>, Result<T>)) -> Result<(T, T)> {
    Ok((pool?, transaction?))
}

/// The result a read gives both through the pool and in a transaction: they must agree.
#[track_caller]
fn agreed<T: PartialEq + std::fmt::Debug>(results: (Result<T>, Result<T>)) -> Result<T> {
    let (pool, transaction) = both(results)?;
    assert_eq!(
        pool, transaction,
        "the pool and a transaction read the same"
    );
    Ok(pool)
}

/// A database with users ann and bob (team a) and cid (team b); posts a1 and a2 by ann, b1 by
/// bob; comments x and y on a1, z on b1; no members.
struct Blog {
    test: TestDatabase,
    engine: Backend,
    db: Database,
    ann: User,
}

async fn blog(engine: Backend) -> Blog {
    let test = TestDatabase::create(engine).await;
    let db = Database::connect(test.url()).await.expect("connects");
    let (id, text) = match engine {
        Backend::Postgres => (
            "bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "varchar(100)",
        ),
        Backend::MySql => ("bigint AUTO_INCREMENT PRIMARY KEY", "varchar(100)"),
        Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT"),
    };
    for ddl in [
        format!(
            "CREATE TABLE users (id {id}, name {text} NOT NULL, team {text} NOT NULL DEFAULT 'none')"
        ),
        format!("CREATE TABLE posts (id {id}, author_id bigint NOT NULL, title {text} NOT NULL)"),
        format!("CREATE TABLE comments (id {id}, post_id bigint NOT NULL, body {text} NOT NULL)"),
        format!("CREATE TABLE members (id {id}, name {text} NOT NULL)"),
    ] {
        db.execute(&ddl, &[])
            .await
            .unwrap_or_else(|e| panic!("{engine}: {ddl}: {e}"));
    }
    let ann = db.insert(&user("ann", "a")).await.expect("inserts ann");
    let bob = db.insert(&user("bob", "a")).await.expect("inserts bob");
    db.insert(&user("cid", "b")).await.expect("inserts cid");
    let mut posts = Vec::new();
    for (author, title) in [(&ann, "a1"), (&ann, "a2"), (&bob, "b1")] {
        let post = Post {
            id: 0,
            author_id: author.id,
            title: title.into(),
        };
        posts.push(db.insert(&post).await.expect("inserts a post"));
    }
    for (post, body) in [(&posts[0], "x"), (&posts[0], "y"), (&posts[2], "z")] {
        let comment = Comment {
            id: 0,
            post_id: post.id,
            body: body.into(),
        };
        db.insert(&comment).await.expect("inserts a comment");
    }
    Blog {
        test,
        engine,
        db,
        ann,
    }
}

fn text(value: &str) -> foxdb::Value {
    foxdb::Value::Text(value.into())
}

fn names(users: &[User]) -> Vec<&str> {
    users.iter().map(|u| u.name.as_str()).collect()
}

fn titles(posts: &[Post]) -> Vec<&str> {
    posts.iter().map(|p| p.title.as_str()).collect()
}

fn bodies(comments: &[Comment]) -> Vec<&str> {
    comments.iter().map(|c| c.body.as_str()).collect()
}

fn pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[tokio::test]
async fn queries_run_on_spawned_tasks() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        queries(&blog)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        blog.db.close().await;
    }
}

async fn queries(blog: &Blog) -> Result<()> {
    let (db, engine) = (&blog.db, blog.engine);
    let all =
        agreed(pool_and_transaction!(db, |e| User::find().order_by(User::ID.asc()).all(e)).await)?;
    assert_eq!(names(&all), ["ann", "bob", "cid"], "{engine}: all");

    let one = agreed(
        pool_and_transaction!(db, |e| User::find().filter(User::NAME.eq("bob")).one(e)).await,
    )?;
    assert_eq!(one.map(|u| u.name), Some("bob".into()), "{engine}: one");
    let one = agreed(
        pool_and_transaction!(db, |e| User::find()
            .filter(User::TEAM.eq("b"))
            .one_required(e))
        .await,
    )?;
    assert_eq!(one.name, "cid", "{engine}: one_required");

    let counted = agreed(pool_and_transaction!(db, |e| User::find().count(e)).await)?;
    assert_eq!(counted, 3, "{engine}: count");
    let found = agreed(
        pool_and_transaction!(db, |e| User::find().filter(User::TEAM.eq("b")).exists(e)).await,
    )?;
    assert!(found, "{engine}: exists");

    let (plan, join_plan) = on_task(db, |db| async move {
        let plan = User::find().filter(User::ID.gt(1)).explain(&db).await?;
        let join_plan = Post::find().join(Post::author()).explain(&db).await?;
        Ok::<_, Error>((plan, join_plan))
    })
    .await?;
    assert!(
        !plan.is_empty() && !join_plan.is_empty(),
        "{engine}: explain"
    );

    let tuples = agreed(
        pool_and_transaction!(db, |e| User::find()
            .order_by(User::ID.asc())
            .select((User::NAME, User::TEAM))
            .all(e))
        .await,
    )?;
    assert_eq!(
        tuples,
        pairs(&[("ann", "a"), ("bob", "a"), ("cid", "b")]),
        "{engine}: select into tuples"
    );
    let tuple = agreed(
        pool_and_transaction!(db, |e| User::find()
            .filter(User::NAME.eq("ann"))
            .select((User::TEAM,))
            .one(e))
        .await,
    )?;
    assert_eq!(
        tuple,
        Some(("a".to_string(),)),
        "{engine}: select one tuple"
    );

    let joined = agreed(
        pool_and_transaction!(db, |e| Post::find()
            .join(Post::author())
            .order_by(Post::ID.asc())
            .select((Post::TITLE, User::NAME))
            .all(e))
        .await,
    )?;
    assert_eq!(
        joined,
        pairs(&[("a1", "ann"), ("a2", "ann"), ("b1", "bob")]),
        "{engine}: join into tuples"
    );
    let joined = agreed(
        pool_and_transaction!(db, |e| Post::find()
            .join(Post::author())
            .filter(User::NAME.eq("ann"))
            .order_by(Post::ID.asc())
            .all(e))
        .await,
    )?;
    assert_eq!(titles(&joined), ["a1", "a2"], "{engine}: join rows");
    let first = agreed(
        pool_and_transaction!(db, |e| Post::find()
            .join(Post::author())
            .filter(User::NAME.eq("bob"))
            .one(e))
        .await,
    )?;
    assert_eq!(
        first.map(|p| p.title),
        Some("b1".into()),
        "{engine}: join one"
    );
    let counted = agreed(
        pool_and_transaction!(db, |e| Post::find()
            .join(Post::author())
            .filter(User::TEAM.eq("a"))
            .count(e))
        .await,
    )?;
    assert_eq!(counted, 3, "{engine}: join count");
    let found = agreed(
        pool_and_transaction!(db, |e| Post::find()
            .join(Post::author())
            .filter(User::TEAM.eq("b"))
            .exists(e))
        .await,
    )?;
    assert!(!found, "{engine}: join exists");

    let groups = agreed(
        pool_and_transaction!(db, |e| User::find()
            .group_by(User::TEAM)
            .order_by(User::TEAM.asc())
            .select((User::TEAM, count()))
            .all(e))
        .await,
    )?;
    assert_eq!(
        groups,
        [("a".to_string(), 2), ("b".to_string(), 1)],
        "{engine}: group by"
    );
    let groups = agreed(
        pool_and_transaction!(db, |e| Post::find()
            .join(Post::author())
            .group_by(User::NAME)
            .having(count::<Post>().gt(1))
            .select((User::NAME, count::<Post>()))
            .all(e))
        .await,
    )?;
    assert_eq!(
        groups,
        [("ann".to_string(), 2)],
        "{engine}: group by over a join"
    );
    Ok(())
}

#[tokio::test]
async fn writes_run_on_spawned_tasks() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        writes(&blog)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        builder_writes(&blog)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        blog.db.close().await;
    }
}

/// The members named `name`, read on a spawned task.
async fn members_named(db: &Database, name: &'static str) -> Result<Vec<Member>> {
    on_task(db, |db| async move {
        Member::find()
            .filter(Member::NAME.eq(name))
            .order_by(Member::ID.asc())
            .all(&db)
            .await
    })
    .await
}

async fn writes(blog: &Blog) -> Result<()> {
    let (db, engine) = (&blog.db, blog.engine);
    let (pool, tx) = both(pool_and_transaction!(db, |e| e.insert(&user("dan", "c"))).await)?;
    assert!(
        pool.id > 0 && tx.id > pool.id,
        "{engine}: insert returns generated keys"
    );
    assert_eq!(
        (pool.name.as_str(), tx.name.as_str()),
        ("dan", "dan"),
        "{engine}: insert"
    );

    let (pool, tx) = both(pool_and_transaction!(db, |e| e.insert(&member("Ada"))).await)?;
    assert_eq!(
        (pool.name.as_str(), tx.name.as_str()),
        ("ada", "ada"),
        "{engine}: insert runs hooks"
    );

    let inserted = both(
        pool_and_transaction!(db, |e| e.insert_many(&[user("eve", "c"), user("fay", "c")])).await,
    )?;
    assert_eq!(inserted, (2, 2), "{engine}: insert_many");
    let inserted =
        both(pool_and_transaction!(db, |e| e.insert_many(&[member("BO"), member("Keep")])).await)?;
    assert_eq!(inserted, (2, 2), "{engine}: insert_many with hooks");
    assert_eq!(
        members_named(db, "bo").await?.len(),
        2,
        "{engine}: insert_many ran the hooks"
    );

    let (pool, tx) = both(
        pool_and_transaction!(db, |e| e.create(&NewUser {
            name: "gil".into(),
            team: None,
        }))
        .await,
    )?;
    assert_eq!(
        (pool.team.as_str(), tx.team.as_str()),
        ("none", "none"),
        "{engine}: create leaves defaults to the database"
    );
    assert!(pool.id > 0 && tx.id > pool.id, "{engine}: create");

    let renamed = User {
        name: "ann2".into(),
        ..blog.ann.clone()
    };
    let upserted = renamed.clone();
    let (pool, tx) = both(pool_and_transaction!(db, |e| e.upsert(&upserted)).await)?;
    assert_eq!(
        (&pool, &tx),
        (&renamed, &renamed),
        "{engine}: upsert replaces by key"
    );
    let ada = members_named(db, "ada").await?.remove(0);
    let shouting = Member {
        name: "ADA".into(),
        ..ada.clone()
    };
    let (pool, tx) = both(pool_and_transaction!(db, |e| e.upsert(&shouting)).await)?;
    assert_eq!(
        (pool, tx),
        (ada.clone(), ada.clone()),
        "{engine}: upsert runs hooks"
    );

    let saved = User {
        team: "z".into(),
        ..renamed
    };
    let changed = both(pool_and_transaction!(db, |e| e.save(&saved)).await)?;
    assert_eq!(changed, (true, true), "{engine}: save");
    let renamed_member = Member {
        name: "ADA LOVELACE".into(),
        ..ada.clone()
    };
    let changed = both(pool_and_transaction!(db, |e| e.save(&renamed_member)).await)?;
    assert_eq!(changed, (true, true), "{engine}: save with hooks");
    assert_eq!(
        members_named(db, "ada lovelace").await?.len(),
        1,
        "{engine}: save ran the hooks"
    );

    let dan = on_task(db, |db| async move {
        User::find()
            .filter(User::NAME.eq("dan"))
            .one_required(&db)
            .await
    })
    .await?;
    let removed = both(pool_and_transaction!(db, |e| e.remove(&dan)).await)?;
    assert_eq!(
        removed,
        (true, false),
        "{engine}: remove (the second finds it gone)"
    );
    let bo = members_named(db, "bo").await?.remove(0);
    let removed = both(pool_and_transaction!(db, |e| e.remove(&bo)).await)?;
    assert_eq!(removed, (true, false), "{engine}: remove with hooks");
    let keep = members_named(db, "keep").await?.remove(0);
    let (pool, tx) = pool_and_transaction!(db, |e| e.remove(&keep)).await;
    assert!(
        pool.is_err() && tx.is_err(),
        "{engine}: remove ran before_delete"
    );
    Ok(())
}

async fn builder_writes(blog: &Blog) -> Result<()> {
    let (db, engine) = (&blog.db, blog.engine);
    let changed = both(
        pool_and_transaction!(db, |e| User::update()
            .set(User::TEAM, "c2")
            .filter(User::TEAM.eq("c"))
            .exec(e))
        .await,
    )?;
    assert_eq!(
        changed,
        (5, 0),
        "{engine}: update (dan, both eves and both fays)"
    );

    let changed = both(
        pool_and_transaction!(db, |e| Member::update()
            .set(Member::NAME, "BO")
            .filter(Member::NAME.eq("bo"))
            .exec(e))
        .await,
    )?;
    assert_eq!(changed, (1, 1), "{engine}: update with hooks");
    assert_eq!(
        members_named(db, "bo").await?.len(),
        1,
        "{engine}: the hooks lowered the name"
    );
    let changed = both(
        pool_and_transaction!(db, |e| Member::update()
            .set(Member::NAME, "BO")
            .filter(Member::NAME.eq("bo"))
            .without_hooks()
            .exec(e))
        .await,
    )?;
    assert_eq!(changed, (1, 0), "{engine}: update without hooks");
    assert_eq!(
        members_named(db, "BO").await?.len(),
        1,
        "{engine}: stored as set"
    );

    let returned = pool_and_transaction!(db, |e| User::update()
        .set(User::TEAM, "c3")
        .filter(User::NAME.eq("eve"))
        .returning(e))
    .await;
    let with_hooks = pool_and_transaction!(db, |e| Member::update()
        .set(Member::NAME, "Cy")
        .filter(Member::NAME.eq("BO"))
        .returning(e))
    .await;
    let deleted = pool_and_transaction!(db, |e| User::delete()
        .filter(User::TEAM.eq("c3"))
        .returning(e))
    .await;
    let deleted_with_hooks = pool_and_transaction!(db, |e| Member::delete()
        .filter(Member::NAME.eq("cy"))
        .returning(e))
    .await;
    if engine == Backend::MySql {
        for refused in [
            returned.0.map(|_| ()),
            with_hooks.0.map(|_| ()),
            deleted.0.map(|_| ()),
            deleted_with_hooks.0.map(|_| ()),
        ] {
            assert!(
                matches!(refused, Err(Error::Unsupported { .. })),
                "{engine}: no RETURNING"
            );
        }
    } else {
        let (pool, tx) = both(returned)?;
        assert_eq!((pool.len(), tx.len()), (2, 2), "{engine}: update returning");
        let (pool, tx) = both(with_hooks)?;
        assert_eq!(
            (names_of(&pool), names_of(&tx)),
            (vec!["cy"], vec![]),
            "{engine}: update returning with hooks"
        );
        let (pool, tx) = both(deleted)?;
        assert_eq!((pool.len(), tx.len()), (2, 0), "{engine}: delete returning");
        let (pool, tx) = both(deleted_with_hooks)?;
        assert_eq!(
            (names_of(&pool), names_of(&tx)),
            (vec!["cy"], vec![]),
            "{engine}: delete returning with hooks"
        );
    }

    let (pool, tx) = pool_and_transaction!(db, |e| Member::delete()
        .filter(Member::NAME.eq("keep"))
        .exec(e))
    .await;
    assert!(
        pool.is_err() && tx.is_err(),
        "{engine}: delete ran before_delete"
    );
    let deleted = both(
        pool_and_transaction!(db, |e| Member::delete()
            .filter(Member::NAME.eq("keep"))
            .without_hooks()
            .exec(e))
        .await,
    )?;
    assert_eq!(
        deleted,
        (2, 0),
        "{engine}: delete without hooks (both keeps)"
    );
    let deleted = both(
        pool_and_transaction!(db, |e| Member::delete()
            .filter(Member::NAME.eq("ada lovelace"))
            .exec(e))
        .await,
    )?;
    assert_eq!(deleted, (1, 0), "{engine}: delete with hooks");
    let deleted = both(
        pool_and_transaction!(db, |e| Post::delete().filter(Post::TITLE.eq("a2")).exec(e)).await,
    )?;
    assert_eq!(deleted, (1, 0), "{engine}: delete");
    Ok(())
}

fn names_of(members: &[Member]) -> Vec<&str> {
    members.iter().map(|m| m.name.as_str()).collect()
}

#[tokio::test]
async fn relations_run_on_spawned_tasks() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        relations(&blog)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        blog.db.close().await;
    }
}

async fn relations(blog: &Blog) -> Result<()> {
    let (db, engine) = (&blog.db, blog.engine);
    let loaded = agreed(
        pool_and_transaction!(db, |e| User::find()
            .order_by(User::ID.asc())
            .with(User::posts().order_by(Post::ID.asc()))
            .all(e))
        .await,
    )?;
    let per_user: Vec<_> = loaded
        .iter()
        .map(|(user, posts)| (user.name.as_str(), titles(posts)))
        .collect();
    assert_eq!(
        per_user,
        [
            ("ann", vec!["a1", "a2"]),
            ("bob", vec!["b1"]),
            ("cid", vec![])
        ],
        "{engine}: eager loading"
    );

    let loaded = agreed(
        pool_and_transaction!(db, |e| User::find()
            .order_by(User::ID.asc())
            .with(
                User::posts()
                    .order_by(Post::ID.asc())
                    .with(Post::comments().order_by(Comment::ID.asc()))
            )
            .all(e))
        .await,
    )?;
    let per_post: Vec<_> = loaded
        .iter()
        .flat_map(|(_, posts)| posts)
        .map(|(post, comments)| (post.title.as_str(), bodies(comments)))
        .collect();
    assert_eq!(
        per_post,
        [("a1", vec!["x", "y"]), ("a2", vec![]), ("b1", vec!["z"])],
        "{engine}: nested eager loading"
    );
    assert_eq!(
        loaded
            .iter()
            .map(|(_, posts)| posts.len())
            .collect::<Vec<_>>(),
        [2, 1, 0],
        "{engine}: nested eager loading"
    );

    let loaded = agreed(
        pool_and_transaction!(db, |e| Post::find()
            .order_by(Post::ID.asc())
            .with(Post::author().one())
            .all(e))
        .await,
    )?;
    let authors: Vec<_> = loaded
        .iter()
        .map(|(post, author)| {
            (
                post.title.as_str(),
                author.as_ref().map(|a| a.name.as_str()),
            )
        })
        .collect();
    assert_eq!(
        authors,
        [
            ("a1", Some("ann")),
            ("a2", Some("ann")),
            ("b1", Some("bob"))
        ],
        "{engine}: to-one"
    );

    let users = on_task(db, |db| async move {
        User::find().order_by(User::ID.asc()).all(&db).await
    })
    .await?;
    let parents = users.clone();
    let loaded = agreed(
        pool_and_transaction!(db, |e| User::posts()
            .order_by(Post::ID.asc())
            .limit(1)
            .load_for(&parents, e))
        .await,
    )?;
    let firsts: Vec<_> = loaded.iter().map(|posts| titles(posts)).collect();
    assert_eq!(
        firsts,
        [vec!["a1"], vec!["b1"], vec![]],
        "{engine}: load_for"
    );

    let posts = on_task(db, |db| async move {
        Post::find().order_by(Post::ID.asc()).all(&db).await
    })
    .await?;
    let loaded = agreed(
        pool_and_transaction!(db, |e| Post::author()
            .one()
            .with(User::posts().order_by(Post::ID.desc()).limit(1))
            .load_for(&posts, e))
        .await,
    )?;
    let latest: Vec<_> = loaded
        .iter()
        .flatten()
        .map(|(author, posts)| (author.name.as_str(), titles(posts)))
        .collect();
    assert_eq!(
        latest,
        [
            ("ann", vec!["a2"]),
            ("ann", vec!["a2"]),
            ("bob", vec!["b1"])
        ],
        "{engine}: nested load_for"
    );

    let ann = blog.ann.clone();
    let lazy = agreed(
        pool_and_transaction!(db, |e| User::posts()
            .of(&ann)
            .order_by(Post::ID.asc())
            .all(e))
        .await,
    )?;
    assert_eq!(titles(&lazy), ["a1", "a2"], "{engine}: lazy");
    assert_eq!(users[0], blog.ann, "{engine}");
    Ok(())
}

#[tokio::test]
async fn raw_sql_runs_on_spawned_tasks() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        raw_sql(&blog)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        blog.db.close().await;
    }
}

async fn raw_sql(blog: &Blog) -> Result<()> {
    let (db, engine) = (&blog.db, blog.engine);
    let [first, second] = if engine == Backend::Postgres {
        ["$1", "$2"]
    } else {
        ["?", "?"]
    };
    let sizes = format!(
        "SELECT team, COUNT(*) AS size FROM users WHERE name <> {first} GROUP BY team ORDER BY team"
    );
    let by_team = format!("SELECT name FROM users WHERE team = {first}");
    let move_team = format!("UPDATE users SET team = {first} WHERE team = {second}");
    let (sized, named, moved, plan) = on_task(db, |db| async move {
        let sized = db.raw::<TeamSize>(&sizes, &[text("cid")]).await?;
        let rows = db.fetch_all(&by_team, &[text("b")]).await?;
        let named = rows
            .iter()
            .map(|row| row.get::<String>("name"))
            .collect::<Result<Vec<_>>>()?;
        let moved = db.execute(&move_team, &[text("a2"), text("a")]).await?;
        let plan = db.explain(&by_team, &[text("b")]).await?;
        Ok::<_, Error>((sized, named, moved, plan))
    })
    .await?;
    assert_eq!(
        sized,
        [TeamSize {
            team: "a".into(),
            size: 2
        }],
        "{engine}: raw"
    );
    assert_eq!(named, ["cid"], "{engine}: fetch_all");
    assert_eq!(moved, 2, "{engine}: execute");
    assert!(!plan.is_empty(), "{engine}: explain");

    // A transaction's own statement methods, and the `Executor` trait's on it.
    let by_team = format!("SELECT name FROM users WHERE team = {first}");
    let move_team = format!("UPDATE users SET team = {first} WHERE team = {second}");
    let sizes = format!(
        "SELECT team, COUNT(*) AS size FROM users WHERE name <> {first} GROUP BY team ORDER BY team"
    );
    let (sized_in_transaction, found, moved, moved_back) = on_task(db, |db| async move {
        db.transaction(async |tx| {
            let sized = tx.raw::<TeamSize>(&sizes, &[text("cid")]).await?;
            let found = tx.fetch_all(&by_team, &[text("a2")]).await?.len();
            let moved = tx.execute(&move_team, &[text("a"), text("a2")]).await?;
            let executed =
                Executor::execute(&mut &mut *tx, &move_team, &[text("a2"), text("a")]).await?;
            Ok::<_, Error>((sized, found, moved, executed.rows_affected))
        })
        .await
    })
    .await?;
    assert_eq!(
        sized_in_transaction,
        [TeamSize {
            team: "a2".into(),
            size: 2
        }],
        "{engine}: raw in a transaction"
    );
    assert_eq!(
        (found, moved, moved_back),
        (2, 2, 2),
        "{engine}: Executor on a transaction"
    );
    Ok(())
}

#[tokio::test]
async fn transactions_run_on_spawned_tasks() {
    for engine in Backend::ALL {
        let blog = blog(engine).await;
        transactions(&blog)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        blog.db.close().await;
    }
}

fn undone_on_purpose() -> Error {
    Error::NotFound {
        table: "users: undone on purpose".into(),
    }
}

async fn transactions(blog: &Blog) -> Result<()> {
    let (db, engine) = (&blog.db, blog.engine);
    // The work borrows the task's locals, one of them mutably.
    let (stored, committed) = on_task(db, |db| async move {
        let newcomers = [user("hal", "t"), user("ivy", "t")];
        let mut stored = Vec::new();
        db.transaction(async |tx| {
            for newcomer in &newcomers {
                stored.push(tx.insert(newcomer).await?.name);
            }
            Ok::<_, Error>(())
        })
        .await?;
        let committed = User::find().filter(User::TEAM.eq("t")).count(&db).await?;
        Ok::<_, Error>((stored, committed))
    })
    .await?;
    assert_eq!(
        (stored.as_slice(), committed),
        (&["hal".to_string(), "ivy".to_string()][..], 2),
        "{engine}: commit"
    );

    let (outcome, after) = on_task(db, |db| async move {
        let outcome = db
            .transaction(async |tx| {
                tx.insert(&user("jon", "t")).await?;
                Err::<(), _>(undone_on_purpose())
            })
            .await;
        let after = User::find().filter(User::TEAM.eq("t")).count(&db).await?;
        Ok::<_, Error>((outcome, after))
    })
    .await?;
    assert!(outcome.is_err(), "{engine}: the work's error");
    assert_eq!(after, 2, "{engine}: rolled back");

    let kept = on_task(db, |db| async move {
        db.transaction(async |tx| {
            tx.insert(&user("kim", "s")).await?;
            tx.savepoint(async |tx| {
                tx.insert(&user("lea", "s")).await?;
                let inner = tx
                    .savepoint(async |tx| {
                        tx.insert(&user("max", "s")).await?;
                        Err::<(), _>(undone_on_purpose())
                    })
                    .await;
                assert!(inner.is_err(), "the inner savepoint fails");
                Ok::<_, Error>(())
            })
            .await?;
            User::find()
                .filter(User::TEAM.eq("s"))
                .order_by(User::ID.asc())
                .all(&mut *tx)
                .await
        })
        .await
    })
    .await?;
    assert_eq!(names(&kept), ["kim", "lea"], "{engine}: nested savepoints");

    let counted = on_task(db, |db| async move {
        db.transaction_with(Some(Isolation::Serializable), async |tx| {
            User::find().count(&mut *tx).await
        })
        .await
    })
    .await?;
    assert_eq!(counted, 7, "{engine}: transaction_with");

    // A second handle connects, rolls back and closes on a task.
    let url = blog.test.url().to_string();
    let after = tokio::spawn(async move {
        let other = Database::connect(&url).await?;
        let mut transaction = other.begin(None).await?;
        transaction.insert(&user("nia", "v")).await?;
        transaction.rollback().await?;
        let after = User::find()
            .filter(User::TEAM.eq("v"))
            .count(&other)
            .await?;
        other.close().await;
        Ok::<_, Error>(after)
    })
    .await
    .expect("the task runs to its end")?;
    assert_eq!(after, 0, "{engine}: connect, rollback and close");

    // A transaction begun here, carried into a task and committed there.
    let transaction = db.begin(None).await?;
    let (before, stored) = tokio::spawn(async move {
        let mut transaction = transaction;
        let before = User::find().count(&mut transaction).await?;
        let stored = transaction.insert(&user("ned", "u")).await?;
        transaction.commit().await?;
        Ok::<_, Error>((before, stored))
    })
    .await
    .expect("the task runs to its end")?;
    assert_eq!(
        (before, stored.name.as_str()),
        (7, "ned"),
        "{engine}: begin and commit"
    );

    // The first attempt fails as a serialization failure would (PostgreSQL raises one on
    // demand); the retry commits once.
    let (attempts, stored, retried) = on_task(db, |db| async move {
        let attempts = AtomicU32::new(0);
        let newcomer = user("oz", "r");
        let stored = db
            .retry_transaction(3, Some(Isolation::Serializable), async |tx| {
                let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
                let stored = tx.insert(&newcomer).await?;
                if attempt == 1 && engine == Backend::Postgres {
                    tx.execute(
                            "DO $$ BEGIN RAISE EXCEPTION 'simulated conflict' USING ERRCODE = 'serialization_failure'; END $$",
                            &[],
                        )
                        .await?;
                }
                Ok(stored)
            })
            .await?;
        let retried = User::find().filter(User::TEAM.eq("r")).count(&db).await?;
        Ok::<_, Error>((attempts.into_inner(), stored.name, retried))
    })
    .await?;
    let expected_attempts = if engine == Backend::Postgres { 2 } else { 1 };
    assert_eq!(
        (attempts, stored.as_str(), retried),
        (expected_attempts, "oz", 1),
        "{engine}: retry_transaction"
    );
    Ok(())
}
