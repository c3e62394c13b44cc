//! Statement parameters: each [`Value`] is sent with the type sqlx would send it with (the
//! statement is prepared with those types), so a statement means the same on either driver —
//! text stays `text` until the SQL casts it, a NULL takes the type of where it is used.

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, Kind, ToSql, Type, to_sql_checked};

use crate::connection::Value;

/// PostgreSQL's "unspecified" parameter type (OID 0): the server infers it from the
/// statement, as it does for sqlx's untyped NULL.
fn unspecified() -> Type {
    Type::new("unknown".into(), 0, Kind::Pseudo, "pg_catalog".into())
}

/// The type `value` is sent as.
pub(crate) fn parameter_type(value: &Value) -> Type {
    match value {
        Value::Null | Value::CurrentTenant => unspecified(),
        Value::Bool(_) => Type::BOOL,
        Value::Int(_) => Type::INT8,
        Value::Float(_) => Type::FLOAT8,
        Value::Text(_) => Type::TEXT,
        Value::Bytes(_) => Type::BYTEA,
        Value::Uuid(_) => Type::UUID,
        Value::TimestampTz(_) => Type::TIMESTAMPTZ,
        Value::Timestamp(_) => Type::TIMESTAMP,
        Value::Date(_) => Type::DATE,
        Value::Time(_) => Type::TIME,
        Value::Json(_) => Type::JSONB,
        Value::Decimal(_) => Type::NUMERIC,
    }
}

/// The OID `value` is sent as: what a prepared statement's parameter types are compared by.
pub(crate) fn parameter_oid(value: &Value) -> u32 {
    match value {
        Value::Null | Value::CurrentTenant => 0,
        Value::Bool(_) => Type::BOOL.oid(),
        Value::Int(_) => Type::INT8.oid(),
        Value::Float(_) => Type::FLOAT8.oid(),
        Value::Text(_) => Type::TEXT.oid(),
        Value::Bytes(_) => Type::BYTEA.oid(),
        Value::Uuid(_) => Type::UUID.oid(),
        Value::TimestampTz(_) => Type::TIMESTAMPTZ.oid(),
        Value::Timestamp(_) => Type::TIMESTAMP.oid(),
        Value::Date(_) => Type::DATE.oid(),
        Value::Time(_) => Type::TIME.oid(),
        Value::Json(_) => Type::JSONB.oid(),
        Value::Decimal(_) => Type::NUMERIC.oid(),
    }
}

/// A [`Value`] as a tokio-postgres parameter.
#[derive(Debug)]
pub(crate) struct Parameter<'a>(pub(crate) &'a Value);

impl ToSql for Parameter<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            // `CurrentTenant` is refused before binding; were it bound, NULL matches no
            // tenant's row.
            Value::Null | Value::CurrentTenant => Ok(IsNull::Yes),
            Value::Bool(b) => b.to_sql(ty, out),
            Value::Int(i) => i.to_sql(ty, out),
            Value::Float(x) => x.to_sql(ty, out),
            Value::Text(s) => s.as_str().to_sql(ty, out),
            Value::Bytes(b) => b.as_slice().to_sql(ty, out),
            Value::Uuid(id) => id.to_sql(ty, out),
            Value::TimestampTz(t) => t.to_sql(ty, out),
            Value::Timestamp(t) => t.to_sql(ty, out),
            Value::Date(d) => d.to_sql(ty, out),
            Value::Time(t) => t.to_sql(ty, out),
            Value::Json(j) => j.to_sql(ty, out),
            Value::Decimal(d) => d.to_sql(ty, out),
        }
    }

    /// The statement was prepared with each value's own type ([`parameter_type`]); a NULL's
    /// inferred type takes any.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}
