//! MongoDB migrations: FoxMigrations whose `upCommands`/`downCommands` are database commands
//! (JSON), run in version order with `runCommand`, each applied exactly once per database.
//!
//! # Expected flow
//! [`command_migrations`] reads them from the manifests; [`commands_up`] takes the database
//! lock (`_fox_lock`, shared with `fox apply`), checks every applied migration's checksum
//! against `_fox_migrations`, then runs the pending ones in version order; [`commands_down`]
//! runs the newest applied migration's `downCommands` (down to `--to`).
//!
//! # Guarantees
//! A migration's record is written as `dirty` before its first command and set to `applied`
//! after its last, so a version is never run twice: a failed migration stays `dirty` (with the
//! error and how many commands ran) and `up` refuses until it is resolved by hand. A checksum
//! that differs from the recorded one is reported, never re-run. MongoDB runs these commands
//! without a transaction: the commands of a failed migration before the failing one stay.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fox_crds::FoxMigration;
use fox_crds::manifest::ManifestSet;
use fox_crds::mongo_command::MongoCommand;
use foxdb::document_store::bson::{Bson, Document, doc};
use foxdb::document_store::{DocumentStore, DocumentStoreUrl};
use foxdb::introspect::mongo::command_document;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::engine::clock::{applier_identity, now_rfc3339};
use crate::engine::collections::lock::CollectionLock;

/// The collection recording applied migrations.
pub const MIGRATIONS_COLLECTION: &str = "_fox_migrations";

/// One MongoDB migration.
#[derive(Clone, Debug)]
pub struct CommandMigration {
    /// Ordering key.
    pub version: u64,
    /// Description.
    pub name: String,
    /// Commands that apply it.
    pub up: Vec<Document>,
    /// Commands that roll it back; `None` for an irreversible migration.
    pub down: Option<Vec<Document>>,
    /// SHA-256 of the canonical JSON of `upCommands` (keys sorted).
    pub checksum: String,
    /// Where it was read.
    pub origin: String,
    /// The FoxReplicaSet it names.
    pub database_ref: String,
}

/// Where a migration stands against the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandMigrationStatus {
    /// Recorded as applied, same checksum.
    Applied,
    /// Not run yet.
    Pending,
    /// Applied with other commands than the files now hold.
    Changed,
    /// A run failed part way; resolve by hand.
    Dirty,
    /// Recorded in the database, absent from the files.
    Missing,
}

impl CommandMigrationStatus {
    /// The word `fox migrate status` prints.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Pending => "pending",
            Self::Changed => "changed",
            Self::Dirty => "dirty",
            Self::Missing => "missing",
        }
    }
}

/// One line of `fox migrate status`.
#[derive(Clone, Debug)]
pub struct CommandStatusLine {
    /// Version.
    pub version: u64,
    /// Name (from the files, else the record).
    pub name: String,
    /// Status.
    pub status: CommandMigrationStatus,
    /// When it was applied, if it was.
    pub applied_at: Option<String>,
    /// The checksum recorded when it was applied (or started), if it was.
    pub recorded_checksum: Option<String>,
    /// How long its commands took, if it was applied.
    pub duration_ms: Option<u64>,
    /// Why a dirty migration stopped, as the server said.
    pub message: Option<String>,
}

/// A run refused before any command ran: a changed, dirty or out-of-order migration, one to
/// roll back without `downCommands` or missing from the files.
#[derive(Debug, thiserror::Error)]
#[error("nothing was run:\n{}", problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
pub struct CommandsRefused {
    /// One line per problem.
    pub problems: Vec<String>,
}

fn recorded_fields(record: Option<&Document>) -> (Option<String>, Option<u64>, Option<String>) {
    let text = |key: &str| record.and_then(|r| r.get_str(key).ok().map(str::to_string));
    let duration = record.and_then(|r| match r.get("durationMs")? {
        Bson::Int64(v) => u64::try_from(*v).ok(),
        Bson::Int32(v) => u64::try_from(*v).ok(),
        _ => None,
    });
    (text("checksum"), duration, text("message"))
}

/// Whether `set` holds MongoDB migrations (FoxMigrations with `upCommands`).
pub fn has_command_migrations(set: &ManifestSet) -> bool {
    set.migrations().any(|(_, m)| m.spec.up_commands.is_some())
}

/// The MongoDB migrations of `set`, in version order.
///
/// # Errors
/// A SQL migration among them, two with one version, a command extended JSON cannot express.
pub fn command_migrations(set: &ManifestSet) -> anyhow::Result<Vec<CommandMigration>> {
    let migrations = set
        .migrations()
        .map(|(origin, resource)| command_migration(&origin.to_string(), resource))
        .collect::<anyhow::Result<Vec<_>>>()?;
    ordered_commands(migrations)
}

/// MongoDB database commands FoxDB recognises by name in `upCommands`/`downCommands`.
const COMMAND_NAMES: [&str; 30] = [
    "aggregate",
    "applyOps",
    "collMod",
    "compact",
    "convertToCapped",
    "count",
    "create",
    "createIndexes",
    "createRole",
    "createUser",
    "delete",
    "distinct",
    "drop",
    "dropDatabase",
    "dropIndexes",
    "dropRole",
    "dropUser",
    "find",
    "findAndModify",
    "grantRolesToUser",
    "insert",
    "listCollections",
    "listIndexes",
    "ping",
    "reIndex",
    "renameCollection",
    "revokeRolesFromUser",
    "update",
    "updateRole",
    "validate",
];

/// The command with its name as the first key, as MongoDB requires. Commands keep the order
/// written in files and in JSON strings, but a mapping that went through the Kubernetes API
/// arrives with its keys sorted (`{insert, documents}` as `{documents, insert}`), so the name
/// is found among the keys: one known command name, or the only key.
///
/// # Errors
/// No key, or more than one, is a known command name (and the document has several keys).
fn command_name_first(mut command: Document) -> Result<Document, String> {
    let names: Vec<String> = command
        .keys()
        .filter(|k| COMMAND_NAMES.contains(&k.as_str()))
        .cloned()
        .collect();
    let name = match names.as_slice() {
        [name] => name.clone(),
        [] if command.len() == 1 => return Ok(command),
        [] => {
            return Err(format!(
                "none of the keys ({}) is a command FoxDB knows ({}); a command with several keys must be one of these",
                command.keys().cloned().collect::<Vec<_>>().join(", "),
                COMMAND_NAMES.join(", ")
            ));
        }
        _ => return Err(format!("several keys name commands: {}", names.join(", "))),
    };
    let value = command.remove(&name).expect("the key was found");
    let mut ordered = Document::new();
    ordered.insert(name, value);
    ordered.extend(command);
    Ok(ordered)
}

/// One FoxMigration with `upCommands` as a MongoDB migration; `origin` says where it was read
/// (a file, or the cluster).
///
/// # Errors
/// A SQL migration (`up`), a command extended JSON cannot express.
pub fn command_migration(
    origin: &str,
    resource: &FoxMigration,
) -> anyhow::Result<CommandMigration> {
    let spec = &resource.spec;
    let Some(up) = &spec.up_commands else {
        bail!(
            "{origin}: a SQL migration (up) among MongoDB migrations (upCommands); run one database at a time"
        );
    };
    let documents = |commands: &[MongoCommand], field: &str| {
        commands
            .iter()
            .enumerate()
            .map(|(i, c)| {
                command_document(c)
                    .and_then(command_name_first)
                    .map_err(|e| anyhow::anyhow!("{origin}: spec.{field}[{i}]: {e}"))
            })
            .collect::<anyhow::Result<Vec<Document>>>()
    };
    // Keys sorted, as checksummed before commands kept their order: applied migrations
    // keep their checksum (see fox_crds::mongo_command).
    let sorted: Vec<Map<String, Value>> = up.iter().map(MongoCommand::to_sorted_json).collect();
    let canonical = serde_json::to_string(&sorted).context("serialising upCommands")?;
    Ok(CommandMigration {
        version: spec.version,
        name: spec.name.clone(),
        up: documents(up, "upCommands")?,
        down: spec
            .down_commands
            .as_deref()
            .map(|d| documents(d, "downCommands"))
            .transpose()?,
        checksum: Sha256::digest(canonical.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        origin: origin.to_string(),
        database_ref: spec.database_ref.name.clone(),
    })
}

/// Puts MongoDB migrations in version order and refuses duplicate versions.
///
/// # Errors
/// Two migrations with one version.
pub fn ordered_commands(
    mut migrations: Vec<CommandMigration>,
) -> anyhow::Result<Vec<CommandMigration>> {
    migrations.sort_by_key(|m| m.version);
    for pair in migrations.windows(2) {
        if pair[0].version == pair[1].version {
            bail!(
                "{} and {} both have version {}; versions are unique",
                pair[0].origin,
                pair[1].origin,
                pair[0].version
            );
        }
    }
    Ok(migrations)
}

async fn records(store: &DocumentStore) -> anyhow::Result<Vec<Document>> {
    Ok(store
        .run_cursor_command(doc! {"find": MIGRATIONS_COLLECTION, "filter": {}})
        .await?)
}

fn record_version(record: &Document) -> Option<u64> {
    match record.get("_id")? {
        Bson::Int64(v) => u64::try_from(*v).ok(),
        Bson::Int32(v) => u64::try_from(*v).ok(),
        _ => None,
    }
}

fn version_key(version: u64) -> i64 {
    i64::try_from(version).unwrap_or(i64::MAX)
}

/// Every migration in the files and every recorded one, with its status, in version order.
///
/// # Errors
/// Unreachable server, failed reads.
pub async fn commands_status(
    url: &DocumentStoreUrl,
    migrations: &[CommandMigration],
) -> anyhow::Result<Vec<CommandStatusLine>> {
    let store = DocumentStore::connect(url).await?;
    let records = records(&store).await?;
    Ok(status_lines(migrations, &records))
}

fn status_lines(migrations: &[CommandMigration], records: &[Document]) -> Vec<CommandStatusLine> {
    let mut lines: Vec<CommandStatusLine> = migrations
        .iter()
        .map(|m| {
            let record = records
                .iter()
                .find(|r| record_version(r) == Some(m.version));
            let status = match record {
                None => CommandMigrationStatus::Pending,
                Some(r) if r.get_str("status").ok() == Some("dirty") => {
                    CommandMigrationStatus::Dirty
                }
                Some(r) if r.get_str("checksum").ok() != Some(m.checksum.as_str()) => {
                    CommandMigrationStatus::Changed
                }
                Some(_) => CommandMigrationStatus::Applied,
            };
            let (recorded_checksum, duration_ms, message) = recorded_fields(record);
            CommandStatusLine {
                version: m.version,
                name: m.name.clone(),
                status,
                applied_at: record.and_then(|r| r.get_str("appliedAt").ok().map(str::to_string)),
                recorded_checksum,
                duration_ms,
                message,
            }
        })
        .collect();
    for record in records {
        let Some(version) = record_version(record) else {
            continue;
        };
        if !migrations.iter().any(|m| m.version == version) {
            let (recorded_checksum, duration_ms, message) = recorded_fields(Some(record));
            lines.push(CommandStatusLine {
                recorded_checksum,
                duration_ms,
                message,
                version,
                name: record.get_str("name").unwrap_or_default().to_string(),
                status: CommandMigrationStatus::Missing,
                applied_at: record.get_str("appliedAt").ok().map(str::to_string),
            });
        }
    }
    lines.sort_by_key(|l| l.version);
    lines
}

/// What `up` or `down` ran (or would run).
#[derive(Debug, Default)]
pub struct CommandsReport {
    /// Version, name and milliseconds of each migration run.
    pub ran: Vec<(u64, String, u128)>,
    /// Version and name of each migration a dry run would run.
    pub would_run: Vec<(u64, String)>,
}

/// Connects, takes the migration lock (none for a dry run), runs `work`, and releases the lock
/// whatever `work` returned.
async fn with_lock<T>(
    url: &DocumentStoreUrl,
    dry_run: bool,
    lock_timeout: Duration,
    work: impl AsyncFnOnce(&DocumentStore) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let store = DocumentStore::connect(url).await?;
    let lock = if dry_run {
        None
    } else {
        Some(CollectionLock::acquire(&store, lock_timeout).await?)
    };
    let result = work(&store).await;
    if let Some(lock) = lock {
        lock.release(&store).await?;
    }
    result
}

/// Applies the pending migrations (up to and including `to`), in version order.
///
/// # Errors
/// Unreachable server, the lock held past `lock_timeout`, a changed, dirty or out-of-order
/// migration (refused before anything runs), a failed command (the migration is left `dirty`).
pub async fn commands_up(
    url: &DocumentStoreUrl,
    migrations: &[CommandMigration],
    to: Option<u64>,
    dry_run: bool,
    lock_timeout: Duration,
) -> anyhow::Result<CommandsReport> {
    with_lock(url, dry_run, lock_timeout, async |store| {
        up_locked(store, migrations, to, dry_run).await
    })
    .await
}

async fn up_locked(
    store: &DocumentStore,
    migrations: &[CommandMigration],
    to: Option<u64>,
    dry_run: bool,
) -> anyhow::Result<CommandsReport> {
    let lines = status_lines(migrations, &records(store).await?);
    let mut problems = Vec::new();
    let newest_applied = lines
        .iter()
        .filter(|l| l.status != CommandMigrationStatus::Pending)
        .map(|l| l.version)
        .max();
    for line in &lines {
        match line.status {
            CommandMigrationStatus::Changed => problems.push(format!(
                "migration {} ({}) was applied with other upCommands than the files now hold (checksum differs); it is never re-run: add a new migration for the change",
                line.version, line.name
            )),
            CommandMigrationStatus::Dirty => problems.push(format!(
                "migration {} ({}) failed part way (dirty in {MIGRATIONS_COLLECTION}); finish or undo its commands by hand, then delete its record ({{_id: {}}}) to run it again",
                line.version, line.name, line.version
            )),
            CommandMigrationStatus::Pending if newest_applied.is_some_and(|n| line.version < n) => {
                problems.push(format!(
                    "migration {} ({}) is pending but older than applied migration {}; give it a newer version",
                    line.version,
                    line.name,
                    newest_applied.unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    if !problems.is_empty() {
        return Err(CommandsRefused { problems }.into());
    }
    let mut report = CommandsReport::default();
    for migration in migrations {
        let pending = lines
            .iter()
            .any(|l| l.version == migration.version && l.status == CommandMigrationStatus::Pending);
        if !pending || to.is_some_and(|to| migration.version > to) {
            continue;
        }
        if dry_run {
            report
                .would_run
                .push((migration.version, migration.name.clone()));
            continue;
        }
        let started = Instant::now();
        let started_at = now_rfc3339();
        store
            .run_command(doc! {
                "insert": MIGRATIONS_COLLECTION,
                "documents": [{
                    "_id": version_key(migration.version),
                    "name": &migration.name,
                    "checksum": &migration.checksum,
                    "status": "dirty",
                    "startedAt": &started_at,
                    "appliedBy": applier_identity(),
                }],
            })
            .await?;
        for (i, command) in migration.up.iter().enumerate() {
            if let Err(error) = store.run_command(command.clone()).await {
                let message = error.to_string();
                let _ = store
                    .run_command(doc! {
                        "update": MIGRATIONS_COLLECTION,
                        "updates": [{
                            "q": {"_id": version_key(migration.version)},
                            "u": {"$set": {"message": &message, "completedCommands": i64::try_from(i).unwrap_or(0)}},
                        }],
                    })
                    .await;
                bail!(
                    "migration {} ({}) failed at upCommands[{i}] ({} command(s) before it ran and stay; it is recorded dirty): {message}",
                    migration.version,
                    migration.name,
                    i
                );
            }
        }
        let elapsed = started.elapsed().as_millis();
        store
            .run_command(doc! {
                "update": MIGRATIONS_COLLECTION,
                "updates": [{
                    "q": {"_id": version_key(migration.version)},
                    "u": {"$set": {
                        "status": "applied",
                        "appliedAt": now_rfc3339(),
                        "durationMs": i64::try_from(elapsed).unwrap_or(i64::MAX),
                    }},
                }],
            })
            .await?;
        report
            .ran
            .push((migration.version, migration.name.clone(), elapsed));
    }
    Ok(report)
}

/// Rolls back applied migrations, newest first: only the newest without `to`, else every one
/// above `to`.
///
/// # Errors
/// Unreachable server, the lock held past `lock_timeout`, a migration to roll back without
/// `downCommands` or missing from the files (refused before anything runs), a failed command.
pub async fn commands_down(
    url: &DocumentStoreUrl,
    migrations: &[CommandMigration],
    to: Option<u64>,
    dry_run: bool,
    lock_timeout: Duration,
) -> anyhow::Result<CommandsReport> {
    with_lock(url, dry_run, lock_timeout, async |store| {
        down_locked(store, migrations, to, dry_run).await
    })
    .await
}

async fn down_locked(
    store: &DocumentStore,
    migrations: &[CommandMigration],
    to: Option<u64>,
    dry_run: bool,
) -> anyhow::Result<CommandsReport> {
    let lines = status_lines(migrations, &records(store).await?);
    let mut applied: Vec<&CommandStatusLine> = lines
        .iter()
        .filter(|l| l.status != CommandMigrationStatus::Pending)
        .collect();
    applied.sort_by_key(|l| std::cmp::Reverse(l.version));
    let chosen: Vec<&CommandStatusLine> = match to {
        Some(to) => applied.into_iter().filter(|l| l.version > to).collect(),
        None => applied.into_iter().take(1).collect(),
    };
    let mut plan = Vec::new();
    for line in &chosen {
        let Some(migration) = migrations.iter().find(|m| m.version == line.version) else {
            return Err(CommandsRefused {
                problems: vec![format!(
                    "migration {} is recorded as applied but not in the files; give its manifest to roll it back",
                    line.version
                )],
            }
            .into());
        };
        let Some(down) = &migration.down else {
            return Err(CommandsRefused {
                problems: vec![format!(
                    "migration {} ({}) has no downCommands: it cannot be rolled back",
                    migration.version, migration.name
                )],
            }
            .into());
        };
        plan.push((migration, down));
    }
    let mut report = CommandsReport::default();
    for (migration, down) in plan {
        if dry_run {
            report
                .would_run
                .push((migration.version, migration.name.clone()));
            continue;
        }
        let started = Instant::now();
        for (i, command) in down.iter().enumerate() {
            store.run_command(command.clone()).await.with_context(|| {
                format!(
                    "rolling back migration {} ({}): downCommands[{i}] failed ({i} before it ran); the migration stays recorded",
                    migration.version, migration.name
                )
            })?;
        }
        store
            .run_command(doc! {
                "delete": MIGRATIONS_COLLECTION,
                "deletes": [{"q": {"_id": version_key(migration.version)}, "limit": 1}],
            })
            .await?;
        report.ran.push((
            migration.version,
            migration.name.clone(),
            started.elapsed().as_millis(),
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::{MongoCommand, Sha256, command_migration, command_name_first, doc};
    use sha2::Digest;

    #[test]
    fn the_checksum_is_the_one_recorded_before_commands_kept_their_order() {
        let text =
            r#"{"createIndexes": "posts", "indexes": [{"name": "b_a", "key": {"b": 1, "a": -1}}]}"#;
        let mut migration = fox_crds::FoxMigration::new(
            "m1",
            serde_json::from_value(serde_json::json!({
                "databaseRef": {"name": "db"}, "version": 1, "name": "indexes"
            }))
            .expect("a spec"),
        );
        migration.spec.up_commands = Some(vec![MongoCommand::parse_text(text).expect("json")]);
        let migration = command_migration("test", &migration).expect("a command migration");
        // What the checksum was computed from before: the commands as serde_json maps.
        let before: Vec<serde_json::Map<String, serde_json::Value>> =
            vec![serde_json::from_str(text).expect("json")];
        let before: String = Sha256::digest(serde_json::to_string(&before).expect("json"))
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(migration.checksum, before);
        let key = migration.up[0]
            .get_array("indexes")
            .ok()
            .and_then(|i| i[0].as_document())
            .and_then(|i| i.get_document("key").ok())
            .expect("key");
        assert_eq!(key.keys().collect::<Vec<_>>(), ["b", "a"]);
    }

    #[test]
    fn the_command_name_goes_first_whatever_the_key_order() {
        let sorted = doc! { "documents": [{ "_id": 1 }], "insert": "users", "ordered": true };
        let command = command_name_first(sorted).expect("insert is a command");
        assert_eq!(
            command.keys().collect::<Vec<_>>(),
            ["insert", "documents", "ordered"]
        );
        assert!(command_name_first(doc! { "ping": 1 }).is_ok());
        assert!(command_name_first(doc! { "frobnicate": "x", "other": 1 }).is_err());
        assert!(command_name_first(doc! { "find": "a", "count": "b" }).is_err());
    }
}
