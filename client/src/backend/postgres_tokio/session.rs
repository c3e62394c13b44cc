//! One tokio-postgres connection: its driving task, the statements it has prepared (kept per
//! statement text and parameter types, as sqlx keeps them), and the statements foxdb runs on it.

use std::pin::pin;

use rustc_hash::FxHashMap;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Statement};

use super::errors::driver_error;
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
        Ok(Self {
            client: open(config, tls, None).await?,
            prepared: FxHashMap::default(),
            generation: 0,
        })
    }

    /// Whether the connection ended (the server closed it, or it broke).
    pub(crate) fn is_closed(&self) -> bool {
        self.client.is_closed()
    }

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

    /// Runs a query, handing each row to `each` as it arrives.
    ///
    /// # Errors
    /// The driver's, or the first `each` returns.
    pub(crate) async fn for_each_row(
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

    /// Runs a statement; returns the rows it affected (no insert ids: that is MySQL's).
    pub(crate) async fn execute(
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

    /// Runs statements without parameters in one round trip (the simple query protocol):
    /// `BEGIN`, `COMMIT`, savepoints.
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        self.client.batch_execute(sql).await.map_err(driver_error)
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

/// Opens a connection with `config` (encrypted when `tls` is given) and spawns the task that
/// drives it; the payloads of the notifications it receives go to `notifications`, in the order
/// they arrive, when given (a listener's connection), and are dropped otherwise.
pub(super) async fn open(
    config: &tokio_postgres::Config,
    tls: Option<&super::tls::MakeRustls>,
    notifications: Option<tokio::sync::mpsc::UnboundedSender<String>>,
) -> Result<Client, sqlx::Error> {
    Ok(match tls {
        Some(tls) => {
            let (client, connection) = config.connect(tls.clone()).await.map_err(driver_error)?;
            tokio::spawn(drive(connection, notifications));
            client
        }
        None => {
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .map_err(driver_error)?;
            tokio::spawn(drive(connection, notifications));
            client
        }
    })
}

/// Drives the connection until it ends, handing notifications to `notifications` (the channel
/// closes when the connection ends: how a listener learns it dropped).
async fn drive<S, T>(
    mut connection: tokio_postgres::Connection<S, T>,
    notifications: Option<tokio::sync::mpsc::UnboundedSender<String>>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
            Some(Ok(tokio_postgres::AsyncMessage::Notice(notice))) => {
                tracing::debug!(target: "foxdb::postgres", %notice, "server notice");
            }
            Some(Ok(tokio_postgres::AsyncMessage::Notification(notification))) => {
                if let Some(sender) = &notifications {
                    // The listener is gone: nobody waits for the payload.
                    let _ = sender.send(notification.payload().to_string());
                }
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                tracing::debug!(target: "foxdb::postgres", %error, "connection ended");
                return;
            }
            None => return,
        }
    }
}
