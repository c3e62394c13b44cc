//! Projections: a handler applied to every event in global order, its effects and its
//! checkpoint committed together, woken by the real-time change log of the event table.
//!
//! # Expected flow
//! A [`ProjectionRunner`] locks the projection's checkpoint row, reads the events after it
//! from the store (a batch at a time, in global order), hands each to
//! [`Projection::apply`] in that transaction, stores the last position as the new checkpoint
//! and commits. Once caught up it waits on a [`crate::realtime::tail`] of `_fox_events`: each
//! committed append wakes it. Killed at any point, a new runner starts at the last committed
//! checkpoint: a batch either committed with its checkpoint or left no trace.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::store::{EventStore, check_name, read_all_in};
use super::tables::{EVENTS_TABLE, MAX_NAME_LEN, PROJECTIONS_TABLE};
use super::{Error, RecordedEvent};
use crate::connection::Value;
use crate::dialect::dialect_for;
use crate::realtime::{TailOptions, tail};
use crate::transaction::Transaction;

/// What a handler may fail with.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

/// A projection: a name (its checkpoint's key) and what to do with each event.
pub trait Projection: Send {
    /// What the events it handles decode to.
    type Event: DeserializeOwned + Send + Sync;

    /// Its name, unique per store (1 to 200 characters): the checkpoint's key. A new name
    /// starts from the first event.
    fn name(&self) -> &str;

    /// Whether it handles events of this type; the others are passed over (the checkpoint
    /// still moves past them). All of them by default.
    fn handles(&self, event_type: &str) -> bool {
        let _ = event_type;
        true
    }

    /// Applies one event. Write its effects through `tx`: they commit together with the
    /// checkpoint, so each event counts exactly once. An error rolls the batch back.
    fn apply(
        &mut self,
        tx: &mut Transaction,
        event: &RecordedEvent<Self::Event>,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// The global position of the last event `projection` applied (0: none yet).
///
/// # Errors
/// [`Error::Database`].
pub async fn checkpoint(store: &EventStore, projection: &str) -> Result<u64, Error> {
    let db = store.database();
    let rows = db
        .fetch_all(
            &format!(
                "SELECT position FROM {PROJECTIONS_TABLE} WHERE name = {}",
                dialect_for(db.backend()).placeholder(1)
            ),
            &[Value::Text(projection.into())],
        )
        .await?;
    match rows.first() {
        Some(row) => Ok(u64::try_from(row.get::<i64>("position")?).unwrap_or(0)),
        None => Ok(0),
    }
}

/// Runs a [`Projection`] (see the module's expected flow).
#[derive(Debug)]
pub struct ProjectionRunner<P> {
    store: EventStore,
    projection: P,
    batch_size: usize,
    safety_poll: Duration,
}

impl<P: Projection> ProjectionRunner<P> {
    /// A runner of `projection` over `store`'s events, 100 events a transaction.
    pub fn new(store: &EventStore, projection: P) -> Self {
        Self {
            store: store.clone(),
            projection,
            batch_size: 100,
            safety_poll: Duration::from_secs(1),
        }
    }

    /// Events applied per transaction (at least 1).
    #[must_use]
    pub fn batch_size(mut self, events: usize) -> Self {
        self.batch_size = events.max(1);
        self
    }

    /// The projection.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// The projection, mutably.
    pub fn projection_mut(&mut self) -> &mut P {
        &mut self.projection
    }

    /// Applies every event committed now after the checkpoint; returns how many it read
    /// (handled or passed over).
    ///
    /// # Errors
    /// [`Error::Projection`] when the handler fails (its batch is rolled back, the
    /// checkpoint stays before it); [`Error::Decode`]; [`Error::Database`].
    pub async fn catch_up(&mut self) -> Result<u64, Error> {
        self.register().await?;
        let mut total = 0;
        loop {
            let read = self.apply_batch().await?;
            total += read as u64;
            if read == 0 {
                return Ok(total);
            }
        }
    }

    /// Catches up, then applies each new event as the change log reports its commit, until
    /// `stop` completes.
    ///
    /// # Errors
    /// As [`ProjectionRunner::catch_up`]; change log errors are logged and the runner goes on
    /// (it also looks for new events every second without a wake-up).
    pub async fn run(&mut self, stop: impl Future<Output = ()>) -> Result<(), Error> {
        self.register().await?;
        // Started before catching up: an append committing meanwhile still wakes the runner.
        let mut changes = tail(
            self.store.database(),
            TailOptions {
                tables: vec![EVENTS_TABLE.into()],
                from: None,
            },
        );
        let mut stop = pin!(stop);
        loop {
            while self.apply_batch().await? > 0 {}
            tokio::select! {
                () = &mut stop => return Ok(()),
                change = std::future::poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut changes), cx)) => {
                    match change {
                        Some(Ok(_)) => {}
                        Some(Err(error)) => {
                            tracing::warn!(projection = self.projection.name(), %error, "change log reader failed; polling meanwhile");
                            tokio::time::sleep(self.safety_poll).await;
                        }
                        None => {
                            changes = tail(self.store.database(), TailOptions { tables: vec![EVENTS_TABLE.into()], from: None });
                        }
                    }
                }
                () = tokio::time::sleep(self.safety_poll) => {}
            }
        }
    }

    /// Creates the checkpoint row (position 0) when missing.
    async fn register(&self) -> Result<(), Error> {
        let name = self.projection.name();
        check_name("projection name", name, MAX_NAME_LEN)?;
        let db = self.store.database();
        let dialect = dialect_for(db.backend());
        db.execute(
            &format!(
                "INSERT INTO {PROJECTIONS_TABLE} (name, position, updated_at) VALUES ({}, {}, {}){}",
                dialect.placeholder(1),
                dialect.placeholder(2),
                dialect.placeholder(3),
                dialect.upsert_clause(&["name".into()], &[])
            ),
            &[Value::Text(name.into()), Value::Int(0), Value::Text(now_text())],
        )
        .await?;
        Ok(())
    }

    /// One transaction: lock the checkpoint, read the next batch, apply it, move the
    /// checkpoint. Returns how many events it read.
    async fn apply_batch(&mut self) -> Result<usize, Error> {
        let db = self.store.database().clone();
        let dialect = dialect_for(db.backend());
        let name = self.projection.name().to_string();
        let mut tx = db.begin(None).await?;
        let outcome = async {
            let rows = tx
                .fetch_all(
                    &format!(
                        "SELECT position FROM {PROJECTIONS_TABLE} WHERE name = {}{}",
                        dialect.placeholder(1),
                        dialect.lock_rows_clause()
                    ),
                    &[Value::Text(name.clone())],
                )
                .await?;
            let position = match rows.first() {
                Some(row) => u64::try_from(row.get::<i64>("position")?).unwrap_or(0),
                None => 0,
            };
            let events: Vec<RecordedEvent<serde_json::Value>> =
                read_all_in(&mut tx, position, self.batch_size).await?;
            let Some(last) = events.last().map(|e| e.position) else {
                return Ok(0);
            };
            for event in &events {
                if !self.projection.handles(&event.event_type) {
                    continue;
                }
                let decoded = RecordedEvent {
                    position: event.position,
                    stream_id: event.stream_id.clone(),
                    version: event.version,
                    event_type: event.event_type.clone(),
                    data: <P::Event as serde::Deserialize>::deserialize(&event.data).map_err(
                        |e| Error::Decode {
                            stream: event.stream_id.clone(),
                            version: event.version,
                            event_type: event.event_type.clone(),
                            message: e.to_string(),
                        },
                    )?,
                    metadata: event.metadata.clone(),
                };
                self.projection
                    .apply(&mut tx, &decoded)
                    .await
                    .map_err(|source| Error::Projection {
                        projection: name.clone(),
                        position: event.position,
                        source,
                    })?;
            }
            tx.execute(
                &format!(
                    "UPDATE {PROJECTIONS_TABLE} SET position = {}, updated_at = {} WHERE name = {}",
                    dialect.placeholder(1),
                    dialect.placeholder(2),
                    dialect.placeholder(3)
                ),
                &[
                    Value::Int(i64::try_from(last).unwrap_or(i64::MAX)),
                    Value::Text(now_text()),
                    Value::Text(name.clone()),
                ],
            )
            .await?;
            Ok::<_, Error>(events.len())
        }
        .await;
        match outcome {
            Ok(read) => {
                tx.commit().await?;
                Ok(read)
            }
            Err(error) => {
                let _ = tx.rollback().await;
                Err(error)
            }
        }
    }
}

fn now_text() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}
