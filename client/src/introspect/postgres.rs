//! PostgreSQL introspection from the system catalogs of the current schema.

use std::collections::{BTreeMap, HashMap};

use fox_crds::ColumnType;
use sqlx::{PgConnection, Row};

use super::UndeclaredObject;
use super::key_columns::{ForeignKeyColumn, IndexColumn, add_foreign_key_column, add_index_column};
use super::unmanaged::UnmanagedTables;
use super::{BOOKKEEPING_PREFIX, native_type, parse_default};
use crate::Backend;
use crate::error::{Error, Result};
use crate::schema::{Column, Schema, Table};

// Sorted here, not by the server: a sort of every column of thousands of tables spills to disk
// at the default `work_mem` (half the query's time at 2,000 tables).
const COLUMNS: &str = r"
SELECT c.relname::text, a.attname::text, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text, t.typtype::text,
       t.typname::text, a.attnum
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped";

const ENUM_LABELS: &str = r"
SELECT t.typname::text, e.enumlabel::text
FROM pg_enum e
JOIN pg_type t ON t.oid = e.enumtypid
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = current_schema()
ORDER BY t.typname, e.enumsortorder";

const PRIMARY_KEYS: &str = r"
SELECT c.relname::text, a.attname::text
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
WHERE i.indisprimary AND n.nspname = current_schema()
ORDER BY c.relname, array_position(i.indkey::int2[], a.attnum)";

// An index owned by a UNIQUE constraint can only be dropped as that constraint; one owned by
// an exclusion constraint cannot be declared, so it is left alone.
const INDEXES: &str = r"
SELECT t.relname::text, ic.relname::text, i.indisunique, a.attname::text,
       EXISTS (SELECT 1 FROM pg_constraint con
               WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                 AND con.contype = 'u')
FROM pg_index i
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
WHERE n.nspname = current_schema() AND NOT i.indisprimary AND i.indpred IS NULL
  AND NOT (0 = ANY(i.indkey::int2[])) AND t.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                  WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                    AND con.contype = 'x')
ORDER BY t.relname, ic.relname, array_position(i.indkey::int2[], a.attnum)";

const FOREIGN_KEYS: &str = r"
SELECT t.relname::text, c.conname::text, rt.relname::text, a.attname::text, ra.attname::text,
       c.confdeltype::text, c.confupdtype::text
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_class rt ON rt.oid = c.confrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(attnum, refattnum, ord)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
JOIN pg_attribute ra ON ra.attrelid = c.confrelid AND ra.attnum = k.refattnum
WHERE c.contype = 'f' AND n.nspname = current_schema()
ORDER BY t.relname, c.conname, k.ord";

fn query_error(sql: &str, error: sqlx::Error) -> Error {
    Error::query(Backend::Postgres, Some(sql), error)
}

fn is_user_table(name: &str) -> bool {
    !name.starts_with(BOOKKEEPING_PREFIX)
}

pub(super) async fn introspect(connection: &mut PgConnection) -> Result<Schema> {
    let mut enum_labels: HashMap<String, Vec<String>> = HashMap::new();
    for row in sqlx::query(ENUM_LABELS)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(ENUM_LABELS, e))?
    {
        enum_labels
            .entry(row.get::<String, _>(0))
            .or_default()
            .push(row.get::<String, _>(1));
    }

    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut unmanaged = UnmanagedTables::default();
    let mut column_rows = sqlx::query(COLUMNS)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(COLUMNS, e))?;
    column_rows.sort_by_cached_key(|row| (row.get::<String, _>(0), row.get::<i16, _>(8)));
    for row in column_rows {
        let table_name: String = row.get(0);
        if !is_user_table(&table_name) {
            continue;
        }
        let column_name: String = row.get(1);
        let native: String = row.get(2);
        let not_null: bool = row.get(3);
        let default: Option<String> = row.get(4);
        let identity: String = row.get(5);
        let type_kind: String = row.get(6);
        let type_name: String = row.get(7);
        let ty = if type_kind == "e" {
            ColumnType::Enum(enum_labels.get(&type_name).cloned().unwrap_or_default())
        } else {
            let Some(parsed) = native_type::postgres(&native) else {
                unmanaged.mark(&table_name, &column_name, &native);
                continue;
            };
            // An identity column, or a column declared `serial` the older way: a sequence's
            // `nextval(...)` as its default (what most other tools create).
            let sequence = identity.is_empty()
                && default
                    .as_deref()
                    .is_some_and(|d| d.trim_start().starts_with("nextval("));
            match (parsed, identity.as_str()) {
                (ColumnType::Integer, "a" | "d") => ColumnType::Serial,
                (ColumnType::BigInt, "a" | "d") => ColumnType::BigSerial,
                (ColumnType::Integer, _) if sequence => ColumnType::Serial,
                (ColumnType::BigInt, _) if sequence => ColumnType::BigSerial,
                (other, _) => other,
            }
        };
        let default = if ty.is_auto_increment() {
            None
        } else {
            default.map(|d| parse_default(&ty, &d))
        };
        tables
            .entry(table_name.clone())
            .or_insert_with(|| Table {
                name: table_name,
                ..Table::default()
            })
            .columns
            .push(Column {
                name: column_name,
                ty,
                nullable: !not_null,
                default,
            });
    }

    unmanaged.remove_from(&mut tables);

    for row in sqlx::query(PRIMARY_KEYS)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(PRIMARY_KEYS, e))?
    {
        if let Some(table) = tables.get_mut(&row.get::<String, _>(0)) {
            table.primary_key.push(row.get(1));
        }
    }

    for row in sqlx::query(INDEXES)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(INDEXES, e))?
    {
        let Some(table) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        add_index_column(
            table,
            IndexColumn {
                name: row.get(1),
                column: row.get(3),
                unique: row.get(2),
                constraint: row.get(4),
            },
        );
    }

    for row in sqlx::query(FOREIGN_KEYS)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(FOREIGN_KEYS, e))?
    {
        let Some(table) = tables.get_mut(&row.get::<String, _>(0)) else {
            continue;
        };
        let name: String = row.get(1);
        let (column, referenced): (String, String) = (row.get(3), row.get(4));
        add_foreign_key_column(
            table,
            ForeignKeyColumn {
                name,
                column,
                referenced_table: row.get(2),
                referenced_column: referenced,
                on_delete: row.get(5),
                on_update: row.get(6),
            },
        );
    }

    Ok(Schema {
        tables: tables.into_values().collect(),
        unmanaged: unmanaged.into_tables(),
    })
}

// What a FoxSchema cannot declare: views, triggers, partial and expression indexes, CHECK and
// exclusion constraints of the current schema (FoxDB's own `_fox_*` objects left out).
const UNDECLARED: &str = r"
SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, c.relname::text,
       NULL::text, pg_get_viewdef(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm') AND left(c.relname, 5) <> '_fox_'
UNION ALL
SELECT 'trigger', t.tgname::text, c.relname::text, pg_get_triggerdef(t.oid)
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND left(t.tgname, 5) <> '_fox_'
  AND left(c.relname, 5) <> '_fox_'
UNION ALL
SELECT CASE WHEN i.indpred IS NOT NULL THEN 'partial index' ELSE 'expression index' END,
       ic.relname::text, t.relname::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema() AND (i.indpred IS NOT NULL OR 0 = ANY(i.indkey::int2[]))
  AND left(t.relname, 5) <> '_fox_'
UNION ALL
SELECT CASE con.contype WHEN 'c' THEN 'check constraint' ELSE 'exclusion constraint' END,
       con.conname::text, t.relname::text, pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN pg_class t ON t.oid = con.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema() AND con.contype IN ('c', 'x') AND left(t.relname, 5) <> '_fox_'
ORDER BY 1, 3, 2";

pub(super) async fn undeclared(connection: &mut PgConnection) -> Result<Vec<UndeclaredObject>> {
    Ok(sqlx::query(UNDECLARED)
        .fetch_all(&mut *connection)
        .await
        .map_err(|e| query_error(UNDECLARED, e))?
        .iter()
        .map(UndeclaredObject::from_row)
        .collect())
}
