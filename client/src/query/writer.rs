//! [`SqlWriter`]: statement text being written for one engine, with the values bound so far.

use crate::Backend;
use crate::connection::Value;
use crate::dialect::{Dialect, dialect_for};

/// The FoxSchema enum columns of one table (`#[foxdb(enum)]`), whose values the dialect may
/// cast to the engine's enum type ([`Dialect::enum_value_type`]), and its tenant column
/// (`#[foxdb(tenant)]`), which every statement on the table filters or fills.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EnumColumns {
    table: &'static str,
    columns: &'static [&'static str],
    tenant: Option<&'static str>,
}

impl EnumColumns {
    /// The enum columns (and tenant column) of `M`.
    pub(crate) fn of<M: crate::model::Model>() -> Self {
        Self {
            table: M::TABLE,
            columns: M::ENUM_COLUMNS,
            tenant: M::TENANT_COLUMN,
        }
    }

    /// Whether the model has neither enum columns nor a tenant column: its statements'
    /// texts then depend on nothing else.
    pub(crate) fn is_empty(&self) -> bool {
        self.columns.is_empty() && self.tenant.is_none()
    }
}

/// Bytes a statement's text starts with room for: most statements the builder writes fit.
const STATEMENT_CAPACITY: usize = 256;

/// SQL text being written, with the values bound so far. Opaque outside FoxDB: it appears in
/// the [`super::Selectable`] and [`super::Selection`] traits, which only FoxDB's types implement usefully.
#[derive(Debug)]
pub struct SqlWriter {
    dialect: &'static dyn Dialect,
    casts: EnumColumns,
    /// Set by a query's `.all_tenants()`: tenant-scoped tables are read without the tenant
    /// condition.
    all_tenants: bool,
    pub(crate) sql: String,
    pub(crate) values: Vec<Value>,
    /// The table that unqualified select expressions ([`SqlWriter::push_column_expression`])
    /// are named through: set where a selection is rendered in a statement that joins
    /// another table with columns of the same names.
    column_scope: Option<&'static str>,
    /// The schema every table the statement names is in (a query's `.in_schema(..)`); `None`:
    /// the connection's current one.
    schema: Option<String>,
}

impl SqlWriter {
    /// A writer for statements on the model whose enum columns `casts` names.
    pub(crate) fn for_model(backend: Backend, casts: EnumColumns) -> Self {
        Self {
            casts,
            all_tenants: false,
            dialect: dialect_for(backend),
            // Room for a usual statement at once, rather than growing it piece by piece.
            sql: String::with_capacity(STATEMENT_CAPACITY),
            values: Vec::new(),
            column_scope: None,
            schema: None,
        }
    }

    /// Names every table from now on in `schema` (`None`: unqualified, in the connection's
    /// current schema).
    pub(crate) fn set_schema(&mut self, schema: Option<&str>) {
        self.schema = schema.map(str::to_string);
    }

    /// Names tables in `schema` from now on; returns the schema in use before.
    pub(crate) fn swap_schema(&mut self, schema: Option<&str>) -> Option<String> {
        std::mem::replace(&mut self.schema, schema.map(str::to_string))
    }

    /// A table the statement reads or writes: `"table"`, or `"schema"."table"` in a statement
    /// on a schema ([`SqlWriter::set_schema`]). Aliases and column qualifiers stay unqualified
    /// ([`SqlWriter::push_identifier`]): every engine resolves `"table"."column"` against a
    /// `"schema"."table"` the statement names.
    pub(crate) fn push_table(&mut self, table: &str) {
        match &self.schema {
            Some(schema) => {
                let name = self.dialect.qualified_table(schema, table);
                self.sql.push_str(&name);
            }
            None => self.dialect.write_quoted(&mut self.sql, table),
        }
    }

    /// Names unqualified select expressions through `table` from now on (`None`: unqualified).
    pub(crate) fn scope_columns(&mut self, table: Option<&'static str>) {
        self.column_scope = table;
    }

    pub(crate) fn backend(&self) -> Backend {
        self.dialect.backend()
    }

    /// How the engine spells what it spells its own way.
    pub(crate) fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    pub(crate) fn push(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    pub(crate) fn push_identifier(&mut self, name: &str) {
        self.dialect.write_quoted(&mut self.sql, name);
    }

    pub(crate) fn push_value(&mut self, value: Value) {
        // NULL too is bound, never written into the text: the statement text (and so its query
        // shape, a metric label) stays the same whichever values are NULL. Each engine binds
        // NULL so that it fits any column (`DecimalBinding::bind_null`).
        self.values.push(value);
        self.dialect
            .write_placeholder(&mut self.sql, self.values.len());
    }

    /// Writes the statement for every tenant (`.all_tenants()`) when `all`: no tenant
    /// condition, and tenant columns written as given.
    pub(crate) fn set_all_tenants(&mut self, all: bool) {
        self.all_tenants |= all;
    }

    /// Whether the current table is tenant-scoped and this statement keeps to one tenant.
    fn scoped_tenant_column(&self, tenant: Option<&'static str>) -> Option<&'static str> {
        tenant.filter(|_| !self.all_tenants)
    }

    /// `source.tenant_column = <the executor's tenant>` for a tenant-scoped table of the
    /// statement (described by `table`; `source` the name the statement reads it by, its table
    /// name when `None`), preceded by `joiner`; nothing for other tables or under
    /// `.all_tenants()`. Every place a statement names a table calls this once: `WHERE`
    /// (`super::render::push_where`), a join's `ON`, a relation's `EXISTS` and eager loads.
    /// Returns whether it wrote the condition.
    pub(crate) fn push_tenant_condition_of(
        &mut self,
        table: EnumColumns,
        source: Option<&str>,
        joiner: &str,
    ) -> bool {
        let Some(column) = self.scoped_tenant_column(table.tenant) else {
            return false;
        };
        self.push(joiner);
        self.push_qualified(source.unwrap_or(table.table), column);
        self.push(" = ");
        self.push_value(Value::CurrentTenant);
        true
    }

    /// [`SqlWriter::push_tenant_condition_of`] for the table the writer is on now.
    pub(crate) fn push_tenant_condition(&mut self, source: Option<&str>, joiner: &str) -> bool {
        self.push_tenant_condition_of(self.casts, source, joiner)
    }

    /// A value written to `column` by an `INSERT` or an `UPDATE ... SET`: the executor's
    /// tenant in place of any value for the tenant column of a tenant-scoped table (a row is
    /// written for the tenant that writes it, and never moved to another).
    pub(crate) fn push_written_value(&mut self, column: &str, value: Value) {
        if self.scoped_tenant_column(self.casts.tenant) == Some(column) {
            self.push_value(Value::CurrentTenant);
        } else {
            self.push_column_value(column, value);
        }
    }

    /// Uses another model's enum columns (for a subquery on it); returns the ones in use before.
    pub(crate) fn swap_casts(&mut self, casts: EnumColumns) -> EnumColumns {
        std::mem::replace(&mut self.casts, casts)
    }

    /// The type values compared with or written to `column` are cast to, if any (an enum
    /// column on an engine with enum types of its own).
    fn cast_of(&self, column: &str) -> Option<String> {
        if !self.casts.columns.contains(&column) {
            return None;
        }
        self.dialect
            .enum_value_type_in(self.schema.as_deref(), self.casts.table, column)
    }

    /// Whether values compared with `column` are cast to its type (an enum on PostgreSQL).
    pub(crate) fn casts_column(&self, column: &str) -> bool {
        self.cast_of(column).is_some()
    }

    /// A value compared with or written to `column`, cast where the column needs it.
    pub(crate) fn push_column_value(&mut self, column: &str, value: Value) {
        match self.cast_of(column) {
            Some(ty) if value != Value::Null => {
                self.sql.push_str("CAST(");
                self.push_value(value);
                self.sql.push_str(" AS ");
                self.sql.push_str(&ty);
                self.sql.push(')');
            }
            _ => self.push_value(value),
        }
    }

    /// A select list: columns whose values are cast are read back as text (PostgreSQL enums
    /// decode into `String` only so).
    pub(crate) fn push_select_columns(&mut self, columns: &[&str]) {
        self.push_select_columns_of(None, columns);
    }

    /// One column as a select expression, without alias (the caller aliases it).
    pub(crate) fn push_column_expression(&mut self, column: &str) {
        self.push_column_expression_of(self.column_scope, column);
    }

    /// [`SqlWriter::push_column_expression`] qualified by `table`.
    pub(crate) fn push_column_expression_of(&mut self, table: Option<&str>, column: &str) {
        let cast = self.casts_column(column);
        if cast {
            self.push("CAST(");
        }
        if let Some(table) = table {
            self.push_identifier(table);
            self.push(".");
        }
        self.push_identifier(column);
        if cast {
            self.push(" AS ");
            self.push(self.dialect.text_cast_type());
            self.push(")");
        }
    }

    /// [`SqlWriter::push_select_columns`] with every column qualified by `table`.
    pub(crate) fn push_select_columns_of(&mut self, table: Option<&str>, columns: &[&str]) {
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            let cast = self.casts_column(column);
            if cast {
                self.push("CAST(");
            }
            if let Some(table) = table {
                self.push_identifier(table);
                self.push(".");
            }
            self.push_identifier(column);
            if cast {
                self.push(" AS ");
                self.push(self.dialect.text_cast_type());
                self.push(") AS ");
                self.push_identifier(column);
            }
        }
    }

    /// `table.column`, both quoted.
    pub(crate) fn push_qualified(&mut self, table: &str, column: &str) {
        self.push_identifier(table);
        self.push(".");
        self.push_identifier(column);
    }

    pub(crate) fn push_identifiers(&mut self, names: &[&str]) {
        for (i, name) in names.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.push_identifier(name);
        }
    }

    pub(crate) fn finish(self) -> (String, Vec<Value>) {
        (self.sql, self.values)
    }
}
