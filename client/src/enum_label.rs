//! FoxSchema enum columns as Rust values: `#[derive(foxdb::Enum)]` on a Rust enum stores each
//! variant as its text label, on every engine (a PostgreSQL enum type, a MySQL `ENUM`, a SQLite
//! `CHECK`ed text column).
//!
//! ```
//! #[derive(Clone, Copy, Debug, PartialEq, Eq, foxdb::Enum)]
//! enum Status {
//!     Draft,
//!     PendingReview, // stored as `pending_review`
//!     #[foxdb(label = "live")]
//!     Published,
//! }
//!
//! use foxdb::Enum as _;
//! assert_eq!(Status::PendingReview.label(), "pending_review");
//! assert_eq!(Status::from_label("live"), Some(Status::Published));
//! assert_eq!(Status::LABELS, ["draft", "pending_review", "live"]);
//! ```
//!
//! A model field holding one is marked `#[foxdb(enum)]`, as a `String` field holding the label
//! would be; the marker takes only such types:
//!
//! ```compile_fail
//! #[derive(Clone, foxdb::Model)]
//! #[foxdb(table = "posts")]
//! struct Post {
//!     #[foxdb(primary_key)]
//!     id: i64,
//!     #[foxdb(enum)] // an integer is no enum label: does not compile
//!     status: i64,
//! }
//! ```

/// A Rust enum stored as a FoxSchema enum column: each variant is one label. Derive it with
/// `#[derive(foxdb::Enum)]` on an enum of unit variants; a variant's label is its name in
/// `snake_case` unless `#[foxdb(label = "...")]` gives another.
pub trait Enum: Sized + Clone + Send + Sync + 'static {
    /// Every label, in variant order (the order of the FoxSchema's `values`).
    const LABELS: &'static [&'static str];

    /// This variant's label.
    fn label(&self) -> &'static str;

    /// The variant with this label, or `None` for a label the enum does not have.
    fn from_label(label: &str) -> Option<Self>;
}

/// A Rust type a `#[foxdb(enum)]` column can be: a `String` holding the label, a
/// `#[derive(foxdb::Enum)]` type, or either in an `Option` for a nullable column. The model
/// derive checks the marked field's type against it.
pub trait EnumLabel {}

impl EnumLabel for String {}

impl<T: EnumLabel> EnumLabel for Option<T> {}

/// The variant of `T` named by a label read from `column`, or the decode error naming the label
/// (a stored label the Rust enum lacks: the schema has a value the code does not know yet).
#[doc(hidden)]
pub fn decode_label<T: Enum>(
    label: &str,
    column: &dyn std::fmt::Display,
) -> std::result::Result<T, sqlx::Error> {
    T::from_label(label).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_string(),
        source: unknown_label::<T>(label).into(),
    })
}

/// Why `label` is not a variant of `T`.
#[doc(hidden)]
pub fn unknown_label<T: Enum>(label: &str) -> String {
    format!(
        "{label:?} is not a label of {} (it has {}): add the variant, or regenerate the client from the FoxSchema",
        std::any::type_name::<T>(),
        T::LABELS.join(", ")
    )
}

/// The trait impls a `#[derive(foxdb::Enum)]` type gets besides [`Enum`]: a value bound and
/// read as its label, a column type of models, compared with itself. Written by the derive.
#[doc(hidden)]
#[macro_export]
macro_rules! __enum_column_impls {
    ($ty:ty) => {
        impl $crate::EnumLabel for $ty {}

        impl $crate::IntoValue for $ty {
            fn into_value(self) -> $crate::Value {
                $crate::Value::Text(::std::string::ToString::to_string(
                    <$ty as $crate::Enum>::label(&self),
                ))
            }
        }

        impl $crate::model::FromValue for $ty {
            fn from_value(
                value: $crate::Value,
            ) -> ::core::result::Result<Self, ::std::string::String> {
                match value {
                    $crate::Value::Text(label) => <$ty as $crate::Enum>::from_label(&label)
                        .ok_or_else(|| $crate::enum_label::unknown_label::<$ty>(&label)),
                    other => ::core::result::Result::Err(::std::format!(
                        "cannot set a {} field from {other:?}",
                        ::core::any::type_name::<$ty>()
                    )),
                }
            }
        }

        impl $crate::FromColumn for $ty {
            fn from_column(
                row: &$crate::Row,
                column: &str,
            ) -> ::core::result::Result<Self, $crate::enum_label::ColumnError> {
                let label: ::std::string::String = $crate::FromColumn::from_column(row, column)?;
                $crate::enum_label::decode_label(&label, &column)
            }

            fn from_column_at(
                row: &$crate::Row,
                index: usize,
            ) -> ::core::result::Result<Self, $crate::enum_label::ColumnError> {
                let label: ::std::string::String = $crate::FromColumn::from_column_at(row, index)?;
                $crate::enum_label::decode_label(&label, &index)
            }
        }

        impl $crate::ColumnType for $ty {
            type Compared = $ty;
        }

        impl $crate::Comparable<$ty> for $ty {
            fn into_compared(self) -> $ty {
                self
            }
        }

        impl $crate::query::MatchesText for $ty {}

        impl $crate::enum_label::Nullable for $ty {
            type OrNull = ::core::option::Option<$ty>;
        }
    };
}

/// The error type of [`crate::FromColumn`], for the impls [`__enum_column_impls`] writes.
#[doc(hidden)]
pub type ColumnError = sqlx::Error;

#[doc(hidden)]
pub use crate::query::Nullable;
