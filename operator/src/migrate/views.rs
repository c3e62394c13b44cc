//! Views a migration left unreadable. A MySQL/MariaDB view stores the column names it selects,
//! so renaming or dropping a column under it breaks it silently until it is next read;
//! PostgreSQL views follow renames (and block drops), and SQLite rewrites views on
//! `RENAME COLUMN`.

use foxdb::dialect::dialect_for;
use foxdb::{Backend, Connection, Value};

use super::error::server_message;
use crate::engine::bookkeeping::FoxTables;

/// One line per view of the migrated schema that cannot be read any more, with the server's
/// reason. Empty on engines whose views cannot break this way.
///
/// # Errors
/// Database errors listing the views.
pub async fn unreadable_views(
    connection: &mut Connection,
    tables: &FoxTables,
) -> foxdb::Result<Vec<String>> {
    let backend = connection.backend();
    match backend {
        Backend::MySql => {}
        Backend::Postgres | Backend::Sqlite => return Ok(Vec::new()),
    }
    let dialect = dialect_for(backend);
    let views = connection
        .fetch_text_rows(
            &format!(
                "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = {} ORDER BY TABLE_NAME",
                dialect.placeholder(1)
            ),
            &[Value::Text(tables.schema().to_string())],
        )
        .await?;
    let mut broken = Vec::new();
    for view in views
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
    {
        let probe = format!(
            "SELECT * FROM {} LIMIT 0",
            dialect.qualified_table(tables.schema(), &view)
        );
        if let Err(error) = connection.fetch_text_rows(&probe, &[]).await {
            broken.push(format!(
                "view {view} can no longer be read ({}): recreate it in a migration (CREATE OR REPLACE VIEW) after the change of the columns it uses",
                server_message(&error)
            ));
        }
    }
    Ok(broken)
}
