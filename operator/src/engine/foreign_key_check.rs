//! The foreign key check before a SQLite commit. Sessions that rebuild tables (applies and
//! migrations) run with `foreign_keys` off, so dropping and re-creating a table neither cascades
//! nor fails half-way; every key is then checked as a whole, once, before the commit.
//!
//! # Guarantees
//! Nothing commits unchecked: a violation, or a check that cannot run (SQLite raises "foreign
//! key mismatch" for a key whose parent columns are not unique), rolls the transaction back.

use foxdb::Connection;

use super::error::EngineError;

/// Violations described in the error, at most.
const SHOWN: usize = 5;

/// Checks every foreign key of the database with `PRAGMA foreign_key_check` and commits the open
/// transaction (SQLite; other engines check keys as statements run); rolls it back instead when
/// a key is violated or the check cannot run.
///
/// # Errors
/// [`EngineError::ForeignKeyViolation`] naming up to five violating rows, or saying why the
/// check could not run; the commit's error.
pub async fn commit_after_foreign_key_check(
    connection: &mut Connection,
) -> Result<(), EngineError> {
    let violations = match connection
        .fetch_text_rows(
            "SELECT \"table\", CAST(rowid AS TEXT), \"parent\" FROM pragma_foreign_key_check",
            &[],
        )
        .await
    {
        Ok(rows) => rows,
        Err(error) => {
            let _ = connection.rollback().await;
            let reason = match error.server_message() {
                Some((backend, message)) => format!("{backend} error: {message}"),
                None => error.to_string(),
            };
            return Err(EngineError::ForeignKeyViolation(format!(
                "the foreign key check before commit could not run ({reason})"
            )));
        }
    };
    if violations.is_empty() {
        return Ok(connection.commit().await?);
    }
    let _ = connection.rollback().await;
    let described: Vec<String> = violations
        .iter()
        .take(SHOWN)
        .map(|row| {
            let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            format!(
                "{} row {} references a missing {} row",
                field(0),
                field(1),
                field(2)
            )
        })
        .collect();
    Err(EngineError::ForeignKeyViolation(format!(
        "{} violation(s): {}",
        violations.len(),
        described.join("; ")
    )))
}
