//! `fox import prisma|migrations`: a FoxSchema from a Prisma schema, and FoxMigrations from
//! another tool's migrations folder (which `fox migrate up` then adopts where that tool had
//! applied them).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use fox_crds::manifest::{ManifestSet, parse_manifests};
use fox_crds::{DatabaseRef, FoxMigration, FoxMigrationSpec, MigrationTool};

use super::generate::{resource_name, write_schema};
use crate::import::migration_folders::import_folder;
use crate::import::prisma_schema::parse_prisma_schema;
use crate::import::prisma_tables::prisma_tables;

/// The `fox import` subcommands.
#[derive(Clone, Debug, clap::Subcommand)]
pub enum ImportCommand {
    /// Write a FoxSchema from a Prisma schema (`schema.prisma`): the tables Prisma Migrate
    /// creates for it, with Prisma's names; what a FoxSchema cannot express is listed in
    /// comments.
    Prisma {
        /// The Prisma schema file.
        schema: PathBuf,
        /// File to write (default: print).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// `metadata.name` of the FoxSchema (default: the schema file's folder name).
        #[arg(long)]
        name: Option<String>,
        /// `spec.databaseRef.name` (default: the FoxSchema's name).
        #[arg(long)]
        database_ref: Option<String>,
    },
    /// Write FoxMigrations from another tool's migrations folder, keeping each migration's
    /// version and checksum in the tool's terms (`spec.importedFrom`): `fox migrate up` then
    /// records what that tool applied as applied without running it.
    Migrations {
        /// The migrations folder.
        dir: PathBuf,
        /// The tool whose layout the folder has.
        #[arg(long, value_enum)]
        format: ToolFormat,
        /// File to write (default: print).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// `spec.databaseRef.name` (default: the name of the project folder).
        #[arg(long)]
        database_ref: Option<String>,
    },
}

/// `--format` of `fox import migrations`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ToolFormat {
    /// `NNN_name.up.sql` + `NNN_name.down.sql`.
    GolangMigrate,
    /// `NNN_name.sql`, or `NNN_name.up.sql` + `.down.sql`.
    Sqlx,
    /// `<timestamp>_name/migration.sql`.
    Prisma,
    /// `<date>_name/up.sql` + `down.sql`.
    Diesel,
    /// `V<n>__name.sql` + `U<n>__name.sql`.
    Flyway,
}

impl From<ToolFormat> for MigrationTool {
    fn from(format: ToolFormat) -> Self {
        match format {
            ToolFormat::GolangMigrate => Self::GolangMigrate,
            ToolFormat::Sqlx => Self::Sqlx,
            ToolFormat::Prisma => Self::Prisma,
            ToolFormat::Diesel => Self::Diesel,
            ToolFormat::Flyway => Self::Flyway,
        }
    }
}

/// Runs a `fox import` subcommand.
///
/// # Errors
/// Unreadable or malformed input (with file, line and column), an unwritable output file.
pub fn run(command: ImportCommand) -> anyhow::Result<ExitCode> {
    match command {
        ImportCommand::Prisma {
            schema,
            output,
            name,
            database_ref,
        } => {
            let yaml = import_prisma(&schema, name, database_ref)?;
            emit(&yaml, output.as_deref(), "FoxSchema")
        }
        ImportCommand::Migrations {
            dir,
            format,
            output,
            database_ref,
        } => {
            let yaml = import_migrations(&dir, format.into(), database_ref)?;
            emit(&yaml, output.as_deref(), "FoxMigrations")
        }
    }
}

fn emit(yaml: &str, output: Option<&Path>, what: &str) -> anyhow::Result<ExitCode> {
    match output {
        Some(path) => {
            std::fs::write(path, yaml)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("Wrote the {what} to {}.", path.display());
        }
        None => print!("{yaml}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The FoxSchema for the Prisma schema at `path`.
///
/// # Errors
/// An unreadable file; a syntax error or an unimportable schema, as `file:line:column`.
pub fn import_prisma(
    path: &Path,
    name: Option<String>,
    database_ref: Option<String>,
) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let blocks = parse_prisma_schema(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.position, e.message))?;
    let tables = prisma_tables(&blocks)
        .map_err(|e| anyhow::anyhow!("{}:{}: {}", path.display(), e.position, e.message))?;
    let name = name.unwrap_or_else(|| resource_name(&project_name(path)));
    let database_ref = database_ref.unwrap_or_else(|| name.clone());
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let header = [
        format!(
            "FoxSchema written by `fox import prisma` from {file} ({} datasource).",
            tables.backend
        ),
        "`fox plan -f THIS_FILE --database URL` against a database `prisma migrate` created lists what differs.".to_string(),
    ];
    let generated = write_schema(
        tables.backend,
        &tables.schema,
        &tables.notes,
        &name,
        &database_ref,
        &header,
    );
    for warning in &generated.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(generated.yaml)
}

/// The name of the project a file or folder belongs to: the folder holding it, past the
/// conventional `prisma/` and `migrations/` folders.
fn project_name(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .ancestors()
        .skip(usize::from(absolute.is_file()))
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()))
        .find(|n| !matches!(*n, "prisma" | "migrations" | "db" | "sql"))
        .unwrap_or("app")
        .to_string()
}

/// FoxMigrations (one YAML stream) for the migrations folder `directory` in `tool`'s layout.
///
/// # Errors
/// Names outside the layout, duplicate versions, unreadable files; a script the YAML would not
/// carry byte for byte.
pub fn import_migrations(
    directory: &Path,
    tool: MigrationTool,
    database_ref: Option<String>,
) -> anyhow::Result<String> {
    let folder = import_folder(directory, tool)?;
    let database_ref = database_ref.unwrap_or_else(|| resource_name(&project_name(directory)));
    let mut yaml = String::new();
    let _ = writeln!(
        yaml,
        "# FoxMigrations written by `fox import migrations --format {tool}` from {}.",
        directory.display()
    );
    let _ = writeln!(
        yaml,
        "# On a database {tool} migrated, the first `fox migrate up` records what {tool} applied as applied without running it."
    );
    if !folder.left_out.is_empty() {
        yaml.push_str("#\n# Not imported:\n");
        for line in &folder.left_out {
            let _ = writeln!(yaml, "#   - {line}");
        }
    }
    for migration in &folder.migrations {
        // A Kubernetes name: at most 63 characters.
        let version = migration.version.to_string();
        let keep = 62usize.saturating_sub(version.len());
        let prefix: String = database_ref.chars().take(keep).collect();
        let resource = FoxMigration::new(
            &format!("{}-{version}", prefix.trim_end_matches('-')),
            FoxMigrationSpec {
                database_ref: DatabaseRef {
                    name: database_ref.clone(),
                },
                version: migration.version,
                name: migration.name.clone(),
                up: Some(migration.up.clone()),
                down: migration.down.clone(),
                up_commands: None,
                down_commands: None,
                transactional: migration.transactional,
                imported_from: Some(migration.imported_from.clone()),
                tenants: None,
            },
        );
        yaml.push_str("---\n");
        let _ = writeln!(yaml, "# {}", migration.origin.display());
        yaml.push_str(&serde_yaml_ng::to_string(&resource)?);
    }
    // The tools checksum the scripts byte for byte: the stream must give them back so.
    let mut set = ManifestSet::default();
    parse_manifests(Path::new("import"), &yaml, &mut set);
    if let Some(problem) = set.problems.first() {
        bail!("the written FoxMigrations do not read back: {problem}");
    }
    let read: Vec<&FoxMigration> = set.migrations().map(|(_, m)| m).collect();
    for (migration, back) in folder.migrations.iter().zip(&read) {
        if back.spec.up.as_deref() != Some(migration.up.as_str())
            || back.spec.down != migration.down
        {
            bail!(
                "{}: the script does not survive YAML byte for byte; nothing was written",
                migration.origin.display()
            );
        }
    }
    if read.len() != folder.migrations.len() {
        bail!("the written FoxMigrations do not read back; nothing was written");
    }
    Ok(yaml)
}
