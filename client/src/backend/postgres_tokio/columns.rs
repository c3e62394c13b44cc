//! Reading a tokio-postgres row's columns into the Rust types foxdb decodes, with sqlx's rules
//! where the drivers differ: text-like columns (and enum labels) read as `String`, any integer
//! column reads into any integer field whose range holds the value.

use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Kind, Type, WrongType};

/// A column by name or by position (from 0).
pub(crate) trait ColumnIndex: Copy + std::fmt::Display {
    /// The column's position in `row`, if it has it.
    fn position(self, row: &Row) -> Option<usize>;
}

impl ColumnIndex for &str {
    fn position(self, row: &Row) -> Option<usize> {
        row.columns()
            .iter()
            .position(|column| column.name() == self)
    }
}

impl ColumnIndex for usize {
    fn position(self, row: &Row) -> Option<usize> {
        (self < row.columns().len()).then_some(self)
    }
}

fn position(row: &Row, column: impl ColumnIndex) -> Result<usize, sqlx::Error> {
    column
        .position(row)
        .ok_or_else(|| sqlx::Error::ColumnNotFound(column.to_string()))
}

fn decode_error(
    column: impl ColumnIndex,
    error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: error.into(),
    }
}

/// The value of `column` as `T`.
///
/// # Errors
/// No such column; a NULL or a value of another type.
pub(crate) fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    column: impl ColumnIndex,
) -> Result<T, sqlx::Error> {
    let index = position(row, column)?;
    row.try_get::<usize, T>(index).map_err(|error| {
        // tokio-postgres says "error deserializing column N"; what it could not convert is
        // the source.
        match std::error::Error::source(&error) {
            Some(source) => decode_error(column, source.to_string()),
            None => decode_error(column, error.to_string()),
        }
    })
}

/// The value of `column` as `T`, `None` for NULL: one read of the column. As with a read of
/// NULL-ness followed by [`get`], a NULL is `None` whatever the column's type.
///
/// # Errors
/// No such column; a value of another type.
pub(crate) fn get_nullable<'a, T: FromSql<'a>>(
    row: &'a Row,
    column: impl ColumnIndex,
) -> Result<Option<T>, sqlx::Error> {
    get::<Nullable<T>>(row, column).map(|nullable| nullable.0)
}

/// `T`, or `None` for NULL, whatever the column's type then (see [`get_nullable`]).
struct Nullable<T>(Option<T>);

impl<'a, T: FromSql<'a>> FromSql<'a> for Nullable<T> {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        // The check `Row::try_get` makes for `T`, with the same error.
        if !T::accepts(ty) {
            return Err(Box::new(WrongType::new::<T>(ty.clone())));
        }
        T::from_sql(ty, raw).map(|value| Self(Some(value)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Whether `column` holds NULL.
///
/// # Errors
/// No such column.
pub(crate) fn is_null(row: &Row, column: impl ColumnIndex) -> Result<bool, sqlx::Error> {
    let index = position(row, column)?;
    Ok(row
        .try_get::<usize, Nullness>(index)
        .is_ok_and(|nullness| nullness.0))
}

/// Reads only whether a value is there.
struct Nullness(bool);

impl<'a> FromSql<'a> for Nullness {
    fn from_sql(_: &Type, _: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(false))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(true))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// `column` as text: a text-like column (`text`, `varchar`, `char`, `name`, `citext`) or an
/// enum's label.
///
/// # Errors
/// No such column; a NULL or another type.
pub(crate) fn get_text(row: &Row, column: impl ColumnIndex) -> Result<String, sqlx::Error> {
    get::<Text>(row, column).map(|text| text.0)
}

/// [`get_text`], `None` for NULL.
///
/// # Errors
/// No such column; another type.
pub(crate) fn get_nullable_text(
    row: &Row,
    column: impl ColumnIndex,
) -> Result<Option<String>, sqlx::Error> {
    get_nullable::<Text>(row, column).map(|text| text.map(|text| text.0))
}

struct Text(String);

impl<'a> FromSql<'a> for Text {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let _ = ty;
        Ok(Self(std::str::from_utf8(raw)?.to_string()))
    }

    fn accepts(ty: &Type) -> bool {
        <&str as FromSql>::accepts(ty) || matches!(ty.kind(), Kind::Enum(_))
    }
}

/// An integer column (`smallint`, `integer`, `bigint`) into `T`, refusing values out of its
/// range.
///
/// # Errors
/// No such column; a NULL, a value out of range or not an integer column.
pub(crate) fn get_integer<T>(row: &Row, column: impl ColumnIndex) -> Result<T, sqlx::Error>
where
    T: TryFrom<i64> + for<'a> FromSql<'a>,
    <T as TryFrom<i64>>::Error: std::error::Error + Send + Sync + 'static,
{
    get_nullable_integer(row, column)?
        .ok_or_else(|| decode_error(column, tokio_postgres::types::WasNull))
}

/// [`get_integer`], `None` for NULL.
///
/// # Errors
/// No such column; a value out of range or not an integer column.
pub(crate) fn get_nullable_integer<T>(
    row: &Row,
    column: impl ColumnIndex,
) -> Result<Option<T>, sqlx::Error>
where
    T: TryFrom<i64> + for<'a> FromSql<'a>,
    <T as TryFrom<i64>>::Error: std::error::Error + Send + Sync + 'static,
{
    let index = position(row, column)?;
    let ty = row.columns()[index].type_();
    let wide = if *ty == Type::INT2 {
        get_nullable::<i16>(row, index)?.map(i64::from)
    } else if *ty == Type::INT4 {
        get_nullable::<i32>(row, index)?.map(i64::from)
    } else if *ty == Type::INT8 {
        get_nullable::<i64>(row, index)?
    } else {
        // Not an integer column: the driver's message says which type it is.
        return get_nullable::<T>(row, column);
    };
    wide.map(|wide| T::try_from(wide).map_err(|error| decode_error(column, error)))
        .transpose()
}

/// The name of the column at `index`.
pub(crate) fn column_name(row: &Row, index: usize) -> Option<String> {
    row.columns()
        .get(index)
        .map(|column| column.name().to_string())
}
