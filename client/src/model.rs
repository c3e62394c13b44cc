//! Models: structs mapped to tables, usually through `#[derive(Model)]`.

use crate::connection::Value;
use crate::error::Result;
use crate::row::Row;
use crate::transaction::Transaction;

/// A struct stored in one table.
///
/// Derive it with `#[derive(Clone, foxdb::Model)]` rather than by hand: the derive also generates one
/// typed [`crate::Column`] handle per field (`User::EMAIL`).
pub trait Model: Hooks + Clone + Sized + Send + Sync + 'static {
    /// Table name.
    const TABLE: &'static str;
    /// Column names, in field order.
    const COLUMNS: &'static [&'static str];
    /// Primary key columns.
    const PRIMARY_KEY: &'static [&'static str];
    /// Columns the database fills on insert (auto-increment keys).
    const GENERATED: &'static [&'static str];
    /// Columns holding a FoxSchema enum (`#[foxdb(enum)]`): on an engine with enum types of
    /// its own (PostgreSQL) values are cast to the type the schema engine made for the column,
    /// which the dialect names; elsewhere they go as their text labels.
    const ENUM_COLUMNS: &'static [&'static str] = &[];
    /// What each field holds, in [`Model::COLUMNS`] order, for [`crate::Database::verify`]
    /// (the derive writes it from the field types; empty: only the columns are checked).
    const FIELDS: &'static [crate::verify::FieldShape] = &[];
    /// Whether the model has its own [`Hooks`]; writes through the pool then run in a
    /// transaction so an `after_*` hook's error undoes the write.
    const HAS_HOOKS: bool = false;
    /// The column naming each row's tenant (`#[foxdb(tenant)]`; the FoxSchema table's
    /// `tenantColumn`), for a tenant-scoped model: every statement on it is filtered by (and
    /// every insert filled with) the tenant of the executor that runs it, a
    /// [`crate::Tenant`] handle; other executors refuse it unless the query says
    /// `.all_tenants()`. See [`crate::tenant`].
    const TENANT_COLUMN: Option<&'static str> = None;

    /// Decodes a row holding every column of [`Model::COLUMNS`].
    ///
    /// # Errors
    /// A column is missing or holds a value of another type.
    fn from_row(row: &Row) -> Result<Self>;

    /// Decodes a row whose first columns are [`Model::COLUMNS`] in field order, as foxdb's own
    /// queries select them: by position, without looking names up. The derive writes it; the
    /// default decodes by name.
    ///
    /// # Errors
    /// A column holds a value of another type.
    fn from_row_in_order(row: &Row) -> Result<Self> {
        Self::from_row(row)
    }

    /// Every column with its value, in field order.
    fn values(&self) -> Vec<(&'static str, Value)>;

    /// Appends the value of every column to `values`, in field order, but those whose position
    /// `left_out` sets (bit `i` for the `i`-th of [`Model::COLUMNS`]; positions past 63 are
    /// never left out): how an insert collects its values. The derive writes it without the
    /// list [`Model::values`] builds.
    #[doc(hidden)]
    fn push_values(&self, left_out: u64, values: &mut Vec<Value>) {
        for (position, (_, value)) in self.values().into_iter().enumerate() {
            if is_written(left_out, position) {
                values.push(value);
            }
        }
    }

    /// Writes the row for a `COPY ... FROM STDIN` in text format onto `out`: the values of the
    /// columns `left_out` keeps (as for [`Model::push_values`]), tab-separated and ending in a
    /// newline; `false`, with `out` possibly holding part of the row, when a value has no exact
    /// text form ([`crate::dialect::copy_text`]). The derive writes it from the fields, without
    /// building [`Value`]s.
    #[doc(hidden)]
    fn write_copy_row(&self, left_out: u64, out: &mut String) -> bool {
        let values = self
            .values()
            .into_iter()
            .enumerate()
            .filter(|(position, _)| is_written(left_out, *position))
            .map(|(_, (_, value))| value);
        crate::dialect::copy_text::write_copy_row(out, values)
    }

    /// Builds the model from one value per column: `value(column)` gives each column of
    /// [`Model::COLUMNS`] (`Value::Null` for a missing one). This is how foxdb reads records that
    /// are not SQL rows (MongoDB documents, [`crate::mongo`]). The derive writes it; the default
    /// refuses.
    ///
    /// # Errors
    /// What `value` returns, or [`crate::Error::Decode`] for a value of another type.
    fn from_values(value: &mut dyn FnMut(&'static str) -> Result<Value>) -> Result<Self> {
        let _ = value;
        Err(crate::Error::Decode {
            column: Self::COLUMNS
                .first()
                .copied()
                .unwrap_or_default()
                .to_string(),
            message: format!(
                "`{}` cannot be built from values (`#[derive(foxdb::Model)]` writes this)",
                Self::TABLE
            ),
        })
    }

    /// The value of one column (the derive reads just that field).
    fn value_of(&self, column: &str) -> Option<Value> {
        self.values()
            .into_iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v)
    }

    /// Sets one column's field from a value, as a builder update's `set` does to each row
    /// before its [`Hooks::before_update`] runs. The derive writes it; the default refuses.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] for an unknown column or a value of another type.
    fn set_value(&mut self, column: &str, value: Value) -> Result<()> {
        let _ = value;
        Err(crate::Error::Decode {
            column: column.to_string(),
            message: format!(
                "`{}` cannot set columns by name (`#[derive(foxdb::Model)]` with `#[foxdb(hooks)]` writes this, for hooks on builder updates)",
                Self::TABLE
            ),
        })
    }
}

/// Code run around writes of a model, inside the same transaction as the write. Each hook gets
/// that transaction, so it can read and write other rows atomically with the change (an audit
/// row in `after_update`): what it writes commits with the change or rolls back with it.
/// `#[derive(Model)]` gives every model the no-op default; with `#[foxdb(hooks)]` the struct
/// implements this trait itself, writing each hook it needs as an `async fn`:
///
/// ```
/// # use foxdb::{Result, Transaction};
/// #[derive(Clone, foxdb::Model)]
/// #[foxdb(table = "users", hooks)]
/// struct User {
///     #[foxdb(primary_key, auto_increment)]
///     id: i64,
///     email: String,
/// }
///
/// #[derive(Clone, foxdb::Model)]
/// #[foxdb(table = "audit")]
/// struct Audit {
///     #[foxdb(primary_key, auto_increment)]
///     id: i64,
///     what: String,
/// }
///
/// impl foxdb::Hooks for User {
///     async fn before_insert(&mut self, _tx: &mut Transaction) -> Result<()> {
///         self.email = self.email.trim().to_lowercase();
///         Ok(())
///     }
///
///     async fn after_update(&self, tx: &mut Transaction) -> Result<()> {
///         let what = format!("user {} now {}", self.id, self.email);
///         tx.insert(&Audit { id: 0, what }).await?;
///         Ok(())
///     }
/// }
/// ```
///
/// Writes of a model with hooks run in a transaction: through the pool a new one, in a
/// transaction a savepoint of it (so a failing hook undoes only its write there); through an
/// executor that is neither they are refused with [`crate::Error::Unsupported`].
pub trait Hooks {
    /// Before an insert; may change the row (normalise an email, fill a slug). For
    /// [`crate::Database::create`], which inserts only some columns, it runs on the row as
    /// stored with the database's defaults, and what it changes is written before
    /// `after_insert`.
    ///
    /// # Errors
    /// An error cancels the insert.
    fn before_insert(
        &mut self,
        transaction: &mut Transaction,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = transaction;
        std::future::ready(Ok(()))
    }

    /// After an insert, with the row as stored.
    ///
    /// # Errors
    /// An error rolls the insert back.
    fn after_insert(
        &self,
        transaction: &mut Transaction,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = transaction;
        std::future::ready(Ok(()))
    }

    /// Before a model is saved over its stored row.
    ///
    /// # Errors
    /// An error cancels the update.
    fn before_update(
        &mut self,
        transaction: &mut Transaction,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = transaction;
        std::future::ready(Ok(()))
    }

    /// After a model was saved.
    ///
    /// # Errors
    /// An error rolls the update back.
    fn after_update(
        &self,
        transaction: &mut Transaction,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = transaction;
        std::future::ready(Ok(()))
    }

    /// Before a model's row is deleted.
    ///
    /// # Errors
    /// An error cancels the delete.
    fn before_delete(
        &self,
        transaction: &mut Transaction,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = transaction;
        std::future::ready(Ok(()))
    }

    /// After a model's row was deleted.
    ///
    /// # Errors
    /// An error rolls the delete back.
    fn after_delete(
        &self,
        transaction: &mut Transaction,
    ) -> impl Future<Output = Result<()>> + Send {
        let _ = transaction;
        std::future::ready(Ok(()))
    }
}

/// The values of a new row of `Self::Model` where columns with defaults (and generated keys)
/// are optional: `None` lets the database fill them. `fox generate client` writes one
/// `New<Model>` struct per table.
pub trait NewRow: Send + Sync {
    /// The model the row becomes.
    type Model: Model;

    /// The columns given, with their values.
    fn values(&self) -> Vec<(&'static str, Value)>;
}

/// Changes to some columns of a row of `Self::Model`: the `<Model>Changes` struct that
/// `#[derive(Model)]` writes next to each model, with every column outside the primary key as an
/// `Option` (`None` leaves the column alone; for a nullable column `Some(None)` writes NULL).
/// Written by [`crate::Database::patch`] or [`crate::query::Update::changes`]. Its `Debug`
/// names the columns that change, never their values.
pub trait Changes: Send + Sync {
    /// The model whose rows change.
    type Model: Model;

    /// The columns to write (the fields that are `Some`), with their values.
    fn assignments(&self) -> Vec<(&'static str, Value)>;

    /// Makes the same changes to `model` in memory.
    fn apply_to(&self, model: &mut Self::Model);

    /// Whether no column changes.
    fn is_empty(&self) -> bool {
        self.assignments().is_empty()
    }
}

/// Converts a Rust value into a bound parameter.
pub trait IntoValue {
    /// The parameter.
    fn into_value(self) -> Value;

    /// Writes the value as PostgreSQL's `COPY` text format reads it (see
    /// [`crate::dialect::copy_text`]) straight from `self`: `Some(false)` when it has no exact
    /// text form, `None` when the type writes it only through [`IntoValue::into_value`] (see
    /// [`write_copy_field`]). Text and integers, and `Option`s of them, write it.
    #[doc(hidden)]
    fn copy_text(&self, _out: &mut String) -> Option<bool> {
        None
    }
}

/// Writes a field's value in `COPY` text format ([`IntoValue::copy_text`], else through
/// [`IntoValue::into_value`] of a clone); `false` when it has no exact text form. What the
/// derive's [`Model::write_copy_row`] writes each field with.
#[doc(hidden)]
pub fn write_copy_field<T: IntoValue + Clone>(field: &T, out: &mut String) -> bool {
    match field.copy_text(out) {
        Some(written) => written,
        None => crate::dialect::copy_text::write_copy_value(out, &field.clone().into_value()),
    }
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

/// [`IntoValue`] for text and integers, whose `COPY` text is written from the field.
macro_rules! into_value_copied {
    ($($ty:ty => $variant:ident via $conversion:expr, copied $write:ident),* $(,)?) => {
        $(impl IntoValue for $ty {
            fn into_value(self) -> Value {
                #[allow(clippy::redundant_closure_call)]
                Value::$variant(($conversion)(self))
            }

            fn copy_text(&self, out: &mut String) -> Option<bool> {
                crate::dialect::copy_text::$write(out, (*self).into());
                Some(true)
            }
        })*
    };
}

into_value_copied! {
    i16 => Int via i64::from, copied write_integer,
    i32 => Int via i64::from, copied write_integer,
    i64 => Int via |v| v, copied write_integer,
    &str => Text via str::to_string, copied write_escaped,
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::Text(self)
    }

    fn copy_text(&self, out: &mut String) -> Option<bool> {
        crate::dialect::copy_text::write_escaped(out, self);
        Some(true)
    }
}

into_value! {
    bool => Bool via |v| v,
    f32 => Float via f64::from,
    f64 => Float via |v| v,
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

    fn copy_text(&self, out: &mut String) -> Option<bool> {
        match self {
            Some(value) => value.copy_text(out),
            None => {
                out.push_str("\\N");
                Some(true)
            }
        }
    }
}

impl IntoValue for Value {
    fn into_value(self) -> Value {
        self
    }
}

/// Converts a bound value back into a field's Rust type: the reverse of [`IntoValue`], for
/// [`Model::set_value`].
pub trait FromValue: Sized {
    /// The field value.
    ///
    /// # Errors
    /// A value of another type (the message says which).
    fn from_value(value: Value) -> std::result::Result<Self, String>;
}

fn wrong_value<T>(value: &Value) -> std::result::Result<T, String> {
    Err(format!(
        "cannot set a {} field from {value:?}",
        std::any::type_name::<T>()
    ))
}

macro_rules! from_value {
    ($($ty:ty => $variant:ident via $conversion:expr),* $(,)?) => {
        $(impl FromValue for $ty {
            fn from_value(value: Value) -> std::result::Result<Self, String> {
                match value {
                    #[allow(clippy::redundant_closure_call)]
                    Value::$variant(inner) => ($conversion)(inner),
                    other => wrong_value(&other),
                }
            }
        })*
    };
}

from_value! {
    bool => Bool via Ok,
    i16 => Int via |v: i64| i16::try_from(v).map_err(|e| e.to_string()),
    i32 => Int via |v: i64| i32::try_from(v).map_err(|e| e.to_string()),
    i64 => Int via Ok,
    // Values for f32 columns were widened from an f32, so narrowing them back is exact.
    f32 => Float via |v: f64| Ok(v as f32),
    f64 => Float via Ok,
    String => Text via Ok,
    Vec<u8> => Bytes via Ok,
    uuid::Uuid => Uuid via Ok,
    chrono::DateTime<chrono::Utc> => TimestampTz via Ok,
    chrono::NaiveDateTime => Timestamp via Ok,
    chrono::NaiveDate => Date via Ok,
    chrono::NaiveTime => Time via Ok,
    serde_json::Value => Json via Ok,
    rust_decimal::Decimal => Decimal via Ok,
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> std::result::Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// A value a column of type `T` compares with: `T` itself, and lossless widenings (an `i32`
/// for an `i64` column, a `&str` for a `String` column). Unlike `Into`, a `bool` does not
/// compare with an integer.
pub trait Comparable<T> {
    /// The value as the column's type.
    fn into_compared(self) -> T;
}

macro_rules! comparable {
    ($($from:ty => $to:ty),* $(,)?) => {
        $(impl Comparable<$to> for $from {
            fn into_compared(self) -> $to {
                <$to>::from(self)
            }
        })*
    };
}

comparable! {
    bool => bool,
    i16 => i16, i16 => i32, i16 => i64, i32 => i32, i32 => i64, i64 => i64,
    f32 => f32, f32 => f64, f64 => f64,
    String => String, &str => String,
    Vec<u8> => Vec<u8>,
    uuid::Uuid => uuid::Uuid,
    chrono::DateTime<chrono::Utc> => chrono::DateTime<chrono::Utc>,
    chrono::NaiveDateTime => chrono::NaiveDateTime,
    chrono::NaiveDate => chrono::NaiveDate,
    chrono::NaiveTime => chrono::NaiveTime,
    serde_json::Value => serde_json::Value,
    rust_decimal::Decimal => rust_decimal::Decimal,
}

impl Comparable<String> for &String {
    fn into_compared(self) -> String {
        self.clone()
    }
}

/// The Rust type of a column, and what its values compare with: `Option<T>` columns compare
/// with `T`.
pub trait ColumnType {
    /// The type comparisons take.
    type Compared: IntoValue;
}

/// Calls `$apply!` with every Rust type a column maps to: the one list for each trait that has
/// an impl per column type ([`ColumnType`] here, `Nullable` in the query sources).
macro_rules! for_column_types {
    ($apply:ident) => {
        $apply!(
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
    };
}
pub(crate) use for_column_types;

macro_rules! column_types {
    ($($ty:ty),*) => { $(impl ColumnType for $ty { type Compared = $ty; })* };
}

for_column_types!(column_types);

impl<T: ColumnType> ColumnType for Option<T> {
    type Compared = T::Compared;
}

/// A value a column of type `T` can be set to ([`crate::query::Update::set`]): what the
/// column compares with and, for a nullable column (`Option<T>`), also an `Option` of that,
/// `None` writing NULL: `set(User::BIO, Some("hi"))`, `set(User::BIO, None::<&str>)`.
pub trait Assignable<T> {
    /// The bound value.
    fn into_assigned(self) -> Value;
}

/// The [`Assignable`] impls of one column type: its own values, and for its nullable column
/// those values and `Option`s of them.
#[doc(hidden)]
#[macro_export]
macro_rules! __assignable_impls {
    ($($ty:ty),*) => { $(
        impl<V: $crate::Comparable<$ty>> $crate::Assignable<$ty> for V {
            fn into_assigned(self) -> $crate::Value {
                $crate::IntoValue::into_value(self.into_compared())
            }
        }
        impl<V: $crate::Comparable<$ty>> $crate::Assignable<::core::option::Option<$ty>> for V {
            fn into_assigned(self) -> $crate::Value {
                $crate::IntoValue::into_value(self.into_compared())
            }
        }
        impl<V: $crate::Comparable<$ty>> $crate::Assignable<::core::option::Option<$ty>>
            for ::core::option::Option<V>
        {
            fn into_assigned(self) -> $crate::Value {
                match self {
                    ::core::option::Option::Some(value) => {
                        $crate::IntoValue::into_value(value.into_compared())
                    }
                    ::core::option::Option::None => $crate::Value::Null,
                }
            }
        }
    )* };
}

for_column_types!(__assignable_impls);

// `#[derive(foxdb::Enum)]` types, which the user's crate could not give these impls (orphan
// rules): a variant, and for a nullable enum column an `Option` of one.
impl<E: crate::Enum + IntoValue> Assignable<E> for E {
    fn into_assigned(self) -> Value {
        self.into_value()
    }
}

impl<E: crate::Enum + IntoValue> Assignable<Option<E>> for E {
    fn into_assigned(self) -> Value {
        self.into_value()
    }
}

impl<E: crate::Enum + IntoValue> Assignable<Option<E>> for Option<E> {
    fn into_assigned(self) -> Value {
        self.map_or(Value::Null, IntoValue::into_value)
    }
}

/// Whether the column at `position` is written under `left_out` ([`Model::push_values`]).
#[doc(hidden)]
#[inline]
pub fn is_written(left_out: u64, position: usize) -> bool {
    position >= 64 || left_out & (1 << position) == 0
}
