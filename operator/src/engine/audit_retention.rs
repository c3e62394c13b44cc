//! Audit retention: the records of each audited table older than its `retentionDays` are
//! deleted, by `fox audit prune` and on every reconcile of the FoxSchema controller.

use foxdb::{ConnectOptions, Connection, Database, DatabaseUrl};

use super::error::EngineError;

/// Deletes the expired audit records of every audited table of the database at `url`;
/// returns each audited table with how many were deleted (none when nothing is audited).
///
/// # Errors
/// Connection and database errors.
pub async fn prune_expired_audit(url: &DatabaseUrl) -> Result<Vec<(String, u64)>, EngineError> {
    let mut connection = Connection::connect(url, &ConnectOptions::default()).await?;
    if foxdb::audit::audited_tables(&mut connection)
        .await?
        .is_empty()
    {
        connection.close().await;
        return Ok(Vec::new());
    }
    let db = Database::connect(url.expose()).await;
    let pruned = match &db {
        Ok(db) => foxdb::audit::prune_expired(db, &mut connection, chrono::Utc::now()).await,
        Err(_) => Ok(Vec::new()),
    };
    connection.close().await;
    let db = db?;
    db.close().await;
    Ok(pruned?)
}
