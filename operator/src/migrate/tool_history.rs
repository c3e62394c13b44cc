//! Other migration tools' bookkeeping: what golang-migrate, sqlx, Prisma Migrate, Diesel and
//! Flyway recorded as applied in a database, and each tool's checksum of a script, so FoxDB can
//! take over a database one of them migrated ([`super::adopt`]).
//!
//! The tables are read with their default names in the schema (database on MySQL) FoxDB's own
//! tables are in; a tool configured with another table name is not found, and its migrations
//! then count as not applied.

use std::fmt::Write as _;

use fox_crds::MigrationTool;
use foxdb::dialect::dialect_for;
use foxdb::{Connection, Executor};
use sha2::{Digest, Sha256, Sha384};

use crate::engine::bookkeeping::FoxTables;

/// What a tool recorded about one of its migrations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ToolState {
    /// Applied completely; with the tool's checksum of the script, where it keeps one.
    Applied {
        /// The recorded checksum, in the spelling of [`tool_checksum`].
        checksum: Option<String>,
    },
    /// Started and not completed (golang-migrate `dirty`, sqlx and Flyway `success = false`,
    /// Prisma without `finished_at`): the tool's own words.
    Failed {
        /// What the record says.
        reason: String,
    },
}

/// The tool's bookkeeping as read from the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ToolHistory {
    /// The table did not exist: the tool never ran here.
    pub absent: bool,
    /// (the tool's key of a migration, its state), one per migration the tool knows. For
    /// golang-migrate, which keeps one row (the current version), see [`Self::state_of`].
    pub records: Vec<(String, ToolState)>,
    /// golang-migrate's single row: (current version, dirty).
    pub current: Option<(u64, bool)>,
}

impl ToolHistory {
    /// The state the tool records for the migration it calls `version`; `None` when the tool
    /// did not apply it.
    pub fn state_of(&self, tool: MigrationTool, version: &str) -> Option<ToolState> {
        match tool {
            // Every version up to the current one is applied; the current one is dirty when
            // the flag is set.
            MigrationTool::GolangMigrate => {
                let (current, dirty) = self.current?;
                let version = version.parse::<u64>().ok()?;
                match version.cmp(&current) {
                    std::cmp::Ordering::Greater => None,
                    std::cmp::Ordering::Equal if dirty => Some(ToolState::Failed {
                        reason: "schema_migrations marks it dirty (it stopped part-way)".into(),
                    }),
                    _ => Some(ToolState::Applied { checksum: None }),
                }
            }
            MigrationTool::Prisma => self
                .records
                .iter()
                .find(|(key, _)| key == version)
                .map(|(_, state)| state.clone()),
            // Numeric keys compare as numbers: `001` and `1` are one version.
            MigrationTool::Sqlx | MigrationTool::Diesel | MigrationTool::Flyway => {
                let wanted = version.parse::<u64>().ok();
                self.records
                    .iter()
                    .find(|(key, _)| {
                        key == version || (wanted.is_some() && key.parse::<u64>().ok() == wanted)
                    })
                    .map(|(_, state)| state.clone())
            }
        }
    }
}

/// The table `tool` keeps its bookkeeping in, under its default name.
pub fn tool_table(tool: MigrationTool) -> &'static str {
    match tool {
        MigrationTool::GolangMigrate => "schema_migrations",
        MigrationTool::Sqlx => "_sqlx_migrations",
        MigrationTool::Prisma => "_prisma_migrations",
        MigrationTool::Diesel => "__diesel_schema_migrations",
        MigrationTool::Flyway => "flyway_schema_history",
    }
}

/// The checksum `tool` records for a migration whose script is `script`, spelled as
/// [`read_tool_history`] reports it: sqlx SHA-384 and Prisma SHA-256 of the bytes (hex),
/// Flyway the CRC32 of the script's lines without their line endings (a signed decimal, as
/// Java's `int`); `None` for tools that keep no checksum.
pub fn tool_checksum(tool: MigrationTool, script: &str) -> Option<String> {
    match tool {
        MigrationTool::Sqlx => Some(hex(&Sha384::digest(script.as_bytes()))),
        MigrationTool::Prisma => Some(hex(&Sha256::digest(script.as_bytes()))),
        MigrationTool::Flyway => Some(flyway_checksum(script).to_string()),
        MigrationTool::GolangMigrate | MigrationTool::Diesel => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// Flyway's `ChecksumCalculator`: one CRC32 over every line's UTF-8 bytes, read as Java's
/// `BufferedReader.readLine` does (no line terminators; a byte order mark on the first line
/// dropped), as a signed 32-bit number.
fn flyway_checksum(script: &str) -> i32 {
    let script = script.strip_prefix('\u{feff}').unwrap_or(script);
    let mut crc = Crc32::default();
    for line in script.split('\n') {
        crc.update(line.strip_suffix('\r').unwrap_or(line).as_bytes());
    }
    // `split` yields one empty piece after a final newline, which `readLine` does not; an
    // empty piece adds no bytes, so the checksum is the same.
    i32::from_ne_bytes(crc.finish().to_ne_bytes())
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as `java.util.zip.CRC32`.
struct Crc32 {
    value: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self { value: 0xFFFF_FFFF }
    }
}

impl Crc32 {
    fn update(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.value ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (self.value & 1).wrapping_neg();
                self.value = (self.value >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
    }

    fn finish(&self) -> u32 {
        !self.value
    }
}

/// Reads `tool`'s bookkeeping table on `connection`.
///
/// # Errors
/// Database errors, and a table whose rows do not have the tool's documented columns.
pub async fn read_tool_history(
    connection: &mut Connection,
    tables: &FoxTables,
    tool: MigrationTool,
) -> foxdb::Result<ToolHistory> {
    let table = tool_table(tool);
    if !tables.exists(connection, table).await? {
        return Ok(ToolHistory {
            absent: true,
            ..ToolHistory::default()
        });
    }
    let qualified = dialect_for(connection.backend()).qualified_table(tables.schema(), table);
    // Flags are read as 0/1, which every engine returns alike for its boolean type.
    let sql = match tool {
        MigrationTool::GolangMigrate => {
            format!("SELECT version, CASE WHEN dirty THEN 1 ELSE 0 END AS dirty FROM {qualified}")
        }
        MigrationTool::Sqlx => format!(
            "SELECT version, CASE WHEN success THEN 1 ELSE 0 END AS success, checksum FROM {qualified} ORDER BY version"
        ),
        MigrationTool::Prisma => format!(
            "SELECT migration_name, checksum, CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END AS finished, CASE WHEN rolled_back_at IS NULL THEN 0 ELSE 1 END AS rolled_back FROM {qualified} ORDER BY started_at"
        ),
        MigrationTool::Diesel => format!("SELECT version FROM {qualified} ORDER BY version"),
        MigrationTool::Flyway => format!(
            "SELECT version, checksum, CASE WHEN success THEN 1 ELSE 0 END AS success, type FROM {qualified} ORDER BY installed_rank"
        ),
    };
    let rows = connection.fetch_all(&sql, &[]).await?;
    let mut history = ToolHistory::default();
    // Later rows of the same migration (a retry after a failure) replace earlier ones.
    let set = |records: &mut Vec<(String, ToolState)>, key: String, state: Option<ToolState>| {
        records.retain(|(k, _)| *k != key);
        if let Some(state) = state {
            records.push((key, state));
        }
    };
    let records = &mut history.records;
    let mut current = None;
    for row in &rows {
        match tool {
            MigrationTool::GolangMigrate => {
                let version: i64 = row.get("version")?;
                let dirty: i64 = row.get("dirty")?;
                // golang-migrate writes -1 (no version) after migrating all the way down.
                current = u64::try_from(version).ok().map(|v| (v, dirty != 0));
            }
            MigrationTool::Sqlx => {
                let version: i64 = row.get("version")?;
                let success: i64 = row.get("success")?;
                let checksum: Vec<u8> = row.get("checksum")?;
                let state = if success == 0 {
                    ToolState::Failed {
                        reason: "_sqlx_migrations records it with success = false".into(),
                    }
                } else {
                    ToolState::Applied {
                        checksum: Some(hex(&checksum)),
                    }
                };
                set(records, version.to_string(), Some(state));
            }
            MigrationTool::Prisma => {
                let name: String = row.get("migration_name")?;
                let checksum: String = row.get("checksum")?;
                let finished: i64 = row.get("finished")?;
                let rolled_back: i64 = row.get("rolled_back")?;
                // A rolled-back attempt (`prisma migrate resolve --rolled-back`) is not
                // applied; a later attempt of the same migration decides.
                let state = match (finished != 0, rolled_back != 0) {
                    (_, true) => {
                        let applied = records.iter().any(|(k, s)| {
                            *k == name && matches!(s, ToolState::Applied { .. })
                        });
                        if applied {
                            continue;
                        }
                        None
                    }
                    (true, false) => Some(ToolState::Applied {
                        checksum: Some(checksum.to_ascii_lowercase()),
                    }),
                    (false, false) => Some(ToolState::Failed {
                        reason: "_prisma_migrations has it started and not finished (a failed migration)".into(),
                    }),
                };
                set(records, name, state);
            }
            MigrationTool::Diesel => {
                let version: String = row.get("version")?;
                set(
                    records,
                    version,
                    Some(ToolState::Applied { checksum: None }),
                );
            }
            MigrationTool::Flyway => {
                // Repeatable migrations and Flyway's own markers have no version.
                let Some(version) = row.get::<Option<String>>("version")? else {
                    continue;
                };
                let kind: String = row.get("type")?;
                let success: i64 = row.get("success")?;
                let checksum: Option<i64> = row.get("checksum")?;
                let state = match (kind.as_str(), success != 0) {
                    // A successful undo takes the version back out.
                    ("UNDO_SQL", true) => None,
                    ("UNDO_SQL", false) => Some(ToolState::Failed {
                        reason: "flyway_schema_history records a failed undo of it".into(),
                    }),
                    (_, false) => Some(ToolState::Failed {
                        reason: "flyway_schema_history records it with success = false".into(),
                    }),
                    (_, true) => Some(ToolState::Applied {
                        checksum: checksum.map(|c| c.to_string()),
                    }),
                };
                set(records, version, state);
            }
        }
    }
    history.current = current;
    Ok(history)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_are_computed_as_each_tool_computes_them() {
        // CRC-32 check value of the IEEE polynomial.
        let mut crc = Crc32::default();
        crc.update(b"123456789");
        assert_eq!(crc.finish(), 0xCBF4_3926);
        // Flyway reads lines: line endings and a final newline do not count.
        assert_eq!(
            flyway_checksum("CREATE TABLE a (id int);\nSELECT 1;\n"),
            flyway_checksum("CREATE TABLE a (id int);\r\nSELECT 1;")
        );
        assert_eq!(
            tool_checksum(MigrationTool::Prisma, "abc").as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            tool_checksum(MigrationTool::Sqlx, "abc").as_deref(),
            Some(
                "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"
            )
        );
        assert_eq!(tool_checksum(MigrationTool::GolangMigrate, "abc"), None);
    }

    #[test]
    fn golang_migrate_applies_every_version_up_to_its_current_one() {
        let history = ToolHistory {
            current: Some((3, true)),
            ..ToolHistory::default()
        };
        let tool = MigrationTool::GolangMigrate;
        assert_eq!(
            history.state_of(tool, "2"),
            Some(ToolState::Applied { checksum: None })
        );
        assert!(matches!(
            history.state_of(tool, "3"),
            Some(ToolState::Failed { .. })
        ));
        assert_eq!(history.state_of(tool, "4"), None);
    }
}
