//! The tables a joined query reads, as types: a model, or an aliased copy of one (self-joins),
//! and the list of them a query carries so that the compiler refuses a column of a table the
//! query does not have.
//!
//! A joined query over `Post` and `User` has the type-level list
//! `(Joined<User>, (Joined<Post>, ()))`; `.filter(c)` takes a `Condition<S>` only when the list
//! [`Contains`] `S`. The index parameter `I` of `Contains` says where `S` sits; the compiler
//! infers it, and the inference fails (a compile error) when `S` is not in the list or sits in
//! it twice, which is when a column would be ambiguous: join the second copy under an
//! [`Alias`].

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::model::Model;
use crate::row::FromColumn;

/// A table a query reads: a model under its table name, or an [`Alias`] of one.
pub trait Source: Send + Sync + 'static {
    /// The model whose rows it holds.
    type Model: Model;

    /// The name the query refers to it by: the table name, or the alias.
    fn name() -> Cow<'static, str>;
}

impl<M: Model> Source for M {
    type Model = M;

    fn name() -> Cow<'static, str> {
        Cow::Borrowed(M::TABLE)
    }
}

/// Model `M` joined a second time under the alias `<table>_<N>`, for self-joins
/// (`users.manager`): `User::find().join(User::manager().aliased::<1>())`, its columns
/// `User::NAME.aliased::<1>()`. Never constructed; it only names the copy.
pub struct Alias<M, const N: u8>(PhantomData<fn() -> M>);

impl<M, const N: u8> std::fmt::Debug for Alias<M, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Alias<{N}>")
    }
}

impl<M: Model, const N: u8> Source for Alias<M, N> {
    type Model = M;

    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("{}_{N}", M::TABLE))
    }
}

/// A table of the query that every result row has: the queried model and inner joins.
pub struct Joined<S>(PhantomData<fn() -> S>);

/// A left-joined table: its columns are NULL in rows without a match, so they decode into
/// `Option`s.
pub struct LeftJoined<S>(PhantomData<fn() -> S>);

impl<S> std::fmt::Debug for Joined<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Joined")
    }
}

impl<S> std::fmt::Debug for LeftJoined<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LeftJoined")
    }
}

/// The table list of a query of `M` before any join.
pub type Root<M> = (Joined<M>, ());

/// Index of a source at the head of the list.
#[derive(Debug)]
pub struct Here;

/// Index of a source further down the list.
#[derive(Debug)]
pub struct There<I>(PhantomData<I>);

/// The list of a query's tables holds `S` (at index `I`, which the compiler infers).
#[diagnostic::on_unimplemented(
    message = "`{S}` is not a table of this query",
    label = "this column or condition belongs to a table the query does not read",
    note = "join it first (`.join(relation)` / `.left_join(relation)`); a table joined twice needs an alias (`relation.aliased::<1>()`, `Column::aliased::<1>()`)"
)]
pub trait Contains<S, I> {
    /// Whether the table's columns may be NULL in a result row.
    type Nullness: Nullness;
}

impl<S, T> Contains<S, Here> for (Joined<S>, T) {
    type Nullness = NotNull;
}

impl<S, T> Contains<S, Here> for (LeftJoined<S>, T) {
    type Nullness = MaybeNull;
}

impl<S, H, T: Contains<S, I>, I> Contains<S, There<I>> for (H, T) {
    type Nullness = T::Nullness;
}

/// Columns of an inner-joined table decode as their own type.
#[derive(Debug)]
pub struct NotNull;

/// Columns of a left-joined table decode as `Option`s.
#[derive(Debug)]
pub struct MaybeNull;

/// How a column of a table decodes in a joined query.
pub trait Nullness {
    /// The Rust type a column of type `T` decodes into.
    type Of<T: Nullable>: FromColumn;
}

impl Nullness for NotNull {
    type Of<T: Nullable> = T;
}

impl Nullness for MaybeNull {
    type Of<T: Nullable> = T::OrNull;
}

/// A column type and its `Option`: `i64` → `Option<i64>`, `Option<i64>` → `Option<i64>`.
pub trait Nullable: FromColumn {
    /// The type when the row may have no value.
    type OrNull: FromColumn;
}

macro_rules! nullable {
    ($($ty:ty),* $(,)?) => {
        $(impl Nullable for $ty {
            type OrNull = Option<$ty>;
        })*
    };
}

crate::model::for_column_types!(nullable);

impl<T: FromColumn> Nullable for Option<T> {
    type OrNull = Option<T>;
}
