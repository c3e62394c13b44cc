//! Diesel 2.3: synchronous, one `PgConnection` (libpq) with Diesel's prepared-statement
//! cache; tables declared by hand with `table!`, associations with `belonging_to` and
//! `grouped_by` as its guides write them.

use anyhow::Result;
use diesel::pg::{Pg, PgConnection};
use diesel::prelude::*;

use super::{Client, Loaded, comments_reached};
use crate::dataset::NewUser;

mod schema {
    diesel::table! {
        users (id) {
            id -> BigInt,
            name -> Varchar,
            hair_color -> Nullable<Varchar>,
        }
    }

    diesel::table! {
        posts (id) {
            id -> BigInt,
            user_id -> BigInt,
            title -> Varchar,
            body -> Nullable<Text>,
        }
    }

    diesel::table! {
        comments (id) {
            id -> BigInt,
            post_id -> BigInt,
            text -> Varchar,
        }
    }

    diesel::joinable!(posts -> users (user_id));
    diesel::joinable!(comments -> posts (post_id));
    diesel::allow_tables_to_appear_in_same_query!(users, posts, comments);
}

use schema::{comments, posts, users};

#[derive(Debug, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users, check_for_backend(Pg))]
#[allow(dead_code)] // decoded to be measured, not read
pub(super) struct User {
    id: i64,
    name: String,
    hair_color: Option<String>,
}

#[derive(Debug, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = posts, belongs_to(User), check_for_backend(Pg))]
#[allow(dead_code)]
pub(super) struct Post {
    id: i64,
    user_id: i64,
    title: String,
    body: Option<String>,
}

#[derive(Debug, Queryable, Selectable, Identifiable, Associations)]
#[diesel(table_name = comments, belongs_to(Post), check_for_backend(Pg))]
#[allow(dead_code)]
pub(super) struct Comment {
    id: i64,
    post_id: i64,
    text: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub(super) struct NewUserRow {
    name: String,
    hair_color: Option<String>,
}

pub(super) struct Diesel {
    connection: PgConnection,
}

impl Diesel {
    pub(super) fn connect(url: &str) -> Result<Self> {
        Ok(Self {
            connection: PgConnection::establish(url)?,
        })
    }
}

// The operations block: Diesel is synchronous, and this process runs nothing else meanwhile.
impl Client for Diesel {
    type NewUsers = Vec<NewUserRow>;

    fn new_users(&self, users: &[NewUser]) -> Vec<NewUserRow> {
        users
            .iter()
            .map(|user| NewUserRow {
                name: user.name.clone(),
                hair_color: user.hair_color.clone(),
            })
            .collect()
    }

    async fn select_users(&mut self, limit: u64) -> Result<u64> {
        let users: Vec<User> = users::table
            .order(users::id.asc())
            .limit(limit as i64)
            .select(User::as_select())
            .load(&mut self.connection)?;
        Ok(users.len() as u64)
    }

    async fn join_posts(&mut self, hair_color: &str, limit: u64) -> Result<u64> {
        let rows: Vec<(User, Option<Post>)> = users::table
            .left_join(posts::table)
            .filter(users::hair_color.eq(hair_color))
            .order((users::id.asc(), posts::id.asc()))
            .limit(limit as i64)
            .select((User::as_select(), Option::<Post>::as_select()))
            .load(&mut self.connection)?;
        Ok(rows.len() as u64)
    }

    async fn eager_load(&mut self, user_ids: &[i64]) -> Result<u64> {
        let users: Vec<User> = users::table
            .filter(users::id.eq_any(user_ids))
            .select(User::as_select())
            .load(&mut self.connection)?;
        let posts: Vec<Post> = Post::belonging_to(&users)
            .select(Post::as_select())
            .load(&mut self.connection)?;
        let comments: Vec<Comment> = Comment::belonging_to(&posts)
            .select(Comment::as_select())
            .load(&mut self.connection)?;
        let comments = comments.grouped_by(&posts);
        let posts = posts.into_iter().zip(comments).grouped_by(&users);
        let loaded: Loaded<User, Post, Comment> = users.into_iter().zip(posts).collect();
        Ok(comments_reached(&loaded))
    }

    async fn insert_users(&mut self, users: &Vec<NewUserRow>) -> Result<u64> {
        let inserted = diesel::insert_into(users::table)
            .values(users)
            .execute(&mut self.connection)?;
        Ok(inserted as u64)
    }

    async fn update_hair_color(&mut self, id: i64, hair_color: &str) -> Result<u64> {
        let updated = diesel::update(users::table.find(id))
            .set(users::hair_color.eq(hair_color))
            .execute(&mut self.connection)?;
        Ok(updated as u64)
    }

    async fn delete_user(&mut self, id: i64) -> Result<u64> {
        let deleted = diesel::delete(users::table.find(id)).execute(&mut self.connection)?;
        Ok(deleted as u64)
    }
}
