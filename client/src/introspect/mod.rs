//! Reading the live schema of a database into the [`Schema`] model, and the canonical form
//! both sides of a comparison are brought to.
//!
//! # Expected flow
//! `introspect_schema(&mut connection)` lists every table except FoxDB's own (`_fox_*`) with
//! columns, primary key, indexes and foreign keys. A table with a column the portable
//! vocabulary cannot express (`inet`, `int[]`, `set`, `year`, an untyped SQLite column) is
//! listed in [`Schema::unmanaged`] instead, with the first such column. A declared schema is compared with it after
//! both went through [`canonical_schema`], which maps each portable type to what the engine
//! actually stores (`uuid` is `char(36)` on MySQL, every serial is a 64-bit rowid on SQLite), so
//! "introspect(apply(S)) == canonical(S)" for every schema S.

// Reading the catalogs needs the engine's driver; reading type names back does not.
#[cfg(any(feature = "postgres", feature = "mysql"))]
mod key_columns;
#[cfg(feature = "mongodb")]
pub mod mongo;
#[cfg(feature = "mysql")]
mod mysql;
mod native_type;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
mod stored_float;
#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
mod unmanaged;

use std::collections::{HashMap, HashSet};

use fox_crds::ColumnType;
use fox_crds::schema::ReferentialAction;

use crate::Backend;
use crate::connection::Connection;
use crate::dialect::dialect_for;
use crate::error::Result;
use crate::schema::{Column, ColumnDefault, Schema, TableAudit};

/// Prefix of FoxDB's own tables, never part of a user schema.
pub const BOOKKEEPING_PREFIX: &str = "_fox_";

/// Reads the schema of the database `connection` is connected to.
///
/// # Errors
/// A query failed. Tables the portable vocabulary cannot express are not an error: they are
/// listed in [`Schema::unmanaged`].
pub async fn introspect_schema(connection: &mut Connection) -> Result<Schema> {
    let mut schema = match connection {
        #[cfg(feature = "postgres")]
        Connection::Postgres(c) => postgres::introspect(c).await?,
        #[cfg(feature = "mysql")]
        Connection::MySql(c) => mysql::introspect(c).await?,
        #[cfg(feature = "sqlite")]
        Connection::Sqlite(c) => sqlite::introspect(c).await?,
    };
    // Installed change capture: FoxDB's triggers on the table.
    let capture = crate::realtime::capture_for(connection.backend());
    let captured: HashSet<String> = connection
        .fetch_text_rows(capture.captured_tables(), &[])
        .await?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect();
    for table in &mut schema.tables {
        table.realtime = captured.contains(&table.name);
    }
    // Installed audit capture and its settings (the first row of a table counts).
    let mut audited: HashMap<String, TableAudit> = HashMap::new();
    for audited_table in crate::audit::audited_tables(connection).await? {
        audited
            .entry(audited_table.table)
            .or_insert(audited_table.settings);
    }
    for table in &mut schema.tables {
        table.audit = audited.get(&table.name).cloned();
    }
    // Installed tenant isolation: FoxDB's row-level security policy, its column in its comment.
    if let Some(query) = crate::dialect::dialect_for(connection.backend()).tenant_isolated_tables()
    {
        let mut isolated: HashMap<String, String> = HashMap::new();
        for row in connection.fetch_text_rows(query, &[]).await? {
            if let [Some(name), column] = row.as_slice() {
                isolated
                    .entry(name.clone())
                    .or_insert_with(|| column.clone().unwrap_or_default());
            }
        }
        for table in &mut schema.tables {
            table.tenant_isolation = isolated.get(&table.name).cloned();
        }
    }
    schema.normalize_order();
    Ok(canonical_schema(connection.backend(), &schema))
}

/// A live object a FoxSchema cannot declare (a view, a trigger, a partial or expression index,
/// a CHECK constraint); the schema engine leaves such objects as they are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UndeclaredObject {
    /// What it is, in words: `view`, `trigger`, `partial index`, `check constraint`, ...
    pub kind: String,
    /// Its name (empty for an unnamed SQLite CHECK constraint).
    pub name: String,
    /// The table it belongs to, if any.
    pub table: Option<String>,
    /// Its definition as the engine reports it (empty where the engine reports none).
    pub definition: String,
}

impl UndeclaredObject {
    /// One row of an engine's listing: kind, name, table (or NULL), definition (or NULL).
    #[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
    fn from_row<'r, R>(row: &'r R) -> Self
    where
        R: sqlx::Row,
        usize: sqlx::ColumnIndex<R>,
        String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Self {
            kind: row.get(0),
            name: row.get(1),
            table: row.get(2),
            definition: row.get::<Option<String>, _>(3).unwrap_or_default(),
        }
    }
}

/// Lists the live objects of the database `connection` is connected to that a FoxSchema
/// cannot declare, FoxDB's own (`_fox_*`) left out: what `fox generate schema` reports
/// instead of dropping silently.
///
/// # Errors
/// A query failed.
pub async fn undeclared_objects(connection: &mut Connection) -> Result<Vec<UndeclaredObject>> {
    match connection {
        #[cfg(feature = "postgres")]
        Connection::Postgres(c) => postgres::undeclared(c).await,
        #[cfg(feature = "mysql")]
        Connection::MySql(c) => mysql::undeclared(c).await,
        #[cfg(feature = "sqlite")]
        Connection::Sqlite(c) => sqlite::undeclared(c).await,
    }
}

/// Parses a native type spelling as the engine reports it back into the portable vocabulary.
pub fn parse_native_type(backend: Backend, native: &str) -> Option<ColumnType> {
    match backend {
        Backend::Postgres => native_type::postgres(native),
        Backend::MySql => native_type::mysql(native),
        Backend::Sqlite => native_type::sqlite(native),
    }
}

/// The portable type `ty` becomes once stored by `backend`.
pub fn canonical_type(backend: Backend, ty: &ColumnType) -> ColumnType {
    if matches!(ty, ColumnType::Enum(_)) {
        return ty.clone();
    }
    if ty.is_auto_increment() {
        return match (backend, ty) {
            (Backend::Sqlite, _) | (_, ColumnType::BigSerial) => ColumnType::BigSerial,
            _ => ColumnType::Serial,
        };
    }
    let probe = Column {
        name: "c".into(),
        ty: ty.clone(),
        nullable: true,
        default: None,
    };
    let native = dialect_for(backend).native_type("t", &probe);
    parse_native_type(backend, &native).unwrap_or_else(|| ty.clone())
}

/// A default as `backend` keeps it: numbers without trailing zeros, floating point numbers
/// at the column's precision, booleans for 0/1 on boolean columns, an explicit NULL default on
/// a nullable column the same as none.
pub fn canonical_default(
    backend: Backend,
    ty: &ColumnType,
    nullable: bool,
    default: Option<&ColumnDefault>,
) -> Option<ColumnDefault> {
    let default = default?;
    if let (
        ColumnType::Real | ColumnType::Double,
        ColumnDefault::Number(n) | ColumnDefault::Text(n),
    ) = (ty, default)
        && let Some(stored) =
            stored_float::stored_float_text(dialect_for(backend).float_storage(ty), n)
    {
        return Some(ColumnDefault::Number(stored));
    }
    if let (ColumnType::TimestampTz, ColumnDefault::Text(text)) = (ty, default)
        && let Some(instant) = fox_crds::value_validation::parse_instant(text)
    {
        return Some(ColumnDefault::Text(
            dialect_for(backend).instant_literal(instant),
        ));
    }
    match default {
        ColumnDefault::Null if nullable => None,
        ColumnDefault::Integer(i) if *ty == ColumnType::Boolean => {
            Some(ColumnDefault::Bool(*i != 0))
        }
        ColumnDefault::Integer(i)
            if matches!(
                ty,
                ColumnType::Decimal { .. } | ColumnType::Real | ColumnType::Double
            ) =>
        {
            Some(ColumnDefault::Number(i.to_string()))
        }
        ColumnDefault::Number(n) => Some(match n.parse::<i64>() {
            Ok(i) if ty.is_integer() => ColumnDefault::Integer(i),
            _ => ColumnDefault::Number(trim_number(n)),
        }),
        ColumnDefault::Text(s) if ty.is_integer() => Some(
            s.trim()
                .parse()
                .map_or_else(|_| ColumnDefault::Text(s.clone()), ColumnDefault::Integer),
        ),
        ColumnDefault::Text(s)
            if matches!(
                ty,
                ColumnType::Decimal { .. } | ColumnType::Real | ColumnType::Double
            ) =>
        {
            Some(ColumnDefault::Number(trim_number(s.trim())))
        }
        ColumnDefault::Text(s)
            if matches!(
                ty,
                ColumnType::Json
                    | ColumnType::Uuid
                    | ColumnType::Date
                    | ColumnType::Time
                    | ColumnType::Timestamp
            ) =>
        {
            Some(ColumnDefault::Text(canonical_literal(ty, s)))
        }
        ColumnDefault::Text(s) if *ty == ColumnType::Boolean => {
            Some(match s.to_ascii_lowercase().as_str() {
                "1" | "true" | "t" => ColumnDefault::Bool(true),
                "0" | "false" | "f" => ColumnDefault::Bool(false),
                _ => ColumnDefault::Text(s.clone()),
            })
        }
        other => Some(other.clone()),
    }
}

/// A JSON, UUID, date, time or timestamp literal written the way engines store it, so a
/// declared `'{"b":1}'` or `'2024-1-5'` equals what PostgreSQL or MariaDB report back.
fn canonical_literal(ty: &ColumnType, text: &str) -> String {
    let text = text.trim();
    match ty {
        ColumnType::Json => serde_json::from_str::<serde_json::Value>(text)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| text.to_string()),
        ColumnType::Uuid => text.to_ascii_lowercase(),
        ColumnType::Date => canonical_date(text).unwrap_or_else(|| text.to_string()),
        ColumnType::Time => canonical_time(text).unwrap_or_else(|| text.to_string()),
        ColumnType::Timestamp => {
            let (date, time) = text.split_once(['T', ' ']).unwrap_or((text, "00:00:00"));
            match (canonical_date(date), canonical_time(time)) {
                (Some(date), Some(time)) => format!("{date} {time}"),
                _ => text.to_string(),
            }
        }
        _ => text.to_string(),
    }
}

fn canonical_date(text: &str) -> Option<String> {
    let parts: Vec<u32> = text
        .split('-')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    match parts.as_slice() {
        [year, month, day] => Some(format!("{year:04}-{month:02}-{day:02}")),
        _ => None,
    }
}

fn canonical_time(text: &str) -> Option<String> {
    let (clock, fraction) = text.split_once('.').unwrap_or((text, ""));
    let parts: Vec<u32> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (hour, minute, second) = match parts.as_slice() {
        [h, m] => (*h, *m, 0),
        [h, m, s] => (*h, *m, *s),
        _ => return None,
    };
    let fraction = fraction.trim_end_matches('0');
    if !fraction.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut time = format!("{hour:02}:{minute:02}:{second:02}");
    if !fraction.is_empty() {
        time.push('.');
        time.push_str(fraction);
    }
    Some(time)
}

fn trim_number(number: &str) -> String {
    if number.contains('.') && !number.contains(['e', 'E']) {
        let trimmed = number.trim_end_matches('0').trim_end_matches('.');
        if trimmed.is_empty() || trimmed == "-" {
            "0".into()
        } else {
            trimmed.into()
        }
    } else {
        number.into()
    }
}

/// Brings a schema (declared or introspected) to the form `backend` stores, so equal schemas
/// compare equal.
pub fn canonical_schema(backend: Backend, schema: &Schema) -> Schema {
    let mut schema = schema.clone();
    for table in &mut schema.tables {
        for column in &mut table.columns {
            column.ty = canonical_type(backend, &column.ty);
            column.default = canonical_default(
                backend,
                &column.ty,
                column.nullable,
                column.default.as_ref(),
            );
        }
        let dialect = crate::dialect::dialect_for(backend);
        // Isolation by the database exists only where the engine has row-level security.
        if let Some(column) = &table.tenant_isolation
            && dialect.tenant_isolation(&table.name, column).is_none()
        {
            table.tenant_isolation = None;
        }
        for foreign_key in &mut table.foreign_keys {
            foreign_key.on_delete = dialect.reported_action(foreign_key.on_delete);
            foreign_key.on_update = dialect.reported_action(foreign_key.on_update);
        }
    }
    schema.normalize_order();
    schema
}

/// Parses a default expression as an engine reports it (`'draft'::text`, `0`, `(-1)`,
/// `CURRENT_TIMESTAMP(6)`, `NULL`) into a [`ColumnDefault`]; anything else is kept as an
/// expression.
pub fn parse_default(ty: &ColumnType, reported: &str) -> ColumnDefault {
    let mut text = reported.trim();
    while let Some(inner) = text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        text = inner.trim();
    }
    let text = strip_cast(text);
    let keyword = text.to_ascii_lowercase();
    match keyword.as_str() {
        "null" => return ColumnDefault::Null,
        "true" => return ColumnDefault::Bool(true),
        "false" => return ColumnDefault::Bool(false),
        "current_timestamp" | "now()" | "localtimestamp" | "current_timestamp()" => {
            return ColumnDefault::Now;
        }
        "current_date" | "curdate()" | "current_date()" => return ColumnDefault::CurrentDate,
        "current_time" | "localtime" | "curtime()" | "current_time()" => {
            return ColumnDefault::CurrentTime;
        }
        _ => {}
    }
    if keyword.starts_with("current_timestamp(")
        || keyword.starts_with("now(")
        || keyword.starts_with("localtimestamp(")
    {
        return ColumnDefault::Now;
    }
    if let Some(quoted) = unquote(text) {
        return ColumnDefault::Text(quoted);
    }
    if text.parse::<i64>().is_ok() || text.parse::<f64>().is_ok() {
        return match text.parse::<i64>() {
            Ok(i) if ty.is_integer() || *ty == ColumnType::Boolean => ColumnDefault::Integer(i),
            _ => ColumnDefault::Number(text.to_string()),
        };
    }
    ColumnDefault::Expression(text.to_string())
}

/// Removes PostgreSQL `::type` casts after a literal (`'x'::character varying` → `'x'`).
fn strip_cast(text: &str) -> &str {
    let mut in_quote = false;
    for (i, c) in text.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            ':' if !in_quote && text[i..].starts_with("::") => return text[..i].trim(),
            _ => {}
        }
    }
    text
}

/// The content of a single-quoted SQL string literal, or `None` when `text` is not one.
fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// Parses a referential action as engines report it.
pub(crate) fn parse_action(reported: &str) -> ReferentialAction {
    match reported.trim().to_ascii_uppercase().as_str() {
        "CASCADE" | "C" => ReferentialAction::Cascade,
        "SET NULL" | "N" => ReferentialAction::SetNull,
        "RESTRICT" | "R" => ReferentialAction::Restrict,
        _ => ReferentialAction::NoAction,
    }
}

/// Splits `enum('a','b''c')` style label lists.
pub(crate) fn parse_quoted_list(list: &str) -> Vec<String> {
    let mut labels = Vec::new();
    let mut current = String::new();
    let mut chars = list.chars().peekable();
    let mut in_quote = false;
    while let Some(c) = chars.next() {
        match (c, in_quote) {
            ('\'', false) => in_quote = true,
            ('\'', true) if chars.peek() == Some(&'\'') => {
                chars.next();
                current.push('\'');
            }
            ('\'', true) => {
                in_quote = false;
                labels.push(std::mem::take(&mut current));
            }
            (c, true) => current.push(c),
            _ => {}
        }
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_as_engines_report_them_are_understood() {
        let text = ColumnType::Varchar(10);
        assert_eq!(
            parse_default(&text, "'draft'::character varying"),
            ColumnDefault::Text("draft".into())
        );
        assert_eq!(
            parse_default(&text, "'it''s'"),
            ColumnDefault::Text("it's".into())
        );
        assert_eq!(
            parse_default(&ColumnType::Integer, "'-1'::integer"),
            ColumnDefault::Text("-1".into())
        );
        assert_eq!(
            canonical_default(
                Backend::Postgres,
                &ColumnType::Integer,
                false,
                Some(&parse_default(&ColumnType::Integer, "'-1'::integer"))
            ),
            Some(ColumnDefault::Integer(-1))
        );
        assert_eq!(
            parse_default(&ColumnType::Integer, "(-1)"),
            ColumnDefault::Integer(-1)
        );
        assert_eq!(
            parse_default(&ColumnType::TimestampTz, "current_timestamp(6)"),
            ColumnDefault::Now
        );
        assert_eq!(
            parse_default(&ColumnType::Date, "curdate()"),
            ColumnDefault::CurrentDate
        );
        assert_eq!(
            parse_default(&ColumnType::Boolean, "false"),
            ColumnDefault::Bool(false)
        );
        assert_eq!(
            canonical_default(
                Backend::Postgres,
                &ColumnType::Boolean,
                false,
                Some(&parse_default(&ColumnType::Boolean, "0"))
            ),
            Some(ColumnDefault::Bool(false))
        );
        assert_eq!(
            canonical_default(
                Backend::Postgres,
                &ColumnType::Decimal {
                    precision: 10,
                    scale: 2
                },
                false,
                Some(&ColumnDefault::Number("1.50".into()))
            ),
            Some(ColumnDefault::Number("1.5".into()))
        );
    }

    #[test]
    fn literal_defaults_compare_in_stored_form() {
        let stored = |ty: ColumnType, text: &str| {
            canonical_default(
                Backend::Postgres,
                &ty,
                true,
                Some(&ColumnDefault::Text(text.into())),
            )
        };
        assert_eq!(
            stored(ColumnType::Json, r#"{"b":1,"a":2}"#),
            stored(ColumnType::Json, r#"{"a": 2, "b": 1}"#)
        );
        assert_eq!(
            stored(ColumnType::Date, "2024-1-5"),
            Some(ColumnDefault::Text("2024-01-05".into()))
        );
        assert_eq!(
            stored(ColumnType::Time, "9:00"),
            Some(ColumnDefault::Text("09:00:00".into()))
        );
        assert_eq!(
            stored(ColumnType::Timestamp, "2024-01-01"),
            stored(ColumnType::Timestamp, "2024-01-01 00:00:00.000000")
        );
        assert_eq!(
            stored(ColumnType::Uuid, "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"),
            Some(ColumnDefault::Text(
                "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11".into()
            ))
        );
    }

    #[test]
    fn quoted_lists_split_with_escapes() {
        assert_eq!(parse_quoted_list("'a','b''c', 'd'"), vec!["a", "b'c", "d"]);
    }
}
