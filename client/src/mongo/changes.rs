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
//!   ([`MongoChanges::resume_token`], [`MongoSubscribe::resume_after`]); the driver also resumes
//!   by itself after a dropped connection. A change's [`Position`] is its number in this
//!   stream (1, 2, ...): it orders the changes one subscription delivers, it is not a place
//!   in a durable log as on SQL.
//! - `new` is the document after the change (`fullDocument: updateLookup`). `old` is set only
//!   with [`MongoSubscribe::before_images`], on a server with pre-images enabled on the
//!   collection (MongoDB 6.0+, `changeStreamPreAndPostImages`); otherwise updates and deletes
//!   come with `old: None`.
//! - A [`MongoSubscribe::filter`] is matched on the server against the document after the
//!   change (or before it, with before images): a delete without a before image matches no
//!   filter.

use std::marker::PhantomData;

use std::pin::Pin;
use std::task::{Context, Poll};

use mongodb::bson::{Bson, Document, doc};
use mongodb::change_stream::ChangeStream;
use mongodb::change_stream::event::ResumeToken;
use mongodb::options::{FullDocumentBeforeChangeType, FullDocumentType};

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
            let mut any = vec![Bson::Document(prefixed(&filter, "fullDocument"))];
            if self.before_images {
                any.push(Bson::Document(prefixed(&filter, "fullDocumentBeforeChange")));
            }
            stage.insert("$or", any);
        }
        Ok(vec![doc! { "$match": stage }])
    }

    /// Opens the change stream.
    ///
    /// # Errors
    /// [`Error::MongoUnsupported`] where the server has no change streams (a standalone
    /// `mongod`: they need a replica set); conditions a filter cannot express; connection
    /// errors.
    pub async fn start(self) -> Result<MongoChanges<M>> {
        check_model::<M>()?;
        let pipeline = self.pipeline()?;
        let collection = self.db.database.collection::<Document>(M::TABLE);
        let mut watch = collection
            .watch()
            .pipeline(pipeline)
            .full_document(FullDocumentType::UpdateLookup);
        if self.before_images {
            watch = watch.full_document_before_change(FullDocumentBeforeChangeType::WhenAvailable);
        }
        if let Some(token) = self.resume_after {
            watch = watch.resume_after(token);
        }
        let stream = watch.await.map_err(|error| {
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
        Ok(MongoChanges {
            stream: Box::pin(stream.with_type::<Document>()),
            delivered: 0,
            _model: PhantomData,
        })
    }
}

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

/// The changes of a started subscription: a [`futures_core::Stream`] of [`Change<M>`].
pub struct MongoChanges<M> {
    stream: Pin<Box<ChangeStream<Document>>>,
    delivered: i64,
    _model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for MongoChanges<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MongoChanges")
            .field("delivered", &self.delivered)
            .finish_non_exhaustive()
    }
}

impl<M: Model> MongoChanges<M> {
    /// The token to resume after the last change delivered (or, before the first, after the
    /// stream's start), for [`MongoSubscribe::resume_after`].
    pub fn resume_token(&self) -> Option<ResumeToken> {
        self.stream.resume_token()
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
            (_, Some(Bson::Timestamp(t))) => {
                chrono::DateTime::from_timestamp(i64::from(t.time), 0)
            }
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

impl<M: Model> futures_core::Stream for MongoChanges<M> {
    type Item = Result<Change<M>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let event = match self.stream.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => {
                    return Poll::Ready(Some(Err(super::errors::operation_error(
                        "reading the change stream of",
                        M::TABLE,
                        error,
                    ))));
                }
                Poll::Ready(Some(Ok(event))) => event,
            };
            if let Some(change) = self.change_of(&event) {
                return Poll::Ready(Some(change));
            }
        }
    }
}
