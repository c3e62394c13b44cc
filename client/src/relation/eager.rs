//! Eager loading: rows with their related rows, nested to any depth, one query per relation
//! level whatever the number of rows.
//!
//! # The shape of the results
//! A row comes as a tuple of itself and what each relation loaded for it, in the order the
//! relations were added; a relation gives a `Vec` of such rows, or an `Option` after
//! [`Relation::one`]:
//!
//! | query | each item |
//! |---|---|
//! | `User::find().with(User::posts())` | `(User, Vec<Post>)` |
//! | `User::find().with(User::posts().with(Post::comments()))` | `(User, Vec<(Post, Vec<Comment>)>)` |
//! | `User::find().with(User::posts()).with(User::profile().one())` | `(User, Vec<Post>, Option<Profile>)` |
//! | `Post::find().with(Post::author().one().with(User::profile().one()))` | `(Post, Option<(User, Option<Profile>)>)` |
//!
//! Up to eight relations load side by side at one level (a ninth does not compile; nest it
//! under one of the others, or load it with [`Relation::load_for`]).
//!
//! # Expected flow
//! ```no_run
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "users")]
//! # struct User { #[foxdb(primary_key)] id: i64 }
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "posts")]
//! # struct Post { #[foxdb(primary_key)] id: i64, author_id: i64, published: bool, created_at: i64 }
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "comments")]
//! # struct Comment { #[foxdb(primary_key)] id: i64, post_id: i64 }
//! # #[derive(Clone, foxdb::Model)]
//! # #[foxdb(table = "profiles")]
//! # struct Profile { #[foxdb(primary_key)] id: i64, user_id: i64 }
//! use foxdb::{ModelExt, Relation};
//!
//! // What `fox generate client` writes for the relations a schema declares.
//! impl User {
//!     fn posts() -> Relation<User, Post> { Relation::has_many(User::ID, Post::AUTHOR_ID) }
//!     fn profile() -> Relation<User, Profile> { Relation::has_many(User::ID, Profile::USER_ID) }
//! }
//! impl Post {
//!     fn comments() -> Relation<Post, Comment> { Relation::has_many(Post::ID, Comment::POST_ID) }
//!     fn author() -> Relation<Post, User> { Relation::belongs_to(Post::AUTHOR_ID, User::ID) }
//! }
//!
//! # async fn run(db: foxdb::Database) -> foxdb::Result<()> {
//! // Three statements: the users, their posts, those posts' comments.
//! let users: Vec<(User, Vec<(Post, Vec<Comment>)>)> = User::find()
//!     .with(
//!         User::posts()
//!             .filter(Post::PUBLISHED.eq(true))
//!             .order_by(Post::CREATED_AT.desc())
//!             .limit(5) // per user
//!             .with(Post::comments().limit(3)), // per post
//!     )
//!     .all(&db)
//!     .await?;
//! for (user, posts) in &users {
//!     for (post, comments) in posts { /* ... */ }
//! }
//!
//! // Two relations side by side; to-one relations as `Option`s.
//! let posts: Vec<(Post, Option<(User, Option<Profile>)>, Vec<Comment>)> = Post::find()
//!     .with(Post::author().one().with(User::profile().one()))
//!     .with(Post::comments())
//!     .all(&db)
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! # Guarantees
//! - One statement per relation level, whatever the number of parents: the keys of all
//!   parents are collected and each distinct key sent once, all as one array parameter:
//!   `= ANY($1)` on PostgreSQL, a JSON array read by `JSON_TABLE` on MySQL and `json_each` on
//!   SQLite (up to 200 keys there, one placeholder per key). A level with no parents (say, no
//!   posts at all) runs no statement.
//! - Filters, orders and limits apply per parent at every level (`limit(5)` is five posts per
//!   user, in SQL), and so does [`Relation::one`]: one row per parent leaves the database,
//!   the first in the relation's order, then by primary key.
//! - A row that belongs to several parents (a tag on several posts, an author of several
//!   posts) comes once per parent, with the same nested rows.
//! - Keys of any column type; a list of keys is one parameter where [`crate::Column::in_`]'s
//!   is.

// The loaders' futures are written out as `impl Future + Send`: an `async fn` in a trait
// cannot promise `Send`.
#![allow(clippy::manual_async_fn)]

use std::future::Future;

use super::{Relation, Shares};
use crate::error::Result;
use crate::executor::Executor;
use crate::model::Model;
use crate::query::Select;

/// Loads, for a list of parents `P`, what each of them gets: implemented by [`Relation`]
/// (a `Vec` per parent) and [`One`] (an `Option`). Not meant to be implemented elsewhere.
pub trait Load<P>: Send + Sync {
    /// What one parent gets.
    type Output: Send;

    /// One entry per parent, `result[i]` for `parents[i]`.
    ///
    /// # Errors
    /// Database and decoding errors.
    fn load<E: Executor>(
        &self,
        parents: &[P],
        executor: E,
    ) -> impl Future<Output = Result<Vec<Self::Output>>> + Send;

    /// The statements this loader runs (and those nested under it), rendered for one
    /// stand-in key: what identifies it in a cache key, and the tables it reads.
    fn statements(&self, backend: crate::Backend, out: &mut Vec<(String, Vec<crate::Value>)>);

    /// Makes this loader (and those nested under it) read every tenant's rows: the
    /// relations of a query with `.all_tenants()` (see [`Relation::all_tenants`]).
    fn reach_all_tenants(&mut self);
}

/// The relations loaded under each row of `M`: `()` for none, or a tuple of up to eight
/// [`Load`]ers, which [`Nested::Row`] turns into the row type.
pub trait Nested<M>: Send + Sync {
    /// A row with what was loaded for it: `M` for `()`, `(M, A::Output)` for `(A,)`,
    /// `(M, A::Output, B::Output)` for `(A, B)`, and so on.
    type Row: Send;

    /// Loads every relation for all of `rows` (one statement per relation level) and pairs
    /// each row with what it got, keeping the order.
    ///
    /// # Errors
    /// Database and decoding errors.
    fn attach<E: Executor>(
        &self,
        rows: Vec<M>,
        executor: E,
    ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send;

    /// The statements of every relation, as [`Load::statements`].
    fn statements(&self, backend: crate::Backend, out: &mut Vec<(String, Vec<crate::Value>)>);

    /// Every relation reads every tenant's rows, as [`Load::reach_all_tenants`].
    fn reach_all_tenants(&mut self);
}

/// A [`Load`]er that can join the tuple `N` of the loaders already at one level: what
/// `.with(relation)` uses to grow a level, up to eight relations.
///
/// Eight relations side by side compile:
/// ```no_run
/// # #[derive(Clone, foxdb::Model)]
/// # #[foxdb(table = "users")]
/// # struct User { #[foxdb(primary_key)] id: i64, manager_id: i64 }
/// use foxdb::{ModelExt, Relation};
///
/// # async fn run(db: foxdb::Database) -> foxdb::Result<()> {
/// let reports = || Relation::has_many(User::ID, User::MANAGER_ID);
/// let rows = User::find()
///     .with(reports()).with(reports()).with(reports()).with(reports())
///     .with(reports()).with(reports()).with(reports()).with(reports())
///     .all(&db)
///     .await?;
/// # Ok(()) }
/// ```
/// A ninth does not ("at most eight relations load side by side at one level"):
/// ```compile_fail
/// # #[derive(Clone, foxdb::Model)]
/// # #[foxdb(table = "users")]
/// # struct User { #[foxdb(primary_key)] id: i64, manager_id: i64 }
/// use foxdb::{ModelExt, Relation};
///
/// # async fn run(db: foxdb::Database) -> foxdb::Result<()> {
/// let reports = || Relation::has_many(User::ID, User::MANAGER_ID);
/// let rows = User::find()
///     .with(reports()).with(reports()).with(reports()).with(reports())
///     .with(reports()).with(reports()).with(reports()).with(reports())
///     .with(reports())
///     .all(&db)
///     .await?;
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "at most eight relations load side by side at one level",
    label = "a ninth relation at this level",
    note = "nest the extra relation under another (`Relation::with`), or load it on its own with `Relation::load_for`"
)]
pub trait AppendTo<N> {
    /// The level's loaders with this one at the end.
    type Level;

    /// `(A, B)` → `(A, B, self)`.
    fn append_to(self, relations: N) -> Self::Level;
}

impl<M: Model> Nested<M> for () {
    type Row = M;

    fn attach<E: Executor>(
        &self,
        rows: Vec<M>,
        _executor: E,
    ) -> impl Future<Output = Result<Vec<M>>> + Send {
        async move { Ok(rows) }
    }

    fn statements(&self, _backend: crate::Backend, _out: &mut Vec<(String, Vec<crate::Value>)>) {}

    fn reach_all_tenants(&mut self) {}
}

impl<R> AppendTo<()> for R {
    type Level = (R,);

    fn append_to(self, _relations: ()) -> (R,) {
        (self,)
    }
}

/// [`Nested`] for every tuple of one to eight loaders, and [`AppendTo`] every tuple short of
/// that: `relation_tuples!([A a] B b C c)` implements `(A,)`, then grows it one loader at a
/// time up to `(A, B, C)`. `$name`s are the loaders' types, `$value`s what each loaded.
macro_rules! relation_tuples {
    (@nested $($name:ident $value:ident)+) => {
        impl<M: Model, $($name: Load<M>),+> Nested<M> for ($($name,)+) {
            type Row = (M, $($name::Output,)+);

            // Not `E`: that is one of the loaders.
            fn attach<X: Executor>(
                &self,
                rows: Vec<M>,
                mut executor: X,
            ) -> impl Future<Output = Result<Vec<Self::Row>>> + Send {
                #[allow(non_snake_case)]
                let ($($name,)+) = self;
                async move {
                    $(let mut $value = $name.load(&rows, &mut executor).await?.into_iter();)+
                    // Every loader returns one entry per row.
                    Ok(rows
                        .into_iter()
                        .filter_map(|row| Some((row, $($value.next()?,)+)))
                        .collect())
                }
            }

            fn statements(&self, backend: crate::Backend, out: &mut Vec<(String, Vec<crate::Value>)>) {
                #[allow(non_snake_case)]
                let ($($name,)+) = self;
                $($name.statements(backend, out);)+
            }

            fn reach_all_tenants(&mut self) {
                #[allow(non_snake_case)]
                let ($($name,)+) = self;
                $($name.reach_all_tenants();)+
            }
        }
    };
    ([$($name:ident $value:ident)+] $next:ident $next_value:ident $($rest:ident $rest_value:ident)*) => {
        relation_tuples!(@nested $($name $value)+);

        impl<$($name,)+ $next> AppendTo<($($name,)+)> for $next {
            type Level = ($($name,)+ $next,);

            #[allow(non_snake_case)]
            fn append_to(self, relations: ($($name,)+)) -> Self::Level {
                let ($($name,)+) = relations;
                ($($name,)+ self,)
            }
        }

        relation_tuples!([$($name $value)+ $next $next_value] $($rest $rest_value)*);
    };
    // The largest tuple: nothing can be appended to it.
    ([$($name:ident $value:ident)+]) => {
        relation_tuples!(@nested $($name $value)+);
    };
}

relation_tuples!([A a] B b C c D d E e F f G g H h);

impl<P: Model, C: Model, N: Nested<C>> Load<P> for Relation<P, C, N> {
    type Output = Vec<N::Row>;

    fn load<E: Executor>(
        &self,
        parents: &[P],
        mut executor: E,
    ) -> impl Future<Output = Result<Vec<Vec<N::Row>>>> + Send {
        async move {
            if parents.is_empty() {
                return Ok(Vec::new());
            }
            let children = self.load_children(parents, &mut executor).await?;
            // The next level loads for every child of every parent at once, then the rows
            // are dealt back to their parents. Parents sharing a key get copies of its
            // children first, and the next level loads under every copy.
            let (children, shares) = if children.shared() {
                let per_parent = children.per_parent();
                let counts = per_parent.iter().map(Vec::len).collect();
                (
                    per_parent.into_iter().flatten().collect(),
                    Shares::in_order(counts),
                )
            } else {
                children.into_shares()
            };
            let rows = self.nested.attach(children, executor).await?;
            Ok(shares.deal(rows))
        }
    }

    fn statements(&self, backend: crate::Backend, out: &mut Vec<(String, Vec<crate::Value>)>) {
        out.push(self.batch_sql(backend, &[crate::Value::Int(0)]));
        self.nested.statements(backend, out);
    }

    fn reach_all_tenants(&mut self) {
        self.all_tenants = true;
        self.nested.reach_all_tenants();
    }
}

/// A relation loaded as each parent's first related row, if any (an `Option` instead of a
/// `Vec`): `Post::author().one()`, made by [`Relation::one`], which fetches no other row.
#[derive(Clone, Debug)]
pub struct One<R> {
    relation: R,
}

impl<R> One<R> {
    pub(super) fn new(relation: R) -> Self {
        Self { relation }
    }

    /// The relation that loads a list per parent, of which each parent gets the first.
    pub(super) fn list(&self) -> &R {
        &self.relation
    }

    pub(super) fn list_mut(&mut self) -> &mut R {
        &mut self.relation
    }

    pub(super) fn into_list(self) -> R {
        self.relation
    }
}

impl<P: Model, C: Model, N> One<Relation<P, C, N>> {
    /// Also loads `relation` under the related row (see [`Relation::with`]).
    pub fn with<R: Load<C> + AppendTo<N>>(self, relation: R) -> One<Relation<P, C, R::Level>> {
        One::new(self.relation.with(relation))
    }

    /// Each parent's related row, `result[i]` for `parents[i]`: one query per relation level.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn load_for(
        &self,
        parents: &[P],
        executor: impl Executor,
    ) -> Result<Vec<Option<N::Row>>>
    where
        N: Nested<C>,
    {
        self.load(parents, executor).await
    }
}

impl<P: Model, C: Model, N: Nested<C>> Load<P> for One<Relation<P, C, N>> {
    type Output = Option<N::Row>;

    fn load<E: Executor>(
        &self,
        parents: &[P],
        executor: E,
    ) -> impl Future<Output = Result<Vec<Option<N::Row>>>> + Send {
        async move {
            let lists = self.relation.load(parents, executor).await?;
            Ok(lists
                .into_iter()
                .map(|list| list.into_iter().next())
                .collect())
        }
    }

    fn statements(&self, backend: crate::Backend, out: &mut Vec<(String, Vec<crate::Value>)>) {
        self.relation.statements(backend, out);
    }

    fn reach_all_tenants(&mut self) {
        self.relation.reach_all_tenants();
    }
}

/// Rows of `P` with what the relations `N` load for them:
/// `User::find().with(User::posts()).all(&db)`.
#[derive(Debug)]
pub struct WithRelations<P, N> {
    query: Select<P>,
    relations: N,
}

impl<P: Model> Select<P> {
    /// Loads `relation` for every row the query returns: one more query for all of them
    /// (plus one per level nested in it). Each row comes as `(P, what relation loaded)`.
    /// After [`Select::all_tenants`] the relations read every tenant's rows too.
    pub fn with<R: Load<P>>(self, mut relation: R) -> WithRelations<P, (R,)> {
        if self.core.all_tenants {
            relation.reach_all_tenants();
        }
        WithRelations {
            query: self,
            relations: (relation,),
        }
    }
}

impl<P: Model, N> WithRelations<P, N> {
    /// Keeps parent rows matching `condition`, as [`Select::filter`]: `.with()` and the
    /// query's own clauses come in any order.
    pub fn filter(mut self, condition: crate::Condition<P>) -> Self {
        self.query = self.query.filter(condition);
        self
    }

    /// Sorts the parent rows, as [`Select::order_by`].
    pub fn order_by(mut self, order: impl crate::query::IntoOrder<P>) -> Self {
        self.query = self.query.order_by(order);
        self
    }

    /// At most `count` parent rows, as [`Select::limit`] (each relation's own limit is set on
    /// the relation: `User::posts().limit(5)`).
    pub fn limit(mut self, count: u64) -> Self {
        self.query = self.query.limit(count);
        self
    }

    /// Skips the first `count` parent rows, as [`Select::offset`].
    pub fn offset(mut self, count: u64) -> Self {
        self.query = self.query.offset(count);
        self
    }

    /// Also loads `relation` for every row, beside the others: `(P, A, B)` rows.
    pub fn with<R: Load<P> + AppendTo<N>>(self, mut relation: R) -> WithRelations<P, R::Level> {
        if self.query.core.all_tenants {
            relation.reach_all_tenants();
        }
        WithRelations {
            query: self.query,
            relations: relation.append_to(self.relations),
        }
    }

    /// Reads every tenant's rows, the parents' and those of every relation loaded (see
    /// [`Select::all_tenants`]), whether the relations were added before or after.
    pub fn all_tenants(mut self) -> Self
    where
        N: Nested<P>,
    {
        self.query = self.query.all_tenants();
        self.relations.reach_all_tenants();
        self
    }

    /// Every matching row with what its relations loaded, in the query's order.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn all(&self, mut executor: impl Executor) -> Result<Vec<N::Row>>
    where
        N: Nested<P>,
    {
        if let Some(schema) = &self.query.schema {
            return Err(crate::Error::Unsupported {
                backend: executor.backend(),
                feature: format!(
                    "eager loads of a query of `{}` in schema `{schema}` (`.in_schema`): load each relation with its own `.in_schema` query",
                    P::TABLE
                ),
            });
        }
        let rows = self.query.all(&mut executor).await?;
        self.relations.attach(rows, executor).await
    }

    /// Every statement the query runs, the parents' first, relations rendered for a stand-in
    /// key (see [`Load::statements`]).
    pub fn statements(&self, backend: crate::Backend) -> Vec<(String, Vec<crate::Value>)>
    where
        N: Nested<P>,
    {
        let mut out = vec![self.query.to_sql(backend)];
        self.relations.statements(backend, &mut out);
        out
    }
}
