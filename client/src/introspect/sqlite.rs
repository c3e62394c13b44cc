//! SQLite introspection from `sqlite_master` and the table-valued pragmas.

use fox_crds::ColumnType;
use fox_crds::conventions::default_foreign_key_name;
use sqlx::{Row, SqliteConnection};

use super::unmanaged::UnmanagedTables;
use super::{BOOKKEEPING_PREFIX, native_type, parse_action, parse_default, parse_quoted_list};
use crate::Backend;
use crate::error::{Error, Result};
use crate::schema::{Column, ForeignKey, Index, Schema, Table};

const TABLES: &str = r"
SELECT name, sql FROM sqlite_master
WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY name";
const COLUMNS: &str =
    r#"SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid"#;
const INDEX_LIST: &str =
    r#"SELECT name, "unique", origin, partial FROM pragma_index_list(?1) ORDER BY name"#;
const INDEX_COLUMNS: &str = "SELECT name FROM pragma_index_info(?1) ORDER BY seqno";
const FOREIGN_KEYS: &str = r#"SELECT id, "table", "from", "to", on_update, on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq"#;

fn query_error(sql: &str, error: sqlx::Error) -> Error {
    Error::query(Backend::Sqlite, Some(sql), error)
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

pub(super) async fn introspect(connection: &mut SqliteConnection) -> Result<Schema> {
    let table_rows = sqlx::query(TABLES)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(TABLES, e))?;
    let mut tables = Vec::new();
    let mut unmanaged = UnmanagedTables::default();
    for row in table_rows {
        let name: String = row.get(0);
        if name.starts_with(BOOKKEEPING_PREFIX) {
            continue;
        }
        let sql: String = row.get::<Option<String>, _>(1).unwrap_or_default();
        let table = introspect_table(connection, name, &sql, &mut unmanaged).await?;
        if !unmanaged.contains(&table.name) {
            tables.push(table);
        }
    }
    // Foreign keys naming no column reference the primary key.
    let primary_keys: Vec<(String, Vec<String>)> = tables
        .iter()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for table in &mut tables {
        for foreign_key in &mut table.foreign_keys {
            if foreign_key.referenced_columns.iter().any(String::is_empty)
                && let Some((_, key)) = primary_keys
                    .iter()
                    .find(|(name, _)| *name == foreign_key.referenced_table)
            {
                foreign_key.referenced_columns = key.clone();
            }
        }
    }
    Ok(Schema {
        tables,
        unmanaged: unmanaged.into_tables(),
    })
}

async fn introspect_table(
    connection: &mut SqliteConnection,
    name: String,
    sql: &str,
    unmanaged: &mut UnmanagedTables,
) -> Result<Table> {
    // SQLite allows AUTOINCREMENT only right after a column's INTEGER PRIMARY KEY.
    let normalized = sql
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let autoincrement = normalized.contains("PRIMARY KEY AUTOINCREMENT");
    let column_rows = sqlx::query(COLUMNS)
        .bind(&name)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(COLUMNS, e))?;
    let mut key_positions: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::new();
    for row in &column_rows {
        let column_name: String = row.get(0);
        let declared: String = row.get(1);
        let not_null: i64 = row.get(2);
        let default: Option<String> = row.get(3);
        let key_position: i64 = row.get(4);
        if key_position > 0 {
            key_positions.push((key_position, column_name.clone()));
        }
        let ty = if declared.eq_ignore_ascii_case("ENUM") {
            enum_labels(sql, &column_name).map(ColumnType::Enum)
        } else {
            native_type::sqlite(&declared)
        };
        let Some(ty) = ty else {
            // An untyped column, a type outside the vocabulary, or ENUM without its CHECK.
            unmanaged.mark(&name, &column_name, &declared);
            continue;
        };
        let default = default.map(|d| parse_default(&ty, &d));
        columns.push(Column {
            name: column_name,
            ty,
            nullable: not_null == 0,
            default,
        });
    }
    key_positions.sort();
    let primary_key: Vec<String> = key_positions.into_iter().map(|(_, c)| c).collect();
    if let [only] = primary_key.as_slice()
        && autoincrement
        && let Some(column) = columns.iter_mut().find(|c| &c.name == only)
        && column.ty == ColumnType::Integer
    {
        column.ty = ColumnType::BigSerial;
        // The rowid alias never holds NULL, whatever the declaration says.
        column.nullable = false;
    }

    let mut indexes = Vec::new();
    let index_rows = sqlx::query(INDEX_LIST)
        .bind(&name)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(INDEX_LIST, e))?;
    for row in index_rows {
        let index_name: String = row.get(0);
        let unique: i64 = row.get(1);
        let origin: String = row.get(2);
        let partial: i64 = row.get(3);
        if origin == "pk" || partial != 0 {
            continue;
        }
        let key_parts: Vec<Option<String>> = sqlx::query(INDEX_COLUMNS)
            .bind(&index_name)
            .fetch_all(&mut *connection)
            .await
            .map_err(|e| query_error(INDEX_COLUMNS, e))?
            .iter()
            .map(|r| r.get::<Option<String>, _>(0))
            .collect();
        // An expression key part has no column name: a FoxSchema cannot declare such an
        // index, so it is left alone (as partial ones are, and as on PostgreSQL).
        if key_parts.iter().any(Option::is_none) {
            continue;
        }
        let columns: Vec<String> = key_parts.into_iter().flatten().collect();
        indexes.push(Index {
            name: index_name,
            columns,
            unique: unique != 0,
            // `sqlite_autoindex_*` of a UNIQUE in CREATE TABLE: only a rebuild drops it.
            constraint: origin == "u",
        });
    }

    let mut foreign_keys: Vec<ForeignKey> = Vec::new();
    let mut current_id = -1;
    for row in sqlx::query(FOREIGN_KEYS)
        .bind(&name)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(FOREIGN_KEYS, e))?
    {
        let id: i64 = row.get(0);
        let from: String = row.get(2);
        let to: String = row.get::<Option<String>, _>(3).unwrap_or_default();
        if id != current_id {
            current_id = id;
            foreign_keys.push(ForeignKey {
                name: String::new(),
                columns: vec![from],
                referenced_table: row.get(1),
                referenced_columns: vec![to],
                on_update: parse_action(&row.get::<String, _>(4)),
                on_delete: parse_action(&row.get::<String, _>(5)),
            });
        } else if let Some(last) = foreign_keys.last_mut() {
            last.columns.push(from);
            last.referenced_columns.push(to);
        }
    }
    for foreign_key in &mut foreign_keys {
        foreign_key.name = constraint_name(sql, &foreign_key.columns)
            .unwrap_or_else(|| default_foreign_key_name(&name, &foreign_key.columns[0]));
    }

    Ok(Table {
        name,
        columns,
        primary_key,
        indexes,
        foreign_keys,
        ..Table::default()
    })
}

/// Labels of `CHECK ("col" IN ('a', 'b'))` in a CREATE TABLE statement.
fn enum_labels(sql: &str, column: &str) -> Option<Vec<String>> {
    let marker = format!("CHECK ({} IN (", quoted(column));
    let start = sql.find(&marker)? + marker.len();
    let rest = &sql[start..];
    // Labels hold no quotes or parentheses (validation refuses quotes), so the list ends at "))".
    let end = rest.find("))")?;
    Some(parse_quoted_list(&rest[..end]))
}

/// Name of the `CONSTRAINT "name" FOREIGN KEY ("a", "b")` over exactly `columns`.
fn constraint_name(sql: &str, columns: &[String]) -> Option<String> {
    let key = format!(
        "FOREIGN KEY ({})",
        columns
            .iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let at = sql.find(&key)?;
    let before = sql[..at].trim_end();
    let before = before.strip_suffix('"')?;
    let open = before.rfind("CONSTRAINT \"")? + "CONSTRAINT \"".len();
    Some(before[open..].replace("\"\"", "\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_labels_and_constraint_names_are_read_from_the_table_sql() {
        let sql = r#"CREATE TABLE "posts" (
  "status" ENUM NOT NULL DEFAULT 'draft' CHECK ("status" IN ('draft', 'it''s')),
  CONSTRAINT "posts_author_id_fkey" FOREIGN KEY ("author_id") REFERENCES "users" ("id")
)"#;
        assert_eq!(
            enum_labels(sql, "status"),
            Some(vec!["draft".into(), "it's".into()])
        );
        assert_eq!(
            constraint_name(sql, &["author_id".into()]).as_deref(),
            Some("posts_author_id_fkey")
        );
    }
}
