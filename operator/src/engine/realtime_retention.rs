//! Change-log retention: the changes of each captured table older than its
//! `realtimeRetentionDays` are deleted on every reconcile of the FoxSchema controller, never
//! one a durable named subscriber has not acknowledged.

use fox_crds::FoxSchemaSpec;
use foxdb::{Database, DatabaseUrl};

use super::error::EngineError;

/// Deletes the expired changes of every table of `spec` with `realtime: true` and a
/// `realtimeRetentionDays`, in the database at `url`; returns each such table with how many
/// were deleted (none when no table sets a retention).
///
/// # Errors
/// Connection and database errors.
pub async fn prune_expired_changes(
    url: &DatabaseUrl,
    spec: &FoxSchemaSpec,
) -> Result<Vec<(String, u64)>, EngineError> {
    let retained: Vec<(&str, u32)> = spec
        .tables
        .iter()
        .filter(|t| t.realtime)
        .filter_map(|t| {
            t.realtime_retention_days
                .map(|days| (t.name.as_str(), days))
        })
        .collect();
    if retained.is_empty() {
        return Ok(Vec::new());
    }
    let db = Database::connect(url.expose()).await?;
    let now = chrono::Utc::now();
    let mut pruned = Vec::new();
    for (table, days) in retained {
        let before = now - chrono::Duration::days(i64::from(days));
        match foxdb::realtime::prune_tables(&db, before, &[table.to_string()]).await {
            Ok(deleted) => pruned.push((table.to_string(), deleted)),
            Err(error) => {
                db.close().await;
                return Err(error.into());
            }
        }
    }
    db.close().await;
    Ok(pruned)
}
