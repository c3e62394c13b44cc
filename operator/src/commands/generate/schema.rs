//! `fox generate schema`: a FoxSchema written from a live database, so a database that FoxDB
//! did not create can be adopted. `fox plan` with the written file reports the database in
//! sync; what a FoxSchema cannot declare (views, triggers, partial and expression indexes,
//! CHECK constraints, tables of unportable types) is listed in comments at the top of the file,
//! never dropped without a word.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use fox_crds::ColumnType;
use fox_crds::conventions::{default_foreign_key_name, default_index_name};
use fox_crds::schema::ReferentialAction;
use foxdb::dialect::dialect_for;
use foxdb::introspect::canonical_type;
use foxdb::introspect::{UndeclaredObject, introspect_schema, undeclared_objects};
use foxdb::schema::{ColumnDefault, ForeignKey, Index, Schema, Table};
use foxdb::{Backend, DatabaseUrl};

use crate::engine::history::{ApplyStatus, read_history};
use crate::engine::session::connect_read_only;

/// What `fox generate schema` was asked for.
#[derive(Debug, Default)]
pub struct SchemaOptions {
    /// `metadata.name` of the FoxSchema (default: the name of the last FoxSchema applied to the
    /// database, else the database's name).
    pub name: Option<String>,
    /// `spec.databaseRef.name` (default: the FoxSchema's name).
    pub database_ref: Option<String>,
}

/// Introspects the database at `database` and writes a FoxSchema for it to `output` (or
/// prints it).
///
/// # Errors
/// An invalid or unreachable database, a failed catalog query, an unwritable output file.
pub async fn schema(
    database: &str,
    output: Option<&Path>,
    options: &SchemaOptions,
) -> anyhow::Result<ExitCode> {
    let url = DatabaseUrl::parse(database)?;
    let mut connection = connect_read_only(&url).await?;
    let live = introspect_schema(&mut connection).await?;
    let undeclared = undeclared_objects(&mut connection).await?;
    // A database FoxDB never applied to has no history table; then the name comes from the URL.
    let applied_name = read_history(&mut connection)
        .await
        .ok()
        .and_then(|history| {
            history
                .into_iter()
                .rev()
                .find(|h| h.status == ApplyStatus::Applied)
        })
        .map(|h| h.schema_name);
    connection.close().await;

    let name = options
        .name
        .clone()
        .or(applied_name)
        .unwrap_or_else(|| resource_name(&url.database_name()));
    let database_ref = options.database_ref.clone().unwrap_or_else(|| name.clone());
    let header = [
        format!(
            "FoxSchema written by `fox generate schema` from {} {}.",
            url.backend(),
            url.target()
        ),
        "`fox plan -f THIS_FILE --database URL` reports that database in sync.".to_string(),
    ];
    let generated = write_schema(
        url.backend(),
        &live,
        &undeclared,
        &name,
        &database_ref,
        &header,
    );
    for warning in &generated.warnings {
        eprintln!("warning: {warning}");
    }
    match output {
        Some(path) => {
            std::fs::write(path, &generated.yaml)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "Wrote FoxSchema/{name} ({} tables) to {}.",
                live.tables.len(),
                path.display()
            );
        }
        None => print!("{}", generated.yaml),
    }
    Ok(ExitCode::SUCCESS)
}

/// A written FoxSchema and what it could not declare.
#[derive(Debug)]
pub struct GeneratedSchema {
    /// The manifest.
    pub yaml: String,
    /// Live objects the manifest leaves out that `fox apply` would change or drop (a table
    /// without a primary key, a composite foreign key, a default expression): also in the
    /// file's comments.
    pub warnings: Vec<String>,
}

/// A name Kubernetes accepts (`metadata.name`: lower-case letters, digits and `-`).
pub(crate) fn resource_name(database: &str) -> String {
    let base = Path::new(database)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(database);
    let mut name: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name = name.trim_matches('-').to_string();
    while name.contains("--") {
        name = name.replace("--", "-");
    }
    if name.is_empty() {
        "schema".into()
    } else {
        name
    }
}

/// The FoxSchema for `live`, in the compact style of FoxDB's examples, under the comment lines
/// `header` (where it came from, what to do with it).
pub fn write_schema(
    backend: Backend,
    live: &Schema,
    undeclared: &[UndeclaredObject],
    name: &str,
    database_ref: &str,
    header: &[String],
) -> GeneratedSchema {
    let mut notes: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    for table in &live.unmanaged {
        notes.push(format!(
            "table {}: {} (outside the portable types; FoxDB leaves the table alone)",
            table.name, table.reason
        ));
    }
    for object in undeclared {
        let on = object
            .table
            .as_deref()
            .map(|t| format!(" on {t}"))
            .unwrap_or_default();
        let name = if object.name.is_empty() {
            "(unnamed)"
        } else {
            &object.name
        };
        let definition = one_line(&object.definition);
        notes.push(if definition.is_empty() {
            format!("{} {name}{on}", object.kind)
        } else {
            format!("{} {name}{on}: {definition}", object.kind)
        });
    }
    let declared: Vec<&Table> = live
        .tables
        .iter()
        .filter(|t| {
            if t.primary_key.is_empty() {
                warnings.push(format!(
                    "table {} has no primary key: a FoxSchema table needs one, so it is left out and `fox plan` would drop it; add a primary key and generate again",
                    t.name
                ));
                false
            } else {
                true
            }
        })
        .collect();
    let declared_names: BTreeSet<&str> = declared.iter().map(|t| t.name.as_str()).collect();
    let auto_index = declared.iter().all(|t| {
        t.foreign_keys
            .iter()
            .all(|f| t.has_index_prefix(&f.columns))
    });

    let mut body = String::new();
    for table in &declared {
        write_table(
            &mut body,
            backend,
            table,
            live,
            &declared_names,
            auto_index,
            &mut warnings,
        );
    }

    let mut yaml = String::new();
    for line in header {
        let _ = writeln!(yaml, "# {line}");
    }
    let not_declared: Vec<&String> = notes.iter().chain(warnings.iter()).collect();
    if !not_declared.is_empty() {
        yaml.push_str("#\n# Not declared here (a FoxSchema cannot express it):\n");
        for note in not_declared {
            let _ = writeln!(yaml, "#   - {}", one_line(note));
        }
    }
    yaml.push_str("apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata:\n");
    let _ = writeln!(yaml, "  name: {}", scalar(name));
    yaml.push_str("spec:\n");
    let _ = writeln!(yaml, "  databaseRef: {{name: {}}}", scalar(database_ref));
    if !auto_index {
        yaml.push_str(
            "  # Some foreign keys have no index: FoxDB would otherwise add one to each.\n  policy: {autoIndexForeignKeys: false}\n",
        );
    }
    if declared.is_empty() {
        yaml.push_str("  tables: []\n");
    } else {
        yaml.push_str("  tables:\n");
        yaml.push_str(&body);
    }
    GeneratedSchema { yaml, warnings }
}

fn write_table(
    out: &mut String,
    backend: Backend,
    table: &Table,
    live: &Schema,
    declared: &BTreeSet<&str>,
    auto_index: bool,
    warnings: &mut Vec<String>,
) {
    let _ = writeln!(out, "    - name: {}", scalar(&table.name));
    let single_key = match table.primary_key.as_slice() {
        [only] => Some(only.as_str()),
        _ => None,
    };
    // Single-column foreign keys become `references` on their column; composite ones cannot
    // be declared.
    let mut references: BTreeMap<&str, &ForeignKey> = BTreeMap::new();
    for foreign_key in &table.foreign_keys {
        match foreign_key.columns.as_slice() {
            [column] if declared.contains(foreign_key.referenced_table.as_str()) => {
                references.insert(column.as_str(), foreign_key);
            }
            [_] => warnings.push(format!(
                "foreign key {} on {} references {}, which is not declared: `fox plan` would drop the foreign key",
                foreign_key.name, table.name, foreign_key.referenced_table
            )),
            _ => warnings.push(format!(
                "foreign key {} on {} ({}) spans several columns, which a FoxSchema cannot declare: `fox plan` would drop it",
                foreign_key.name,
                table.name,
                foreign_key.columns.join(", ")
            )),
        }
    }
    // Unique single-column indexes with the conventional name become `unique: true`.
    let column_unique = |column: &str, index: &Index| {
        index.unique
            && index.columns.len() == 1
            && index.columns[0] == column
            && index.name == default_index_name(&table.name, &index.columns, true)
    };
    let mut written_indexes: BTreeSet<&str> = BTreeSet::new();

    out.push_str("      columns:\n");
    for column in &table.columns {
        let ty = declared_type(backend, table, &column.name, &column.ty, live);
        let mut fields: Vec<String> = vec![
            format!("name: {}", scalar(&column.name)),
            format!("type: {}", scalar(&ty.to_string())),
        ];
        if column.nullable {
            fields.push("nullable: true".into());
        }
        if single_key == Some(column.name.as_str()) {
            fields.push("primaryKey: true".into());
        }
        if let Some(index) = table
            .indexes
            .iter()
            .find(|i| column_unique(&column.name, i))
        {
            fields.push("unique: true".into());
            written_indexes.insert(index.name.as_str());
        }
        match &column.default {
            None | Some(ColumnDefault::Null) => {}
            Some(ColumnDefault::Expression(expression)) => warnings.push(format!(
                "the default of {}.{} is the expression {expression}, which a FoxSchema cannot declare: `fox plan` would remove it",
                table.name, column.name
            )),
            Some(default) => fields.push(format!("default: {}", default_value(default))),
        }
        if let Some(foreign_key) = references.get(column.name.as_str()) {
            fields.push(format!(
                "references: {}",
                reference(backend, table, foreign_key, live)
            ));
        }
        let _ = writeln!(out, "        - {{{}}}", fields.join(", "));
    }
    if single_key.is_none() {
        let _ = writeln!(out, "      primaryKey: {}", list(&table.primary_key));
    }

    let implied_by_foreign_key = |index: &Index| {
        auto_index
            && !index.unique
            && table.foreign_keys.iter().any(|f| {
                f.columns == index.columns
                    && index.name == default_index_name(&table.name, &f.columns, false)
                    && !table.primary_key.starts_with(&f.columns)
                    && !table.indexes.iter().any(|other| {
                        other.name != index.name && other.columns.starts_with(&f.columns)
                    })
            })
    };
    let indexes: Vec<String> = table
        .indexes
        .iter()
        .filter(|i| !written_indexes.contains(i.name.as_str()) && !implied_by_foreign_key(i))
        .map(|index| {
            let mut fields = vec![format!("columns: {}", list(&index.columns))];
            if index.unique {
                fields.push("unique: true".into());
            }
            if index.name != default_index_name(&table.name, &index.columns, index.unique) {
                fields.push(format!("name: {}", scalar(&index.name)));
            }
            format!("{{{}}}", fields.join(", "))
        })
        .collect();
    if !indexes.is_empty() {
        out.push_str("      indexes:\n");
        for index in indexes {
            let _ = writeln!(out, "        - {index}");
        }
    }

    let relations = relations_of(table, live, declared);
    if !relations.is_empty() {
        out.push_str("      relations:\n");
        for relation in relations {
            let _ = writeln!(out, "        - {relation}");
        }
    }
    if table.realtime {
        out.push_str("      realtime: true\n");
    }
    if let Some(audit) = &table.audit {
        let mut fields = vec!["enabled: true".to_string()];
        if !audit.exclude_fields.is_empty() {
            fields.push(format!("excludeFields: {}", list(&audit.exclude_fields)));
        }
        if audit.retention_days != 0 {
            fields.push(format!("retentionDays: {}", audit.retention_days));
        }
        if audit.compression {
            fields.push("compression: true".into());
        }
        if audit.hash_chain {
            fields.push("hashChain: true".into());
        }
        let _ = writeln!(out, "      audit: {{{}}}", fields.join(", "));
    }
    if let Some(column) = &table.tenant_isolation {
        let _ = writeln!(out, "      tenantColumn: {}", scalar(column));
    }
}

/// The type to declare for a column. Where the engine stores `serial` and `bigserial` alike
/// (SQLite's rowid), a key that `integer` columns reference is declared `serial`, as it was
/// before the engine widened it, so the references keep matching types.
fn declared_type(
    backend: Backend,
    table: &Table,
    column: &str,
    ty: &ColumnType,
    live: &Schema,
) -> ColumnType {
    let widened = canonical_type(backend, &ColumnType::Serial) == ColumnType::BigSerial;
    let referenced_by_integer = live.tables.iter().any(|other| {
        other.foreign_keys.iter().any(|f| {
            f.referenced_table == table.name
                && f.referenced_columns.len() == 1
                && f.referenced_columns[0] == column
                && other
                    .column(&f.columns[0])
                    .is_some_and(|c| c.ty == ColumnType::Integer)
        })
    });
    if widened && *ty == ColumnType::BigSerial && referenced_by_integer {
        ColumnType::Serial
    } else {
        ty.clone()
    }
}

/// `{table: users, onDelete: cascade}`: the column is left out when it is the referenced
/// table's single-column primary key, the name when it is the conventional one.
fn reference(backend: Backend, table: &Table, foreign_key: &ForeignKey, live: &Schema) -> String {
    let mut fields = vec![format!("table: {}", scalar(&foreign_key.referenced_table))];
    let referenced_key = live
        .table(&foreign_key.referenced_table)
        .map(|t| t.primary_key.clone())
        .unwrap_or_default();
    if referenced_key != foreign_key.referenced_columns {
        fields.push(format!(
            "column: {}",
            scalar(&foreign_key.referenced_columns[0])
        ));
    }
    // The default action as the engine reports it back (InnoDB: `restrict`) is left out.
    let default_action = dialect_for(backend).reported_action(ReferentialAction::NoAction);
    if foreign_key.on_delete != default_action {
        fields.push(format!("onDelete: {}", action(foreign_key.on_delete)));
    }
    if foreign_key.on_update != default_action {
        fields.push(format!("onUpdate: {}", action(foreign_key.on_update)));
    }
    if foreign_key.name != default_foreign_key_name(&table.name, &foreign_key.columns[0]) {
        fields.push(format!("name: {}", scalar(&foreign_key.name)));
    }
    format!("{{{}}}", fields.join(", "))
}

fn action(action: ReferentialAction) -> &'static str {
    match action {
        ReferentialAction::NoAction => "no-action",
        ReferentialAction::Restrict => "restrict",
        ReferentialAction::Cascade => "cascade",
        ReferentialAction::SetNull => "set-null",
    }
}

/// The relations `fox generate client` turns into accessors: for every single-column foreign
/// key to this table's primary key, one-to-many (one-to-one when the column is unique) named
/// after the referencing table, or `<table>_<column>` when that name is taken.
fn relations_of(table: &Table, live: &Schema, declared: &BTreeSet<&str>) -> Vec<String> {
    let mut taken: BTreeSet<String> = table.columns.iter().map(|c| c.name.clone()).collect();
    let mut relations = Vec::new();
    for other in live
        .tables
        .iter()
        .filter(|t| declared.contains(t.name.as_str()))
    {
        for foreign_key in &other.foreign_keys {
            let [column] = foreign_key.columns.as_slice() else {
                continue;
            };
            if foreign_key.referenced_table != table.name
                || foreign_key.referenced_columns != table.primary_key
            {
                continue;
            }
            let unique = other.primary_key == foreign_key.columns
                || other
                    .indexes
                    .iter()
                    .any(|i| i.unique && i.columns == foreign_key.columns);
            let mut name = other.name.clone();
            if taken.contains(&name) || other.name == table.name {
                name = format!("{}_{column}", other.name);
            }
            if !taken.insert(name.clone()) {
                continue;
            }
            let kind = if unique { "one-to-one" } else { "one-to-many" };
            relations.push(format!(
                "{{name: {}, kind: {kind}, table: {}, foreignKey: {}}}",
                scalar(&name),
                scalar(&other.name),
                scalar(column)
            ));
        }
    }
    relations
}

/// A default as a manifest value: numbers of decimal and floating point columns quoted, so
/// they keep their digits.
fn default_value(default: &ColumnDefault) -> String {
    match default {
        ColumnDefault::Null => "null".into(),
        ColumnDefault::Bool(b) => b.to_string(),
        ColumnDefault::Integer(i) => i.to_string(),
        ColumnDefault::Number(n) => quoted(n),
        ColumnDefault::Text(text) => quoted(text),
        ColumnDefault::Now => "now()".into(),
        ColumnDefault::CurrentDate => "current_date".into(),
        ColumnDefault::CurrentTime => "current_time".into(),
        ColumnDefault::Expression(e) => quoted(e),
    }
}

/// `[a, b]`.
fn list(items: &[String]) -> String {
    format!(
        "[{}]",
        items
            .iter()
            .map(|i| scalar(i))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A plain YAML scalar where one reads back as the same string, else a double-quoted one.
fn scalar(text: &str) -> String {
    const WORDS: [&str; 12] = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~", "", ".nan",
    ];
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '(' | ')' | '.'))
        && !WORDS.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// A double-quoted YAML scalar (JSON's string syntax is valid YAML).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| format!("\"{text}\""))
}

/// Text on one line, whitespace runs collapsed, at most 200 characters.
fn one_line(text: &str) -> String {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > 200 {
        let cut: String = collapsed.chars().take(199).collect();
        format!("{cut}…")
    } else {
        collapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_plain_only_where_they_read_back_as_the_same_string() {
        assert_eq!(scalar("users"), "users");
        assert_eq!(scalar("varchar(255)"), "varchar(255)");
        assert_eq!(scalar("decimal(12,2)"), "\"decimal(12,2)\"");
        assert_eq!(scalar("enum(a,b)"), "\"enum(a,b)\"");
        assert_eq!(scalar("on"), "\"on\"");
        assert_eq!(scalar("Null"), "\"Null\"");
        assert_eq!(scalar("order"), "order");
        assert_eq!(scalar("1st"), "\"1st\"");
        assert_eq!(scalar("it's"), "\"it's\"");
    }

    #[test]
    fn resource_names_are_what_kubernetes_accepts() {
        assert_eq!(resource_name("Shop_DB"), "shop-db");
        assert_eq!(resource_name("/tmp/blog.sqlite"), "blog");
        assert_eq!(resource_name("__"), "schema");
    }
}
