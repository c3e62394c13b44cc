//! Plain data types describing tables; no database access here.

use fox_crds::ColumnType;
use fox_crds::schema::ReferentialAction;

/// A set of tables, ordered by name.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schema {
    /// Tables, sorted by name.
    pub tables: Vec<Table>,
    /// Live tables the model cannot describe (a column of a type outside the portable
    /// vocabulary), sorted by name; only introspection finds them. The schema engine leaves
    /// them alone.
    pub unmanaged: Vec<UnmanagedTable>,
}

/// A live table the portable vocabulary cannot describe, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmanagedTable {
    /// Table name.
    pub name: String,
    /// What makes it unportable, e.g. `column "ip" has type inet`.
    pub reason: String,
}

impl Schema {
    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// The unmanaged live table called `name`.
    pub fn unmanaged_table(&self, name: &str) -> Option<&UnmanagedTable> {
        self.unmanaged.iter().find(|t| t.name == name)
    }

    /// Sorts tables, indexes and foreign keys so that two equal schemas compare equal.
    pub fn normalize_order(&mut self) {
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
        self.unmanaged.sort_by(|a, b| a.name.cmp(&b.name));
        for table in &mut self.tables {
            table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }
}

/// One table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Columns in declaration order.
    pub columns: Vec<Column>,
    /// Primary key columns in key order.
    pub primary_key: Vec<String>,
    /// Secondary indexes, unique constraints included (as unique indexes).
    pub indexes: Vec<Index>,
    /// Foreign keys held by this table.
    pub foreign_keys: Vec<ForeignKey>,
    /// Row changes are captured into the change log for real-time subscriptions
    /// ([`crate::realtime`]); introspection reports installed capture.
    pub realtime: bool,
    /// The tenant column the engine itself keeps rows to (the FoxSchema `tenantColumn`),
    /// where it has row-level security ([`crate::dialect::Dialect::tenant_isolation`]; `None`
    /// on other engines); introspection reports an installed policy.
    pub tenant_isolation: Option<String>,
    /// Row changes are recorded in the audit log ([`crate::audit`]); introspection reports
    /// installed audit capture and its settings.
    pub audit: Option<TableAudit>,
}

/// How a table's row changes are audited (`audit` in its FoxSchema).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableAudit {
    /// Columns never recorded, sorted.
    pub exclude_fields: Vec<String>,
    /// Days records are kept.
    pub retention_days: u32,
    /// Changes stored compressed.
    pub compression: bool,
    /// Records chained by SHA-256 hashes.
    pub hash_chain: bool,
}

impl Table {
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The index called `name`.
    pub fn index(&self, name: &str) -> Option<&Index> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// Whether some key or index starts with exactly these columns (so lookups on them are
    /// indexed).
    pub fn has_index_prefix(&self, columns: &[String]) -> bool {
        let starts =
            |key: &[String]| key.len() >= columns.len() && key[..columns.len()] == *columns;
        starts(&self.primary_key) || self.indexes.iter().any(|i| starts(&i.columns))
    }
}

/// One column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Portable type.
    pub ty: ColumnType,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default value, if any.
    pub default: Option<ColumnDefault>,
}

/// A column default.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnDefault {
    /// SQL NULL.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A whole number.
    Integer(i64),
    /// A decimal or floating point number, kept as written (`1.50`).
    Number(String),
    /// A string (also dates, times, enum labels, JSON text).
    Text(String),
    /// The current date and time.
    Now,
    /// The current date.
    CurrentDate,
    /// The current time of day.
    CurrentTime,
    /// Another SQL expression found in a live database, kept as the engine reports it.
    Expression(String),
}

impl std::fmt::Display for ColumnDefault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Number(n) => f.write_str(n),
            // Control characters are shown escaped, so a plan never prints a raw newline or
            // terminal escape from a default.
            Self::Text(s) => {
                f.write_str("'")?;
                for c in s.chars() {
                    if c.is_control() {
                        write!(f, "{}", c.escape_default())?;
                    } else {
                        write!(f, "{c}")?;
                    }
                }
                f.write_str("'")
            }
            Self::Now => f.write_str("now()"),
            Self::CurrentDate => f.write_str("current_date"),
            Self::CurrentTime => f.write_str("current_time"),
            Self::Expression(e) => f.write_str(e),
        }
    }
}

/// A secondary index or unique constraint.
///
/// Two indexes are equal when their name, columns and uniqueness are: whether a live one is
/// backed by a constraint ([`Index::constraint`]) only decides how it is dropped, so a declared
/// unique index matches an existing UNIQUE constraint of the same name and columns.
#[derive(Clone, Debug)]
pub struct Index {
    /// Index name, unique per database.
    pub name: String,
    /// Indexed columns in order.
    pub columns: Vec<String>,
    /// Whether values must be unique.
    pub unique: bool,
    /// The index belongs to a UNIQUE constraint (PostgreSQL `CONSTRAINT … UNIQUE`, SQLite
    /// `UNIQUE` in `CREATE TABLE`) and is dropped as one. FoxDB itself creates unique indexes.
    pub constraint: bool,
}

impl PartialEq for Index {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.columns == other.columns && self.unique == other.unique
    }
}

impl Eq for Index {}

/// A foreign key constraint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ForeignKey {
    /// Constraint name.
    pub name: String,
    /// Referencing columns of this table.
    pub columns: Vec<String>,
    /// Referenced table.
    pub referenced_table: String,
    /// Referenced columns, in the order of `columns`.
    pub referenced_columns: Vec<String>,
    /// Action when the referenced row is deleted.
    pub on_delete: ReferentialAction,
    /// Action when the referenced key changes.
    pub on_update: ReferentialAction,
}

#[cfg(test)]
mod tests {
    use super::ColumnDefault;

    #[test]
    fn text_defaults_show_control_characters_escaped() {
        let shown = ColumnDefault::Text("line\nnext\r\u{1b}[31m it's".into()).to_string();
        assert_eq!(shown, r"'line\nnext\r\u{1b}[31m it's'");
    }
}
