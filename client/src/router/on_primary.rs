//! `.on_primary()` on one query: builder queries, joins, eager loading and typed raw SQL run
//! on the primary, whatever the handle's routing, in the handle's read-your-writes session.
//!
//! ```no_run
//! # async fn demo(db: foxdb::Database) -> foxdb::Result<()> {
//! # #[derive(Clone, Debug, foxdb::Model)]
//! # #[foxdb(table = "users")] struct User { #[foxdb(primary_key)] id: i64 }
//! use foxdb::ModelExt;
//!
//! // This query reads the primary; the handle's other reads still go to replicas.
//! let users = User::find().on_primary().all(&db).await?;
//! # Ok(()) }
//! ```
//!
//! A handle whose every query reads the primary is [`Database::on_primary`]. Without replicas
//! (or in a transaction, which is always on the primary) the query runs as it is.

use crate::database::Database;
use crate::error::Result;
use crate::model::Model;
use crate::query::{
    JoinSelect, JoinSelectColumns, JoinSelection, Select, SelectColumns, Selection,
};
use crate::raw::RawQuery;
use crate::relation::eager::{Nested, WithRelations};
use crate::row::FromRow;

/// A query that runs on the primary: made by `.on_primary()` on the query.
#[derive(Debug)]
#[must_use = "a query does nothing until it runs (`.all(&db)`)"]
pub struct OnPrimary<Q> {
    query: Q,
}

impl<Q> OnPrimary<Q> {
    /// The query itself (to render its SQL).
    pub fn query(&self) -> &Q {
        &self.query
    }
}

impl<M: Model> Select<M> {
    /// Runs this query on the primary (see [`OnPrimary`]).
    pub fn on_primary(self) -> OnPrimary<Select<M>> {
        OnPrimary { query: self }
    }
}

impl<M: Model> OnPrimary<Select<M>> {
    /// [`Select::all`] on the primary.
    ///
    /// # Errors
    /// As [`Select::all`].
    pub async fn all(&self, db: &Database) -> Result<Vec<M>> {
        self.query.all(&db.on_primary()).await
    }

    /// [`Select::one`] on the primary.
    ///
    /// # Errors
    /// As [`Select::one`].
    pub async fn one(self, db: &Database) -> Result<Option<M>> {
        self.query.one(&db.on_primary()).await
    }

    /// [`Select::one_required`] on the primary.
    ///
    /// # Errors
    /// As [`Select::one_required`].
    pub async fn one_required(self, db: &Database) -> Result<M> {
        self.query.one_required(&db.on_primary()).await
    }

    /// [`Select::count`] on the primary.
    ///
    /// # Errors
    /// As [`Select::count`].
    pub async fn count(&self, db: &Database) -> Result<i64> {
        self.query.count(&db.on_primary()).await
    }

    /// [`Select::exists`] on the primary.
    ///
    /// # Errors
    /// As [`Select::exists`].
    pub async fn exists(&self, db: &Database) -> Result<bool> {
        self.query.exists(&db.on_primary()).await
    }
}

impl<M: Model, S: Selection<M>> SelectColumns<M, S> {
    /// Runs this query on the primary (see [`OnPrimary`]).
    pub fn on_primary(self) -> OnPrimary<SelectColumns<M, S>> {
        OnPrimary { query: self }
    }
}

impl<M: Model, S: Selection<M>> OnPrimary<SelectColumns<M, S>> {
    /// [`SelectColumns::all`] on the primary.
    ///
    /// # Errors
    /// As [`SelectColumns::all`].
    pub async fn all(&self, db: &Database) -> Result<Vec<S::Output>> {
        self.query.all(&db.on_primary()).await
    }

    /// [`SelectColumns::one`] on the primary.
    ///
    /// # Errors
    /// As [`SelectColumns::one`].
    pub async fn one(self, db: &Database) -> Result<Option<S::Output>> {
        self.query.one(&db.on_primary()).await
    }
}

impl<M: Model, L> JoinSelect<M, L> {
    /// Runs this query on the primary (see [`OnPrimary`]).
    pub fn on_primary(self) -> OnPrimary<JoinSelect<M, L>> {
        OnPrimary { query: self }
    }
}

impl<M: Model, L> OnPrimary<JoinSelect<M, L>> {
    /// [`JoinSelect::all`] on the primary.
    ///
    /// # Errors
    /// As [`JoinSelect::all`].
    pub async fn all(&self, db: &Database) -> Result<Vec<M>> {
        self.query.all(&db.on_primary()).await
    }

    /// [`JoinSelect::one`] on the primary.
    ///
    /// # Errors
    /// As [`JoinSelect::one`].
    pub async fn one(self, db: &Database) -> Result<Option<M>> {
        self.query.one(&db.on_primary()).await
    }

    /// [`JoinSelect::count`] on the primary.
    ///
    /// # Errors
    /// As [`JoinSelect::count`].
    pub async fn count(&self, db: &Database) -> Result<i64> {
        self.query.count(&db.on_primary()).await
    }

    /// [`JoinSelect::exists`] on the primary.
    ///
    /// # Errors
    /// As [`JoinSelect::exists`].
    pub async fn exists(&self, db: &Database) -> Result<bool> {
        self.query.exists(&db.on_primary()).await
    }
}

impl<M: Model, L, S: JoinSelection<L, I>, I> JoinSelectColumns<M, L, S, I> {
    /// Runs this query on the primary (see [`OnPrimary`]).
    pub fn on_primary(self) -> OnPrimary<JoinSelectColumns<M, L, S, I>> {
        OnPrimary { query: self }
    }
}

impl<M: Model, L, S: JoinSelection<L, I>, I> OnPrimary<JoinSelectColumns<M, L, S, I>> {
    /// [`JoinSelectColumns::all`] on the primary.
    ///
    /// # Errors
    /// As [`JoinSelectColumns::all`].
    pub async fn all(&self, db: &Database) -> Result<Vec<S::Output>> {
        self.query.all(&db.on_primary()).await
    }

    /// [`JoinSelectColumns::one`] on the primary.
    ///
    /// # Errors
    /// As [`JoinSelectColumns::one`].
    pub async fn one(self, db: &Database) -> Result<Option<S::Output>> {
        self.query.one(&db.on_primary()).await
    }
}

impl<P: Model, N> WithRelations<P, N> {
    /// Runs the query and every relation load on the primary (see [`OnPrimary`]).
    pub fn on_primary(self) -> OnPrimary<WithRelations<P, N>> {
        OnPrimary { query: self }
    }
}

impl<P: Model, N: Nested<P>> OnPrimary<WithRelations<P, N>> {
    /// [`WithRelations::all`] on the primary: the parents and every relation level.
    ///
    /// # Errors
    /// As [`WithRelations::all`].
    pub async fn all(&self, db: &Database) -> Result<Vec<N::Row>> {
        self.query.all(&db.on_primary()).await
    }
}

impl<T: FromRow + Send> RawQuery<T> {
    /// Runs this typed SQL ([`crate::query_as!`]) on the primary (see [`OnPrimary`]).
    pub fn on_primary(self) -> OnPrimary<RawQuery<T>> {
        OnPrimary { query: self }
    }
}

impl<T: FromRow + Send> OnPrimary<RawQuery<T>> {
    /// [`RawQuery::all`] on the primary.
    ///
    /// # Errors
    /// As [`RawQuery::all`].
    pub async fn all(self, db: &Database) -> Result<Vec<T>> {
        self.query.all(&db.on_primary()).await
    }

    /// [`RawQuery::one`] on the primary.
    ///
    /// # Errors
    /// As [`RawQuery::one`].
    pub async fn one(self, db: &Database) -> Result<Option<T>> {
        self.query.one(&db.on_primary()).await
    }
}
