//! Reads and writes of models, once for the database handle and for a transaction: a
//! [`Target`] is the database with or without the transaction's session.

use mongodb::ClientSession;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;

use super::database::MongoDatabase;
use super::filter::{check_model, check_plain_find, filter_document, sort_document};
use super::values::{document_of, field_path, key_of, model_from_values, model_of, to_bson};
use crate::connection::Value;
use crate::error::{Error, Result};
use crate::model::Model;
use crate::query::{Delete, Select, Update};
use crate::verify::FieldKind;

/// The collection keeping the next value of each collection's generated integer key.
pub const SEQUENCES: &str = "_fox_sequences";

/// Runs a driver action with the session when there is one.
macro_rules! in_session {
    ($target:expr, $action:expr) => {
        match $target.session.as_deref_mut() {
            Some(session) => $action.session(session).await,
            None => $action.await,
        }
    };
}

/// Where an operation runs: the database, inside a transaction's session or not.
pub(crate) struct Target<'a> {
    pub(crate) db: &'a MongoDatabase,
    pub(crate) session: Option<&'a mut ClientSession>,
}

/// Refuses writes of models with their own hooks: hooks receive a SQL transaction.
fn check_writable<M: Model>() -> Result<()> {
    check_model::<M>()?;
    if M::HAS_HOOKS {
        return Err(Error::MongoUnsupported {
            feature: format!(
                "writes of {} with its hooks (#[foxdb(hooks)] hooks receive a SQL transaction)",
                M::TABLE
            ),
        });
    }
    Ok(())
}

impl Target<'_> {
    fn collection<M: Model>(&self) -> mongodb::Collection<Document> {
        self.db.database.collection(M::TABLE)
    }

    /// Where a read goes: in a transaction its session decides (the primary); otherwise the
    /// database's read routing, `None` meaning the primary.
    fn read_criteria(&self) -> Result<Option<mongodb::options::SelectionCriteria>> {
        match (&self.session, &self.db.reads) {
            (None, Some(reads)) => {
                let last_write = self.db.last_write.lock().ok().and_then(|at| *at);
                reads.criteria(&self.db.location, last_write)
            }
            _ => Ok(None),
        }
    }

    /// The collection of `M` for a write, noting the write for read-your-writes (before it
    /// is sent: a read right after a write that failed goes to the primary too).
    fn write_collection<M: Model>(&self) -> mongodb::Collection<Document> {
        if let Ok(mut at) = self.db.last_write.lock() {
            *at = Some(std::time::Instant::now());
        }
        self.collection::<M>()
    }

    fn error<M: Model>(&self, operation: &str, error: mongodb::error::Error) -> Error {
        self.db
            .error(&format!("{operation} {}", M::TABLE), M::TABLE, error)
    }

    /// The documents `query` matches, with `projection` when given.
    pub(crate) async fn find_documents<M: Model>(
        &mut self,
        query: &Select<M>,
        projection: Option<Document>,
    ) -> Result<Vec<Document>> {
        check_plain_find::<M>(&query.core, query.schema.as_deref())?;
        let filter = filter_document::<M>(query.core.filter.as_ref())?;
        let sort = sort_document::<M>(&query.core)?;
        self.find_filtered::<M>(
            filter,
            sort,
            query.core.offset,
            query.core.limit,
            projection,
        )
        .await
    }

    pub(crate) async fn find_filtered<M: Model>(
        &mut self,
        filter: Document,
        sort: Document,
        skip: Option<u64>,
        limit: Option<u64>,
        projection: Option<Document>,
    ) -> Result<Vec<Document>> {
        let collection = self.collection::<M>();
        let limit = limit
            .map(|limit| i64::try_from(limit).unwrap_or(i64::MAX))
            .filter(|limit| *limit > 0);
        let mut find = collection.find(filter);
        if let Some(criteria) = self.read_criteria()? {
            find = find.selection_criteria(criteria);
        }
        if !sort.is_empty() {
            find = find.sort(sort);
        }
        if let Some(skip) = skip {
            find = find.skip(skip);
        }
        if let Some(limit) = limit {
            find = find.limit(limit);
        }
        if let Some(projection) = projection {
            find = find.projection(projection);
        }
        let db = self.db;
        let fail = |error| db.error(&format!("find in {}", M::TABLE), M::TABLE, error);
        let mut documents = Vec::new();
        match self.session.as_deref_mut() {
            Some(session) => {
                let mut cursor = find.session(&mut *session).await.map_err(fail)?;
                while cursor.advance(session).await.map_err(fail)? {
                    documents.push(cursor.deserialize_current().map_err(fail)?);
                }
            }
            None => {
                let mut cursor = find.await.map_err(fail)?;
                while cursor.advance().await.map_err(fail)? {
                    documents.push(cursor.deserialize_current().map_err(fail)?);
                }
            }
        }
        Ok(documents)
    }

    pub(crate) async fn find<M: Model>(&mut self, query: &Select<M>) -> Result<Vec<M>> {
        self.find_documents(query, None)
            .await?
            .iter()
            .map(model_of::<M>)
            .collect()
    }

    pub(crate) async fn count<M: Model>(&mut self, query: &Select<M>) -> Result<u64> {
        check_plain_find::<M>(&query.core, query.schema.as_deref())?;
        let filter = filter_document::<M>(query.core.filter.as_ref())?;
        let collection = self.collection::<M>();
        let mut count = collection.count_documents(filter);
        if let Some(criteria) = self.read_criteria()? {
            count = count.selection_criteria(criteria);
        }
        in_session!(self, count).map_err(|e| self.error::<M>("count in", e))
    }

    /// Values for `count` new rows' generated integer key, from [`SEQUENCES`].
    async fn next_keys<M: Model>(&mut self, count: usize) -> Result<Option<(&'static str, i64)>> {
        let generated = M::GENERATED
            .iter()
            .find(|column| matches!(super::values::kind_of::<M>(column), FieldKind::Integer(_)));
        let Some(column) = generated else {
            return Ok(None);
        };
        let step = i64::try_from(count).unwrap_or(i64::MAX);
        let sequences = self.db.database.collection::<Document>(SEQUENCES);
        let update = sequences
            .find_one_and_update(doc! { "_id": M::TABLE }, doc! { "$inc": { "next": step } })
            .upsert(true)
            .return_document(ReturnDocument::After);
        let counter = in_session!(self, update)
            .map_err(|e| self.error::<M>("generating keys for", e))?
            .ok_or_else(|| Error::Mongo {
                operation: format!("generating keys for {}", M::TABLE),
                code: None,
                message: "the sequence document was not returned".into(),
            })?;
        let last = match counter.get("next") {
            Some(Bson::Int32(n)) => i64::from(*n),
            Some(Bson::Int64(n)) => *n,
            Some(Bson::Double(n)) if n.fract() == 0.0 => {
                #[allow(clippy::cast_possible_truncation, reason = "checked integral above")]
                let n = *n as i64;
                n
            }
            other => {
                return Err(Error::Mongo {
                    operation: format!("generating keys for {}", M::TABLE),
                    code: None,
                    message: format!("the sequence holds {other:?}, not a number"),
                });
            }
        };
        Ok(Some((column, last - step + 1)))
    }

    /// The rows' values with generated keys filled in, from `first` on.
    fn with_keys<M: Model>(
        rows: &[M],
        generated: Option<(&'static str, i64)>,
    ) -> Vec<Vec<(&'static str, Value)>> {
        rows.iter()
            .zip(0_i64..)
            .map(|(row, offset)| {
                let mut values = row.values();
                if let Some((column, first)) = generated {
                    for (c, value) in &mut values {
                        if *c == column {
                            *value = Value::Int(first + offset);
                        }
                    }
                }
                values
            })
            .collect()
    }

    pub(crate) async fn insert<M: Model>(&mut self, model: &M) -> Result<M> {
        check_writable::<M>()?;
        let generated = self.next_keys::<M>(1).await?;
        let values = Self::with_keys(std::slice::from_ref(model), generated).remove(0);
        let document = document_of::<M>(&values)?;
        let collection = self.write_collection::<M>();
        in_session!(self, collection.insert_one(document))
            .map_err(|e| self.error::<M>("insert into", e))?;
        model_from_values(&values)
    }

    pub(crate) async fn insert_many<M: Model>(&mut self, models: &[M]) -> Result<u64> {
        check_writable::<M>()?;
        if models.is_empty() {
            return Ok(0);
        }
        let generated = self.next_keys::<M>(models.len()).await?;
        let documents = Self::with_keys(models, generated)
            .iter()
            .map(|values| document_of::<M>(values))
            .collect::<Result<Vec<_>>>()?;
        let collection = self.write_collection::<M>();
        let inserted = in_session!(self, collection.insert_many(documents))
            .map_err(|e| self.error::<M>("insert into", e))?;
        Ok(inserted.inserted_ids.len() as u64)
    }

    /// Replaces the document with `model`'s key, or inserts it (`upsert`), or only replaces
    /// (`save`): whether a document matched.
    async fn replace<M: Model>(&mut self, model: &M, upsert: bool) -> Result<bool> {
        check_writable::<M>()?;
        let values = model.values();
        let key = key_of::<M>(&values)?;
        let document = document_of::<M>(&values)?;
        let collection = self.write_collection::<M>();
        let replace = collection
            .replace_one(doc! { "_id": key }, document)
            .upsert(upsert);
        let result = in_session!(self, replace)
            .map_err(|e| self.error::<M>(if upsert { "upsert into" } else { "save in" }, e))?;
        Ok(result.matched_count > 0)
    }

    pub(crate) async fn upsert<M: Model>(&mut self, model: &M) -> Result<M> {
        self.replace(model, true).await?;
        Ok(model.clone())
    }

    pub(crate) async fn save<M: Model>(&mut self, model: &M) -> Result<bool> {
        self.replace(model, false).await
    }

    pub(crate) async fn remove<M: Model>(&mut self, model: &M) -> Result<bool> {
        check_writable::<M>()?;
        let key = key_of::<M>(&model.values())?;
        let collection = self.write_collection::<M>();
        let deleted = in_session!(self, collection.delete_one(doc! { "_id": key }))
            .map_err(|e| self.error::<M>("delete from", e))?;
        Ok(deleted.deleted_count > 0)
    }

    pub(crate) async fn update<M: Model>(&mut self, update: &Update<M>) -> Result<u64> {
        check_writable::<M>()?;
        update
            .scope
            .refuse_unscoped_document::<M>("an update", "change every document")?;
        if update.assignments.is_empty() {
            return Err(Error::MongoUnsupported {
                feature: format!("an update of {} that sets no field (call .set())", M::TABLE),
            });
        }
        let mut set = Document::new();
        for (column, value) in &update.assignments {
            if M::PRIMARY_KEY.contains(column) {
                return Err(Error::MongoUnsupported {
                    feature: format!(
                        "changing the key {column} of {} (a document's _id never changes: insert a new document)",
                        M::TABLE
                    ),
                });
            }
            set.insert(field_path::<M>(column), to_bson(value)?);
        }
        let filter = filter_document::<M>(update.scope.filter.as_ref())?;
        let collection = self.write_collection::<M>();
        let result = in_session!(self, collection.update_many(filter, doc! { "$set": set }))
            .map_err(|e| self.error::<M>("update", e))?;
        Ok(result.modified_count)
    }

    pub(crate) async fn delete<M: Model>(&mut self, delete: &Delete<M>) -> Result<u64> {
        check_writable::<M>()?;
        delete
            .scope
            .refuse_unscoped_document::<M>("a delete", "delete every document")?;
        let filter = filter_document::<M>(delete.scope.filter.as_ref())?;
        let collection = self.write_collection::<M>();
        let result = in_session!(self, collection.delete_many(filter))
            .map_err(|e| self.error::<M>("delete from", e))?;
        Ok(result.deleted_count)
    }
}
