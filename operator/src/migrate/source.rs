//! Where migrations come from: FoxMigration resources, and plain folders in the layout of
//! golang-migrate, sqlx and others (`<version>_<name>.up.sql` + `.down.sql`, or
//! `<version>_<name>.sql` without a down step).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fox_crds::manifest::ManifestSet;
use sha2::{Digest, Sha256};

/// One versioned migration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migration {
    /// Ordering key.
    pub version: u64,
    /// Description.
    pub name: String,
    /// SQL applied by `up`.
    pub up: String,
    /// SQL applied by `down`; `None` when irreversible.
    pub down: Option<String>,
    /// Run in one transaction where the engine allows it.
    pub transactional: bool,
    /// Where it was read, for messages.
    pub origin: String,
    /// The FoxReplicaSet it targets (FoxMigration resources only).
    pub database_ref: Option<String>,
    /// The tool it was imported from (`spec.importedFrom`), whose bookkeeping `up` adopts.
    pub imported_from: Option<fox_crds::ImportedFrom>,
    /// The tenants it runs in instead of that database (FoxMigration `spec.tenants`).
    pub tenants: Option<fox_crds::tenants::MigrationTenants>,
}

fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl Migration {
    /// SHA-256 of the `up` text with its line endings as `\n`, hex: a checkout that converts
    /// line endings (`core.autocrlf`) does not change it.
    pub fn checksum(&self) -> String {
        sha256_hex(&self.up.replace("\r\n", "\n"))
    }

    /// Whether `recorded` is this migration's checksum: the current one, or one that earlier
    /// versions of FoxDB recorded over the raw text, with either line ending.
    pub fn matches_checksum(&self, recorded: &str) -> bool {
        let lf = self.up.replace("\r\n", "\n");
        recorded == sha256_hex(&lf)
            || recorded == sha256_hex(&self.up)
            || recorded == sha256_hex(&lf.replace('\n', "\r\n"))
    }
}

/// Why migrations could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file name does not follow `<version>_<name>[.up|.down].sql`.
    #[error("{path}: expected <version>_<name>.up.sql, .down.sql or .sql (version digits first)")]
    BadName {
        /// The file.
        path: PathBuf,
    },
    /// Two migrations share a version.
    #[error("version {version} is defined twice: {first} and {second}")]
    Duplicate {
        /// The version.
        version: u64,
        /// One origin.
        first: String,
        /// The other.
        second: String,
    },
    /// A `.down.sql` without its `.up.sql`.
    #[error("{path}: a down step without an up step")]
    DownWithoutUp {
        /// The file.
        path: PathBuf,
    },
}

/// `.sql` files directly under `directory` (sorted), if any.
pub fn sql_files(directory: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "sql"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Reads a folder of SQL migration files.
///
/// # Errors
/// Unreadable files, names that do not follow the layout, duplicate versions.
pub fn folder_migrations(directory: &Path) -> Result<Vec<Migration>, SourceError> {
    let mut ups: BTreeMap<u64, Migration> = BTreeMap::new();
    let mut downs: Vec<(u64, PathBuf, String)> = Vec::new();
    for path in sql_files(directory) {
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let stem = file_name.trim_end_matches(".sql");
        let (stem, direction) = if let Some(s) = stem.strip_suffix(".up") {
            (s, "up")
        } else if let Some(s) = stem.strip_suffix(".down") {
            (s, "down")
        } else {
            (stem, "up")
        };
        let digits: String = stem.chars().take_while(char::is_ascii_digit).collect();
        let Ok(version) = digits.parse::<u64>() else {
            return Err(SourceError::BadName { path });
        };
        let name = stem[digits.len()..]
            .trim_start_matches(['_', '-'])
            .replace('_', " ");
        let text = std::fs::read_to_string(&path).map_err(|source| SourceError::Read {
            path: path.clone(),
            source,
        })?;
        // Editors on Windows start UTF-8 files with a byte order mark; it is not SQL.
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => rest.to_string(),
            None => text,
        };
        if direction == "down" {
            downs.push((version, path, text));
            continue;
        }
        let migration = Migration {
            version,
            name: if name.is_empty() {
                format!("migration {version}")
            } else {
                name
            },
            // `-- fox:no-transaction` on the first line opts out, as `transactional: false` does.
            transactional: text
                .lines()
                .next()
                .is_none_or(|l| l.trim() != "-- fox:no-transaction"),
            up: text,
            down: None,
            origin: path.display().to_string(),
            database_ref: None,
            imported_from: None,
            tenants: None,
        };
        if let Some(existing) = ups.get(&version) {
            return Err(SourceError::Duplicate {
                version,
                first: existing.origin.clone(),
                second: migration.origin,
            });
        }
        ups.insert(version, migration);
    }
    for (version, path, text) in downs {
        match ups.get_mut(&version) {
            Some(migration) => migration.down = Some(text),
            None => return Err(SourceError::DownWithoutUp { path }),
        }
    }
    Ok(ups.into_values().collect())
}

/// The FoxMigrations of a manifest set.
pub fn resource_migrations(set: &ManifestSet) -> Vec<Migration> {
    set.migrations()
        .map(|(origin, m)| resource_migration(&origin.to_string(), m))
        .collect()
}

/// One FoxMigration resource as a migration; `origin` says where it was read (a file, or the
/// cluster).
pub fn resource_migration(origin: &str, resource: &fox_crds::FoxMigration) -> Migration {
    Migration {
        version: resource.spec.version,
        name: resource.spec.name.clone(),
        up: resource.spec.up.clone().unwrap_or_default(),
        down: resource.spec.down.clone(),
        transactional: resource.spec.transactional,
        origin: format!(
            "{origin} (FoxMigration/{})",
            resource.metadata.name.clone().unwrap_or_default()
        ),
        database_ref: Some(resource.spec.database_ref.name.clone()),
        imported_from: resource.spec.imported_from.clone(),
        tenants: resource.spec.tenants.clone(),
    }
}

/// Puts migrations in version order and refuses duplicate versions.
///
/// # Errors
/// [`SourceError::Duplicate`].
pub fn ordered(mut migrations: Vec<Migration>) -> Result<Vec<Migration>, SourceError> {
    migrations.sort_by_key(|m| m.version);
    for pair in migrations.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(SourceError::Duplicate {
                version: pair[0].version,
                first: pair[0].origin.clone(),
                second: pair[1].origin.clone(),
            });
        }
    }
    Ok(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_in_the_common_layouts_are_read() {
        let directory = tempfile::tempdir().unwrap();
        let write =
            |name: &str, text: &str| std::fs::write(directory.path().join(name), text).unwrap();
        write(
            "20240101120000_create_users.up.sql",
            "CREATE TABLE users (id integer);",
        );
        write("20240101120000_create_users.down.sql", "DROP TABLE users;");
        write(
            "20240102000000_add_index.sql",
            "CREATE INDEX users_id ON users (id);",
        );
        write(
            "3_concurrently.up.sql",
            "-- fox:no-transaction\nCREATE INDEX CONCURRENTLY x ON users (id);",
        );
        let migrations = folder_migrations(directory.path()).unwrap();
        let versions: Vec<u64> = migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [3, 20_240_101_120_000, 20_240_102_000_000]);
        assert_eq!(migrations[1].name, "create users");
        assert_eq!(migrations[1].down.as_deref(), Some("DROP TABLE users;"));
        assert!(migrations[2].down.is_none());
        assert!(!migrations[0].transactional);
    }

    #[test]
    fn line_endings_and_a_byte_order_mark_do_not_change_a_migration() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(
            directory.path().join("1_a.up.sql"),
            "\u{feff}-- fox:no-transaction\r\nCREATE TABLE a (id int);\r\n",
        )
        .unwrap();
        std::fs::write(
            directory.path().join("1_a.down.sql"),
            "\u{feff}DROP TABLE a;",
        )
        .unwrap();
        let crlf = folder_migrations(directory.path()).unwrap().remove(0);
        assert!(crlf.up.starts_with("-- fox:no-transaction"), "BOM stripped");
        assert_eq!(crlf.down.as_deref(), Some("DROP TABLE a;"));
        assert!(!crlf.transactional);
        let lf = Migration {
            up: crlf.up.replace("\r\n", "\n"),
            ..crlf.clone()
        };
        assert_eq!(crlf.checksum(), lf.checksum());
        // Checksums recorded over the raw text, before line endings were normalised, still match.
        assert!(lf.matches_checksum(&sha256_hex(&crlf.up)));
        assert!(crlf.matches_checksum(&sha256_hex(&lf.up)));
        assert!(!lf.matches_checksum(&sha256_hex("CREATE TABLE b (id int);")));
    }

    #[test]
    fn bad_names_and_orphan_downs_are_refused() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("init.sql"), "SELECT 1").unwrap();
        assert!(matches!(
            folder_migrations(directory.path()),
            Err(SourceError::BadName { .. })
        ));
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("1_x.down.sql"), "SELECT 1").unwrap();
        assert!(matches!(
            folder_migrations(directory.path()),
            Err(SourceError::DownWithoutUp { .. })
        ));
    }
}
