//! What only PostgreSQL's driver needs: how values bind, rows and statement results.

use sqlx::postgres::{PgArgumentBuffer, PgQueryResult, PgRow, PgTypeInfo};

use crate::connection::DecimalBinding;
use crate::executor::Executed;
use crate::row::Row;

/// A NULL whose type PostgreSQL infers from where it is used (parameter type OID 0): a
/// text-typed NULL fails in `INSERT ... VALUES ($1)` into a `bigint` column.
#[derive(Debug)]
struct UntypedNull;

impl sqlx::Type<sqlx::Postgres> for UntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for UntypedNull {
    fn encode_by_ref(
        &self,
        _buffer: &mut PgArgumentBuffer,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

impl DecimalBinding for sqlx::Postgres {
    fn bind_decimal<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>,
        value: rust_decimal::Decimal,
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments> {
        query.bind(value)
    }

    // PostgreSQL's own `uuid` type.
    fn bind_uuid<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>,
        value: uuid::Uuid,
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>
    where
        String: sqlx::Encode<'q, Self> + sqlx::Type<Self>,
    {
        query.bind(value)
    }

    // Untyped: PostgreSQL infers the NULL's type from the statement (a text NULL fails in a
    // bigint column).
    fn bind_null<'q>(
        query: sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>,
    ) -> sqlx::query::Query<'q, Self, <Self as sqlx::Database>::Arguments>
    where
        Option<String>: sqlx::Encode<'q, Self> + sqlx::Type<Self>,
    {
        query.bind(None::<UntypedNull>)
    }
}

impl From<PgRow> for Row {
    fn from(row: PgRow) -> Self {
        Self::Postgres(row)
    }
}

impl From<tokio_postgres::Row> for Row {
    fn from(row: tokio_postgres::Row) -> Self {
        Self::TokioPostgres(row)
    }
}

impl From<PgQueryResult> for Executed {
    fn from(result: PgQueryResult) -> Self {
        Self {
            rows_affected: result.rows_affected(),
            last_insert_id: None,
        }
    }
}
