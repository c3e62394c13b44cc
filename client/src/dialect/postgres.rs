//! PostgreSQL: identity columns for serials, `CREATE TYPE` enums, in-place column changes.

use fox_crds::ColumnType;
use fox_crds::conventions::fit_identifier;

use super::{Dialect, create_table_statement};
use crate::Backend;
use crate::dialect::{ServerError, ServerErrorKind};
use crate::schema::{Column, Table};

/// The PostgreSQL dialect.
#[derive(Clone, Copy, Debug, Default)]
pub struct Postgres;

/// The name of the row-level security policy that keeps a tenant-scoped table's rows to the
/// session's tenant ([`Dialect::tenant_isolation`]).
pub const TENANT_POLICY: &str = "fox_tenant_isolation";

/// Name of the enum type backing `table.column`.
pub fn enum_type_name(table: &str, column: &str) -> String {
    fit_identifier(&format!("{table}_{column}_enum"))
}

impl Postgres {
    fn base_type(&self, table: &str, column: &Column) -> String {
        match &column.ty {
            ColumnType::SmallInt => "smallint".into(),
            ColumnType::Integer | ColumnType::Serial => "integer".into(),
            ColumnType::BigInt | ColumnType::BigSerial => "bigint".into(),
            ColumnType::Boolean => "boolean".into(),
            ColumnType::Real => "real".into(),
            ColumnType::Double => "double precision".into(),
            ColumnType::Decimal { precision, scale } => format!("numeric({precision},{scale})"),
            ColumnType::Char(n) => format!("character({n})"),
            ColumnType::Varchar(n) => format!("character varying({n})"),
            ColumnType::Text => "text".into(),
            ColumnType::Date => "date".into(),
            ColumnType::Time => "time without time zone".into(),
            ColumnType::Timestamp => "timestamp without time zone".into(),
            ColumnType::TimestampTz => "timestamp with time zone".into(),
            ColumnType::Uuid => "uuid".into(),
            ColumnType::Json => "jsonb".into(),
            ColumnType::Bytes => "bytea".into(),
            ColumnType::Enum(_) => self.quote(&enum_type_name(table, &column.name)),
        }
    }

    fn create_enum(&self, table: &str, column: &Column) -> Option<String> {
        let ColumnType::Enum(labels) = &column.ty else {
            return None;
        };
        let labels: Vec<String> = labels.iter().map(|l| self.string_literal(l)).collect();
        Some(format!(
            "CREATE TYPE {} AS ENUM ({})",
            self.quote(&enum_type_name(table, &column.name)),
            labels.join(", ")
        ))
    }

    fn rename_enum(
        &self,
        from_table: &str,
        from_column: &str,
        to_table: &str,
        to_column: &str,
    ) -> String {
        format!(
            "ALTER TYPE {} RENAME TO {}",
            self.quote(&enum_type_name(from_table, from_column)),
            self.quote(&enum_type_name(to_table, to_column))
        )
    }
}

impl Dialect for Postgres {
    fn two_phase(&self) -> crate::Result<&'static dyn crate::distributed::TwoPhase> {
        Ok(&crate::distributed::PostgresTwoPhase)
    }

    fn change_capture(&self) -> &'static dyn crate::realtime::ChangeCapture {
        &crate::realtime::PostgresCapture
    }

    fn audit_capture(&self) -> &'static dyn crate::audit::AuditCapture {
        &crate::audit::PostgresAudit
    }

    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    /// By SQLSTATE (class 23 integrity, 40 transaction rollback, 28 authorization).
    fn classify_server_error(&self, error: &ServerError<'_>) -> ServerErrorKind {
        match error.code.unwrap_or_default() {
            "23505" => ServerErrorKind::UniqueViolation,
            "23503" => ServerErrorKind::ForeignKeyViolation,
            "23502" => ServerErrorKind::NotNullViolation,
            "23514" => ServerErrorKind::CheckViolation,
            "40P01" => ServerErrorKind::Deadlock,
            "40001" => ServerErrorKind::SerializationFailure,
            "55P03" => ServerErrorKind::LockTimeout,
            "28P01" | "28000" => ServerErrorKind::AuthenticationFailed,
            "3D000" => ServerErrorKind::UnknownDatabase,
            _ => ServerErrorKind::Other,
        }
    }

    fn tenant_setting(&self) -> Option<&'static str> {
        Some("SELECT set_config('foxdb.tenant', $1, true)")
    }

    fn tenant_isolation(&self, table: &str, column: &str) -> Option<Vec<String>> {
        let table = self.quote(table);
        // A session naming no tenant (`foxdb.tenant` unset, or empty once a transaction that
        // set it ended) sees every row: the schema engine, `.all_tenants()` queries, admins.
        // `CASE` fixes the order, so the comparison runs only with a tenant named.
        let condition = format!(
            "CASE WHEN COALESCE(current_setting('foxdb.tenant', true), '') = '' THEN true ELSE {} = current_setting('foxdb.tenant', true) END",
            self.quote(column)
        );
        Some(vec![
            format!("ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"),
            // The table's owner too: applications often connect as the owner.
            format!("ALTER TABLE {table} FORCE ROW LEVEL SECURITY"),
            format!(
                "CREATE POLICY {} ON {table} USING ({condition}) WITH CHECK ({condition})",
                self.quote(TENANT_POLICY)
            ),
            // Introspection reads the column back from here.
            format!(
                "COMMENT ON POLICY {} ON {table} IS {}",
                self.quote(TENANT_POLICY),
                self.string_literal(column)
            ),
        ])
    }

    fn create_tenant_namespace(&self, name: &str) -> Option<String> {
        Some(format!("CREATE SCHEMA IF NOT EXISTS {}", self.quote(name)))
    }

    fn enter_tenant_namespace(&self, name: &str) -> Option<String> {
        Some(format!("SET search_path TO {}", self.quote(name)))
    }

    fn enter_tenant_namespace_locally(&self) -> Option<&'static str> {
        Some("SELECT set_config('search_path', $1, true)")
    }

    fn tenant_isolated_tables(&self) -> Option<&'static str> {
        Some(
            "SELECT c.relname, d.description FROM pg_policy p \
             JOIN pg_class c ON c.oid = p.polrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_description d ON d.objoid = p.oid AND d.classoid = 'pg_policy'::regclass \
             WHERE p.polname = 'fox_tenant_isolation' AND n.nspname = current_schema() \
             AND c.relrowsecurity AND c.relforcerowsecurity",
        )
    }

    fn drop_tenant_isolation(&self, table: &str) -> Option<Vec<String>> {
        let table = self.quote(table);
        Some(vec![
            format!(
                "DROP POLICY IF EXISTS {} ON {table}",
                self.quote(TENANT_POLICY)
            ),
            format!("ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"),
            format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"),
        ])
    }

    fn text_cast_type(&self) -> &'static str {
        "text"
    }

    fn enum_value_type(&self, table: &str, column: &str) -> Option<String> {
        Some(self.quote(&enum_type_name(table, column)))
    }

    fn enum_value_type_in(
        &self,
        schema: Option<&str>,
        table: &str,
        column: &str,
    ) -> Option<String> {
        let name = enum_type_name(table, column);
        Some(match schema {
            Some(schema) => format!("{}.{}", self.quote(schema), self.quote(&name)),
            None => self.quote(&name),
        })
    }

    fn text_parameter_for(&self, placeholder: String, native_type: &str) -> String {
        format!("CAST({placeholder} AS {native_type})")
    }

    fn reset_generated_key(&self, table: &str, key: &str) -> Option<String> {
        Some(format!(
            "SELECT setval(pg_get_serial_sequence({}, {}), GREATEST((SELECT MAX({}) FROM {}), 1))",
            self.string_literal(&self.quote(table)),
            self.string_literal(key),
            self.quote(key),
            self.quote(table)
        ))
    }

    /// A new enum label (`ALTER TYPE .. ADD VALUE`) cannot be used in the transaction that
    /// added it.
    fn commits_before_use(&self, sql: &str) -> bool {
        sql.starts_with("ALTER TYPE ") && sql.contains(" ADD VALUE IF NOT EXISTS ")
    }

    fn copy_from_stdin(&self, table: &str, columns: &[&str]) -> Option<String> {
        let mut statement = String::from("COPY ");
        self.write_quoted(&mut statement, table);
        statement.push_str(" (");
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                statement.push_str(", ");
            }
            self.write_quoted(&mut statement, column);
        }
        statement.push_str(") FROM STDIN");
        Some(statement)
    }

    fn write_placeholder(&self, out: &mut String, n: usize) {
        out.push('$');
        super::write_decimal(out, n as u64);
    }

    fn native_type(&self, table: &str, column: &Column) -> String {
        self.base_type(table, column)
    }

    fn now_expression(&self, ty: &ColumnType) -> String {
        // A timestamp without time zone takes the local time, as `now()` cast to it would.
        if *ty == ColumnType::Timestamp {
            "LOCALTIMESTAMP".into()
        } else {
            "CURRENT_TIMESTAMP".into()
        }
    }

    fn current_time_expression(&self) -> &'static str {
        // CURRENT_TIME is a time *with* time zone in PostgreSQL.
        "LOCALTIME"
    }

    fn after_type(&self, column: &Column) -> &'static str {
        if column.ty.is_auto_increment() {
            " GENERATED BY DEFAULT AS IDENTITY"
        } else {
            ""
        }
    }

    fn create_table(&self, table: &Table) -> Vec<String> {
        let mut statements: Vec<String> = table
            .columns
            .iter()
            .filter_map(|c| self.create_enum(&table.name, c))
            .collect();
        statements.push(create_table_statement(self, table));
        statements
    }

    fn drop_table(&self, table: &Table) -> Vec<String> {
        let mut statements = vec![format!("DROP TABLE {}", self.quote(&table.name))];
        for column in &table.columns {
            if matches!(column.ty, ColumnType::Enum(_)) {
                statements.push(format!(
                    "DROP TYPE {}",
                    self.quote(&enum_type_name(&table.name, &column.name))
                ));
            }
        }
        statements
    }

    fn rename_table(&self, from: &str, to: &Table) -> Vec<String> {
        let mut statements = vec![format!(
            "ALTER TABLE {} RENAME TO {}",
            self.quote(from),
            self.quote(&to.name)
        )];
        for column in &to.columns {
            if matches!(column.ty, ColumnType::Enum(_)) {
                statements.push(self.rename_enum(from, &column.name, &to.name, &column.name));
            }
        }
        statements
    }

    fn add_column(&self, table: &str, column: &Column) -> Vec<String> {
        let mut statements: Vec<String> = self.create_enum(table, column).into_iter().collect();
        statements.push(format!(
            "ALTER TABLE {} ADD COLUMN {}",
            self.quote(table),
            self.column_definition(table, column)
        ));
        statements
    }

    fn drop_column(&self, table: &str, column: &Column) -> Vec<String> {
        let mut statements = vec![format!(
            "ALTER TABLE {} DROP COLUMN {}",
            self.quote(table),
            self.quote(&column.name)
        )];
        if matches!(column.ty, ColumnType::Enum(_)) {
            statements.push(format!(
                "DROP TYPE {}",
                self.quote(&enum_type_name(table, &column.name))
            ));
        }
        statements
    }

    fn rename_column(&self, table: &str, from: &str, to: &Column) -> Vec<String> {
        let mut statements = vec![format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            self.quote(table),
            self.quote(from),
            self.quote(&to.name)
        )];
        if matches!(to.ty, ColumnType::Enum(_)) {
            statements.push(self.rename_enum(table, from, table, &to.name));
        }
        statements
    }

    fn alter_column(&self, table: &str, from: &Column, to: &Column) -> Option<Vec<String>> {
        let alter = |action: String| {
            format!(
                "ALTER TABLE {} ALTER COLUMN {} {action}",
                self.quote(table),
                self.quote(&to.name)
            )
        };
        let mut statements = Vec::new();
        let type_changes = from.ty.referenced_as() != to.ty.referenced_as();
        let default_changes = from.default != to.default;
        if (type_changes || default_changes) && from.default.is_some() {
            statements.push(alter("DROP DEFAULT".into()));
        }
        if from.ty.is_auto_increment() && !to.ty.is_auto_increment() {
            statements.push(alter("DROP IDENTITY IF EXISTS".into()));
        }
        if type_changes {
            let type_name = enum_type_name(table, &to.name);
            match (&from.ty, &to.ty) {
                (ColumnType::Enum(old), ColumnType::Enum(new))
                    if old.iter().all(|label| new.contains(label))
                        && new.iter().filter(|l| old.contains(l)).eq(old.iter()) =>
                {
                    // Only additions: ADD VALUE keeps existing rows and the type's identity.
                    for (position, label) in new.iter().enumerate() {
                        if old.contains(label) {
                            continue;
                        }
                        let placement = match position.checked_sub(1).map(|p| &new[p]) {
                            Some(previous) => format!(" AFTER {}", self.string_literal(previous)),
                            None => format!(" BEFORE {}", self.string_literal(&old[0])),
                        };
                        statements.push(format!(
                            "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{placement}",
                            self.quote(&type_name),
                            self.string_literal(label)
                        ));
                    }
                }
                (ColumnType::Enum(_), ColumnType::Enum(_)) => {
                    let old_name = fit_identifier(&format!("{type_name}_old"));
                    statements.push(format!(
                        "ALTER TYPE {} RENAME TO {}",
                        self.quote(&type_name),
                        self.quote(&old_name)
                    ));
                    statements.extend(self.create_enum(table, to));
                    statements.push(alter(format!(
                        "TYPE {} USING {}::text::{}",
                        self.quote(&type_name),
                        self.quote(&to.name),
                        self.quote(&type_name)
                    )));
                    statements.push(format!("DROP TYPE {}", self.quote(&old_name)));
                }
                (_, ColumnType::Enum(_)) => {
                    statements.extend(self.create_enum(table, to));
                    statements.push(alter(format!(
                        "TYPE {} USING {}::text::{}",
                        self.quote(&type_name),
                        self.quote(&to.name),
                        self.quote(&type_name)
                    )));
                }
                (ColumnType::Enum(_), _) => {
                    let target = self.base_type(table, to);
                    statements.push(alter(format!(
                        "TYPE {target} USING {}::text::{target}",
                        self.quote(&to.name)
                    )));
                    statements.push(format!("DROP TYPE {}", self.quote(&type_name)));
                }
                _ => {
                    let target = self.base_type(table, to);
                    statements.push(alter(format!(
                        "TYPE {target} USING {}::{target}",
                        self.quote(&to.name)
                    )));
                }
            }
        }
        if !from.ty.is_auto_increment() && to.ty.is_auto_increment() {
            statements.push(alter("ADD GENERATED BY DEFAULT AS IDENTITY".into()));
            // The new identity starts at 1; move it past the ids already stored.
            statements.push(format!(
                "SELECT setval(pg_get_serial_sequence({}, {}), COALESCE(MAX({}), 0) + 1, false) FROM {}",
                self.string_literal(&self.quote(table)),
                self.string_literal(&to.name),
                self.quote(&to.name),
                self.quote(table)
            ));
        }
        if from.nullable != to.nullable {
            statements.push(alter(
                if to.nullable {
                    "DROP NOT NULL"
                } else {
                    "SET NOT NULL"
                }
                .into(),
            ));
        }
        if (type_changes || default_changes)
            && let Some(default) = &to.default
        {
            statements.push(alter(format!(
                "SET DEFAULT {}",
                self.default_expression(&to.ty, default)
            )));
        }
        Some(statements)
    }
}
