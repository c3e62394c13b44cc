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
//! Up to four relations load side by side at one level.
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
//!   parents are collected and each distinct key sent once. PostgreSQL takes them as one array
//!   parameter (`= ANY($1)`); MySQL and SQLite bind them as an `IN` list, in batches that stay
//!   under the engine's parameter limit (more statements only past 65,535 keys on MySQL, 32,766
//!   on SQLite). A level with no parents (say, no posts at all) runs no statement.
//! - Filters, orders and limits apply per parent at every level (`limit(5)` is five posts per
//!   user, in SQL).
//! - A row that belongs to several parents (a tag on several posts, an author of several
//!   posts) comes once per parent, with the same nested rows.
//! - Keys are integers, text or UUIDs.

use std::future::Future;

use super::Relation;
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
}

/// The relations loaded under each row of `M`: `()` for none, or a tuple of up to four
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
}

/// Adds one more [`Load`]er to a tuple of them: what `.with(relation)` uses to grow the
/// relations of one level.
pub trait Append<R> {
    /// The tuple with `R` at the end.
    type Output;

    /// `(A, B)` → `(A, B, relation)`.
    fn append(self, relation: R) -> Self::Output;
}

impl<M: Model> Nested<M> for () {
    type Row = M;

    #[allow(clippy::manual_async_fn)] // `async fn` cannot promise `Send` here
    fn attach<E: Executor>(
        &self,
        rows: Vec<M>,
        _executor: E,
    ) -> impl Future<Output = Result<Vec<M>>> + Send {
        async move { Ok(rows) }
    }
}

impl<R> Append<R> for () {
    type Output = (R,);

    fn append(self, relation: R) -> (R,) {
        (relation,)
    }
}

/// `Nested` for tuples of loaders: `$name`s are the loaders, `$value`s what each loaded.
macro_rules! nested_tuples {
    ($(($($name:ident $value:ident),+);)+) => {$(
        impl<M: Model, $($name: Load<M>),+> Nested<M> for ($($name,)+) {
            type Row = (M, $($name::Output,)+);

            #[allow(clippy::manual_async_fn)] // `async fn` cannot promise `Send` here
            fn attach<E: Executor>(
                &self,
                rows: Vec<M>,
                mut executor: E,
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
        }
    )+};
}

nested_tuples! {
    (A a);
    (A a, B b);
    (A a, B b, C c);
    (A a, B b, C c, D d);
}

/// `Append` for tuples of fewer than four loaders.
macro_rules! append_tuples {
    ($(($($name:ident),+) + $next:ident;)+) => {$(
        impl<$($name,)+ $next> Append<$next> for ($($name,)+) {
            type Output = ($($name,)+ $next,);

            #[allow(non_snake_case)]
            fn append(self, relation: $next) -> Self::Output {
                let ($($name,)+) = self;
                ($($name,)+ relation,)
            }
        }
    )+};
}

append_tuples! {
    (A) + B;
    (A, B) + C;
    (A, B, C) + D;
}

impl<P: Model, C: Model, N: Nested<C>> Load<P> for Relation<P, C, N> {
    type Output = Vec<N::Row>;

    #[allow(clippy::manual_async_fn)] // `async fn` cannot promise `Send` here
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
            // are dealt back to their parents.
            let counts: Vec<usize> = children.iter().map(Vec::len).collect();
            let all: Vec<C> = children.into_iter().flatten().collect();
            let mut rows = self.nested.attach(all, executor).await?.into_iter();
            Ok(counts
                .into_iter()
                .map(|count| rows.by_ref().take(count).collect())
                .collect())
        }
    }
}

/// A relation loaded as each parent's first related row, if any (an `Option` instead of a
/// `Vec`): `Post::author().one()`, made by [`Relation::one`].
#[derive(Clone, Debug)]
pub struct One<R> {
    relation: R,
}

impl<R> One<R> {
    pub(super) fn new(relation: R) -> Self {
        Self { relation }
    }
}

impl<P: Model, C: Model, N> One<Relation<P, C, N>> {
    /// Also loads `relation` under the related row (see [`Relation::with`]).
    pub fn with<R: Load<C>>(self, relation: R) -> One<Relation<P, C, N::Output>>
    where
        N: Append<R>,
    {
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

    #[allow(clippy::manual_async_fn)] // `async fn` cannot promise `Send` here
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
    pub fn with<R: Load<P>>(self, relation: R) -> WithRelations<P, (R,)> {
        WithRelations {
            query: self,
            relations: (relation,),
        }
    }
}

impl<P: Model, N> WithRelations<P, N> {
    /// Also loads `relation` for every row, beside the others: `(P, A, B)` rows.
    pub fn with<R: Load<P>>(self, relation: R) -> WithRelations<P, N::Output>
    where
        N: Append<R>,
    {
        WithRelations {
            query: self.query,
            relations: self.relations.append(relation),
        }
    }

    /// Every matching row with what its relations loaded, in the query's order.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn all(&self, mut executor: impl Executor) -> Result<Vec<N::Row>>
    where
        N: Nested<P>,
    {
        let rows = self.query.all(&mut executor).await?;
        self.relations.attach(rows, executor).await
    }
}
