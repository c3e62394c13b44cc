//! Join paths: how rows of one table tie to rows of another (a relation, its ends maybe
//! aliased), and the `JOIN ... ON ...` a path becomes in a query.

use std::borrow::Cow;
use std::marker::PhantomData;

use super::ast::Expr;
use super::source::{Alias, Source};
use super::writer::{EnumColumns, SqlWriter};
use crate::model::Model;
use crate::relation::Relation;

/// How rows of one table are tied to rows of another, as columns.
#[derive(Clone, Copy, Debug)]
pub(crate) enum JoinLink {
    /// `to.to_column = from.from_column` (has-many, belongs-to, one-to-one).
    Direct {
        from_column: &'static str,
        to_column: &'static str,
    },
    /// The join table `through` holds `through_from` → `from.from_column` and `through_to` →
    /// `to.to_column` (many-to-many).
    Through {
        from_column: &'static str,
        through: &'static str,
        through_from: &'static str,
        through_to: &'static str,
        to_column: &'static str,
    },
}

impl JoinLink {
    /// The link's names in a fixed order: two for a direct link, five through a join table.
    pub(crate) fn names(self) -> ([&'static str; 5], usize) {
        match self {
            Self::Direct {
                from_column,
                to_column,
            } => ([from_column, to_column, "", "", ""], 2),
            Self::Through {
                from_column,
                through,
                through_from,
                through_to,
                to_column,
            } => (
                [from_column, through, through_from, through_to, to_column],
                5,
            ),
        }
    }
}

/// A way from rows of `F` to rows of `T` that a query can join: a relation
/// (`Post::author()`), possibly with its ends aliased
/// (`User::manager().aliased::<1>()`). A relation's filter becomes part of the join's `ON`
/// condition, so a left join keeps parents without a matching row.
#[derive(Debug)]
pub struct JoinPath<F, T> {
    pub(super) link: JoinLink,
    /// A condition on `T`'s columns, unqualified.
    pub(super) filter: Option<Expr>,
    /// Why the path cannot be joined, reported when the query runs.
    pub(super) problem: Option<String>,
    _sources: PhantomData<fn() -> (F, T)>,
}

/// What [`super::JoinSelect::join`] takes: a [`Relation`] or a [`JoinPath`].
pub trait IntoJoinPath {
    /// The table the path starts from; the query must already have it.
    type From: Source;
    /// The table the path joins.
    type To: Source;

    /// The path.
    fn into_join_path(self) -> JoinPath<Self::From, Self::To>;
}

impl<F: Source, T: Source> IntoJoinPath for JoinPath<F, T> {
    type From = F;
    type To = T;

    fn into_join_path(self) -> JoinPath<F, T> {
        self
    }
}

impl<P: Model, C: Model> IntoJoinPath for Relation<P, C> {
    type From = P;
    type To = C;

    fn into_join_path(self) -> JoinPath<P, C> {
        let problem = self.is_ordered_or_limited().then(|| {
            format!(
                "joining the relation from `{}` to `{}` with an order or limit on it (a join keeps every related row: order and limit the joined query instead)",
                P::TABLE,
                C::TABLE
            )
        });
        JoinPath {
            link: self.join_link(),
            filter: self.join_filter().cloned(),
            problem,
            _sources: PhantomData,
        }
    }
}

impl<F: Source, T: Source> JoinPath<F, T> {
    fn retyped<F2, T2>(self) -> JoinPath<F2, T2> {
        JoinPath {
            link: self.link,
            filter: self.filter,
            problem: self.problem,
            _sources: PhantomData,
        }
    }

    /// Joins the related table under [`Alias`] `N` (`<table>_N`), so a table can be joined
    /// twice (self-joins); its columns are then `Column::aliased::<N>()`.
    pub fn aliased<const N: u8>(self) -> JoinPath<F, Alias<T::Model, N>> {
        self.retyped()
    }

    /// Starts the path from the copy of its first table joined under [`Alias`] `N`
    /// (a manager's manager: `.join(User::manager().from_aliased::<1>().aliased::<2>())`).
    pub fn from_aliased<const N: u8>(self) -> JoinPath<Alias<F::Model, N>, T> {
        self.retyped()
    }
}

impl<P: Model, C: Model> Relation<P, C> {
    /// This relation as a join of `C` under [`Alias`] `N`; see [`JoinPath::aliased`].
    pub fn aliased<const N: u8>(self) -> JoinPath<P, Alias<C, N>> {
        self.into_join_path().aliased()
    }

    /// This relation as a join starting from `P` under [`Alias`] `N`; see
    /// [`JoinPath::from_aliased`].
    pub fn from_aliased<const N: u8>(self) -> JoinPath<Alias<P, N>, C> {
        self.into_join_path().from_aliased()
    }
}

/// One `JOIN` of a query.
#[derive(Clone, Debug)]
pub(super) struct JoinClause {
    pub(super) left: bool,
    pub(super) table: &'static str,
    /// The name the query calls the table by (the table name or an alias).
    pub(super) name: Cow<'static, str>,
    /// The name of the table the link starts from.
    pub(super) from: Cow<'static, str>,
    pub(super) link: JoinLink,
    /// The relation's condition, qualified.
    pub(super) filter: Option<Expr>,
    /// The joined model's enum and tenant columns.
    pub(super) joined: EnumColumns,
}

impl JoinClause {
    /// ` [LEFT|INNER] JOIN table [name] ON ...`; `index` names the join table's alias.
    pub(super) fn render(&self, writer: &mut SqlWriter, index: usize) {
        let keyword = if self.left {
            " LEFT JOIN "
        } else {
            " INNER JOIN "
        };
        let push_table = |writer: &mut SqlWriter| {
            writer.push_identifier(self.table);
            if self.name != self.table {
                writer.push(" ");
                writer.push_identifier(&self.name);
            }
        };
        // The joined table's tenant condition sits in `ON` with the relation's filter, so a
        // left join keeps its parents and shows no other tenant's row.
        let push_filter = |writer: &mut SqlWriter| {
            writer.push_tenant_condition_of(self.joined, Some(&self.name), " AND ");
            if let Some(filter) = &self.filter {
                writer.push(" AND ");
                filter.render(writer);
            }
        };
        match self.link {
            JoinLink::Direct {
                from_column,
                to_column,
            } => {
                writer.push(keyword);
                push_table(writer);
                writer.push(" ON ");
                writer.push_qualified(&self.name, to_column);
                writer.push(" = ");
                writer.push_qualified(&self.from, from_column);
                push_filter(writer);
            }
            JoinLink::Through {
                from_column,
                through,
                through_from,
                through_to,
                to_column,
            } => {
                let through_name = format!("_fox_through_{index}");
                let push_through = |writer: &mut SqlWriter| {
                    writer.push_identifier(through);
                    writer.push(" ");
                    writer.push_identifier(&through_name);
                };
                if self.left {
                    // Join table and related table pair up first, so a parent whose links all
                    // miss the relation's filter still appears once, with NULLs.
                    writer.push(" LEFT JOIN (");
                    push_through(writer);
                    writer.push(" INNER JOIN ");
                    push_table(writer);
                    writer.push(" ON ");
                    writer.push_qualified(&self.name, to_column);
                    writer.push(" = ");
                    writer.push_qualified(&through_name, through_to);
                    push_filter(writer);
                    writer.push(") ON ");
                    writer.push_qualified(&through_name, through_from);
                    writer.push(" = ");
                    writer.push_qualified(&self.from, from_column);
                } else {
                    writer.push(" INNER JOIN ");
                    push_through(writer);
                    writer.push(" ON ");
                    writer.push_qualified(&through_name, through_from);
                    writer.push(" = ");
                    writer.push_qualified(&self.from, from_column);
                    writer.push(" INNER JOIN ");
                    push_table(writer);
                    writer.push(" ON ");
                    writer.push_qualified(&self.name, to_column);
                    writer.push(" = ");
                    writer.push_qualified(&through_name, through_to);
                    push_filter(writer);
                }
            }
        }
    }
}
