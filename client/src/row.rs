//! A fetched row, whatever the engine, and typed access to its columns.

use sqlx::Row as _;

use crate::Backend;
use crate::backend::on_engine;
#[cfg(feature = "postgres")]
use crate::backend::postgres_tokio as tokio_pg;
use crate::error::{Error, Result};

/// One row of a result. Only the engines compiled in (foxdb's `postgres`, `mysql` and `sqlite`
/// cargo features) have a variant.
#[derive(Debug)]
pub enum Row {
    /// From PostgreSQL.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::postgres::PgRow),
    /// From MySQL / MariaDB.
    #[cfg(feature = "mysql")]
    MySql(sqlx::mysql::MySqlRow),
    /// From SQLite.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::sqlite::SqliteRow),
    /// From PostgreSQL through tokio-postgres ([`crate::PostgresDriver::TokioPostgres`]).
    #[cfg(feature = "postgres")]
    TokioPostgres(tokio_postgres::Row),
}

/// A struct decoded from a row of any query (`#[derive(foxdb::FromRow)]`), for
/// [`crate::Database::raw`].
pub trait FromRow: Sized {
    /// Decodes the row.
    ///
    /// # Errors
    /// A column is missing or holds another type.
    fn from_row(row: &Row) -> Result<Self>;
}

/// A Rust type every engine can decode a column into (`Send`: rows are decoded as they arrive,
/// inside the query's future).
pub trait FromColumn: Sized + Send {
    /// What the field holds, for [`crate::Database::verify`]; a type of the application's own
    /// is [`crate::verify::FieldKind::Unchecked`] unless it says otherwise.
    const FIELD: crate::verify::FieldShape =
        crate::verify::FieldShape::of(crate::verify::FieldKind::Unchecked);

    /// Decodes `column` of `row`.
    ///
    /// # Errors
    /// Missing column or a value of another type.
    fn from_column(row: &Row, column: &str) -> std::result::Result<Self, sqlx::Error>;

    /// Decodes the column at `index` (from 0) of `row`: what foxdb's own queries use, as they
    /// know their column order. The default looks the column's name up and calls
    /// [`FromColumn::from_column`]; foxdb's implementations read the position directly.
    ///
    /// # Errors
    /// No such column, or a value of another type.
    fn from_column_at(row: &Row, index: usize) -> std::result::Result<Self, sqlx::Error> {
        let name = row
            .column_name(index)
            .ok_or_else(|| sqlx::Error::ColumnNotFound(format!("#{index}")))?;
        Self::from_column(row, &name)
    }

    /// Decodes the column at `index`, `None` for NULL: what `Option<Self>` reads. The default
    /// asks the row whether the value is NULL, then decodes it; foxdb's own types read the
    /// column once. A NULL is `None` whatever the column's type, either way.
    ///
    /// # Errors
    /// No such column, or a value of another type.
    #[doc(hidden)]
    fn from_nullable_column_at(
        row: &Row,
        index: usize,
    ) -> std::result::Result<Option<Self>, sqlx::Error> {
        in_two_reads(row, index)
    }
}

/// The column at `index` as `Option<T>`, read twice: whether it is NULL, then the value.
fn in_two_reads<T: FromColumn>(
    row: &Row,
    index: usize,
) -> std::result::Result<Option<T>, sqlx::Error> {
    if row.is_null_at(index)? {
        Ok(None)
    } else {
        T::from_column_at(row, index).map(Some)
    }
}

/// A value of `column` (a name or a position) that the driver read but foxdb could not convert.
fn decode_error(
    column: &impl std::fmt::Display,
    error: impl std::error::Error + Send + Sync + 'static,
) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: Box::new(error),
    }
}

/// The field kind of each type foxdb decodes itself.
const fn field_kind<T: KnownField>() -> crate::verify::FieldKind {
    T::KIND
}

/// The kinds of the types foxdb decodes itself.
trait KnownField {
    const KIND: crate::verify::FieldKind;
}

macro_rules! known_fields {
    ($($ty:ty => $kind:expr),* $(,)?) => {
        $(impl KnownField for $ty {
            const KIND: crate::verify::FieldKind = $kind;
        })*
    };
}

known_fields! {
    bool => crate::verify::FieldKind::Bool,
    i16 => crate::verify::FieldKind::Integer(16),
    i32 => crate::verify::FieldKind::Integer(32),
    i64 => crate::verify::FieldKind::Integer(64),
    u64 => crate::verify::FieldKind::Unsigned,
    f32 => crate::verify::FieldKind::Float32,
    f64 => crate::verify::FieldKind::Float64,
    String => crate::verify::FieldKind::Text,
    Vec<u8> => crate::verify::FieldKind::Bytes,
    chrono::DateTime<chrono::Utc> => crate::verify::FieldKind::TimestampTz,
    chrono::NaiveDateTime => crate::verify::FieldKind::Timestamp,
    chrono::NaiveDate => crate::verify::FieldKind::Date,
    chrono::NaiveTime => crate::verify::FieldKind::Time,
    serde_json::Value => crate::verify::FieldKind::Json,
    uuid::Uuid => crate::verify::FieldKind::Uuid,
    rust_decimal::Decimal => crate::verify::FieldKind::Decimal,
}

/// `FromColumn` for `$ty`, by name and by position, from one body: `$column` is a `&str` in
/// one and a `usize` in the other (both index a driver's row and display in messages). With
/// `nullable:`, the second body reads the column at a position into an `Option` in one read.
macro_rules! from_column {
    ($ty:ty, |$row:ident, $column:ident| $body:expr) => {
        from_column!($ty, |$row, $column| $body, nullable: |row, index| in_two_reads(row, index));
    };
    ($ty:ty, |$row:ident, $column:ident| $body:expr, nullable: |$nullable_row:ident, $index:ident| $nullable:expr) => {
        impl FromColumn for $ty {
            const FIELD: crate::verify::FieldShape =
                crate::verify::FieldShape::of(field_kind::<$ty>());

            fn from_column($row: &Row, $column: &str) -> std::result::Result<Self, sqlx::Error> {
                $body
            }

            fn from_column_at(
                $row: &Row,
                $column: usize,
            ) -> std::result::Result<Self, sqlx::Error> {
                $body
            }

            fn from_nullable_column_at(
                $nullable_row: &Row,
                $index: usize,
            ) -> std::result::Result<Option<Self>, sqlx::Error> {
                $nullable
            }
        }
    };
}

/// Types every engine's driver decodes natively.
macro_rules! native_columns {
    ($($ty:ty),* $(,)?) => {
        $(from_column!(
            $ty,
            |row, column| on_engine!(row, Row(r) => r.try_get(column),
                Row::TokioPostgres(r) => tokio_pg::get(r, column)),
            nullable: |row, index| on_engine!(row, Row(r) => r.try_get(index),
                Row::TokioPostgres(r) => tokio_pg::get_nullable(r, index))
        );)*
    };
}

native_columns!(
    bool,
    f32,
    Vec<u8>,
    chrono::DateTime<chrono::Utc>,
    chrono::NaiveDateTime,
    chrono::NaiveDate,
    chrono::NaiveTime,
);

// Text: text-like columns, and on tokio-postgres enum labels too (sqlx reads those as text on
// PostgreSQL when the statement casts them, which foxdb's statements do).
from_column!(
    String,
    |row, column| on_engine!(row, Row(r) => r.try_get(column),
    Row::TokioPostgres(r) => tokio_pg::get_text(r, column)),
    nullable: |row, index| on_engine!(row, Row(r) => r.try_get(index),
    Row::TokioPostgres(r) => tokio_pg::get_nullable_text(r, index))
);

// Integers decode into any integer field whose range holds the value, on every engine: MySQL's
// and SQLite's drivers do so, PostgreSQL's wants the column's exact width (an `i64` field over
// an `integer`/`serial` column would fail there only). The column's own width is read first, so
// the usual case costs one attempt.
macro_rules! integer_columns {
    ($($ty:ty),* $(,)?) => {
        $(from_column!($ty, |row, column| match row {
            #[cfg(feature = "postgres")]
            Row::Postgres(r) => postgres_integer(r, column),
            #[cfg(feature = "postgres")]
            Row::TokioPostgres(r) => tokio_pg::get_integer(r, column),
            #[cfg(feature = "mysql")]
            Row::MySql(r) => r.try_get(column),
            #[cfg(feature = "sqlite")]
            Row::Sqlite(r) => r
                .try_get(column)
                .map_err(|error| sqlite_text_for_number(r, column, error)),
        }, nullable: |row, index| match row {
            // The column's width is read first there.
            #[cfg(feature = "postgres")]
            Row::Postgres(_) => in_two_reads(row, index),
            #[cfg(feature = "postgres")]
            Row::TokioPostgres(r) => tokio_pg::get_nullable_integer(r, index),
            #[cfg(feature = "mysql")]
            Row::MySql(r) => r.try_get(index),
            #[cfg(feature = "sqlite")]
            Row::Sqlite(r) => r
                .try_get(index)
                .map_err(|error| sqlite_text_for_number(r, index, error)),
        });)*
    };
}

integer_columns!(i16, i32, i64);

/// Why an SQLite value did not decode into an integer field: SQLite's column types take any
/// value, so a number column can hold text (a row changed by hand); that text is named,
/// never read as 0. Any other mismatch keeps the driver's error.
#[cfg(feature = "sqlite")]
fn sqlite_text_for_number<I>(
    row: &sqlx::sqlite::SqliteRow,
    column: I,
    error: sqlx::Error,
) -> sqlx::Error
where
    I: sqlx::ColumnIndex<sqlx::sqlite::SqliteRow> + std::fmt::Display + Copy,
{
    match row.try_get::<String, _>(column) {
        Ok(text) => decode_error(
            &column,
            std::io::Error::other(format!("{text:?} is not a number")),
        ),
        Err(_) => error,
    }
}

/// A PostgreSQL `smallint`, `integer` or `bigint` column into `T`, refusing values out of
/// `T`'s range.
#[cfg(feature = "postgres")]
fn postgres_integer<T, I>(
    row: &sqlx::postgres::PgRow,
    column: I,
) -> std::result::Result<T, sqlx::Error>
where
    T: TryFrom<i64> + for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    <T as TryFrom<i64>>::Error: std::error::Error + Send + Sync + 'static,
    I: sqlx::ColumnIndex<sqlx::postgres::PgRow> + std::fmt::Display + Copy,
{
    use sqlx::TypeInfo as _;
    // The column's own width first: one attempt in the usual case.
    let error = match row.try_get::<T, _>(column) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    let raw = row.try_get_raw(column)?;
    let wide: i64 = match sqlx::ValueRef::type_info(&raw).name() {
        "INT2" => i64::from(row.try_get::<i16, _>(column)?),
        "INT4" => i64::from(row.try_get::<i32, _>(column)?),
        "INT8" => row.try_get::<i64, _>(column)?,
        // Not an integer column: the driver's own message says which type it is.
        _ => return Err(error),
    };
    T::try_from(wide).map_err(|e| decode_error(&column, e))
}

// Floating point: a `real` column reads into an `f64` field on every engine.
from_column!(f64, |row, column| match row {
    #[cfg(feature = "postgres")]
    Row::Postgres(r) => r.try_get::<f64, _>(column).or_else(|error| r
        .try_get::<f32, _>(column)
        .map(f64::from)
        .map_err(|_| error)),
    #[cfg(feature = "postgres")]
    Row::TokioPostgres(r) => tokio_pg::get::<f64>(r, column).or_else(|error| {
        tokio_pg::get::<f32>(r, column)
            .map(f64::from)
            .map_err(|_| error)
    }),
    #[cfg(feature = "mysql")]
    Row::MySql(r) => r.try_get(column),
    #[cfg(feature = "sqlite")]
    Row::Sqlite(r) => r.try_get(column),
});

// Unsigned 64-bit integers: native on MySQL (`BIGINT UNSIGNED`); on PostgreSQL and SQLite,
// which have no unsigned types, a non-negative `BIGINT`.
from_column!(u64, |row, column| {
    #[cfg(any(feature = "postgres", feature = "sqlite"))]
    let in_range = |value: i64| u64::try_from(value).map_err(|e| decode_error(&column, e));
    match row {
        #[cfg(feature = "mysql")]
        Row::MySql(r) => r.try_get(column),
        #[cfg(feature = "postgres")]
        Row::Postgres(r) => in_range(r.try_get(column)?),
        #[cfg(feature = "postgres")]
        Row::TokioPostgres(r) => in_range(tokio_pg::get_integer::<i64>(r, column)?),
        #[cfg(feature = "sqlite")]
        Row::Sqlite(r) => in_range(r.try_get(column)?),
    }
});

from_column!(serde_json::Value, |row, column| {
    match row {
        #[cfg(feature = "postgres")]
        Row::Postgres(r) => r.try_get(column),
        #[cfg(feature = "postgres")]
        Row::TokioPostgres(r) => tokio_pg::get(r, column),
        #[cfg(feature = "mysql")]
        Row::MySql(r) => r.try_get(column),
        // SQLite's JSON columns have numeric affinity: a scalar document may come back as
        // a number.
        #[cfg(feature = "sqlite")]
        Row::Sqlite(r) => r.try_get::<serde_json::Value, _>(column).or_else(|error| {
            if let Ok(i) = r.try_get::<i64, _>(column) {
                Ok(serde_json::Value::from(i))
            } else if let Ok(x) = r.try_get::<f64, _>(column) {
                Ok(serde_json::Value::from(x))
            } else {
                Err(error)
            }
        }),
    }
});

// Stored natively on PostgreSQL, as hyphenated text on MySQL and SQLite.
from_column!(uuid::Uuid, |row, column| {
    #[cfg(any(feature = "mysql", feature = "sqlite"))]
    let parse = |text: String| uuid::Uuid::parse_str(&text).map_err(|e| decode_error(&column, e));
    match row {
        #[cfg(feature = "postgres")]
        Row::Postgres(r) => r.try_get(column),
        #[cfg(feature = "postgres")]
        Row::TokioPostgres(r) => tokio_pg::get(r, column),
        #[cfg(feature = "mysql")]
        Row::MySql(r) => parse(r.try_get(column)?),
        #[cfg(feature = "sqlite")]
        Row::Sqlite(r) => parse(r.try_get(column)?),
    }
});

from_column!(rust_decimal::Decimal, |row, column| {
    match row {
        #[cfg(feature = "postgres")]
        Row::Postgres(r) => r.try_get(column),
        #[cfg(feature = "postgres")]
        Row::TokioPostgres(r) => tokio_pg::get(r, column),
        #[cfg(feature = "mysql")]
        Row::MySql(r) => r.try_get(column),
        // SQLite keeps NUMERIC values as integers, reals or text.
        #[cfg(feature = "sqlite")]
        Row::Sqlite(r) => {
            let decode_error = |e: rust_decimal::Error| decode_error(&column, e);
            match r.try_get::<i64, _>(column) {
                Ok(i) => Ok(rust_decimal::Decimal::from(i)),
                Err(_) => match r.try_get::<f64, _>(column) {
                    Ok(x) => rust_decimal::Decimal::try_from(x).map_err(decode_error),
                    Err(_) => {
                        let text: String = r.try_get(column)?;
                        text.parse().map_err(decode_error)
                    }
                },
            }
        }
    }
});

impl<T: FromColumn> FromColumn for Option<T> {
    const FIELD: crate::verify::FieldShape = crate::verify::FieldShape {
        kind: T::FIELD.kind,
        nullable: true,
    };

    fn from_column(row: &Row, column: &str) -> std::result::Result<Self, sqlx::Error> {
        let is_null = on_engine!(row, Row(r) => sqlx::ValueRef::is_null(&r.try_get_raw(column)?),
            Row::TokioPostgres(r) => tokio_pg::is_null(r, column)?);
        if is_null {
            Ok(None)
        } else {
            T::from_column(row, column).map(Some)
        }
    }

    fn from_column_at(row: &Row, index: usize) -> std::result::Result<Self, sqlx::Error> {
        T::from_nullable_column_at(row, index)
    }
}

impl Row {
    /// The engine the row came from.
    pub fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Self::MySql(_) => Backend::MySql,
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Self::TokioPostgres(_) => Backend::Postgres,
        }
    }

    /// The value of `column`.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the column when it is missing or holds another type.
    pub fn get<T: FromColumn>(&self, column: &str) -> Result<T> {
        T::from_column(self, column).map_err(|source| Error::Decode {
            column: column.to_string(),
            message: source.to_string(),
        })
    }

    /// The value of the column at `index` (from 0), without looking its name up.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the column (or its position, past the last column) when it is
    /// missing or holds another type.
    pub fn get_at<T: FromColumn>(&self, index: usize) -> Result<T> {
        T::from_column_at(self, index).map_err(|source| Error::Decode {
            column: self
                .column_name(index)
                .unwrap_or_else(|| format!("#{index}")),
            message: source.to_string(),
        })
    }

    /// Whether the column at `index` holds NULL.
    fn is_null_at(&self, index: usize) -> std::result::Result<bool, sqlx::Error> {
        Ok(
            on_engine!(self, Row(r) => sqlx::ValueRef::is_null(&r.try_get_raw(index)?),
            Row::TokioPostgres(r) => tokio_pg::is_null(r, index)?),
        )
    }

    /// The name of the column at `index`, if there is one.
    pub(crate) fn column_name(&self, index: usize) -> Option<String> {
        on_engine!(self, Row(r) => sqlx::Row::columns(r)
            .get(index)
            .map(|column| sqlx::Column::name(column).to_string()),
            Row::TokioPostgres(r) => tokio_pg::column_name(r, index))
    }
}
