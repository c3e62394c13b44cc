//! The MongoDB apply history: one document per apply in `_fox_history`, with the fields of the
//! SQL history table (schema, plan hash, status, commands, times, who, version) and the
//! collections the apply made the database hold.

use fox_crds::schema::CollectionSpec;
use foxdb::document_store::bson::{Bson, Document, doc};
use foxdb::document_store::{DocumentStore, DocumentStoreError};
use foxdb::introspect::mongo::{document_to_json, json_to_document};

use crate::engine::clock::{applier_identity, now_rfc3339};

/// The collection holding the history.
pub const HISTORY_COLLECTION: &str = "_fox_history";

/// One finished (or failed) apply, as written.
#[derive(Debug)]
pub struct CollectionHistoryRecord<'a> {
    /// The FoxSchema's name.
    pub schema_name: &'a str,
    /// The FoxSchema's uid, when known.
    pub owner_uid: Option<&'a str>,
    /// The plan's hash.
    pub plan_hash: &'a str,
    /// `applied` or `failed`.
    pub status: &'a str,
    /// The commands of the plan, as extended JSON.
    pub commands: &'a [String],
    /// How many of them ran.
    pub completed_commands: usize,
    /// When the apply started (RFC 3339).
    pub started_at: &'a str,
    /// How long it took.
    pub duration_ms: u128,
    /// The declared collections the apply made the database hold.
    pub collections: &'a [CollectionSpec],
    /// What failed, if anything.
    pub message: Option<&'a str>,
}

/// Appends `record` to the history.
///
/// # Errors
/// The insert failed.
pub async fn record_apply(
    store: &DocumentStore,
    record: &CollectionHistoryRecord<'_>,
) -> Result<(), DocumentStoreError> {
    let collections: Vec<Bson> = record
        .collections
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok())
        .filter_map(|v| v.as_object().and_then(|o| json_to_document(o).ok()))
        .map(Bson::Document)
        .collect();
    let mut entry = doc! {
        "schemaName": record.schema_name,
        "planHash": record.plan_hash,
        "status": record.status,
        "statementCount": i64::try_from(record.commands.len()).unwrap_or(i64::MAX),
        "completedStatements": i64::try_from(record.completed_commands).unwrap_or(i64::MAX),
        "statements": record.commands.to_vec(),
        "startedAt": record.started_at,
        "finishedAt": now_rfc3339(),
        "durationMs": i64::try_from(record.duration_ms).unwrap_or(i64::MAX),
        "appliedBy": applier_identity(),
        "foxVersion": env!("CARGO_PKG_VERSION"),
        "collections": collections,
    };
    if let Some(uid) = record.owner_uid {
        entry.insert("ownerUid", uid);
    }
    if let Some(message) = record.message {
        entry.insert("message", message);
    }
    store
        .run_command(doc! {"insert": HISTORY_COLLECTION, "documents": [entry]})
        .await
        .map(|_| ())
}

/// The history, newest first.
///
/// # Errors
/// The query failed.
pub async fn read_history(store: &DocumentStore) -> Result<Vec<Document>, DocumentStoreError> {
    let mut entries = store
        .run_cursor_command(doc! {"find": HISTORY_COLLECTION, "filter": {}})
        .await?;
    // Sorted here: RFC 3339 text in UTC sorts by time, and the order of equal times is the
    // insertion order the server returns.
    entries.reverse();
    entries.sort_by(|a, b| {
        b.get_str("finishedAt")
            .unwrap_or_default()
            .cmp(a.get_str("finishedAt").unwrap_or_default())
    });
    Ok(entries)
}

/// The collections recorded by the last successful apply, if any.
///
/// # Errors
/// The query failed.
pub async fn last_applied_collections(
    store: &DocumentStore,
) -> Result<Option<Vec<CollectionSpec>>, DocumentStoreError> {
    let history = read_history(store).await?;
    let Some(last) = history
        .iter()
        .find(|e| e.get_str("status").ok() == Some("applied"))
    else {
        return Ok(None);
    };
    let collections = last
        .get_array("collections")
        .map(|list| {
            list.iter()
                .filter_map(Bson::as_document)
                .filter_map(|d| {
                    serde_json::from_value(serde_json::Value::Object(document_to_json(d.clone())))
                        .ok()
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Some(collections))
}
