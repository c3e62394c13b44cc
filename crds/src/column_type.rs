//! The portable column type vocabulary that every SQL engine maps.
//!
//! A FoxSchema column names its type with one of these spellings; each engine renders it to its
//! own native type and introspection maps native types back, so a schema round-trips.

use std::fmt;
use std::str::FromStr;

/// Largest `varchar(n)` length every engine can hold (MySQL: 65,535 bytes per row / 4 bytes per
/// utf8mb4 character).
pub const MAX_VARCHAR_LENGTH: u32 = 16_383;
/// Largest `char(n)` length every engine can hold (MySQL's limit).
pub const MAX_CHAR_LENGTH: u32 = 255;
/// Largest `decimal(p, s)` precision every engine can hold (MySQL's limit).
pub const MAX_DECIMAL_PRECISION: u32 = 65;
/// Largest `decimal(p, s)` scale every engine can hold (MySQL's limit).
pub const MAX_DECIMAL_SCALE: u32 = 30;
/// Longest enum label every engine can hold (PostgreSQL's limit, in bytes).
pub const MAX_ENUM_LABEL_BYTES: usize = 63;

/// A column type from the portable vocabulary.
///
/// ```
/// use fox_crds::ColumnType;
/// let ty: ColumnType = "decimal(10,2)".parse().unwrap();
/// assert_eq!(ty, ColumnType::Decimal { precision: 10, scale: 2 });
/// assert_eq!(ty.to_string(), "decimal(10,2)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// 16-bit signed integer.
    SmallInt,
    /// 32-bit signed integer.
    Integer,
    /// 64-bit signed integer.
    BigInt,
    /// 32-bit integer filled from a sequence (auto increment).
    Serial,
    /// 64-bit integer filled from a sequence (auto increment).
    BigSerial,
    /// True or false.
    Boolean,
    /// 32-bit floating point.
    Real,
    /// 64-bit floating point.
    Double,
    /// Exact decimal with `precision` digits, `scale` of them after the point.
    Decimal {
        /// Total number of digits.
        precision: u32,
        /// Digits after the decimal point.
        scale: u32,
    },
    /// Fixed-length text of `n` characters.
    Char(u32),
    /// Variable-length text of at most `n` characters.
    Varchar(u32),
    /// Unbounded text.
    Text,
    /// Calendar date.
    Date,
    /// Time of day without time zone.
    Time,
    /// Date and time without time zone.
    Timestamp,
    /// Instant in time (stored in UTC).
    TimestampTz,
    /// 128-bit UUID.
    Uuid,
    /// JSON document.
    Json,
    /// Binary data.
    Bytes,
    /// One of a fixed list of labels.
    Enum(Vec<String>),
}

/// Why a type spelling is not part of the vocabulary.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ColumnTypeError {
    /// The name is not a known type.
    #[error(
        "unknown type \"{0}\" (known: smallint integer bigint serial bigserial boolean real double decimal(p,s) char(n) varchar(n) text date time timestamp timestamptz uuid json bytes enum(a,b,...))"
    )]
    Unknown(String),
    /// The type takes arguments of a given shape and got something else.
    #[error("{0}")]
    BadArguments(String),
}

impl ColumnType {
    /// Whether values are assigned from a sequence when omitted on insert.
    pub fn is_auto_increment(&self) -> bool {
        matches!(self, Self::Serial | Self::BigSerial)
    }

    /// The type a column referencing this one must have: a serial is referenced by its integer.
    pub fn referenced_as(&self) -> ColumnType {
        match self {
            Self::Serial => Self::Integer,
            Self::BigSerial => Self::BigInt,
            other => other.clone(),
        }
    }

    /// Whether this is one of the integer types (serials included).
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            Self::SmallInt | Self::Integer | Self::BigInt | Self::Serial | Self::BigSerial
        )
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SmallInt => f.write_str("smallint"),
            Self::Integer => f.write_str("integer"),
            Self::BigInt => f.write_str("bigint"),
            Self::Serial => f.write_str("serial"),
            Self::BigSerial => f.write_str("bigserial"),
            Self::Boolean => f.write_str("boolean"),
            Self::Real => f.write_str("real"),
            Self::Double => f.write_str("double"),
            Self::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            Self::Char(n) => write!(f, "char({n})"),
            Self::Varchar(n) => write!(f, "varchar({n})"),
            Self::Text => f.write_str("text"),
            Self::Date => f.write_str("date"),
            Self::Time => f.write_str("time"),
            Self::Timestamp => f.write_str("timestamp"),
            Self::TimestampTz => f.write_str("timestamptz"),
            Self::Uuid => f.write_str("uuid"),
            Self::Json => f.write_str("json"),
            Self::Bytes => f.write_str("bytes"),
            Self::Enum(labels) => write!(f, "enum({})", labels.join(",")),
        }
    }
}

impl FromStr for ColumnType {
    type Err = ColumnTypeError;

    fn from_str(spelling: &str) -> Result<Self, Self::Err> {
        let spelling = spelling.trim();
        let (name, args) = match spelling.find('(') {
            Some(open) => {
                let Some(inner) = spelling[open + 1..].strip_suffix(')') else {
                    return Err(ColumnTypeError::BadArguments(format!(
                        "type \"{spelling}\" has an unclosed argument list"
                    )));
                };
                (spelling[..open].trim(), Some(inner))
            }
            None => (spelling, None),
        };
        let lower = name.to_ascii_lowercase();
        let simple = match lower.as_str() {
            "smallint" => Some(Self::SmallInt),
            "integer" => Some(Self::Integer),
            "bigint" => Some(Self::BigInt),
            "serial" => Some(Self::Serial),
            "bigserial" => Some(Self::BigSerial),
            "boolean" => Some(Self::Boolean),
            "real" => Some(Self::Real),
            "double" => Some(Self::Double),
            "text" => Some(Self::Text),
            "date" => Some(Self::Date),
            "time" => Some(Self::Time),
            "timestamp" => Some(Self::Timestamp),
            "timestamptz" => Some(Self::TimestampTz),
            "uuid" => Some(Self::Uuid),
            "json" => Some(Self::Json),
            "bytes" => Some(Self::Bytes),
            _ => None,
        };
        if let Some(simple) = simple {
            return match args {
                None => Ok(simple),
                Some(_) => Err(ColumnTypeError::BadArguments(format!(
                    "type \"{lower}\" takes no arguments"
                ))),
            };
        }
        match (lower.as_str(), args) {
            ("decimal", Some(args)) => parse_decimal(args),
            ("char", Some(args)) => parse_length("char", args, MAX_CHAR_LENGTH).map(Self::Char),
            ("varchar", Some(args)) => {
                parse_length("varchar", args, MAX_VARCHAR_LENGTH).map(Self::Varchar)
            }
            ("enum", Some(args)) => parse_enum(args),
            ("decimal" | "char" | "varchar" | "enum", None) => {
                Err(ColumnTypeError::BadArguments(format!(
                    "type \"{lower}\" needs arguments: {}",
                    match lower.as_str() {
                        "decimal" => "decimal(precision,scale)",
                        "enum" => "enum(label,label,...)",
                        "char" => "char(length)",
                        _ => "varchar(length)",
                    }
                )))
            }
            _ => Err(ColumnTypeError::Unknown(spelling.to_string())),
        }
    }
}

fn parse_number(type_name: &str, what: &str, text: &str) -> Result<u32, ColumnTypeError> {
    text.trim().parse::<u32>().map_err(|_| {
        ColumnTypeError::BadArguments(format!(
            "{type_name}: {what} \"{}\" is not a whole number",
            text.trim()
        ))
    })
}

fn parse_length(type_name: &str, args: &str, max: u32) -> Result<u32, ColumnTypeError> {
    let length = parse_number(type_name, "length", args)?;
    if length == 0 || length > max {
        return Err(ColumnTypeError::BadArguments(format!(
            "{type_name}({length}): length must be between 1 and {max}{}",
            if type_name == "varchar" {
                "; use text for longer values"
            } else {
                "; use varchar(n) or text for longer values"
            }
        )));
    }
    Ok(length)
}

fn parse_decimal(args: &str) -> Result<ColumnType, ColumnTypeError> {
    let parts: Vec<&str> = args.split(',').collect();
    let (precision, scale) = match parts.as_slice() {
        [p] => (parse_number("decimal", "precision", p)?, 0),
        [p, s] => (
            parse_number("decimal", "precision", p)?,
            parse_number("decimal", "scale", s)?,
        ),
        _ => {
            return Err(ColumnTypeError::BadArguments(format!(
                "decimal({args}): expected decimal(precision,scale)"
            )));
        }
    };
    if precision == 0 || precision > MAX_DECIMAL_PRECISION {
        return Err(ColumnTypeError::BadArguments(format!(
            "decimal({precision},{scale}): precision must be between 1 and {MAX_DECIMAL_PRECISION}"
        )));
    }
    if scale > precision || scale > MAX_DECIMAL_SCALE {
        return Err(ColumnTypeError::BadArguments(format!(
            "decimal({precision},{scale}): scale must be between 0 and the precision, at most {MAX_DECIMAL_SCALE}"
        )));
    }
    Ok(ColumnType::Decimal { precision, scale })
}

fn parse_enum(args: &str) -> Result<ColumnType, ColumnTypeError> {
    let mut labels: Vec<String> = Vec::new();
    for raw in args.split(',') {
        let label = raw.trim();
        if label.is_empty() {
            return Err(ColumnTypeError::BadArguments(format!(
                "enum({args}): labels must not be empty"
            )));
        }
        if label.len() > MAX_ENUM_LABEL_BYTES {
            return Err(ColumnTypeError::BadArguments(format!(
                "enum: label \"{label}\" is longer than {MAX_ENUM_LABEL_BYTES} bytes"
            )));
        }
        if label
            .chars()
            .any(|c| c.is_control() || c == '\'' || c == '"')
        {
            return Err(ColumnTypeError::BadArguments(format!(
                "enum: label \"{}\" contains a quote or control character",
                label.escape_default()
            )));
        }
        if labels.iter().any(|seen| seen == label) {
            return Err(ColumnTypeError::BadArguments(format!(
                "enum({args}): label \"{label}\" appears twice"
            )));
        }
        labels.push(label.to_string());
    }
    Ok(ColumnType::Enum(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips_through_display() {
        for spelling in [
            "smallint",
            "integer",
            "bigint",
            "serial",
            "bigserial",
            "boolean",
            "real",
            "double",
            "decimal(10,2)",
            "char(3)",
            "varchar(255)",
            "text",
            "date",
            "time",
            "timestamp",
            "timestamptz",
            "uuid",
            "json",
            "bytes",
            "enum(draft,published)",
        ] {
            let ty: ColumnType = spelling.parse().expect(spelling);
            assert_eq!(ty.to_string(), spelling);
        }
    }

    #[test]
    fn spelling_is_case_and_space_insensitive() {
        assert_eq!(
            " VARCHAR( 20 ) ".parse::<ColumnType>(),
            Ok(ColumnType::Varchar(20))
        );
        assert_eq!(
            "enum( a , b )".parse::<ColumnType>(),
            Ok(ColumnType::Enum(vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            ("strin", "unknown type \"strin\""),
            ("decimal(0,0)", "precision must be between 1 and 65"),
            ("decimal(5,6)", "scale must be between 0 and the precision"),
            ("decimal", "needs arguments"),
            ("varchar(0)", "length must be between 1 and 16383"),
            ("varchar(x)", "length \"x\" is not a whole number"),
            ("enum(a,,b)", "labels must not be empty"),
            ("enum(a,a)", "label \"a\" appears twice"),
            ("text(5)", "takes no arguments"),
            ("varchar(5", "unclosed argument list"),
        ];
        for (spelling, expected) in cases {
            let message = spelling.parse::<ColumnType>().unwrap_err().to_string();
            assert!(
                message.contains(expected),
                "{spelling}: {message} should contain {expected}"
            );
        }
    }

    #[test]
    fn serials_are_referenced_by_their_integer() {
        assert_eq!(ColumnType::BigSerial.referenced_as(), ColumnType::BigInt);
        assert_eq!(ColumnType::Serial.referenced_as(), ColumnType::Integer);
        assert_eq!(ColumnType::Uuid.referenced_as(), ColumnType::Uuid);
    }
}
