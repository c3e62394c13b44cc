//! A start-up check of models against the live database: `db.verify::<(User, Post)>()` reads
//! the schema (the introspection the schema engine uses) and lists every mismatch at once — a
//! missing table or column, a field whose Rust type cannot hold the column's values, a
//! non-`Option` field over a nullable column, a NOT NULL column without default that the model
//! never writes — so a wrong model fails at boot, not on the first query that touches it.
//!
//! # Expected flow
//! ```no_run
//! # async fn boot(db: &foxdb::Database) -> foxdb::Result<()> {
//! # #[derive(Clone, foxdb::Model)] #[foxdb(table = "users")] struct User { #[foxdb(primary_key)] id: i64, email: String }
//! # #[derive(Clone, foxdb::Model)] #[foxdb(table = "posts")] struct Post { #[foxdb(primary_key)] id: i64, author_id: i64 }
//! db.verify::<(User, Post)>().await?; // Err(Error::SchemaMismatch { .. }) lists every problem
//! # Ok(()) }
//! ```

use fox_crds::ColumnType;

use crate::Backend;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::introspect::canonical_type;
use crate::model::Model;
use crate::schema::Schema;

/// The kind of value a Rust field holds, as [`crate::FromColumn::FIELD`] tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// `bool`.
    Bool,
    /// An integer of this many bits (`i16`, `i32`, `i64`).
    Integer(u8),
    /// `u64`.
    Unsigned,
    /// `f32`.
    Float32,
    /// `f64`.
    Float64,
    /// `rust_decimal::Decimal`.
    Decimal,
    /// `String`.
    Text,
    /// `Vec<u8>`.
    Bytes,
    /// `uuid::Uuid`.
    Uuid,
    /// `chrono::DateTime<Utc>`.
    TimestampTz,
    /// `chrono::NaiveDateTime`.
    Timestamp,
    /// `chrono::NaiveDate`.
    Date,
    /// `chrono::NaiveTime`.
    Time,
    /// `serde_json::Value`.
    Json,
    /// A type of the application's own: not checked.
    Unchecked,
}

/// The Rust type, as a reader writes it (`i32`, `String`).
impl std::fmt::Display for FieldKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Bool => "bool",
            Self::Integer(16) => "i16",
            Self::Integer(32) => "i32",
            Self::Integer(_) => "i64",
            Self::Unsigned => "u64",
            Self::Float32 => "f32",
            Self::Float64 => "f64",
            Self::Decimal => "Decimal",
            Self::Text => "String",
            Self::Bytes => "Vec<u8>",
            Self::Uuid => "Uuid",
            Self::TimestampTz => "DateTime<Utc>",
            Self::Timestamp => "NaiveDateTime",
            Self::Date => "NaiveDate",
            Self::Time => "NaiveTime",
            Self::Json => "serde_json::Value",
            Self::Unchecked => "application type",
        })
    }
}

/// What a field of a model can hold: its kind and whether it is an `Option`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldShape {
    /// The kind of value.
    pub kind: FieldKind,
    /// Whether the field takes NULL (`Option<T>`).
    pub nullable: bool,
}

impl FieldShape {
    /// A field of `kind` that does not take NULL.
    pub const fn of(kind: FieldKind) -> Self {
        Self {
            kind,
            nullable: false,
        }
    }
}

/// One way a model and the live database disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    /// The model's table is not in the database.
    MissingTable {
        /// The model's table.
        table: String,
    },
    /// A column of the model is not in the table.
    MissingColumn {
        /// Table.
        table: String,
        /// The model's column.
        column: String,
    },
    /// The field's Rust type cannot hold the column's values.
    WrongType {
        /// Table.
        table: String,
        /// Column.
        column: String,
        /// What the field holds.
        field: FieldKind,
        /// The column's type, in FoxDB's portable vocabulary.
        column_type: String,
    },
    /// The column takes NULL but the field is not an `Option`.
    NullableColumn {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// A NOT NULL column without default that the model has no field for: inserts fail.
    RequiredColumnNotInModel {
        /// Table.
        table: String,
        /// Column.
        column: String,
    },
    /// The table holds a column of a type FoxDB does not map, so it was not compared.
    UnreadableTable {
        /// Table.
        table: String,
        /// Why.
        reason: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingTable { table } => write!(f, "table {table} does not exist"),
            Self::MissingColumn { table, column } => {
                write!(f, "{table}.{column} does not exist")
            }
            Self::WrongType {
                table,
                column,
                field,
                column_type,
            } => write!(
                f,
                "{table}.{column} is {column_type}, which a field of type `{field}` cannot hold"
            ),
            Self::NullableColumn { table, column } => write!(
                f,
                "{table}.{column} takes NULL but its field is not an Option"
            ),
            Self::RequiredColumnNotInModel { table, column } => write!(
                f,
                "{table}.{column} is NOT NULL without default and the model has no field for it (inserts fail)"
            ),
            Self::UnreadableTable { table, reason } => {
                write!(f, "table {table} could not be compared: {reason}")
            }
        }
    }
}

/// A model (or a tuple of up to twelve models) whose tables [`Database::verify`] checks.
pub trait ModelSet {
    /// What each model expects, one entry per model.
    fn expected() -> Vec<ExpectedTable>;
}

/// What one model expects of its table.
#[derive(Clone, Debug)]
pub struct ExpectedTable {
    /// The table.
    pub table: &'static str,
    /// The columns, in field order.
    pub columns: &'static [&'static str],
    /// The fields' shapes, in the same order (empty when the model does not say).
    pub fields: &'static [FieldShape],
}

impl<M: Model> ModelSet for M {
    fn expected() -> Vec<ExpectedTable> {
        vec![ExpectedTable {
            table: M::TABLE,
            columns: M::COLUMNS,
            fields: M::FIELDS,
        }]
    }
}

macro_rules! model_sets {
    ($($model:ident),+) => {
        impl<$($model: Model),+> ModelSet for ($($model,)+) {
            fn expected() -> Vec<ExpectedTable> {
                let mut tables = Vec::new();
                $(tables.extend(<$model as ModelSet>::expected());)+
                tables
            }
        }
    };
}

model_sets!(A);
model_sets!(A, B);
model_sets!(A, B, C);
model_sets!(A, B, C, D);
model_sets!(A, B, C, D, E);
model_sets!(A, B, C, D, E, F);
model_sets!(A, B, C, D, E, F, G);
model_sets!(A, B, C, D, E, F, G, H);
model_sets!(A, B, C, D, E, F, G, H, I);
model_sets!(A, B, C, D, E, F, G, H, I, J);
model_sets!(A, B, C, D, E, F, G, H, I, J, K);
model_sets!(A, B, C, D, E, F, G, H, I, J, K, L);

/// Whether a field of `kind` holds every value of a live column of type `live` on `backend`.
fn holds(kind: FieldKind, live: &ColumnType, backend: Backend) -> bool {
    let stored_as =
        |portable: ColumnType| *live == portable || *live == canonical_type(backend, &portable);
    let integer_bits = match live {
        ColumnType::SmallInt => Some(16),
        ColumnType::Integer | ColumnType::Serial => Some(32),
        ColumnType::BigInt | ColumnType::BigSerial => Some(64),
        _ => None,
    };
    match kind {
        FieldKind::Unchecked => true,
        FieldKind::Bool => stored_as(ColumnType::Boolean),
        FieldKind::Integer(bits) => integer_bits.is_some_and(|column| column <= bits),
        FieldKind::Unsigned => integer_bits.is_some(),
        FieldKind::Float32 => matches!(live, ColumnType::Real),
        FieldKind::Float64 => matches!(live, ColumnType::Real | ColumnType::Double),
        FieldKind::Decimal => matches!(live, ColumnType::Decimal { .. }),
        FieldKind::Text => matches!(
            live,
            ColumnType::Text | ColumnType::Char(_) | ColumnType::Varchar(_) | ColumnType::Enum(_)
        ),
        FieldKind::Bytes => stored_as(ColumnType::Bytes),
        FieldKind::Uuid => stored_as(ColumnType::Uuid),
        FieldKind::TimestampTz => stored_as(ColumnType::TimestampTz),
        FieldKind::Timestamp => stored_as(ColumnType::Timestamp),
        FieldKind::Date => stored_as(ColumnType::Date),
        FieldKind::Time => stored_as(ColumnType::Time),
        FieldKind::Json => stored_as(ColumnType::Json),
    }
}

/// Every mismatch between `expected` tables and the live `schema` of a `backend` database.
pub fn compare(backend: Backend, schema: &Schema, expected: &[ExpectedTable]) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    for model in expected {
        let table_name = model.table.to_string();
        if let Some(unmanaged) = schema.unmanaged_table(model.table) {
            mismatches.push(Mismatch::UnreadableTable {
                table: table_name,
                reason: unmanaged.reason.clone(),
            });
            continue;
        }
        let Some(table) = schema.table(model.table) else {
            mismatches.push(Mismatch::MissingTable { table: table_name });
            continue;
        };
        for (index, name) in model.columns.iter().enumerate() {
            let Some(column) = table.column(name) else {
                mismatches.push(Mismatch::MissingColumn {
                    table: table_name.clone(),
                    column: name.to_string(),
                });
                continue;
            };
            let Some(field) = model.fields.get(index) else {
                continue;
            };
            if !holds(field.kind, &column.ty, backend) {
                mismatches.push(Mismatch::WrongType {
                    table: table_name.clone(),
                    column: name.to_string(),
                    field: field.kind,
                    column_type: column.ty.to_string(),
                });
            }
            // A primary key column holds no NULL whatever the catalog says (SQLite lets a
            // non-INTEGER key be NULL in theory; no model row has one).
            let in_key = table.primary_key.iter().any(|k| k == name);
            if column.nullable && !field.nullable && !in_key && field.kind != FieldKind::Unchecked {
                mismatches.push(Mismatch::NullableColumn {
                    table: table_name.clone(),
                    column: name.to_string(),
                });
            }
        }
        for column in &table.columns {
            let generated = column.ty.is_auto_increment()
                || table.primary_key.len() == 1
                    && table.primary_key[0] == column.name
                    && column.ty.is_integer();
            if !column.nullable
                && column.default.is_none()
                && !generated
                && !model.columns.contains(&column.name.as_str())
            {
                mismatches.push(Mismatch::RequiredColumnNotInModel {
                    table: table_name.clone(),
                    column: column.name.clone(),
                });
            }
        }
    }
    mismatches
}

impl Database {
    /// Compares the models `S` (one model or a tuple of up to twelve) with the live database
    /// and lists every mismatch: a missing table or column, a field whose type cannot hold the
    /// column's values (an `i32` field over a `bigint`, a `String` over an integer), a field
    /// that is not an `Option` over a nullable column, a NOT NULL column without default the
    /// model has no field for. Extra nullable or defaulted columns are fine.
    ///
    /// # Errors
    /// [`Error::SchemaMismatch`] listing every mismatch; the introspection's own errors.
    pub async fn verify<S: ModelSet>(&self) -> Result<()> {
        let mut connection = self.detached_connection().await?;
        let schema = crate::introspect::introspect_schema(&mut connection).await;
        connection.close().await;
        let mismatches = compare(self.backend(), &schema?, &S::expected());
        if mismatches.is_empty() {
            Ok(())
        } else {
            Err(Error::SchemaMismatch {
                backend: self.backend(),
                mismatches,
            })
        }
    }
}
