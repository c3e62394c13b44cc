//! Snapshots: the latest folded state of a stream, so a reader loads it and replays only the
//! events after it.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Error;
use super::store::{EventStore, check_name};
use super::tables::{MAX_NAME_LEN, SNAPSHOTS_TABLE};
use crate::connection::Value;
use crate::dialect::dialect_for;

/// A stream's state as of one of its versions.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot<S> {
    /// The stream.
    pub stream_id: String,
    /// The version the state includes (events after it are still to replay).
    pub version: u64,
    /// The state.
    pub state: S,
    /// When it was saved.
    pub saved_at: chrono::DateTime<chrono::Utc>,
}

impl EventStore {
    /// Saves `state` as `stream`'s state at `version`, replacing an older snapshot. Returns
    /// `false` (and keeps the stored one) when a snapshot of a later version is already there.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a version the stream has not reached (or 0);
    /// [`Error::Encode`]; [`Error::Database`].
    pub async fn save_snapshot<S: Serialize>(
        &self,
        stream: &str,
        version: u64,
        state: &S,
    ) -> Result<bool, Error> {
        check_name("stream id", stream, MAX_NAME_LEN)?;
        let current = self.stream_version(stream).await?;
        if version == 0 || version > current {
            return Err(Error::InvalidInput {
                what: "snapshot version",
                message: format!(
                    "{version}, but stream {stream} is at version {current} (1 to {current} allowed)"
                ),
            });
        }
        let payload = serde_json::to_string(state).map_err(|e| Error::Encode {
            event_type: format!("snapshot of {stream}"),
            message: e.to_string(),
        })?;
        let dialect = dialect_for(self.db.backend());
        let p = |n| dialect.placeholder(n);
        let version = i64::try_from(version).unwrap_or(i64::MAX);
        let saved_at = chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string();
        let outcome = self
            .db
            .transaction(async |tx| {
                tx.execute(
                    &format!(
                        "DELETE FROM {SNAPSHOTS_TABLE} WHERE stream_id = {} AND version <= {}",
                        p(1),
                        p(2)
                    ),
                    &[Value::Text(stream.into()), Value::Int(version)],
                )
                .await?;
                tx.execute(
                    &format!(
                        "INSERT INTO {SNAPSHOTS_TABLE} (stream_id, version, payload, saved_at) VALUES ({}, {}, {}, {})",
                        p(1),
                        p(2),
                        p(3),
                        p(4)
                    ),
                    &[
                        Value::Text(stream.into()),
                        Value::Int(version),
                        Value::Text(payload.clone()),
                        Value::Text(saved_at.clone()),
                    ],
                )
                .await
            })
            .await;
        match outcome {
            Ok(_) => Ok(true),
            // The row left after the delete is a later snapshot.
            Err(crate::Error::UniqueViolation { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// The latest snapshot of `stream`, if one was saved.
    ///
    /// # Errors
    /// [`Error::Decode`] when it is not an `S`; [`Error::Database`].
    pub async fn load_snapshot<S: DeserializeOwned>(
        &self,
        stream: &str,
    ) -> Result<Option<Snapshot<S>>, Error> {
        let dialect = dialect_for(self.db.backend());
        let rows = self
            .db
            .fetch_all(
                &format!(
                    "SELECT version, payload, saved_at FROM {SNAPSHOTS_TABLE} WHERE stream_id = {}",
                    dialect.placeholder(1)
                ),
                &[Value::Text(stream.into())],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let version = u64::try_from(row.get::<i64>("version")?).unwrap_or(0);
        let failed = |message: String| Error::Decode {
            stream: stream.into(),
            version,
            event_type: "snapshot".into(),
            message,
        };
        let payload: String = row.get("payload")?;
        let saved: String = row.get("saved_at")?;
        Ok(Some(Snapshot {
            stream_id: stream.into(),
            version,
            state: serde_json::from_str(&payload).map_err(|e| failed(e.to_string()))?,
            saved_at: chrono::DateTime::parse_from_rfc3339(&saved)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|e| failed(format!("saved_at {saved:?}: {e}")))?,
        }))
    }
}
