//! Conditions: the typed handle on an expression ([`Expr`]) that says which model it filters.

use super::writer::EnumColumns;
use std::marker::PhantomData;

use super::ast::{Expr, Operator};
use super::source::Source;
use crate::connection::Value;
use crate::model::Model;

/// A condition on rows of model `M`; a condition on another model's columns does not compile
/// where `M`'s is expected.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition<M> {
    pub(crate) expr: Expr,
    _model: PhantomData<fn() -> M>,
}

impl<M> Condition<M> {
    pub(crate) fn new(expr: Expr) -> Self {
        Self {
            expr,
            _model: PhantomData,
        }
    }

    /// `existing AND self`, or just `self`: how repeated `filter` / `having` calls combine.
    pub(crate) fn and_after(self, existing: Option<Expr>) -> Expr {
        match existing {
            Some(existing) => Condition::<M>::new(existing).and(self).expr,
            None => self.expr,
        }
    }

    /// Both conditions hold.
    pub fn and(self, other: Condition<M>) -> Condition<M> {
        Condition::new(match self.expr {
            Expr::And(mut all) => {
                all.push(other.expr);
                Expr::And(all)
            }
            expr => Expr::And(vec![expr, other.expr]),
        })
    }

    /// Either condition holds.
    pub fn or(self, other: Condition<M>) -> Condition<M> {
        Condition::new(match self.expr {
            Expr::Or(mut any) => {
                any.push(other.expr);
                Expr::Or(any)
            }
            expr => Expr::Or(vec![expr, other.expr]),
        })
    }

    /// The condition does not hold.
    #[allow(clippy::should_implement_trait)]
    pub fn not(self) -> Condition<M> {
        Condition::new(Expr::Not(Box::new(self.expr)))
    }
}

impl Expr {
    /// This condition on the columns of the joined table (or alias) `source`.
    pub(crate) fn qualified<S: Source>(self) -> Expr {
        Expr::Qualified {
            source: S::name(),
            casts: EnumColumns::of::<S::Model>(),
            expr: Box::new(self),
        }
    }
}

/// A condition matching `model`'s row by primary key.
pub(crate) fn key_condition<M: Model>(model: &M) -> Condition<M> {
    let values = model.values();
    let parts: Vec<Expr> = M::PRIMARY_KEY
        .iter()
        .map(|key| Expr::Compare {
            column: key,
            operator: Operator::Eq,
            value: values
                .iter()
                .find(|(c, _)| c == key)
                .map_or(Value::Null, |(_, v)| v.clone()),
        })
        .collect();
    Condition::new(Expr::And(parts))
}
