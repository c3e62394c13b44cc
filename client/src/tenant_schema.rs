//! Schema per tenant on one pool: a [`TenantSchema`] handle (`db.tenant_schema("acme")?`)
//! runs every statement in the schema of one tenant.
//!
//! Each tenant's tables live in a namespace of their own (see docs/multi-tenancy.md; `fox
//! tenant add` and a FoxSchema's `spec.tenants.schemas` create and migrate them). The handle
//! runs each statement, typed or hand-written, in a transaction that first sets the search
//! path to the tenant's schema alone, with `SET LOCAL` semantics (PostgreSQL's
//! `set_config('search_path', .., true)`): the pooled connection goes back to the pool in its
//! own schema whatever happens to the transaction, so no later statement of the pool lands in
//! a tenant's schema by accident. [`TenantSchema::transaction`] sets it once for many
//! statements.
//!
//! MySQL and MariaDB cannot enter a database for one transaction alone (`USE` outlives it,
//! also on a connection dropped mid-way), and SQLite has no namespaces; there a tenant's
//! namespace is reached through a pool of its own whose connections start in it:
//! [`crate::tenant_pools::TenantPools::in_namespaces`]. [`crate::Database::tenant_schema`]
//! says so with [`Error::Unsupported`].
//!
//! # Guarantees
//! - An unqualified table name in a statement through the handle names the tenant's table,
//!   or fails when the tenant has none: the search path holds the tenant's schema alone
//!   (`client/tests/tenant_schemas.rs`).
//! - The search path is the wall against mistakes, not against hostile SQL: a statement
//!   naming another schema (`globex.notes`) reaches it where the role may. For a wall the
//!   database enforces, give each tenant a role with rights on its schema only.
//!
//! # Expected flow
//! ```no_run
//! # async fn example(db: foxdb::Database) -> foxdb::Result<()> {
//! #[derive(Clone, foxdb::Model)]
//! #[foxdb(table = "notes")]
//! struct Note {
//!     #[foxdb(primary_key, auto_increment)]
//!     id: i64,
//!     body: String,
//! }
//! use foxdb::ModelExt;
//! let acme = db.tenant_schema("acme")?; // PostgreSQL
//! acme.insert(&Note { id: 0, body: "hi".into() }).await?; // into acme.notes
//! let notes = Note::find().all(&acme).await?; // from acme.notes
//! let rows = acme.fetch_all("SELECT count(*) FROM notes", &[]).await?; // acme.notes too
//! # let _ = (notes, rows); Ok(()) }
//! ```

use std::sync::Arc;

use crate::Backend;
use crate::connection::Value;
use crate::database::Database;
use crate::dialect::dialect_for;
use crate::error::{Error, Result};
use crate::executor::{Executed, Executor};
use crate::model::Model;
use crate::row::Row;
use crate::transaction::Transaction;

/// Runs statements in the schema of one tenant; see the [module](self) documentation.
/// Cloning shares the pool.
#[derive(Clone, Debug)]
pub struct TenantSchema {
    database: Database,
    schema: Arc<str>,
    /// The statement entering the schema for one transaction, and its parameter.
    enter: &'static str,
    search_path: Value,
}

impl Database {
    /// A handle that runs every statement in the schema `name` of a tenant (schema per
    /// tenant on one pool); see [`crate::tenant_schema`].
    ///
    /// # Errors
    /// [`Error::InvalidTenant`] for a name that is not 1 to 63 lower-case letters, digits and
    /// `_` starting with a letter or `_` (the names `fox tenant add` accepts);
    /// [`Error::Unsupported`] on MySQL and MariaDB (use
    /// [`crate::tenant_pools::TenantPools::in_namespaces`]) and SQLite (no schemas).
    pub fn tenant_schema(&self, name: &str) -> Result<TenantSchema> {
        check_namespace_name(name)?;
        let backend = self.backend();
        let dialect = dialect_for(backend);
        let Some(enter) = dialect.enter_tenant_namespace_locally() else {
            return Err(Error::Unsupported {
                backend,
                feature: "a tenant schema on a shared pool (a database cannot be entered for one transaction alone here): open a pool per tenant with TenantPools::in_namespaces, whose connections start in the tenant's database".into(),
            });
        };
        Ok(TenantSchema {
            database: self.clone(),
            schema: name.into(),
            enter,
            search_path: Value::Text(dialect.quote(name)),
        })
    }
}

/// Checks a tenant namespace name as [`crate::DatabaseUrl::in_tenant_namespace`] does.
pub(crate) fn check_namespace_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if valid {
        return Ok(());
    }
    Err(Error::InvalidTenant {
        tenant: name.escape_debug().to_string(),
        reason: "a tenant schema or database name is 1 to 63 lower-case letters, digits and `_`, starting with a letter or `_`".into(),
    })
}

impl TenantSchema {
    /// The tenant's schema.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The pool the handle runs on.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Begins a transaction in the tenant's schema (its search path is set back when it
    /// ends, committed or not).
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin(&self) -> Result<Transaction> {
        let mut transaction = self.database.begin(None).await?;
        self.enter(&mut transaction).await?;
        Ok(transaction)
    }

    /// Runs `work` in a transaction in the tenant's schema (see [`TenantSchema::begin`]):
    /// commits on `Ok`, rolls back on `Err`.
    ///
    /// # Errors
    /// The work's error (after rollback), or the commit's.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Transaction) -> Result<T, E>,
        E: From<Error>,
    {
        self.database
            .transaction(async |transaction| {
                self.enter(transaction).await?;
                work(transaction).await
            })
            .await
    }

    async fn enter(&self, transaction: &mut Transaction) -> Result<()> {
        transaction
            .fetch_all(self.enter, std::slice::from_ref(&self.search_path))
            .await?;
        Ok(())
    }

    /// Runs hand-written SQL in the tenant's schema and returns its rows; placeholders as
    /// for [`Database::fetch_all`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn fetch_all(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        Executor::fetch_all(&mut &*self, sql, values).await
    }

    /// Runs a hand-written statement in the tenant's schema; returns the rows affected.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute(&self, sql: &str, values: &[Value]) -> Result<u64> {
        Ok(Executor::execute(&mut &*self, sql, values)
            .await?
            .rows_affected)
    }

    /// Inserts `model` into the tenant's table and returns it as stored; see
    /// [`crate::query::insert`].
    ///
    /// # Errors
    /// Hook, database and decoding errors.
    pub async fn insert<M: Model>(&self, model: &M) -> Result<M> {
        self.transaction(async |tx| crate::query::insert(tx, model).await)
            .await
    }

    /// Saves `model` over the tenant's row with its key; see [`crate::query::save`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn save<M: Model>(&self, model: &M) -> Result<bool> {
        self.transaction(async |tx| crate::query::save(tx, model).await)
            .await
    }

    /// Deletes the tenant's row of `model`; see [`crate::query::remove`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn remove<M: Model>(&self, model: &M) -> Result<bool> {
        self.transaction(async |tx| crate::query::remove(tx, model).await)
            .await
    }
}

/// A schema handle runs the query builder and hand-written SQL: each statement in a
/// transaction of its own that enters the tenant's schema first. A write that needs a
/// transaction of its own (hooks) is run inside [`TenantSchema::transaction`].
impl Executor for &TenantSchema {
    fn backend(&self) -> Backend {
        self.database.backend()
    }

    async fn fetch_all(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        self.fetch_decoded(sql, values, Ok).await
    }

    async fn fetch_decoded<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &mut self,
        sql: &str,
        values: &[Value],
        decode: F,
    ) -> Result<Vec<T>> {
        TenantSchema::transaction(self, async |transaction| {
            Executor::fetch_decoded(&mut &mut *transaction, sql, values, decode).await
        })
        .await
    }

    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<Executed> {
        TenantSchema::transaction(self, async |transaction| {
            Executor::execute(&mut &mut *transaction, sql, values).await
        })
        .await
    }
}
