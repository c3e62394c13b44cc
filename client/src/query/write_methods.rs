//! The write methods of the pool and of transactions (`db.insert(&model)`, `tx.upsert(&model)`,
//! ...): each runs the function of [`super::write`] of its name, through the pool in a
//! transaction where the write must be atomic (hooks; a read back without `RETURNING`).

use super::insert_many::{insert_many, insert_many_returning};
use super::write::{create, insert, patch, remove, save, upsert};
use crate::database::Database;
use crate::dialect::dialect_for;
use crate::error::Result;
use crate::model::{Changes, Model};

impl Database {
    /// Inserts `model` and returns it as stored; see [`insert`]. Models with their own hooks
    /// are inserted in a transaction, which the hooks receive.
    ///
    /// # Errors
    /// Hook, database and decoding errors.
    pub async fn insert<M: Model>(&self, model: &M) -> Result<M> {
        insert(self, model).await
    }

    /// Inserts `model` or updates its stored row by primary key; see [`upsert`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn upsert<M: Model>(&self, model: &M) -> Result<M> {
        // The read back where there is no `RETURNING` shares the write's transaction (hooks
        // open their own: see `insert_with_hooks`).
        if !M::HAS_HOOKS && !dialect_for(self.backend()).supports_returning() {
            return self.transaction(async |tx| upsert(tx, model).await).await;
        }
        upsert(self, model).await
    }

    /// Inserts a row giving only some columns; see [`create`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn create<N: crate::model::NewRow>(&self, new: &N) -> Result<N::Model> {
        create(self, new).await
    }

    /// Saves `model` over its stored row; see [`save`]. Models with their own hooks are saved
    /// in a transaction.
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn save<M: Model>(&self, model: &M) -> Result<bool> {
        save(self, model).await
    }

    /// Writes `changes` to `model`'s row and returns it as stored; see [`patch`]. On MySQL the
    /// write and the read back share a transaction.
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn patch<C: Changes>(
        &self,
        model: &C::Model,
        changes: &C,
    ) -> Result<Option<C::Model>> {
        patch(self, model, changes).await
    }

    /// Deletes `model`'s row; see [`remove`]. Models with their own hooks are deleted in a
    /// transaction.
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn remove<M: Model>(&self, model: &M) -> Result<bool> {
        remove(self, model).await
    }

    /// Inserts many rows in batches; see [`insert_many`]. Models with their own hooks get
    /// them on every row, in one transaction.
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn insert_many<M: Model>(&self, models: &[M]) -> Result<u64> {
        insert_many(self, models).await
    }

    /// Inserts many rows in batches and returns them as stored; see [`insert_many_returning`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn insert_many_returning<M: Model>(&self, models: &[M]) -> Result<Vec<M>> {
        insert_many_returning(self, models).await
    }
}

impl crate::transaction::Transaction {
    /// Inserts `model` in this transaction and returns it as stored; see [`insert`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn insert<M: Model>(&mut self, model: &M) -> Result<M> {
        insert(self, model).await
    }

    /// Inserts a row giving only some columns, in this transaction; see [`create`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn create<N: crate::model::NewRow>(&mut self, new: &N) -> Result<N::Model> {
        create(self, new).await
    }

    /// Inserts `model` or updates its stored row, in this transaction; see [`upsert`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn upsert<M: Model>(&mut self, model: &M) -> Result<M> {
        upsert(self, model).await
    }

    /// Saves `model` over its stored row in this transaction; see [`save`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn save<M: Model>(&mut self, model: &M) -> Result<bool> {
        save(self, model).await
    }

    /// Writes `changes` to `model`'s row in this transaction and returns it as stored; see
    /// [`patch`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn patch<C: Changes>(
        &mut self,
        model: &C::Model,
        changes: &C,
    ) -> Result<Option<C::Model>> {
        patch(self, model, changes).await
    }

    /// Deletes `model`'s row in this transaction; see [`remove`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn remove<M: Model>(&mut self, model: &M) -> Result<bool> {
        remove(self, model).await
    }

    /// Inserts many rows in this transaction; see [`insert_many`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn insert_many<M: Model>(&mut self, models: &[M]) -> Result<u64> {
        insert_many(self, models).await
    }

    /// Inserts many rows in this transaction and returns them as stored; see
    /// [`insert_many_returning`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn insert_many_returning<M: Model>(&mut self, models: &[M]) -> Result<Vec<M>> {
        insert_many_returning(self, models).await
    }
}
