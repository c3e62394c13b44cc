//! Typed schema changes, what each means in words, and whether it can lose data.

use std::fmt;

use foxdb::schema::{Column, ForeignKey, Index, Table};
use serde::Serialize;

/// One change of a plan.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// Create a table with its columns and primary key.
    CreateTable {
        /// The new table.
        table: Table,
    },
    /// Drop a table and its rows.
    DropTable {
        /// The table as it is now.
        table: Table,
    },
    /// Rename a table (declared through `previousNames`).
    RenameTable {
        /// Current name.
        from: String,
        /// The table under its new name.
        table: Table,
    },
    /// Add a column.
    AddColumn {
        /// Table name.
        table: String,
        /// The new column.
        column: Column,
    },
    /// Drop a column and its values.
    DropColumn {
        /// Table name.
        table: String,
        /// The column as it is now.
        column: Column,
    },
    /// Rename a column (declared through `previousNames`).
    RenameColumn {
        /// Table name.
        table: String,
        /// Current name.
        from: String,
        /// The column under its new name.
        column: Column,
    },
    /// Change a column's type, nullability or default.
    AlterColumn {
        /// Table name.
        table: String,
        /// The column as it is now.
        from: Column,
        /// The column as declared.
        to: Column,
    },
    /// Create an index or unique constraint.
    CreateIndex {
        /// Table name.
        table: String,
        /// The index.
        index: Index,
    },
    /// Drop an index or unique constraint.
    DropIndex {
        /// Table name.
        table: String,
        /// The index.
        index: Index,
    },
    /// Add a foreign key constraint.
    AddForeignKey {
        /// Table name.
        table: String,
        /// The constraint.
        foreign_key: ForeignKey,
    },
    /// Drop a foreign key constraint.
    DropForeignKey {
        /// Table name.
        table: String,
        /// The constraint.
        foreign_key: ForeignKey,
    },
    /// Capture the table's row changes into the change log (`realtime: true`), or install
    /// capture again after the table's columns or name changed.
    EnableCapture {
        /// The table as declared.
        table: Table,
        /// Capture is installed already and is refreshed (the row image changed).
        refresh: bool,
        /// The table's former name, when it is renamed in the same plan (capture objects
        /// named after it go).
        renamed_from: Option<String>,
    },
    /// Stop capturing the table's row changes (`realtime` turned off); logged changes stay.
    DisableCapture {
        /// Table name.
        table: String,
        /// The table's former name, when it is renamed in the same plan.
        renamed_from: Option<String>,
    },
    /// Record the table's row changes in the audit log (`audit.enabled`), or install audit
    /// capture again after its settings, columns or name changed.
    EnableAudit {
        /// The table as declared (its `audit` set).
        table: Table,
        /// Audit is installed already and is refreshed.
        refresh: bool,
        /// The table's former name, when it is renamed in the same plan.
        renamed_from: Option<String>,
    },
    /// Stop recording the table's row changes (`audit.enabled` turned off or `audit` removed).
    DisableAudit {
        /// Table name.
        table: String,
        /// The table's former name, when it is renamed in the same plan.
        renamed_from: Option<String>,
        /// Also delete its audit records (`allowDestructive`); otherwise they stay.
        delete_records: bool,
    },
    /// Keep the table's rows to the session's tenant in the database itself (`tenantColumn`
    /// on an engine with row-level security): a policy on `column` keyed on `foxdb.tenant`.
    EnableTenantIsolation {
        /// Table name.
        table: String,
        /// The tenant column.
        column: String,
        /// A policy on another column is installed and is replaced.
        replaces: Option<String>,
    },
    /// Remove the table's tenant policy (`tenantColumn` removed); rows stay.
    DisableTenantIsolation {
        /// Table name.
        table: String,
    },
}

impl Change {
    /// The table the change belongs to (its new name for renames).
    pub fn table(&self) -> &str {
        match self {
            Self::CreateTable { table }
            | Self::DropTable { table }
            | Self::RenameTable { table, .. }
            | Self::EnableCapture { table, .. }
            | Self::EnableAudit { table, .. } => &table.name,
            Self::AddColumn { table, .. }
            | Self::DropColumn { table, .. }
            | Self::RenameColumn { table, .. }
            | Self::AlterColumn { table, .. }
            | Self::CreateIndex { table, .. }
            | Self::DropIndex { table, .. }
            | Self::AddForeignKey { table, .. }
            | Self::DropForeignKey { table, .. }
            | Self::DisableCapture { table, .. }
            | Self::DisableAudit { table, .. } => table,
            Self::EnableTenantIsolation { table, .. } | Self::DisableTenantIsolation { table } => {
                table
            }
        }
    }

    /// Short kind name used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CreateTable { .. } => "create-table",
            Self::DropTable { .. } => "drop-table",
            Self::RenameTable { .. } => "rename-table",
            Self::AddColumn { .. } => "add-column",
            Self::DropColumn { .. } => "drop-column",
            Self::RenameColumn { .. } => "rename-column",
            Self::AlterColumn { .. } => "alter-column",
            Self::CreateIndex { .. } => "create-index",
            Self::DropIndex { .. } => "drop-index",
            Self::AddForeignKey { .. } => "add-foreign-key",
            Self::DropForeignKey { .. } => "drop-foreign-key",
            Self::EnableCapture { .. } => "enable-capture",
            Self::DisableCapture { .. } => "disable-capture",
            Self::EnableAudit { .. } => "enable-audit",
            Self::DisableAudit { .. } => "disable-audit",
            Self::EnableTenantIsolation { .. } => "enable-tenant-isolation",
            Self::DisableTenantIsolation { .. } => "disable-tenant-isolation",
        }
    }

    /// `+` creates, `-` drops, `~` changes.
    pub fn symbol(&self) -> char {
        match self {
            Self::CreateTable { .. }
            | Self::AddColumn { .. }
            | Self::CreateIndex { .. }
            | Self::AddForeignKey { .. }
            | Self::EnableCapture { refresh: false, .. }
            | Self::EnableAudit { refresh: false, .. } => '+',
            Self::EnableTenantIsolation { replaces: None, .. } => '+',
            Self::DropTable { .. }
            | Self::DropColumn { .. }
            | Self::DropIndex { .. }
            | Self::DropForeignKey { .. }
            | Self::DisableCapture { .. }
            | Self::DisableAudit { .. } => '-',
            Self::DisableTenantIsolation { .. } => '-',
            Self::RenameTable { .. }
            | Self::RenameColumn { .. }
            | Self::AlterColumn { .. }
            | Self::EnableCapture { refresh: true, .. }
            | Self::EnableAudit { refresh: true, .. } => '~',
            Self::EnableTenantIsolation {
                replaces: Some(_), ..
            } => '~',
        }
    }
}

fn describe_column(column: &Column) -> String {
    let mut text = format!("{} {}", column.name, column.ty);
    text.push_str(if column.nullable {
        " null"
    } else {
        " not null"
    });
    if let Some(default) = &column.default {
        text.push_str(&format!(" default {default}"));
    }
    text
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateTable { table } => write!(
                f,
                "create table {} ({} columns, primary key ({}))",
                table.name,
                table.columns.len(),
                table.primary_key.join(", ")
            ),
            Self::DropTable { table } => write!(f, "drop table {}", table.name),
            Self::RenameTable { from, table } => write!(f, "rename table {from} to {}", table.name),
            Self::AddColumn { table, column } => {
                write!(f, "add column {table}.{}", describe_column(column))
            }
            Self::DropColumn { table, column } => write!(f, "drop column {table}.{}", column.name),
            Self::RenameColumn {
                table,
                from,
                column,
            } => {
                write!(f, "rename column {table}.{from} to {}", column.name)
            }
            Self::AlterColumn { table, from, to } => {
                let mut parts = Vec::new();
                if from.ty != to.ty {
                    parts.push(format!("type {} → {}", from.ty, to.ty));
                }
                if from.nullable != to.nullable {
                    parts.push(if to.nullable {
                        "drop not null".into()
                    } else {
                        "set not null".to_string()
                    });
                }
                if from.default != to.default {
                    let show = |d: &Option<foxdb::schema::ColumnDefault>| {
                        d.as_ref().map_or("none".to_string(), ToString::to_string)
                    };
                    parts.push(format!(
                        "default {} → {}",
                        show(&from.default),
                        show(&to.default)
                    ));
                }
                write!(f, "alter column {table}.{}: {}", to.name, parts.join(", "))
            }
            Self::CreateIndex { table, index } => write!(
                f,
                "create {}index {} on {table} ({})",
                if index.unique { "unique " } else { "" },
                index.name,
                index.columns.join(", ")
            ),
            Self::DropIndex { table, index } if index.constraint => {
                write!(f, "drop unique constraint {} on {table}", index.name)
            }
            Self::DropIndex { table, index } => write!(f, "drop index {} on {table}", index.name),
            Self::AddForeignKey { table, foreign_key } => write!(
                f,
                "add foreign key {} on {table} ({}) → {} ({}) on delete {}",
                foreign_key.name,
                foreign_key.columns.join(", "),
                foreign_key.referenced_table,
                foreign_key.referenced_columns.join(", "),
                foreign_key.on_delete
            ),
            Self::DropForeignKey { table, foreign_key } => {
                write!(f, "drop foreign key {} on {table}", foreign_key.name)
            }
            Self::EnableCapture {
                table,
                refresh: false,
                ..
            } => write!(
                f,
                "capture changes of {} for real-time subscriptions (row triggers into the change log _fox_changes)",
                table.name
            ),
            Self::EnableCapture {
                table,
                refresh: true,
                ..
            } => write!(
                f,
                "refresh change capture of {} (its columns or name changed)",
                table.name
            ),
            Self::DisableCapture { table, .. } => write!(
                f,
                "stop capturing changes of {table} for real-time subscriptions (logged changes stay)"
            ),
            Self::EnableAudit { table, refresh, .. } => {
                if *refresh {
                    write!(
                        f,
                        "refresh audit of {} (its audit settings, columns or name changed): ",
                        table.name
                    )?;
                } else {
                    write!(f, "audit {}: ", table.name)?;
                }
                write!(
                    f,
                    "record inserts, updates and deletes in the audit log _fox_audit with actor, time and changed fields old → new"
                )?;
                if let Some(audit) = &table.audit {
                    if !audit.exclude_fields.is_empty() {
                        write!(f, ", never {}", audit.exclude_fields.join(", "))?;
                    }
                    if audit.compression {
                        write!(f, ", compressed")?;
                    }
                    if audit.hash_chain {
                        write!(f, ", hash-chained")?;
                    }
                    write!(f, ", kept {} days", audit.retention_days)?;
                }
                Ok(())
            }
            Self::DisableAudit {
                table,
                delete_records: false,
                ..
            } => write!(
                f,
                "stop auditing {table} (its audit records stay; with allowDestructive they are deleted)"
            ),
            Self::DisableAudit {
                table,
                delete_records: true,
                ..
            } => write!(f, "stop auditing {table} and delete its audit records"),
            Self::EnableTenantIsolation {
                table,
                column,
                replaces,
            } => {
                write!(
                    f,
                    "isolate tenants of {table} in the database: row-level security policy fox_tenant_isolation lets a session that sets foxdb.tenant read and write only rows whose {column} equals it (sessions without it see every row)"
                )?;
                match replaces {
                    Some(old) => write!(f, "; replaces the policy on {old}"),
                    None => Ok(()),
                }
            }
            Self::DisableTenantIsolation { table } => write!(
                f,
                "stop isolating tenants of {table} in the database: drop row-level security policy fox_tenant_isolation (rows stay; clients still filter by tenant)"
            ),
        }
    }
}

/// Whether applying a change can lose data, or cannot be applied at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "safety", content = "reason", rename_all = "kebab-case")]
pub enum Safety {
    /// No data can be lost.
    Safe,
    /// Data can be lost; applied only with `allowDestructive`.
    Destructive(String),
    /// Cannot be applied as declared; the reason says what to do instead.
    Impossible(String),
}
