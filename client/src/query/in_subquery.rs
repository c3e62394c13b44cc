//! `column IN (SELECT ...)`: a column compared with the values another model's query selects.

use super::ast::{Expr, SUBQUERY_ALIAS, Subquery};
use super::column::Column;
use super::condition::Condition;
use super::selection::SelectColumns;
use super::source::Source;
use super::writer::EnumColumns;
use crate::model::{ColumnType, Model};

impl<M: Source, T: ColumnType> Column<M, T> {
    /// `column IN (SELECT other FROM ... WHERE ...)`: the values one column of another query
    /// returns, types checked: `User::ID.in_subquery(Post::find().filter(..).select((Post::AUTHOR_ID,)))`.
    /// The whole query counts: its filter, `group_by`/`having`, and `order_by` with
    /// `limit`/`offset` (in a derived table, which every engine takes).
    pub fn in_subquery<C: Model, U: ColumnType<Compared = T::Compared>>(
        self,
        query: SelectColumns<C, (Column<C, U>,)>,
    ) -> Condition<M> {
        let mut core = query.query.core.requalified(SUBQUERY_ALIAS);
        if !core.is_limited() {
            // Without a limit the order cannot change which values are in the list.
            core.order.clear();
        }
        Condition::new(Expr::InSubquery {
            column: self.name(),
            subquery: Box::new(Subquery {
                table: C::TABLE,
                select_column: query.selection.0.name(),
                core,
                casts: EnumColumns::of::<C>(),
                schema: query.query.schema,
            }),
        })
    }
}
