//! Test support shared by FoxDB's test suites: a freshly created, uniquely named database per
//! test on each engine, dropped when the test ends.
//!
//! Servers come from `e2e/services.sh` (run by `make test`); point elsewhere with
//! `FOX_TEST_POSTGRES_URL`, `FOX_TEST_MYSQL_URL`, `FOX_TEST_REDIS_URL` and `FOX_TEST_MONGO_URL`.
#![forbid(unsafe_code)]

pub mod postgres_server;
pub mod replica;

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::{AssertSqlSafe, Connection};

/// Server URL of the PostgreSQL used by tests (any existing database; tests create their own).
pub fn postgres_server_url() -> String {
    std::env::var("FOX_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Server URL of the MySQL/MariaDB used by tests.
pub fn mysql_server_url() -> String {
    std::env::var("FOX_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

/// URL of the Redis used by tests.
pub fn redis_url() -> String {
    std::env::var("FOX_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into())
}

/// URL of the MongoDB (or MongoDB-wire server) used by tests.
pub fn mongo_url() -> String {
    std::env::var("FOX_TEST_MONGO_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27017/".into())
}

/// The SQL engines tests run against: foxdb's own vocabulary ([`Backend::ALL`] for all of them).
pub use foxdb::Backend;

/// A database created for one test and dropped when this value is dropped.
#[derive(Debug)]
pub struct TestDatabase {
    engine: Backend,
    name: String,
    url: String,
    // Keeps the SQLite file's directory alive; removed on drop.
    _directory: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "fox_test_{}_{}_{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Replaces the database path of a server URL: `postgres://u@h:5432/test` → `.../name`.
fn with_database(server_url: &str, database: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|j| start + j))
        .unwrap_or(base.len());
    let mut url = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

impl TestDatabase {
    /// Creates a fresh, uniquely named database on `engine`.
    ///
    /// # Panics
    /// When the server cannot be reached: the test cannot run, and says so.
    pub async fn create(engine: Backend) -> Self {
        let name = unique_name();
        match engine {
            Backend::Postgres => {
                let server = postgres_server_url();
                let mut connection =
                    sqlx::PgConnection::connect(&server)
                        .await
                        .unwrap_or_else(|e| {
                            panic!("PostgreSQL at {server} (run e2e/services.sh): {e}")
                        });
                sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .execute(&mut connection)
                    .await
                    .expect("creates the test database");
                let url = with_database(&server, &name);
                Self {
                    engine,
                    name,
                    url,
                    _directory: None,
                }
            }
            Backend::MySql => {
                let server = mysql_server_url();
                let mut connection = sqlx::MySqlConnection::connect(&server)
                    .await
                    .unwrap_or_else(|e| panic!("MySQL at {server} (run e2e/services.sh): {e}"));
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
                )))
                .execute(&mut connection)
                .await
                .expect("creates the test database");
                let url = with_database(&server, &name);
                Self {
                    engine,
                    name,
                    url,
                    _directory: None,
                }
            }
            Backend::Sqlite => {
                let directory = tempfile::tempdir().expect("creates a temporary directory");
                let path = directory.path().join(format!("{name}.sqlite"));
                let url = format!("sqlite://{}?mode=rwc", path.display());
                Self {
                    engine,
                    name,
                    url,
                    _directory: Some(directory),
                }
            }
        }
    }

    /// The engine.
    pub fn engine(&self) -> Backend {
        self.engine
    }

    /// Connection URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Name of this database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A pool on this database with PostgreSQL on `driver` (the other engines have one driver),
    /// other options their defaults.
    pub async fn connect_on(&self, driver: foxdb::PostgresDriver) -> foxdb::Database {
        let options = foxdb::PoolOptions {
            postgres_driver: driver,
            ..foxdb::PoolOptions::default()
        };
        foxdb::Database::connect_with(&self.url, &options)
            .await
            .unwrap_or_else(|e| panic!("connecting on {driver:?}: {e}"))
    }

    /// The database's schema as it is now, read back through foxdb's introspection.
    pub async fn live_schema(&self) -> foxdb::schema::Schema {
        let url = foxdb::DatabaseUrl::parse(&self.url).expect("url");
        let mut connection = foxdb::Connection::connect(&url, &foxdb::ConnectOptions::default())
            .await
            .expect("connects");
        let schema = foxdb::introspect::introspect_schema(&mut connection)
            .await
            .expect("introspects");
        connection.close().await;
        schema
    }

    /// Installs (or refreshes, after a new column) change capture of `table`, as `fox apply`
    /// does: the table read back from the database, capture's statements run through `db`.
    pub async fn install_capture(&self, db: &foxdb::Database, table: &str) {
        let schema = self.live_schema().await;
        let table = schema.table(table).expect("the table");
        let engine = db.backend();
        for sql in foxdb::realtime::capture_for(engine).install(table) {
            db.execute(&sql, &[])
                .await
                .unwrap_or_else(|e| panic!("{engine}: {sql}: {e}"));
        }
    }

    async fn drop_database(engine: Backend, name: &str) -> Result<(), sqlx::Error> {
        match engine {
            Backend::Postgres => {
                let mut connection = sqlx::PgConnection::connect(&postgres_server_url()).await?;
                sqlx::raw_sql(AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut connection)
                .await?;
            }
            Backend::MySql => {
                let mut connection = sqlx::MySqlConnection::connect(&mysql_server_url()).await?;
                // As PostgreSQL's WITH (FORCE): end the sessions still in the database first, or
                // an open transaction's metadata lock (a pooled connection the test's runtime can
                // no longer roll back while this drop blocks it) makes the DROP wait forever.
                let sessions: Vec<i64> = sqlx::query_scalar(
                    "SELECT CAST(ID AS SIGNED) FROM information_schema.PROCESSLIST \
                     WHERE DB = ? AND ID <> CONNECTION_ID()",
                )
                .bind(name)
                .fetch_all(&mut connection)
                .await?;
                for id in sessions {
                    // A session that ended meanwhile is no error.
                    let _ = sqlx::raw_sql(AssertSqlSafe(format!("KILL {id}")))
                        .execute(&mut connection)
                        .await;
                }
                sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS `{name}`")))
                    .execute(&mut connection)
                    .await?;
            }
            Backend::Sqlite => {}
        }
        Ok(())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (engine, name) = (self.engine, self.name.clone());
        // Drop runs inside the test's runtime; a separate thread with its own runtime can block.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("builds a runtime");
            runtime.block_on(Self::drop_database(engine, &name))
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!(
                "warning: could not drop test database {}: {error}",
                self.name
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_swapped_in_server_urls() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("mysql://root@h:3306", "x"),
            "mysql://root@h:3306/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
    }
}
