//! MongoDB: the same `#[derive(Model)]` models and the same builder conditions as SQL, read and
//! written as documents through the `mongodb` driver (foxdb's `mongodb` cargo feature, on by
//! default).
//!
//! MongoDB is a document store beside the SQL engines, not a [`crate::Backend`]: the query tree
//! the builders make ([`crate::query::ast`]) is rendered to BSON by this module's one renderer
//! (`filter`), as the SQL renderer writes it for a [`crate::dialect::Dialect`]. A model's
//! collection is its table name; its primary key is the document's `_id`; values map as the
//! table in `values` says (docs/mongodb-client.md).
//!
//! # Expected flow
//! ```rust,ignore
//! use foxdb::ModelExt;
//! use foxdb::mongo::MongoDatabase;
//!
//! let db = MongoDatabase::connect("mongodb://127.0.0.1:27017/blog").await?;
//! let alice = db.insert(&User { id: 0, email: "alice@example.com".into(), .. }).await?; // id from _fox_sequences
//! let found = db.find(&User::find().filter(User::EMAIL.like("%@example.com")).limit(10)).await?;
//! db.update(&User::update().set(User::ACTIVE, false).filter(User::ID.eq(alice.id))).await?;
//! let tree = db.find_with(&User::find(), &User::posts()).await?; // two finds in all
//! let mut tx = db.begin().await?;            // MongoUnsupported on a standalone server
//! tx.insert(&post).await?;
//! tx.commit().await?;
//! ```
//!
//! What MongoDB cannot do the SQL way is refused with [`crate::Error::MongoUnsupported`]:
//! relation filters, subqueries, grouping, joins, many-to-many loading, tenant-scoped models
//! and models with write hooks.

mod changes;
mod crud;
mod database;
mod errors;
mod filter;
mod projection;
mod read_routing;
mod relations;
mod transaction;
mod values;

use mongodb::bson::Document;

pub use changes::{MongoChanges, MongoSubscribe, ResumeToken};
pub use crud::SEQUENCES;
pub use database::{DEFAULT_SERVER_SELECTION_TIMEOUT, MongoDatabase, redact_url};
pub use mongodb::bson;
pub use projection::Projection;
pub use read_routing::MIN_MAX_STALENESS;
pub use transaction::MongoTransaction;

use crate::error::Result;
use crate::model::Model;
use crate::query::{Delete, Select, Update};
use crate::relation::Relation;
use crud::Target;

/// The document `insert` writes for `model`: its key as `_id`, every other column a field of
/// its own name, each value as the mapping in the module `values` gives it (an auto-increment
/// key as the model holds it; `insert` replaces it with the next counter value first). Nothing
/// is sent: it shows what each field is stored as (docs/reference/type-mapping.md is generated
/// from it).
///
/// # Errors
/// A value BSON cannot hold (a decimal beyond Decimal128's range).
pub fn document<M: Model>(model: &M) -> Result<Document> {
    values::document_of::<M>(&model.values())
}

impl MongoDatabase {
    fn target(&self) -> Target<'_> {
        Target {
            db: self,
            session: None,
        }
    }
}

/// The reads and writes of [`MongoDatabase`] and [`MongoTransaction`], written once (a
/// transaction borrows itself mutably: its session).
macro_rules! operations {
    ($ty:ty $(, $mutable:tt)?) => {
        impl $ty {
            /// The documents `query` matches, as models: its filter, order (`sort`), `offset`
            /// (`skip`) and `limit`.
            ///
            /// # Errors
            /// [`crate::Error::MongoUnsupported`] for what a `find` cannot express (grouping,
            /// relation filters, subqueries); server and decoding errors.
            pub async fn find<M: Model>(&$($mutable)? self, query: &Select<M>) -> Result<Vec<M>> {
                self.target().find(query).await
            }

            /// The first document `query` matches, if any.
            ///
            /// # Errors
            /// As [`Self::find`].
            pub async fn find_one<M: Model>(&$($mutable)? self, query: Select<M>) -> Result<Option<M>> {
                Ok(self.target().find(&query.limit(1)).await?.into_iter().next())
            }

            /// Some fields of the documents `query` matches (a projection), as tuples:
            /// `find_columns(&User::find(), (User::ID, User::EMAIL))`.
            ///
            /// # Errors
            /// As [`Self::find`].
            pub async fn find_columns<M: Model, P: Projection<M>>(
                &$($mutable)? self,
                query: &Select<M>,
                columns: P,
            ) -> Result<Vec<P::Output>> {
                let projection = projection::projection_document::<M>(&columns.columns());
                self.target()
                    .find_documents(query, Some(projection))
                    .await?
                    .iter()
                    .map(|document| columns.decode(document))
                    .collect()
            }

            /// How many documents `query`'s filter matches (its limit and offset ignored).
            ///
            /// # Errors
            /// As [`Self::find`].
            pub async fn count<M: Model>(&$($mutable)? self, query: &Select<M>) -> Result<u64> {
                self.target().count(query).await
            }

            /// Inserts `model` and returns it as stored: a generated integer key
            /// (`#[foxdb(auto_increment)]`) is taken from the collection's counter in
            /// [`SEQUENCES`], other keys are stored as given.
            ///
            /// # Errors
            /// [`crate::Error::MongoDuplicateKey`] when a unique index (or `_id`) already
            /// holds the key; [`crate::Error::MongoUnsupported`] for models with write hooks
            /// or a tenant column.
            pub async fn insert<M: Model>(&$($mutable)? self, model: &M) -> Result<M> {
                self.target().insert(model).await
            }

            /// Inserts every model in one `insert` command (generated keys as for
            /// [`Self::insert`]); how many were inserted.
            ///
            /// # Errors
            /// As [`Self::insert`]; documents before a duplicate stay inserted (the command is
            /// ordered), unless run in a transaction.
            pub async fn insert_many<M: Model>(&$($mutable)? self, models: &[M]) -> Result<u64> {
                self.target().insert_many(models).await
            }

            /// Writes `model` over the document with its key, or inserts it when there is none.
            ///
            /// # Errors
            /// As [`Self::insert`].
            pub async fn upsert<M: Model>(&$($mutable)? self, model: &M) -> Result<M> {
                self.target().upsert(model).await
            }

            /// Writes `model` over the document with its key; `false` when there is none.
            ///
            /// # Errors
            /// As [`Self::insert`].
            pub async fn save<M: Model>(&$($mutable)? self, model: &M) -> Result<bool> {
                self.target().save(model).await
            }

            /// Deletes the document with `model`'s key; `false` when there was none.
            ///
            /// # Errors
            /// Server errors.
            pub async fn remove<M: Model>(&$($mutable)? self, model: &M) -> Result<bool> {
                self.target().remove(model).await
            }

            /// Runs a builder update (`User::update().set(..).filter(..)`) as `updateMany` with
            /// `$set`; how many documents changed.
            ///
            /// # Errors
            /// [`crate::Error::MongoUnsupported`] without a filter or `.all_rows()`, for a key
            /// column (`_id` never changes) and what a filter cannot express.
            pub async fn update<M: Model>(&$($mutable)? self, update: &Update<M>) -> Result<u64> {
                self.target().update(update).await
            }

            /// Runs a builder delete as `deleteMany`; how many documents were deleted.
            ///
            /// # Errors
            /// [`crate::Error::MongoUnsupported`] without a filter or `.all_rows()`.
            pub async fn delete<M: Model>(&$($mutable)? self, delete: &Delete<M>) -> Result<u64> {
                self.target().delete(delete).await
            }

            /// Each parent's children along `relation` (a has-many or belongs-to by reference,
            /// with its filter, order and per-parent limit), in parent order: one `find` with
            /// `$in` over every parent's key, whatever the number of parents. The per-parent
            /// limit is applied as the children are grouped.
            ///
            /// # Errors
            /// [`crate::Error::MongoUnsupported`] for many-to-many relations; server and
            /// decoding errors.
            pub async fn load<P: Model, C: Model>(
                &$($mutable)? self,
                relation: &Relation<P, C>,
                parents: &[P],
            ) -> Result<Vec<Vec<C>>> {
                self.target().load_children(relation, parents).await
            }

            /// The documents `query` matches, each with its children along `relation`: two
            /// `find`s in all.
            ///
            /// # Errors
            /// As [`Self::find`] and [`Self::load`].
            pub async fn find_with<P: Model, C: Model>(
                &$($mutable)? self,
                query: &Select<P>,
                relation: &Relation<P, C>,
            ) -> Result<Vec<(P, Vec<C>)>> {
                let mut target = self.target();
                let parents = target.find(query).await?;
                let children = target.load_children(relation, &parents).await?;
                Ok(parents.into_iter().zip(children).collect())
            }

            /// A raw filter's documents, for conditions the builder has no words for
            /// (`{"tags": "rust"}` on an array field), decoded as models.
            ///
            /// # Errors
            /// Server and decoding errors.
            pub async fn find_raw<M: Model>(&$($mutable)? self, filter: Document) -> Result<Vec<M>> {
                filter::check_model::<M>()?;
                self.target()
                    .find_filtered::<M>(filter, Document::new(), None, None, None)
                    .await?
                    .iter()
                    .map(values::model_of::<M>)
                    .collect()
            }
        }
    };
}

operations!(MongoDatabase);
operations!(MongoTransaction, mut);
