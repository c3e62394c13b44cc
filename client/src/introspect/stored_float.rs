//! Floating point defaults as the engine keeps them: rounded to the column's precision (and to
//! the digits MariaDB reports for a `FLOAT`), `-0` as `0`, and written in a form every engine
//! reads back as the same number (`1e100`, not a 101-digit integer MySQL truncates to a decimal).

use crate::dialect::FloatStorage;

/// The default `text` of a floating point column as `storage` keeps it, written so the engine
/// parses it back to the same value; `None` when `text` is not a number.
pub fn stored_float_text(storage: FloatStorage, text: &str) -> Option<String> {
    let value: f64 = text.trim().parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    // Engines keep no negative zero in a default (PostgreSQL's numeric literal has none).
    let value = if value == 0.0 { 0.0 } else { value };
    Some(match storage {
        FloatStorage::Double => float_literal(value),
        FloatStorage::Single => single_literal(value as f32),
        FloatStorage::SingleShownWith(digits) => {
            let shown = format!("{:.*e}", digits.saturating_sub(1), value as f32);
            single_literal(shown.parse::<f32>().ok()?)
        }
    })
}

/// The shortest text that reads back as `value`, in exponent form when it is very large or
/// very small.
fn float_literal(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 || (1e-4..1e15).contains(&magnitude) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

fn single_literal(value: f32) -> String {
    let magnitude = value.abs();
    if value == 0.0 || (1e-4..1e15).contains(&magnitude) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(storage: FloatStorage, text: &str) -> String {
        stored_float_text(storage, text).expect(text)
    }

    #[test]
    fn float_defaults_compare_as_the_engine_stores_them() {
        let mariadb_float = FloatStorage::SingleShownWith(6);
        assert_eq!(stored(mariadb_float, "123456789.123"), "123457000");
        assert_eq!(
            stored(mariadb_float, "123456789.123"),
            stored(mariadb_float, "123457000")
        );
        assert_eq!(
            stored(mariadb_float, "0.3333333333333333"),
            stored(mariadb_float, "0.333333")
        );
        assert_eq!(stored(mariadb_float, "1e20"), "1e20");
        assert_eq!(stored(FloatStorage::Single, "0.1"), "0.1");
        assert_eq!(
            stored(FloatStorage::Single, "100000000000000000000"),
            stored(FloatStorage::Single, "1e20")
        );
        assert_eq!(stored(FloatStorage::Double, "1e100"), "1e100");
        assert_eq!(
            stored(FloatStorage::Double, &format!("{}", 1e100)),
            "1e100",
            "a 101-digit spelling is the same number"
        );
        assert_eq!(stored(FloatStorage::Double, "-0"), "0");
        assert_eq!(stored(FloatStorage::Double, "0.0"), "0");
        assert_eq!(stored(FloatStorage::Double, "1.5"), "1.5");
        assert_eq!(stored_float_text(FloatStorage::Double, "abc"), None);
    }
}
