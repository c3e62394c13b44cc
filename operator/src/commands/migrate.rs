//! `fox migrate status|up|down|repair`: versioned migrations from FoxMigration resources and
//! plain SQL folders.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use fox_crds::manifest::ManifestSet;

use super::target::{database_for, load_valid_manifests, raw_database_for};
use crate::migrate::adopt::adoptable_migrations;
use crate::migrate::commands::{
    CommandMigrationStatus, CommandsReport, command_migrations, commands_down, commands_status,
    commands_up, has_command_migrations,
};
use crate::migrate::source::{Migration, folder_migrations, ordered, resource_migrations};
use crate::migrate::{
    MigrateOptions, MigrateReport, StatusLine, VersionStatus, migrate_down, migrate_repair,
    migrate_up, migration_status,
};
use foxdb::document_store::DocumentStoreUrl;

/// The `fox migrate` subcommands.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum MigrateCommand {
    /// List every migration: applied, pending, out-of-order, changed, missing or dirty. Exit 0
    /// when nothing needs attention, 3 when a migration is changed, missing, dirty or out of
    /// order, 2 (with --detailed-exitcode) when migrations are pending, 1 on error.
    #[command(after_help = "Exit status: 0 when nothing needs attention, 2 with \
        --detailed-exitcode when migrations are pending and nothing else needs attention, 3 when \
        a migration is changed, missing, dirty or out of order, 1 on an error.")]
    Status {
        #[command(flatten)]
        target: MigrateTarget,
        /// Exit 2 when migrations are pending and nothing needs attention.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Apply pending migrations in version order.
    Up {
        #[command(flatten)]
        target: MigrateTarget,
        /// Apply up to and including VERSION (a version in the files).
        #[arg(long, value_name = "VERSION")]
        to: Option<u64>,
        #[command(flatten)]
        run: RunArgs,
        /// Apply pending versions older than the newest applied one.
        #[arg(long)]
        allow_out_of_order: bool,
    },
    /// Roll back applied migrations, newest first (only the newest without --to).
    Down {
        #[command(flatten)]
        target: MigrateTarget,
        /// Roll back down to, not including, VERSION (0 rolls back everything).
        #[arg(long, value_name = "VERSION")]
        to: Option<u64>,
        #[command(flatten)]
        run: RunArgs,
    },
    /// After fixing the database by hand, resolve a dirty migration: forget it so `up` runs it
    /// again, or with --applied record it as applied.
    Repair {
        #[command(flatten)]
        target: MigrateTarget,
        /// Only this version.
        #[arg(long)]
        version: Option<u64>,
        /// Record the dirty migration as applied (you completed it by hand).
        #[arg(long)]
        applied: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
}

/// Which migrations, on which database: every `fox migrate` subcommand takes these.
#[derive(Clone, Debug, clap::Args)]
pub struct MigrateTarget {
    /// FoxMigration manifests, and/or folders of `<version>_<name>.up.sql` / `.down.sql` /
    /// `.sql` files.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Database URL; overrides FOX_DATABASE_URL and the FoxReplicaSet in the files. With
    /// tenants: the server of schema tenants.
    #[arg(long)]
    pub database: Option<String>,
    /// Run in this tenant (one of the FoxSchema's `spec.tenants` in the files, or a schema on
    /// the database when no FoxSchema lists tenants); repeat for each tenant.
    #[arg(long = "tenant", value_name = "NAME", conflicts_with = "all_tenants")]
    pub tenants: Vec<String>,
    /// Run in every tenant the FoxSchema in the files lists (`spec.tenants`); FoxMigrations
    /// with `spec.tenants` do so without this flag.
    #[arg(long)]
    pub all_tenants: bool,
}

/// Options of the subcommands that run migrations (`up`, `down`).
#[derive(Clone, Debug, clap::Args)]
pub struct RunArgs {
    /// Show what would run, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// How long a subcommand that writes waits for the database lock.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct LockArgs {
    /// Seconds to wait for another applier's lock (`fox apply` and `fox migrate` share it).
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub lock_timeout: u64,
}

/// Exit code of `fox migrate status` when a migration needs attention (changed, missing,
/// dirty or out of order): `fox migrate up` would refuse.
pub const STATUS_NEEDS_ATTENTION: u8 = 3;

/// Exit code of `fox migrate status --detailed-exitcode` when migrations are pending and
/// nothing needs attention.
pub const STATUS_PENDING: u8 = 2;

/// Reads migrations from manifests and SQL folders.
///
/// # Errors
/// Invalid manifests, unreadable or misnamed files, duplicate versions.
pub fn load_migrations(paths: &[PathBuf]) -> anyhow::Result<(Vec<Migration>, ManifestSet)> {
    let mut manifest_paths = Vec::new();
    let mut migrations = Vec::new();
    for path in paths {
        if path.is_dir() {
            let folder =
                folder_migrations(path).with_context(|| format!("reading {}", path.display()))?;
            migrations.extend(folder);
            if has_manifests(path) {
                manifest_paths.push(path.clone());
            }
        } else if path.extension().is_some_and(|e| e == "sql") {
            bail!(
                "{}: give the folder holding the .sql migrations, not one file",
                path.display()
            );
        } else {
            manifest_paths.push(path.clone());
        }
    }
    let set = if manifest_paths.is_empty() {
        ManifestSet::default()
    } else {
        load_valid_manifests(&manifest_paths)?
    };
    if let Some((origin, _)) = set.migrations().find(|(_, m)| m.spec.up_commands.is_some()) {
        bail!(
            "{origin}: a MongoDB migration (upCommands) among SQL migrations; run one database at a time"
        );
    }
    migrations.extend(resource_migrations(&set));
    if migrations.is_empty() {
        bail!("no migrations found in the given paths");
    }
    Ok((ordered(migrations)?, set))
}

fn has_manifests(directory: &Path) -> bool {
    std::fs::read_dir(directory).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            let path = e.path();
            path.is_dir() && has_manifests(&path)
                || path
                    .extension()
                    .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        })
    })
}

/// Runs a `fox migrate` subcommand.
///
/// # Errors
/// Reading, connection, integrity and migration errors.
pub async fn run(command: MigrateCommand) -> anyhow::Result<ExitCode> {
    let target = match &command {
        MigrateCommand::Status { target, .. }
        | MigrateCommand::Up { target, .. }
        | MigrateCommand::Down { target, .. }
        | MigrateCommand::Repair { target, .. } => target.clone(),
    };
    if let Some(set) = command_migration_manifests(&target.paths)? {
        return run_command_migrations(command, &target, &set).await;
    }
    let (migrations, set) = load_migrations(&target.paths)?;
    let mut references: Vec<&str> = migrations
        .iter()
        .filter_map(|m| m.database_ref.as_deref())
        .collect();
    references.sort_unstable();
    references.dedup();
    if references.len() > 1 && target.database.is_none() {
        bail!(
            "the files hold migrations for several databases ({}); run one database at a time",
            references.join(", ")
        );
    }
    let (url, source) = database_for(
        &set,
        references.first().copied(),
        target.database.as_deref(),
    )?;
    if target.all_tenants
        || !target.tenants.is_empty()
        || migrations.iter().any(|m| m.tenants.is_some())
    {
        let database_ref = references.first().copied();
        return super::migrate_tenants::run_in_tenants(
            command,
            &target,
            &migrations,
            &set,
            database_ref,
            (url, source),
        )
        .await;
    }
    println!(
        "{} {} ({source}): {} migration(s) in the files",
        url.backend(),
        url.location(),
        migrations.len()
    );
    match command {
        MigrateCommand::Status {
            detailed_exitcode, ..
        } => {
            let lines = migration_status(&url, &migrations).await?;
            let code = print_status(&lines, detailed_exitcode);
            for (version, name, tool) in adoptable_migrations(&url, &migrations).await? {
                println!(
                    "{version} {name}: applied by {tool}; `fox migrate up` records it as applied without running it."
                );
            }
            Ok(ExitCode::from(code))
        }
        MigrateCommand::Up {
            to,
            run,
            allow_out_of_order,
            ..
        } => {
            let options = MigrateOptions {
                to,
                dry_run: run.dry_run,
                allow_out_of_order,
                lock_timeout: Duration::from_secs(run.lock.lock_timeout),
            };
            let report = migrate_up(&url, &migrations, &options).await?;
            print_report("Applied", &report, options.dry_run);
            Ok(ExitCode::SUCCESS)
        }
        MigrateCommand::Down { to, run, .. } => {
            let options = MigrateOptions {
                to,
                dry_run: run.dry_run,
                allow_out_of_order: false,
                lock_timeout: Duration::from_secs(run.lock.lock_timeout),
            };
            let report = migrate_down(&url, &migrations, &options).await?;
            print_report("Rolled back", &report, options.dry_run);
            Ok(ExitCode::SUCCESS)
        }
        MigrateCommand::Repair {
            version,
            applied,
            lock,
            ..
        } => {
            let lock_timeout = Duration::from_secs(lock.lock_timeout);
            let repaired =
                migrate_repair(&url, &migrations, version, applied, lock_timeout).await?;
            if repaired.is_empty() {
                println!("No dirty migration to repair.");
            }
            for line in &repaired {
                println!("Repaired {line}.");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The manifests under `paths` when they hold MongoDB migrations (FoxMigrations with
/// `upCommands`) and no SQL files; `None` for SQL migrations.
///
/// # Errors
/// Invalid manifests.
fn command_migration_manifests(paths: &[PathBuf]) -> anyhow::Result<Option<ManifestSet>> {
    let manifest_paths: Vec<PathBuf> = paths
        .iter()
        .filter(|p| {
            if p.is_dir() {
                has_manifests(p)
            } else {
                p.extension().is_none_or(|e| e != "sql")
            }
        })
        .cloned()
        .collect();
    if manifest_paths.is_empty() {
        return Ok(None);
    }
    // Unreadable files are reported by the SQL path, which reads the same paths.
    let Ok(set) = fox_crds::manifest::load_manifests(&manifest_paths) else {
        return Ok(None);
    };
    if !has_command_migrations(&set) {
        return Ok(None);
    }
    let has_sql_files = paths
        .iter()
        .filter(|p| p.is_dir())
        .any(|p| folder_migrations(p).is_ok_and(|found| !found.is_empty()));
    if has_sql_files {
        bail!(
            "the paths hold MongoDB migrations (upCommands) and SQL files; run one database at a time"
        );
    }
    Ok(Some(load_valid_manifests(&manifest_paths)?))
}

/// Runs a `fox migrate` subcommand on MongoDB migrations.
async fn run_command_migrations(
    command: MigrateCommand,
    target: &MigrateTarget,
    set: &ManifestSet,
) -> anyhow::Result<ExitCode> {
    let migrations = command_migrations(set)?;
    let mut references: Vec<&str> = migrations.iter().map(|m| m.database_ref.as_str()).collect();
    references.sort_unstable();
    references.dedup();
    if references.len() > 1 && target.database.is_none() {
        bail!(
            "the files hold migrations for several databases ({}); run one database at a time",
            references.join(", ")
        );
    }
    let (raw, source) =
        raw_database_for(set, references.first().copied(), target.database.as_deref())?;
    if !DocumentStoreUrl::is_document_store(&raw) {
        bail!(
            "MongoDB migrations (upCommands) need a mongodb:// database; {source} is not one; nothing was done"
        );
    }
    let url = DocumentStoreUrl::parse(&raw)?;
    println!(
        "mongodb {} ({source}): {} migration(s) in the files",
        url.location(),
        migrations.len()
    );
    match command {
        MigrateCommand::Status {
            detailed_exitcode, ..
        } => {
            let lines = commands_status(&url, &migrations).await?;
            println!(
                "{:<16} {:<12} {:<26} NAME",
                "VERSION", "STATUS", "APPLIED AT"
            );
            for line in &lines {
                println!(
                    "{:<16} {:<12} {:<26} {}",
                    line.version,
                    line.status.label(),
                    line.applied_at.as_deref().unwrap_or("-"),
                    line.name
                );
            }
            let attention = lines
                .iter()
                .filter(|l| {
                    !matches!(
                        l.status,
                        CommandMigrationStatus::Applied | CommandMigrationStatus::Pending
                    )
                })
                .count();
            let pending = lines
                .iter()
                .any(|l| l.status == CommandMigrationStatus::Pending);
            Ok(ExitCode::from(if attention > 0 {
                println!(
                    "{attention} migration(s) need attention: `fox migrate up` explains each."
                );
                STATUS_NEEDS_ATTENTION
            } else if pending && detailed_exitcode {
                STATUS_PENDING
            } else {
                0
            }))
        }
        MigrateCommand::Up {
            to,
            run,
            allow_out_of_order,
            ..
        } => {
            if allow_out_of_order {
                bail!(
                    "--allow-out-of-order is not supported for MongoDB migrations; give the migration a newer version"
                );
            }
            let lock_timeout = Duration::from_secs(run.lock.lock_timeout);
            let report = commands_up(&url, &migrations, to, run.dry_run, lock_timeout).await?;
            print_report("Applied", &command_report(report), run.dry_run);
            Ok(ExitCode::SUCCESS)
        }
        MigrateCommand::Down { to, run, .. } => {
            let lock_timeout = Duration::from_secs(run.lock.lock_timeout);
            let report = commands_down(&url, &migrations, to, run.dry_run, lock_timeout).await?;
            print_report("Rolled back", &command_report(report), run.dry_run);
            Ok(ExitCode::SUCCESS)
        }
        MigrateCommand::Repair { .. } => bail!(
            "`fox migrate repair` is not supported for MongoDB migrations: resolve a dirty migration by hand, then delete its document from _fox_migrations"
        ),
    }
}

fn command_report(report: CommandsReport) -> MigrateReport {
    MigrateReport {
        ran: report.ran,
        would_run: report.would_run,
        ..MigrateReport::default()
    }
}

/// Prints the status table and returns the exit code it stands for.
pub(super) fn print_status(lines: &[StatusLine], detailed_exitcode: bool) -> u8 {
    // A pending version below the newest applied one is what `up` refuses without
    // --allow-out-of-order.
    let newest_applied = lines
        .iter()
        .filter(|l| l.record.is_some())
        .map(|l| l.version)
        .max();
    let shown = |line: &StatusLine| match line.status {
        VersionStatus::Pending if newest_applied.is_some_and(|newest| line.version < newest) => {
            "out-of-order"
        }
        ref status => status.label(),
    };
    println!(
        "{:<16} {:<12} {:<26} NAME",
        "VERSION", "STATUS", "APPLIED AT"
    );
    for line in lines {
        println!(
            "{:<16} {:<12} {:<26} {}",
            line.version,
            shown(line),
            line.record.as_ref().map_or("-", |r| r.applied_at.as_str()),
            line.name
        );
    }
    let attention = lines
        .iter()
        .filter(|l| !matches!(shown(l), "applied" | "pending"))
        .count();
    let pending = lines.iter().filter(|l| shown(l) == "pending").count();
    if attention > 0 {
        println!("{attention} migration(s) need attention: `fox migrate up` explains each.");
        STATUS_NEEDS_ATTENTION
    } else if pending > 0 && detailed_exitcode {
        STATUS_PENDING
    } else {
        0
    }
}

pub(super) fn print_report(verb: &str, report: &MigrateReport, dry_run: bool) {
    let adopt_verb = if dry_run { "would adopt" } else { "adopted" };
    for (version, name, tool) in &report.adopted {
        println!("  {adopt_verb} {version} {name} (applied by {tool}; not run)");
    }
    if dry_run {
        if report.would_run.is_empty() {
            println!("Dry run: nothing to do.");
        }
        for (version, name) in &report.would_run {
            println!("  would run {version} {name}");
        }
        return;
    }
    for (version, name, ms) in &report.ran {
        println!("  {version} {name} ({ms} ms)");
    }
    if !report.adopted.is_empty() {
        println!(
            "Adopted {} migration(s) applied by another tool.",
            report.adopted.len()
        );
    }
    if report.ran.is_empty() {
        println!("Nothing to do: the database is up to date.");
    } else {
        println!("{verb} {} migration(s).", report.ran.len());
    }
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
}
