//! Whether a column type change keeps every value, may lose some, or cannot be done.

use fox_crds::ColumnType;

/// What converting a column's values from one type to another does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Conversion {
    /// Every value fits the new type.
    Widening,
    /// Some values may not fit; the reason says which.
    Narrowing(String),
    /// No cast exists between the types.
    Impossible(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Integer,
    Float,
    Decimal,
    Text,
    Boolean,
    Temporal,
    Uuid,
    Json,
    Bytes,
    Enum,
}

fn family(ty: &ColumnType) -> Family {
    match ty {
        ColumnType::SmallInt
        | ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Serial
        | ColumnType::BigSerial => Family::Integer,
        ColumnType::Real | ColumnType::Double => Family::Float,
        ColumnType::Decimal { .. } => Family::Decimal,
        ColumnType::Char(_) | ColumnType::Varchar(_) | ColumnType::Text => Family::Text,
        ColumnType::Boolean => Family::Boolean,
        ColumnType::Date | ColumnType::Time | ColumnType::Timestamp | ColumnType::TimestampTz => {
            Family::Temporal
        }
        ColumnType::Uuid => Family::Uuid,
        ColumnType::Json => Family::Json,
        ColumnType::Bytes => Family::Bytes,
        ColumnType::Enum(_) => Family::Enum,
    }
}

/// Decimal digits an integer type can need.
fn integer_digits(ty: &ColumnType) -> u32 {
    match ty {
        ColumnType::SmallInt => 5,
        ColumnType::Integer | ColumnType::Serial => 10,
        _ => 19,
    }
}

/// Characters needed to write any value of `ty` as text, when bounded.
fn text_width(ty: &ColumnType) -> Option<u32> {
    match ty {
        ColumnType::SmallInt => Some(6),
        ColumnType::Integer | ColumnType::Serial => Some(11),
        ColumnType::BigInt | ColumnType::BigSerial => Some(20),
        ColumnType::Boolean => Some(5),
        ColumnType::Decimal { precision, .. } => Some(precision + 2),
        ColumnType::Char(n) | ColumnType::Varchar(n) => Some(*n),
        ColumnType::Uuid => Some(36),
        ColumnType::Date => Some(10),
        ColumnType::Time => Some(15),
        ColumnType::Timestamp | ColumnType::TimestampTz => Some(32),
        ColumnType::Enum(labels) => labels.iter().map(|l| l.chars().count() as u32).max(),
        _ => None,
    }
}

fn text_capacity(ty: &ColumnType) -> Option<u32> {
    match ty {
        ColumnType::Char(n) | ColumnType::Varchar(n) => Some(*n),
        _ => None,
    }
}

/// Classifies converting values of `from` into `to`.
pub fn classify(from: &ColumnType, to: &ColumnType) -> Conversion {
    use Family::*;
    let narrowing = |why: String| Conversion::Narrowing(why);
    let (f, t) = (family(from), family(to));
    match (f, t) {
        _ if from.referenced_as() == to.referenced_as() => Conversion::Widening,
        (Integer, Integer) => {
            if integer_digits(to) >= integer_digits(from) {
                Conversion::Widening
            } else {
                narrowing(format!("{from} values may not fit {to}"))
            }
        }
        (Integer, Decimal) => match to {
            ColumnType::Decimal { precision, scale }
                if precision - scale >= integer_digits(from) =>
            {
                Conversion::Widening
            }
            _ => narrowing(format!("{from} values may not fit {to}")),
        },
        (Integer, Float) => Conversion::Widening,
        (Float, Float) => match (from, to) {
            (ColumnType::Double, ColumnType::Real) => {
                narrowing("double values lose precision as real".into())
            }
            _ => Conversion::Widening,
        },
        (Decimal, Decimal) => match (from, to) {
            (
                ColumnType::Decimal {
                    precision: p1,
                    scale: s1,
                },
                ColumnType::Decimal {
                    precision: p2,
                    scale: s2,
                },
            ) if s2 >= s1 && p2 - s2 >= p1 - s1 => Conversion::Widening,
            _ => narrowing(format!(
                "{from} values may not fit {to} (digits or scale shrink)"
            )),
        },
        (Decimal, Float) | (Float, Decimal) | (Float, Integer) | (Decimal, Integer) => {
            narrowing(format!("{from} values are rounded or may not fit {to}"))
        }
        (Text, Text) => match (text_capacity(from), text_capacity(to)) {
            (_, None) => Conversion::Widening,
            (Some(old), Some(new)) if new >= old => Conversion::Widening,
            _ => narrowing(format!(
                "values longer than {to} allows would be cut or refused"
            )),
        },
        (Enum, Enum) => {
            let (ColumnType::Enum(old), ColumnType::Enum(new)) = (from, to) else {
                return Conversion::Widening;
            };
            let removed: Vec<&String> = old.iter().filter(|l| !new.contains(l)).collect();
            if removed.is_empty() {
                Conversion::Widening
            } else {
                let removed: Vec<&str> = removed.iter().map(|s| s.as_str()).collect();
                narrowing(format!(
                    "rows holding removed labels ({}) cannot be converted",
                    removed.join(", ")
                ))
            }
        }
        (_, Text) if f != Bytes && f != Json => match (text_width(from), text_capacity(to)) {
            (_, None) => Conversion::Widening,
            (Some(width), Some(capacity)) if capacity >= width => Conversion::Widening,
            _ => narrowing(format!("{from} values may be longer than {to} allows")),
        },
        (Json, Text) => match text_capacity(to) {
            None => Conversion::Widening,
            Some(_) => narrowing(format!("JSON documents may be longer than {to} allows")),
        },
        (Text | Enum, Enum | Uuid | Json | Integer | Decimal | Float | Boolean | Temporal) => {
            narrowing(format!(
                "text values that are not valid {to} make the change fail"
            ))
        }
        (Boolean, Integer) => Conversion::Widening,
        (Integer, Boolean) => narrowing("integers other than 0 and 1 lose their value".into()),
        (Temporal, Temporal) => match (from, to) {
            (ColumnType::Date, ColumnType::Timestamp | ColumnType::TimestampTz) => {
                Conversion::Widening
            }
            (ColumnType::Timestamp, ColumnType::TimestampTz)
            | (ColumnType::TimestampTz, ColumnType::Timestamp) => {
                narrowing("values are reinterpreted in the session time zone".into())
            }
            (
                ColumnType::Timestamp | ColumnType::TimestampTz,
                ColumnType::Date | ColumnType::Time,
            ) => narrowing(format!("{from} values lose part of their value as {to}")),
            _ => Conversion::Impossible(format!("{from} cannot be converted to {to}")),
        },
        _ => Conversion::Impossible(format!(
            "{from} cannot be converted to {to}; add a new column and move the data with a FoxMigration"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widening_changes_are_safe() {
        for (from, to) in [
            ("integer", "bigint"),
            ("varchar(10)", "varchar(20)"),
            ("varchar(10)", "text"),
            ("decimal(10,2)", "decimal(12,2)"),
            ("enum(a,b)", "enum(a,b,c)"),
            ("integer", "text"),
            ("date", "timestamptz"),
        ] {
            let (f, t) = (from.parse().unwrap(), to.parse().unwrap());
            assert_eq!(classify(&f, &t), Conversion::Widening, "{from} → {to}");
        }
    }

    #[test]
    fn narrowing_and_impossible_changes_are_flagged() {
        for (from, to) in [
            ("bigint", "integer"),
            ("text", "varchar(5)"),
            ("enum(a,b)", "enum(a)"),
            ("decimal(10,2)", "decimal(10,1)"),
        ] {
            let (f, t) = (from.parse().unwrap(), to.parse().unwrap());
            assert!(
                matches!(classify(&f, &t), Conversion::Narrowing(_)),
                "{from} → {to}"
            );
        }
        for (from, to) in [
            ("bytes", "integer"),
            ("boolean", "date"),
            ("json", "integer"),
        ] {
            let (f, t) = (from.parse().unwrap(), to.parse().unwrap());
            assert!(
                matches!(classify(&f, &t), Conversion::Impossible(_)),
                "{from} → {to}"
            );
        }
    }
}
