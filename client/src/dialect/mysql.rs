//! MySQL and MariaDB: backtick quoting, `AUTO_INCREMENT`, native `ENUM`, `MODIFY COLUMN`.

use fox_crds::ColumnType;

use super::Dialect;
use crate::Backend;
use crate::schema::{Column, ColumnDefault, Table};

/// The MySQL / MariaDB dialect.
#[derive(Clone, Copy, Debug, Default)]
pub struct MySql;

impl MySql {
    /// Types whose defaults must be written as parenthesised expressions.
    fn needs_expression_default(ty: &ColumnType) -> bool {
        matches!(ty, ColumnType::Text | ColumnType::Json | ColumnType::Bytes)
    }
}

impl Dialect for MySql {
    fn backend(&self) -> Backend {
        Backend::MySql
    }

    fn quote(&self, identifier: &str) -> String {
        format!("`{}`", identifier.replace('`', "``"))
    }

    fn string_literal(&self, value: &str) -> String {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    }

    fn native_type(&self, _table: &str, column: &Column) -> String {
        match &column.ty {
            ColumnType::SmallInt => "smallint".into(),
            ColumnType::Integer | ColumnType::Serial => "int".into(),
            ColumnType::BigInt | ColumnType::BigSerial => "bigint".into(),
            ColumnType::Boolean => "tinyint(1)".into(),
            ColumnType::Real => "float".into(),
            ColumnType::Double => "double".into(),
            ColumnType::Decimal { precision, scale } => format!("decimal({precision},{scale})"),
            ColumnType::Char(n) => format!("char({n})"),
            ColumnType::Varchar(n) => format!("varchar({n})"),
            ColumnType::Text => "longtext".into(),
            ColumnType::Date => "date".into(),
            ColumnType::Time => "time".into(),
            ColumnType::Timestamp => "datetime(6)".into(),
            ColumnType::TimestampTz => "timestamp(6)".into(),
            ColumnType::Uuid => "char(36)".into(),
            ColumnType::Json => "json".into(),
            ColumnType::Bytes => "longblob".into(),
            ColumnType::Enum(labels) => {
                let labels: Vec<String> = labels.iter().map(|l| self.string_literal(l)).collect();
                format!("enum({})", labels.join(","))
            }
        }
    }

    fn default_expression(&self, ty: &ColumnType, default: &ColumnDefault) -> String {
        let expression = match default {
            ColumnDefault::Null => "NULL".to_string(),
            ColumnDefault::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            ColumnDefault::Integer(i) => i.to_string(),
            ColumnDefault::Number(n) => n.clone(),
            ColumnDefault::Text(s) => self.string_literal(s),
            ColumnDefault::Now => match ty {
                ColumnType::Timestamp | ColumnType::TimestampTz => "CURRENT_TIMESTAMP(6)".into(),
                _ => "(CURRENT_TIMESTAMP)".into(),
            },
            ColumnDefault::CurrentDate => "(CURRENT_DATE)".into(),
            ColumnDefault::CurrentTime => "(CURRENT_TIME)".into(),
            ColumnDefault::Expression(e) => e.clone(),
        };
        if Self::needs_expression_default(ty) && matches!(default, ColumnDefault::Text(_)) {
            format!("({expression})")
        } else {
            expression
        }
    }

    fn column_definition(&self, table: &str, column: &Column) -> String {
        let mut sql = format!(
            "{} {}",
            self.quote(&column.name),
            self.native_type(table, column)
        );
        sql.push_str(if column.nullable {
            " NULL"
        } else {
            " NOT NULL"
        });
        if column.ty.is_auto_increment() {
            sql.push_str(" AUTO_INCREMENT");
        }
        if let Some(default) = &column.default {
            sql.push_str(" DEFAULT ");
            sql.push_str(&self.default_expression(&column.ty, default));
        }
        sql
    }

    fn create_table(&self, table: &Table) -> Vec<String> {
        let mut parts: Vec<String> = table
            .columns
            .iter()
            .map(|c| self.column_definition(&table.name, c))
            .collect();
        if !table.primary_key.is_empty() {
            parts.push(format!(
                "PRIMARY KEY ({})",
                self.quote_list(&table.primary_key)
            ));
        }
        vec![format!(
            "CREATE TABLE {} (\n  {}\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
            self.quote(&table.name),
            parts.join(",\n  ")
        )]
    }

    fn rename_table(&self, from: &str, to: &Table) -> Vec<String> {
        vec![format!(
            "RENAME TABLE {} TO {}",
            self.quote(from),
            self.quote(&to.name)
        )]
    }

    fn alter_column(&self, table: &str, _from: &Column, to: &Column) -> Option<Vec<String>> {
        Some(vec![format!(
            "ALTER TABLE {} MODIFY COLUMN {}",
            self.quote(table),
            self.column_definition(table, to)
        )])
    }

    fn drop_index(&self, table: &str, index: &str) -> String {
        format!("DROP INDEX {} ON {}", self.quote(index), self.quote(table))
    }

    fn drop_foreign_key(&self, table: &str, name: &str) -> Option<String> {
        Some(format!(
            "ALTER TABLE {} DROP FOREIGN KEY {}",
            self.quote(table),
            self.quote(name)
        ))
    }
}
