//! `fox migrate status|up|down|repair`: versioned migrations from FoxMigration resources and
//! plain SQL folders.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use fox_crds::manifest::ManifestSet;

use super::target::{database_for, load_valid_manifests};
use crate::migrate::source::{Migration, folder_migrations, ordered, resource_migrations};
use crate::migrate::{
    MigrateOptions, MigrateReport, migrate_down, migrate_repair, migrate_up, migration_status,
};

/// The `fox migrate` subcommands.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum MigrateCommand {
    /// List every migration: applied, pending, changed, missing or dirty.
    Status(MigrateArgs),
    /// Apply pending migrations in version order.
    Up(MigrateArgs),
    /// Roll back applied migrations, newest first (only the newest without --to).
    Down(MigrateArgs),
    /// After fixing the database by hand, resolve a dirty migration: forget it so `up` runs it
    /// again, or with --applied record it as applied.
    Repair {
        #[command(flatten)]
        args: MigrateArgs,
        /// Only this version.
        #[arg(long)]
        version: Option<u64>,
        /// Record the dirty migration as applied (you completed it by hand).
        #[arg(long)]
        applied: bool,
    },
}

/// Arguments shared by the `fox migrate` subcommands.
#[derive(Clone, Debug, clap::Args)]
pub struct MigrateArgs {
    /// FoxMigration manifests, and/or folders of `<version>_<name>.up.sql` / `.down.sql` /
    /// `.sql` files.
    #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,
    /// Database URL; overrides FOX_DATABASE_URL and the FoxReplicaSet in the files.
    #[arg(long)]
    pub database: Option<String>,
    /// up: apply up to and including VERSION. down: roll back down to, not including, VERSION
    /// (0 rolls back everything).
    #[arg(long, value_name = "VERSION")]
    pub to: Option<u64>,
    /// Show what would run, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply pending versions older than the newest applied one.
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Seconds to wait for another applier's lock.
    #[arg(long, default_value_t = 30)]
    pub lock_timeout: u64,
}

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
            "{origin}: MongoDB migrations (upCommands) are not supported by `fox migrate` yet; nothing was done"
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
    let args = match &command {
        MigrateCommand::Status(a) | MigrateCommand::Up(a) | MigrateCommand::Down(a) => a.clone(),
        MigrateCommand::Repair { args, .. } => args.clone(),
    };
    let (migrations, set) = load_migrations(&args.paths)?;
    let mut references: Vec<&str> = migrations
        .iter()
        .filter_map(|m| m.database_ref.as_deref())
        .collect();
    references.sort_unstable();
    references.dedup();
    if references.len() > 1 && args.database.is_none() {
        bail!(
            "the files hold migrations for several databases ({}); run one database at a time",
            references.join(", ")
        );
    }
    let (url, source) = database_for(&set, references.first().copied(), args.database.as_deref())?;
    println!(
        "{} {} ({source}): {} migration(s) in the files",
        url.backend(),
        url.location(),
        migrations.len()
    );
    let options = MigrateOptions {
        to: args.to,
        dry_run: args.dry_run,
        allow_out_of_order: args.allow_out_of_order,
        lock_timeout: Duration::from_secs(args.lock_timeout),
    };
    match command {
        MigrateCommand::Status(_) => {
            let lines = migration_status(&url, &migrations).await?;
            println!(
                "{:<16} {:<10} {:<26} NAME",
                "VERSION", "STATUS", "APPLIED AT"
            );
            for line in &lines {
                println!(
                    "{:<16} {:<10} {:<26} {}",
                    line.version,
                    line.status.label(),
                    line.record.as_ref().map_or("-", |r| r.applied_at.as_str()),
                    line.name
                );
            }
            let attention = lines
                .iter()
                .filter(|l| matches!(l.status.label(), "changed" | "missing" | "dirty"))
                .count();
            if attention > 0 {
                println!(
                    "{attention} migration(s) need attention: `fox migrate up` explains each."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        MigrateCommand::Up(_) => {
            let report = migrate_up(&url, &migrations, &options).await?;
            print_report("Applied", &report, options.dry_run);
            Ok(ExitCode::SUCCESS)
        }
        MigrateCommand::Down(_) => {
            let report = migrate_down(&url, &migrations, &options).await?;
            print_report("Rolled back", &report, options.dry_run);
            Ok(ExitCode::SUCCESS)
        }
        MigrateCommand::Repair {
            version, applied, ..
        } => {
            let repaired =
                migrate_repair(&url, &migrations, version, applied, options.lock_timeout).await?;
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

fn print_report(verb: &str, report: &MigrateReport, dry_run: bool) {
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
    if report.ran.is_empty() {
        println!("Nothing to do: the database is up to date.");
    } else {
        println!("{verb} {} migration(s).", report.ran.len());
    }
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
}
