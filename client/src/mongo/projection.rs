//! Reading some fields of the matching documents into tuples: the document store's column
//! selection, `db.find_columns(&User::find(), (User::ID, User::EMAIL))`.

use mongodb::bson::Document;

use super::values::{field_of, field_path, from_bson};
use crate::error::{Error, Result};
use crate::model::{ColumnType, FromValue, Model};
use crate::query::Column;
use crate::row::FromColumn;

/// Columns of `M` read together into a tuple (up to six).
pub trait Projection<M>: Send + Sync {
    /// The decoded tuple.
    type Output: Send;

    /// The columns, in order.
    fn columns(&self) -> Vec<&'static str>;

    /// Decodes one document.
    ///
    /// # Errors
    /// A value that does not fit its field.
    fn decode(&self, document: &Document) -> Result<Self::Output>;
}

/// The projection document: the fields asked for, and `_id` only when a key column is.
pub(crate) fn projection_document<M: Model>(columns: &[&'static str]) -> Document {
    let mut projection = Document::new();
    for column in columns {
        projection.insert(field_path::<M>(column), 1);
    }
    if !projection.contains_key("_id") && !columns.iter().any(|c| M::PRIMARY_KEY.contains(c)) {
        projection.insert("_id", 0);
    }
    projection
}

/// One field of `document` as `T`.
fn field<M: Model, T: FromColumn + FromValue>(
    document: &Document,
    column: &'static str,
) -> Result<T> {
    let value = from_bson(column, T::FIELD.kind, field_of::<M>(document, column))?;
    T::from_value(value).map_err(|message| Error::Decode {
        column: column.to_string(),
        message,
    })
}

macro_rules! tuple_projection {
    ($($ty:ident => $index:tt),+) => {
        impl<M: Model, $($ty: ColumnType + FromColumn + FromValue + Send),+> Projection<M>
            for ($(Column<M, $ty>,)+)
        {
            type Output = ($($ty,)+);

            fn columns(&self) -> Vec<&'static str> {
                vec![$(self.$index.name()),+]
            }

            fn decode(&self, document: &Document) -> Result<Self::Output> {
                Ok(($(field::<M, $ty>(document, self.$index.name())?,)+))
            }
        }
    };
}

tuple_projection!(A => 0);
tuple_projection!(A => 0, B => 1);
tuple_projection!(A => 0, B => 1, C => 2);
tuple_projection!(A => 0, B => 1, C => 2, D => 3);
tuple_projection!(A => 0, B => 1, C => 2, D => 3, E => 4);
tuple_projection!(A => 0, B => 1, C => 2, D => 3, E => 4, F => 5);
