//! Appending to streams and reading them back.

use serde::de::DeserializeOwned;

use super::tables::{EVENT_HEAD_TABLE, EVENTS_TABLE, MAX_ACTOR_LEN, MAX_ID_LEN, MAX_NAME_LEN};
use super::{AppendResult, Error, ExpectedVersion, Metadata, NewEvent, RecordedEvent};
use crate::connection::Value;
use crate::database::Database;
use crate::dialect::dialect_for;
use crate::executor::Executor;
use crate::row::Row;
use crate::transaction::Transaction;

/// The columns every read selects, in this order.
const COLUMNS: &str = "position, stream_id, version, event_id, event_type, payload, causation_id, correlation_id, actor, recorded_at";

/// Columns an append binds per event.
const BOUND_PER_EVENT: usize = 10;

/// The event store of one database (see [`crate::events`]).
#[derive(Clone, Debug)]
pub struct EventStore {
    pub(super) db: Database,
}

impl EventStore {
    /// The event store of `db`: creates its tables and the change capture of its event table
    /// when missing (safe to run from several processes at once). Appends record the handle's
    /// actor ([`Database::with_actor`]) unless an event names its own.
    ///
    /// # Errors
    /// [`Error::Database`]: the tables or capture cannot be created.
    pub async fn open(db: &Database) -> Result<Self, Error> {
        let db = db.on_primary();
        super::tables::install(&db).await?;
        Ok(Self { db })
    }

    /// The database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Appends `events` to `stream` if its version is what `expected` says, in one transaction
    /// of its own; they get the stream's next versions and the next global positions.
    ///
    /// # Guarantees
    /// Versions of a stream are 1, 2, 3, … without gap or duplicate, whatever the number of
    /// concurrent writers (a unique index holds it too). Global positions are handed out under
    /// a lock on the head row held until commit, so they are contiguous and in commit order:
    /// [`EventStore::read_all`] never skips an event that commits later with a lower position.
    ///
    /// # Errors
    /// [`Error::WrongExpectedVersion`] when the stream's version is not the expected one
    /// (nothing is written: read the stream again, decide again, retry);
    /// [`Error::InvalidInput`] for an empty or too long stream id, type or id;
    /// [`Error::Database`].
    pub async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> Result<AppendResult, Error> {
        check_events(stream, events)?;
        let mut tx = self.db.begin(None).await?;
        match self.append_in(&mut tx, stream, expected, events).await {
            Ok(result) => {
                tx.commit()
                    .await
                    .map_err(|e| self.conflict(stream, expected, e))?;
                Ok(result)
            }
            Err(error) => {
                let _ = tx.rollback().await;
                match error {
                    Error::Database(e) => Err(self.conflict_after(stream, expected, e).await),
                    other => Err(other),
                }
            }
        }
    }

    /// [`EventStore::append`] inside the caller's transaction, so events commit together with
    /// other writes (or not at all). The head row stays locked until that transaction ends:
    /// keep it short.
    ///
    /// # Errors
    /// As [`EventStore::append`]; after an error the caller rolls back.
    pub async fn append_in(
        &self,
        tx: &mut Transaction,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> Result<AppendResult, Error> {
        check_events(stream, events)?;
        let dialect = dialect_for(tx.backend());
        let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
        // The head row's lock orders appends: the next one takes its positions only after
        // this one committed or rolled back.
        let locked = tx
            .execute(
                &format!("UPDATE {EVENT_HEAD_TABLE} SET head = head + {count} WHERE id = 1"),
                &[],
            )
            .await?;
        if locked == 0 {
            return Err(Error::Database(crate::Error::NotFound {
                table: EVENT_HEAD_TABLE.into(),
            }));
        }
        let head = first_integer(
            &tx.fetch_all(
                &format!("SELECT head FROM {EVENT_HEAD_TABLE} WHERE id = 1"),
                &[],
            )
            .await?,
        )?;
        let actual = current_version(&mut *tx, stream, true).await?;
        if !expected.matches(actual) {
            return Err(Error::WrongExpectedVersion {
                stream: stream.into(),
                expected,
                actual,
            });
        }
        let first_position = head - count + 1;
        let base_version = i64::try_from(actual).unwrap_or(i64::MAX);
        let recorded_at = chrono::Utc::now();
        let recorded_text = recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let per_statement = (dialect.parameter_limit() / BOUND_PER_EVENT).clamp(1, 500);
        let mut metadata = Vec::with_capacity(events.len());
        for (chunk_index, chunk) in events.chunks(per_statement).enumerate() {
            let mut sql = format!("INSERT INTO {EVENTS_TABLE} ({COLUMNS}) VALUES ");
            let mut values = Vec::with_capacity(chunk.len() * BOUND_PER_EVENT);
            for (i, event) in chunk.iter().enumerate() {
                let offset = i64::try_from(chunk_index * per_statement + i).unwrap_or(0);
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for n in 0..BOUND_PER_EVENT {
                    if n > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&dialect.placeholder(values.len() + n + 1));
                }
                sql.push(')');
                let event_id = event.event_id.clone().unwrap_or_else(new_event_id);
                let actor = event
                    .actor
                    .clone()
                    .or_else(|| self.db.actor().map(str::to_string));
                let optional =
                    |text: &Option<String>| text.clone().map_or(Value::Null, Value::Text);
                values.extend([
                    Value::Int(first_position + offset),
                    Value::Text(stream.into()),
                    Value::Int(base_version + offset + 1),
                    Value::Text(event_id.clone()),
                    Value::Text(event.event_type.clone()),
                    Value::Text(event.payload.clone()),
                    optional(&event.causation_id),
                    optional(&event.correlation_id),
                    optional(&actor),
                    Value::Text(recorded_text.clone()),
                ]);
                metadata.push(Metadata {
                    event_id,
                    causation_id: event.causation_id.clone(),
                    correlation_id: event.correlation_id.clone(),
                    actor,
                    recorded_at,
                });
            }
            tx.execute(&sql, &values).await?;
        }
        let last = u64::try_from(head).unwrap_or(0);
        Ok(AppendResult {
            version: actual + events.len() as u64,
            first_position: (last + 1).saturating_sub(events.len() as u64),
            last_position: last,
            metadata,
        })
    }

    /// A conflict seen at commit (a unique index refusing a duplicate version) as the typed
    /// error; other errors as they are.
    fn conflict(&self, stream: &str, expected: ExpectedVersion, error: crate::Error) -> Error {
        match error {
            crate::Error::UniqueViolation { .. } => Error::WrongExpectedVersion {
                stream: stream.into(),
                expected,
                actual: 0,
            },
            other => Error::Database(other),
        }
    }

    /// [`EventStore::conflict`] with the stream's version read again after the rollback.
    async fn conflict_after(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        error: crate::Error,
    ) -> Error {
        match self.conflict(stream, expected, error) {
            Error::WrongExpectedVersion { .. } => match self.stream_version(stream).await {
                Ok(actual) => Error::WrongExpectedVersion {
                    stream: stream.into(),
                    expected,
                    actual,
                },
                Err(error) => error,
            },
            other => other,
        }
    }

    /// The version of `stream`: how many events it holds (0: no stream).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn stream_version(&self, stream: &str) -> Result<u64, Error> {
        current_version(&self.db, stream, false).await
    }

    /// Up to `limit` events of `stream` from version `from` on (1: the first), oldest first,
    /// decoded as `E` (`serde_json::Value` reads any event).
    ///
    /// # Errors
    /// [`Error::Decode`] for an event that is not an `E`; [`Error::Database`].
    pub async fn read_stream<E: DeserializeOwned>(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent<E>>, Error> {
        self.read_stream_in(stream, from, limit, true).await
    }

    /// Up to `limit` events of `stream` from version `from` down (`u64::MAX`: from the newest),
    /// newest first.
    ///
    /// # Errors
    /// As [`EventStore::read_stream`].
    pub async fn read_stream_backward<E: DeserializeOwned>(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent<E>>, Error> {
        self.read_stream_in(stream, from, limit, false).await
    }

    async fn read_stream_in<E: DeserializeOwned>(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
        forward: bool,
    ) -> Result<Vec<RecordedEvent<E>>, Error> {
        let dialect = dialect_for(self.db.backend());
        let (compare, order) = if forward {
            (">=", "ASC")
        } else {
            ("<=", "DESC")
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM {EVENTS_TABLE} WHERE stream_id = {} AND version {compare} {} ORDER BY version {order}{}",
            dialect.placeholder(1),
            dialect.placeholder(2),
            dialect.limit_offset(Some(limit as u64), None)
        );
        let from = i64::try_from(from).unwrap_or(i64::MAX);
        let rows = self
            .db
            .fetch_all(&sql, &[Value::Text(stream.into()), Value::Int(from)])
            .await?;
        rows.iter().map(decode_row).collect()
    }

    /// Up to `limit` events of every stream after global position `after` (0: from the
    /// first), in global order. Positions are contiguous and handed out in commit order, so a
    /// reader that continues after the last position it read never misses an event.
    ///
    /// # Errors
    /// As [`EventStore::read_stream`].
    pub async fn read_all<E: DeserializeOwned>(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent<E>>, Error> {
        read_all_in(&self.db, after, limit).await
    }

    /// The highest global position written so far (0: no event).
    ///
    /// # Errors
    /// [`Error::Database`].
    pub async fn head_position(&self) -> Result<u64, Error> {
        let head = first_integer(
            &self
                .db
                .fetch_all(
                    &format!("SELECT head FROM {EVENT_HEAD_TABLE} WHERE id = 1"),
                    &[],
                )
                .await?,
        )?;
        Ok(u64::try_from(head).unwrap_or(0))
    }
}

/// Events after `after` in global order, through `executor` (a projection's transaction).
pub(super) async fn read_all_in<E: DeserializeOwned, X: Executor>(
    mut executor: X,
    after: u64,
    limit: usize,
) -> Result<Vec<RecordedEvent<E>>, Error> {
    let dialect = dialect_for(executor.backend());
    let sql = format!(
        "SELECT {COLUMNS} FROM {EVENTS_TABLE} WHERE position > {} ORDER BY position{}",
        dialect.placeholder(1),
        dialect.limit_offset(Some(limit as u64), None)
    );
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let rows = executor.fetch_all(&sql, &[Value::Int(after)]).await?;
    rows.iter().map(decode_row).collect()
}

/// The version of `stream` (0 without events); `lock` locks the newest event's row where the
/// engine has row locks, so the read is current inside an append.
async fn current_version<X: Executor>(
    mut executor: X,
    stream: &str,
    lock: bool,
) -> Result<u64, Error> {
    let dialect = dialect_for(executor.backend());
    let sql = format!(
        "SELECT version FROM {EVENTS_TABLE} WHERE stream_id = {} ORDER BY version DESC{}{}",
        dialect.placeholder(1),
        dialect.limit_offset(Some(1), None),
        if lock { dialect.lock_rows_clause() } else { "" }
    );
    let rows = executor
        .fetch_all(&sql, &[Value::Text(stream.into())])
        .await?;
    match rows.first() {
        Some(row) => Ok(u64::try_from(row.get::<i64>("version")?).unwrap_or(0)),
        None => Ok(0),
    }
}

fn first_integer(rows: &[Row]) -> Result<i64, Error> {
    let row = rows.first().ok_or_else(|| {
        Error::Database(crate::Error::NotFound {
            table: EVENT_HEAD_TABLE.into(),
        })
    })?;
    Ok(row.get::<i64>("head")?)
}

fn decode_row<E: DeserializeOwned>(row: &Row) -> Result<RecordedEvent<E>, Error> {
    let stream_id: String = row.get("stream_id")?;
    let version = u64::try_from(row.get::<i64>("version")?).unwrap_or(0);
    let event_type: String = row.get("event_type")?;
    let payload: String = row.get("payload")?;
    let recorded: String = row.get("recorded_at")?;
    let data = serde_json::from_str(&payload).map_err(|e| Error::Decode {
        stream: stream_id.clone(),
        version,
        event_type: event_type.clone(),
        message: e.to_string(),
    })?;
    let recorded_at = chrono::DateTime::parse_from_rfc3339(&recorded)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| Error::Decode {
            stream: stream_id.clone(),
            version,
            event_type: event_type.clone(),
            message: format!("recorded_at {recorded:?}: {e}"),
        })?;
    Ok(RecordedEvent {
        position: u64::try_from(row.get::<i64>("position")?).unwrap_or(0),
        stream_id,
        version,
        event_type,
        data,
        metadata: Metadata {
            event_id: row.get("event_id")?,
            causation_id: row.get("causation_id")?,
            correlation_id: row.get("correlation_id")?,
            actor: row.get("actor")?,
            recorded_at,
        },
    })
}

/// A random (version 4) UUID, hyphenated.
fn new_event_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    for half in bytes.chunks_mut(8) {
        // RandomState is seeded per instance from the operating system's randomness.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        half.copy_from_slice(&hasher.finish().to_le_bytes());
    }
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .hyphenated()
        .to_string()
}

pub(super) fn check_name(what: &'static str, value: &str, max: usize) -> Result<(), Error> {
    let length = value.chars().count();
    if length == 0 || length > max {
        return Err(Error::InvalidInput {
            what,
            message: format!("{length} characters (1 to {max} allowed)"),
        });
    }
    Ok(())
}

fn check_events(stream: &str, events: &[NewEvent]) -> Result<(), Error> {
    check_name("stream id", stream, MAX_NAME_LEN)?;
    if events.is_empty() {
        return Err(Error::InvalidInput {
            what: "events",
            message: "an append needs at least one event".into(),
        });
    }
    for event in events {
        check_name("event type", &event.event_type, MAX_NAME_LEN)?;
        for (what, id) in [
            ("event id", &event.event_id),
            ("causation id", &event.causation_id),
            ("correlation id", &event.correlation_id),
        ] {
            if let Some(id) = id {
                check_name(what, id, MAX_ID_LEN)?;
            }
        }
        if let Some(actor) = &event.actor {
            check_name("actor", actor, MAX_ACTOR_LEN)?;
        }
    }
    Ok(())
}
