//! SQLite introspection from `sqlite_master` and the table-valued pragmas.

use std::collections::HashMap;

use fox_crds::ColumnType;
use fox_crds::conventions::default_foreign_key_name;
use sqlx::{Row, SqliteConnection};

use super::unmanaged::UnmanagedTables;
use super::{
    BOOKKEEPING_PREFIX, UndeclaredObject, native_type, parse_action, parse_default,
    parse_quoted_list,
};
use crate::Backend;
use crate::error::{Error, Result};
use crate::schema::{Column, ForeignKey, Index, Schema, Table};

const TABLES: &str = r"
SELECT name, sql FROM sqlite_master
WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY name";

// Every table's pragmas in one query each (the table-valued pragmas take the table from the
// join), not a query per table: an in-process round trip per table and index is what a
// schema of thousands of tables would pay for.
const COLUMNS: &str = r#"
SELECT m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk
FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, p.cid"#;

// One row per key part; an expression key part has no column name.
const INDEXES: &str = r#"
SELECT m.name, l.name, l."unique", l.origin, l.partial, i.name
FROM sqlite_master AS m JOIN pragma_index_list(m.name) AS l
JOIN pragma_index_info(l.name) AS i
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, l.name, i.seqno"#;

const FOREIGN_KEYS: &str = r#"
SELECT m.name, f.id, f."table", f."from", f."to", f.on_update, f.on_delete
FROM sqlite_master AS m JOIN pragma_foreign_key_list(m.name) AS f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, f.id, f.seq"#;

fn query_error(sql: &str, error: sqlx::Error) -> Error {
    Error::query(Backend::Sqlite, Some(sql), error)
}

fn quoted(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// One column as `pragma_table_info` reports it.
struct ColumnRow {
    name: String,
    declared: String,
    not_null: bool,
    default: Option<String>,
    key_position: i64,
}

/// One key part of an index as `pragma_index_list` and `pragma_index_info` report it.
struct IndexRow {
    name: String,
    unique: bool,
    origin: String,
    partial: bool,
    column: Option<String>,
}

/// One column of a foreign key as `pragma_foreign_key_list` reports it.
struct ForeignKeyRow {
    id: i64,
    referenced_table: String,
    from: String,
    to: Option<String>,
    on_update: String,
    on_delete: String,
}

/// The pragma rows of every table, by table name.
#[derive(Default)]
struct CatalogRows {
    columns: HashMap<String, Vec<ColumnRow>>,
    indexes: HashMap<String, Vec<IndexRow>>,
    foreign_keys: HashMap<String, Vec<ForeignKeyRow>>,
}

impl CatalogRows {
    async fn read(connection: &mut SqliteConnection) -> Result<Self> {
        let mut rows = Self::default();
        for row in sqlx::query(COLUMNS)
            .fetch_all(&mut *connection)
            .await
            .map_err(|e| query_error(COLUMNS, e))?
        {
            rows.columns.entry(row.get(0)).or_default().push(ColumnRow {
                name: row.get(1),
                declared: row.get(2),
                not_null: row.get::<i64, _>(3) != 0,
                default: row.get(4),
                key_position: row.get(5),
            });
        }
        for row in sqlx::query(INDEXES)
            .fetch_all(&mut *connection)
            .await
            .map_err(|e| query_error(INDEXES, e))?
        {
            rows.indexes.entry(row.get(0)).or_default().push(IndexRow {
                name: row.get(1),
                unique: row.get::<i64, _>(2) != 0,
                origin: row.get(3),
                partial: row.get::<i64, _>(4) != 0,
                column: row.get(5),
            });
        }
        for row in sqlx::query(FOREIGN_KEYS)
            .fetch_all(&mut *connection)
            .await
            .map_err(|e| query_error(FOREIGN_KEYS, e))?
        {
            rows.foreign_keys
                .entry(row.get(0))
                .or_default()
                .push(ForeignKeyRow {
                    id: row.get(1),
                    referenced_table: row.get(2),
                    from: row.get(3),
                    to: row.get(4),
                    on_update: row.get(5),
                    on_delete: row.get(6),
                });
        }
        Ok(rows)
    }
}

pub(super) async fn introspect(connection: &mut SqliteConnection) -> Result<Schema> {
    let table_rows = sqlx::query(TABLES)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(TABLES, e))?;
    let mut catalog = CatalogRows::read(connection).await?;
    let mut tables = Vec::new();
    let mut unmanaged = UnmanagedTables::default();
    for row in table_rows {
        let name: String = row.get(0);
        if name.starts_with(BOOKKEEPING_PREFIX) {
            continue;
        }
        let sql: String = row.get::<Option<String>, _>(1).unwrap_or_default();
        let table = table_from_rows(&mut catalog, name, &sql, &mut unmanaged);
        if !unmanaged.contains(&table.name) {
            tables.push(table);
        }
    }
    // Foreign keys naming no column reference the primary key.
    let primary_keys: HashMap<String, Vec<String>> = tables
        .iter()
        .map(|t| (t.name.clone(), t.primary_key.clone()))
        .collect();
    for table in &mut tables {
        for foreign_key in &mut table.foreign_keys {
            if foreign_key.referenced_columns.iter().any(String::is_empty)
                && let Some(key) = primary_keys.get(&foreign_key.referenced_table)
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

fn table_from_rows(
    catalog: &mut CatalogRows,
    name: String,
    sql: &str,
    unmanaged: &mut UnmanagedTables,
) -> Table {
    // SQLite allows AUTOINCREMENT only right after a column's INTEGER PRIMARY KEY.
    let normalized = sql
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    let autoincrement = normalized.contains("PRIMARY KEY AUTOINCREMENT");
    let mut key_positions: Vec<(i64, String)> = Vec::new();
    let mut columns = Vec::new();
    for row in catalog.columns.remove(&name).unwrap_or_default() {
        if row.key_position > 0 {
            key_positions.push((row.key_position, row.name.clone()));
        }
        let ty = if row.declared.eq_ignore_ascii_case("ENUM") {
            enum_labels(sql, &row.name).map(ColumnType::Enum)
        } else {
            native_type::sqlite(&row.declared)
        };
        let Some(ty) = ty else {
            // An untyped column, a type outside the vocabulary, or ENUM without its CHECK.
            unmanaged.mark(&name, &row.name, &row.declared);
            continue;
        };
        let default = row.default.map(|d| parse_default(&ty, &d));
        columns.push(Column {
            name: row.name,
            ty,
            nullable: !row.not_null,
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
    let index_rows = catalog.indexes.remove(&name).unwrap_or_default();
    // Rows arrive grouped by index, key parts in order.
    for parts in index_rows.chunk_by(|a, b| a.name == b.name) {
        let first = &parts[0];
        if first.origin == "pk" || first.partial {
            continue;
        }
        // An expression key part has no column name: a FoxSchema cannot declare such an
        // index, so it is left alone (as partial ones are, and as on PostgreSQL).
        let Some(columns) = parts
            .iter()
            .map(|p| p.column.clone())
            .collect::<Option<Vec<String>>>()
        else {
            continue;
        };
        // A UNIQUE in CREATE TABLE gets an index SQLite names itself (`sqlite_autoindex_*`,
        // numbered in declaration order), whatever the constraint was called, and only a
        // rebuild drops it: it goes by the name FoxDB gives a unique index on those columns,
        // so declaring the column unique matches it.
        let constraint = first.origin == "u";
        let index_name = if constraint {
            fox_crds::conventions::default_index_name(&name, &columns, true)
        } else {
            first.name.clone()
        };
        indexes.push(Index {
            name: index_name,
            columns,
            unique: first.unique,
            constraint,
        });
    }

    let mut foreign_keys: Vec<ForeignKey> = Vec::new();
    let mut current_id = -1;
    for row in catalog.foreign_keys.remove(&name).unwrap_or_default() {
        let to = row.to.unwrap_or_default();
        if row.id != current_id {
            current_id = row.id;
            foreign_keys.push(ForeignKey {
                name: String::new(),
                columns: vec![row.from],
                referenced_table: row.referenced_table,
                referenced_columns: vec![to],
                on_update: parse_action(&row.on_update),
                on_delete: parse_action(&row.on_delete),
            });
        } else if let Some(last) = foreign_keys.last_mut() {
            last.columns.push(row.from);
            last.referenced_columns.push(to);
        }
    }
    for foreign_key in &mut foreign_keys {
        foreign_key.name = constraint_name(sql, &foreign_key.columns)
            .unwrap_or_else(|| default_foreign_key_name(&name, &foreign_key.columns[0]));
    }

    Table {
        name,
        columns,
        primary_key,
        indexes,
        foreign_keys,
        ..Table::default()
    }
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

// What a FoxSchema cannot declare: views and triggers (FoxDB's own `_fox_*` left out), partial
// and expression indexes; CHECK constraints are read from each table's SQL.
const UNDECLARED: &str = r"
SELECT type, name, CASE type WHEN 'view' THEN NULL ELSE tbl_name END, sql FROM sqlite_master
WHERE type IN ('view', 'trigger') AND substr(name, 1, 5) <> '_fox_'
  AND substr(tbl_name, 1, 5) <> '_fox_'
ORDER BY type, tbl_name, name";

const INDEXES_WITH_SQL: &str = r"
SELECT name, tbl_name, sql FROM sqlite_master
WHERE type = 'index' AND sql IS NOT NULL AND substr(tbl_name, 1, 5) <> '_fox_'
ORDER BY tbl_name, name";

const EXPRESSION_KEY_PARTS: &str =
    "SELECT count(*) FROM pragma_index_xinfo(?1) WHERE cid = -2 AND key = 1";

pub(super) async fn undeclared(connection: &mut SqliteConnection) -> Result<Vec<UndeclaredObject>> {
    let mut found: Vec<UndeclaredObject> = sqlx::query(UNDECLARED)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(UNDECLARED, e))?
        .iter()
        .map(UndeclaredObject::from_row)
        .collect();
    for row in sqlx::query(INDEXES_WITH_SQL)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(INDEXES_WITH_SQL, e))?
    {
        let name: String = row.get(0);
        let table: String = row.get(1);
        let sql: String = row.get(2);
        let partial: bool = sqlx::query_scalar::<_, i64>(
            "SELECT partial FROM pragma_index_list(?1) WHERE name = ?2",
        )
        .bind(&table)
        .bind(&name)
        .fetch_optional(&mut *connection)
        .await
        .map_err(|e| query_error("pragma_index_list", e))?
            == Some(1);
        let expression: i64 = sqlx::query_scalar(EXPRESSION_KEY_PARTS)
            .bind(&name)
            .fetch_one(&mut *connection)
            .await
            .map_err(|e| query_error(EXPRESSION_KEY_PARTS, e))?;
        let kind = if partial {
            "partial index"
        } else if expression > 0 {
            "expression index"
        } else {
            continue;
        };
        found.push(UndeclaredObject {
            kind: kind.into(),
            name,
            table: Some(table),
            definition: sql,
        });
    }
    for row in sqlx::query(TABLES)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(TABLES, e))?
    {
        let table: String = row.get(0);
        if table.starts_with(BOOKKEEPING_PREFIX) {
            continue;
        }
        let sql: String = row.get::<Option<String>, _>(1).unwrap_or_default();
        for (name, check) in check_constraints(&sql) {
            found.push(UndeclaredObject {
                kind: "check constraint".into(),
                name: name.unwrap_or_default(),
                table: Some(table.clone()),
                definition: check,
            });
        }
    }
    Ok(found)
}

/// The `CHECK (...)` clauses of a table's SQL with their constraint names, except the ones
/// FoxDB writes for enum columns (`CHECK ("status" IN (...))` on a column declared `ENUM`).
fn check_constraints(sql: &str) -> Vec<(Option<String>, String)> {
    let bytes = sql.as_bytes();
    let mut found = Vec::new();
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' | b'"' | b'`' | b'[' => {
                let close = if bytes[i] == b'[' { b']' } else { bytes[i] };
                let start = i;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == close {
                        if close != b']' && bytes.get(i + 1) == Some(&close) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                words.push((start, i.min(bytes.len())));
            }
            b if b.is_ascii_alphanumeric() || b == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = &sql[start..i];
                if word.eq_ignore_ascii_case("check") {
                    let mut open = i;
                    while open < bytes.len() && bytes[open].is_ascii_whitespace() {
                        open += 1;
                    }
                    if bytes.get(open) == Some(&b'(')
                        && let Some(end) = closing_parenthesis(bytes, open)
                    {
                        let clause = &sql[start..=end];
                        let name = match words.as_slice() {
                            [.., (k0, k1), (n0, n1)]
                                if sql[*k0..*k1].eq_ignore_ascii_case("constraint") =>
                            {
                                Some(unquote_identifier(&sql[*n0..*n1]))
                            }
                            _ => None,
                        };
                        if !is_enum_check(sql, &sql[open + 1..end]) {
                            found.push((name, clause.to_string()));
                        }
                        i = end + 1;
                        words.clear();
                        continue;
                    }
                }
                words.push((start, i));
            }
            _ => i += 1,
        }
    }
    found
}

/// Index of the `)` closing the `(` at `open`, skipping quoted text.
fn closing_parenthesis(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'\'' | b'"' | b'`') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    i += 1;
                }
            }
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

fn unquote_identifier(text: &str) -> String {
    let inner = text
        .strip_prefix(['"', '`', '['])
        .and_then(|t| t.strip_suffix(['"', '`', ']']))
        .unwrap_or(text);
    inner.replace("\"\"", "\"")
}

/// Whether `inner` is FoxDB's enum check `"column" IN (...)` over a column declared `ENUM`.
fn is_enum_check(sql: &str, inner: &str) -> bool {
    let Some(rest) = inner.strip_prefix('"') else {
        return false;
    };
    let Some(end) = rest.find("\" IN (") else {
        return false;
    };
    let column = &rest[..end];
    sql.contains(&format!("{} ENUM", quoted(column)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_constraints_other_than_enum_checks_are_found_with_their_names() {
        let sql = r#"CREATE TABLE "orders" (
  "status" ENUM NOT NULL CHECK ("status" IN ('new', 'paid')),
  "total" NUMERIC CONSTRAINT positive_total CHECK (total > 0),
  "note" TEXT CHECK (length(note) < 100 AND note <> 'check (x)'),
  "kind" TEXT CHECK (kind IN ('a', 'b'))
)"#;
        let found = check_constraints(sql);
        assert_eq!(
            found,
            vec![
                (
                    Some("positive_total".to_string()),
                    "CHECK (total > 0)".to_string()
                ),
                (
                    None,
                    "CHECK (length(note) < 100 AND note <> 'check (x)')".to_string()
                ),
                (None, "CHECK (kind IN ('a', 'b'))".to_string()),
            ]
        );
    }

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
