//! One FoxSchema declares a database: an apply under another FoxSchema's name is refused, since
//! each would plan the other's tables as undeclared and, with destructive changes allowed, drop
//! them. The owner is the FoxSchema of the last successful apply, as `_fox_apply_history`
//! records it; a FoxSchema that takes over from another (a rename) names it once, and is the
//! owner from then on.

use foxdb::Connection;

use super::error::EngineError;
use super::history::{ApplyStatus, read_history};

/// Refuses when the last successful apply to this database was by a FoxSchema other than
/// `schema_name` and other than `replaces`, the name it takes over from. Call with the lock held, after the
/// bookkeeping tables exist.
///
/// # Errors
/// [`EngineError::OwnedByAnotherSchema`]; database errors.
pub async fn check_owner(
    connection: &mut Connection,
    schema_name: &str,
    replaces: Option<&str>,
) -> Result<(), EngineError> {
    let history = read_history(connection).await?;
    let owner = history
        .iter()
        .rev()
        .find(|entry| entry.status == ApplyStatus::Applied);
    match owner {
        Some(owner)
            if owner.schema_name != schema_name && Some(owner.schema_name.as_str()) != replaces =>
        {
            Err(EngineError::OwnedByAnotherSchema {
                schema: schema_name.to_string(),
                owner: owner.schema_name.clone(),
            })
        }
        _ => Ok(()),
    }
}
