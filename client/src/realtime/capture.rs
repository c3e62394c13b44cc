//! The engine seam of real-time subscriptions: how one engine captures row changes into the
//! durable change log (`_fox_changes`), wakes readers, numbers changes without gaps, and turns
//! logged row images back into rows. One `impl ChangeCapture` per engine, reached through
//! [`crate::dialect::Dialect::change_capture`].

use crate::Backend;
use crate::schema::Table;

/// The change log every captured table writes to.
pub const CHANGE_LOG: &str = "_fox_changes";

/// The one-row table holding the last position handed out (MySQL/MariaDB, which number changes
/// after commit).
pub const CHANGE_HEAD: &str = "_fox_changes_head";

/// Durable named subscribers: each one's name and acknowledged position.
pub const SUBSCRIBERS: &str = "_fox_subscribers";

/// The `LISTEN` channel PostgreSQL's capture notifies.
pub const NOTIFY_CHANNEL: &str = "fox_changes";

/// How a reader learns that something new may be in the change log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// `LISTEN` on the channel: capture `pg_notify`s it at commit, with a change whole or a
    /// position to read from ([`ChangeCapture::notified_change`]).
    Notify(&'static str),
    /// Poll this query (one integer) with adaptive intervals and read when its value
    /// changes: SQLite's `PRAGMA data_version` changes when another connection commits.
    Version(&'static str),
    /// Poll by reading ([`ChangeCapture::read_changes`] is one cheap round trip that also
    /// numbers what committed), with adaptive intervals: MySQL/MariaDB.
    Read,
}

/// How committed changes get their positions, so that positions never skip a late commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Numbering {
    /// The log's row id is the position and ids are handed out in commit order: one writer at a
    /// time (SQLite).
    AtWrite,
    /// The writing transaction takes its positions at commit, under a lock that orders
    /// commits (PostgreSQL's deferred trigger): readers only read. `leftovers` numbers changes
    /// an earlier capture left without a position; the reader runs it when it connects.
    AtCommit {
        /// Numbers leftover unnumbered changes (after commit, under the same lock).
        leftovers: &'static str,
    },
    /// [`ChangeCapture::read_changes`] first numbers committed, unnumbered changes after the
    /// highest position (in its own short transaction holding the head row's lock, so
    /// numberings never interleave; a transaction still open is neither seen nor waited for),
    /// then reads: MySQL/MariaDB's stored procedure.
    OnRead,
}

/// A query that turns a JSON array of logged row images (bound once where the text says
/// `{images}`) into rows of the table, one per image in order, with its columns named as the
/// table's. Written as `SELECT ... FROM (<source>) AS t ORDER BY t._fox_n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSource {
    /// Text before the bound images.
    pub before: String,
    /// Text after the bound images.
    pub after: String,
}

/// A live column as the engine names its type: what [`ChangeCapture::image_source`] needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveColumn {
    /// Column name.
    pub name: String,
    /// Native type as the engine reports it (`bigint(20)`, `BLOB`, `text`).
    pub native_type: String,
}

/// Change capture on one engine: SQL only, no connections. The reader
/// ([`crate::realtime`]) runs what this says.
///
/// # Guarantees
/// Every implementation keeps the same contract: each committed insert, update and delete of
/// a captured table lands in [`CHANGE_LOG`] in the writing transaction (a rolled-back write
/// leaves nothing), and readers see positions only after every change with a lower position
/// is visible ([`Numbering`]).
pub trait ChangeCapture: Send + Sync + std::fmt::Debug {
    /// The engine.
    fn backend(&self) -> Backend;

    /// The capture design in words, for plans and docs (`triggers + pg_notify`).
    fn design(&self) -> &'static str;

    /// Statements creating the change log, its head and helper routines; safe to repeat.
    fn create_log(&self) -> Vec<String>;

    /// Statements installing capture on `table` (replacing an earlier install, so they also
    /// refresh capture after the table's columns changed); safe to repeat.
    fn install(&self, table: &Table) -> Vec<String>;

    /// Statements removing capture from `table`; the logged changes stay.
    fn remove(&self, table: &str) -> Vec<String>;

    /// A query listing the captured tables of the current database (one text column). It
    /// must succeed when the change log does not exist.
    fn captured_tables(&self) -> &'static str;

    /// A query listing a table's columns with their native types (two text columns), bound
    /// with the table name; no rows when the table does not exist.
    fn live_columns(&self) -> &'static str;

    /// How readers are woken.
    fn wake(&self) -> Wake;

    /// The change a [`Wake::Notify`] notification carries whole, when it does: a reader that
    /// has delivered every position before it delivers it without reading the log. `None`
    /// (every engine without notifications, and a notification of a position only): read.
    fn notified_change(&self, _payload: &str) -> Option<super::RawChange> {
        None
    }

    /// How changes are numbered.
    fn numbering(&self) -> Numbering;

    /// Reads changes after a position: bound with the position, then `limit`; `{tables}` is
    /// replaced by [`ChangeCapture::table_filter`]. Columns: position
    /// (integer), table, operation, primary key, old row, new row (JSON text), transaction id
    /// (text or NULL), commit time (RFC 3339 text, UTC), in position order.
    fn read_changes(&self) -> &'static str;

    /// The highest position so far (one integer; 0 for an empty log).
    fn head_position(&self) -> &'static str;

    /// Deletes numbered changes committed before a time (bound once, RFC 3339 UTC text) and
    /// at or below every durable subscriber's acknowledged position ([`SUBSCRIBERS`]);
    /// `{tables}` is replaced by [`in_tables`] (one table's retention) or nothing.
    fn prune(&self) -> &'static str;

    /// Creates [`SUBSCRIBERS`] (`name`, `acknowledged`, `acknowledged_at`); safe to repeat.
    fn create_subscribers(&self) -> &'static str;

    /// Registers a durable subscriber unless it exists: bound with the name, then the position
    /// it starts after.
    fn register_subscriber(&self) -> &'static str;

    /// Moves a subscriber's acknowledged position forward (never back): bound with the
    /// position, then the name.
    fn acknowledge_subscriber(&self) -> &'static str;

    /// The rows of `table` (with `columns`) that a JSON array of its logged images stands for.
    fn image_source(&self, table: &str, columns: &[LiveColumn]) -> ImageSource;

    /// What replaces `{tables}` in [`ChangeCapture::read_changes`] to read only `tables`
    /// (every table when empty): [`in_tables`] by default.
    fn table_filter(&self, tables: &[String]) -> String {
        in_tables(self.backend(), tables)
    }

    /// Placeholder for the `n`-th parameter (1-based), as the engine's dialect writes it.
    fn placeholder(&self, n: usize) -> String {
        crate::dialect::dialect_for(self.backend()).placeholder(n)
    }
}

/// ` AND table_name IN ('a', 'b')` on `backend`, or nothing when `tables` is empty.
pub fn in_tables(backend: Backend, tables: &[String]) -> String {
    if tables.is_empty() {
        return String::new();
    }
    let dialect = crate::dialect::dialect_for(backend);
    let names: Vec<String> = tables.iter().map(|t| dialect.string_literal(t)).collect();
    format!(
        " AND {} IN ({})",
        dialect.quote("table_name"),
        names.join(", ")
    )
}

/// The capture of `backend` (through its dialect).
pub fn capture_for(backend: Backend) -> &'static dyn ChangeCapture {
    crate::dialect::dialect_for(backend).change_capture()
}

/// What the row trigger for `event` (`INSERT`, `UPDATE`, `DELETE`) records: the operation's
/// name in the log, the row its primary key is read from (`NEW` or `OLD`), and the old and new
/// row images (`NULL` where the event has none), each built by the engine's `image` of `OLD` or
/// `NEW`.
pub(crate) fn trigger_rows(
    event: &str,
    image: impl Fn(&str) -> String,
) -> (&'static str, &'static str, String, String) {
    match event {
        "INSERT" => ("insert", "NEW", "NULL".into(), image("NEW")),
        "UPDATE" => ("update", "NEW", image("OLD"), image("NEW")),
        _ => ("delete", "OLD", image("OLD"), "NULL".into()),
    }
}

/// `DROP TRIGGER IF EXISTS` for each capture trigger of `table` (one per `(prefix, event)` of
/// `triggers`), quoted by `dialect`.
pub(crate) fn drop_triggers(
    triggers: &[(&str, &str)],
    table: &str,
    dialect: &dyn crate::dialect::Dialect,
) -> Vec<String> {
    triggers
        .iter()
        .map(|(prefix, _)| {
            format!(
                "DROP TRIGGER IF EXISTS {}",
                dialect.quote(&capture_object_name(prefix, table))
            )
        })
        .collect()
}

/// Name of a per-table capture object (trigger), fitted to the engine's 64-byte identifier
/// limit with a hash suffix when too long.
pub(crate) fn capture_object_name(prefix: &str, table: &str) -> String {
    fox_crds::conventions::fit_identifier(&format!("{prefix}{table}"))
}
