//! What only MySQL's (and MariaDB's) driver needs: how values bind, rows and statement results.

use sqlx::mysql::{MySqlQueryResult, MySqlRow};

use crate::connection::DecimalBinding;
use crate::executor::Executed;
use crate::row::Row;

impl DecimalBinding for sqlx::MySql {
    fn bind_decimal<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>,
        value: rust_decimal::Decimal,
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments> {
        query.bind(value)
    }
}

impl From<MySqlRow> for Row {
    fn from(row: MySqlRow) -> Self {
        Self::MySql(row)
    }
}

impl From<MySqlQueryResult> for Executed {
    fn from(result: MySqlQueryResult) -> Self {
        Self {
            rows_affected: result.rows_affected(),
            last_insert_id: Some(result.last_insert_id()),
        }
    }
}
