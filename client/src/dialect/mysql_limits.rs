//! What MySQL and MariaDB cannot store of a declared table, found before any DDL runs: MySQL
//! commits DDL as it goes, so a limit hit half-way through an apply would leave it half done.
//!
//! Sizes follow the MySQL reference manual ("Data Type Storage Requirements", "Limits on Table
//! Column Count and Row Size", InnoDB "Limits"), with text in `utf8mb4` (4 bytes a character),
//! the character set FoxDB creates tables with.

use std::collections::BTreeMap;

use fox_crds::ColumnType;

use crate::schema::Table;

/// Largest row MySQL accepts, not counting the off-page parts of TEXT and BLOB values.
pub const MAX_ROW_BYTES: u64 = 65_535;

/// Largest index key InnoDB accepts (DYNAMIC row format, the default).
pub const MAX_KEY_BYTES: u64 = 3_072;

/// Bytes a character of `utf8mb4` text can take.
const BYTES_PER_CHARACTER: u64 = 4;

/// Bytes of a DECIMAL value: 4 per 9 digits on each side of the point, less for the rest.
fn decimal_bytes(precision: u32, scale: u32) -> u64 {
    const LEFTOVER: [u64; 9] = [0, 1, 1, 2, 2, 3, 3, 4, 4];
    let side = |digits: u32| u64::from(digits / 9) * 4 + LEFTOVER[(digits % 9) as usize];
    side(precision.saturating_sub(scale)) + side(scale)
}

fn enum_bytes(labels: &[String]) -> u64 {
    if labels.len() > 255 { 2 } else { 1 }
}

/// Bytes one value of `ty` takes in a row, length prefix included (TEXT and BLOB count the
/// pointer kept in the row).
fn row_bytes(ty: &ColumnType) -> u64 {
    match ty {
        ColumnType::Boolean => 1,
        ColumnType::SmallInt => 2,
        ColumnType::Integer | ColumnType::Serial | ColumnType::Real => 4,
        ColumnType::BigInt | ColumnType::BigSerial | ColumnType::Double => 8,
        ColumnType::Decimal { precision, scale } => decimal_bytes(*precision, *scale),
        ColumnType::Char(n) => u64::from(*n) * BYTES_PER_CHARACTER,
        ColumnType::Varchar(n) => {
            let bytes = u64::from(*n) * BYTES_PER_CHARACTER;
            bytes + if bytes > 255 { 2 } else { 1 }
        }
        ColumnType::Uuid => 36 * BYTES_PER_CHARACTER,
        // LONGTEXT, LONGBLOB and JSON keep a 4-byte length and an 8-byte pointer in the row.
        ColumnType::Text | ColumnType::Json | ColumnType::Bytes => 12,
        ColumnType::Date | ColumnType::Time => 3,
        ColumnType::Timestamp => 8,
        ColumnType::TimestampTz => 7,
        ColumnType::Enum(labels) => enum_bytes(labels),
    }
}

/// Bytes `ty` takes in an index key, or `None` for a type MySQL cannot index whole.
fn key_bytes(ty: &ColumnType) -> Option<u64> {
    match ty {
        ColumnType::Text | ColumnType::Json | ColumnType::Bytes => None,
        ColumnType::Char(n) | ColumnType::Varchar(n) => Some(u64::from(*n) * BYTES_PER_CHARACTER),
        ColumnType::Boolean
        | ColumnType::SmallInt
        | ColumnType::Integer
        | ColumnType::Serial
        | ColumnType::Real
        | ColumnType::BigInt
        | ColumnType::BigSerial
        | ColumnType::Double
        | ColumnType::Decimal { .. }
        | ColumnType::Uuid
        | ColumnType::Date
        | ColumnType::Time
        | ColumnType::Timestamp
        | ColumnType::TimestampTz
        | ColumnType::Enum(_) => Some(row_bytes(ty)),
    }
}

/// Every limit `table` exceeds on MySQL/MariaDB, one line each naming the table and column.
pub(super) fn storage_problems(table: &Table) -> Vec<String> {
    let mut problems = Vec::new();
    enum_label_problems(table, &mut problems);
    key_problems(table, &mut problems);
    let nullable = table.columns.iter().filter(|c| c.nullable).count() as u64;
    let row: u64 =
        table.columns.iter().map(|c| row_bytes(&c.ty)).sum::<u64>() + nullable.div_ceil(8);
    if row > MAX_ROW_BYTES {
        let widest = table
            .columns
            .iter()
            .max_by_key(|c| row_bytes(&c.ty))
            .map(|c| format!(" (widest: {} {})", c.name, c.ty))
            .unwrap_or_default();
        problems.push(format!(
            "table {}: a row can take {row} bytes, over MySQL's limit of {MAX_ROW_BYTES} bytes (text counts 4 bytes a character){widest}; use text for long strings",
            table.name
        ));
    }
    problems
}

/// MySQL compares enum labels without case and drops their trailing spaces.
fn enum_label_problems(table: &Table, problems: &mut Vec<String>) {
    for column in &table.columns {
        let ColumnType::Enum(labels) = &column.ty else {
            continue;
        };
        let mut seen: BTreeMap<String, &str> = BTreeMap::new();
        for label in labels {
            let key = label.trim_end_matches(' ').to_lowercase();
            match seen.get(&key) {
                Some(first) => problems.push(format!(
                    "column {}.{}: enum labels \"{first}\" and \"{label}\" are the same label to MySQL, which ignores case and trailing spaces in enum labels; rename one",
                    table.name, column.name
                )),
                None => {
                    seen.insert(key, label);
                }
            }
        }
    }
}

fn key_problems(table: &Table, problems: &mut Vec<String>) {
    let keys = std::iter::once(("primary key".to_string(), &table.primary_key)).chain(
        table
            .indexes
            .iter()
            .map(|i| (format!("index {}", i.name), &i.columns)),
    );
    for (key, columns) in keys {
        let mut total = 0;
        for column in columns.iter().filter_map(|name| table.column(name)) {
            match key_bytes(&column.ty) {
                Some(bytes) => total += bytes,
                None => problems.push(format!(
                    "column {}.{}: a {} column cannot be in a key or index ({key}) on MySQL, which indexes bounded types only; declare it varchar(n)",
                    table.name, column.name, column.ty
                )),
            }
        }
        if total > MAX_KEY_BYTES {
            problems.push(format!(
                "table {}: {key} ({}) takes {total} bytes, over MySQL's key limit of {MAX_KEY_BYTES} bytes (text counts 4 bytes a character); shorten its varchar columns",
                table.name,
                columns.join(", ")
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_take_four_bytes_per_nine_digits() {
        assert_eq!(decimal_bytes(18, 9), 8);
        assert_eq!(decimal_bytes(10, 2), 5);
        assert_eq!(decimal_bytes(65, 30), 30);
    }

    #[test]
    fn the_widest_single_column_key_fits() {
        assert_eq!(key_bytes(&ColumnType::Varchar(768)), Some(MAX_KEY_BYTES));
    }
}
