//! A pooled database handle for services: run queries, bind values, read rows.

use std::time::Duration;

use crate::Backend;
use crate::backend::on_engine;
use crate::connection::{
    StatementValues, Value, bind_all, is_carried_decode_error, push_decoded, query_or_decode_error,
};
use crate::error::{Error, Result};
use crate::executor::{Executed, Executor};
use crate::kept_connections::KeptConnections;
use crate::row::Row;
use crate::url::DatabaseUrl;

/// Pool settings.
#[derive(Clone, Debug)]
pub struct PoolOptions {
    /// Most open connections.
    pub max_connections: u32,
    /// Connections kept open when idle.
    pub min_connections: u32,
    /// Give up waiting for a free connection after this long.
    pub acquire_timeout: Duration,
    /// Close connections idle longer than this.
    pub idle_timeout: Duration,
    /// Log (target `foxdb::slow_query`) and count statements slower than this.
    pub slow_query_threshold: Option<Duration>,
    /// Ping a connection before handing it out when it sat idle in the pool at least this long
    /// (a dead one is closed and another taken). Connections in steady use skip the ping and its
    /// round trip; one that broke within this window fails its next statement with
    /// [`Error::Query`] and is discarded, so a retry gets a fresh connection.
    /// `Duration::ZERO` pings on every acquire.
    pub ping_after_idle: Duration,
    /// Query shapes kept apart in [`Database::stats`] and its Prometheus series; statements of
    /// further shapes count under the shape `other` ([`crate::stats::OVERFLOW_SHAPE`]).
    pub max_query_shapes: usize,
    /// Certificates besides the URL's (see [`crate::tls`]: connections to another machine use
    /// verified TLS unless the URL names a weaker mode).
    pub tls: crate::TlsOptions,
    /// The driver a PostgreSQL pool runs its statements on; other engines ignore it. The
    /// default is [`PostgresDriver::from_env`].
    pub postgres_driver: PostgresDriver,
}

/// The driver a PostgreSQL pool runs its statements on. Both speak to the same server with the
/// same TLS rules, bind values with the same types and decode rows into the same Rust types;
/// tokio-postgres, the default, does less work per row (see docs/performance.md).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PostgresDriver {
    /// tokio-postgres: statements, transactions, COPY, two-phase-commit branches and the
    /// change-log reader (its `LISTEN` included) run on tokio-postgres connections of foxdb's
    /// own pools. Only [`Database::verify`]'s schema reads take a sqlx connection with the same
    /// settings.
    #[default]
    TokioPostgres,
    /// sqlx, for everything.
    Sqlx,
}

impl PostgresDriver {
    /// The driver the `FOXDB_POSTGRES_DRIVER` environment variable names (`tokio-postgres` or
    /// `sqlx`), else tokio-postgres. A value naming neither is logged (target `foxdb::pool`) and
    /// the default used.
    pub fn from_env() -> Self {
        match std::env::var("FOXDB_POSTGRES_DRIVER") {
            Err(_) => Self::default(),
            Ok(name) => name.parse().unwrap_or_else(|unknown: String| {
                tracing::warn!(target: "foxdb::pool", "{unknown}; using tokio-postgres");
                Self::default()
            }),
        }
    }

    /// The driver's name, as `FOXDB_POSTGRES_DRIVER` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlx => "sqlx",
            Self::TokioPostgres => "tokio-postgres",
        }
    }
}

impl std::str::FromStr for PostgresDriver {
    type Err = String;

    fn from_str(name: &str) -> std::result::Result<Self, String> {
        match name.trim() {
            "sqlx" => Ok(Self::Sqlx),
            "tokio-postgres" | "tokio_postgres" => Ok(Self::TokioPostgres),
            other => Err(format!(
                "FOXDB_POSTGRES_DRIVER={other:?} names no PostgreSQL driver (tokio-postgres, sqlx)"
            )),
        }
    }
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(600),
            slow_query_threshold: Some(Duration::from_secs(1)),
            ping_after_idle: Duration::from_secs(1),
            max_query_shapes: crate::stats::DEFAULT_MAX_SHAPES,
            tls: crate::TlsOptions::default(),
            postgres_driver: PostgresDriver::from_env(),
        }
    }
}

/// Connections of a pool at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolState {
    /// Connections open (idle or in use).
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
}

/// A borrowed pool, for the modules that start transactions.
#[derive(Debug)]
pub(crate) enum PoolRef<'a> {
    #[cfg(feature = "postgres")]
    Postgres(&'a sqlx::PgPool),
    #[cfg(feature = "mysql")]
    MySql(&'a sqlx::MySqlPool),
    #[cfg(feature = "sqlite")]
    Sqlite(&'a sqlx::SqlitePool),
    /// PostgreSQL through tokio-postgres.
    #[cfg(feature = "postgres")]
    TokioPostgres(&'a crate::backend::postgres_tokio::TokioPgPool),
}

#[derive(Debug, Clone)]
enum Pool {
    #[cfg(feature = "postgres")]
    Postgres(Pooled<sqlx::Postgres>),
    #[cfg(feature = "mysql")]
    MySql(Pooled<sqlx::MySql>),
    #[cfg(feature = "sqlite")]
    Sqlite(Pooled<sqlx::Sqlite>),
    /// PostgreSQL through tokio-postgres.
    #[cfg(feature = "postgres")]
    TokioPostgres(crate::backend::postgres_tokio::TokioPgPool),
}

/// The driver's pool and the connections kept out of it between statements
/// ([`KeptConnections`]).
#[derive(Debug)]
struct Pooled<DB: sqlx::Database> {
    pool: sqlx::Pool<DB>,
    kept: std::sync::Arc<KeptConnections<DB>>,
}

impl<DB: sqlx::Database> Clone for Pooled<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            kept: self.kept.clone(),
        }
    }
}

impl<DB: sqlx::Database> Pooled<DB> {
    fn new(pool: sqlx::Pool<DB>, ping_after_idle: Duration) -> Self {
        let keeps_minimum = pool.options().get_min_connections() > 0;
        Self {
            pool,
            kept: std::sync::Arc::new(KeptConnections::new(ping_after_idle, keeps_minimum)),
        }
    }

    /// Opens the pool's `min_connections` in a task of its own: sqlx's pool opens them only
    /// after reaping an idle one, so a pool would otherwise start with none. The task takes
    /// connections until that many are open, then gives them all back.
    fn open_minimum(&self) {
        let minimum = self.pool.options().get_min_connections();
        if minimum == 0 {
            return;
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let mut opened = Vec::new();
            while pool.size() < minimum && !pool.is_closed() {
                match pool.acquire().await {
                    Ok(connection) => opened.push(connection),
                    Err(error) => {
                        tracing::debug!(%error, "opening a connection to keep min_connections failed");
                        break;
                    }
                }
            }
        });
    }

    /// The pool, for a caller taking a connection from it directly: the kept connections go
    /// back to it first when it has none left to hand out.
    fn direct(&self) -> &sqlx::Pool<DB> {
        self.kept.release_if_exhausted(&self.pool);
        &self.pool
    }
}

/// A database: a pool of connections to one PostgreSQL, MySQL/MariaDB or SQLite database (the
/// engines compiled in by foxdb's cargo features). Cloning shares the pool.
#[derive(Debug, Clone)]
pub struct Database {
    pool: Pool,
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
    stats: std::sync::Arc<crate::stats::QueryStats>,
    /// Set on a handle over a primary and replicas ([`Database::builder`]): `pool` is then the
    /// primary's at start, and queries go through the router.
    pub(crate) routing: Option<crate::router::Routed>,
    /// `engine:database name`: what cache keys and versions are per.
    #[cfg_attr(not(feature = "cache"), allow(dead_code))]
    identity: std::sync::Arc<str>,
    /// Who this handle's transactions write as, recorded in the audit log
    /// ([`Database::with_actor`]).
    pub(crate) actor: Option<std::sync::Arc<str>>,
    #[cfg(feature = "cache")]
    cache: Option<crate::cache::QueryCache>,
}

impl Database {
    /// Connects with default pool settings.
    ///
    /// # Errors
    /// See [`Database::connect_with`].
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with(url, &PoolOptions::default()).await
    }

    /// Connects with the given pool settings.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], [`Error::Connect`] (host and hint, never the password),
    /// [`Error::BackendNotEnabled`] for an engine this build of foxdb leaves out.
    pub async fn connect_with(url: &str, options: &PoolOptions) -> Result<Self> {
        Self::open(url, options, false).await
    }

    /// A pool that opens its first connection when a statement needs it: no network access
    /// here, so a server that is down delays nothing.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`], [`Error::BackendNotEnabled`].
    pub(crate) fn connect_lazy_with(url: &str, options: &PoolOptions) -> Result<Self> {
        // With `lazy` the future completes at its first poll: it never awaits.
        let mut open = std::pin::pin!(Self::open(url, options, true));
        let mut context = std::task::Context::from_waker(std::task::Waker::noop());
        match open.as_mut().poll(&mut context) {
            std::task::Poll::Ready(result) => result,
            std::task::Poll::Pending => Err(Error::InvalidUrl {
                url: crate::url::redact(url),
                reason: "internal: a lazy pool waited while opening".into(),
            }),
        }
    }

    async fn open(url: &str, options: &PoolOptions, lazy: bool) -> Result<Self> {
        let url = DatabaseUrl::parse(url)?;
        let source = crate::connect_failure::UrlSource::Application;
        let connect_error =
            |error: sqlx::Error| crate::connect_failure::connect_error(&url, source, &error);
        macro_rules! pool {
            ($options:ty, $probe:expr, $min_connections:expr, $configure:expr) => {{
                let connect: $options = url.expose().parse().map_err(connect_error)?;
                #[allow(clippy::redundant_closure_call)]
                let connect = ($configure)(connect);
                // One connection first, outside the pool: the pool would retry a refused
                // connection until the acquire timeout and then report only that it timed out.
                // This one fails at once with its cause (connection refused, a wrong password, a
                // missing database), and waits at most the acquire timeout for a silent host.
                // A lazy pool touches no network here.
                if $probe {
                    match tokio::time::timeout(
                        options.acquire_timeout,
                        sqlx::ConnectOptions::connect(&connect),
                    )
                    .await
                    {
                        Ok(Ok(probe)) => {
                            let _ = sqlx::Connection::close(probe).await;
                        }
                        Ok(Err(error)) => return Err(connect_error(error)),
                        Err(_) => {
                            return Err(crate::connect_failure::timed_out(
                                &url,
                                source,
                                options.acquire_timeout,
                            ));
                        }
                    }
                }
                let ping_after_idle = options.ping_after_idle;
                let pool_options = sqlx::pool::PoolOptions::new()
                    .test_before_acquire(false)
                    .after_connect(|connection, _| {
                        Box::pin(crate::backend::SessionSetup::prepare_session(connection))
                    })
                    .before_acquire(move |connection, meta| {
                        Box::pin(async move {
                            if meta.idle_for >= ping_after_idle
                                && let Err(error) = sqlx::Connection::ping(connection).await
                            {
                                // Expected after a server restart: the pool closes this
                                // connection and hands out another.
                                tracing::debug!(%error, "an idle connection failed its ping");
                                return Ok(false);
                            }
                            Ok(true)
                        })
                    })
                    .max_connections(options.max_connections)
                    .min_connections($min_connections)
                    .acquire_timeout(options.acquire_timeout)
                    .idle_timeout(options.idle_timeout);
                // Lazy either way: the probe above connected, and the pool opens its connections
                // as they are needed (and `min_connections` in the background, `open_minimum`).
                (connect, pool_options)
            }};
        }
        let ping_after_idle = options.ping_after_idle;
        let pool = match url.backend() {
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                // On tokio-postgres the probe below connects through tokio-postgres instead.
                let on_sqlx = options.postgres_driver == PostgresDriver::Sqlx;
                // On tokio-postgres sqlx's pool opens a connection only when one is asked for
                // (see `TokioPgPool::sessions`), never to keep `min_connections` open.
                let (connect, pool_options) = pool!(
                    sqlx::postgres::PgConnectOptions,
                    !lazy && on_sqlx,
                    if on_sqlx { options.min_connections } else { 0 },
                    |c| crate::tls::secure_postgres(c, &url, &options.tls)
                );
                match options.postgres_driver {
                    PostgresDriver::Sqlx => Pool::Postgres(Pooled::new(
                        pool_options.connect_lazy_with(connect),
                        ping_after_idle,
                    )),
                    // sqlx's pool stays for what holds a whole session.
                    PostgresDriver::TokioPostgres => Pool::TokioPostgres(
                        crate::backend::postgres_tokio::pool(
                            &url,
                            &connect,
                            &options.tls,
                            crate::backend::postgres_tokio::Settings {
                                max_connections: options.max_connections,
                                min_connections: options.min_connections,
                                acquire_timeout: options.acquire_timeout,
                                idle_timeout: options.idle_timeout,
                                ping_after_idle,
                            },
                            pool_options,
                        )
                        .map_err(connect_error)?,
                    ),
                }
            }
            #[cfg(feature = "mysql")]
            Backend::MySql => {
                let (connect, pool_options) = pool!(
                    sqlx::mysql::MySqlConnectOptions,
                    !lazy,
                    options.min_connections,
                    |c| { crate::tls::secure_mysql(c, &url, &options.tls) }
                );
                Pool::MySql(Pooled::new(
                    pool_options.connect_lazy_with(connect),
                    ping_after_idle,
                ))
            }
            #[cfg(feature = "sqlite")]
            Backend::Sqlite => {
                let (connect, pool_options) = pool!(
                    sqlx::sqlite::SqliteConnectOptions,
                    !lazy,
                    options.min_connections,
                    |c: sqlx::sqlite::SqliteConnectOptions| c
                        .create_if_missing(true)
                        .foreign_keys(true)
                );
                Pool::Sqlite(Pooled::new(
                    pool_options.connect_lazy_with(connect),
                    ping_after_idle,
                ))
            }
            #[cfg(not(all(feature = "postgres", feature = "mysql", feature = "sqlite")))]
            compiled_out => return Err(compiled_out.not_enabled()),
        };
        // sqlx pools open their minimum now; a tokio-postgres pool after its probe, below.
        if !lazy {
            on_engine!(&pool, Pool(p) => p.open_minimum(), Pool::TokioPostgres(_) => {});
        }
        // What the sqlx probe above does for sqlx pools, through tokio-postgres (its TLS).
        #[cfg(feature = "postgres")]
        if !lazy && let Pool::TokioPostgres(pool) = &pool {
            match tokio::time::timeout(options.acquire_timeout, pool.probe()).await {
                Ok(probed) => probed.map_err(connect_error)?,
                Err(_) => {
                    return Err(crate::connect_failure::timed_out(
                        &url,
                        source,
                        options.acquire_timeout,
                    ));
                }
            }
        }
        Ok(Self {
            pool,
            statements: std::sync::Arc::default(),
            stats: std::sync::Arc::new(
                crate::stats::QueryStats::new(url.backend(), options.slow_query_threshold)
                    .with_max_shapes(options.max_query_shapes),
            ),
            routing: None,
            identity: format!("{}:{}", url.backend().as_str(), url.database_name()).into(),
            actor: None,
            #[cfg(feature = "cache")]
            cache: None,
        })
    }

    /// A pool of its own, of at most `max_connections`, to the same database with the same
    /// settings: for a long-running reader (a subscription) that must not hold the
    /// application's connections. On PostgreSQL its connections carry `application_name`.
    /// Connects lazily.
    pub(crate) async fn dedicated(
        &self,
        max_connections: u32,
        application_name: &str,
    ) -> Result<Database> {
        let _ = application_name;
        macro_rules! own {
            ($pool:expr, $variant:ident, $configure:expr) => {{
                #[allow(clippy::redundant_closure_call)]
                let options = ($configure)((*$pool.pool.connect_options()).clone());
                Pool::$variant(Pooled::new(
                    sqlx::pool::PoolOptions::new()
                        .max_connections(max_connections)
                        .min_connections(0)
                        .acquire_timeout(Duration::from_secs(10))
                        .connect_lazy_with(options),
                    // This pool pings on every checkout (sqlx's default); kept connections
                    // too.
                    Duration::ZERO,
                ))
            }};
        }
        let pool = match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => own!(p, Postgres, |o: sqlx::postgres::PgConnectOptions| o
                .application_name(application_name)),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => own!(p, MySql, |o| o),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => own!(p, Sqlite, |o| o),
            #[cfg(feature = "postgres")]
            Pool::TokioPostgres(p) => {
                Pool::TokioPostgres(p.dedicated(max_connections, application_name))
            }
        };
        // The change log is read on the primary (where `pool` points), without routing or
        // cache.
        Ok(Database {
            pool,
            statements: std::sync::Arc::default(),
            stats: self.stats.clone(),
            routing: None,
            identity: self.identity.clone(),
            actor: None,
            #[cfg(feature = "cache")]
            cache: None,
        })
    }

    /// This handle with a query cache: `.cache(ttl)` reads go through it, and writes bump
    /// the versions of the tables they write (see [`crate::cache`]).
    #[cfg(feature = "cache")]
    pub fn with_cache(mut self, cache: crate::cache::QueryCache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The query cache, if any.
    #[cfg(feature = "cache")]
    pub fn query_cache(&self) -> Option<&crate::cache::QueryCache> {
        self.cache.as_ref()
    }

    /// `engine:database name`, what cache keys and versions are per.
    #[cfg(feature = "cache")]
    pub(crate) fn identity(&self) -> &str {
        &self.identity
    }

    /// The hooks a write on this handle runs after it commits (cache version bumps; the
    /// session is added by the router).
    pub(crate) fn commit_hooks(&self) -> crate::commit_hooks::CommitHooks {
        crate::commit_hooks::CommitHooks {
            #[cfg(feature = "cache")]
            cache: self
                .cache
                .clone()
                .map(|cache| (cache, self.identity.clone())),
            ..Default::default()
        }
    }

    /// Whether writes on this handle bump cache versions (it has a cache).
    fn bumps_cache_versions(&self) -> bool {
        #[cfg(feature = "cache")]
        return self.cache.is_some();
        #[cfg(not(feature = "cache"))]
        false
    }

    /// After a statement on the pool (which commits by itself) wrote.
    async fn written(&self, sql: &str) {
        let mut hooks = self.commit_hooks();
        hooks.note_statement(sql);
        hooks.committed().await;
    }

    /// This handle counting its statements into `other`'s counters and statistics.
    pub(crate) fn counting_with(mut self, other: &Database) -> Self {
        self.statements = other.statements.clone();
        self.stats = other.stats.clone();
        self.identity = other.identity.clone();
        self
    }

    /// The same pool with counters and statistics of its own: for health checks and
    /// read-your-writes waits, which are not the application's statements.
    pub(crate) fn uncounted(&self) -> Self {
        let mut handle = self.clone();
        handle.routing = None;
        handle.statements = std::sync::Arc::default();
        handle.stats = std::sync::Arc::new(crate::stats::QueryStats::new(self.backend(), None));
        handle
    }

    /// This (primary) handle routing through `router`, in a session of its own.
    pub(crate) fn routed_by(mut self, router: std::sync::Arc<crate::router::Router>) -> Self {
        self.routing = Some(crate::router::Routed {
            router,
            session: std::sync::Arc::default(),
            on_primary: false,
        });
        self
    }

    /// A handle whose queries all run on the primary (for one query:
    /// `User::find().all(&db.on_primary())`), in this handle's session. Without replicas it
    /// is the same database.
    pub fn on_primary(&self) -> Database {
        let mut handle = self.clone();
        if let Some(routed) = &mut handle.routing {
            routed.on_primary = true;
        }
        handle
    }

    /// A handle with a read-your-writes session of its own: its reads see its own writes,
    /// but not wait for those of the handle it came from. (Clones of a handle share its
    /// session.) Without replicas it is the same database.
    pub fn session(&self) -> Database {
        let mut handle = self.clone();
        if let Some(routed) = &mut handle.routing {
            routed.session = std::sync::Arc::default();
            routed.on_primary = false;
        }
        handle
    }

    /// Whether this handle routes over replicas ([`Database::builder`],
    /// [`Database::from_routing`]).
    pub fn has_replicas(&self) -> bool {
        self.routing.is_some()
    }

    /// Counters of where reads went (`None` without replicas); register them with
    /// [`crate::RoutingMetrics::register`].
    pub fn routing_metrics(&self) -> Option<&crate::RoutingMetrics> {
        self.routing.as_ref().map(|r| r.router.metrics())
    }

    /// Checks every replica now rather than at the next health check interval.
    pub async fn check_replicas(&self) {
        if let Some(routed) = &self.routing {
            routed.router.check_health().await;
        }
    }

    /// The primary now, as a plain handle (no routing), for transactions.
    pub(crate) fn current_primary(
        &self,
    ) -> Option<(Database, std::sync::Arc<crate::router::Session>)> {
        self.routing
            .as_ref()
            .map(|r| (r.router.members().primary.clone(), r.session.clone()))
    }

    pub(crate) fn pool(&self) -> PoolRef<'_> {
        match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => PoolRef::Postgres(p.direct()),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => PoolRef::MySql(p.direct()),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => PoolRef::Sqlite(p.direct()),
            #[cfg(feature = "postgres")]
            Pool::TokioPostgres(p) => PoolRef::TokioPostgres(p),
        }
    }

    /// Open and idle connections of the pool now.
    pub fn pool_state(&self) -> PoolState {
        // Kept connections are idle too: the next statement takes one.
        let (open, idle) = on_engine!(&self.pool, Pool(p) => (p.pool.size(), p.pool.num_idle() + p.kept.len()),
        Pool::TokioPostgres(p) => {
            let (open, idle) = p.state();
            (open, idle as usize)
        });
        PoolState {
            open,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
        }
    }

    /// Statements this handle (and its clones) ran so far, through the pool and inside its
    /// transactions (savepoints included; the `BEGIN`, `COMMIT` and `ROLLBACK` that open and
    /// close a transaction are not counted).
    pub fn statement_count(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn statements_handle(&self) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
        self.statements.clone()
    }

    /// Timings and counts of the statements run through this handle and its transactions.
    pub fn stats(&self) -> &crate::stats::QueryStats {
        &self.stats
    }

    pub(crate) fn stats_handle(&self) -> std::sync::Arc<crate::stats::QueryStats> {
        self.stats.clone()
    }

    /// A connection of its own, taken out of the pool (the pool opens another when it needs
    /// one): for work that wants a whole session, such as reading the schema.
    pub(crate) async fn detached_connection(&self) -> Result<crate::Connection> {
        let backend = self.backend();
        let now = std::time::Instant::now();
        let connection = match &self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(p) => p
                .kept
                .checkout(&p.pool, now)
                .await
                .map(|c| crate::Connection::Postgres(c.detach())),
            #[cfg(feature = "mysql")]
            Pool::MySql(p) => p
                .kept
                .checkout(&p.pool, now)
                .await
                .map(|c| crate::Connection::MySql(c.detach())),
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(p) => p
                .kept
                .checkout(&p.pool, now)
                .await
                .map(|c| crate::Connection::Sqlite(c.detach())),
            #[cfg(feature = "postgres")]
            Pool::TokioPostgres(p) => {
                let _ = now;
                p.sessions()
                    .acquire()
                    .await
                    .map(|c| crate::Connection::Postgres(c.detach()))
            }
        };
        connection.map_err(|e| Error::query(backend, None, e))
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        match self.pool {
            #[cfg(feature = "postgres")]
            Pool::Postgres(_) => Backend::Postgres,
            #[cfg(feature = "mysql")]
            Pool::MySql(_) => Backend::MySql,
            #[cfg(feature = "sqlite")]
            Pool::Sqlite(_) => Backend::Sqlite,
            #[cfg(feature = "postgres")]
            Pool::TokioPostgres(_) => Backend::Postgres,
        }
    }

    /// Runs a query and returns its rows. Placeholders per engine: `$1`, `$2`… on PostgreSQL
    /// (the highest number counts; one may repeat), `?` on MySQL, `?` or numbered `?NNN` /
    /// `$NNN` on SQLite; `values` must fill them exactly. They are found as the engine's own
    /// lexer finds them, so `?` or `$1` inside strings, quoted identifiers, comments and
    /// PostgreSQL dollar-quoted bodies do not count (nor PostgreSQL's jsonb `?` operators).
    ///
    /// # Errors
    /// [`Error::Query`] with the statement: a database error, another number of values than
    /// placeholders, or a placeholder foxdb cannot bind (SQLite's named `:name`, `@name`,
    /// `$name`; bare `?` mixed with numbered ones).
    pub async fn fetch_all(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        self.fetch_decoded(sql, values, Ok).await
    }

    /// Runs a query, each row decoded by `decode` as it arrives; through the router when this
    /// handle has replicas.
    async fn fetch_decoded<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &self,
        sql: &str,
        values: &(impl StatementValues + ?Sized),
        mut decode: F,
    ) -> Result<Vec<T>> {
        // Looked up once here: the router asks it whether the statement is a plain read.
        let statement = self.stats.statement(sql);
        // The routed read and the cache's version bump are boxed: they are the rare paths,
        // and the statement's future stays small without them.
        let result = match &self.routing {
            Some(routed) => match values.as_owned() {
                Some(values) => Box::pin(routed.fetch(&statement, sql, values, decode)).await,
                None => {
                    let values = values.to_owned_values();
                    Box::pin(routed.fetch(&statement, sql, &values, decode)).await
                }
            },
            None => {
                self.fetch_statement(&statement, sql, values, &mut decode)
                    .await
            }
        };
        if self.bumps_cache_versions() && !statement.is_plain_read() {
            Box::pin(self.written(sql)).await;
        }
        result
    }

    /// [`Database::fetch_all`] on this pool, whatever the routing.
    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    pub(crate) async fn fetch_all_direct(&self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        self.fetch_direct(sql, values, &mut Ok).await
    }

    /// Runs a query on this pool, whatever the routing.
    pub(crate) async fn fetch_direct<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &self,
        sql: &str,
        values: &[Value],
        decode: &mut F,
    ) -> Result<Vec<T>> {
        let statement = self.stats.statement(sql);
        self.fetch_statement(&statement, sql, values, decode).await
    }

    /// [`Database::fetch_direct`] of a statement already looked up in the statistics (this
    /// handle's, or those of the routed handle whose member this is: members count with it).
    pub(crate) async fn fetch_statement<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &self,
        known: &crate::stats::Statement,
        sql: &str,
        values: &(impl StatementValues + ?Sized),
        decode: &mut F,
    ) -> Result<Vec<T>> {
        self.statements
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = std::time::Instant::now();
        let backend = self.backend();
        known.check_parameters(backend, sql, values)?;
        let statement = known.sql();
        // Rows go into `decoded` as they arrive: the driver's stream wants `Unpin` items.
        let mut decoded = Vec::new();
        // On a connection taken from the pool rather than through the pool's executor: rows
        // then pass one stream fewer on their way here.
        let (fetched, finished) = on_engine!(&self.pool, Pool(p) => match p.kept.checkout(&p.pool, started).await {
            Ok(mut connection) => {
                let fetched = bind_all(sqlx::query(statement), values)
                    .try_map(|row| push_decoded(&mut decoded, decode, row))
                    .fetch_all(&mut *connection)
                    .await
                    .map(drop);
                let finished = std::time::Instant::now();
                if fetched.is_ok() {
                    p.kept.keep(&p.pool, connection, finished);
                }
                (fetched, finished)
            }
            Err(error) => (Err(error), std::time::Instant::now()),
        }, Pool::TokioPostgres(p) => match p.checkout(started).await {
            Ok(mut connection) => {
                let fetched = connection
                    .session()
                    .for_each_row(sql, values, |row| push_decoded(&mut decoded, decode, row))
                    .await;
                if fetched.is_err() {
                    connection.failed();
                }
                let finished = std::time::Instant::now();
                connection.release_at(finished);
                (fetched, finished)
            }
            Err(error) => (Err(error), std::time::Instant::now()),
        });
        self.stats.record_statement(
            known,
            finished.saturating_duration_since(started),
            fetched.as_ref().is_err_and(|e| !is_carried_decode_error(e)),
        );
        match fetched {
            Ok(_) => Ok(decoded),
            Err(error) => Err(query_or_decode_error(backend, sql, error)),
        }
    }

    /// Runs a statement; returns the rows affected.
    ///
    /// # Errors
    /// [`Error::Query`] with the statement.
    pub async fn execute(&self, sql: &str, values: &[Value]) -> Result<u64> {
        Ok(self.run(sql, values).await?.rows_affected)
    }

    async fn run(&self, sql: &str, values: &(impl StatementValues + ?Sized)) -> Result<Executed> {
        // Boxed as in `fetch_decoded`.
        let result = match &self.routing {
            Some(routed) => match values.as_owned() {
                Some(values) => Box::pin(routed.execute(sql, values)).await,
                None => Box::pin(routed.execute(sql, &values.to_owned_values())).await,
            },
            None => self.run_direct(sql, values).await,
        };
        if self.bumps_cache_versions() {
            Box::pin(self.written(sql)).await;
        }
        result
    }

    /// Runs a statement on this pool, whatever the routing.
    pub(crate) async fn run_direct(
        &self,
        sql: &str,
        values: &(impl StatementValues + ?Sized),
    ) -> Result<Executed> {
        self.statements
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = std::time::Instant::now();
        let backend = self.backend();
        let known = self.stats.statement(sql);
        known.check_parameters(backend, sql, values)?;
        let statement = known.sql();
        let (executed, finished) = on_engine!(&self.pool, Pool(p) => match p.kept.checkout(&p.pool, started).await {
            Ok(mut connection) => {
                let executed = bind_all(sqlx::query(statement), values)
                    .execute(&mut *connection)
                    .await
                    .map(Executed::from);
                let finished = std::time::Instant::now();
                if executed.is_ok() {
                    p.kept.keep(&p.pool, connection, finished);
                }
                (executed, finished)
            }
            Err(error) => (Err(error), std::time::Instant::now()),
        }, Pool::TokioPostgres(p) => match p.checkout(started).await {
            Ok(mut connection) => {
                let executed = connection
                    .session()
                    .execute(sql, values)
                    .await;
                if executed.is_err() {
                    connection.failed();
                }
                let finished = std::time::Instant::now();
                connection.release_at(finished);
                (executed, finished)
            }
            Err(error) => (Err(error), std::time::Instant::now()),
        });
        self.stats.record_statement(
            &known,
            finished.saturating_duration_since(started),
            executed.is_err(),
        );
        executed.map_err(|e| Error::query(backend, Some(sql), e))
    }

    /// Runs hand-written SQL with bound parameters (placeholders as for
    /// [`Database::fetch_all`]) and decodes each row into `T` (`#[derive(foxdb::FromRow)]`) as it
    /// arrives, for queries the builder does not express.
    ///
    /// # Errors
    /// Database and decoding errors.
    pub async fn raw<T: crate::row::FromRow + Send>(
        &self,
        sql: &str,
        values: &[Value],
    ) -> Result<Vec<T>> {
        self.fetch_decoded(sql, values, |row| T::from_row(&row))
            .await
    }

    /// The engine's plan for a query (`EXPLAIN`), one line per row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn explain(&self, sql: &str, values: &[Value]) -> Result<Vec<String>> {
        let backend = self.backend();
        let explain = crate::dialect::dialect_for(backend).explain(sql);
        let rows = self.fetch_all(&explain, values).await?;
        Ok(rows
            .iter()
            .map(|row| match row {
                #[cfg(feature = "postgres")]
                Row::Postgres(r) => sqlx::Row::try_get::<String, _>(r, 0).unwrap_or_default(),
                #[cfg(feature = "postgres")]
                Row::TokioPostgres(r) => {
                    crate::backend::postgres_tokio::get_text(r, 0).unwrap_or_default()
                }
                #[cfg(feature = "sqlite")]
                Row::Sqlite(r) => sqlx::Row::try_get::<String, _>(r, "detail").unwrap_or_default(),
                #[cfg(feature = "mysql")]
                Row::MySql(r) => {
                    let field = |name: &str| {
                        sqlx::Row::try_get::<Option<String>, _>(r, name)
                            .ok()
                            .flatten()
                            .unwrap_or_default()
                    };
                    format!(
                        "table={} type={} key={} rows={}",
                        field("table"),
                        field("type"),
                        field("key"),
                        field("rows")
                    )
                }
            })
            .collect())
    }

    /// Runs `statement` (`COPY ... FROM STDIN`) with `data` on this pool: the bulk path of
    /// [`Executor::copy_in`], counted in the statistics and bumping cache versions as a
    /// statement does. `None` on engines without one, and on a handle with replicas, whose
    /// writes go through the router (which marks them for read-your-writes).
    #[cfg(feature = "postgres")]
    async fn run_copy_in(&self, statement: &str, data: &str) -> Result<Option<u64>> {
        if !self.copies_in() {
            return Ok(None);
        }
        self.statements
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let started = std::time::Instant::now();
        let known = self.stats.statement(statement);
        let copied = match &self.pool {
            Pool::TokioPostgres(pool) => match pool.checkout(started).await {
                Ok(mut connection) => {
                    let copied = connection.session().copy_in(statement, data).await;
                    if copied.is_err() {
                        connection.failed();
                    }
                    copied
                }
                Err(error) => Err(error),
            },
            _ => return Ok(None),
        };
        self.stats
            .record_statement(&known, started.elapsed(), copied.is_err());
        if self.bumps_cache_versions() {
            self.written(statement).await;
        }
        copied
            .map(Some)
            .map_err(|e| Error::query(self.backend(), Some(statement), e))
    }

    /// Whether `other` is a clone of this handle (the same pool).
    pub(crate) fn same_pool(&self, other: &Database) -> bool {
        std::sync::Arc::ptr_eq(&self.statements, &other.statements)
    }

    /// Closes every connection of the pool (of every member, with replicas).
    pub async fn close(&self) {
        if let Some(routed) = &self.routing {
            let members = routed.router.members();
            for replica in &members.replicas {
                Box::pin(replica.database.close()).await;
            }
            Box::pin(members.primary.close()).await;
        }
        on_engine!(&self.pool, Pool(p) => {
            // Marked closed first, so no statement keeps its connection after the release.
            let closing = p.pool.close();
            p.kept.release();
            closing.await;
        }, Pool::TokioPostgres(p) => p.close().await);
    }
}

impl Executor for &Database {
    fn backend(&self) -> Backend {
        Database::backend(self)
    }

    fn database(&self) -> Option<&Database> {
        Some(self)
    }

    // The handle's own futures, not wrapped in one more: a statement's future is moved whole
    // into each future around it.
    fn fetch_all(
        &mut self,
        sql: &str,
        values: &[Value],
    ) -> impl Future<Output = Result<Vec<Row>>> + Send {
        let database: &Database = self;
        database.fetch_all(sql, values)
    }

    fn fetch_decoded<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &mut self,
        sql: &str,
        values: &[Value],
        decode: F,
    ) -> impl Future<Output = Result<Vec<T>>> + Send {
        let database: &Database = self;
        database.fetch_decoded(sql, values, decode)
    }

    fn execute(
        &mut self,
        sql: &str,
        values: &[Value],
    ) -> impl Future<Output = Result<Executed>> + Send {
        let database: &Database = self;
        database.run(sql, values)
    }

    fn fetch_lent<T: Send, F: FnMut(Row) -> Result<T> + Send>(
        &mut self,
        sql: &str,
        values: &[&Value],
        _owned: Option<&[Value]>,
        decode: F,
    ) -> impl Future<Output = Result<Vec<T>>> + Send {
        let database: &Database = self;
        database.fetch_decoded(sql, values, decode)
    }

    fn execute_lent(
        &mut self,
        sql: &str,
        values: &[&Value],
        _owned: Option<&[Value]>,
    ) -> impl Future<Output = Result<Executed>> + Send {
        let database: &Database = self;
        database.run(sql, values)
    }

    #[cfg(feature = "postgres")]
    fn copies_in(&self) -> bool {
        self.routing.is_none() && matches!(self.pool, Pool::TokioPostgres(_))
    }

    #[cfg(feature = "postgres")]
    async fn copy_in(&mut self, statement: &str, data: &str) -> Result<Option<u64>> {
        Database::run_copy_in(self, statement, data).await
    }
}

/// Query entry points on every model: `User::find()`, `User::update()`, `User::delete()`.
pub trait ModelExt: crate::Model {
    /// A query for rows of this model.
    fn find() -> crate::query::Select<Self> {
        crate::query::select()
    }

    /// An UPDATE of rows of this model.
    fn update() -> crate::query::Update<Self> {
        crate::query::update()
    }

    /// A DELETE of rows of this model.
    fn delete() -> crate::query::Delete<Self> {
        crate::query::delete()
    }

    /// An INSERT of `row`, which may name the unique key a stored row can already hold:
    /// `User::insert(&user).on_conflict(User::EMAIL).update([User::NAME]).exec(&db)`.
    fn insert(row: &Self) -> crate::query::Insert<Self> {
        crate::query::Insert::new(row)
    }
}

impl<M: crate::Model> ModelExt for M {}
