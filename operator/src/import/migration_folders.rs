//! Migration folders in the layouts of golang-migrate, sqlx, Prisma Migrate, Diesel and Flyway,
//! read as migrations that remember the tool and its key and checksum of each
//! (`spec.importedFrom`), so `fox migrate up` can adopt what the tool applied.
//!
//! | tool | layout | FoxDB version |
//! |---|---|---|
//! | golang-migrate | `NNN_name.up.sql` + `NNN_name.down.sql` | `NNN` |
//! | sqlx | `NNN_name.sql`, or `NNN_name.up.sql` + `.down.sql` | `NNN` |
//! | prisma | `<timestamp>_name/migration.sql` | `<timestamp>` |
//! | diesel | `<date>_name/up.sql` + `down.sql` | the date's digits |
//! | flyway | `V<n>__name.sql` + `U<n>__name.sql` | `<n>` |

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fox_crds::{ImportedFrom, MigrationTool};

use crate::migrate::tool_history::tool_checksum;

/// One migration read from a tool's folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedMigration {
    /// FoxDB's ordering key.
    pub version: u64,
    /// Description.
    pub name: String,
    /// The `up` script, byte for byte (the tools checksum it so).
    pub up: String,
    /// The `down` script, if the layout has one.
    pub down: Option<String>,
    /// Whether it may run in one transaction: not when the script opts out as its tool spells
    /// it (sqlx `-- no-transaction`, FoxDB `-- fox:no-transaction` on the first line).
    pub transactional: bool,
    /// The tool, its key of the migration and its checksum of `up`.
    pub imported_from: ImportedFrom,
    /// The file `up` was read from.
    pub origin: PathBuf,
}

/// Why a folder could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A name that does not follow the tool's layout.
    #[error("{path}: {expected}")]
    BadName {
        /// The file or folder.
        path: PathBuf,
        /// The layout the tool expects.
        expected: String,
    },
    /// Two migrations with one version.
    #[error("version {version} is defined twice: {first} and {second}")]
    Duplicate {
        /// The version.
        version: u64,
        /// One.
        first: PathBuf,
        /// The other.
        second: PathBuf,
    },
    /// A down (undo) script without its up script.
    #[error("{path}: a down step without an up step")]
    DownWithoutUp {
        /// The file.
        path: PathBuf,
    },
    /// Nothing in the folder.
    #[error("{path}: no {tool} migrations found")]
    Empty {
        /// The folder.
        path: PathBuf,
        /// The tool.
        tool: MigrationTool,
    },
}

/// What an import found: the migrations, and what it left out (with the reason).
#[derive(Debug, Default)]
pub struct ImportedFolder {
    /// In version order.
    pub migrations: Vec<ImportedMigration>,
    /// Files the layout has that FoxMigrations cannot hold, each with the reason.
    pub left_out: Vec<String>,
}

/// Reads `directory` in `tool`'s layout.
///
/// # Errors
/// Unreadable files, names outside the layout, duplicate versions, an empty folder.
pub fn import_folder(directory: &Path, tool: MigrationTool) -> Result<ImportedFolder, ImportError> {
    let mut folder = ImportedFolder::default();
    let mut ups: BTreeMap<u64, ImportedMigration> = BTreeMap::new();
    let mut downs: Vec<(u64, PathBuf, String)> = Vec::new();
    let add = |ups: &mut BTreeMap<u64, ImportedMigration>,
               migration: ImportedMigration|
     -> Result<(), ImportError> {
        if let Some(existing) = ups.get(&migration.version) {
            return Err(ImportError::Duplicate {
                version: migration.version,
                first: existing.origin.clone(),
                second: migration.origin,
            });
        }
        ups.insert(migration.version, migration);
        Ok(())
    };
    for path in entries(directory)? {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        match tool {
            MigrationTool::GolangMigrate | MigrationTool::Sqlx => {
                if path.is_dir() || !file_name.ends_with(".sql") {
                    folder
                        .left_out
                        .push(format!("{}: not a .sql migration", path.display()));
                    continue;
                }
                let stem = file_name.trim_end_matches(".sql");
                let (stem, down) = match (stem.strip_suffix(".up"), stem.strip_suffix(".down")) {
                    (Some(up), _) => (up, false),
                    (None, Some(down)) => (down, true),
                    // golang-migrate needs the direction in the name; sqlx does not.
                    (None, None) if tool == MigrationTool::Sqlx => (stem, false),
                    (None, None) => {
                        return Err(bad_name(
                            &path,
                            "expected NNN_name.up.sql or NNN_name.down.sql",
                        ));
                    }
                };
                let (version, name) = version_and_name(stem, "_").ok_or_else(|| {
                    bad_name(&path, "expected the version digits first: NNN_name")
                })?;
                let text = read(&path)?;
                if down {
                    downs.push((version, path, text));
                    continue;
                }
                let migration = imported(tool, version, version.to_string(), name, text, &path);
                add(&mut ups, migration)?;
            }
            MigrationTool::Prisma | MigrationTool::Diesel => {
                if !path.is_dir() {
                    // `migration_lock.toml` (Prisma) and `.keep` files are not migrations.
                    continue;
                }
                let (digits, name) = match version_and_name(&file_name.replace('-', ""), "_") {
                    Some(found) => found,
                    None => {
                        return Err(bad_name(
                            &path,
                            "expected a folder <timestamp>_name holding the migration",
                        ));
                    }
                };
                let (up_file, down_file) = match tool {
                    MigrationTool::Prisma => ("migration.sql", None),
                    _ => ("up.sql", Some("down.sql")),
                };
                let up_path = path.join(up_file);
                if !up_path.is_file() {
                    folder
                        .left_out
                        .push(format!("{}: no {up_file} in the folder", path.display()));
                    continue;
                }
                let key = match tool {
                    MigrationTool::Prisma => file_name.clone(),
                    // Diesel's version is the name's first part without its dashes.
                    _ => file_name
                        .split('_')
                        .next()
                        .unwrap_or_default()
                        .replace('-', ""),
                };
                // FoxDB versions start at 1; Diesel's setup migration is version 0.
                let version = digits.max(1);
                let mut migration = imported(tool, version, key, name, read(&up_path)?, &up_path);
                if let Some(down_file) = down_file {
                    let down_path = path.join(down_file);
                    if down_path.is_file() {
                        migration.down = Some(read(&down_path)?);
                    }
                }
                add(&mut ups, migration)?;
            }
            MigrationTool::Flyway => {
                if path.is_dir() || !file_name.ends_with(".sql") {
                    folder
                        .left_out
                        .push(format!("{}: not a .sql migration", path.display()));
                    continue;
                }
                if file_name.starts_with('R') {
                    folder.left_out.push(format!(
                        "{}: a repeatable migration (re-run whenever it changes), which a FoxMigration cannot express; apply it as a FoxSchema or by hand",
                        path.display()
                    ));
                    continue;
                }
                let undo = file_name.starts_with('U');
                let Some(rest) = file_name
                    .strip_prefix('V')
                    .or_else(|| file_name.strip_prefix('U'))
                else {
                    return Err(bad_name(
                        &path,
                        "expected V<version>__name.sql or U<version>__name.sql",
                    ));
                };
                let Some((raw_version, description)) =
                    rest.trim_end_matches(".sql").split_once("__")
                else {
                    return Err(bad_name(
                        &path,
                        "expected V<version>__name.sql (two underscores)",
                    ));
                };
                let Ok(version) = raw_version.parse::<u64>() else {
                    return Err(bad_name(
                        &path,
                        &format!(
                            "version {raw_version}: FoxDB versions are whole numbers; renumber the migration (V{}__...)",
                            raw_version.replace(['.', '_'], "")
                        ),
                    ));
                };
                let text = read(&path)?;
                if undo {
                    downs.push((version, path, text));
                    continue;
                }
                let name = description.replace('_', " ");
                let migration = imported(tool, version, version.to_string(), name, text, &path);
                add(&mut ups, migration)?;
            }
        }
    }
    for (version, path, text) in downs {
        match ups.get_mut(&version) {
            Some(migration) => migration.down = Some(text),
            None => return Err(ImportError::DownWithoutUp { path }),
        }
    }
    if ups.is_empty() {
        return Err(ImportError::Empty {
            path: directory.to_path_buf(),
            tool,
        });
    }
    folder.migrations = ups.into_values().collect();
    Ok(folder)
}

fn imported(
    tool: MigrationTool,
    version: u64,
    key: String,
    name: String,
    up: String,
    origin: &Path,
) -> ImportedMigration {
    ImportedMigration {
        version,
        name: if name.is_empty() {
            format!("migration {version}")
        } else {
            name
        },
        imported_from: ImportedFrom {
            tool,
            version: key,
            checksum: tool_checksum(tool, &up),
        },
        transactional: !up.lines().next().is_some_and(|first| {
            let first = first.trim();
            first == "-- fox:no-transaction"
                || (tool == MigrationTool::Sqlx && first.starts_with("-- no-transaction"))
        }),
        up,
        down: None,
        origin: origin.to_path_buf(),
    }
}

/// `20240101_create_users` → (20240101, "create users").
fn version_and_name(stem: &str, separator: &str) -> Option<(u64, String)> {
    let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
    let version = digits.parse::<u64>().ok()?;
    let rest = &stem[digits.len()..];
    if !rest.is_empty() && !rest.starts_with(separator) {
        return None;
    }
    Some((
        version,
        rest.trim_start_matches(separator).replace('_', " "),
    ))
}

fn bad_name(path: &Path, expected: &str) -> ImportError {
    ImportError::BadName {
        path: path.to_path_buf(),
        expected: expected.to_string(),
    }
}

/// The folder's entries, sorted.
fn entries(directory: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let read_error = |source| ImportError::Read {
        path: directory.to_path_buf(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(directory).map_err(read_error)? {
        paths.push(entry.map_err(read_error)?.path());
    }
    paths.sort();
    Ok(paths)
}

/// A script as the tool reads it: byte for byte (the checksums are over the bytes).
fn read(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(directory: &Path, name: &str, text: &str) {
        let path = directory.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn each_tool_layout_is_read_with_its_keys_and_checksums() {
        let golang = tempfile::tempdir().unwrap();
        write(
            golang.path(),
            "000001_create_users.up.sql",
            "CREATE TABLE users (id int);\n",
        );
        write(
            golang.path(),
            "000001_create_users.down.sql",
            "DROP TABLE users;\n",
        );
        let read = import_folder(golang.path(), MigrationTool::GolangMigrate).unwrap();
        let first = &read.migrations[0];
        assert_eq!((first.version, first.name.as_str()), (1, "create users"));
        assert_eq!(first.imported_from.version, "1");
        assert_eq!(first.imported_from.checksum, None);
        assert_eq!(first.down.as_deref(), Some("DROP TABLE users;\n"));

        let prisma = tempfile::tempdir().unwrap();
        write(
            prisma.path(),
            "migration_lock.toml",
            "provider = \"postgresql\"\n",
        );
        write(
            prisma.path(),
            "20240101120000_init/migration.sql",
            "CREATE TABLE a (id int);",
        );
        let read = import_folder(prisma.path(), MigrationTool::Prisma).unwrap();
        let first = &read.migrations[0];
        assert_eq!(first.version, 20_240_101_120_000);
        assert_eq!(first.imported_from.version, "20240101120000_init");
        assert_eq!(
            first.imported_from.checksum.as_ref().map(String::len),
            Some(64)
        );

        let diesel = tempfile::tempdir().unwrap();
        write(
            diesel.path(),
            "00000000000000_diesel_initial_setup/up.sql",
            "SELECT 1;",
        );
        write(
            diesel.path(),
            "2024-01-01-120000_create_posts/up.sql",
            "CREATE TABLE p (id int);",
        );
        write(
            diesel.path(),
            "2024-01-01-120000_create_posts/down.sql",
            "DROP TABLE p;",
        );
        let read = import_folder(diesel.path(), MigrationTool::Diesel).unwrap();
        assert_eq!(read.migrations[0].version, 1, "version 0 becomes 1");
        assert_eq!(read.migrations[0].imported_from.version, "00000000000000");
        assert_eq!(read.migrations[1].version, 20_240_101_120_000);
        assert_eq!(read.migrations[1].imported_from.version, "20240101120000");
        assert_eq!(read.migrations[1].down.as_deref(), Some("DROP TABLE p;"));

        let flyway = tempfile::tempdir().unwrap();
        write(
            flyway.path(),
            "V1__Create_person.sql",
            "CREATE TABLE person (id int);",
        );
        write(flyway.path(), "U1__Create_person.sql", "DROP TABLE person;");
        write(flyway.path(), "R__views.sql", "CREATE VIEW v AS SELECT 1;");
        let read = import_folder(flyway.path(), MigrationTool::Flyway).unwrap();
        assert_eq!(read.migrations[0].name, "Create person");
        assert!(read.migrations[0].down.is_some());
        assert_eq!(read.left_out.len(), 1, "the repeatable migration is named");

        let sqlx = tempfile::tempdir().unwrap();
        write(sqlx.path(), "20240101_a.sql", "SELECT 1;");
        write(
            sqlx.path(),
            "20240102_b.sql",
            "-- no-transaction\nCREATE INDEX CONCURRENTLY b ON a (id);",
        );
        let read = import_folder(sqlx.path(), MigrationTool::Sqlx).unwrap();
        assert!(read.migrations[0].transactional && !read.migrations[1].transactional);
        assert_eq!(
            read.migrations[0]
                .imported_from
                .checksum
                .as_ref()
                .map(String::len),
            Some(96)
        );
    }

    #[test]
    fn names_outside_a_layout_are_refused_with_the_layout() {
        let golang = tempfile::tempdir().unwrap();
        write(golang.path(), "1_a.sql", "SELECT 1;");
        let error = import_folder(golang.path(), MigrationTool::GolangMigrate).unwrap_err();
        assert!(error.to_string().contains("NNN_name.up.sql"), "{error}");
        let flyway = tempfile::tempdir().unwrap();
        write(flyway.path(), "V1_1__a.sql", "SELECT 1;");
        let error = import_folder(flyway.path(), MigrationTool::Flyway).unwrap_err();
        assert!(error.to_string().contains("whole numbers"), "{error}");
    }
}
