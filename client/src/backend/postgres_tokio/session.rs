//! One tokio-postgres connection: its I/O (driven by the statements run on it, see
//! [`super::link`]), the statements it has prepared (kept per statement text and parameter
//! types, as sqlx keeps them), and the statements foxdb runs on it.

use std::pin::pin;

use rustc_hash::FxHashMap;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Statement};

use super::errors::driver_error;
use super::link::{Driver, Link};
use super::params::{Parameter, parameter_oid, parameter_type};
use crate::connection::{StatementValues, Value};
use crate::executor::Executed;

/// Prepared statements kept per connection; past this the oldest half is closed.
const KEPT_STATEMENTS: usize = 512;

/// A prepared statement and the parameter types it was prepared with.
#[derive(Debug)]
struct Prepared {
    oids: Box<[u32]>,
    statement: Statement,
    /// When it was prepared, in this connection's count (to close the oldest first).
    generation: u64,
}

/// An open connection.
#[derive(Debug)]
pub(crate) struct Session {
    // Before `driver`: dropped first, so that the connection, handed to a task when the
    // driver drops, sees its requests' channel closed and ends.
    statements: Statements,
    driver: Driver,
}

/// The connection's `Client` and what it has prepared.
#[derive(Debug)]
struct Statements {
    client: Client,
    prepared: FxHashMap<Box<str>, Prepared>,
    generation: u64,
}

impl Session {
    /// Opens a connection with `config`, encrypted when `tls` is given (`prefer` falls back to
    /// plain text when the server offers no TLS, as `config`'s mode says).
    pub(crate) async fn connect(
        config: &tokio_postgres::Config,
        tls: Option<&super::tls::MakeRustls>,
    ) -> Result<Self, sqlx::Error> {
        let (client, link) = connect(config, tls).await?;
        Ok(Self {
            statements: Statements {
                client,
                prepared: FxHashMap::default(),
                generation: 0,
            },
            driver: Driver::new(link),
        })
    }

    /// Whether the connection ended (the server closed it, or it broke), as last seen: see
    /// [`Session::refresh`].
    pub(crate) fn is_closed(&self) -> bool {
        self.driver.is_ended() || self.statements.client.is_closed()
    }

    /// Whether the last statement was given up before it finished (its future dropped, as a
    /// timeout drops it): the server may still be sending its reply.
    pub(crate) fn is_interrupted(&self) -> bool {
        self.driver.is_interrupted()
    }

    /// Reads what the server sent since the last statement (a connection it closed is then
    /// [`Session::is_closed`]); costs nothing when it sent nothing.
    pub(crate) fn refresh(&mut self) {
        self.driver.refresh();
    }

    /// Runs a query, handing each row to `each` as it arrives.
    ///
    /// # Errors
    /// The driver's, or the first `each` returns.
    pub(crate) async fn for_each_row(
        &mut self,
        sql: &str,
        values: &(impl StatementValues + ?Sized),
        each: impl FnMut(tokio_postgres::Row) -> Result<(), sqlx::Error>,
    ) -> Result<(), sqlx::Error> {
        self.driver
            .run(self.statements.for_each_row(sql, values, each))
            .await
    }

    /// Runs a statement; returns the rows it affected (no insert ids: that is MySQL's).
    pub(crate) async fn execute(
        &mut self,
        sql: &str,
        values: &(impl StatementValues + ?Sized),
    ) -> Result<Executed, sqlx::Error> {
        self.driver.run(self.statements.execute(sql, values)).await
    }

    /// Runs statements without parameters in one round trip (the simple query protocol):
    /// `BEGIN`, `COMMIT`, savepoints.
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        self.driver
            .run(self.statements.client.batch_execute(sql))
            .await
            .map_err(driver_error)
    }

    /// Runs statements without parameters as plain text (the simple query protocol) and reads
    /// `column` of every row they return, as the server sends it (as text).
    ///
    /// # Errors
    /// The driver's; [`sqlx::Error::ColumnNotFound`] without the column; a decode error for a
    /// NULL.
    pub(crate) async fn text_column(
        &mut self,
        sql: &str,
        column: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        self.driver
            .run(self.statements.text_column(sql, column))
            .await
    }

    /// A round trip that checks the connection still works.
    pub(crate) async fn ping(&mut self) -> Result<(), sqlx::Error> {
        self.batch("").await
    }

    /// Runs `statement` (`COPY ... FROM STDIN`) and sends `data` (the COPY text format);
    /// returns the rows loaded. A failure part-way aborts the COPY: no row is loaded.
    pub(crate) async fn copy_in(
        &mut self,
        statement: &str,
        data: &str,
    ) -> Result<u64, sqlx::Error> {
        self.driver
            .run(self.statements.copy_in(statement, data))
            .await
    }
}

impl Statements {
    /// The statement `sql` prepared for `values`' types: the kept one, else prepared now.
    async fn prepared(
        &mut self,
        sql: &str,
        values: &(impl StatementValues + ?Sized),
    ) -> Result<Statement, sqlx::Error> {
        if let Some(kept) = self.prepared.get(sql)
            && kept.oids.len() == values.count()
            && kept
                .oids
                .iter()
                .zip(values.each())
                .all(|(oid, value)| *oid == parameter_oid(value))
        {
            return Ok(kept.statement.clone());
        }
        let types: Vec<Type> = values.each().map(parameter_type).collect();
        // Boxed: preparing is the rare path (see the pool's checkout).
        let statement = Box::pin(self.client.prepare_typed(sql, &types))
            .await
            .map_err(driver_error)?;
        if self.prepared.len() >= KEPT_STATEMENTS {
            self.close_oldest_half();
        }
        self.generation += 1;
        self.prepared.insert(
            sql.into(),
            Prepared {
                oids: values.each().map(parameter_oid).collect(),
                statement: statement.clone(),
                generation: self.generation,
            },
        );
        Ok(statement)
    }

    /// Forgets the older half of the kept statements (tokio-postgres closes a statement on the
    /// server when its last handle goes).
    fn close_oldest_half(&mut self) {
        let mut generations: Vec<u64> = self.prepared.values().map(|p| p.generation).collect();
        let middle = generations.len() / 2;
        let (_, cutoff, _) = generations.select_nth_unstable(middle);
        let cutoff = *cutoff;
        self.prepared
            .retain(|_, prepared| prepared.generation > cutoff);
    }

    /// [`Session::for_each_row`].
    async fn for_each_row(
        &mut self,
        sql: &str,
        values: &(impl StatementValues + ?Sized),
        mut each: impl FnMut(tokio_postgres::Row) -> Result<(), sqlx::Error>,
    ) -> Result<(), sqlx::Error> {
        let statement = self.prepared(sql, values).await?;
        let rows = self
            .client
            .query_raw(&statement, values.each().map(Parameter))
            .await
            .map_err(driver_error)?;
        let mut rows = pin!(rows);
        while let Some(row) =
            std::future::poll_fn(|cx| futures_core::Stream::poll_next(rows.as_mut(), cx)).await
        {
            each(row.map_err(driver_error)?)?;
        }
        Ok(())
    }

    /// [`Session::execute`].
    async fn execute(
        &mut self,
        sql: &str,
        values: &(impl StatementValues + ?Sized),
    ) -> Result<Executed, sqlx::Error> {
        let statement = self.prepared(sql, values).await?;
        self.client
            .execute_raw(&statement, values.each().map(Parameter))
            .await
            .map(|rows_affected| Executed {
                rows_affected,
                last_insert_id: None,
            })
            .map_err(driver_error)
    }

    /// [`Session::text_column`].
    async fn text_column(&mut self, sql: &str, column: &str) -> Result<Vec<String>, sqlx::Error> {
        let messages = self.client.simple_query(sql).await.map_err(driver_error)?;
        let mut texts = Vec::new();
        for message in messages {
            let tokio_postgres::SimpleQueryMessage::Row(row) = message else {
                continue;
            };
            let index = row
                .columns()
                .iter()
                .position(|c| c.name() == column)
                .ok_or_else(|| sqlx::Error::ColumnNotFound(column.to_string()))?;
            let text = row.get(index).ok_or_else(|| sqlx::Error::ColumnDecode {
                index: column.to_string(),
                source: "unexpected NULL".into(),
            })?;
            texts.push(text.to_string());
        }
        Ok(texts)
    }

    /// [`Session::copy_in`].
    async fn copy_in(&mut self, statement: &str, data: &str) -> Result<u64, sqlx::Error> {
        use futures_util::SinkExt as _;
        // Kept prepared like any statement: a repeated COPY skips the round trip that
        // prepares it.
        let statement = self.prepared(statement, &[] as &[Value]).await?;
        let sink = self
            .client
            .copy_in::<_, bytes::Bytes>(&statement)
            .await
            .map_err(driver_error)?;
        let mut sink = pin!(sink);
        sink.send(bytes::Bytes::copy_from_slice(data.as_bytes()))
            .await
            .map_err(driver_error)?;
        sink.as_mut().finish().await.map_err(driver_error)
    }
}

/// Opens a connection with `config` (encrypted when `tls` is given): its `Client`, and the I/O
/// the caller drives.
async fn connect(
    config: &tokio_postgres::Config,
    tls: Option<&super::tls::MakeRustls>,
) -> Result<(Client, Link), sqlx::Error> {
    Ok(match tls {
        Some(tls) => {
            let (client, connection) = config.connect(tls.clone()).await.map_err(driver_error)?;
            (client, Link::Tls(connection))
        }
        None => {
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(driver_error)?;
            (client, Link::Plain(connection))
        }
    })
}

/// Opens a listener's connection with `config` (encrypted when `tls` is given) and spawns the
/// task that drives it, handing the payloads of its notifications to `notifications`
/// ([`Link::drive_to_end`]).
pub(super) async fn open_listening(
    config: &tokio_postgres::Config,
    tls: Option<&super::tls::MakeRustls>,
    notifications: tokio::sync::mpsc::UnboundedSender<String>,
) -> Result<Client, sqlx::Error> {
    let (client, link) = connect(config, tls).await?;
    tokio::spawn(link.drive_to_end(Some(notifications)));
    Ok(client)
}
