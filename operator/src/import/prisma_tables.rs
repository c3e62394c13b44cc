//! A read Prisma schema as the tables Prisma Migrate creates for it: the datasource's provider
//! picks the engine, each model becomes a table with Prisma's database names (`@map`,
//! `@@map`) and its constraint names (`User_email_key`, `Post_authorId_idx`,
//! `Post_authorId_fkey`), so the FoxSchema written from them matches a database Prisma created.
//! What has no FoxSchema equivalent is returned as notes, each with its line and column.

use fox_crds::ColumnType;
use fox_crds::schema::ReferentialAction;
use foxdb::Backend;
use foxdb::introspect::UndeclaredObject;
use foxdb::schema::{Column, ColumnDefault, ForeignKey, Index, Schema, Table};

use super::prisma_schema::{Attribute, Block, Expression, Field, Position};

/// Why a Prisma schema cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{position}: {message}")]
pub struct PrismaImportError {
    /// Where.
    pub position: Position,
    /// Why.
    pub message: String,
}

/// The tables of a Prisma schema, and what they leave out.
#[derive(Debug)]
pub struct PrismaTables {
    /// The engine of the datasource.
    pub backend: Backend,
    /// The tables.
    pub schema: Schema,
    /// What a FoxSchema cannot express, one note per item (`kind` holds `line:column`).
    pub notes: Vec<UndeclaredObject>,
}

fn error(position: Position, message: impl Into<String>) -> PrismaImportError {
    PrismaImportError {
        position,
        message: message.into(),
    }
}

/// The tables Prisma Migrate creates for `blocks`.
///
/// # Errors
/// No datasource, a provider FoxDB does not run (MongoDB, SQL Server, CockroachDB), a relation
/// naming a field the model does not have.
pub fn prisma_tables(blocks: &[Block]) -> Result<PrismaTables, PrismaImportError> {
    let datasource = blocks
        .iter()
        .find(|b| b.keyword == "datasource")
        .ok_or_else(|| {
            error(
                Position { line: 1, column: 1 },
                "no datasource block: its provider says which engine the schema is for",
            )
        })?;
    let provider = datasource
        .setting("provider")
        .and_then(Expression::as_word)
        .unwrap_or_default();
    let backend = match provider {
        "postgresql" | "postgres" => Backend::Postgres,
        "mysql" => Backend::MySql,
        "sqlite" => Backend::Sqlite,
        other => {
            return Err(error(
                datasource.position,
                format!(
                    "provider \"{other}\": FoxDB imports PostgreSQL, MySQL/MariaDB and SQLite schemas"
                ),
            ));
        }
    };
    let mut notes = Vec::new();
    let mut note = |position: Position, what: String, why: String| {
        notes.push(UndeclaredObject {
            kind: format!("line {position}"),
            name: what,
            table: None,
            definition: why,
        });
    };
    let models: Vec<&Block> = blocks.iter().filter(|b| b.keyword == "model").collect();
    let enums: Vec<&Block> = blocks.iter().filter(|b| b.keyword == "enum").collect();
    for block in blocks {
        match block.keyword.as_str() {
            "view" => note(
                block.position,
                format!("view {}", block.name),
                "a view, which a FoxSchema does not declare".into(),
            ),
            "type" => note(
                block.position,
                format!("type {}", block.name),
                "a composite type (MongoDB only)".into(),
            ),
            _ => {}
        }
    }
    let column_name = |field: &Field| {
        mapped(field.attribute("map"))
            .unwrap_or(&field.name)
            .to_string()
    };
    let mut schema = Schema::default();
    for model in &models {
        let table_name = table_name_of(model);
        let mut table = Table {
            name: table_name.clone(),
            ..Table::default()
        };
        let is_model = |name: &str| models.iter().any(|m| m.name == name);
        let scalars: Vec<&Field> = model
            .fields
            .iter()
            .filter(|f| !is_model(&f.type_name))
            .collect();
        let column_of = |field_name: &str| -> Option<String> {
            scalars
                .iter()
                .find(|f| f.name == field_name)
                .map(|f| column_name(f))
        };
        let columns_of = |attribute: &Attribute, names: Vec<String>| {
            names
                .iter()
                .map(|n| {
                    column_of(n).ok_or_else(|| {
                        error(
                            attribute.position,
                            format!("model {} has no scalar field {n}", model.name),
                        )
                    })
                })
                .collect::<Result<Vec<String>, _>>()
        };
        for field in &scalars {
            let name = column_name(field);
            let what = format!("{}.{}", model.name, field.name);
            if let Some(database_type) = &field.unsupported {
                note(
                    field.position,
                    what,
                    format!(
                        "Unsupported(\"{database_type}\") is outside FoxDB's portable types: the column is left out"
                    ),
                );
                continue;
            }
            if field.list {
                note(
                    field.position,
                    what,
                    format!(
                        "a list of {} (a PostgreSQL array), outside FoxDB's portable types: the column is left out",
                        field.type_name
                    ),
                );
                continue;
            }
            let enum_block = enums.iter().find(|e| e.name == field.type_name);
            let auto_increment = field
                .attribute("default")
                .and_then(|d| d.argument("value", 0))
                .is_some_and(|v| matches!(v, Expression::Call(f, _) if f == "autoincrement"));
            let ty = match enum_block {
                Some(block) => ColumnType::Enum(
                    block
                        .fields
                        .iter()
                        .map(|v| mapped(v.attribute("map")).unwrap_or(&v.name).to_string())
                        .collect(),
                ),
                None => column_type(backend, field, &what, auto_increment, &mut note)?,
            };
            let default = match field.attribute("default") {
                None => None,
                Some(attribute) => column_default(attribute, field, &what, enum_block, &mut note),
            };
            if field.attribute("updatedAt").is_some() {
                note(
                    field.position,
                    what.clone(),
                    "@updatedAt is set by Prisma Client on every update, not by the database: FoxDB declares the column only".into(),
                );
            }
            if field.attribute("id").is_some() {
                table.primary_key = vec![name.clone()];
            }
            if let Some(unique) = field.attribute("unique") {
                table.indexes.push(Index {
                    name: mapped_arg(unique, "map")
                        .unwrap_or_else(|| format!("{table_name}_{name}_key")),
                    columns: vec![name.clone()],
                    unique: true,
                    constraint: false,
                });
            }
            for attribute in &field.attributes {
                if !matches!(
                    attribute.name.as_str(),
                    "id" | "unique" | "default" | "map" | "updatedAt" | "relation"
                ) && !attribute.name.starts_with("db.")
                {
                    note(
                        attribute.position,
                        what.clone(),
                        format!("@{} is not read by the importer", attribute.name),
                    );
                }
            }
            table.columns.push(Column {
                name,
                ty,
                nullable: field.optional,
                default,
            });
        }
        for attribute in &model.attributes {
            let fields = attribute
                .argument("fields", 0)
                .map(Expression::names)
                .unwrap_or_default();
            match attribute.name.as_str() {
                "id" => table.primary_key = columns_of(attribute, fields)?,
                "unique" | "index" => {
                    let columns = columns_of(attribute, fields)?;
                    let unique = attribute.name == "unique";
                    let suffix = if unique { "key" } else { "idx" };
                    table.indexes.push(Index {
                        name: mapped_arg(attribute, "map").unwrap_or_else(|| {
                            format!("{table_name}_{}_{suffix}", columns.join("_"))
                        }),
                        columns,
                        unique,
                        constraint: false,
                    });
                }
                "map" => {}
                other => note(
                    attribute.position,
                    format!("model {}", model.name),
                    format!("@@{other} is not read by the importer"),
                ),
            }
        }
        for field in model.fields.iter().filter(|f| is_model(&f.type_name)) {
            let Some(relation) = field.attribute("relation") else {
                if field.list
                    && models
                        .iter()
                        .find(|m| m.name == field.type_name)
                        .is_some_and(|other| {
                            other.fields.iter().any(|f| {
                                f.type_name == model.name
                                    && f.list
                                    && f.attribute("relation").is_none()
                            })
                        })
                    && model.name < field.type_name
                {
                    note(
                        field.position,
                        format!("{}.{}", model.name, field.name),
                        format!(
                            "an implicit many-to-many relation: Prisma's join table _{}To{} is not declared; declare a join table",
                            model.name, field.type_name
                        ),
                    );
                }
                continue;
            };
            let Some(fields) = relation
                .argument("fields", usize::MAX)
                .map(Expression::names)
            else {
                continue;
            };
            let columns = columns_of(relation, fields)?;
            let referenced_model = models
                .iter()
                .find(|m| m.name == field.type_name)
                .ok_or_else(|| error(field.position, "unknown model"))?;
            let referenced_columns: Vec<String> = relation
                .argument("references", usize::MAX)
                .map(Expression::names)
                .unwrap_or_default()
                .iter()
                .map(|n| {
                    referenced_model
                        .fields
                        .iter()
                        .find(|f| f.name == *n)
                        .map(&column_name)
                        .ok_or_else(|| {
                            error(
                                relation.position,
                                format!("model {} has no field {n}", referenced_model.name),
                            )
                        })
                })
                .collect::<Result<_, _>>()?;
            let all_optional = columns.iter().all(|c| {
                table
                    .columns
                    .iter()
                    .any(|column| column.name == *c && column.nullable)
            });
            // Prisma's defaults: optional relations set null, required ones restrict; updates
            // cascade.
            let on_delete = action(relation, "onDelete").unwrap_or(if all_optional {
                ReferentialAction::SetNull
            } else {
                ReferentialAction::Restrict
            });
            let on_update = action(relation, "onUpdate").unwrap_or(ReferentialAction::Cascade);
            for name in ["onDelete", "onUpdate"] {
                if let Some(value) = relation.argument(name, usize::MAX)
                    && action(relation, name).is_none()
                {
                    note(
                        relation.position,
                        format!("{}.{}", model.name, field.name),
                        format!(
                            "{name}: {value:?} has no FoxSchema equivalent; the default is written"
                        ),
                    );
                }
            }
            table.foreign_keys.push(ForeignKey {
                name: mapped_arg(relation, "map")
                    .unwrap_or_else(|| format!("{table_name}_{}_fkey", columns.join("_"))),
                columns,
                referenced_table: table_name_of(referenced_model),
                referenced_columns,
                on_delete,
                on_update,
            });
        }
        schema.tables.push(table);
    }
    Ok(PrismaTables {
        backend,
        schema,
        notes,
    })
}

fn table_name_of(model: &Block) -> String {
    mapped(model.attribute("map"))
        .unwrap_or(&model.name)
        .to_string()
}

/// The name in `@map("name")` / `@@map("name")`.
fn mapped(attribute: Option<&Attribute>) -> Option<&str> {
    attribute?.argument("name", 0)?.as_word()
}

/// The `map:` argument (a constraint's database name).
fn mapped_arg(attribute: &Attribute, name: &str) -> Option<String> {
    attribute
        .argument(name, usize::MAX)
        .and_then(Expression::as_word)
        .map(str::to_string)
}

fn action(relation: &Attribute, name: &str) -> Option<ReferentialAction> {
    match relation.argument(name, usize::MAX)?.as_word()? {
        "Cascade" => Some(ReferentialAction::Cascade),
        "Restrict" => Some(ReferentialAction::Restrict),
        "NoAction" => Some(ReferentialAction::NoAction),
        "SetNull" => Some(ReferentialAction::SetNull),
        _ => None,
    }
}

/// A number argument of a native type attribute (`@db.VarChar(255)`).
fn number_argument(attribute: &Attribute, index: usize) -> Option<u32> {
    match attribute.argument("", index)? {
        Expression::Number(n) => n.parse().ok(),
        _ => None,
    }
}

/// The column type: the native type attribute where one is given, else Prisma's default
/// mapping of the scalar type on the engine.
fn column_type(
    backend: Backend,
    field: &Field,
    what: &str,
    auto_increment: bool,
    note: &mut impl FnMut(Position, String, String),
) -> Result<ColumnType, PrismaImportError> {
    let native = field.attributes.iter().find(|a| a.name.starts_with("db."));
    if let Some(native) = native {
        let ty = match native.name.trim_start_matches("db.") {
            "VarChar" => number_argument(native, 0).map(ColumnType::Varchar),
            "Char" => number_argument(native, 0).map(ColumnType::Char),
            "Text" | "MediumText" | "LongText" | "TinyText" => Some(ColumnType::Text),
            "Uuid" => Some(ColumnType::Uuid),
            "SmallInt" => Some(ColumnType::SmallInt),
            "Integer" | "Int" => Some(if auto_increment {
                ColumnType::Serial
            } else {
                ColumnType::Integer
            }),
            "BigInt" => Some(if auto_increment {
                ColumnType::BigSerial
            } else {
                ColumnType::BigInt
            }),
            "Real" | "Float" => Some(ColumnType::Real),
            "DoublePrecision" | "Double" => Some(ColumnType::Double),
            "Decimal" => match (number_argument(native, 0), number_argument(native, 1)) {
                (Some(precision), Some(scale)) => Some(ColumnType::Decimal { precision, scale }),
                _ => None,
            },
            "Date" => Some(ColumnType::Date),
            "Time" => Some(ColumnType::Time),
            "Timestamp" | "DateTime" => Some(ColumnType::Timestamp),
            "Timestamptz" => Some(ColumnType::TimestampTz),
            "Json" | "JsonB" => Some(ColumnType::Json),
            "ByteA" | "Blob" | "LongBlob" => Some(ColumnType::Bytes),
            "Boolean" => Some(ColumnType::Boolean),
            _ => None,
        };
        if let Some(ty) = ty {
            return Ok(ty);
        }
        note(
            native.position,
            what.to_string(),
            format!(
                "@{} has no FoxDB type; the default type of {} is written",
                native.name, field.type_name
            ),
        );
    }
    Ok(match field.type_name.as_str() {
        // Prisma's MySQL strings are VARCHAR(191), which an index can hold under utf8mb4.
        "String" => match backend {
            Backend::MySql => ColumnType::Varchar(191),
            Backend::Postgres | Backend::Sqlite => ColumnType::Text,
        },
        "Boolean" => ColumnType::Boolean,
        "Int" if auto_increment => ColumnType::Serial,
        "Int" => ColumnType::Integer,
        "BigInt" if auto_increment => ColumnType::BigSerial,
        "BigInt" => ColumnType::BigInt,
        "Float" => ColumnType::Double,
        "Decimal" => ColumnType::Decimal {
            precision: 65,
            scale: 30,
        },
        "DateTime" => ColumnType::Timestamp,
        "Json" => ColumnType::Json,
        "Bytes" => ColumnType::Bytes,
        other => {
            return Err(error(
                field.position,
                format!(
                    "field {}: unknown type {other} (not a scalar type, a model or an enum of this schema)",
                    field.name
                ),
            ));
        }
    })
}

/// The database default of `@default(...)`; defaults Prisma Client computes (`uuid()`,
/// `cuid()`, `nanoid()`) and `dbgenerated(...)` are noted instead.
fn column_default(
    attribute: &Attribute,
    field: &Field,
    what: &str,
    enum_block: Option<&&Block>,
    note: &mut impl FnMut(Position, String, String),
) -> Option<ColumnDefault> {
    let value = attribute.argument("value", 0)?;
    match value {
        Expression::Call(function, _) if function == "autoincrement" => None,
        Expression::Call(function, _) if function == "now" => Some(ColumnDefault::Now),
        Expression::Call(function, arguments) => {
            let why = if function == "dbgenerated" {
                format!(
                    "@default(dbgenerated({:?})) is a database expression, which a FoxSchema cannot declare",
                    arguments
                        .first()
                        .and_then(|a| a.value.as_word())
                        .unwrap_or_default()
                )
            } else {
                format!(
                    "@default({function}()) is generated by Prisma Client, not the database: no default is declared"
                )
            };
            note(attribute.position, what.to_string(), why);
            None
        }
        Expression::Text(text) => Some(ColumnDefault::Text(text.clone())),
        Expression::Number(number) => match number.parse::<i64>() {
            Ok(integer) if !matches!(field.type_name.as_str(), "Float" | "Decimal") => {
                Some(ColumnDefault::Integer(integer))
            }
            _ => Some(ColumnDefault::Number(number.clone())),
        },
        Expression::Name(name) if name == "true" || name == "false" => {
            Some(ColumnDefault::Bool(name == "true"))
        }
        Expression::Name(label) => {
            // An enum value: its database label.
            let stored = enum_block
                .and_then(|block| block.fields.iter().find(|v| v.name == *label))
                .and_then(|v| mapped(v.attribute("map")))
                .unwrap_or(label);
            Some(ColumnDefault::Text(stored.to_string()))
        }
        Expression::List(_) => {
            note(
                attribute.position,
                what.to_string(),
                "a list default, which a FoxSchema cannot declare".into(),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::prisma_schema::parse_prisma_schema;

    fn tables(text: &str) -> Result<PrismaTables, PrismaImportError> {
        prisma_tables(&parse_prisma_schema(text).expect("parses"))
    }

    #[test]
    fn keys_defaults_and_names_are_prismas_and_the_rest_is_noted() {
        let read = tables(
            r#"datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
}
model Membership {
  userId  Int      @map("user_id")
  groupId Int
  level   Level    @default(OWNER)
  token   String   @default(uuid()) @db.Uuid
  since   DateTime @default(dbgenerated("now()"))
  area    Unsupported("circle")?
  score   Decimal  @default(1.5) @db.Decimal(10, 2)
  @@id([userId, groupId])
  @@unique([groupId, level], map: "one_owner")
  @@map("memberships")
}
enum Level {
  OWNER @map("owner")
  GUEST
}
"#,
        )
        .unwrap();
        assert_eq!(read.backend, Backend::Postgres);
        let table = &read.schema.tables[0];
        assert_eq!(table.name, "memberships");
        assert_eq!(table.primary_key, ["user_id", "groupId"]);
        assert_eq!(table.indexes[0].name, "one_owner");
        let level = table.column("level").unwrap();
        assert_eq!(
            level.ty,
            ColumnType::Enum(vec!["owner".into(), "GUEST".into()])
        );
        assert_eq!(level.default, Some(ColumnDefault::Text("owner".into())));
        assert_eq!(table.column("token").unwrap().ty, ColumnType::Uuid);
        assert_eq!(table.column("token").unwrap().default, None);
        assert_eq!(
            table.column("score").unwrap().default,
            Some(ColumnDefault::Number("1.5".into()))
        );
        assert!(table.column("area").is_none());
        let notes: Vec<String> = read
            .notes
            .iter()
            .map(|n| format!("{} {}: {}", n.kind, n.name, n.definition))
            .collect();
        assert_eq!(notes.len(), 3, "{notes:#?}");
        assert!(
            notes[0].starts_with(
                "line 9:20 Membership.token: @default(uuid()) is generated by Prisma Client"
            ),
            "{notes:#?}"
        );
        assert!(
            notes[1].starts_with("line 10:20 Membership.since: @default(dbgenerated(\"now()\"))"),
            "{notes:#?}"
        );
        assert!(
            notes[2].starts_with("line 11:3 Membership.area: Unsupported(\"circle\")"),
            "{notes:#?}"
        );
    }

    #[test]
    fn relations_take_prismas_default_actions_and_mongodb_is_refused() {
        let read = tables(
            r#"datasource db {
  provider = "mysql"
}
model User {
  id    Int    @id @default(autoincrement())
  name  String
  posts Post[]
  tags  Tag[]
}
model Post {
  id       Int   @id @default(autoincrement())
  authorId Int?
  author   User? @relation(fields: [authorId], references: [id])
}
model Tag {
  id    Int    @id
  users User[]
}
"#,
        )
        .unwrap();
        let user = &read.schema.tables[0];
        assert_eq!(user.column("id").unwrap().ty, ColumnType::Serial);
        assert_eq!(user.column("name").unwrap().ty, ColumnType::Varchar(191));
        let post = &read.schema.tables[1];
        let key = &post.foreign_keys[0];
        assert_eq!(key.name, "Post_authorId_fkey");
        assert_eq!(
            (key.on_delete, key.on_update),
            (ReferentialAction::SetNull, ReferentialAction::Cascade)
        );
        assert!(
            read.notes.iter().any(|n| n
                .definition
                .contains("implicit many-to-many relation: Prisma's join table _TagToUser")
                || n.definition.contains("_UserToTag")),
            "{:#?}",
            read.notes
        );
        let refused = tables("datasource db {\n  provider = \"mongodb\"\n}\n").unwrap_err();
        assert_eq!(refused.position.line, 1);
        assert!(refused.message.contains("provider \"mongodb\""));
    }
}
