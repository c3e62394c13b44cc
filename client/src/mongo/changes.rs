//! Real-time on MongoDB: a model's changes through a change stream, as the same
//! [`Change<M>`](crate::realtime::Change) the SQL engines' subscriptions yield.
//!
//! # Expected flow
//! ```rust,ignore
//! let mut changes = mongo.subscribe::<User>().events([Operation::Insert]).start().await?;
//! while let Some(change) = changes.next().await {
//!     let change = change?;
//!     save_somewhere(changes.resume_token()); // to resume after a restart
//! }
//! // later: mongo.subscribe::<User>().resume_after(token).start().await?
//! ```
//!
//! # Guarantees and differences from SQL
//! - Changes come in the server's commit order. Resuming is by MongoDB's resume token
//!   ([`MongoChanges::resume_token`], [`MongoSubscribe::resume_after`]); after a lost
//!   connection or an expired cursor the stream reopens itself after the last token it
//!   delivered (up to five times in a row). A change's [`Position`] is its number in this
//!   stream (1, 2, ...): it orders the changes one subscription delivers, it is not a place
//!   in a durable log as on SQL.
//! - `new` is the document after the change (`fullDocument: updateLookup`). `old` is set only
//!   with [`MongoSubscribe::before_images`], on a server with pre-images enabled on the
//!   collection (MongoDB 6.0+, `changeStreamPreAndPostImages`); otherwise updates and deletes
//!   come with `old: None`.
//! - A [`MongoSubscribe::filter`] is matched on the server against the document after the
//!   change (or before it, with before images): a delete without a before image matches no
//!   filter.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};

use super::database::MongoDatabase;
use super::filter::{check_model, filter_document};
use super::values::model_of;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::Condition;
use crate::query::ast::Expr;
use crate::realtime::{Change, Operation, Position};

/// A subscription to one model's collection, to configure and [`MongoSubscribe::start`].
#[derive(Debug)]
pub struct MongoSubscribe<M: Model> {
    db: MongoDatabase,
    events: Vec<Operation>,
    filter: Option<Expr>,
    resume_after: Option<ResumeToken>,
    before_images: bool,
    _model: PhantomData<fn() -> M>,
}

impl MongoDatabase {
    /// Every insert, update (and replace) and delete of `M`'s collection from the moment the
    /// stream starts; see [`crate::mongo::changes`] for what differs from SQL.
    pub fn subscribe<M: Model>(&self) -> MongoSubscribe<M> {
        MongoSubscribe {
            db: self.clone(),
            events: Operation::ALL.to_vec(),
            filter: None,
            resume_after: None,
            before_images: false,
            _model: PhantomData,
        }
    }
}

impl<M: Model> MongoSubscribe<M> {
    /// Only these operations (matched on the server).
    #[must_use]
    pub fn events(mut self, events: impl IntoIterator<Item = Operation>) -> Self {
        self.events = events.into_iter().collect();
        self
    }

    /// Only changes whose document matches `condition` (matched on the server; repeated
    /// calls combine with AND).
    #[must_use]
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.filter = Some(condition.and_after(self.filter.take()));
        self
    }

    /// Starts after the change whose token is `token` ([`MongoChanges::resume_token`]).
    #[must_use]
    pub fn resume_after(mut self, token: ResumeToken) -> Self {
        self.resume_after = Some(token);
        self
    }

    /// Asks for the document before each update and delete (`old`), where the collection
    /// keeps pre-images (MongoDB 6.0+ with `changeStreamPreAndPostImages`).
    #[must_use]
    pub fn before_images(mut self) -> Self {
        self.before_images = true;
        self
    }

    /// The `$match` stage: the operations and the filter on the document after (or before).
    fn pipeline(&self) -> Result<Vec<Document>> {
        let mut types: Vec<Bson> = Vec::new();
        for event in &self.events {
            match event {
                Operation::Insert => types.push("insert".into()),
                Operation::Update => {
                    types.push("update".into());
                    types.push("replace".into());
                }
                Operation::Delete => types.push("delete".into()),
            }
        }
        let mut stage = doc! { "operationType": { "$in": types } };
        if self.filter.is_some() {
            let filter = filter_document::<M>(self.filter.as_ref())?;
            let after = prefixed(&filter, "fullDocument");
            if self.before_images {
                let before = prefixed(&filter, "fullDocumentBeforeChange");
                stage.insert("$or", vec![Bson::Document(after), Bson::Document(before)]);
            } else {
                // Beside `operationType` rather than under an `$or`: the nx-27017 wire server
                // matches top-level field conditions only.
                stage.extend(after);
            }
        }
        Ok(vec![doc! { "$match": stage }])
    }

    /// Opens the change stream (an `aggregate` with `$changeStream` in a session of its own;
    /// the stream then reads with `getMore`).
    ///
    /// # Errors
    /// [`Error::MongoUnsupported`] where the server has no change streams (a standalone
    /// `mongod`: they need a replica set); conditions a filter cannot express; connection
    /// errors.
    pub async fn start(self) -> Result<MongoChanges<M>> {
        check_model::<M>()?;
        let pipeline = self.pipeline()?;
        let session = self
            .db
            .client
            .start_session()
            .await
            .map_err(|error| self.db.error("starting a session for", M::TABLE, error))?;
        let token = Arc::new(Mutex::new(self.resume_after.map(|t| t.0)));
        let mut reader = Reader {
            db: self.db,
            session,
            pipeline,
            before_images: self.before_images,
            cursor: 0,
            buffered: VecDeque::new(),
            token: Arc::clone(&token),
            delivered: 0,
            _model: PhantomData,
        };
        reader.open().await?;
        Ok(MongoChanges {
            state: State::Idle(Box::new(reader)),
            token,
        })
    }
}

/// A change stream's resume token: where a new subscription starts
/// ([`MongoSubscribe::resume_after`]). Opaque; store it as the document it holds.
#[derive(Clone, Debug, PartialEq)]
pub struct ResumeToken(pub Document);

/// `filter`'s field conditions moved under `prefix` (`email` → `fullDocument.email`); the
/// logical operators' branches likewise.
fn prefixed(filter: &Document, prefix: &str) -> Document {
    filter
        .iter()
        .map(|(key, value)| match (key.as_str(), value) {
            ("$and" | "$or" | "$nor", Bson::Array(branches)) => (
                key.clone(),
                Bson::Array(
                    branches
                        .iter()
                        .map(|branch| match branch {
                            Bson::Document(branch) => Bson::Document(prefixed(branch, prefix)),
                            other => other.clone(),
                        })
                        .collect(),
                ),
            ),
            _ => (format!("{prefix}.{key}"), value.clone()),
        })
        .collect()
}

/// How long a `getMore` waits on the server for new changes.
const AWAIT: Duration = Duration::from_secs(1);
/// The least time between two `getMore`s that came back empty (a server that does not wait).
const POLL: Duration = Duration::from_millis(100);
/// How often a lost stream is reopened from its token before the error is returned.
const REOPEN_ATTEMPTS: u32 = 5;

/// The stream's cursor, read with `getMore` in its own session.
struct Reader<M> {
    db: MongoDatabase,
    session: ClientSession,
    pipeline: Vec<Document>,
    before_images: bool,
    cursor: i64,
    buffered: VecDeque<Document>,
    /// The token after the last change delivered (shared with [`MongoChanges::resume_token`]).
    token: Arc<Mutex<Option<Document>>>,
    delivered: i64,
    _model: PhantomData<fn() -> M>,
}

/// A cursor id, which servers send as a 64-bit integer (and the nx-27017 wire server as a
/// 32-bit one).
fn cursor_id(cursor: &Document) -> i64 {
    match cursor.get("id") {
        Some(Bson::Int64(id)) => *id,
        Some(Bson::Int32(id)) => i64::from(*id),
        _ => 0,
    }
}

fn batch(cursor: &Document, field: &str) -> VecDeque<Document> {
    cursor
        .get_array(field)
        .map(|events| {
            events
                .iter()
                .filter_map(|event| event.as_document().cloned())
                .collect()
        })
        .unwrap_or_default()
}

impl<M: Model> Reader<M> {
    fn set_token(&self, token: Option<Document>) {
        if let (Some(token), Ok(mut shared)) = (token, self.token.lock()) {
            *shared = Some(token);
        }
    }

    fn current_token(&self) -> Option<Document> {
        self.token.lock().ok().and_then(|token| token.clone())
    }

    /// Runs `command` in the stream's session; the reply's `cursor`.
    async fn cursor_command(&mut self, command: Document) -> Result<Document> {
        let reply = self
            .db
            .database
            .run_command(command)
            .session(&mut self.session)
            .await
            .map_err(|error| {
                match super::errors::operation_error("watching", M::TABLE, error) {
                    // 40573: "The $changeStream stage is only supported on replica sets".
                    Error::Mongo {
                        code: Some(40573),
                        message,
                        ..
                    } => Error::MongoUnsupported {
                        feature: format!(
                            "change streams on {}: {message} (they need a replica set or a sharded cluster)",
                            self.db.location
                        ),
                    },
                    other => super::errors::located(other, &self.db.location),
                }
            })?;
        reply
            .get_document("cursor")
            .cloned()
            .map_err(|_| Error::Mongo {
                operation: format!("watching {}", M::TABLE),
                code: None,
                message: format!("the server's reply has no cursor: {reply}"),
            })
    }

    /// Opens (or reopens, after the last token) the `$changeStream` aggregation.
    async fn open(&mut self) -> Result<()> {
        let mut stage = doc! { "fullDocument": "updateLookup" };
        if self.before_images {
            stage.insert("fullDocumentBeforeChange", "whenAvailable");
        }
        if let Some(token) = self.current_token() {
            stage.insert("resumeAfter", token);
        }
        let mut pipeline = vec![doc! { "$changeStream": stage }];
        pipeline.extend(self.pipeline.iter().cloned());
        let cursor = self
            .cursor_command(doc! { "aggregate": M::TABLE, "pipeline": pipeline, "cursor": {} })
            .await?;
        self.cursor = cursor_id(&cursor);
        self.buffered = batch(&cursor, "firstBatch");
        if self.buffered.is_empty() {
            self.set_token(cursor.get_document("postBatchResumeToken").ok().cloned());
        }
        Ok(())
    }

    /// The next batch from the server (empty when nothing happened while it waited).
    async fn read_batch(&mut self) -> Result<()> {
        let await_ms = i64::try_from(AWAIT.as_millis()).unwrap_or(1000);
        let cursor = self
            .cursor_command(doc! {
                "getMore": self.cursor,
                "collection": M::TABLE,
                "maxTimeMS": await_ms,
            })
            .await?;
        self.cursor = cursor_id(&cursor);
        self.buffered = batch(&cursor, "nextBatch");
        if self.buffered.is_empty() {
            self.set_token(cursor.get_document("postBatchResumeToken").ok().cloned());
        }
        Ok(())
    }

    /// The next change; `None` once the server ended the stream (the collection dropped).
    async fn next(&mut self) -> Option<Result<Change<M>>> {
        let mut failures = 0;
        loop {
            if let Some(event) = self.buffered.pop_front() {
                self.set_token(event.get_document("_id").ok().cloned());
                match self.change_of(&event) {
                    Some(change) => return Some(change),
                    None if event.get_str("operationType").ok() == Some("invalidate") => {
                        return None;
                    }
                    None => continue,
                }
            }
            if self.cursor == 0 {
                return None;
            }
            let asked = Instant::now();
            match self.read_batch().await {
                Ok(()) => {
                    failures = 0;
                    let waited = asked.elapsed();
                    if self.buffered.is_empty() && waited < POLL {
                        tokio::time::sleep(POLL - waited).await;
                    }
                }
                // Unsupported never heals; the rest (a lost connection, an expired cursor)
                // is retried by reopening after the last token.
                Err(error @ Error::MongoUnsupported { .. }) => return Some(Err(error)),
                Err(error) => {
                    failures += 1;
                    if failures > REOPEN_ATTEMPTS {
                        return Some(Err(error));
                    }
                    tokio::time::sleep(POLL * 2_u32.pow(failures)).await;
                    if let Err(error) = self.open().await
                        && failures == REOPEN_ATTEMPTS
                    {
                        return Some(Err(error));
                    }
                }
            }
        }
    }

    /// The event as a change, `None` for events that are not a document's (drop, rename).
    fn change_of(&mut self, event: &Document) -> Option<Result<Change<M>>> {
        let op = match event.get_str("operationType").unwrap_or_default() {
            "insert" => Operation::Insert,
            "update" | "replace" => Operation::Update,
            "delete" => Operation::Delete,
            _ => return None,
        };
        let image = |field: &str| match event.get(field) {
            Some(Bson::Document(document)) => Some(model_of::<M>(document)),
            _ => None,
        };
        let new = match image("fullDocument").transpose() {
            Ok(new) => new,
            Err(error) => return Some(Err(error)),
        };
        let old = match image("fullDocumentBeforeChange").transpose() {
            Ok(old) => old,
            Err(error) => return Some(Err(error)),
        };
        let committed_at = match (event.get("wallTime"), event.get("clusterTime")) {
            (Some(Bson::DateTime(t)), _) | (_, Some(Bson::DateTime(t))) => {
                chrono::DateTime::from_timestamp_millis(t.timestamp_millis())
            }
            (_, Some(Bson::Timestamp(t))) => chrono::DateTime::from_timestamp(i64::from(t.time), 0),
            _ => None,
        }
        .unwrap_or_else(chrono::Utc::now);
        self.delivered += 1;
        Some(Ok(Change {
            op,
            position: Position(self.delivered),
            old,
            new: if op == Operation::Delete { None } else { new },
            committed_at,
        }))
    }
}

/// What a `getMore` in flight gives back: the reader and the change.
type Reading<M> = Pin<Box<dyn Future<Output = (Box<Reader<M>>, Option<Result<Change<M>>>)> + Send>>;

enum State<M> {
    Idle(Box<Reader<M>>),
    Reading(Reading<M>),
    Done,
}

/// The changes of a started subscription: a [`futures_core::Stream`] of [`Change<M>`]. A lost
/// connection or an expired cursor is reopened after the last token by itself (up to five
/// times in a row, with backoff) before the error is delivered.
pub struct MongoChanges<M> {
    state: State<M>,
    token: Arc<Mutex<Option<Document>>>,
}

impl<M> std::fmt::Debug for MongoChanges<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoChanges").finish_non_exhaustive()
    }
}

impl<M: Model> MongoChanges<M> {
    /// The token to resume after the last change delivered (or, before the first, after the
    /// stream's start), for [`MongoSubscribe::resume_after`].
    pub fn resume_token(&self) -> Option<ResumeToken> {
        self.token
            .lock()
            .ok()
            .and_then(|token| token.clone())
            .map(ResumeToken)
    }
}

impl<M: Model> futures_core::Stream for MongoChanges<M> {
    type Item = Result<Change<M>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Poll::Ready(None),
                State::Idle(mut reader) => {
                    self.state = State::Reading(Box::pin(async move {
                        let change = reader.next().await;
                        (reader, change)
                    }));
                }
                State::Reading(mut reading) => match reading.as_mut().poll(cx) {
                    Poll::Pending => {
                        self.state = State::Reading(reading);
                        return Poll::Pending;
                    }
                    Poll::Ready((reader, change)) => {
                        if change.is_some() {
                            self.state = State::Idle(reader);
                        }
                        return Poll::Ready(change);
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::prefixed;
    use mongodb::bson::doc;

    #[test]
    fn filters_move_under_the_change_events_document() {
        let filter = doc! { "a": 1, "$or": [{ "b": { "$in": [2] } }, { "$and": [{ "c": 3 }] }] };
        assert_eq!(
            prefixed(&filter, "fullDocument"),
            doc! {
                "fullDocument.a": 1,
                "$or": [{ "fullDocument.b": { "$in": [2] } }, { "$and": [{ "fullDocument.c": 3 }] }],
            }
        );
    }
}
