//! Row-per-tenant isolation: a [`Tenant`] handle (`db.tenant("acme")?`) runs every statement
//! for one tenant.
//!
//! A model with a `#[foxdb(tenant)]` column ([`crate::Model::TENANT_COLUMN`]; the FoxSchema
//! table's `tenantColumn`) is tenant-scoped. The query builder writes, for each tenant-scoped
//! table a statement names (the queried table, joined tables, tables of relation filters and
//! subqueries, eager loads), the condition `table.tenant_column = ?` bound to
//! [`Value::CurrentTenant`]; inserts, upserts and `UPDATE ... SET` write that value into the
//! tenant column, so a row is written for the tenant that writes it and never moved to another.
//! The executor then decides:
//!
//! - a [`Tenant`] handle (and a transaction it began) binds its tenant id there;
//! - every other executor (the pool, a plain transaction, a connection) refuses the
//!   statement with [`Error::TenantRequired`] before it reaches the database.
//!
//! So forgetting the tenant is a run-time error, typed, never a query of every tenant's rows;
//! reaching every tenant is a decision written into the query: `.all_tenants()` on a select,
//! update or delete. (A compile-time refusal would need every generic function over models
//! in foxdb and in applications to carry a tenancy bound; FoxDB chose the run-time error,
//! raised before any statement runs.)
//!
//! # Guarantees
//! - No statement the query builder writes through a handle reads or writes another tenant's
//!   row of a tenant-scoped table (`client/tests/tenancy.rs` checks it with generated queries
//!   on every engine).
//! - On PostgreSQL `fox apply` also installs a row-level security policy on each
//!   tenant-scoped table, keyed on the setting `foxdb.tenant`; the handle runs hand-written SQL
//!   ([`Tenant::fetch_all`], [`Tenant::execute`], [`Tenant::raw`], and any statement the
//!   builder did not scope) in a transaction that sets it (`set_config(.., true)`, that is
//!   `SET LOCAL`), so the database itself keeps such SQL to the tenant. MySQL, MariaDB and
//!   SQLite have no row-level security: there hand-written SQL through a handle is the
//!   caller's to filter, by binding [`Value::CurrentTenant`] (or [`Tenant::id`]).
//!
//! # Expected flow
//! ```no_run
//! # async fn example(db: foxdb::Database) -> foxdb::Result<()> {
//! #[derive(Clone, foxdb::Model)]
//! #[foxdb(table = "notes")]
//! struct Note {
//!     #[foxdb(primary_key, auto_increment)]
//!     id: i64,
//!     #[foxdb(tenant)]
//!     tenant_id: String,
//!     body: String,
//! }
//! use foxdb::ModelExt;
//! let acme = db.tenant("acme")?;
//! let stored = acme.insert(&Note { id: 0, tenant_id: String::new(), body: "hi".into() }).await?;
//! assert_eq!(stored.tenant_id, "acme"); // filled by the handle
//! let notes = Note::find().all(&acme).await?; // acme's notes only
//! assert!(Note::find().all(&db).await.is_err()); // Error::TenantRequired
//! let every = Note::find().all_tenants().count(&db).await?; // on purpose
//! # let _ = (notes, every); Ok(()) }
//! ```

use std::sync::Arc;

use crate::Backend;
use crate::connection::Value;
use crate::database::Database;
use crate::dialect::dialect_for;
use crate::error::{Error, Result};
use crate::executor::{Executed, Executor};
use crate::model::{Changes, Model, NewRow};
use crate::row::{FromRow, Row};
use crate::transaction::Transaction;

/// The Rust type a `#[foxdb(tenant)]` column can be: `String`, the tenant id as text (a
/// FoxSchema `tenantColumn` is a NOT NULL `string` or `text` column). The model derive checks
/// the marked field's type against it.
pub trait TenantColumn {}

impl TenantColumn for String {}

/// Longest tenant id accepted (it travels as a bound parameter and as a session setting).
pub const MAX_TENANT_ID_LEN: usize = 255;

/// `values` with every [`Value::CurrentTenant`] replaced by `tenant`, when there is one to
/// replace and a tenant to put there; `None` when `values` stay as they are.
pub(crate) fn bind_tenant(tenant: Option<&str>, values: &[Value]) -> Option<Vec<Value>> {
    let tenant = tenant?;
    if !values.contains(&Value::CurrentTenant) {
        return None;
    }
    Some(
        values
            .iter()
            .map(|value| match value {
                Value::CurrentTenant => Value::Text(tenant.to_string()),
                other => other.clone(),
            })
            .collect(),
    )
}

/// Runs statements for one tenant of a database; see the [module](self) documentation.
/// Cloning shares the pool.
#[derive(Clone, Debug)]
pub struct Tenant {
    database: Database,
    id: Arc<str>,
}

impl Database {
    /// A handle that runs statements for tenant `id`: tenant-scoped models are filtered and
    /// filled with `id`; see [`crate::tenant`].
    ///
    /// # Errors
    /// [`Error::InvalidTenant`]: an empty id (which PostgreSQL's policies read as "no
    /// tenant"), one longer than [`MAX_TENANT_ID_LEN`] bytes, or one holding a NUL or
    /// control character.
    pub fn tenant(&self, id: impl Into<String>) -> Result<Tenant> {
        let id = id.into();
        let reason = if id.is_empty() {
            Some("it is empty")
        } else if id.len() > MAX_TENANT_ID_LEN {
            Some("it is longer than 255 bytes")
        } else if id.chars().any(char::is_control) {
            Some("it holds a control character")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(Error::InvalidTenant {
                tenant: id.escape_debug().to_string(),
                reason: reason.to_string(),
            });
        }
        Ok(Tenant {
            database: self.clone(),
            id: id.into(),
        })
    }
}

impl Tenant {
    /// The tenant id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The pool the handle runs on.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// Begins a transaction of this tenant: its statements are filled with the tenant and,
    /// on PostgreSQL, run with `foxdb.tenant` set for the database's row-level security.
    ///
    /// # Errors
    /// Database errors.
    pub async fn begin(&self) -> Result<Transaction> {
        let mut transaction = self.database.begin(None).await?;
        self.enter(&mut transaction).await?;
        Ok(transaction)
    }

    /// Runs `work` in a transaction of this tenant (see [`Tenant::begin`]): commits on `Ok`,
    /// rolls back on `Err`.
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

    /// Makes `transaction` this tenant's.
    async fn enter(&self, transaction: &mut Transaction) -> Result<()> {
        transaction.tenant = Some(self.id.clone());
        if let Some(setting) = dialect_for(self.database.backend()).tenant_setting() {
            transaction
                .fetch_all(setting, &[Value::Text(self.id.to_string())])
                .await?;
        }
        Ok(())
    }

    /// Runs hand-written SQL for this tenant and returns its rows; placeholders as for
    /// [`Database::fetch_all`]. On PostgreSQL it runs with `foxdb.tenant` set, so the
    /// row-level security policies of tenant-scoped tables keep it to this tenant; elsewhere
    /// bind [`Value::CurrentTenant`] to filter.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fetch_all(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        self.isolated_fetch(sql, values, Ok).await
    }

    /// Runs a hand-written statement for this tenant (as [`Tenant::fetch_all`]); returns the
    /// rows affected.
    ///
    /// # Errors
    /// Database errors.
    pub async fn execute(&self, sql: &str, values: &[Value]) -> Result<u64> {
        Ok(self.isolated_execute(sql, values).await?.rows_affected)
    }

    /// Runs hand-written SQL for this tenant (as [`Tenant::fetch_all`]) and decodes each row
    /// into `T`.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn raw<T: FromRow + Send>(&self, sql: &str, values: &[Value]) -> Result<Vec<T>> {
        self.isolated_fetch(sql, values, |row| T::from_row(&row))
            .await
    }

    /// Whether statements need a transaction naming the tenant for the database's own
    /// isolation.
    fn database_isolates(&self) -> bool {
        dialect_for(self.database.backend())
            .tenant_setting()
            .is_some()
    }

    async fn isolated_fetch<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &self,
        sql: &str,
        values: &[Value],
        decode: F,
    ) -> Result<Vec<T>> {
        if self.database_isolates() {
            return self
                .transaction(async |transaction| {
                    Executor::fetch_decoded(&mut &mut *transaction, sql, values, decode).await
                })
                .await;
        }
        let bound = bind_tenant(Some(&self.id), values);
        let values = bound.as_deref().unwrap_or(values);
        Executor::fetch_decoded(&mut &self.database, sql, values, decode).await
    }

    async fn isolated_execute(&self, sql: &str, values: &[Value]) -> Result<Executed> {
        if self.database_isolates() {
            return self
                .transaction(async |transaction| {
                    Executor::execute(&mut &mut *transaction, sql, values).await
                })
                .await;
        }
        let bound = bind_tenant(Some(&self.id), values);
        let values = bound.as_deref().unwrap_or(values);
        Executor::execute(&mut &self.database, sql, values).await
    }

    /// Inserts `model` for this tenant (its tenant column filled with the tenant) and returns
    /// it as stored; see [`crate::query::insert`].
    ///
    /// # Errors
    /// Hook, database and decoding errors.
    pub async fn insert<M: Model>(&self, model: &M) -> Result<M> {
        if M::HAS_HOOKS {
            return self
                .transaction(async |tx| crate::query::insert(tx, model).await)
                .await;
        }
        crate::query::insert(self, model).await
    }

    /// Inserts `model` or updates this tenant's row with its key; see
    /// [`crate::query::upsert`] (a tenant-scoped model needs its tenant column in the key).
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn upsert<M: Model>(&self, model: &M) -> Result<M> {
        if M::HAS_HOOKS || !dialect_for(self.database.backend()).supports_returning() {
            return self
                .transaction(async |tx| crate::query::upsert(tx, model).await)
                .await;
        }
        crate::query::upsert(self, model).await
    }

    /// Inserts a row giving only some columns, for this tenant; see [`crate::query::create`].
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn create<N: NewRow>(&self, new: &N) -> Result<N::Model> {
        crate::query::create(self, new).await
    }

    /// Saves `model` over this tenant's row with its key; see [`crate::query::save`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn save<M: Model>(&self, model: &M) -> Result<bool> {
        if M::HAS_HOOKS {
            return self
                .transaction(async |tx| crate::query::save(tx, model).await)
                .await;
        }
        crate::query::save(self, model).await
    }

    /// Writes `changes` to this tenant's row of `model`; see [`crate::query::patch`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn patch<C: Changes>(
        &self,
        model: &C::Model,
        changes: &C,
    ) -> Result<Option<C::Model>> {
        if !dialect_for(self.database.backend()).supports_returning() {
            return self
                .transaction(async |tx| crate::query::patch(tx, model, changes).await)
                .await;
        }
        crate::query::patch(self, model, changes).await
    }

    /// Deletes this tenant's row of `model`; see [`crate::query::remove`].
    ///
    /// # Errors
    /// Hook and database errors.
    pub async fn remove<M: Model>(&self, model: &M) -> Result<bool> {
        if M::HAS_HOOKS {
            return self
                .transaction(async |tx| crate::query::remove(tx, model).await)
                .await;
        }
        crate::query::remove(self, model).await
    }

    /// Inserts many rows for this tenant; see [`crate::query::insert_many`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn insert_many<M: Model>(&self, models: &[M]) -> Result<u64> {
        crate::query::insert_many(self, models).await
    }
}

/// A tenant handle runs the query builder: statements the builder scoped to the tenant go
/// straight to the pool with the tenant bound; any other statement (a shared table's, or
/// hand-written SQL through `query!`) runs as [`Tenant::fetch_all`] runs it, so on PostgreSQL
/// row-level security applies to it.
impl Executor for &Tenant {
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
        match bind_tenant(Some(&self.id), values) {
            Some(bound) => Executor::fetch_decoded(&mut &self.database, sql, &bound, decode).await,
            None => self.isolated_fetch(sql, values, decode).await,
        }
    }

    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<Executed> {
        match bind_tenant(Some(&self.id), values) {
            Some(bound) => Executor::execute(&mut &self.database, sql, &bound).await,
            None => self.isolated_execute(sql, values).await,
        }
    }
}
