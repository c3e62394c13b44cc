//! What a join in the query builder ([`crate::query::JoinSelect`]) takes from a relation.

use super::{Link, Relation};
use crate::model::Model;
use crate::query::JoinLink;
use crate::query::ast::Expr;

impl<P: Model, C: Model> Relation<P, C> {
    /// The columns tying `P` rows to `C` rows.
    pub(crate) fn join_link(&self) -> JoinLink {
        match self.link {
            Link::Direct {
                parent_key,
                foreign_key,
            } => JoinLink::Direct {
                from_column: parent_key,
                to_column: foreign_key,
            },
            Link::Through {
                parent_key,
                through,
                through_parent,
                through_child,
                child_key,
            } => JoinLink::Through {
                from_column: parent_key,
                through,
                through_from: through_parent,
                through_to: through_child,
                to_column: child_key,
            },
        }
    }

    /// The condition on the related rows (unqualified), if any.
    pub(crate) fn join_filter(&self) -> Option<&Expr> {
        self.filter.as_ref()
    }

    /// Whether an order or a per-parent limit is set: a join cannot keep them.
    pub(crate) fn is_ordered_or_limited(&self) -> bool {
        !self.order.is_empty() || self.limit.is_some()
    }
}
