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

impl super::SessionSetup for sqlx::SqliteConnection {
    /// Turns SQLite's double-quoted string fallback off: with it on, `"emial"` naming a column
    /// that does not exist is read as the string `'emial'`, so a typo in a column name returns
    /// the column's name as its value instead of an error. Off, a double-quoted name is only
    /// ever an identifier, as on PostgreSQL (and MySQL's ANSI mode), in statements
    /// (`SQLITE_DBCONFIG_DQS_DML`) and in schema definitions (`SQLITE_DBCONFIG_DQS_DDL`).
    async fn prepare_session(&mut self) -> Result<(), sqlx::Error> {
        let mut handle = self.lock_handle().await?;
        for option in [
            libsqlite3_sys::SQLITE_DBCONFIG_DQS_DML,
            libsqlite3_sys::SQLITE_DBCONFIG_DQS_DDL,
        ] {
            let code = set_db_config(&mut handle, option, false);
            if code != libsqlite3_sys::SQLITE_OK {
                return Err(sqlx::Error::Protocol(format!(
                    "sqlite3_db_config({option}, 0) failed with code {code}"
                )));
            }
        }
        Ok(())
    }
}

/// `sqlite3_db_config(db, option, on, NULL)` for one of SQLite's boolean options: the one call
/// sqlx has no safe wrapper for.
#[allow(unsafe_code)]
fn set_db_config(
    handle: &mut sqlx::sqlite::LockedSqliteHandle<'_>,
    option: std::ffi::c_int,
    on: bool,
) -> std::ffi::c_int {
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the open connection's handle, held exclusively through the lock for the
    // whole call; the boolean options take exactly an `int` and an `int*` (NULL: the new value
    // is not read back), as documented for SQLITE_DBCONFIG_DQS_DML and _DQS_DDL.
    unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db,
            option,
            std::ffi::c_int::from(on),
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    }
}
