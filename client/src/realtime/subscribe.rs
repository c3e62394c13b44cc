//! `db.subscribe::<User>()`: typed changes of one model's table.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::capture::{ChangeCapture, LiveColumn};
use super::tail::{ChangeStream, Decoder, TailOptions, live_columns, start};
use super::{Change, Error, Operation, Position, RawChange};
use crate::connection::Value;
use crate::database::Database;
use crate::model::Model;
use crate::query::Condition;
use crate::query::SqlWriter;
use crate::query::ast::Expr;
use crate::row::FromColumn;

/// A subscription to the changes of `M`'s table; a [`futures_core::Stream`] of
/// [`Change<M>`] that starts reading on its first poll. Built by [`Database::subscribe`].
#[derive(Debug)]
pub struct Subscribe<M: Model> {
    db: Database,
    events: Vec<Operation>,
    filter: Option<Expr>,
    from: Option<Position>,
    durable: Option<String>,
    stream: Option<ChangeStream<Change<M>>>,
    _model: PhantomData<fn() -> M>,
}

impl Database {
    /// Every committed insert, update and delete of `M`'s table from now on (see
    /// [`crate::realtime`] for the guarantees); narrow it with [`Subscribe::events`],
    /// [`Subscribe::filter`], start elsewhere with [`Subscribe::from`].
    ///
    /// # Errors
    /// The stream's first item is [`Error::NotCaptured`] when the table has no capture.
    pub fn subscribe<M: Model>(&self) -> Subscribe<M> {
        Subscribe {
            db: self.clone(),
            events: Operation::ALL.to_vec(),
            filter: None,
            from: None,
            durable: None,
            stream: None,
            _model: PhantomData,
        }
    }

    /// The changes of one record: [`Database::subscribe`] filtered by `row`'s primary key.
    pub fn subscribe_to<M: Model>(&self, row: &M) -> Subscribe<M> {
        self.subscribe::<M>()
            .filter(crate::query::key_condition(row))
    }
}

impl<M: Model> Subscribe<M> {
    /// Only these operations.
    #[must_use]
    pub fn events(mut self, events: impl IntoIterator<Item = Operation>) -> Self {
        self.events = events.into_iter().collect();
        self
    }

    /// Only changes where the row before or after matches `condition` (an update that moves a
    /// row out of the condition is delivered, its `new` no longer matching). Repeated calls
    /// combine with AND.
    #[must_use]
    pub fn filter(mut self, condition: Condition<M>) -> Self {
        self.filter = Some(condition.and_after(self.filter.take()));
        self
    }

    /// Start after `position` (the last one the consumer handled; `Position(0)`: from the
    /// oldest change still in the log) instead of at the newest change now.
    #[must_use]
    pub fn from(mut self, position: Position) -> Self {
        self.from = Some(position);
        self
    }

    /// A durable named subscriber: the database stores the position it acknowledges
    /// ([`Subscribe::acknowledge`]); a subscription of the same name (after a restart, on
    /// another machine) starts after it, and pruning never deletes a change above it. The
    /// first time, it starts where [`Subscribe::from`] says (default: the newest change now).
    /// One consumer per name at a time: two would share one acknowledged position.
    ///
    /// # Errors
    /// The stream's first item is [`Error::SubscriberName`] for an empty or overlong name.
    #[must_use]
    pub fn durable(mut self, name: impl Into<String>) -> Self {
        self.durable = Some(name.into());
        self
    }

    /// Stores that this durable subscriber handled every change up to `position`.
    ///
    /// # Errors
    /// [`Error::NotDurable`] without [`Subscribe::durable`]; [`Error::NoSuchSubscriber`]
    /// before the stream started (it registers on its first poll); a failed query.
    pub async fn acknowledge(&self, position: Position) -> Result<(), Error> {
        let Some(name) = &self.durable else {
            return Err(Error::NotDurable);
        };
        super::durable::acknowledge(&self.db, name, position).await
    }

    /// Makes the reader drop its connections and open new ones (see
    /// [`ChangeStream::reconnect`]); nothing happens before the first poll.
    pub fn reconnect(&self) {
        if let Some(stream) = &self.stream {
            stream.reconnect();
        }
    }

    /// How many times the reader reconnected so far: all its connections after an error, or
    /// PostgreSQL's listener alone after its connection dropped.
    pub fn reconnects(&self) -> u64 {
        self.stream.as_ref().map_or(0, ChangeStream::reconnects)
    }
}

impl<M: Model> futures_core::Stream for Subscribe<M> {
    type Item = Result<Change<M>, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let stream = this.stream.get_or_insert_with(|| {
            start(
                &this.db,
                TailOptions {
                    tables: vec![M::TABLE.to_string()],
                    from: this.from,
                },
                this.durable.clone(),
                TypedDecoder::<M> {
                    events: this.events.clone(),
                    filter: this.filter.clone(),
                    columns: Vec::new(),
                    _model: PhantomData,
                },
            )
        });
        Pin::new(stream).poll_next(cx)
    }
}

/// Turns logged JSON images back into `M`s in the database (each engine's
/// [`ChangeCapture::image_source`]), where the filter is evaluated too.
struct TypedDecoder<M> {
    events: Vec<Operation>,
    filter: Option<Expr>,
    columns: Vec<LiveColumn>,
    _model: PhantomData<fn() -> M>,
}

impl<M: Model> Decoder for TypedDecoder<M> {
    type Item = Change<M>;

    async fn prepare(
        &mut self,
        db: &Database,
        capture: &'static dyn ChangeCapture,
    ) -> Result<(), Error> {
        self.columns = live_columns(db, capture, M::TABLE).await?;
        Ok(())
    }

    async fn decode(
        &mut self,
        db: &Database,
        capture: &'static dyn ChangeCapture,
        batch: Vec<RawChange>,
    ) -> Result<Vec<Change<M>>, Error> {
        let kept: Vec<RawChange> = batch
            .into_iter()
            .filter(|c| self.events.contains(&c.op))
            .collect();
        let images: Vec<&serde_json::Value> = kept
            .iter()
            .flat_map(|c| c.old.iter().chain(c.new.iter()))
            .collect();
        if images.is_empty() {
            return Ok(Vec::new());
        }
        let mut writer = SqlWriter::for_model(db.backend(), crate::query::EnumColumns::of::<M>());
        writer.push("SELECT ");
        for (i, column) in M::COLUMNS.iter().enumerate() {
            if i > 0 {
                writer.push(", ");
            }
            writer.push("t.");
            writer.push_identifier(column);
        }
        writer.push(", CASE WHEN ");
        match &self.filter {
            Some(filter) => filter.render(&mut writer),
            None => writer.push("1 = 1"),
        }
        writer.push(" THEN 'y' ELSE 'n' END FROM (");
        let source = capture.image_source(M::TABLE, &self.columns);
        writer.push(&source.before);
        writer.push_value(Value::Text(
            serde_json::Value::Array(images.into_iter().cloned().collect()).to_string(),
        ));
        writer.push(&source.after);
        writer.push(") AS t ORDER BY t._fox_n");
        let (sql, values) = writer.finish();
        let rows = db.fetch_all(&sql, &values).await?;
        let mut rows = rows.iter();
        let mut changes = Vec::with_capacity(kept.len());
        for change in kept {
            let mut image = |present: bool| -> Result<Option<(M, bool)>, Error> {
                if !present {
                    return Ok(None);
                }
                let failed = |message: String| Error::Decode {
                    position: change.position,
                    table: change.table.clone(),
                    message,
                };
                let row = rows
                    .next()
                    .ok_or_else(|| failed("the database returned fewer rows than images".into()))?;
                let model = M::from_row_in_order(row).map_err(|e| failed(e.to_string()))?;
                let matched = String::from_column_at(row, M::COLUMNS.len())
                    .map_err(|e| failed(e.to_string()))?;
                Ok(Some((model, matched == "y")))
            };
            let old = image(change.old.is_some())?;
            let new = image(change.new.is_some())?;
            let matches =
                old.as_ref().is_some_and(|(_, m)| *m) || new.as_ref().is_some_and(|(_, m)| *m);
            if matches {
                changes.push(Change {
                    op: change.op,
                    position: change.position,
                    old: old.map(|(m, _)| m),
                    new: new.map(|(m, _)| m),
                    committed_at: change.committed_at,
                });
            }
        }
        Ok(changes)
    }
}
