//! `fox generate client`: Rust models of a FoxSchema's tables (`#[derive(foxdb::Model)]`),
//! with a `#[derive(foxdb::Enum)]` type per enum column and relation accessors.
//!
//! The output is meant to be extended without being edited: `--derive` adds derives (serde's)
//! to every struct and enum, `--hooks TABLE` makes a model's hooks the application's own
//! (`#[foxdb(hooks)]`: it writes `impl foxdb::Hooks for Model` next to the generated file), and
//! the file has no inner attributes or `//!` comments, so `include!` can place it in any
//! module.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::commands::target::load_valid_manifests;

/// Rust keywords that a raw identifier (`r#type`) can stand for.
const RAW_KEYWORDS: [&str; 45] = [
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref",
    "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where", "while",
    "abstract", "become", "box", "do", "final", "gen", "macro", "override", "priv", "typeof",
    "virtual",
];

/// `post_tags` → `PostTag`.
fn struct_name(table: &str) -> String {
    let singular = fox_crds::conventions::singular(table);
    let mut name: String = singular
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "Table");
    }
    name
}

/// A field name for `column`, and whether it differs from the column name.
fn field_name(column: &str) -> (String, bool) {
    let mut name: String = column
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if matches!(name.as_str(), "self" | "super" | "crate" | "Self" | "_") {
        name.push('_');
    } else if RAW_KEYWORDS.contains(&name.as_str()) {
        name.insert_str(0, "r#");
    }
    let renamed = name.trim_start_matches("r#") != column;
    (name, renamed)
}

fn rust_type(ty: &fox_crds::ColumnType) -> &'static str {
    use fox_crds::ColumnType as T;
    match ty {
        T::SmallInt => "i16",
        T::Integer | T::Serial => "i32",
        T::BigInt | T::BigSerial => "i64",
        T::Boolean => "bool",
        T::Real => "f32",
        T::Double => "f64",
        T::Decimal { .. } => "rust_decimal::Decimal",
        T::Char(_) | T::Varchar(_) | T::Text => "String",
        // The caller names the column's `#[derive(foxdb::Enum)]` type instead.
        T::Enum(_) => "String",
        T::Date => "chrono::NaiveDate",
        T::Time => "chrono::NaiveTime",
        T::Timestamp => "chrono::NaiveDateTime",
        T::TimestampTz => "chrono::DateTime<chrono::Utc>",
        T::Uuid => "uuid::Uuid",
        T::Json => "serde_json::Value",
        T::Bytes => "Vec<u8>",
    }
}

/// How the generated models are extended: [`client_source_with`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// Paths of extra derives for every struct and enum (`serde::Serialize`).
    pub derives: Vec<String>,
    /// Tables whose models implement `foxdb::Hooks` in the application's code
    /// (`#[foxdb(hooks)]`); `*` for every table.
    pub manual_hooks: Vec<String>,
}

impl ClientOptions {
    /// Every problem with the options against `schema`'s tables, at once.
    ///
    /// # Errors
    /// A derive that is not a Rust path; a hooks table the schema does not declare.
    pub fn check(&self, tables: &[String]) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        for derive in &self.derives {
            let is_path = !derive.is_empty()
                && derive.split("::").all(|part| {
                    let mut chars = part.chars();
                    chars
                        .next()
                        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
            if !is_path {
                problems.push(format!(
                    "--derive {derive:?} is not a Rust path (say serde::Serialize)"
                ));
            }
        }
        for table in &self.manual_hooks {
            if table != "*" && !tables.contains(table) {
                problems.push(format!(
                    "--hooks {table:?}: the FoxSchema declares no such table (tables: {})",
                    tables.join(", ")
                ));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("{}", problems.join("\n"))
        }
    }

    fn has_manual_hooks(&self, table: &str) -> bool {
        self.manual_hooks.iter().any(|t| t == "*" || t == table)
    }

    /// `, serde::Serialize, ...` after the derives the generator always writes.
    fn extra_derives(&self) -> String {
        self.derives.iter().map(|d| format!(", {d}")).collect()
    }
}

/// Rust model structs for every table a FoxSchema declares (relations' generated columns and
/// join tables included), for `#[derive(foxdb::Model)]`.
pub fn client_source(schema: &fox_crds::FoxSchema) -> String {
    client_source_with(schema, &ClientOptions::default())
}

/// [`client_source`] extended as `options` says.
pub fn client_source_with(schema: &fox_crds::FoxSchema, options: &ClientOptions) -> String {
    let desired = crate::engine::desired::desired_schema(&schema.spec);
    // Plain `//` comments: `//!` would be an inner attribute, which `include!` refuses.
    let mut source = format!(
        "// Models of FoxSchema/{}, generated by `fox generate client`: regenerate, do not edit.\n// Include it with `include!(\"...\")`; write hooks and other impls in your own files.\n\n",
        schema.metadata.name.clone().unwrap_or_default()
    );
    let structs: Vec<String> = desired
        .tables
        .iter()
        .map(|t| struct_name(&t.name))
        .collect();
    let mut enums = String::new();
    for table in &desired.tables {
        let hooks = if options.has_manual_hooks(&table.name) {
            ", hooks"
        } else {
            ""
        };
        source.push_str(&format!(
            "/// A row of `{}`.\n#[derive(Clone, Debug, PartialEq, foxdb::Model{})]\n#[foxdb(table = {:?}, new_row{hooks})]\npub struct {} {{\n",
            table.name,
            options.extra_derives(),
            table.name,
            struct_name(&table.name)
        ));
        for column in &table.columns {
            let mut attributes = Vec::new();
            if table.primary_key.contains(&column.name) {
                attributes.push("primary_key".to_string());
            }
            if column.ty.is_auto_increment() {
                attributes.push("auto_increment".to_string());
            } else if column.default.is_some() {
                attributes.push("default".to_string());
            }
            if table.tenant_isolation.as_deref() == Some(column.name.as_str()) {
                attributes.push("tenant".to_string());
            }
            let enum_type = match &column.ty {
                fox_crds::ColumnType::Enum(labels) => {
                    attributes.push("enum".to_string());
                    let name = enum_name(&table.name, &column.name, &structs);
                    enums.push_str(&enum_source(
                        &name,
                        &table.name,
                        &column.name,
                        labels,
                        &options.extra_derives(),
                    ));
                    Some(name)
                }
                _ => None,
            };
            let (field, renamed) = field_name(&column.name);
            if renamed {
                attributes.push(format!("column = {:?}", column.name));
            }
            source.push_str(&format!("    /// `{}` ({}).\n", column.name, column.ty));
            if !attributes.is_empty() {
                source.push_str(&format!("    #[foxdb({})]\n", attributes.join(", ")));
            }
            let ty = enum_type.as_deref().unwrap_or(rust_type(&column.ty));
            let ty = if column.nullable {
                format!("Option<{ty}>")
            } else {
                ty.to_string()
            };
            source.push_str(&format!("    pub {field}: {ty},\n"));
        }
        source.push_str("}\n\n");
    }
    source.push_str(&enums);
    source.push_str(&relation_source(schema, &desired));
    source.trim_end().to_string() + "\n"
}

/// `in-progress` → `InProgress`, `2fa` → `V2fa`: a type or variant name for a label or column.
fn camel_case(text: &str) -> String {
    let mut name: String = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|p| !p.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    if name == "Self" {
        name.push('_');
    }
    name
}

/// The label `#[derive(foxdb::Enum)]` gives a variant without `#[foxdb(label)]`:
/// `PendingReview` → `pending_review` (the derive's own rule).
fn derived_label(variant: &str) -> String {
    let mut label = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                label.push('_');
            }
            label.extend(c.to_lowercase());
        } else {
            label.push(c);
        }
    }
    label
}

/// The Rust enum type of `table.column`: `users.role` → `UserRole` (`UserRoleEnum` where a
/// model struct has that name already).
fn enum_name(table: &str, column: &str, structs: &[String]) -> String {
    let name = format!("{}{}", struct_name(table), camel_case(column));
    if structs.contains(&name) {
        format!("{name}Enum")
    } else {
        name
    }
}

/// A `#[derive(foxdb::Enum)]` type for an enum column: one variant per label, in the
/// FoxSchema's order, each stored as its label; the first is the `Default`.
fn enum_source(
    name: &str,
    table: &str,
    column: &str,
    labels: &[String],
    extra_derives: &str,
) -> String {
    let mut source = format!(
        "/// The labels of `{table}.{column}`.\n#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, foxdb::Enum{extra_derives})]\npub enum {name} {{\n"
    );
    let mut used: Vec<String> = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let mut variant = camel_case(label);
        while used.contains(&variant) {
            variant.push('_');
        }
        used.push(variant.clone());
        source.push_str(&format!("    /// `{label}`.\n"));
        if i == 0 {
            source.push_str("    #[default]\n");
        }
        if derived_label(&variant) != *label {
            source.push_str(&format!("    #[foxdb(label = {label:?})]\n"));
        }
        source.push_str(&format!("    {variant},\n"));
    }
    source.push_str("}\n\n");
    source
}

/// Relation accessors (`User::posts()`) for the relations a FoxSchema declares.
fn relation_source(schema: &fox_crds::FoxSchema, desired: &foxdb::schema::Schema) -> String {
    use fox_crds::conventions::{default_foreign_key, default_join_table, join_table_columns};
    use fox_crds::schema::RelationKind;
    let key = |table: &str| {
        desired
            .table(table)
            .and_then(|t| t.primary_key.first().cloned())
            .unwrap_or_default()
    };
    let mut source = String::new();
    for table in &schema.spec.tables {
        if table.relations.is_empty() {
            continue;
        }
        let owner = struct_name(&table.name);
        source.push_str(&format!(
            "impl {owner} {{
"
        ));
        for relation in &table.relations {
            let related = struct_name(&relation.table);
            let (method, _) = field_name(&relation.name);
            // Column handles: the compiler checks the names and that key types agree.
            let handle = |table: &str, column: &str| {
                format!(
                    "{}::{}",
                    struct_name(table),
                    field_name(column).0.trim_start_matches("r#").to_uppercase()
                )
            };
            // A one-to-one loads as each parent's `Option`, not a `Vec`.
            let (returned, one) = match relation.kind {
                RelationKind::OneToOne => (
                    format!("foxdb::relation::One<foxdb::Relation<{owner}, {related}>>"),
                    ".one()",
                ),
                _ => (format!("foxdb::Relation<{owner}, {related}>"), ""),
            };
            let constructor = match relation.kind {
                RelationKind::OneToMany | RelationKind::OneToOne => {
                    let foreign_key = relation
                        .foreign_key
                        .clone()
                        .unwrap_or_else(|| default_foreign_key(&table.name));
                    format!(
                        "has_many({}, {})",
                        handle(&table.name, &key(&table.name)),
                        handle(&relation.table, &foreign_key)
                    )
                }
                RelationKind::ManyToOne => {
                    let foreign_key = relation
                        .foreign_key
                        .clone()
                        .unwrap_or_else(|| default_foreign_key(&relation.table));
                    format!(
                        "belongs_to({}, {})",
                        handle(&table.name, &foreign_key),
                        handle(&relation.table, &key(&relation.table))
                    )
                }
                RelationKind::ManyToMany => {
                    let through = relation
                        .through
                        .clone()
                        .unwrap_or_else(|| default_join_table(&table.name, &relation.table));
                    let (owner_column, related_column) = match desired.table(&through) {
                        Some(join)
                            if join
                                .column(&join_table_columns(&table.name, &relation.table).0)
                                .is_none() =>
                        {
                            let (b, a) = join_table_columns(&relation.table, &table.name);
                            (a, b)
                        }
                        _ => join_table_columns(&table.name, &relation.table),
                    };
                    format!(
                        "many_to_many({}, {}, {}, {})",
                        handle(&table.name, &key(&table.name)),
                        handle(&through, &owner_column),
                        handle(&through, &related_column),
                        handle(&relation.table, &key(&relation.table))
                    )
                }
            };
            source.push_str(&format!(
                "    /// The `{}` relation ({:?}) to `{}`.\n    pub fn {method}() -> {returned} {{\n        foxdb::Relation::{constructor}{one}\n    }}\n",
                relation.name, relation.kind, relation.table
            ));
        }
        source.push_str("}\n\n");
    }
    source
}

/// Writes (or prints) the models of the FoxSchema under `paths`.
///
/// # Errors
/// Invalid manifests, not exactly one FoxSchema, unwritable output.
pub fn client(
    paths: &[PathBuf],
    output: Option<&Path>,
    options: &ClientOptions,
) -> anyhow::Result<ExitCode> {
    let set = load_valid_manifests(paths)?;
    let schemas: Vec<_> = set.schemas().map(|(_, s)| s).collect();
    let [schema] = schemas.as_slice() else {
        bail!("give exactly one FoxSchema ({} found)", schemas.len());
    };
    let tables: Vec<String> = crate::engine::desired::desired_schema(&schema.spec)
        .tables
        .iter()
        .map(|t| t.name.clone())
        .collect();
    options.check(&tables)?;
    let source = client_source_with(schema, options);
    match output {
        Some(path) => {
            std::fs::write(path, &source).with_context(|| format!("writing {}", path.display()))?;
            println!("Wrote {}", path.display());
        }
        None => print!("{source}"),
    }
    Ok(ExitCode::SUCCESS)
}
