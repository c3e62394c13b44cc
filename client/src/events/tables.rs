//! The event store's tables, declared as FoxDB's schema model and rendered per engine by its
//! dialect, and how a store is installed: tables, the head row, and real-time capture on the
//! event table (the change log projections are woken by).

use fox_crds::ColumnType;

use crate::connection::Value;
use crate::database::Database;
use crate::dialect::{create_table_statement, dialect_for};
use crate::error::{Error, Result};
use crate::schema::{Column, Index, Table};

/// The events, one row each, keyed by global position.
pub const EVENTS_TABLE: &str = "_fox_events";

/// One row: the last global position handed out. Appends lock it until they commit.
pub const EVENT_HEAD_TABLE: &str = "_fox_event_head";

/// The latest snapshot of each stream.
pub const SNAPSHOTS_TABLE: &str = "_fox_event_snapshots";

/// Each projection's checkpoint: the global position of the last event it applied.
pub const PROJECTIONS_TABLE: &str = "_fox_projections";

/// Longest stream id, event type and projection name (characters).
pub const MAX_NAME_LEN: usize = 200;

/// Longest event id, causation id and correlation id (characters).
pub const MAX_ID_LEN: usize = 64;

/// Longest actor name (characters).
pub const MAX_ACTOR_LEN: usize = 255;

fn column(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        ty,
        nullable,
        default: None,
    }
}

fn index(name: &str, columns: &[&str], unique: bool) -> Index {
    Index {
        name: name.into(),
        columns: columns.iter().map(|c| (*c).into()).collect(),
        unique,
        constraint: false,
    }
}

/// The event table: `(stream_id, version)` and `event_id` are unique, so no append can ever
/// store a duplicate version, whatever the isolation level.
pub fn events_table() -> Table {
    let name = ColumnType::Varchar(MAX_NAME_LEN as u32);
    let id = ColumnType::Varchar(MAX_ID_LEN as u32);
    Table {
        name: EVENTS_TABLE.into(),
        columns: vec![
            column("position", ColumnType::BigInt, false),
            column("stream_id", name.clone(), false),
            column("version", ColumnType::BigInt, false),
            column("event_id", id.clone(), false),
            column("event_type", name, false),
            column("payload", ColumnType::Text, false),
            column("causation_id", id.clone(), true),
            column("correlation_id", id, true),
            column("actor", ColumnType::Varchar(MAX_ACTOR_LEN as u32), true),
            column("recorded_at", ColumnType::Varchar(40), false),
        ],
        primary_key: vec!["position".into()],
        indexes: vec![
            index(
                "_fox_events_stream_version",
                &["stream_id", "version"],
                true,
            ),
            index("_fox_events_event_id", &["event_id"], true),
        ],
        ..Table::default()
    }
}

fn head_table() -> Table {
    Table {
        name: EVENT_HEAD_TABLE.into(),
        columns: vec![
            column("id", ColumnType::Integer, false),
            column("head", ColumnType::BigInt, false),
        ],
        primary_key: vec!["id".into()],
        ..Table::default()
    }
}

fn snapshots_table() -> Table {
    Table {
        name: SNAPSHOTS_TABLE.into(),
        columns: vec![
            column("stream_id", ColumnType::Varchar(MAX_NAME_LEN as u32), false),
            column("version", ColumnType::BigInt, false),
            column("payload", ColumnType::Text, false),
            column("saved_at", ColumnType::Varchar(40), false),
        ],
        primary_key: vec!["stream_id".into()],
        ..Table::default()
    }
}

fn projections_table() -> Table {
    Table {
        name: PROJECTIONS_TABLE.into(),
        columns: vec![
            column("name", ColumnType::Varchar(MAX_NAME_LEN as u32), false),
            column("position", ColumnType::BigInt, false),
            column("updated_at", ColumnType::Varchar(40), false),
        ],
        primary_key: vec!["name".into()],
        ..Table::default()
    }
}

/// Every table of the store, in creation order.
pub fn store_tables() -> Vec<Table> {
    vec![
        events_table(),
        head_table(),
        snapshots_table(),
        projections_table(),
    ]
}

async fn table_exists(db: &Database, table: &str) -> bool {
    db.fetch_all(&format!("SELECT 1 FROM {table} WHERE 1 = 0"), &[])
        .await
        .is_ok()
}

/// Creates what is missing: the tables, the head row, the change log and capture on the event
/// table. Safe to repeat and to run from several processes at once.
pub(crate) async fn install(db: &Database) -> Result<()> {
    let dialect = dialect_for(db.backend());
    for table in store_tables() {
        if table_exists(db, &table.name).await {
            continue;
        }
        let created = async {
            db.execute(&create_table_statement(dialect, &table), &[])
                .await?;
            for index in &table.indexes {
                db.execute(&dialect.create_index(&table.name, index), &[])
                    .await?;
            }
            Ok::<_, Error>(())
        };
        if let Err(error) = created.await {
            // Another process may have created it meanwhile.
            if !table_exists(db, &table.name).await {
                return Err(error);
            }
        }
    }
    let head_row = format!(
        "INSERT INTO {EVENT_HEAD_TABLE} (id, head) VALUES ({}, {}){}",
        dialect.placeholder(1),
        dialect.placeholder(2),
        dialect.upsert_clause(&["id".into()], &[])
    );
    db.execute(&head_row, &[Value::Int(1), Value::Int(0)])
        .await?;
    install_capture(db).await
}

/// Change capture on the event table, unless it is there already.
async fn install_capture(db: &Database) -> Result<()> {
    let captured = crate::realtime::captured_tables(db).await?;
    if captured.iter().any(|t| t == EVENTS_TABLE) {
        return Ok(());
    }
    let capture = crate::realtime::capture_for(db.backend());
    let installed = async {
        // `install` creates the change log first when it is missing.
        for sql in capture.install(&events_table()) {
            db.execute(&sql, &[]).await?;
        }
        Ok::<_, Error>(())
    };
    if let Err(error) = installed.await {
        // Another process may have installed it meanwhile.
        let captured = crate::realtime::captured_tables(db).await?;
        if !captured.iter().any(|t| t == EVENTS_TABLE) {
            return Err(error);
        }
    }
    Ok(())
}
