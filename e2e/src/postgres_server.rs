//! A private PostgreSQL server with settings of the test's choosing (such as
//! `max_prepared_transactions`, which needs a restart and so cannot be set on the shared
//! server), on a free loopback port, with its data in a temporary directory
//! (`/tmp/fox-pg-*`).
//!
//! # Expected flow
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use fox_e2e::postgres_server::PostgresServer;
//!
//! let server = PostgresServer::start(&["max_prepared_transactions=20"])?;
//! // connect to server.url() (database `fox`, user `postgres`, trust authentication)
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//! As for [`crate::replica`]'s pairs: dropping the server stops it (immediate shutdown) and
//! removes its directory, also when the test panics; a watchdog does both when the test
//! process dies without unwinding.

use std::io;
use std::path::Path;

use crate::replica::{
    Engine, PairDirectory, PostgresTools, ServerProcess, run, start_on_free_port,
};

/// One PostgreSQL server of a test's own, with a database `fox`.
#[derive(Debug)]
pub struct PostgresServer {
    // Fields drop in order: the server stops before its directory is removed.
    server: ServerProcess,
    tools: PostgresTools,
    port: u16,
    directory: PairDirectory,
}

impl PostgresServer {
    /// Creates (`initdb`, `fsync` off) and starts a server with `settings` (`name=value`) on
    /// top of the usual test settings, and creates the database `fox`.
    ///
    /// # Errors
    /// A tool is missing, a step fails, or the server is not ready within a minute; the
    /// message names the step and quotes the server's log.
    pub fn start(settings: &[&str]) -> io::Result<Self> {
        let tools = PostgresTools::locate();
        let directory = PairDirectory::create("fox-pg-", "postgres")?;
        let root = directory.path();
        let data = root.join("data");
        let mut initdb = tools.command("initdb", root);
        initdb
            .arg("--pgdata")
            .arg(&data)
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
            .args(["--locale=C", "--no-sync", "--no-instructions"]);
        run(&mut initdb, "initdb of the PostgreSQL server")?;
        let (server, port) = start_on_free_port(
            "PostgreSQL server",
            Engine::Postgres,
            &root.join("server.log"),
            |port| tools.server_with(root, &data, port, settings),
            |port| tools.psql(root, port, "postgres", "SELECT 1").is_ok(),
        )?;
        tools.psql(root, port, "postgres", "CREATE DATABASE fox")?;
        Ok(Self {
            server,
            tools,
            port,
            directory,
        })
    }

    /// `postgres://postgres@127.0.0.1:PORT/fox`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/fox", self.port)
    }

    /// Creates database `name` and returns its URL.
    ///
    /// # Errors
    /// psql fails; the message quotes its stderr.
    pub fn create_database(&self, name: &str) -> io::Result<String> {
        self.tools.psql(
            self.directory.path(),
            self.port,
            "postgres",
            &format!("CREATE DATABASE \"{name}\""),
        )?;
        Ok(format!(
            "postgres://postgres@127.0.0.1:{}/{name}",
            self.port
        ))
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's directory (its log is `server.log`).
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }

    /// Runs SQL on the `fox` database and returns psql's unaligned output.
    ///
    /// # Errors
    /// psql fails; the message quotes its stderr.
    pub fn sql(&self, sql: &str) -> io::Result<String> {
        self.tools
            .psql(self.directory.path(), self.port, "fox", sql)
    }

    /// Whether the server process still runs.
    pub fn is_running(&self) -> bool {
        self.server.is_running()
    }
}
