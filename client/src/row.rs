//! A fetched row, whatever the engine, and typed access to its columns.

use sqlx::{MySql, Postgres, Row as _, Sqlite};

use crate::Backend;
use crate::error::{Error, Result};

/// One row of a result.
#[derive(Debug)]
pub enum Row {
    /// From PostgreSQL.
    Postgres(sqlx::postgres::PgRow),
    /// From MySQL / MariaDB.
    MySql(sqlx::mysql::MySqlRow),
    /// From SQLite.
    Sqlite(sqlx::sqlite::SqliteRow),
}

/// A Rust type every engine can decode a column into.
pub trait FromColumn: Sized {
    /// Decodes `column` of `row`.
    ///
    /// # Errors
    /// Missing column or a value of another type.
    fn from_column(row: &Row, column: &str) -> std::result::Result<Self, sqlx::Error>;
}

impl<T> FromColumn for T
where
    T: for<'r> sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>,
    T: for<'r> sqlx::Decode<'r, MySql> + sqlx::Type<MySql>,
    T: for<'r> sqlx::Decode<'r, Sqlite> + sqlx::Type<Sqlite>,
{
    fn from_column(row: &Row, column: &str) -> std::result::Result<Self, sqlx::Error> {
        match row {
            Row::Postgres(r) => r.try_get(column),
            Row::MySql(r) => r.try_get(column),
            Row::Sqlite(r) => r.try_get(column),
        }
    }
}

impl Row {
    /// The engine the row came from.
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::MySql(_) => Backend::MySql,
            Self::Sqlite(_) => Backend::Sqlite,
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
}
