//! Native type spellings, as each engine reports them, read back into the portable vocabulary.
//!
//! Pure text work that needs no driver: every engine's is compiled whatever the cargo features,
//! so comparing a declared schema with its canonical form ([`super::canonical_type`]) works for
//! every engine.

use fox_crds::ColumnType;

use super::parse_quoted_list;

/// Maps `format_type()` output to the portable vocabulary.
pub(super) fn postgres(native: &str) -> Option<ColumnType> {
    let native = native.trim().to_ascii_lowercase();
    let (name, args) = match native.find('(') {
        Some(open) => {
            let close = native.find(')')?;
            let rest = native[close + 1..].trim();
            let name = if rest.is_empty() {
                native[..open].trim().to_string()
            } else {
                // timestamp(3) with time zone → timestamp with time zone
                format!("{} {rest}", native[..open].trim())
            };
            (name, Some(native[open + 1..close].to_string()))
        }
        None => (native.clone(), None),
    };
    let number = |text: &str| text.trim().parse::<u32>().ok();
    Some(match (name.as_str(), args.as_deref()) {
        ("smallint", None) => ColumnType::SmallInt,
        ("integer", None) => ColumnType::Integer,
        ("bigint", None) => ColumnType::BigInt,
        ("boolean", None) => ColumnType::Boolean,
        ("real", None) => ColumnType::Real,
        ("double precision", None) => ColumnType::Double,
        ("numeric", Some(args)) => {
            let mut parts = args.split(',');
            let precision = number(parts.next()?)?;
            let scale = parts.next().map_or(Some(0), number)?;
            ColumnType::Decimal { precision, scale }
        }
        ("character", Some(n)) => ColumnType::Char(number(n)?),
        ("character varying", Some(n)) => ColumnType::Varchar(number(n)?),
        ("character varying" | "text", None) => ColumnType::Text,
        ("date", None) => ColumnType::Date,
        ("time without time zone", _) => ColumnType::Time,
        ("timestamp without time zone", _) => ColumnType::Timestamp,
        ("timestamp with time zone", _) => ColumnType::TimestampTz,
        ("uuid", None) => ColumnType::Uuid,
        ("json" | "jsonb", None) => ColumnType::Json,
        ("bytea", None) => ColumnType::Bytes,
        _ => return None,
    })
}

/// Maps `COLUMN_TYPE` to the portable vocabulary (display widths such as `int(11)` ignored).
pub(super) fn mysql(native: &str) -> Option<ColumnType> {
    let native = native.trim();
    let lower = native.to_ascii_lowercase();
    let lower = lower
        .trim_end_matches(" unsigned")
        .trim_end_matches(" signed");
    let (name, args) = match lower.find('(') {
        Some(open) => (&lower[..open], Some(&native[open + 1..native.rfind(')')?])),
        None => (lower, None),
    };
    let number = |text: &str| text.trim().parse::<u32>().ok();
    Some(match (name, args) {
        ("tinyint", Some("1")) | ("boolean" | "bool", _) => ColumnType::Boolean,
        ("smallint", _) => ColumnType::SmallInt,
        ("int" | "integer" | "mediumint", _) => ColumnType::Integer,
        ("bigint", _) => ColumnType::BigInt,
        ("float", _) => ColumnType::Real,
        ("double", _) => ColumnType::Double,
        ("decimal" | "numeric", Some(args)) => {
            let mut parts = args.split(',');
            let precision = number(parts.next()?)?;
            let scale = parts.next().map_or(Some(0), number)?;
            ColumnType::Decimal { precision, scale }
        }
        ("char", Some(n)) => ColumnType::Char(number(n)?),
        ("varchar", Some(n)) => ColumnType::Varchar(number(n)?),
        ("text" | "mediumtext" | "longtext" | "tinytext", _) => ColumnType::Text,
        ("date", None) => ColumnType::Date,
        ("time", _) => ColumnType::Time,
        ("datetime", _) => ColumnType::Timestamp,
        ("timestamp", _) => ColumnType::TimestampTz,
        ("uuid", None) => ColumnType::Uuid,
        ("json", None) => ColumnType::Json,
        ("blob" | "mediumblob" | "longblob" | "tinyblob", None) => ColumnType::Bytes,
        // MySQL escapes backslashes in COLUMN_TYPE.
        ("enum", Some(list)) => ColumnType::Enum(
            parse_quoted_list(list)
                .into_iter()
                .map(|label| label.replace("\\\\", "\\"))
                .collect(),
        ),
        _ => return None,
    })
}

/// Maps a declared type name to the portable vocabulary.
pub(super) fn sqlite(declared: &str) -> Option<ColumnType> {
    let upper = declared.trim().to_ascii_uppercase();
    let (name, args) = match upper.find('(') {
        Some(open) => (
            upper[..open].trim(),
            Some(&upper[open + 1..upper.rfind(')')?]),
        ),
        None => (upper.as_str(), None),
    };
    let number = |text: &str| text.trim().parse::<u32>().ok();
    Some(match (name, args) {
        ("SMALLINT", None) => ColumnType::SmallInt,
        ("INTEGER" | "INT", None) => ColumnType::Integer,
        ("BIGINT", None) => ColumnType::BigInt,
        ("BOOLEAN" | "BOOL", None) => ColumnType::Boolean,
        ("REAL" | "FLOAT", None) => ColumnType::Real,
        ("DOUBLE" | "DOUBLE PRECISION", None) => ColumnType::Double,
        ("DECIMAL" | "NUMERIC", Some(args)) => {
            let mut parts = args.split(',');
            let precision = number(parts.next()?)?;
            let scale = parts.next().map_or(Some(0), number)?;
            ColumnType::Decimal { precision, scale }
        }
        ("CHAR" | "CHARACTER", Some(n)) => ColumnType::Char(number(n)?),
        ("VARCHAR", Some(n)) => ColumnType::Varchar(number(n)?),
        ("TEXT" | "VARCHAR" | "CLOB", None) => ColumnType::Text,
        ("DATE", None) => ColumnType::Date,
        ("TIME", None) => ColumnType::Time,
        ("TIMESTAMP" | "DATETIME", None) => ColumnType::Timestamp,
        ("TIMESTAMPTZ", None) => ColumnType::TimestampTz,
        ("UUID", None) => ColumnType::Uuid,
        ("JSON", None) => ColumnType::Json,
        ("BLOB" | "BYTES", None) => ColumnType::Bytes,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_native_types_map_back() {
        assert_eq!(
            postgres("numeric(12,2)"),
            Some(ColumnType::Decimal {
                precision: 12,
                scale: 2
            })
        );
        assert_eq!(
            postgres("character varying(255)"),
            Some(ColumnType::Varchar(255))
        );
        assert_eq!(
            postgres("timestamp(3) with time zone"),
            Some(ColumnType::TimestampTz)
        );
        assert_eq!(postgres("jsonb"), Some(ColumnType::Json));
        assert_eq!(postgres("numeric"), None);
        assert_eq!(postgres("point"), None);
    }

    #[test]
    fn mysql_native_types_map_back() {
        assert_eq!(mysql("int(11)"), Some(ColumnType::Integer));
        assert_eq!(mysql("tinyint(1)"), Some(ColumnType::Boolean));
        assert_eq!(
            mysql("decimal(12,2)"),
            Some(ColumnType::Decimal {
                precision: 12,
                scale: 2
            })
        );
        assert_eq!(mysql("datetime(6)"), Some(ColumnType::Timestamp));
        assert_eq!(mysql("timestamp(6)"), Some(ColumnType::TimestampTz));
        assert_eq!(
            mysql("enum('Draft','it''s')"),
            Some(ColumnType::Enum(vec!["Draft".into(), "it's".into()]))
        );
        assert_eq!(mysql("geometry"), None);
    }

    #[test]
    fn sqlite_native_types_map_back() {
        assert_eq!(sqlite("VARCHAR(255)"), Some(ColumnType::Varchar(255)));
        assert_eq!(sqlite("varchar"), Some(ColumnType::Text));
        assert_eq!(
            sqlite("NUMERIC(12, 2)"),
            Some(ColumnType::Decimal {
                precision: 12,
                scale: 2
            })
        );
        assert_eq!(sqlite("TIMESTAMPTZ"), Some(ColumnType::TimestampTz));
        assert_eq!(sqlite("GEOMETRY"), None);
    }
}
