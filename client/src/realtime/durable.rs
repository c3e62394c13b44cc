//! Durable named subscribers: a subscriber's acknowledged position is stored in the database
//! (`_fox_subscribers`). A new subscription of the same name resumes after it, and pruning
//! (`fox realtime prune`, the operator's retention) never deletes a change above the lowest
//! acknowledged position.
//!
//! # Expected flow
//! ```rust,ignore
//! let mut changes = db.subscribe::<Post>().durable("search-indexer");
//! while let Some(change) = changes.next().await {
//!     let change = change?;
//!     index(&change).await?;
//!     changes.acknowledge(change.position).await?;   // handled: pruning may delete it now
//! }
//! ```

use super::capture::{SUBSCRIBERS, capture_for};
use super::{Error, Position};
use crate::connection::Value;
use crate::database::Database;
use crate::row::FromColumn;

/// A durable subscriber as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurableSubscriber {
    /// Its name.
    pub name: String,
    /// The last position it acknowledged: changes up to it may be pruned.
    pub acknowledged: Position,
}

/// Checks a subscriber name: 1 to 191 characters (MySQL's key limit), no control characters.
fn check_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.chars().count() > 191 || name.chars().any(char::is_control) {
        return Err(Error::SubscriberName {
            name: name.to_string(),
        });
    }
    Ok(())
}

async fn ensure_table(db: &Database) -> crate::Result<()> {
    db.execute(capture_for(db.backend()).create_subscribers(), &[])
        .await
        .map(drop)
}

/// Registers `name` (starting after `start`) unless it exists; returns its acknowledged
/// position.
pub(crate) async fn register(
    db: &Database,
    name: &str,
    start: Position,
) -> Result<Position, Error> {
    check_name(name)?;
    ensure_table(db).await?;
    let capture = capture_for(db.backend());
    db.execute(
        capture.register_subscriber(),
        &[Value::Text(name.to_string()), Value::Int(start.0)],
    )
    .await?;
    Ok(acknowledged(db, name).await?.unwrap_or(start))
}

/// The position `name` last acknowledged; `None` when there is no such durable subscriber.
///
/// # Errors
/// A query failed (also when no durable subscriber was ever registered in `db`).
pub async fn acknowledged(db: &Database, name: &str) -> Result<Option<Position>, Error> {
    let sql = select_acknowledged(db, true);
    let rows = db.fetch_all(&sql, &[Value::Text(name.to_string())]).await?;
    rows.first()
        .map(|row| i64::from_column_at(row, 0).map(Position))
        .transpose()
        .map_err(|e| crate::Error::query(db.backend(), Some(&sql), e).into())
}

/// Stores that the durable subscriber `name` handled every change up to `position`, so pruning
/// may delete them. A position lower than the stored one changes nothing.
///
/// # Errors
/// [`Error::NoSuchSubscriber`] when `name` is not registered; a failed query.
pub async fn acknowledge(db: &Database, name: &str, position: Position) -> Result<(), Error> {
    check_name(name)?;
    let capture = capture_for(db.backend());
    db.execute(
        capture.acknowledge_subscriber(),
        &[Value::Int(position.0), Value::Text(name.to_string())],
    )
    .await?;
    // A row matched but unchanged counts as 0 on MySQL: ask instead of trusting the count.
    if acknowledged(db, name).await?.is_none() {
        return Err(Error::NoSuchSubscriber {
            name: name.to_string(),
        });
    }
    Ok(())
}

/// Every durable subscriber of `db`, by name.
///
/// # Errors
/// A query failed.
pub async fn durable_subscribers(db: &Database) -> Result<Vec<DurableSubscriber>, Error> {
    ensure_table(db).await?;
    let sql = select_acknowledged(db, false);
    let rows = db.fetch_all(&sql, &[]).await?;
    rows.iter()
        .map(|row| {
            Ok(DurableSubscriber {
                acknowledged: Position(i64::from_column_at(row, 0)?),
                name: String::from_column_at(row, 1)?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(|e| crate::Error::query(db.backend(), Some(&sql), e).into())
}

/// Forgets the durable subscriber `name` (pruning no longer waits for it); returns whether it
/// existed.
///
/// # Errors
/// A query failed.
pub async fn remove_durable_subscriber(db: &Database, name: &str) -> Result<bool, Error> {
    ensure_table(db).await?;
    let dialect = crate::dialect::dialect_for(db.backend());
    let sql = format!(
        "DELETE FROM {} WHERE {} = {}",
        dialect.quote(SUBSCRIBERS),
        dialect.quote("name"),
        dialect.placeholder(1)
    );
    Ok(db.execute(&sql, &[Value::Text(name.to_string())]).await? > 0)
}

/// `SELECT acknowledged, name FROM _fox_subscribers` (of one name when `one`).
fn select_acknowledged(db: &Database, one: bool) -> String {
    let dialect = crate::dialect::dialect_for(db.backend());
    let mut sql = format!(
        "SELECT {}, {} FROM {}",
        dialect.quote("acknowledged"),
        dialect.quote("name"),
        dialect.quote(SUBSCRIBERS)
    );
    if one {
        sql.push_str(&format!(
            " WHERE {} = {}",
            dialect.quote("name"),
            dialect.placeholder(1)
        ));
    } else {
        sql.push_str(&format!(" ORDER BY {}", dialect.quote("name")));
    }
    sql
}
