//! Raw sqlx, the speed limit: hand-written SQL on a pool of the engine's own type (no `Any`
//! layer), rows decoded by position into tuples. Nothing built on sqlx can do less work.
//!
//! The pool has foxdb's settings ([`foxdb::PoolOptions`]'s defaults), and like foxdb it hands
//! out a connection without pinging it first: sqlx's default `test_before_acquire` would add a
//! round trip to every statement that foxdb does not make, and the limit would not be honest.
//! Each operation checks a connection out and runs its statements on it, as foxdb does. For
//! instruction counts ([`RawSqlx::connect_bare`]) it runs on one bare connection, no pool.

use anyhow::Result;
use foxdb::{Backend, DatabaseUrl};
use sqlx::{AssertSqlSafe, QueryBuilder};

use super::{Client, Loaded, comments_reached, group_by_parent};
use crate::dataset::NewUser;

type UserRow = (i64, String, Option<String>);
type PostRow = (i64, i64, String, Option<String>);
type CommentRow = (i64, i64, String);
type JoinRow = (
    i64,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

/// Where raw sqlx runs its statements: a pool of the engine's own type with foxdb's pool
/// settings (the wall-clock limit), or one bare connection (the instruction-count limit: no
/// pool checkout at all).
enum Source {
    PostgresPool(sqlx::PgPool),
    MySqlPool(sqlx::MySqlPool),
    SqlitePool(sqlx::SqlitePool),
    Postgres(sqlx::PgConnection),
    MySql(sqlx::MySqlConnection),
    Sqlite(sqlx::SqliteConnection),
}

/// Runs the same sqlx code on a connection of `$source` (`$c`: `&mut` the engine's connection,
/// checked out of the pool for the operation; `$db` names the database type), or on PostgreSQL
/// and the others with different code.
macro_rules! on_connection {
    ($source:expr, |$c:ident, $db:ident| postgres: $postgres:expr, others: $others:expr) => {
        match $source {
            Source::PostgresPool(pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let mut checked_out = pool.acquire().await?;
                let $c: &mut sqlx::PgConnection = &mut checked_out;
                $postgres
            }
            Source::Postgres(connection) => {
                #[allow(dead_code)]
                type $db = sqlx::Postgres;
                let $c: &mut sqlx::PgConnection = connection;
                $postgres
            }
            Source::MySqlPool(pool) => {
                #[allow(dead_code)]
                type $db = sqlx::MySql;
                let mut checked_out = pool.acquire().await?;
                let $c: &mut sqlx::MySqlConnection = &mut checked_out;
                $others
            }
            Source::MySql(connection) => {
                #[allow(dead_code)]
                type $db = sqlx::MySql;
                let $c: &mut sqlx::MySqlConnection = connection;
                $others
            }
            Source::SqlitePool(pool) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let mut checked_out = pool.acquire().await?;
                let $c: &mut sqlx::SqliteConnection = &mut checked_out;
                $others
            }
            Source::Sqlite(connection) => {
                #[allow(dead_code)]
                type $db = sqlx::Sqlite;
                let $c: &mut sqlx::SqliteConnection = connection;
                $others
            }
        }
    };
    ($source:expr, |$c:ident, $db:ident| $body:expr) => {
        on_connection!($source, |$c, $db| postgres: $body, others: $body)
    };
}

/// `SELECT ... WHERE column IN (ids)` through a query builder, decoded into `$row`.
macro_rules! fetch_in {
    ($connection:expr, $db:ty, $select:expr, $ids:expr, $row:ty) => {{
        let mut builder = QueryBuilder::<$db>::new($select);
        builder.push(" IN (");
        let mut list = builder.separated(", ");
        for id in $ids {
            list.push_bind(id);
        }
        builder.push(")");
        builder
            .build_query_as::<$row>()
            .fetch_all(&mut *$connection)
            .await?
    }};
}

/// foxdb's pool settings: the same sizes and timeouts, and no ping before a statement (foxdb
/// pings only a connection idle for a second or more, which a benchmark loop never leaves).
fn pool_options<DB: sqlx::Database>() -> sqlx::pool::PoolOptions<DB> {
    let foxdb = foxdb::PoolOptions::default();
    sqlx::pool::PoolOptions::new()
        .test_before_acquire(false)
        .max_connections(foxdb.max_connections)
        .min_connections(foxdb.min_connections)
        .acquire_timeout(foxdb.acquire_timeout)
        .idle_timeout(foxdb.idle_timeout)
}

pub(super) struct RawSqlx {
    source: Source,
    backend: Backend,
}

impl RawSqlx {
    /// Raw sqlx on a pool with foxdb's settings; each operation checks a connection out, as
    /// foxdb does.
    pub(super) async fn connect(url: &str) -> Result<Self> {
        let backend = DatabaseUrl::parse(url)?.backend();
        let source = match backend {
            Backend::Postgres => Source::PostgresPool(pool_options().connect(url).await?),
            Backend::MySql => Source::MySqlPool(pool_options().connect(url).await?),
            Backend::Sqlite => Source::SqlitePool(pool_options().connect(url).await?),
        };
        Ok(Self { source, backend })
    }

    /// Raw sqlx on one connection of its own, no pool.
    pub(super) async fn connect_bare(url: &str) -> Result<Self> {
        use sqlx::Connection as _;
        let backend = DatabaseUrl::parse(url)?.backend();
        let source = match backend {
            Backend::Postgres => Source::Postgres(sqlx::PgConnection::connect(url).await?),
            Backend::MySql => Source::MySql(sqlx::MySqlConnection::connect(url).await?),
            Backend::Sqlite => Source::Sqlite(sqlx::SqliteConnection::connect(url).await?),
        };
        Ok(Self { source, backend })
    }

    /// The statement with `$n` placeholders on PostgreSQL, `?` elsewhere.
    fn sql(&self, postgres: &'static str, others: &'static str) -> &'static str {
        if self.backend == Backend::Postgres {
            postgres
        } else {
            others
        }
    }
}

impl Client for RawSqlx {
    type NewUsers = Vec<NewUser>;

    fn new_users(&self, users: &[NewUser]) -> Vec<NewUser> {
        users.to_vec()
    }

    async fn select_users(&mut self, limit: u64) -> Result<u64> {
        // Limits are written into the statement, as foxdb writes them: one cached statement
        // per limit, and the same SQL for both.
        let sql = AssertSqlSafe(format!(
            "SELECT id, name, hair_color FROM users ORDER BY id LIMIT {limit}"
        ));
        let users: Vec<UserRow> = on_connection!(&mut self.source, |connection, Db| {
            sqlx::query_as(sql).fetch_all(connection).await?
        });
        Ok(users.len() as u64)
    }

    async fn join_posts(&mut self, hair_color: &str, limit: u64) -> Result<u64> {
        let sql = AssertSqlSafe(format!(
            "SELECT users.id, users.name, users.hair_color, posts.id, posts.user_id, posts.title, \
             posts.body FROM users LEFT JOIN posts ON posts.user_id = users.id \
             WHERE users.hair_color = {} ORDER BY users.id, posts.id LIMIT {limit}",
            self.sql("$1", "?")
        ));
        let rows: Vec<JoinRow> = on_connection!(&mut self.source, |connection, Db| {
            sqlx::query_as(sql)
                .bind(hair_color)
                .fetch_all(connection)
                .await?
        });
        Ok(rows.len() as u64)
    }

    async fn eager_load(&mut self, user_ids: &[i64]) -> Result<u64> {
        // PostgreSQL takes the keys as one array parameter (one statement text whatever the
        // count); the others get an `IN` list.
        let (users, posts, comments): (Vec<UserRow>, Vec<PostRow>, Vec<CommentRow>) = on_connection!(&mut self.source, |connection, Db|
            postgres: {
                let users: Vec<UserRow> =
                    sqlx::query_as("SELECT id, name, hair_color FROM users WHERE id = ANY($1)")
                        .bind(user_ids)
                        .fetch_all(&mut *connection)
                        .await?;
                let keys: Vec<i64> = users.iter().map(|u| u.0).collect();
                let posts: Vec<PostRow> = sqlx::query_as(
                    "SELECT id, user_id, title, body FROM posts WHERE user_id = ANY($1)",
                )
                .bind(&keys)
                .fetch_all(&mut *connection)
                .await?;
                let keys: Vec<i64> = posts.iter().map(|p| p.0).collect();
                let comments: Vec<CommentRow> = sqlx::query_as(
                    "SELECT id, post_id, text FROM comments WHERE post_id = ANY($1)",
                )
                .bind(&keys)
                .fetch_all(&mut *connection)
                .await?;
                (users, posts, comments)
            },
            others: {
                let users = fetch_in!(
                    connection,
                    Db,
                    "SELECT id, name, hair_color FROM users WHERE id",
                    user_ids.iter().copied(),
                    UserRow
                );
                let posts = fetch_in!(
                    connection,
                    Db,
                    "SELECT id, user_id, title, body FROM posts WHERE user_id",
                    users.iter().map(|u| u.0),
                    PostRow
                );
                let comments = fetch_in!(
                    connection,
                    Db,
                    "SELECT id, post_id, text FROM comments WHERE post_id",
                    posts.iter().map(|p| p.0),
                    CommentRow
                );
                (users, posts, comments)
            }
        );
        let comments = group_by_parent(&posts, |p| p.0, comments, |c| c.1);
        let posts: Vec<(PostRow, Vec<CommentRow>)> = posts.into_iter().zip(comments).collect();
        let posts = group_by_parent(&users, |u| u.0, posts, |(p, _)| p.1);
        let loaded: Loaded<UserRow, PostRow, CommentRow> = users.into_iter().zip(posts).collect();
        Ok(comments_reached(&loaded))
    }

    async fn insert_users(&mut self, users: &Vec<NewUser>) -> Result<u64> {
        let inserted = on_connection!(&mut self.source, |connection, Db| {
            let mut builder = QueryBuilder::<Db>::new("INSERT INTO users (name, hair_color) ");
            builder.push_values(users, |mut row, user| {
                row.push_bind(&user.name).push_bind(&user.hair_color);
            });
            builder.build().execute(connection).await?.rows_affected()
        });
        Ok(inserted)
    }

    async fn update_hair_color(&mut self, id: i64, hair_color: &str) -> Result<u64> {
        let sql = self.sql(
            "UPDATE users SET hair_color = $1 WHERE id = $2",
            "UPDATE users SET hair_color = ? WHERE id = ?",
        );
        let updated = on_connection!(&mut self.source, |connection, Db| {
            sqlx::query(sql)
                .bind(hair_color)
                .bind(id)
                .execute(connection)
                .await?
                .rows_affected()
        });
        Ok(updated)
    }

    async fn delete_user(&mut self, id: i64) -> Result<u64> {
        let sql = self.sql(
            "DELETE FROM users WHERE id = $1",
            "DELETE FROM users WHERE id = ?",
        );
        let deleted = on_connection!(&mut self.source, |connection, Db| {
            sqlx::query(sql)
                .bind(id)
                .execute(connection)
                .await?
                .rows_affected()
        });
        Ok(deleted)
    }
}
