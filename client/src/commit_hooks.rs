//! What happens after a write commits: the session's reads must see it (read-your-writes on
//! a database with replicas), and the cache versions of the tables it wrote are bumped.
//!
//! A statement on the pool commits by itself, so its hooks run at once; a transaction
//! collects what its statements wrote and runs them once after `COMMIT` (also after a
//! `COMMIT` that failed: it may have committed before the connection broke). A rolled-back
//! transaction runs none.

use std::sync::Arc;

/// The hooks of one transaction or pool statement.
#[derive(Debug, Default)]
pub(crate) struct CommitHooks {
    /// Read-your-writes session to mark.
    pub session: Option<Arc<crate::router::Session>>,
    /// Query cache and database identity (`engine:name`) whose versions to bump.
    #[cfg(feature = "cache")]
    pub cache: Option<(crate::cache::QueryCache, Arc<str>)>,
    #[cfg(feature = "cache")]
    pub written: Vec<String>,
    #[cfg(feature = "cache")]
    pub unknown_write: bool,
}

impl CommitHooks {
    /// Notes a statement that ran: what it writes, if anything.
    pub(crate) fn note_statement(&mut self, sql: &str) {
        #[cfg(feature = "cache")]
        if self.cache.is_some() {
            match crate::cache::tables::tables_written(sql) {
                crate::cache::tables::Written::Nothing => {}
                crate::cache::tables::Written::Tables(tables) => {
                    for table in tables {
                        if !self.written.contains(&table) {
                            self.written.push(table);
                        }
                    }
                }
                crate::cache::tables::Written::Unknown => self.unknown_write = true,
            }
        }
        #[cfg(not(feature = "cache"))]
        let _ = sql;
    }

    /// Runs the hooks: the write is committed.
    pub(crate) async fn committed(self) {
        if let Some(session) = &self.session {
            session.note_write();
        }
        #[cfg(feature = "cache")]
        if let Some((cache, database)) = &self.cache {
            if self.unknown_write {
                cache.bump(database, None).await;
            } else if !self.written.is_empty() {
                cache.bump(database, Some(&self.written)).await;
            }
        }
    }
}
