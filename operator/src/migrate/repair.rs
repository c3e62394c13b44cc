//! `fox migrate repair`: after a person fixed the database by hand, record where a dirty
//! version really stands.

use std::time::Duration;

use foxdb::DatabaseUrl;

use super::session::Session;
use super::source::Migration;
use super::state::{
    AppliedMigration, RecordStatus, RunOutcome, delete_version, log_run, read_applied,
    record_version,
};
use super::{Direction, MigrateError};

/// What repair recorded for one dirty version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repaired {
    /// Version.
    pub version: u64,
    /// Name.
    pub name: String,
    /// The step that had stopped part-way.
    pub stopped_in: Direction,
    /// Statements of that step that had completed, of how many.
    pub completed: (i64, i64),
    /// Whether it is now recorded as applied (else as not applied: `up` runs it again).
    pub applied: bool,
}

impl std::fmt::Display for Repaired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (done, of) = self.completed;
        write!(
            f,
            "version {} ({}): its {} step had stopped after {done} of {of} statements; ",
            self.version, self.name, self.stopped_in
        )?;
        if self.applied {
            write!(
                f,
                "recorded as applied (`fox migrate down` can roll it back)"
            )
        } else {
            write!(
                f,
                "recorded as not applied (pending: `fox migrate up` runs its up step again)"
            )
        }
    }
}

/// Resolves dirty versions after a person fixed the database: records each as not applied
/// (so `up` runs it again), or with `mark_applied` as applied. The meaning does not depend on
/// the step that stopped: say what the database holds now.
///
/// # Errors
/// Lock and database errors.
pub async fn migrate_repair(
    url: &DatabaseUrl,
    migrations: &[Migration],
    version: Option<u64>,
    mark_applied: bool,
    lock_timeout: Duration,
) -> Result<Vec<Repaired>, MigrateError> {
    let mut session = Session::open(url, lock_timeout).await?;
    let result = async {
        let (connection, tables) = (&mut session.engine.connection, &session.tables);
        let applied = read_applied(connection, tables).await?;
        let mut repaired = Vec::new();
        for record in applied
            .iter()
            .filter(|a| a.status == RecordStatus::Dirty && version.is_none_or(|v| v == a.version))
        {
            if mark_applied {
                let checksum = migrations
                    .iter()
                    .find(|m| m.version == record.version)
                    .map_or_else(|| record.checksum.clone(), Migration::checksum);
                let count = usize::try_from(record.statement_count).unwrap_or_default();
                record_version(
                    connection,
                    tables,
                    Direction::Up,
                    record.version,
                    &record.name,
                    &checksum,
                    RecordStatus::Applied,
                    count,
                    count,
                    None,
                    Some(&format!(
                        "marked applied by repair after its {} step stopped",
                        record.direction
                    )),
                    None,
                )
                .await?;
            } else {
                delete_version(connection, tables, record.version).await?;
            }
            log_run(
                connection,
                tables,
                record.version,
                &record.name,
                "repair",
                if mark_applied {
                    RunOutcome::MarkedApplied
                } else {
                    RunOutcome::Forgotten
                },
                &record.checksum,
                None,
                None,
            )
            .await?;
            repaired.push(repaired_from(record, mark_applied));
        }
        Ok::<_, MigrateError>(repaired)
    }
    .await;
    let closed = session.close(true).await;
    let repaired = result?;
    closed?;
    Ok(repaired)
}

fn repaired_from(record: &AppliedMigration, applied: bool) -> Repaired {
    Repaired {
        version: record.version,
        name: record.name.clone(),
        stopped_in: record.direction,
        completed: (record.completed_statements, record.statement_count),
        applied,
    }
}
