//! Portable hand-written SQL: [`crate::query_as!`] and [`crate::query!`] turn every
//! `{expression}` of the SQL into a bound parameter and write the placeholder of the engine the
//! query runs on (`$1`, `$2`… on PostgreSQL, `?` on MySQL/MariaDB and SQLite), so changing only
//! the URL does not break a raw query, and no value is ever written into the SQL text.
//!
//! ```no_run
//! # async fn demo(db: &foxdb::Database) -> foxdb::Result<()> {
//! #[derive(Debug, foxdb::FromRow)]
//! struct UserStats {
//!     email: String,
//!     posts: i64,
//! }
//!
//! let since = chrono::Utc::now() - chrono::Duration::days(30);
//! let stats: Vec<UserStats> = foxdb::query_as!(
//!     UserStats,
//!     "SELECT u.email, COUNT(p.id) AS posts
//!        FROM users u LEFT JOIN posts p ON p.author_id = u.id
//!       WHERE u.created_at > {since}
//!       GROUP BY u.email ORDER BY u.email"
//! )
//! .all(db)
//! .await?;
//!
//! let id = 7_i64;
//! foxdb::query!("UPDATE users SET name = {\"Ada\"} WHERE id = {id}").execute(db).await?;
//! # Ok(()) }
//! ```
//!
//! Type checks: each `{expression}` must be a value foxdb binds ([`crate::IntoValue`]), and the
//! row type must be [`crate::FromRow`]:
//!
//! ```compile_fail
//! # async fn demo(db: &foxdb::Database) -> foxdb::Result<()> {
//! # #[derive(foxdb::FromRow)] struct Row { n: i64 }
//! let since = std::time::Instant::now(); // not a value a database stores
//! foxdb::query_as!(Row, "SELECT 1 AS n WHERE {since} IS NOT NULL").all(db).await?;
//! # Ok(()) }
//! ```
//!
//! ```compile_fail
//! # async fn demo(db: &foxdb::Database) -> foxdb::Result<()> {
//! struct NotARow { n: i64 } // no #[derive(foxdb::FromRow)]
//! foxdb::query_as!(NotARow, "SELECT 1 AS n").all(db).await?;
//! # Ok(()) }
//! ```
//!
//! ```compile_fail
//! // `{}` binds nothing: a compile error naming the fix.
//! let _ = foxdb::query!("SELECT {}");
//! ```
//!
//! # What stays the caller's
//! The SQL between the values is sent as written: identifiers, functions and syntax must be
//! ones every engine reads (unquoted lower-case names, standard functions). `{{` and `}}` are
//! literal braces; write every value through `{...}` rather than as a placeholder of one engine.

use std::marker::PhantomData;

use crate::Backend;
use crate::connection::Value;
use crate::dialect::dialect_for;
use crate::error::Result;
use crate::executor::Executor;
use crate::model::IntoValue;
use crate::row::FromRow;

/// A value of a `{expression}` as a parameter; the expression is borrowed, not moved.
pub fn bind<T: IntoValue + Clone>(value: &T) -> Value {
    value.clone().into_value()
}

/// Hand-written SQL with its values, rendered per engine when it runs ([`crate::query!`]).
#[derive(Clone, Debug)]
pub struct RawSql {
    fragments: &'static [&'static str],
    values: Vec<Value>,
}

impl RawSql {
    /// SQL made of `fragments` with one value between each pair; what the macros write.
    ///
    /// # Panics
    /// When there is not exactly one value less than fragments (the macros always write
    /// them so).
    pub fn new(fragments: &'static [&'static str], values: Vec<Value>) -> Self {
        assert_eq!(
            fragments.len(),
            values.len() + 1,
            "one value between each pair of SQL fragments"
        );
        Self { fragments, values }
    }

    /// The statement as `backend` runs it, with its parameters.
    pub fn to_sql(&self, backend: Backend) -> (String, Vec<Value>) {
        let dialect = dialect_for(backend);
        let mut sql = String::with_capacity(self.fragments.iter().map(|f| f.len() + 3).sum());
        for (n, fragment) in self.fragments.iter().enumerate() {
            if n > 0 {
                sql.push_str(&dialect.placeholder(n));
            }
            sql.push_str(fragment);
        }
        (sql, self.values.clone())
    }

    /// Runs the statement on the pool (`&db`) or in a transaction (`&mut *tx`); returns the
    /// rows affected.
    ///
    /// # Errors
    /// The statement's error, typed as for every statement ([`crate::Error`]).
    pub async fn execute<E: Executor>(self, mut executor: E) -> Result<u64> {
        let (sql, values) = self.to_sql(executor.backend());
        Ok(executor.execute(&sql, &values).await?.rows_affected)
    }
}

/// A typed query in hand-written SQL ([`crate::query_as!`]): each row decodes into `T`.
#[derive(Debug)]
pub struct RawQuery<T> {
    sql: RawSql,
    row: PhantomData<fn() -> T>,
}

impl<T: FromRow + Send> RawQuery<T> {
    /// A query of `sql` whose rows decode into `T`; what [`crate::query_as!`] writes.
    pub fn new(sql: RawSql) -> Self {
        Self {
            sql,
            row: PhantomData,
        }
    }

    /// The statement as `backend` runs it, with its parameters.
    pub fn to_sql(&self, backend: Backend) -> (String, Vec<Value>) {
        self.sql.to_sql(backend)
    }

    /// Every row, on the pool (`&db`) or in a transaction (`&mut *tx`).
    ///
    /// # Errors
    /// The statement's error, or [`crate::Error::Decode`] for a row `T` cannot hold.
    pub async fn all<E: Executor>(self, mut executor: E) -> Result<Vec<T>> {
        let (sql, values) = self.to_sql(executor.backend());
        executor
            .fetch_decoded(&sql, &values, |row| T::from_row(&row))
            .await
    }

    /// The first row, if any (the SQL should limit itself to one).
    ///
    /// # Errors
    /// As [`RawQuery::all`].
    pub async fn one<E: Executor>(self, executor: E) -> Result<Option<T>> {
        Ok(self.all(executor).await?.into_iter().next())
    }
}
