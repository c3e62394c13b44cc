//! `.cache(ttl)` on reads: builder queries, eager loading, hand-written SQL.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::tables::tables_read;
use crate::connection::Value;
use crate::database::Database;
use crate::error::Result;
use crate::model::Model;
use crate::query::Select;
use crate::relation::eager::{Nested, WithRelations};

/// A read whose result is kept in the database handle's [`super::QueryCache`] for `ttl`
/// (and made stale by any write to a table it reads). On a handle without a cache it runs
/// as it is. Made by `.cache(ttl)` on a query, or [`Database::cached`] for hand-written SQL;
/// `.cached()` and [`Database::cached_default`] keep it for the cache's default lifetime
/// ([`super::QueryCache::with_default_ttl`], a FoxReplicaSet's `cache.defaultTtlSeconds`).
#[derive(Debug)]
pub struct Cached<Q> {
    query: Q,
    /// `None`: the cache's default lifetime.
    ttl: Option<Duration>,
    tables: Vec<String>,
}

impl<Q> Cached<Q> {
    /// Also depends on these tables: for SQL that reads tables it does not name after `FROM`
    /// or `JOIN` (a view, a function).
    #[must_use]
    pub fn reading(mut self, tables: &[&str]) -> Self {
        self.tables.extend(tables.iter().map(|t| t.to_lowercase()));
        self
    }
}

impl<M: Model> Select<M> {
    /// Keeps the result in the query cache for `ttl`: `User::find().cache(ttl).all(&db)`.
    pub fn cache(self, ttl: Duration) -> Cached<Select<M>> {
        Cached {
            query: self,
            ttl: Some(ttl),
            tables: Vec::new(),
        }
    }

    /// Keeps the result in the query cache for the cache's default lifetime:
    /// `User::find().cached().all(&db)`.
    pub fn cached(self) -> Cached<Select<M>> {
        Cached {
            query: self,
            ttl: None,
            tables: Vec::new(),
        }
    }
}

impl<P: Model, N> WithRelations<P, N> {
    /// Keeps the rows with everything their relations loaded in the query cache for `ttl`.
    pub fn cache(self, ttl: Duration) -> Cached<WithRelations<P, N>> {
        Cached {
            query: self,
            ttl: Some(ttl),
            tables: Vec::new(),
        }
    }

    /// Keeps the rows with their relations for the cache's default lifetime.
    pub fn cached(self) -> Cached<WithRelations<P, N>> {
        Cached {
            query: self,
            ttl: None,
            tables: Vec::new(),
        }
    }
}

impl Database {
    /// Hand-written SQL through the query cache:
    /// `db.cached(ttl).raw::<Row>(sql, &values)`.
    pub fn cached(&self, ttl: Duration) -> Cached<&Database> {
        Cached {
            query: self,
            ttl: Some(ttl),
            tables: Vec::new(),
        }
    }

    /// Hand-written SQL through the query cache, kept for the cache's default lifetime:
    /// `db.cached_default().raw::<Row>(sql, &values)`.
    pub fn cached_default(&self) -> Cached<&Database> {
        Cached {
            query: self,
            ttl: None,
            tables: Vec::new(),
        }
    }

    /// Runs `load` through the cache, keyed by `statements` (and the tables they read).
    /// Misses read from the primary (see [`super`]).
    async fn through_cache<T, F, Fut>(
        &self,
        ttl: Option<Duration>,
        statements: &[(String, Vec<Value>)],
        extra_tables: &[String],
        load: F,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Send,
        F: FnOnce(Database) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let Some(cache) = self.query_cache() else {
            return load(self.clone()).await;
        };
        let mut tables: Vec<String> = extra_tables.to_vec();
        let mut identity = String::new();
        for (sql, values) in statements {
            tables.extend(tables_read(sql));
            identity.push_str(sql);
            identity.push('\0');
            identity.push_str(&format!("{values:?}"));
            identity.push('\0');
        }
        tables.sort();
        tables.dedup();
        let primary = self.on_primary();
        let ttl = ttl.unwrap_or_else(|| cache.default_ttl());
        cache
            .get_or_load(self.identity(), &identity, &tables, ttl, || load(primary))
            .await
    }
}

impl<M: Model + Serialize + DeserializeOwned> Cached<Select<M>> {
    /// The matching rows, from the cache when fresh.
    ///
    /// # Errors
    /// Database and decoding errors (never the cache's).
    pub async fn all(&self, db: &Database) -> Result<Vec<M>> {
        let statement = self.query.to_sql(db.backend());
        db.through_cache(self.ttl, &[statement], &self.tables, async |db| {
            self.query.all(&db).await
        })
        .await
    }

    /// The first matching row (`LIMIT 1`, as [`Select::one`]), from the cache when fresh.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn one(self, db: &Database) -> Result<Option<M>> {
        let first = Cached {
            query: self.query.limit(1),
            ttl: self.ttl,
            tables: self.tables,
        };
        Ok(first.all(db).await?.into_iter().next())
    }

    /// How many rows match, from the cache when fresh.
    ///
    /// # Errors
    /// Database errors.
    pub async fn count(&self, db: &Database) -> Result<i64> {
        let statement = self.query.count_to_sql(db.backend());
        db.through_cache(self.ttl, &[statement], &self.tables, async |db| {
            self.query.count(&db).await
        })
        .await
    }
}

impl<P: Model, N: Nested<P>> Cached<WithRelations<P, N>>
where
    N::Row: Serialize + DeserializeOwned,
{
    /// Every matching row with what its relations loaded, from the cache when fresh.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn all(&self, db: &Database) -> Result<Vec<N::Row>> {
        let statements = self.query.statements(db.backend());
        db.through_cache(self.ttl, &statements, &self.tables, async |db| {
            self.query.all(&db).await
        })
        .await
    }
}

impl Cached<&Database> {
    /// [`Database::raw`] through the cache; the tables read are those named after `FROM` and
    /// `JOIN`, plus any given to [`Cached::reading`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn raw<T>(&self, sql: &str, values: &[Value]) -> Result<Vec<T>>
    where
        T: crate::row::FromRow + Serialize + DeserializeOwned + Send,
    {
        let statement = (sql.to_string(), values.to_vec());
        self.query
            .through_cache(self.ttl, &[statement], &self.tables, async |db| {
                db.raw::<T>(sql, values).await
            })
            .await
    }
}
