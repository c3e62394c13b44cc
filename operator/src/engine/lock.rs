//! The database lock that serialises appliers: a PostgreSQL advisory lock, MySQL `GET_LOCK`, or
//! for SQLite the exclusive transaction the whole apply runs in.
//!
//! # Guarantees
//! Locks are session-scoped: a crashed applier's lock goes away with its connection, so no lock
//! outlives its holder. A waiter gives up after the timeout and says who holds the lock.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use foxdb::dialect::dialect_for;
use foxdb::{Backend, Connection, Value};

use super::clock::{applier_identity, now_rfc3339};
use super::error::EngineError;

/// Advisory lock key: "foxDB" in ASCII.
const ADVISORY_KEY: i64 = 0x66_6f_78_44_42;
const POLL: Duration = Duration::from_millis(100);

/// A held lock; release it with [`DatabaseLock::release`].
#[derive(Debug)]
pub struct DatabaseLock {
    backend: Backend,
    name: String,
    holder_file: Option<PathBuf>,
}

/// Name of the MySQL lock for a database (`GET_LOCK` names are server-wide).
fn mysql_lock_name(database: &str) -> String {
    let name = format!("foxdb:{database}");
    if name.chars().count() <= 64 {
        return name;
    }
    // GET_LOCK names hold 64 characters: keep a prefix and a hash of the whole name.
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let prefix: String = name.chars().take(47).collect();
    format!("{prefix}:{hash:016x}")
}

/// Takes the lock, waiting up to `timeout`. For SQLite this begins the exclusive transaction
/// the apply then runs in; `sqlite_path` is the database file.
///
/// # Errors
/// [`EngineError::LockTimeout`] naming the holder; database errors.
pub async fn acquire_lock(
    connection: &mut Connection,
    database: &str,
    sqlite_path: Option<&str>,
    timeout: Duration,
) -> Result<DatabaseLock, EngineError> {
    let backend = connection.backend();
    let started = Instant::now();
    match backend {
        Backend::Postgres => loop {
            let got = connection
                .fetch_i64(
                    "SELECT CASE WHEN pg_try_advisory_lock($1) THEN 1 ELSE 0 END::bigint",
                    &[Value::Int(ADVISORY_KEY)],
                )
                .await?;
            if got == 1 {
                return Ok(DatabaseLock {
                    backend,
                    name: ADVISORY_KEY.to_string(),
                    holder_file: None,
                });
            }
            if started.elapsed() >= timeout {
                let holder = postgres_holder(connection).await;
                return Err(EngineError::LockTimeout {
                    database: database.into(),
                    waited: timeout,
                    holder,
                });
            }
            tokio::time::sleep(POLL).await;
        },
        Backend::MySql => {
            let name = mysql_lock_name(database);
            let seconds = timeout.as_secs_f64().max(0.0);
            let got = connection
                .fetch_i64(
                    "SELECT CAST(COALESCE(GET_LOCK(?, ?), 0) AS SIGNED)",
                    &[Value::Text(name.clone()), Value::Float(seconds)],
                )
                .await?;
            if got != 1 {
                let holder = mysql_holder(connection, &name).await;
                return Err(EngineError::LockTimeout {
                    database: database.into(),
                    waited: timeout,
                    holder,
                });
            }
            Ok(DatabaseLock {
                backend,
                name,
                holder_file: None,
            })
        }
        Backend::Sqlite => {
            connection
                .execute(&format!("PRAGMA busy_timeout = {}", timeout.as_millis()))
                .await?;
            let holder_file = sqlite_path.map(|p| PathBuf::from(format!("{p}.fox-lock")));
            if let Err(error) = connection.begin_exclusive().await {
                let message = error.to_string();
                if message.contains("locked") || message.contains("busy") {
                    let holder = holder_file
                        .as_ref()
                        .and_then(|f| std::fs::read_to_string(f).ok())
                        .map(|h| h.trim().to_string())
                        .unwrap_or_else(|| "another writer (not recorded)".into());
                    return Err(EngineError::LockTimeout {
                        database: database.into(),
                        waited: timeout,
                        holder,
                    });
                }
                return Err(error.into());
            }
            if let Some(file) = &holder_file {
                // Best effort: only used to tell a waiter who holds the lock.
                let _ = std::fs::write(
                    file,
                    format!("{} since {}\n", applier_identity(), now_rfc3339()),
                );
            }
            Ok(DatabaseLock {
                backend,
                name: database.into(),
                holder_file,
            })
        }
    }
}

impl DatabaseLock {
    /// Records who holds the lock where the engine cannot tell by itself (MySQL). Call once the
    /// bookkeeping tables exist.
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_holder(&self, connection: &mut Connection) -> Result<(), EngineError> {
        // Only MySQL cannot tell who holds a `GET_LOCK` beyond a connection id.
        let records = match self.backend {
            Backend::MySql => true,
            Backend::Postgres | Backend::Sqlite => false,
        };
        if records {
            let upsert = format!(
                "INSERT INTO `_fox_lock_holder` (`lock_name`, `holder`, `acquired_at`) VALUES (?, ?, ?){}",
                dialect_for(self.backend).upsert_clause(
                    &["lock_name".into()],
                    &["holder".into(), "acquired_at".into()]
                )
            );
            connection
                .execute_with(
                    &upsert,
                    &[
                        Value::Text(self.name.clone()),
                        Value::Text(applier_identity()),
                        Value::Text(now_rfc3339()),
                    ],
                )
                .await?;
        }
        Ok(())
    }

    /// Releases the lock. For SQLite the caller ends the transaction first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn release(self, connection: &mut Connection) -> Result<(), EngineError> {
        match self.backend {
            Backend::Postgres => {
                connection
                    .fetch_i64(
                        "SELECT CASE WHEN pg_advisory_unlock($1) THEN 1 ELSE 0 END::bigint",
                        &[Value::Int(ADVISORY_KEY)],
                    )
                    .await?;
            }
            Backend::MySql => {
                connection
                    .fetch_i64(
                        "SELECT CAST(COALESCE(RELEASE_LOCK(?), 0) AS SIGNED)",
                        &[Value::Text(self.name.clone())],
                    )
                    .await?;
            }
            Backend::Sqlite => {
                if let Some(file) = &self.holder_file {
                    let _ = std::fs::remove_file(file);
                }
            }
        }
        Ok(())
    }
}

async fn postgres_holder(connection: &mut Connection) -> String {
    let sql = "SELECT a.pid::text, COALESCE(a.application_name, ''), COALESCE(host(a.client_addr), 'local socket'), \
               to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
               FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
               WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND ((l.classid::bigint << 32) | l.objid::bigint) = $1 LIMIT 1";
    match connection
        .fetch_text_rows(sql, &[Value::Int(ADVISORY_KEY)])
        .await
    {
        Ok(rows) => rows
            .first()
            .map(|row| {
                let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
                format!(
                    "{} (server pid {}, from {}, connected since {})",
                    field(1),
                    field(0),
                    field(2),
                    field(3)
                )
            })
            .unwrap_or_else(|| "unknown (released while checking)".into()),
        Err(error) => format!("unknown ({error})"),
    }
}

async fn mysql_holder(connection: &mut Connection, name: &str) -> String {
    let recorded = connection
        .fetch_text_rows(
            "SELECT CAST(`holder` AS CHAR), CAST(`acquired_at` AS CHAR) FROM `_fox_lock_holder` WHERE `lock_name` = ?",
            &[Value::Text(name.into())],
        )
        .await
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .map(|row| format!("{} since {}", row[0].clone().unwrap_or_default(), row[1].clone().unwrap_or_default()));
    let session = connection
        .fetch_text_rows(
            "SELECT CAST(p.ID AS CHAR), CAST(p.USER AS CHAR), CAST(p.HOST AS CHAR) FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
            &[Value::Text(name.into())],
        )
        .await
        .ok()
        .and_then(|rows| rows.into_iter().next())
        .map(|row| format!("connection {} of {}@{}", row[0].clone().unwrap_or_default(), row[1].clone().unwrap_or_default(), row[2].clone().unwrap_or_default()));
    match (recorded, session) {
        (Some(recorded), Some(session)) => format!("{recorded}; {session}"),
        (None, Some(session)) => session,
        (Some(recorded), None) => recorded,
        (None, None) => "unknown (released while checking)".into(),
    }
}
