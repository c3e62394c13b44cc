//! Models: structs mapped to tables, usually through `#[derive(Model)]`.

use crate::connection::Value;
use crate::error::Result;
use crate::row::Row;

/// A struct stored in one table.
///
/// Derive it with `#[derive(foxdb::Model)]` rather than by hand: the derive also generates one
/// typed [`crate::Column`] handle per field (`User::EMAIL`).
pub trait Model: Sized + Send + Sync + 'static {
    /// Table name.
    const TABLE: &'static str;
    /// Column names, in field order.
    const COLUMNS: &'static [&'static str];
    /// Primary key columns.
    const PRIMARY_KEY: &'static [&'static str];
    /// Columns the database fills on insert (auto-increment keys).
    const GENERATED: &'static [&'static str];
    /// PostgreSQL types that values of some columns are cast to (enum types).
    const PG_TYPES: &'static [(&'static str, &'static str)] = &[];

    /// Decodes a row holding every column of [`Model::COLUMNS`].
    ///
    /// # Errors
    /// A column is missing or holds a value of another type.
    fn from_row(row: &Row) -> Result<Self>;

    /// Every column with its value, in field order.
    fn values(&self) -> Vec<(&'static str, Value)>;
}

/// Converts a Rust value into a bound parameter.
pub trait IntoValue {
    /// The parameter.
    fn into_value(self) -> Value;
}

macro_rules! into_value {
    ($($ty:ty => $variant:ident via $conversion:expr),* $(,)?) => {
        $(impl IntoValue for $ty {
            fn into_value(self) -> Value {
                #[allow(clippy::redundant_closure_call)]
                Value::$variant(($conversion)(self))
            }
        })*
    };
}

into_value! {
    bool => Bool via |v| v,
    i16 => Int via i64::from,
    i32 => Int via i64::from,
    i64 => Int via |v| v,
    f32 => Float via f64::from,
    f64 => Float via |v| v,
    String => Text via |v| v,
    &str => Text via str::to_string,
    Vec<u8> => Bytes via |v| v,
    uuid::Uuid => Uuid via |v| v,
    chrono::DateTime<chrono::Utc> => TimestampTz via |v| v,
    chrono::NaiveDateTime => Timestamp via |v| v,
    chrono::NaiveDate => Date via |v| v,
    chrono::NaiveTime => Time via |v| v,
    serde_json::Value => Json via |v| v,
    rust_decimal::Decimal => Decimal via |v| v,
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, IntoValue::into_value)
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

/// The Rust type of a column, and what its values compare with: `Option<T>` columns compare
/// with `T`.
pub trait ColumnType {
    /// The type comparisons take.
    type Compared: IntoValue;
}

macro_rules! column_types {
    ($($ty:ty),*) => { $(impl ColumnType for $ty { type Compared = $ty; })* };
}

column_types!(
    bool,
    i16,
    i32,
    i64,
    f32,
    f64,
    String,
    Vec<u8>,
    uuid::Uuid,
    chrono::DateTime<chrono::Utc>,
    chrono::NaiveDateTime,
    chrono::NaiveDate,
    chrono::NaiveTime,
    serde_json::Value,
    rust_decimal::Decimal
);

impl<T: ColumnType> ColumnType for Option<T> {
    type Compared = T::Compared;
}
