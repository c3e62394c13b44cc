//! Private primary/replica server pairs for tests of replica health and replication lag.
//!
//! Each pair runs two server processes of its own, on free loopback ports, with their data in a
//! temporary directory (`/tmp/fox-replica-*`): [`PostgresPair`] streams WAL from a primary to
//! a hot standby made with `pg_basebackup`; [`MariaDbPair`] replicates a binlogged primary to a
//! read-only replica over GTID. Neither touches the shared test servers, and pairs of several
//! tests run side by side.
//!
//! When the tests run as root the servers run as the `postgres` and `mysql` accounts, since
//! neither engine runs as root; otherwise they run as the current user. The PostgreSQL binaries
//! come from `FOX_TEST_POSTGRES_BIN` (a directory), else the newest `/usr/lib/postgresql/*/bin`,
//! else `PATH`; MariaDB's (`mariadb-install-db`, `mariadbd`, `mariadb`) from `PATH` and
//! `/usr/sbin`.
//!
//! # Expected flow
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use fox_e2e::replica::PostgresPair;
//!
//! let pair = PostgresPair::start()?; // returns once the replica streams
//! // connect to pair.primary_url() / pair.replica_url(), write on the primary, then:
//! pair.pause_replay()?; // writes on the primary now pile up on the replica: lag grows
//! pair.resume_replay()?;
//! pair.catch_up()?; // the replica has replayed everything the primary wrote
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//! - Dropping a pair stops both servers (immediate shutdown) and removes their directory, also
//!   when the test panics (the pair is dropped while unwinding).
//! - When the test process dies without unwinding (killed, aborted, timed out), watchdogs see
//!   their pipe from the test process close: they stop both servers, then remove the directory.
//! - Startup fails with an [`io::Error`] that quotes the end of the failing server's log.

use std::fs;
use std::io;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to start, a replica to connect or catch up.
const DEADLINE: Duration = Duration::from_secs(60);
/// How long an immediate shutdown may take before the server is killed.
const STOP_DEADLINE: Duration = Duration::from_secs(10);
/// Pause between readiness checks.
const POLL: Duration = Duration::from_millis(40);
/// Attempts to start a server when another process took its port in the meantime.
const PORT_ATTEMPTS: u32 = 3;

/// A PostgreSQL primary and a streaming hot standby, each on its own loopback port, with trust
/// authentication for every user and a database `fox` (created before the standby is copied).
///
/// # Guarantees
/// See the [module documentation](self): both servers stop on drop, and their directory goes.
#[derive(Debug)]
pub struct PostgresPair {
    // Fields drop in order: both servers stop before their directory is removed.
    replica: ServerProcess,
    primary: ServerProcess,
    tools: PostgresTools,
    primary_port: u16,
    replica_port: u16,
    directory: PairDirectory,
}

impl PostgresPair {
    /// Creates and starts a primary (`initdb`, `fsync` off), copies it into a standby with
    /// `pg_basebackup -R`, starts the standby, and returns once it streams WAL.
    ///
    /// # Errors
    /// A tool is missing, a step fails, or a server is not ready within a minute; the message
    /// names the step and quotes the server's log.
    pub fn start() -> io::Result<Self> {
        let tools = PostgresTools::locate();
        let directory = PairDirectory::create("fox-replica-pg-", "postgres")?;
        let root = directory.path();
        let primary_data = root.join("primary");
        let replica_data = root.join("replica");

        let mut initdb = tools.command("initdb", root);
        initdb
            .arg("--pgdata")
            .arg(&primary_data)
            .args(["--username=postgres", "--auth=trust", "--encoding=UTF8"])
            .args(["--locale=C", "--no-sync", "--no-instructions"]);
        run(&mut initdb, "initdb of the PostgreSQL primary")?;

        let (primary, primary_port) = start_on_free_port(
            "PostgreSQL primary",
            Engine::Postgres,
            &root.join("primary.log"),
            |port| tools.server(root, &primary_data, port),
            |port| tools.psql(root, port, "postgres", "SELECT 1").is_ok(),
        )?;
        tools.psql(root, primary_port, "postgres", "CREATE DATABASE fox")?;

        let mut basebackup = tools.command("pg_basebackup", root);
        basebackup
            .args(["--host=127.0.0.1", "--username=postgres", "--no-password"])
            .arg(format!("--port={primary_port}"))
            .arg("--pgdata")
            .arg(&replica_data)
            .args(["--write-recovery-conf", "--wal-method=stream"])
            .args(["--checkpoint=fast", "--no-sync"]);
        run(&mut basebackup, "pg_basebackup of the PostgreSQL replica")?;

        let (replica, replica_port) = start_on_free_port(
            "PostgreSQL replica",
            Engine::Postgres,
            &root.join("replica.log"),
            |port| tools.server(root, &replica_data, port),
            |port| tools.psql(root, port, "postgres", "SELECT 1").is_ok(),
        )?;
        let pair = Self {
            replica,
            primary,
            tools,
            primary_port,
            replica_port,
            directory,
        };
        pair.wait_for_streaming()?;
        Ok(pair)
    }

    /// The pair's directory: data directories and the servers' logs (`primary.log`,
    /// `replica.log`), for a test that wants to show them; removed on drop.
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }

    /// `postgres://postgres@127.0.0.1:PORT/fox` of the primary.
    pub fn primary_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/fox", self.primary_port)
    }

    /// `postgres://postgres@127.0.0.1:PORT/fox` of the replica.
    pub fn replica_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/fox", self.replica_port)
    }

    /// Port of the primary.
    pub fn primary_port(&self) -> u16 {
        self.primary_port
    }

    /// Port of the replica.
    pub fn replica_port(&self) -> u16 {
        self.replica_port
    }

    /// Runs SQL on the primary's `fox` database and returns psql's unaligned output.
    ///
    /// # Errors
    /// psql fails; the message quotes its stderr.
    pub fn primary_sql(&self, sql: &str) -> io::Result<String> {
        self.tools
            .psql(self.directory.path(), self.primary_port, "fox", sql)
    }

    /// Runs SQL on the replica's `fox` database and returns psql's unaligned output.
    ///
    /// # Errors
    /// psql fails; the message quotes its stderr.
    pub fn replica_sql(&self, sql: &str) -> io::Result<String> {
        self.tools
            .psql(self.directory.path(), self.replica_port, "fox", sql)
    }

    /// Pauses WAL replay on the replica (`pg_wal_replay_pause()`): it keeps receiving WAL but
    /// applies none, so writes on the primary make it lag. Returns once replay is paused.
    ///
    /// # Errors
    /// The replica does not answer or does not pause within a minute.
    pub fn pause_replay(&self) -> io::Result<()> {
        self.replica_sql("SELECT pg_wal_replay_pause()")?;
        // Replay pauses at the next record; an idle standby has none, so "pause requested"
        // (which this function also reports) is as paused as it gets until the primary writes.
        poll("the replica to pause replay", || {
            Ok(self.replica_sql("SELECT pg_is_wal_replay_paused()")? == "t")
        })
    }

    /// Resumes WAL replay on the replica (`pg_wal_replay_resume()`).
    ///
    /// # Errors
    /// The replica does not answer.
    pub fn resume_replay(&self) -> io::Result<()> {
        self.replica_sql("SELECT pg_wal_replay_resume()").map(drop)
    }

    /// Waits until the replica has replayed all WAL the primary had written when called.
    ///
    /// # Errors
    /// Either server does not answer, or the replica is not there within a minute.
    pub fn catch_up(&self) -> io::Result<()> {
        let target = self.primary_sql("SELECT pg_current_wal_insert_lsn()")?;
        let caught_up = format!("SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn");
        poll("the replica to replay the primary's WAL", || {
            Ok(self.replica_sql(&caught_up)? == "t")
        })
    }

    /// Stops the replica at once (immediate shutdown), as if its machine went away.
    pub fn stop_replica(&mut self) {
        self.replica.stop();
    }

    /// Stops the primary at once (immediate shutdown): the replica keeps serving reads, and
    /// its WAL receiver stops until the primary is back.
    pub fn stop_primary(&mut self) {
        self.primary.stop();
    }

    fn wait_for_streaming(&self) -> io::Result<()> {
        poll("the replica to stream WAL from the primary", || {
            if !self.replica.is_running() {
                return Err(self
                    .replica
                    .failure("exited while connecting to the primary"));
            }
            let status = self.replica_sql("SELECT status FROM pg_stat_wal_receiver")?;
            Ok(status == "streaming")
        })
        .map_err(|e| io::Error::other(format!("{e}\n{}", self.replica.log_tail())))
    }
}

/// Where the PostgreSQL programs are, and how to run them as the right account.
#[derive(Debug)]
pub(crate) struct PostgresTools {
    bin: Option<PathBuf>,
    account: Option<&'static str>,
}

impl PostgresTools {
    pub(crate) fn locate() -> Self {
        let bin = std::env::var_os("FOX_TEST_POSTGRES_BIN")
            .map(PathBuf::from)
            .or_else(newest_debian_postgres_bin);
        Self {
            bin,
            account: running_as_root().then_some("postgres"),
        }
    }

    fn program(&self, name: &str) -> PathBuf {
        match &self.bin {
            Some(bin) => bin.join(name),
            None => PathBuf::from(name),
        }
    }

    /// A PostgreSQL program run as the `postgres` account (when we are root), in `directory`.
    pub(crate) fn command(&self, name: &str, directory: &Path) -> Command {
        let mut command = as_account(self.account, self.program(name));
        command.current_dir(directory);
        command
    }

    fn server(&self, root: &Path, data: &Path, port: u16) -> Command {
        self.server_with(root, data, port, &[])
    }

    /// The server command, with `extra` settings (`name=value`) after the usual ones.
    pub(crate) fn server_with(
        &self,
        root: &Path,
        data: &Path,
        port: u16,
        extra: &[&str],
    ) -> Command {
        let mut command = self.command("postgres", root);
        command.arg("-D").arg(data);
        let settings = [
            "listen_addresses=127.0.0.1".to_string(),
            format!("port={port}"),
            format!("unix_socket_directories={}", root.display()),
            // Throwaway data: durability only costs time.
            "fsync=off".into(),
            "full_page_writes=off".into(),
            "shared_buffers=16MB".into(),
            "max_connections=40".into(),
            // The standby reports its replay position every second.
            "wal_receiver_status_interval=1s".into(),
        ];
        for setting in settings
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
        {
            command.arg("-c").arg(setting);
        }
        command
    }

    /// Runs one statement through psql on the server's socket and returns its trimmed
    /// unaligned, tuples-only output.
    pub(crate) fn psql(
        &self,
        root: &Path,
        port: u16,
        database: &str,
        sql: &str,
    ) -> io::Result<String> {
        let mut psql = Command::new(self.program("psql"));
        psql.arg("--no-psqlrc")
            .args(["--no-align", "--tuples-only", "--quiet", "--no-password"])
            .args(["--set=ON_ERROR_STOP=1", "--username=postgres"])
            .arg(format!("--host={}", root.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--dbname={database}"))
            .arg("--command")
            .arg(sql)
            .env("PGCONNECT_TIMEOUT", "5");
        run(&mut psql, &format!("psql on port {port}: {sql}"))
    }
}

fn newest_debian_postgres_bin() -> Option<PathBuf> {
    fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version)
        .map(|(_, bin)| bin)
}

/// A MariaDB primary (binary log, `server_id` 1) and a read-only replica (`server_id` 2)
/// replicating from it over GTID, each on its own loopback port, `root` without a password over
/// TCP, and a database `fox` created on the primary (so it replicates).
///
/// # Guarantees
/// See the [module documentation](self): both servers stop on drop, and their directory goes.
#[derive(Debug)]
pub struct MariaDbPair {
    // Fields drop in order: both servers stop before their directory is removed.
    replica: ServerProcess,
    primary: ServerProcess,
    primary_port: u16,
    replica_port: u16,
    directory: PairDirectory,
}

impl MariaDbPair {
    /// Initialises one data directory (`mariadb-install-db`), copies it for the replica, starts
    /// both servers, points the replica at the primary (`CHANGE MASTER TO ...
    /// MASTER_USE_GTID=slave_pos; START SLAVE`), creates `fox` on the primary, and returns once
    /// the replica has applied it with both replication threads running.
    ///
    /// # Errors
    /// A tool is missing, a step fails, or a server is not ready within a minute; the message
    /// names the step and quotes the server's log.
    pub fn start() -> io::Result<Self> {
        let account = running_as_root().then_some("mysql");
        let directory = PairDirectory::create("fox-replica-mariadb-", "mysql")?;
        let root = directory.path();
        let primary_data = root.join("primary");
        let replica_data = root.join("replica");

        let mut install = Command::new(mariadb_program("mariadb-install-db"));
        install
            .arg("--no-defaults")
            .args(account.map(|a| format!("--user={a}")))
            .arg(format!("--datadir={}", primary_data.display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"])
            .args(["--skip-name-resolve", "--innodb-log-file-size=8M"])
            // The bootstrap server's temporary tables in this pair's own directory: in the
            // shared /tmp, concurrent bootstraps (parallel tests) have failed on each other's files.
            .arg(format!("--tmpdir={}", root.display()))
            .current_dir(root);
        run(&mut install, "mariadb-install-db of the MariaDB primary")?;
        // Both servers start from the same fresh data, so the replica needs no snapshot: it
        // replays the primary's binary log from its first event.
        let mut copy = Command::new("cp");
        copy.arg("-a").arg(&primary_data).arg(&replica_data);
        run(
            &mut copy,
            "copying the MariaDB data directory for the replica",
        )?;

        let server = |data: &Path, name: &str, port: u16, extra: &[&str]| {
            let mut command = Command::new(mariadb_program("mariadbd"));
            command
                .arg("--no-defaults")
                .args(account.map(|a| format!("--user={a}")))
                .arg(format!("--datadir={}", data.display()))
                .arg(format!("--port={port}"))
                .arg(format!(
                    "--socket={}",
                    root.join(format!("{name}.sock")).display()
                ))
                .arg(format!(
                    "--pid-file={}",
                    root.join(format!("{name}.pid")).display()
                ))
                .arg(format!("--tmpdir={}", root.display()))
                .args(["--bind-address=127.0.0.1", "--skip-name-resolve"])
                .args(["--innodb-log-file-size=8M", "--innodb-buffer-pool-size=32M"])
                // Throwaway data: durability only costs time; native AIO contexts are a
                // machine-wide limit that parallel test servers can exhaust.
                .args(["--innodb-flush-log-at-trx-commit=0", "--sync-binlog=0"])
                .args(["--innodb-use-native-aio=0", "--max-connections=60"])
                // As Debian's packaged server: text is utf8mb4 unless a table says otherwise.
                .args([
                    "--character-set-server=utf8mb4",
                    "--collation-server=utf8mb4_general_ci",
                ])
                .args(extra)
                .current_dir(root);
            command
        };
        let (primary, primary_port) = start_on_free_port(
            "MariaDB primary",
            Engine::MariaDb,
            &root.join("primary.log"),
            |port| {
                server(
                    &primary_data,
                    "primary",
                    port,
                    &["--server-id=1", "--log-bin=fox-bin", "--binlog-format=ROW"],
                )
            },
            |port| mariadb_sql(port, "SELECT 1").is_ok(),
        )?;
        let (replica, replica_port) = start_on_free_port(
            "MariaDB replica",
            Engine::MariaDb,
            &root.join("replica.log"),
            |port| {
                server(
                    &replica_data,
                    "replica",
                    port,
                    &["--server-id=2", "--relay-log=fox-relay", "--read-only=ON"],
                )
            },
            |port| mariadb_sql(port, "SELECT 1").is_ok(),
        )?;
        let pair = Self {
            replica,
            primary,
            primary_port,
            replica_port,
            directory,
        };
        pair.replica_sql(&format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary_port}, \
             MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, \
             MASTER_CONNECT_RETRY=1; START SLAVE"
        ))?;
        pair.primary_sql("CREATE DATABASE fox")?;
        pair.catch_up()?;
        pair.wait_for_replication_threads()?;
        Ok(pair)
    }

    /// The pair's directory: data directories and the servers' logs (`primary.log`,
    /// `replica.log`), for a test that wants to show them; removed on drop.
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }

    /// `mysql://root@127.0.0.1:PORT/fox` of the primary.
    pub fn primary_url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/fox", self.primary_port)
    }

    /// `mysql://root@127.0.0.1:PORT/fox` of the replica.
    pub fn replica_url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}/fox", self.replica_port)
    }

    /// Port of the primary.
    pub fn primary_port(&self) -> u16 {
        self.primary_port
    }

    /// Port of the replica.
    pub fn replica_port(&self) -> u16 {
        self.replica_port
    }

    /// Runs SQL (several statements allowed) on the primary and returns the client's
    /// tab-separated output without column names.
    ///
    /// # Errors
    /// The client fails; the message quotes its stderr.
    pub fn primary_sql(&self, sql: &str) -> io::Result<String> {
        mariadb_sql(self.primary_port, sql)
    }

    /// Runs SQL (several statements allowed) on the replica and returns the client's
    /// tab-separated output without column names.
    ///
    /// # Errors
    /// The client fails; the message quotes its stderr.
    pub fn replica_sql(&self, sql: &str) -> io::Result<String> {
        mariadb_sql(self.replica_port, sql)
    }

    /// Stops the replica's SQL thread (`STOP SLAVE SQL_THREAD`): events still arrive but none
    /// is applied. MariaDB then reports `Slave_SQL_Running: No` and a NULL
    /// `Seconds_Behind_Master`: the replica is not replicating, rather than lagging.
    ///
    /// # Errors
    /// The replica does not answer.
    pub fn stop_replica_sql_thread(&self) -> io::Result<()> {
        self.replica_sql("STOP SLAVE SQL_THREAD").map(drop)
    }

    /// Starts the replica's SQL thread again (`START SLAVE SQL_THREAD`).
    ///
    /// # Errors
    /// The replica does not answer.
    pub fn start_replica_sql_thread(&self) -> io::Result<()> {
        self.replica_sql("START SLAVE SQL_THREAD").map(drop)
    }

    /// Delays replication by `seconds` (`MASTER_DELAY`; 0 turns the delay off): each event is
    /// applied `seconds` after it was written on the primary, and `Seconds_Behind_Master`
    /// grows while a written event waits. Returns once both threads run again.
    ///
    /// # Errors
    /// The replica does not answer or its threads do not restart within a minute.
    pub fn set_replica_delay(&self, seconds: u32) -> io::Result<()> {
        self.replica_sql(&format!(
            "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY={seconds}; START SLAVE"
        ))?;
        self.wait_for_replication_threads()
    }

    /// Waits until the replica has applied every transaction the primary had logged when
    /// called (`MASTER_GTID_WAIT`).
    ///
    /// # Errors
    /// Either server does not answer, or the replica is not there within a minute.
    pub fn catch_up(&self) -> io::Result<()> {
        let position = self.primary_sql("SELECT @@GLOBAL.gtid_binlog_pos")?;
        let timeout = DEADLINE.as_secs();
        let waited =
            self.replica_sql(&format!("SELECT MASTER_GTID_WAIT('{position}', {timeout})"))?;
        if waited == "0" {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "the MariaDB replica did not reach GTID {position} within {timeout} s; status:\n{}",
                    self.replica_status().unwrap_or_default()
                ),
            ))
        }
    }

    /// Stops the replica at once (killed), as if its machine went away.
    pub fn stop_replica(&mut self) {
        self.replica.stop();
    }

    /// Stops the primary at once (killed): the replica keeps serving reads, and its IO thread
    /// keeps trying to reconnect.
    pub fn stop_primary(&mut self) {
        self.primary.stop();
    }

    /// `SHOW SLAVE STATUS` of the replica, one `Field: value` a line (empty when it is not
    /// a replica).
    ///
    /// # Errors
    /// The replica does not answer.
    pub fn replica_status(&self) -> io::Result<String> {
        mariadb_client(self.replica_port, "SHOW SLAVE STATUS\\G", &[])
    }

    fn wait_for_replication_threads(&self) -> io::Result<()> {
        poll("the replica's IO and SQL threads to run", || {
            if !self.replica.is_running() {
                return Err(self
                    .replica
                    .failure("exited while connecting to the primary"));
            }
            let status = self.replica_status()?;
            let running = |field: &str| {
                status
                    .lines()
                    .filter_map(|line| line.trim().split_once(": "))
                    .any(|(name, value)| name == field && value == "Yes")
            };
            Ok(running("Slave_IO_Running") && running("Slave_SQL_Running"))
        })
    }
}

fn mariadb_program(name: &str) -> PathBuf {
    // mariadbd lives in /usr/sbin, which a non-root PATH often lacks.
    let sbin = Path::new("/usr/sbin").join(name);
    if sbin.exists() {
        sbin
    } else {
        PathBuf::from(name)
    }
}

/// Runs SQL through the `mariadb` client as `root` over TCP; output without column names.
fn mariadb_sql(port: u16, sql: &str) -> io::Result<String> {
    mariadb_client(port, sql, &["--skip-column-names"])
}

fn mariadb_client(port: u16, sql: &str, options: &[&str]) -> io::Result<String> {
    let mut client = Command::new(mariadb_program("mariadb"));
    client
        .arg("--no-defaults")
        .args(["--protocol=tcp", "--host=127.0.0.1", "--user=root"])
        .arg(format!("--port={port}"))
        .args(["--batch", "--connect-timeout=5"])
        .args(options)
        .arg("--execute")
        .arg(sql)
        .env_remove("MYSQL_PWD")
        .env_remove("MYSQL_HOST");
    run(&mut client, &format!("mariadb on port {port}: {sql}"))
}

/// How an engine's server is stopped at once.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Engine {
    Postgres,
    MariaDb,
}

impl Engine {
    /// SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its children down with
    /// it (SIGKILL would orphan them). mariadbd is one process: SIGKILL ends it.
    fn stop_signal(self) -> &'static str {
        match self {
            Self::Postgres => "QUIT",
            Self::MariaDb => "KILL",
        }
    }
}

/// A `sh` script that runs only if the test process dies first.
///
/// It blocks reading a pipe whose only writer is the test process (the write end is
/// close-on-exec, so no other child inherits it), and reads end-of-file only when the test
/// process is gone. Dropping a `Watchdog` kills it before it can act.
#[derive(Debug)]
struct Watchdog {
    child: Child,
}

impl Watchdog {
    /// Starts `script` (after the `read`) with positional `arguments` and `environment`.
    fn spawn(script: &str, arguments: &[&str], environment: &[(&str, &Path)]) -> io::Result<Self> {
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("read -r _ || :\n{script}"))
            .arg("fox-replica-watchdog")
            .args(arguments)
            .envs(environment.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group: a Ctrl-C meant for the test process ends the test
            // process, and the watchdog then does its job.
            .process_group(0)
            .spawn()
            .map_err(|e| with_context(e, "starting a watchdog sh"))?;
        Ok(Self { child })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signals the server `$2` with `$1`.
const STOP_SERVER: &str = r#"kill -s "$1" "$2" 2>/dev/null"#;

/// Removes the pair's directory once no process names it any more (the servers are stopped by
/// their own watchdogs at the same moment); gives up waiting after a minute. The directory comes
/// in the environment, so that this script's own command line does not name it.
const REMOVE_DIRECTORY: &str = r#"i=0
while [ "$i" -lt 300 ] && pgrep -f -- "$FOX_REPLICA_DIRECTORY" >/dev/null 2>&1; do
    sleep 0.2
    i=$((i + 1))
done
rm -rf -- "$FOX_REPLICA_DIRECTORY""#;

/// A pair's temporary directory: removed on drop, or by a watchdog when the test process dies.
#[derive(Debug)]
pub(crate) struct PairDirectory {
    // Fields drop in order: the watchdog is gone before the directory is removed.
    _janitor: Watchdog,
    directory: tempfile::TempDir,
}

impl PairDirectory {
    /// A temporary directory, owned by `account` when we are root (servers refuse to run as
    /// root and must write there).
    pub(crate) fn create(prefix: &str, account: &str) -> io::Result<Self> {
        let directory = tempfile::Builder::new().prefix(prefix).tempdir()?;
        if running_as_root() {
            let mut chown = Command::new("chown");
            chown.arg(format!("{account}:")).arg(directory.path());
            run(
                &mut chown,
                &format!("giving {} to {account}", directory.path().display()),
            )?;
        }
        let janitor = Watchdog::spawn(
            REMOVE_DIRECTORY,
            &[],
            &[("FOX_REPLICA_DIRECTORY", directory.path())],
        )?;
        Ok(Self {
            _janitor: janitor,
            directory,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        self.directory.path()
    }
}

/// One server process, and a watchdog that stops it if the test process dies first.
///
/// A normal stop kills the watchdog first, then signals the server, which stays our unreaped
/// child until we wait for it: its pid cannot have been reused by the time it is signalled.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    name: String,
    engine: Engine,
    log: PathBuf,
    server: Option<Child>,
    watchdog: Option<Watchdog>,
}

impl ServerProcess {
    fn spawn(name: &str, engine: Engine, mut command: Command, log: &Path) -> io::Result<Self> {
        let log_file = fs::File::create(log)?;
        let server = command
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            // Its own process group: a Ctrl-C reaches it through its watchdog only.
            .process_group(0)
            .spawn()
            .map_err(|e| with_context(e, &format!("starting the {name} ({command:?})")))?;
        let pid = server.id().to_string();
        let mut process = Self {
            name: name.to_string(),
            engine,
            log: log.to_path_buf(),
            server: Some(server),
            watchdog: None,
        };
        // On error, dropping `process` stops the server.
        process.watchdog = Some(Watchdog::spawn(
            STOP_SERVER,
            &[engine.stop_signal(), &pid],
            &[],
        )?);
        Ok(process)
    }

    pub(crate) fn is_running(&self) -> bool {
        // `try_wait` needs `&mut`; the state of /proc is as good and keeps callers simple.
        let Some(server) = &self.server else {
            return false;
        };
        fs::read_to_string(format!("/proc/{}/stat", server.id()))
            .ok()
            .and_then(|stat| {
                let state = stat
                    .rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .next()?
                    .to_string();
                Some(state != "Z" && state != "X")
            })
            .unwrap_or(false)
    }

    /// Stops the server at once and waits for it; idempotent.
    fn stop(&mut self) {
        drop(self.watchdog.take());
        let Some(mut server) = self.server.take() else {
            return;
        };
        if let Ok(None) = server.try_wait() {
            let _ = Command::new("kill")
                .args(["-s", self.engine.stop_signal()])
                .arg(server.id().to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let deadline = Instant::now() + STOP_DEADLINE;
        while let Ok(None) = server.try_wait() {
            if Instant::now() >= deadline {
                eprintln!("warning: {} ignored its stop signal; killing it", self.name);
                let _ = server.kill();
                let _ = server.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("--- last lines of {} ---\n{tail}", self.log.display())
    }

    fn failure(&self, what: &str) -> io::Error {
        io::Error::other(format!("the {} {what}\n{}", self.name, self.log_tail()))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Starts a server on a free port and waits until `ready(port)`; tries again on another port
/// when something else bound the chosen one first.
pub(crate) fn start_on_free_port(
    name: &str,
    engine: Engine,
    log: &Path,
    command: impl Fn(u16) -> Command,
    ready: impl Fn(u16) -> bool,
) -> io::Result<(ServerProcess, u16)> {
    let mut attempt = 1;
    loop {
        let port = free_port()?;
        let server = ServerProcess::spawn(name, engine, command(port), log)?;
        let started = poll(&format!("the {name} to accept connections"), || {
            if server.is_running() {
                Ok(ready(port))
            } else {
                Err(server.failure("exited while starting"))
            }
        });
        match started {
            Ok(()) => return Ok((server, port)),
            Err(_) if attempt < PORT_ATTEMPTS && server.log_tail().contains("already in use") => {
                attempt += 1;
            }
            Err(error) if server.is_running() => {
                return Err(io::Error::new(
                    error.kind(),
                    format!("{error}\n{}", server.log_tail()),
                ));
            }
            Err(error) => return Err(error),
        }
    }
}

/// Calls `check` until it returns `true`, failing after [`DEADLINE`] or on its first error other
/// than a failed client run (`ConnectionRefused`, expected while a server starts).
fn poll(what: &str, mut check: impl FnMut() -> io::Result<bool>) -> io::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    let mut last_error = None;
    loop {
        match check() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
                last_error = Some(error);
            }
            Err(error) => return Err(error),
        }
        if Instant::now() >= deadline {
            let last = last_error.map(|e| format!("; last error: {e}"));
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "timed out after {} s waiting for {what}{}",
                    DEADLINE.as_secs(),
                    last.unwrap_or_default()
                ),
            ));
        }
        std::thread::sleep(POLL);
    }
}

/// Runs a command to completion and returns its trimmed stdout. A failed run is an error of
/// kind `ConnectionRefused` (a client is expected to fail while its server starts; [`poll`]
/// retries those); a program that cannot be started is `NotFound`.
pub(crate) fn run(command: &mut Command, what: &str) -> io::Result<String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| with_context(e, &format!("{what}: cannot run {command:?}")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!(
                "{what}: {} ({})\n{}",
                output.status,
                command.get_program().to_string_lossy(),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ))
    }
}

fn with_context(error: io::Error, what: &str) -> io::Error {
    io::Error::new(error.kind(), format!("{what}: {error}"))
}

/// A loopback port no one listens on now.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

fn running_as_root() -> bool {
    // /proc/self belongs to the process's effective user.
    fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program` run as `account` through `setpriv` (which execs it, so the child's pid is the
/// program's), or as ourselves when `account` is `None`.
fn as_account(account: Option<&str>, program: PathBuf) -> Command {
    match account {
        Some(account) => {
            let mut command = Command::new("setpriv");
            command
                .arg(format!("--reuid={account}"))
                .arg(format!("--regid={account}"))
                .arg("--init-groups")
                .arg("--")
                .arg(program);
            command
        }
        None => Command::new(program),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_pids(directory: &Path) -> Vec<String> {
        // Every process whose command line names the pair's directory.
        let needle = directory.to_string_lossy().into_owned();
        fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
                let cmdline = fs::read(entry.path().join("cmdline")).ok()?;
                (pid != std::process::id() && String::from_utf8_lossy(&cmdline).contains(&needle))
                    .then(|| pid.to_string())
            })
            .collect()
    }

    #[test]
    fn postgres_pair_replicates_and_leaves_nothing_behind() {
        let started = Instant::now();
        let mut pair = PostgresPair::start().unwrap();
        eprintln!("PostgresPair::start took {:?}", started.elapsed());
        let directory = pair.directory().to_path_buf();

        pair.primary_sql("CREATE TABLE t (id int); INSERT INTO t VALUES (1)")
            .unwrap();
        pair.catch_up().unwrap();
        assert_eq!(pair.replica_sql("SELECT count(*) FROM t").unwrap(), "1");
        assert_eq!(pair.replica_sql("SELECT pg_is_in_recovery()").unwrap(), "t");

        pair.stop_replica();
        assert!(pair.replica_sql("SELECT 1").is_err());
        assert!(
            !server_pids(&directory).is_empty(),
            "the primary still runs"
        );
        drop(pair);
        assert_eq!(server_pids(&directory), Vec::<String>::new());
        assert!(!directory.exists());
    }

    #[test]
    fn mariadb_pair_replicates_and_leaves_nothing_behind() {
        let started = Instant::now();
        let mut pair = MariaDbPair::start().unwrap();
        eprintln!("MariaDbPair::start took {:?}", started.elapsed());
        let directory = pair.directory().to_path_buf();

        pair.primary_sql("CREATE TABLE fox.t (id int PRIMARY KEY); INSERT INTO fox.t VALUES (1)")
            .unwrap();
        pair.catch_up().unwrap();
        assert_eq!(pair.replica_sql("SELECT count(*) FROM fox.t").unwrap(), "1");
        assert_eq!(pair.replica_sql("SELECT @@read_only").unwrap(), "1");

        pair.stop_replica();
        assert!(pair.replica_sql("SELECT 1").is_err());
        drop(pair);
        assert_eq!(server_pids(&directory), Vec::<String>::new());
        assert!(!directory.exists());
    }

    #[test]
    fn watchdogs_clean_up_after_a_test_process_that_died() {
        // Closing our end of a watchdog's pipe is what the kernel does when the test process
        // dies. A `sleep` stands in for a server.
        let directory = PairDirectory::create("fox-replica-test-", "postgres").unwrap();
        let mut sleeper = Command::new("sleep");
        sleeper.arg("300");
        let mut process = ServerProcess::spawn(
            "sleeper",
            Engine::MariaDb,
            sleeper,
            &directory.path().join("log"),
        )
        .unwrap();
        assert!(process.is_running());
        drop(process.watchdog.as_mut().unwrap().child.stdin.take());
        let server = process.server.as_mut().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while server.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "the watchdog did not stop the server"
            );
            std::thread::sleep(Duration::from_millis(10));
        }

        let path = directory.path().to_path_buf();
        let mut janitor = directory._janitor;
        drop(janitor.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while path.exists() {
            assert!(
                Instant::now() < deadline,
                "the watchdog did not remove {path:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}
