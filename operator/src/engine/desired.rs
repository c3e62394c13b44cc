//! Turns a FoxSchema spec into the schema model: columns, keys and indexes as declared, plus
//! what relations and the auto-index policy generate (docs/schema.md, "Relations").

use std::collections::BTreeMap;

use fox_crds::conventions::{
    default_foreign_key, default_foreign_key_name, default_index_name, default_join_table,
    join_table_columns,
};
use fox_crds::schema::{FoxSchemaSpec, ReferentialAction, RelationKind, TableSpec};
use fox_crds::schema_validation::{DEFAULT_EXPRESSIONS, declared_primary_key};
use fox_crds::{ColumnType, Scalar};
use foxdb::schema::{Column, ColumnDefault, ForeignKey, Index, Schema, Table, TableAudit};

/// The tables a FoxSchema declares, with everything its relations generate.
///
/// The spec must have passed `FoxSchema::validate()`; types that do not parse are skipped
/// (validation reports them).
pub fn desired_schema(spec: &FoxSchemaSpec) -> Schema {
    let mut tables: BTreeMap<String, Table> = spec
        .tables
        .iter()
        .map(|t| (t.name.clone(), declared_table(t)))
        .collect();
    // Column references first, so relations over the same column do not add a second key.
    for (table, foreign_key) in column_references(spec, &tables) {
        if let Some(holder) = tables.get_mut(&table) {
            holder.foreign_keys.push(foreign_key);
        }
    }
    for table in &spec.tables {
        for relation in &table.relations {
            let on_delete = relation.on_delete.unwrap_or_default();
            match relation.kind {
                RelationKind::OneToMany | RelationKind::OneToOne => {
                    let column = relation
                        .foreign_key
                        .clone()
                        .unwrap_or_else(|| default_foreign_key(&table.name));
                    ensure_foreign_key(
                        &mut tables,
                        &relation.table,
                        &column,
                        &table.name,
                        on_delete,
                    );
                    if relation.kind == RelationKind::OneToOne
                        && let Some(holder) = tables.get_mut(&relation.table)
                    {
                        ensure_unique(holder, &column);
                    }
                }
                RelationKind::ManyToOne => {
                    let column = relation
                        .foreign_key
                        .clone()
                        .unwrap_or_else(|| default_foreign_key(&relation.table));
                    ensure_foreign_key(
                        &mut tables,
                        &table.name,
                        &column,
                        &relation.table,
                        on_delete,
                    );
                }
                RelationKind::ManyToMany => {
                    let through = relation
                        .through
                        .clone()
                        .unwrap_or_else(|| default_join_table(&table.name, &relation.table));
                    ensure_join_table(&mut tables, &through, &table.name, &relation.table);
                }
            }
        }
    }
    if spec.policy.auto_index_foreign_keys {
        for table in tables.values_mut() {
            let missing: Vec<Vec<String>> = table
                .foreign_keys
                .iter()
                .filter(|f| !table.has_index_prefix(&f.columns))
                .map(|f| f.columns.clone())
                .collect();
            for columns in missing {
                let name = default_index_name(&table.name, &columns, false);
                table.indexes.push(Index {
                    name,
                    columns,
                    unique: false,
                    constraint: false,
                });
            }
        }
    }
    let mut schema = Schema {
        tables: tables.into_values().collect(),
        unmanaged: Vec::new(),
    };
    schema.normalize_order();
    schema
}

fn declared_table(spec: &TableSpec) -> Table {
    let primary_key = declared_primary_key(spec);
    let mut table = Table {
        name: spec.name.clone(),
        primary_key,
        realtime: spec.realtime,
        audit: spec.audit.enabled.then(|| {
            let mut exclude_fields = spec.audit.exclude_fields.clone();
            exclude_fields.sort();
            exclude_fields.dedup();
            TableAudit {
                exclude_fields,
                retention_days: spec.audit.retention_days,
                compression: spec.audit.compression,
                hash_chain: spec.audit.hash_chain,
            }
        }),
        tenant_isolation: spec.tenant_column.clone(),
        ..Table::default()
    };
    for column in &spec.columns {
        let Ok(ty) = column.type_.parse::<ColumnType>() else {
            continue;
        };
        let default = column.default.as_ref().map(|d| column_default(&ty, d));
        table.columns.push(Column {
            name: column.name.clone(),
            ty,
            nullable: column.nullable,
            default,
        });
    }
    for column in spec.columns.iter().filter(|c| c.unique) {
        ensure_unique(&mut table, &column.name);
    }
    for index in &spec.indexes {
        let name = index
            .name
            .clone()
            .unwrap_or_else(|| default_index_name(&spec.name, &index.columns, index.unique));
        table.indexes.push(Index {
            name,
            columns: index.columns.clone(),
            unique: index.unique,
            constraint: false,
        });
    }
    table
}

/// The foreign keys declared on columns; they need every table's primary key.
fn column_references(
    spec: &FoxSchemaSpec,
    tables: &BTreeMap<String, Table>,
) -> Vec<(String, ForeignKey)> {
    let mut found = Vec::new();
    for table in &spec.tables {
        for column in &table.columns {
            let Some(reference) = &column.references else {
                continue;
            };
            let referenced_column = match &reference.column {
                Some(c) => c.clone(),
                None => match tables
                    .get(&reference.table)
                    .map(|t| t.primary_key.as_slice())
                {
                    Some([only]) => only.clone(),
                    _ => continue,
                },
            };
            found.push((
                table.name.clone(),
                ForeignKey {
                    name: reference
                        .name
                        .clone()
                        .unwrap_or_else(|| default_foreign_key_name(&table.name, &column.name)),
                    columns: vec![column.name.clone()],
                    referenced_table: reference.table.clone(),
                    referenced_columns: vec![referenced_column],
                    on_delete: reference.on_delete,
                    on_update: reference.on_update,
                },
            ));
        }
    }
    found
}

fn primary_key_type(tables: &BTreeMap<String, Table>, table: &str) -> Option<(String, ColumnType)> {
    let table = tables.get(table)?;
    let [key] = table.primary_key.as_slice() else {
        return None;
    };
    Some((key.clone(), table.column(key)?.ty.referenced_as()))
}

fn ensure_foreign_key(
    tables: &mut BTreeMap<String, Table>,
    holder: &str,
    column: &str,
    referenced: &str,
    on_delete: ReferentialAction,
) {
    let Some((referenced_column, ty)) = primary_key_type(tables, referenced) else {
        return;
    };
    let Some(holder_table) = tables.get_mut(holder) else {
        return;
    };
    if holder_table.column(column).is_none() {
        holder_table.columns.push(Column {
            name: column.to_string(),
            ty,
            nullable: on_delete == ReferentialAction::SetNull,
            default: None,
        });
    }
    if !holder_table
        .foreign_keys
        .iter()
        .any(|f| f.columns == [column])
    {
        holder_table.foreign_keys.push(ForeignKey {
            name: default_foreign_key_name(holder, column),
            columns: vec![column.to_string()],
            referenced_table: referenced.to_string(),
            referenced_columns: vec![referenced_column],
            on_delete,
            on_update: ReferentialAction::NoAction,
        });
    }
}

fn ensure_unique(table: &mut Table, column: &str) {
    let columns = vec![column.to_string()];
    let already = table.primary_key == columns
        || table
            .indexes
            .iter()
            .any(|i| i.unique && i.columns == columns);
    if !already {
        table.indexes.push(Index {
            name: default_index_name(&table.name, &columns, true),
            columns,
            unique: true,
            constraint: false,
        });
    }
}

fn ensure_join_table(
    tables: &mut BTreeMap<String, Table>,
    through: &str,
    owner: &str,
    related: &str,
) {
    let (owner_column, related_column) = join_table_columns(owner, related);
    if !tables.contains_key(through) {
        let (Some((_, owner_type)), Some((_, related_type))) = (
            primary_key_type(tables, owner),
            primary_key_type(tables, related),
        ) else {
            return;
        };
        let column = |name: &str, ty: ColumnType| Column {
            name: name.to_string(),
            ty,
            nullable: false,
            default: None,
        };
        tables.insert(
            through.to_string(),
            Table {
                name: through.to_string(),
                columns: vec![
                    column(&owner_column, owner_type),
                    column(&related_column, related_type),
                ],
                primary_key: vec![owner_column.clone(), related_column.clone()],
                ..Table::default()
            },
        );
    } else {
        // The other side of the same relation generated it already, or it is declared.
        let existing = &tables[through];
        let has_columns =
            existing.column(&owner_column).is_some() && existing.column(&related_column).is_some();
        let reversed = join_table_columns(related, owner);
        if !has_columns
            && existing.column(&reversed.0).is_some()
            && existing.column(&reversed.1).is_some()
        {
            return;
        }
    }
    ensure_foreign_key(
        tables,
        through,
        &owner_column,
        owner,
        ReferentialAction::Cascade,
    );
    ensure_foreign_key(
        tables,
        through,
        &related_column,
        related,
        ReferentialAction::Cascade,
    );
}

/// A declared default as a model value.
pub fn column_default(ty: &ColumnType, value: &Scalar) -> ColumnDefault {
    match value {
        Scalar::Null => ColumnDefault::Null,
        Scalar::Bool(b) => ColumnDefault::Bool(*b),
        Scalar::Integer(i) if ty.is_integer() => ColumnDefault::Integer(*i),
        Scalar::Integer(i) => ColumnDefault::Number(i.to_string()),
        Scalar::Float(x) => ColumnDefault::Number(x.to_string()),
        // Refused by validation; kept as its JSON text should it get here.
        Scalar::Json(value) => ColumnDefault::Text(value.to_string()),
        Scalar::String(s) => match s.as_str() {
            "now()" => ColumnDefault::Now,
            "current_date" => ColumnDefault::CurrentDate,
            "current_time" => ColumnDefault::CurrentTime,
            _ if matches!(
                ty,
                ColumnType::Decimal { .. } | ColumnType::Real | ColumnType::Double
            ) =>
            {
                ColumnDefault::Number(s.clone())
            }
            _ => {
                debug_assert!(!DEFAULT_EXPRESSIONS.contains(&s.as_str()));
                ColumnDefault::Text(s.clone())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use fox_crds::manifest::{ManifestSet, parse_manifests};
    use fox_crds::schema::ReferentialAction;

    use super::*;

    fn spec(yaml: &str) -> FoxSchemaSpec {
        let mut set = ManifestSet::default();
        parse_manifests("t.yaml".as_ref(), yaml, &mut set);
        assert!(set.problems.is_empty(), "{:#?}", set.problems);
        set.schemas().next().unwrap().1.spec.clone()
    }

    const BLOG: &str = include_str!("../../../examples/blog/10-schema.yaml");

    #[test]
    fn relations_generate_keys_columns_and_join_tables() {
        let schema = desired_schema(&spec(BLOG));
        let join = schema.table("post_tags").expect("join table generated");
        assert_eq!(join.primary_key, ["post_id", "tag_id"]);
        assert!(
            join.foreign_keys
                .iter()
                .all(|f| f.on_delete == ReferentialAction::Cascade)
        );
        assert_eq!(
            join.column("tag_id").unwrap().ty,
            ColumnType::Integer,
            "tags.id is serial"
        );

        let profiles = schema.table("profiles").unwrap();
        assert_eq!(profiles.column("user_id").unwrap().ty, ColumnType::BigInt);
        assert!(
            profiles
                .indexes
                .iter()
                .any(|i| i.unique && i.columns == ["user_id"]),
            "one-to-one is unique"
        );

        let posts = schema.table("posts").unwrap();
        assert!(
            posts
                .foreign_keys
                .iter()
                .any(|f| f.columns == ["author_id"] && f.referenced_table == "users")
        );
    }

    #[test]
    fn foreign_keys_get_an_index_unless_switched_off() {
        let with = desired_schema(&spec(BLOG));
        assert!(
            with.table("comments")
                .unwrap()
                .index("comments_post_id_idx")
                .is_some()
        );
        let without = desired_schema(&spec(&BLOG.replace(
            "lockTimeoutSeconds: 30",
            "lockTimeoutSeconds: 30\n    autoIndexForeignKeys: false",
        )));
        assert!(
            without
                .table("comments")
                .unwrap()
                .index("comments_post_id_idx")
                .is_none()
        );
        // A key that an index already starts with needs no second one.
        assert!(
            with.table("post_tags")
                .unwrap()
                .index("post_tags_post_id_idx")
                .is_none()
        );
    }
}
