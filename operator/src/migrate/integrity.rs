//! Where each version stands (files against the database), and what stops `up` and `down`.

use super::source::Migration;
use super::state::{AppliedMigration, RecordStatus};
use super::{Direction, StatusLine, VersionStatus};

/// Status of every version in the files or the database.
pub fn status_lines(migrations: &[Migration], applied: &[AppliedMigration]) -> Vec<StatusLine> {
    let mut lines: Vec<StatusLine> = migrations
        .iter()
        .map(|m| {
            let record = applied.iter().find(|a| a.version == m.version).cloned();
            let status = match &record {
                None => VersionStatus::Pending,
                Some(r) if r.status == RecordStatus::Dirty => VersionStatus::Dirty,
                Some(r) if !m.matches_checksum(&r.checksum) => VersionStatus::Changed {
                    applied: r.checksum.clone(),
                    current: m.checksum(),
                },
                Some(_) => VersionStatus::Applied,
            };
            StatusLine {
                version: m.version,
                name: m.name.clone(),
                status,
                record,
            }
        })
        .collect();
    for record in applied {
        if !migrations.iter().any(|m| m.version == record.version) {
            lines.push(StatusLine {
                version: record.version,
                name: record.name.clone(),
                status: if record.status == RecordStatus::Dirty {
                    VersionStatus::Dirty
                } else {
                    VersionStatus::Missing
                },
                record: Some(record.clone()),
            });
        }
    }
    lines.sort_by_key(|l| l.version);
    lines
}

/// Every disagreement that stops `up` (and, out-of-order aside, `down`).
pub fn integrity_problems(lines: &[StatusLine], allow_out_of_order: bool) -> Vec<String> {
    let newest_applied = lines
        .iter()
        .filter(|l| l.record.is_some())
        .map(|l| l.version)
        .max();
    let mut problems = Vec::new();
    for line in lines {
        match &line.status {
            VersionStatus::Dirty => {
                if let Some(record) = &line.record {
                    problems.push(dirty_problem(record));
                }
            }
            VersionStatus::Changed { applied, current } => problems.push(format!(
                "version {} ({}) was applied with checksum {applied} but its file now has checksum {current}; restore the file, or write a new migration for the change",
                line.version, line.name
            )),
            VersionStatus::Missing => problems.push(format!(
                "version {} ({}) is applied but not in the given files; add it back",
                line.version, line.name
            )),
            VersionStatus::Pending if !allow_out_of_order && newest_applied.is_some_and(|n| line.version < n) => {
                problems.push(format!(
                    "version {} ({}) is older than the newest applied version {}; renumber it, or pass --allow-out-of-order",
                    line.version,
                    line.name,
                    newest_applied.unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    problems
}

/// What a dirty record means and the two ways out, which depend on the step that stopped.
pub fn dirty_problem(record: &AppliedMigration) -> String {
    let failed = record
        .failed_statement
        .as_deref()
        .map(|s| {
            format!(
                "; the statement that did not complete: {}",
                s.lines().next().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let message = record
        .message
        .as_deref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    let way_out = match record.direction {
        Direction::Up => {
            "either undo what it changed and run `fox migrate repair` (the version is recorded as not applied and `up` runs it again), or finish it by hand and run `fox migrate repair --applied`"
        }
        Direction::Down => {
            "either finish the rollback by hand and run `fox migrate repair` (the version is recorded as not applied), or restore what the down step removed and run `fox migrate repair --applied`"
        }
    };
    format!(
        "version {} ({}) is dirty: its {} step stopped after {} of {} statements{failed}{message}; {way_out}",
        record.version,
        record.name,
        record.direction,
        record.completed_statements,
        record.statement_count
    )
}

/// The refusal of a `--to` that names no version in the files (`down --to 0` means
/// everything), if it does.
pub fn unknown_target(
    migrations: &[Migration],
    to: Option<u64>,
    direction: Direction,
) -> Option<super::MigrateError> {
    let to = to?;
    if migrations.iter().any(|m| m.version == to) || (direction == Direction::Down && to == 0) {
        return None;
    }
    Some(super::MigrateError::UnknownTarget {
        to,
        below: migrations
            .iter()
            .map(|m| m.version)
            .filter(|v| *v < to)
            .max(),
        above: migrations
            .iter()
            .map(|m| m.version)
            .filter(|v| *v > to)
            .min(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(version: u64, up: &str) -> Migration {
        Migration {
            version,
            name: format!("m{version}"),
            up: up.into(),
            down: None,
            transactional: true,
            origin: "test".into(),
            database_ref: None,
            imported_from: None,
            tenants: None,
        }
    }

    fn record(migration: &Migration, status: RecordStatus) -> AppliedMigration {
        AppliedMigration {
            version: migration.version,
            name: migration.name.clone(),
            checksum: migration.checksum(),
            status,
            statement_count: 1,
            completed_statements: 0,
            failed_statement: Some("CREATE TABLE x (id int)".into()),
            message: None,
            applied_at: "2026-11-27T00:00:00.000Z".into(),
            duration_ms: None,
            direction: Direction::Up,
        }
    }

    #[test]
    fn every_disagreement_between_files_and_database_is_named() {
        let (one, two, three) = (
            migration(1, "SELECT 1"),
            migration(2, "SELECT 2"),
            migration(3, "SELECT 3"),
        );
        let mut edited = record(&two, RecordStatus::Applied);
        edited.checksum = "0".repeat(64);
        let gone = AppliedMigration {
            version: 9,
            ..record(&three, RecordStatus::Applied)
        };
        let applied = vec![
            record(&one, RecordStatus::Dirty),
            edited,
            record(&three, RecordStatus::Applied),
            gone,
        ];
        let files = vec![one, two, three, migration(0, "SELECT 0")];
        let lines = status_lines(&files, &applied);
        let labels: Vec<(u64, &str)> = lines
            .iter()
            .map(|l| (l.version, l.status.label()))
            .collect();
        assert_eq!(
            labels,
            [
                (0, "pending"),
                (1, "dirty"),
                (2, "changed"),
                (3, "applied"),
                (9, "missing")
            ]
        );
        let problems = integrity_problems(&lines, false);
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].contains("version 0 (m0) is older than the newest applied version 9"));
        assert!(problems[1].contains("is dirty") && problems[1].contains("CREATE TABLE x"));
        assert!(problems[2].contains(&"0".repeat(64)));
        assert!(problems[3].contains("not in the given files"));
        assert_eq!(
            integrity_problems(&lines, true).len(),
            3,
            "out of order allowed on request"
        );
    }
}
