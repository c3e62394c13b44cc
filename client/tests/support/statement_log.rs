//! An executor that runs statements on a [`Database`] and notes, for each, its SQL and how many
//! rows the database sent back: what a test reads to see that a limit was applied in SQL and not
//! after fetching.

use foxdb::{Backend, Database, Executed, Executor, Result, Row, Value};

/// One statement run through a [`StatementLog`].
#[derive(Clone, Debug)]
pub struct Logged {
    /// The statement text.
    pub sql: String,
    /// Rows the database returned.
    pub rows: usize,
}

/// Runs statements on a [`Database`] and keeps a [`Logged`] entry for each query; pass it as
/// `&mut log` wherever an executor is taken.
#[derive(Debug)]
pub struct StatementLog<'a> {
    db: &'a Database,
    /// The queries run so far, in order.
    pub queries: Vec<Logged>,
}

impl<'a> StatementLog<'a> {
    /// An empty log running on `db`.
    pub fn new(db: &'a Database) -> Self {
        Self {
            db,
            queries: Vec::new(),
        }
    }

    /// The one logged query that read `table` (`FROM "posts"`, ``FROM `posts` ``).
    ///
    /// # Panics
    /// When no query or several read it.
    pub fn only_query_reading(&self, table: &str) -> &Logged {
        let froms = [format!("FROM \"{table}\""), format!("FROM `{table}`")];
        let reading: Vec<&Logged> = self
            .queries
            .iter()
            .filter(|q| froms.iter().any(|from| q.sql.contains(from.as_str())))
            .collect();
        match reading.as_slice() {
            [only] => only,
            _ => panic!("one query reading {table}: {:#?}", self.queries),
        }
    }
}

impl Executor for StatementLog<'_> {
    fn backend(&self) -> Backend {
        self.db.backend()
    }

    async fn fetch_all(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>> {
        let rows = self.db.fetch_all(sql, values).await?;
        self.queries.push(Logged {
            sql: sql.to_string(),
            rows: rows.len(),
        });
        Ok(rows)
    }

    async fn execute(&mut self, sql: &str, values: &[Value]) -> Result<Executed> {
        let mut db = self.db;
        Executor::execute(&mut db, sql, values).await
    }
}
