//! Database per tenant: [`TenantPools`] keeps one pool per tenant database, opened on first
//! use, at most a bounded number open at once, closing the least recently used beyond it.
//!
//! # Expected flow
//! ```no_run
//! # async fn example() -> foxdb::Result<()> {
//! use foxdb::tenant_pools::TenantPools;
//! let pools = TenantPools::new(
//!     |tenant: &str| format!("postgres://app@db:5432/tenant_{tenant}"),
//!     50,
//!     foxdb::PoolOptions::default(),
//! );
//! let acme = pools.get("acme").await?; // opened now, kept for the next call
//! let _rows = acme.fetch_all("SELECT 1", &[]).await?;
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::database::{Database, PoolOptions};
use crate::error::{Error, Result};
use crate::url::DatabaseUrl;

type UrlForTenant = dyn Fn(&str) -> Result<String> + Send + Sync;

/// One pool per tenant database; see the [module](self) documentation. Cloning shares the
/// pools.
#[derive(Clone)]
pub struct TenantPools {
    url_for: Arc<UrlForTenant>,
    max_open: usize,
    options: PoolOptions,
    open: Arc<Mutex<OpenPools>>,
}

impl std::fmt::Debug for TenantPools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Tenant names only: URLs may hold passwords.
        f.debug_struct("TenantPools")
            .field("max_open", &self.max_open)
            .field("open", &self.open_tenants())
            .finish_non_exhaustive()
    }
}

/// The open pools and when each was last handed out.
#[derive(Default)]
struct OpenPools {
    pools: HashMap<String, (Database, u64)>,
    clock: u64,
}

impl TenantPools {
    /// Pools for the tenant databases `url_for(tenant)` names, at most `max_open` (at least
    /// one) open at once, each with `options`.
    pub fn new(
        url_for: impl Fn(&str) -> String + Send + Sync + 'static,
        max_open: usize,
        options: PoolOptions,
    ) -> Self {
        Self {
            url_for: Arc::new(move |tenant: &str| Ok(url_for(tenant))),
            max_open: max_open.max(1),
            options,
            open: Arc::default(),
        }
    }

    /// Pools for the namespaces of tenants on the server of `server` (schema per tenant,
    /// each tenant's pool connecting in its namespace; see
    /// [`crate::DatabaseUrl::in_tenant_namespace`]): on PostgreSQL every connection's
    /// `search_path` is the tenant's schema, on MySQL and MariaDB its default database is
    /// the tenant's. Bounds and eviction as [`TenantPools::new`].
    ///
    /// ```no_run
    /// # async fn example() -> foxdb::Result<()> {
    /// use foxdb::tenant_pools::TenantPools;
    /// let server = foxdb::DatabaseUrl::parse("mysql://app@db:3306/app")?;
    /// let tenants = TenantPools::in_namespaces(server, 50, foxdb::PoolOptions::default());
    /// let acme = tenants.get("acme").await?; // connections in the database `acme`
    /// # let _ = acme; Ok(()) }
    /// ```
    pub fn in_namespaces(server: DatabaseUrl, max_open: usize, options: PoolOptions) -> Self {
        Self {
            url_for: Arc::new(move |tenant: &str| {
                Ok(server.in_tenant_namespace(tenant)?.expose().to_string())
            }),
            max_open: max_open.max(1),
            options,
            open: Arc::default(),
        }
    }

    /// The pool of `tenant`'s database, opened now if it is not open; opening one beyond
    /// the bound closes the least recently used other pool (its statements in flight finish
    /// on the connections they hold).
    ///
    /// # Errors
    /// [`Error::InvalidTenant`] for an empty tenant (and, from
    /// [`TenantPools::in_namespaces`], a name no namespace can have); connection errors of a
    /// pool opened now (nothing is kept then: the next call tries again).
    pub async fn get(&self, tenant: &str) -> Result<Database> {
        if tenant.is_empty() {
            return Err(Error::InvalidTenant {
                tenant: String::new(),
                reason: "it is empty".into(),
            });
        }
        if let Some(database) = self.touch(tenant) {
            return Ok(database);
        }
        let opened = Database::connect_with(&(self.url_for)(tenant)?, &self.options).await?;
        let (database, evicted) = {
            let mut open = self.lock();
            open.clock += 1;
            let now = open.clock;
            // Another caller may have opened it meanwhile: keep theirs, close ours below.
            let kept = open
                .pools
                .entry(tenant.to_string())
                .or_insert_with(|| (opened.clone(), now));
            kept.1 = now;
            let database = kept.0.clone();
            let mut evicted = Vec::new();
            while open.pools.len() > self.max_open {
                let oldest = open
                    .pools
                    .iter()
                    .filter(|(name, _)| name.as_str() != tenant)
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(name, _)| name.clone());
                match oldest.and_then(|name| open.pools.remove(&name)) {
                    Some((pool, _)) => evicted.push(pool),
                    None => break,
                }
            }
            (database, evicted)
        };
        if !opened.same_pool(&database) {
            opened.close().await;
        }
        for pool in evicted {
            pool.close().await;
        }
        Ok(database)
    }

    /// The tenants whose pools are open, least recently used first.
    pub fn open_tenants(&self) -> Vec<String> {
        let open = self.lock();
        let mut tenants: Vec<(&String, u64)> = open
            .pools
            .iter()
            .map(|(name, (_, used))| (name, *used))
            .collect();
        tenants.sort_by_key(|(_, used)| *used);
        tenants.into_iter().map(|(name, _)| name.clone()).collect()
    }

    /// Closes every open pool.
    pub async fn close(&self) {
        let pools: Vec<Database> = self
            .lock()
            .pools
            .drain()
            .map(|(_, (pool, _))| pool)
            .collect();
        for pool in pools {
            pool.close().await;
        }
    }

    fn touch(&self, tenant: &str) -> Option<Database> {
        let mut open = self.lock();
        open.clock += 1;
        let now = open.clock;
        let (database, used) = open.pools.get_mut(tenant)?;
        *used = now;
        Some(database.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenPools> {
        // A panic while holding the lock leaves the map consistent (every change is one
        // insert or remove), so a poisoned lock is still usable.
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
