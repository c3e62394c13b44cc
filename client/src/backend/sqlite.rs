//! What only SQLite's driver needs: how values bind, rows and statement results.

use sqlx::sqlite::{SqliteQueryResult, SqliteRow};

use crate::connection::DecimalBinding;
use crate::executor::Executed;
use crate::row::Row;

impl DecimalBinding for sqlx::Sqlite {
    // SQLite has no exact decimal type: the text keeps every digit.
    fn bind_decimal<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>,
        value: rust_decimal::Decimal,
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments> {
        query.bind(value.to_string())
    }
}

impl From<SqliteRow> for Row {
    fn from(row: SqliteRow) -> Self {
        Self::Sqlite(row)
    }
}

impl From<SqliteQueryResult> for Executed {
    fn from(result: SqliteQueryResult) -> Self {
        Self {
            rows_affected: result.rows_affected(),
            last_insert_id: None,
        }
    }
}
