//! SQL dialects: identifier quoting, native types, literals and DDL, per engine.
//!
//! One [`Dialect`] trait holds the behaviour shared by every engine in default methods; each
//! backend module overrides only what its engine does differently (the `sea-query` shape).

pub(crate) mod copy_text;
mod mysql;
mod mysql_limits;
mod postgres;
mod server_error;
mod sqlite;

use fox_crds::ColumnType;
use fox_crds::schema::ReferentialAction;

pub use mysql::MySql;
pub use postgres::{Postgres, enum_type_name};
pub use server_error::{ServerError, ServerErrorKind, Violation};
pub use sqlite::Sqlite;

use crate::Backend;
use crate::schema::{Column, ColumnDefault, ForeignKey, Index, Table};

/// How an engine keeps a floating point value of a column, so declared values compare with
/// what the engine reports back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatStorage {
    /// IEEE single precision (PostgreSQL `real`).
    Single,
    /// IEEE double precision.
    Double,
    /// Single precision, with defaults reported rounded to this many significant digits
    /// (MariaDB shows a `FLOAT` default as `0.333333`).
    SingleShownWith(usize),
}

/// How one engine spells SQL.
pub trait Dialect: Send + Sync + std::fmt::Debug {
    /// The engine this dialect renders for.
    fn backend(&self) -> Backend;

    /// Quotes an identifier so any name, reserved words included, is taken literally.
    fn quote(&self, identifier: &str) -> String {
        let mut quoted = String::with_capacity(identifier.len() + 2);
        self.write_quoted(&mut quoted, identifier);
        quoted
    }

    /// [`Dialect::quote`] written onto the end of `out`, without a string of its own (the
    /// query builder writes every identifier so).
    fn write_quoted(&self, out: &mut String, identifier: &str) {
        write_quoted_with(out, '"', identifier);
    }

    /// `table` in `schema`, both quoted: the namespace that holds tables, a PostgreSQL schema,
    /// a MySQL database, an SQLite database (`main`, `temp` or an attached one's name).
    fn qualified_table(&self, schema: &str, table: &str) -> String {
        format!("{}.{}", self.quote(schema), self.quote(table))
    }

    /// A string literal.
    fn string_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// The statement that begins a transaction on a connection with none open (inside one,
    /// [`crate::Connection::begin`] sets a savepoint instead).
    fn begin_transaction(&self) -> &'static str {
        "BEGIN"
    }

    /// The statement that begins a transaction keeping every other connection out, readers
    /// included, until it ends; `None` where the engine has no such transaction (PostgreSQL and
    /// MySQL serialise schema changes with an advisory lock instead).
    fn begin_exclusive_transaction(&self) -> Option<&'static str> {
        None
    }

    /// The statement that names the tenant of the current transaction (its one parameter the
    /// tenant id) for the database's own row-level security, where the engine has it:
    /// PostgreSQL sets `foxdb.tenant` with `SET LOCAL` semantics, which the policies of
    /// [`Dialect::tenant_isolation`] read. `None`: the engine filters no row itself, and
    /// tenant isolation is the query builder's alone.
    fn tenant_setting(&self) -> Option<&'static str> {
        None
    }

    /// The statements that make the engine itself keep the rows of `table` to the tenant its
    /// transaction names ([`Dialect::tenant_setting`]), filtering by `column` (a text column);
    /// a session that names no tenant sees every row. `None` where the engine has no
    /// row-level security (MySQL, MariaDB, SQLite).
    fn tenant_isolation(&self, _table: &str, _column: &str) -> Option<Vec<String>> {
        None
    }

    /// The statement that creates the namespace of a tenant (schema per tenant), unless it
    /// exists: a schema on PostgreSQL, a database on MySQL and MariaDB; `None` on SQLite,
    /// whose databases are files.
    fn create_tenant_namespace(&self, _name: &str) -> Option<String> {
        None
    }

    /// The statement that moves an open session into the namespace of a tenant (what
    /// [`crate::DatabaseUrl::in_tenant_namespace`] does for new connections), where the engine
    /// can do that on a session: PostgreSQL sets `search_path`. `None`: connect anew.
    fn enter_tenant_namespace(&self, _name: &str) -> Option<String> {
        None
    }

    /// The statement that moves the current transaction (and only it) into the namespace of
    /// a tenant, its one parameter the namespace as a search path: PostgreSQL sets
    /// `search_path` with `SET LOCAL` semantics, so the pooled connection leaves the
    /// transaction in its own schema again. `None` where a namespace cannot be entered for a
    /// transaction alone (MySQL's `USE` outlives it): use a pool per tenant there.
    fn enter_tenant_namespace_locally(&self) -> Option<&'static str> {
        None
    }

    /// A query listing the tables [`Dialect::tenant_isolation`] isolates, one row each: the
    /// table name and the tenant column. `None` where the engine has no row-level security.
    fn tenant_isolated_tables(&self) -> Option<&'static str> {
        None
    }

    /// The statements that undo [`Dialect::tenant_isolation`] on `table`.
    fn drop_tenant_isolation(&self, _table: &str) -> Option<Vec<String>> {
        None
    }

    /// What follows `INSERT INTO t (...) VALUES (...)` to make it an upsert on `key` (the
    /// primary key): a row whose key is stored already has its `updated` columns set from the
    /// new values, in place, and keeps everything else; with nothing to update the stored row
    /// stays as it is. The row is never deleted and inserted again (as `REPLACE INTO` does), so
    /// no `ON DELETE CASCADE` fires and rows that reference it stay.
    ///
    /// PostgreSQL and SQLite: `ON CONFLICT (key) DO UPDATE SET c = excluded.c` (`DO NOTHING`
    /// with nothing to update).
    fn upsert_clause(&self, key: &[String], updated: &[String]) -> String {
        if updated.is_empty() {
            return format!(" ON CONFLICT ({}) DO NOTHING", self.quote_list(key));
        }
        let assignments: Vec<String> = updated
            .iter()
            .map(|c| format!("{0} = excluded.{0}", self.quote(c)))
            .collect();
        format!(
            " ON CONFLICT ({}) DO UPDATE SET {}",
            self.quote_list(key),
            assignments.join(", ")
        )
    }

    /// Whether the upsert clause conflicts only on the key it names (`ON CONFLICT (key)`). Where
    /// it does not (MySQL's `ON DUPLICATE KEY` takes a conflict on any unique key), an insert
    /// that keeps a stored row on a conflict of one unique key ([`crate::query::OnConflict::do_nothing`])
    /// reads that key locked and inserts only when it is free, so a conflict on another unique
    /// key is an error there as everywhere.
    fn upsert_names_its_key(&self) -> bool {
        true
    }

    /// [`Dialect::upsert_clause`] on the unique key `key` of a table whose generated key column
    /// is `generated`, written so the statement reports the row it wrote: engines with
    /// `RETURNING` read it from there and need nothing more; MySQL also sets
    /// `generated = LAST_INSERT_ID(generated)`, so the last insert id names the updated row as it
    /// names an inserted one.
    fn upsert_clause_reporting(
        &self,
        key: &[String],
        updated: &[String],
        generated: &str,
    ) -> String {
        let _ = generated;
        self.upsert_clause(key, updated)
    }

    /// What a server error means ([`ServerErrorKind`]), read from the engine's own codes:
    /// PostgreSQL's SQLSTATE, MySQL/MariaDB's error number, SQLite's extended result code.
    /// Every engine answers (no default), so a new engine cannot leave its errors unread.
    fn classify_server_error(&self, error: &ServerError<'_>) -> ServerErrorKind;

    /// The constraint, table and columns a constraint violation of `kind` names. By default
    /// the fields the engine reports on their own (PostgreSQL's); engines that only write
    /// them into the message read them from there.
    fn violation(&self, kind: ServerErrorKind, error: &ServerError<'_>) -> Violation {
        let mut columns: Vec<String> = error.column.map(str::to_string).into_iter().collect();
        if columns.is_empty() && kind == ServerErrorKind::UniqueViolation {
            columns = error
                .detail
                .map(server_error::postgres_key_columns)
                .unwrap_or_default();
        }
        Violation {
            constraint: error.constraint.map(str::to_string),
            table: error.table.map(str::to_string),
            columns,
        }
    }

    /// Whether an `INSERT`, `UPDATE` or `DELETE` can return the rows it wrote (`RETURNING`).
    /// Where it cannot (MySQL), FoxDB reads an inserted row back by its key and refuses
    /// `returning` on filtered writes with [`crate::Error::Unsupported`].
    fn supports_returning(&self) -> bool {
        true
    }

    /// The statement that loads rows of `columns` into `table` in bulk from data sent after it
    /// in the COPY text format ([`copy_text`]), where the engine has one (PostgreSQL's
    /// `COPY ... FROM STDIN`). `None`: `insert_many` writes multi-row `INSERT` statements.
    fn copy_from_stdin(&self, _table: &str, _columns: &[&str]) -> Option<String> {
        None
    }

    /// Whether schema changes (DDL) run inside a transaction that can roll them back. Where
    /// they do not (MySQL commits each DDL statement implicitly), the schema engine records
    /// progress per statement so an interrupted apply resumes instead of repeating.
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// What follows `INSERT INTO t` to insert a row of defaults only.
    fn default_values_insert(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    /// What follows a `SELECT` to lock the rows it reads until the transaction ends. Empty on
    /// SQLite, where a write transaction (`BEGIN IMMEDIATE`) already holds the database's only
    /// write lock, so a row read in it cannot change before it ends: the guarantee holds
    /// without a clause.
    fn lock_rows_clause(&self) -> &'static str {
        " FOR UPDATE"
    }

    /// The text at `path` (object keys, outermost first) inside the JSON column `column`
    /// (written as SQL): a string without its quotes, a number as written, `true`/`false`, and
    /// NULL where the path is missing or holds JSON `null`, the same on every engine.
    /// PostgreSQL: `(column -> 'a' ->> 'b')`.
    fn json_text_at(&self, column: &str, path: &[&str]) -> String {
        let mut sql = format!("({column}");
        for (i, key) in path.iter().enumerate() {
            let arrow = if i + 1 == path.len() { "->>" } else { "->" };
            sql.push_str(&format!(" {arrow} {}", self.string_literal(key)));
        }
        if path.is_empty() {
            // The whole document as text.
            sql.push_str(" #>> '{}'");
        }
        sql.push(')');
        sql
    }

    /// The type to `CAST` a value to for reading it as text.
    fn text_cast_type(&self) -> &'static str {
        "TEXT"
    }

    /// The type to `CAST` an integer expression (a `COUNT(*)`, say) to for reading it as a
    /// 64-bit integer.
    fn integer_cast_type(&self) -> &'static str {
        "BIGINT"
    }

    /// The type a bound value compared with or written to `table.column`, a FoxSchema enum
    /// column, is cast to (already quoted), or `None` where the engine takes the text label as
    /// it is. PostgreSQL names the enum type it created for the column ([`enum_type_name`]).
    fn enum_value_type(&self, _table: &str, _column: &str) -> Option<String> {
        None
    }

    /// [`Dialect::enum_value_type`] for `table` in `schema` (a query's `.in_schema(..)`): an
    /// engine whose enum types are schema objects names the one in that schema.
    fn enum_value_type_in(
        &self,
        schema: Option<&str>,
        table: &str,
        column: &str,
    ) -> Option<String> {
        let _ = schema;
        self.enum_value_type(table, column)
    }

    /// A parameter placeholder bound as text for a column of `native_type` (seed values): where
    /// the engine does not convert text to the column's type by itself, a cast.
    fn text_parameter_for(&self, placeholder: String, _native_type: &str) -> String {
        placeholder
    }

    /// After explicit values were written into the auto-increment key column `key` of
    /// `table`, the statement that moves its generator past them so later inserts do not
    /// collide; `None` where the engine moves it by itself.
    fn reset_generated_key(&self, _table: &str, _key: &str) -> Option<String> {
        None
    }

    /// How the engine reports a declared referential action back when introspected (InnoDB
    /// reports `NO ACTION` as `RESTRICT`, which it treats alike).
    fn reported_action(&self, action: ReferentialAction) -> ReferentialAction {
        action
    }

    /// Statements that open and close a schema-change session in which tables can be rebuilt
    /// (SQLite: foreign keys off while a referenced table is replaced, then on again; the
    /// schema engine checks the keys before it commits); `None` where no table is rebuilt.
    fn rebuild_session_statements(&self) -> Option<(&'static str, &'static str)> {
        None
    }

    /// Whether changes `ALTER TABLE` cannot make (column type changes, added foreign keys,
    /// ...) are made by rebuilding the table (SQLite) rather than altered in place.
    fn rebuilds_altered_tables(&self) -> bool {
        false
    }

    /// Whether foreign keys of a new table are declared inside its `CREATE TABLE` rather than
    /// added after it (SQLite, which cannot add them later).
    fn foreign_keys_inline(&self) -> bool {
        false
    }

    /// Whether the schema statement `sql` must be committed before a later statement of the
    /// same plan can use what it made (PostgreSQL: a new enum label), so it runs before the
    /// plan's transaction.
    fn commits_before_use(&self, _sql: &str) -> bool {
        false
    }

    /// How many schema statements the engine runs as one batch (one round trip).
    fn schema_statement_batch(&self) -> usize {
        1
    }

    /// The statement that shows the engine's plan for `sql`.
    fn explain(&self, sql: &str) -> String {
        format!("EXPLAIN {sql}")
    }

    /// Placeholder of the `n`-th (1-based) bound parameter.
    fn placeholder(&self, n: usize) -> String {
        let mut placeholder = String::new();
        self.write_placeholder(&mut placeholder, n);
        placeholder
    }

    /// [`Dialect::placeholder`] written onto the end of `out`.
    fn write_placeholder(&self, out: &mut String, _n: usize) {
        out.push('?');
    }

    /// Most parameters one statement may bind.
    fn parameter_limit(&self) -> usize {
        65_535
    }

    /// ` LIMIT n OFFSET m` after a `SELECT`, either part optional; empty without both.
    fn limit_offset(&self, limit: Option<u64>, offset: Option<u64>) -> String {
        let mut clause = String::new();
        self.write_limit_offset(&mut clause, limit, offset);
        clause
    }

    /// [`Dialect::limit_offset`] written onto the end of `out` (the query builder writes it
    /// so, without a string of its own).
    fn write_limit_offset(&self, out: &mut String, limit: Option<u64>, offset: Option<u64>) {
        if let Some(limit) = limit {
            out.push_str(" LIMIT ");
            write_decimal(out, limit);
        }
        if let Some(offset) = offset {
            out.push_str(" OFFSET ");
            write_decimal(out, offset);
        }
    }

    /// The native type of a column, without nullability or default.
    fn native_type(&self, table: &str, column: &Column) -> String;

    /// How this engine captures row changes for real-time subscriptions.
    fn change_capture(&self) -> &'static dyn crate::realtime::ChangeCapture;

    /// How this engine takes part in distributed transactions ([`crate::distributed`]).
    ///
    /// # Errors
    /// [`crate::Error::Unsupported`] on an engine that cannot prepare a transaction (SQLite).
    fn two_phase(&self) -> crate::Result<&'static dyn crate::distributed::TwoPhase>;
    /// How this engine records row changes in the audit log.
    fn audit_capture(&self) -> &'static dyn crate::audit::AuditCapture;

    /// `TRUE` / `FALSE` as a default value.
    fn boolean_literal(&self, value: bool) -> &'static str {
        if value { "TRUE" } else { "FALSE" }
    }

    /// How a `real` or `double` column of this engine keeps its values.
    fn float_storage(&self, ty: &ColumnType) -> FloatStorage {
        match ty {
            ColumnType::Real => FloatStorage::Single,
            _ => FloatStorage::Double,
        }
    }

    /// An instant as a `timestamptz` literal this engine reads back as the same instant (in
    /// UTC), and reports back in a form [`fox_crds::value_validation::parse_instant`] reads.
    fn instant_literal(&self, instant: chrono::DateTime<chrono::Utc>) -> String {
        // The form a bound `DateTime<Utc>` takes on SQLite, so defaults and rows sort alike.
        instant.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
    }

    /// The current date and time as a default of a column of type `ty`.
    fn now_expression(&self, _ty: &ColumnType) -> String {
        "CURRENT_TIMESTAMP".into()
    }

    /// The current date as a default.
    fn current_date_expression(&self) -> &'static str {
        "CURRENT_DATE"
    }

    /// The current time of day as a default.
    fn current_time_expression(&self) -> &'static str {
        "CURRENT_TIME"
    }

    /// A literal default as the engine accepts it in a column definition (some need
    /// parentheses around some literals).
    fn wrap_default_literal(&self, _ty: &ColumnType, literal: String) -> String {
        literal
    }

    /// A default value as a SQL expression for a column of type `ty`.
    fn default_expression(&self, ty: &ColumnType, default: &ColumnDefault) -> String {
        match default {
            ColumnDefault::Null => "NULL".into(),
            ColumnDefault::Bool(b) => self.boolean_literal(*b).into(),
            ColumnDefault::Integer(i) => self.wrap_default_literal(ty, i.to_string()),
            ColumnDefault::Number(n) => self.wrap_default_literal(ty, n.clone()),
            ColumnDefault::Text(s) => self.wrap_default_literal(ty, self.string_literal(s)),
            ColumnDefault::Now => self.now_expression(ty),
            ColumnDefault::CurrentDate => self.current_date_expression().into(),
            ColumnDefault::CurrentTime => self.current_time_expression().into(),
            ColumnDefault::Expression(e) => e.clone(),
        }
    }

    /// What follows the type in a column definition (PostgreSQL identity).
    fn after_type(&self, _column: &Column) -> &'static str {
        ""
    }

    /// The nullability clause (MySQL spells out `NULL`).
    fn nullability(&self, nullable: bool) -> &'static str {
        if nullable { "" } else { " NOT NULL" }
    }

    /// What follows the nullability (MySQL `AUTO_INCREMENT`).
    fn after_nullability(&self, _column: &Column) -> &'static str {
        ""
    }

    /// A column-level constraint after the default (SQLite enum `CHECK`).
    fn column_check(&self, _column: &Column) -> Option<String> {
        None
    }

    /// `name TYPE [NOT NULL] [DEFAULT x]` as used in CREATE TABLE and ADD COLUMN.
    fn column_definition(&self, table: &str, column: &Column) -> String {
        let mut sql = format!(
            "{} {}{}{}{}",
            self.quote(&column.name),
            self.native_type(table, column),
            self.after_type(column),
            self.nullability(column.nullable),
            self.after_nullability(column)
        );
        if let Some(default) = &column.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(&self.default_expression(&column.ty, default));
        }
        if let Some(check) = self.column_check(column) {
            sql.push(' ');
            sql.push_str(&check);
        }
        sql
    }

    /// Options after a CREATE TABLE's column list (MySQL storage engine and charset).
    fn table_options(&self) -> &'static str {
        ""
    }

    /// `REFERENCES t (c) ON DELETE .. ON UPDATE ..`.
    fn references_clause(&self, foreign_key: &ForeignKey) -> String {
        let mut sql = format!(
            "REFERENCES {} ({})",
            self.quote(&foreign_key.referenced_table),
            self.quote_list(&foreign_key.referenced_columns)
        );
        if foreign_key.on_delete != ReferentialAction::NoAction {
            sql.push_str(" ON DELETE ");
            sql.push_str(self.referential_action(foreign_key.on_delete));
        }
        if foreign_key.on_update != ReferentialAction::NoAction {
            sql.push_str(" ON UPDATE ");
            sql.push_str(self.referential_action(foreign_key.on_update));
        }
        sql
    }

    /// The SQL spelling of a referential action after `ON DELETE` / `ON UPDATE`; the same on
    /// every SQL engine (introspection reads it back with `introspect::parse_action`).
    fn referential_action(&self, action: ReferentialAction) -> &'static str {
        match action {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
        }
    }

    /// Comma-separated quoted identifiers.
    fn quote_list(&self, names: &[String]) -> String {
        names
            .iter()
            .map(|n| self.quote(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Statements that create a table with its primary key (indexes and foreign keys are
    /// separate changes, except where the engine needs them inline).
    fn create_table(&self, table: &Table) -> Vec<String> {
        vec![create_table_statement(self, table)]
    }

    /// Whether a table a plan creates declares its new indexes and foreign keys inside its
    /// `CREATE TABLE` ([`Dialect::create_table_with_keys`]) instead of separate statements
    /// (MySQL: each separate `CREATE INDEX` or `ADD FOREIGN KEY` is an `ALTER TABLE` of its
    /// own, several times the cost of the `CREATE TABLE`).
    fn keys_in_create_table(&self) -> bool {
        false
    }

    /// `CREATE TABLE` with its primary key, `indexes` and `foreign_keys` declared inline (the
    /// referenced tables must exist); see [`Dialect::keys_in_create_table`].
    fn create_table_with_keys(
        &self,
        table: &Table,
        indexes: &[&Index],
        foreign_keys: &[&ForeignKey],
    ) -> Vec<String> {
        let mut parts = table_parts(self, table);
        for index in indexes {
            parts.push(format!(
                "{}INDEX {} ({})",
                if index.unique { "UNIQUE " } else { "" },
                self.quote(&index.name),
                self.quote_list(&index.columns)
            ));
        }
        for foreign_key in foreign_keys {
            parts.push(format!(
                "CONSTRAINT {} FOREIGN KEY ({}) {}",
                self.quote(&foreign_key.name),
                self.quote_list(&foreign_key.columns),
                self.references_clause(foreign_key)
            ));
        }
        vec![table_statement(self, table, &parts)]
    }

    /// Statements that drop a table.
    fn drop_table(&self, table: &Table) -> Vec<String> {
        vec![format!("DROP TABLE {}", self.quote(&table.name))]
    }

    /// Statements that rename a table.
    fn rename_table(&self, from: &str, to: &Table) -> Vec<String> {
        vec![format!(
            "ALTER TABLE {} RENAME TO {}",
            self.quote(from),
            self.quote(&to.name)
        )]
    }

    /// Statements that add a column.
    fn add_column(&self, table: &str, column: &Column) -> Vec<String> {
        vec![format!(
            "ALTER TABLE {} ADD COLUMN {}",
            self.quote(table),
            self.column_definition(table, column)
        )]
    }

    /// Statements that drop a column.
    fn drop_column(&self, table: &str, column: &Column) -> Vec<String> {
        vec![format!(
            "ALTER TABLE {} DROP COLUMN {}",
            self.quote(table),
            self.quote(&column.name)
        )]
    }

    /// Statements that rename a column.
    fn rename_column(&self, table: &str, from: &str, to: &Column) -> Vec<String> {
        vec![format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            self.quote(table),
            self.quote(from),
            self.quote(&to.name)
        )]
    }

    /// Statements that change a column's type, nullability or default in place, or `None`
    /// when the engine cannot and the table must be rebuilt.
    fn alter_column(&self, table: &str, from: &Column, to: &Column) -> Option<Vec<String>>;

    /// Statement that creates an index.
    fn create_index(&self, table: &str, index: &Index) -> String {
        format!(
            "CREATE {}INDEX {} ON {} ({})",
            if index.unique { "UNIQUE " } else { "" },
            self.quote(&index.name),
            self.quote(table),
            self.quote_list(&index.columns)
        )
    }

    /// What this engine cannot store of a declared table (a key too long, labels it cannot
    /// tell apart, ...), one line each naming the table and column; checked before any DDL.
    fn storage_problems(&self, _table: &Table) -> Vec<String> {
        Vec::new()
    }

    /// Whether every foreign key needs an index starting with its columns, so such an index
    /// cannot be dropped while the key exists (InnoDB).
    fn foreign_keys_need_index(&self) -> bool {
        false
    }

    /// Statement that drops an index.
    fn drop_index(&self, _table: &str, index: &str) -> String {
        format!("DROP INDEX {}", self.quote(index))
    }

    /// Statement that drops a UNIQUE constraint (and the index it owns), or `None` when the
    /// table must be rebuilt.
    fn drop_unique_constraint(&self, table: &str, name: &str) -> Option<String> {
        Some(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            self.quote(table),
            self.quote(name)
        ))
    }

    /// Statement that adds a foreign key to an existing table, or `None` when the engine
    /// cannot and the table must be rebuilt.
    fn add_foreign_key(&self, table: &str, foreign_key: &ForeignKey) -> Option<String> {
        Some(format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) {}",
            self.quote(table),
            self.quote(&foreign_key.name),
            self.quote_list(&foreign_key.columns),
            self.references_clause(foreign_key)
        ))
    }

    /// Statement that drops a foreign key, or `None` when the table must be rebuilt.
    fn drop_foreign_key(&self, table: &str, name: &str) -> Option<String> {
        Some(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}",
            self.quote(table),
            self.quote(name)
        ))
    }
}

/// `CREATE TABLE` with columns and primary key, as most engines write it.
pub fn create_table_statement<D: Dialect + ?Sized>(dialect: &D, table: &Table) -> String {
    table_statement(dialect, table, &table_parts(dialect, table))
}

/// The column definitions and primary key of a `CREATE TABLE`.
fn table_parts<D: Dialect + ?Sized>(dialect: &D, table: &Table) -> Vec<String> {
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .map(|c| dialect.column_definition(&table.name, c))
        .collect();
    if !table.primary_key.is_empty() {
        parts.push(format!(
            "PRIMARY KEY ({})",
            dialect.quote_list(&table.primary_key)
        ));
    }
    parts
}

/// `CREATE TABLE` of `parts` with the engine's table options.
fn table_statement<D: Dialect + ?Sized>(dialect: &D, table: &Table, parts: &[String]) -> String {
    format!(
        "CREATE TABLE {} (\n  {}\n){}",
        dialect.quote(&table.name),
        parts.join(",\n  "),
        dialect.table_options()
    )
}

/// A JSON path of object keys as MySQL and SQLite write it: `$."a"."b"`.
pub(crate) fn json_key_path(path: &[&str]) -> String {
    let mut text = String::from("$");
    for key in path {
        text.push_str(&format!(
            ".\"{}\"",
            key.replace('\\', "\\\\").replace('"', "\\\"")
        ));
    }
    text
}

/// The dialect of a backend.
pub fn dialect_for(backend: Backend) -> &'static dyn Dialect {
    match backend {
        Backend::Postgres => &Postgres,
        Backend::MySql => &MySql,
        Backend::Sqlite => &Sqlite,
    }
}

/// `identifier` between two `quote` characters, each `quote` inside it doubled.
pub(crate) fn write_quoted_with(out: &mut String, quote: char, identifier: &str) {
    out.push(quote);
    if identifier.contains(quote) {
        for c in identifier.chars() {
            out.push(c);
            if c == quote {
                out.push(quote);
            }
        }
    } else {
        out.push_str(identifier);
    }
    out.push(quote);
}

/// `n` in decimal onto the end of `out`, without the formatting machinery (placeholders are
/// written once per bound value).
pub(crate) fn write_decimal(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n;
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn upserts_update_the_stored_row_in_place_on_every_engine() {
        let (key, updated) = (names(&["id"]), names(&["name", "n"]));
        assert_eq!(
            Postgres.upsert_clause(&key, &updated),
            r#" ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name", "n" = excluded."n""#
        );
        assert_eq!(
            Sqlite.upsert_clause(&key, &updated),
            Postgres.upsert_clause(&key, &updated)
        );
        assert_eq!(
            MySql.upsert_clause(&key, &updated),
            " ON DUPLICATE KEY UPDATE `name` = VALUES(`name`), `n` = VALUES(`n`)"
        );
        for backend in [Backend::Postgres, Backend::MySql, Backend::Sqlite] {
            let clause = dialect_for(backend).upsert_clause(&key, &updated);
            assert!(!clause.contains("REPLACE"), "{backend}: {clause}");
        }
    }

    #[test]
    fn an_upsert_with_nothing_to_update_keeps_the_stored_row() {
        let key = names(&["a", "b"]);
        assert_eq!(
            Postgres.upsert_clause(&key, &[]),
            r#" ON CONFLICT ("a", "b") DO NOTHING"#
        );
        assert_eq!(
            MySql.upsert_clause(&key, &[]),
            " ON DUPLICATE KEY UPDATE `a` = `a`"
        );
    }

    #[test]
    fn transactions_begin_in_the_engine_form() {
        assert_eq!(Postgres.begin_transaction(), "BEGIN");
        assert_eq!(MySql.begin_transaction(), "BEGIN");
        assert_eq!(Sqlite.begin_transaction(), "BEGIN IMMEDIATE");
        assert_eq!(
            Sqlite.begin_exclusive_transaction(),
            Some("BEGIN EXCLUSIVE")
        );
        assert_eq!(Postgres.begin_exclusive_transaction(), None);
        assert_eq!(MySql.begin_exclusive_transaction(), None);
    }
}
