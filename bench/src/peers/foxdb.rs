//! foxdb: typed models, queries, joins along relations and nested eager loading, written as
//! its documentation writes them.

use anyhow::Result;
use foxdb::{Database, ModelExt, Relation};

use super::{Client, Loaded, comments_reached};
use crate::dataset::NewUser;

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "users")]
pub(super) struct User {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
    hair_color: Option<String>,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "posts")]
pub(super) struct Post {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    user_id: i64,
    title: String,
    body: Option<String>,
}

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "comments")]
pub(super) struct Comment {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    post_id: i64,
    text: String,
}

// The relations, as `fox generate client` writes them for a schema's foreign keys.
impl User {
    fn posts() -> Relation<User, Post> {
        Relation::has_many(User::ID, Post::USER_ID)
    }
}

impl Post {
    fn comments() -> Relation<Post, Comment> {
        Relation::has_many(Post::ID, Comment::POST_ID)
    }
}

pub(super) struct Foxdb {
    database: Database,
}

impl Foxdb {
    /// A pool with foxdb's default settings, PostgreSQL on `driver`.
    pub(super) async fn connect(url: &str, driver: foxdb::PostgresDriver) -> Result<Self> {
        let options = foxdb::PoolOptions {
            postgres_driver: driver,
            ..foxdb::PoolOptions::default()
        };
        Ok(Self {
            database: Database::connect_with(url, &options).await?,
        })
    }
}

impl Client for Foxdb {
    type NewUsers = Vec<User>;

    fn new_users(&self, users: &[NewUser]) -> Vec<User> {
        users
            .iter()
            .map(|user| User {
                id: 0,
                name: user.name.clone(),
                hair_color: user.hair_color.clone(),
            })
            .collect()
    }

    async fn select_users(&mut self, limit: u64) -> Result<u64> {
        let users = User::find()
            .order_by(User::ID.asc())
            .limit(limit)
            .all(&self.database)
            .await?;
        Ok(users.len() as u64)
    }

    async fn join_posts(&mut self, hair_color: &str, limit: u64) -> Result<u64> {
        // Selections stop at six columns: the post's `user_id`, equal to the user's id by the
        // join, is the one left out.
        let rows = User::find()
            .left_join(User::posts())
            .filter(User::HAIR_COLOR.eq(hair_color))
            .order_by(User::ID.asc())
            .order_by(Post::ID.asc())
            .limit(limit)
            .select((
                User::ID,
                User::NAME,
                User::HAIR_COLOR,
                Post::ID,
                Post::TITLE,
                Post::BODY,
            ))
            .all(&self.database)
            .await?;
        Ok(rows.len() as u64)
    }

    async fn eager_load(&mut self, user_ids: &[i64]) -> Result<u64> {
        let loaded: Loaded<User, Post, Comment> = User::find()
            .filter(User::ID.in_(user_ids.iter().copied()))
            .with(User::posts().with(Post::comments()))
            .all(&self.database)
            .await?;
        Ok(comments_reached(&loaded))
    }

    async fn insert_users(&mut self, users: &Vec<User>) -> Result<u64> {
        Ok(self.database.insert_many(users).await?)
    }

    async fn update_hair_color(&mut self, id: i64, hair_color: &str) -> Result<u64> {
        Ok(User::update()
            .set(User::HAIR_COLOR, hair_color)
            .filter(User::ID.eq(id))
            .exec(&self.database)
            .await?)
    }

    async fn delete_user(&mut self, id: i64) -> Result<u64> {
        Ok(User::delete()
            .filter(User::ID.eq(id))
            .exec(&self.database)
            .await?)
    }
}
