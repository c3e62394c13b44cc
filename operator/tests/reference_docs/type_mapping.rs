//! docs/reference/type-mapping.md: each portable column type as the dialects render it
//! (`foxdb::dialect`), as `fox generate client` types a model field, and as `foxdb::mongo`
//! stores that field in a MongoDB document (`foxdb::mongo::document`, what `insert` writes).

use std::fmt::Write as _;

use foxdb::Backend;
use foxdb::dialect::{Dialect, dialect_for};
use foxdb::mongo::bson::{Bson, Document};

/// One column per spelling of the portable vocabulary (`fox_crds::ColumnType`), with arguments
/// where the type takes them.
pub const SPELLINGS: [&str; 21] = [
    "smallint",
    "integer",
    "bigint",
    "serial",
    "bigserial",
    "boolean",
    "real",
    "double",
    "decimal(12,2)",
    "char(8)",
    "varchar(200)",
    "text",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "uuid",
    "json",
    "bytes",
    "enum(draft,published)",
    // Not a new type: `nullable: true` on any of the above.
    "text nullable",
];

/// Where the column of `SPELLINGS[index]` is: the table and the column. An auto-increment type
/// must be its table's only primary key column, so `bigserial` is the key of `types` and
/// `serial` the key of `serials`; every other type is the column `c<index>` of `types`.
pub fn place(index: usize) -> (&'static str, String) {
    match SPELLINGS[index] {
        "serial" => ("serials", "id".into()),
        "bigserial" => ("types", "id".into()),
        _ => ("types", format!("c{index}")),
    }
}

/// The FoxSchema with the tables `types` and `serials`.
pub fn schema() -> fox_crds::FoxSchema {
    let mut columns = String::from("        - {name: id, type: bigserial, primaryKey: true}\n");
    for (index, spelling) in SPELLINGS.iter().enumerate() {
        if place(index).1 == "id" {
            continue;
        }
        let (ty, nullable) = match spelling.strip_suffix(" nullable") {
            Some(ty) => (ty, true),
            None => (*spelling, false),
        };
        writeln!(
            columns,
            "        - {{name: c{index}, type: \"{ty}\", nullable: {nullable}}}"
        )
        .expect("writes");
    }
    let yaml = format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: types}}\nspec:\n  \
         databaseRef: {{name: db}}\n  tables:\n    - name: serials\n      columns:\n        \
         - {{name: id, type: serial, primaryKey: true}}\n    - name: types\n      columns:\n{columns}"
    );
    serde_yaml_ng::from_str(&yaml).expect("the type tables are a FoxSchema")
}

/// A row of each generated model, every field set (the keys are generated on insert).
pub fn sample_rows() -> (crate::type_models::Serial, crate::type_models::Type) {
    use crate::type_models::{Serial, Type, TypeC19};
    let instant = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("an instant");
    let row = Type {
        id: 0,
        c0: 1,
        c1: 2,
        c2: 3,
        c5: true,
        c6: 1.5,
        c7: 2.5,
        c8: rust_decimal::Decimal::new(1234, 2),
        c9: "abcdefgh".into(),
        c10: "varchar".into(),
        c11: "text".into(),
        c12: instant.date_naive(),
        c13: instant.time(),
        c14: instant.naive_utc(),
        c15: instant,
        c16: uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        c17: serde_json::json!({"a": [1, 2]}),
        c18: vec![1, 2, 3],
        c19: TypeC19::Published,
        c20: Some("nullable".into()),
    };
    (Serial { id: 0 }, row)
}

/// The Rust type of each field of the generated models, by (table, field): a struct's fields
/// follow its `#[foxdb(table = "...")]` line.
fn generated_field_types(source: &str) -> std::collections::BTreeMap<(String, String), String> {
    let mut table = String::new();
    let mut found = std::collections::BTreeMap::new();
    for line in source.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#[foxdb(table = \"") {
            table = rest.split('"').next().unwrap_or_default().to_string();
        } else if let Some((name, ty)) = line
            .strip_prefix("pub ")
            .and_then(|field| field.strip_suffix(','))
            .and_then(|field| field.split_once(": "))
        {
            found.insert((table.clone(), name.to_string()), ty.to_string());
        }
    }
    found
}

/// The BSON element type of `value`, in the words of the BSON specification.
fn bson_words(value: &Bson) -> String {
    match value {
        Bson::Binary(binary) => format!("binary (subtype {})", u8::from(binary.subtype)),
        Bson::Array(_) => "array".into(),
        Bson::Document(_) => "embedded document".into(),
        Bson::String(_) => "string".into(),
        Bson::Int32(_) => "32-bit integer".into(),
        Bson::Int64(_) => "64-bit integer".into(),
        Bson::Double(_) => "double".into(),
        Bson::Decimal128(_) => "decimal128".into(),
        Bson::Boolean(_) => "boolean".into(),
        Bson::DateTime(_) => "UTC datetime".into(),
        Bson::Null => "null".into(),
        other => format!("{:?}", other.element_type()),
    }
}

/// docs/reference/type-mapping.md. `stored` holds the documents `foxdb::mongo` writes for a row
/// of each table (see the test), by table, to read each field's BSON type from (a key is `_id`).
pub fn page(stored: &std::collections::BTreeMap<&str, Document>, note: &str) -> String {
    let schema = schema();
    let desired = fox_operator::engine::desired::desired_schema(&schema.spec);
    let source = fox_operator::commands::generate::client_source(&schema);
    let fields = generated_field_types(&source);
    let mut out = note.to_string();
    out.push_str("# Type mapping\n\n");
    out.push_str(
        "The portable column types of a FoxSchema (`spec.tables[].columns[].type`, see \
         [Schema conventions](../schema.md)), the native type the schema engine creates for each \
         on every SQL engine, the Rust type `fox generate client` gives the model field, and the \
         BSON type `foxdb::mongo` stores that field as in a MongoDB document. The SQL types come \
         from the dialects that render `CREATE TABLE` (`client/src/dialect/`); an auto-increment \
         clause is shown after the type. A nullable column's field is an `Option` and stores \
         `null` for `None`.\n\n",
    );
    out.push_str(
        "| portable type | PostgreSQL | MySQL / MariaDB | SQLite | Rust field (`fox generate client`) | BSON (`foxdb::mongo`) |\n\
         |---|---|---|---|---|---|\n",
    );
    for (index, spelling) in SPELLINGS.iter().enumerate() {
        let (table_name, name) = place(index);
        let table = desired
            .tables
            .iter()
            .find(|t| t.name == table_name)
            .expect("the desired schema has the table");
        let column = table
            .columns
            .iter()
            .find(|c| c.name == name)
            .expect("the column is in the desired schema");
        let mut row = format!("| `{spelling}` |");
        for backend in [Backend::Postgres, Backend::MySql, Backend::Sqlite] {
            let dialect: &dyn Dialect = dialect_for(backend);
            let native = format!(
                "{}{}{}",
                dialect.native_type(&table.name, column),
                dialect.after_type(column),
                dialect.after_nullability(column)
            );
            write!(row, " `{}` |", native.replace('|', "\\|")).expect("writes");
        }
        let field = fields
            .get(&(table_name.to_string(), name.clone()))
            .unwrap_or_else(|| {
                panic!("the generated model has no field {table_name}.{name}:\n{source}")
            });
        let document = &stored[table_name];
        let key = if name == "id" { "_id" } else { name.as_str() };
        let bson = document
            .get(key)
            .unwrap_or_else(|| panic!("the stored document has no field {key}: {document}"));
        write!(row, " `{field}` | {} |", bson_words(bson)).expect("writes");
        out.push_str(&row);
        out.push('\n');
    }
    out.push_str(
        "\nWhat the table cannot show:\n\n\
         - An `enum(...)` column is a PostgreSQL enum type named `<table>_<column>_enum` \
         (created before the table), a MySQL `enum`, and on SQLite the declared type `ENUM` with \
         a `CHECK (column IN (...))`; its field is a `#[derive(foxdb::Enum)]` type the generator \
         writes next to the model.\n\
         - On SQLite a `serial` or `bigserial` primary key is `INTEGER PRIMARY KEY AUTOINCREMENT` \
         (64-bit either way); declared types keep their affinity: `DECIMAL` is numeric affinity, \
         not exact; `BOOLEAN` stores 0 and 1.\n\
         - On MariaDB `json` is an alias the server stores as `longtext` with a `json_valid` \
         check.\n\
         - Introspection maps the native types back, so a re-plan after an apply is empty; what \
         an engine cannot tell apart is compared in one canonical form ([The schema \
         engine](../schema-engine.md#how-portable-types-are-stored)).\n\
         - MongoDB collections declare their own `$jsonSchema` validators instead of these \
         types ([MongoDB](../mongodb.md)); the BSON column is how `foxdb::mongo` writes a \
         model's fields (`foxdb::mongo::document`): every integer as a 64-bit integer (32-bit \
         ones are read too); a date as the UTC datetime of its midnight; a time of day as the \
         string `HH:MM:SS[.ffffff]`, BSON having no such type; datetimes to the millisecond; a \
         `json` value as itself (an object, as here, is an embedded document, an array an \
         array); a key column as `_id`.\n\n",
    );
    out.push_str(
        "Next: installing the operator with Helm, every value in the \
         [Helm values reference](helm-values.md).\n",
    );
    out
}
