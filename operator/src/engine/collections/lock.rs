//! The MongoDB database lock: one document in `_fox_lock` with an expiry, taken with
//! `findAndModify`. A crashed applier's lock expires instead of holding the database forever.
//!
//! # Guarantees
//! At most one applier holds an unexpired lock: taking it is one atomic `findAndModify` that
//! matches only a free, expired or own lock document (with `upsert`, so the first taker creates
//! it; a second concurrent creator fails on the `_id` and counts as "held").

use std::time::{Duration, Instant};

use foxdb::document_store::bson::{DateTime, Document, doc};
use foxdb::document_store::{DocumentStore, DocumentStoreError};

use crate::engine::clock::applier_identity;
use crate::engine::error::EngineError;

/// The collection holding the lock document.
pub const LOCK_COLLECTION: &str = "_fox_lock";
/// The lock document's `_id`.
const LOCK_ID: &str = "schema";
/// How long a lock lasts unless released: longer than any apply, short enough that a crashed
/// applier does not block the next one for long.
pub const LOCK_EXPIRY: Duration = Duration::from_secs(600);
/// MongoDB's duplicate key error code.
const DUPLICATE_KEY: i32 = 11000;

/// A held lock; release it with [`CollectionLock::release`].
#[derive(Debug)]
pub struct CollectionLock {
    holder: String,
}

impl CollectionLock {
    /// Who holds it (`user@host (pid N) #token`).
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Takes the lock of the database behind `store`, retrying every 200 ms for up to
    /// `timeout`.
    ///
    /// # Errors
    /// [`EngineError::Locked`] when another applier still holds it after `timeout`, naming it
    /// and when its lock expires; [`EngineError::DocumentStore`] when a command fails.
    pub async fn acquire(store: &DocumentStore, timeout: Duration) -> Result<Self, EngineError> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .subsec_nanos();
        let holder = format!("{} #{nanos:08x}", applier_identity());
        let started = Instant::now();
        loop {
            if let Some(lock) = try_acquire(store, &holder).await? {
                return Ok(lock);
            }
            if started.elapsed() >= timeout {
                let current = current_holder(store).await?;
                return Err(EngineError::Locked {
                    database: store.url().target(),
                    holder: current
                        .as_ref()
                        .and_then(|d| d.get_str("holder").ok())
                        .unwrap_or("another applier")
                        .to_string(),
                    expires: current
                        .as_ref()
                        .and_then(|d| d.get_datetime("expiresAt").ok())
                        .map(|t| {
                            t.try_to_rfc3339_string()
                                .unwrap_or_else(|_| t.timestamp_millis().to_string())
                        })
                        .unwrap_or_else(|| "soon".into()),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Releases the lock (deletes the document if this applier still holds it).
    ///
    /// # Errors
    /// The delete failed; the lock then expires by itself.
    pub async fn release(self, store: &DocumentStore) -> Result<(), DocumentStoreError> {
        store
            .run_command(doc! {
                "delete": LOCK_COLLECTION,
                "deletes": [{"q": {"_id": LOCK_ID, "holder": &self.holder}, "limit": 1}],
            })
            .await
            .map(|_| ())
    }
}

async fn try_acquire(
    store: &DocumentStore,
    holder: &str,
) -> Result<Option<CollectionLock>, EngineError> {
    let now = DateTime::now();
    let expires = DateTime::from_millis(
        now.timestamp_millis()
            .saturating_add(i64::try_from(LOCK_EXPIRY.as_millis()).unwrap_or(i64::MAX)),
    );
    let reply = store
        .run_command(doc! {
            "findAndModify": LOCK_COLLECTION,
            "query": {"_id": LOCK_ID, "$or": [{"expiresAt": {"$lt": now}}, {"holder": holder}]},
            "update": {"$set": {"holder": holder, "acquiredAt": now, "expiresAt": expires}},
            "upsert": true,
            "new": true,
        })
        .await;
    match reply {
        Ok(reply) => {
            let taken = reply
                .get_document("value")
                .ok()
                .and_then(|v| v.get_str("holder").ok())
                == Some(holder);
            Ok(taken.then(|| CollectionLock {
                holder: holder.to_string(),
            }))
        }
        // Another applier's unexpired lock document has the `_id` the upsert would insert.
        Err(error) if error.code() == Some(DUPLICATE_KEY) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

async fn current_holder(store: &DocumentStore) -> Result<Option<Document>, EngineError> {
    Ok(store
        .run_cursor_command(doc! {"find": LOCK_COLLECTION, "filter": {"_id": LOCK_ID}, "limit": 1})
        .await?
        .into_iter()
        .next())
}
