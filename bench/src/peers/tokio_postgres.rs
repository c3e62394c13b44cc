//! Raw tokio-postgres (PostgreSQL only): hand-written SQL prepared once per statement text on
//! one connection, rows decoded by position into tuples. The driver below sqlx's cost: what a
//! PostgreSQL client could reach on a faster driver.

use std::collections::HashMap;

use anyhow::{Context, Result};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row, Statement};

use super::{Client, Loaded, comments_reached, group_by_parent};
use crate::dataset::NewUser;

type UserRow = (i64, String, Option<String>);
type PostRow = (i64, i64, String, Option<String>);
type CommentRow = (i64, i64, String);

fn user(row: &Row) -> Result<UserRow, tokio_postgres::Error> {
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

fn post(row: &Row) -> Result<PostRow, tokio_postgres::Error> {
    Ok((
        row.try_get(0)?,
        row.try_get(1)?,
        row.try_get(2)?,
        row.try_get(3)?,
    ))
}

fn comment(row: &Row) -> Result<CommentRow, tokio_postgres::Error> {
    Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))
}

/// A join row: the user, and the post unless the user has none.
fn user_and_post(row: &Row) -> Result<(UserRow, Option<PostRow>), tokio_postgres::Error> {
    let user = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    let post = match row.try_get::<_, Option<i64>>(3)? {
        Some(id) => Some((id, row.try_get(4)?, row.try_get(5)?, row.try_get(6)?)),
        None => None,
    };
    Ok((user, post))
}

/// The statements every run reuses, prepared when the peer connects.
struct Prepared {
    select_users: Statement,
    join_posts: Statement,
    users_by_id: Statement,
    posts_by_user: Statement,
    comments_by_post: Statement,
    update_hair_color: Statement,
    delete_user: Statement,
}

pub(super) struct TokioPostgres {
    client: tokio_postgres::Client,
    prepared: Prepared,
    /// `INSERT` statements by their number of rows, prepared on first use.
    inserts: HashMap<usize, Statement>,
}

impl TokioPostgres {
    pub(super) async fn connect(url: &str) -> Result<Self> {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .context("connecting with tokio-postgres")?;
        // The connection's I/O runs as a task of this process's runtime.
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                eprintln!("tokio-postgres connection: {error}");
            }
        });
        let prepared = Prepared {
            select_users: client
                .prepare("SELECT id, name, hair_color FROM users ORDER BY id LIMIT $1")
                .await?,
            join_posts: client
                .prepare(
                    "SELECT users.id, users.name, users.hair_color, posts.id, posts.user_id, \
                     posts.title, posts.body FROM users LEFT JOIN posts ON posts.user_id = users.id \
                     WHERE users.hair_color = $1 ORDER BY users.id, posts.id LIMIT $2",
                )
                .await?,
            users_by_id: client
                .prepare("SELECT id, name, hair_color FROM users WHERE id = ANY($1)")
                .await?,
            posts_by_user: client
                .prepare("SELECT id, user_id, title, body FROM posts WHERE user_id = ANY($1)")
                .await?,
            comments_by_post: client
                .prepare("SELECT id, post_id, text FROM comments WHERE post_id = ANY($1)")
                .await?,
            update_hair_color: client
                .prepare("UPDATE users SET hair_color = $1 WHERE id = $2")
                .await?,
            delete_user: client.prepare("DELETE FROM users WHERE id = $1").await?,
        };
        Ok(Self {
            client,
            prepared,
            inserts: HashMap::new(),
        })
    }

    /// The prepared `INSERT` of `rows` users.
    async fn insert_statement(&mut self, rows: usize) -> Result<Statement> {
        if let Some(statement) = self.inserts.get(&rows) {
            return Ok(statement.clone());
        }
        let values: Vec<String> = (0..rows)
            .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO users (name, hair_color) VALUES {}",
            values.join(", ")
        );
        let statement = self.client.prepare(&sql).await?;
        self.inserts.insert(rows, statement.clone());
        Ok(statement)
    }
}

impl Client for TokioPostgres {
    type NewUsers = Vec<NewUser>;

    fn new_users(&self, users: &[NewUser]) -> Vec<NewUser> {
        users.to_vec()
    }

    async fn select_users(&mut self, limit: u64) -> Result<u64> {
        let rows = self
            .client
            .query(&self.prepared.select_users, &[&i64::try_from(limit)?])
            .await?;
        let users = rows.iter().map(user).collect::<Result<Vec<_>, _>>()?;
        Ok(users.len() as u64)
    }

    async fn join_posts(&mut self, hair_color: &str, limit: u64) -> Result<u64> {
        let rows = self
            .client
            .query(
                &self.prepared.join_posts,
                &[&hair_color, &i64::try_from(limit)?],
            )
            .await?;
        let pairs = rows
            .iter()
            .map(user_and_post)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pairs.len() as u64)
    }

    async fn eager_load(&mut self, user_ids: &[i64]) -> Result<u64> {
        let users = self
            .client
            .query(&self.prepared.users_by_id, &[&user_ids])
            .await?
            .iter()
            .map(user)
            .collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<i64> = users.iter().map(|u| u.0).collect();
        let posts = self
            .client
            .query(&self.prepared.posts_by_user, &[&keys])
            .await?
            .iter()
            .map(post)
            .collect::<Result<Vec<_>, _>>()?;
        let keys: Vec<i64> = posts.iter().map(|p| p.0).collect();
        let comments = self
            .client
            .query(&self.prepared.comments_by_post, &[&keys])
            .await?
            .iter()
            .map(comment)
            .collect::<Result<Vec<_>, _>>()?;
        let comments = group_by_parent(&posts, |p| p.0, comments, |c| c.1);
        let posts: Vec<(PostRow, Vec<CommentRow>)> = posts.into_iter().zip(comments).collect();
        let posts = group_by_parent(&users, |u| u.0, posts, |(p, _)| p.1);
        let loaded: Loaded<UserRow, PostRow, CommentRow> = users.into_iter().zip(posts).collect();
        Ok(comments_reached(&loaded))
    }

    async fn insert_users(&mut self, users: &Vec<NewUser>) -> Result<u64> {
        let statement = self.insert_statement(users.len()).await?;
        let params: Vec<&(dyn ToSql + Sync)> = users
            .iter()
            .flat_map(|user| [&user.name as &(dyn ToSql + Sync), &user.hair_color])
            .collect();
        Ok(self.client.execute(&statement, &params).await?)
    }

    async fn update_hair_color(&mut self, id: i64, hair_color: &str) -> Result<u64> {
        Ok(self
            .client
            .execute(&self.prepared.update_hair_color, &[&hair_color, &id])
            .await?)
    }

    async fn delete_user(&mut self, id: i64) -> Result<u64> {
        Ok(self
            .client
            .execute(&self.prepared.delete_user, &[&id])
            .await?)
    }
}
