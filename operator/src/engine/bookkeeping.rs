//! FoxDB's own tables (`migrations/<engine>/NNNN_name.sql`), embedded in the binary and applied
//! under the database lock before any user change.

use foxdb::dialect::dialect_for;
use foxdb::{Backend, Connection, Model, ModelExt};

use super::clock::now_rfc3339;

/// One bookkeeping migration.
#[derive(Clone, Copy, Debug)]
pub struct BookkeepingMigration {
    /// Version, ascending.
    pub version: i32,
    /// File name without extension.
    pub name: &'static str,
    /// Statements, separated by `;` at line ends.
    pub sql: &'static str,
}

const POSTGRES: &[BookkeepingMigration] = &[
    BookkeepingMigration {
        version: 1,
        name: "0001_apply_history",
        sql: include_str!("../../../migrations/postgres/0001_apply_history.sql"),
    },
    BookkeepingMigration {
        version: 2,
        name: "0002_versioned_migrations",
        sql: include_str!("../../../migrations/postgres/0002_versioned_migrations.sql"),
    },
    BookkeepingMigration {
        version: 3,
        name: "0003_migration_direction",
        sql: include_str!("../../../migrations/postgres/0003_migration_direction.sql"),
    },
    BookkeepingMigration {
        version: 4,
        name: "0004_apply_owner_uid",
        sql: include_str!("../../../migrations/postgres/0004_apply_owner_uid.sql"),
    },
];

const MYSQL: &[BookkeepingMigration] = &[
    BookkeepingMigration {
        version: 1,
        name: "0001_apply_history",
        sql: include_str!("../../../migrations/mysql/0001_apply_history.sql"),
    },
    BookkeepingMigration {
        version: 2,
        name: "0002_versioned_migrations",
        sql: include_str!("../../../migrations/mysql/0002_versioned_migrations.sql"),
    },
    BookkeepingMigration {
        version: 3,
        name: "0003_migration_direction",
        sql: include_str!("../../../migrations/mysql/0003_migration_direction.sql"),
    },
    BookkeepingMigration {
        version: 4,
        name: "0004_apply_owner_uid",
        sql: include_str!("../../../migrations/mysql/0004_apply_owner_uid.sql"),
    },
];

const SQLITE: &[BookkeepingMigration] = &[
    BookkeepingMigration {
        version: 1,
        name: "0001_apply_history",
        sql: include_str!("../../../migrations/sqlite/0001_apply_history.sql"),
    },
    BookkeepingMigration {
        version: 2,
        name: "0002_versioned_migrations",
        sql: include_str!("../../../migrations/sqlite/0002_versioned_migrations.sql"),
    },
    BookkeepingMigration {
        version: 3,
        name: "0003_migration_direction",
        sql: include_str!("../../../migrations/sqlite/0003_migration_direction.sql"),
    },
    BookkeepingMigration {
        version: 4,
        name: "0004_apply_owner_uid",
        sql: include_str!("../../../migrations/sqlite/0004_apply_owner_uid.sql"),
    },
];

/// The bookkeeping migrations of an engine, in version order.
pub fn bookkeeping_migrations(backend: Backend) -> &'static [BookkeepingMigration] {
    match backend {
        Backend::Postgres => POSTGRES,
        Backend::MySql => MYSQL,
        Backend::Sqlite => SQLITE,
    }
}

/// Where FoxDB's own tables live, fixed when a session starts: a migration that changes the
/// search path (`pg_dump` output sets it empty) or the default database (`USE`) cannot move
/// them, and the session is put back after each migration.
#[derive(Clone, Debug)]
pub struct FoxTables {
    backend: Backend,
    schema: String,
}

impl FoxTables {
    /// The schema (PostgreSQL), database (MySQL) or `main` (SQLite) the connection's
    /// unqualified names resolve to now.
    ///
    /// # Errors
    /// Database errors; a PostgreSQL search path naming no existing schema.
    pub async fn locate(connection: &mut Connection) -> foxdb::Result<Self> {
        let backend = connection.backend();
        let query = match backend {
            Backend::Postgres => "SELECT CAST(current_schema() AS text)",
            Backend::MySql => "SELECT CAST(DATABASE() AS CHAR)",
            Backend::Sqlite => "SELECT 'main'",
        };
        let schema = connection
            .fetch_text_rows(query, &[])
            .await?
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next().flatten())
            .ok_or_else(|| foxdb::Error::Unsupported {
                backend,
                feature: "FoxDB bookkeeping without a current schema (the search path names no existing schema, or no database is selected)".into(),
            })?;
        Ok(Self { backend, schema })
    }

    /// The schema (database on MySQL, `main` on SQLite) FoxDB's tables are in: the models of
    /// `migrate/state.rs` are read and written `.in_schema(..)` it.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Whether FoxDB's table `name` exists in this schema (read-only callers such as
    /// `fox migrate status` read nothing where the bookkeeping was never applied).
    ///
    /// # Errors
    /// Database errors.
    pub async fn exists(&self, connection: &mut Connection, name: &str) -> foxdb::Result<bool> {
        let sql = match self.backend {
            Backend::Postgres | Backend::MySql => {
                "SELECT 1 FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
            }
            Backend::Sqlite => {
                "SELECT 1 FROM sqlite_master WHERE ? = 'main' AND type = 'table' AND name = ?"
            }
        };
        let dialect = dialect_for(self.backend);
        let sql =
            sql.replacen('?', &dialect.placeholder(1), 1)
                .replacen('?', &dialect.placeholder(2), 1);
        let rows = connection
            .fetch_text_rows(
                &sql,
                &[
                    foxdb::Value::Text(self.schema.clone()),
                    foxdb::Value::Text(name.into()),
                ],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// Puts back the session state a migration may have changed: on PostgreSQL the role,
    /// session authorization and every setting (`RESET ALL` returns to the connection's own
    /// values); on MySQL the default database. MySQL session variables and SQLite pragmas a
    /// migration sets stay for the rest of the run, as in one client session.
    ///
    /// # Errors
    /// Database errors.
    pub async fn restore_session(&self, connection: &mut Connection) -> foxdb::Result<()> {
        match self.backend {
            Backend::Postgres => {
                connection
                    .execute("RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL")
                    .await?;
            }
            Backend::MySql if !self.schema.is_empty() => {
                let dialect = dialect_for(self.backend);
                connection
                    .execute(&format!("USE {}", dialect.quote(&self.schema)))
                    .await?;
            }
            Backend::MySql | Backend::Sqlite => {}
        }
        Ok(())
    }
}

/// Splits a migration file into statements at `;` ending a line; `--` comment lines dropped.
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        if line.trim_start().starts_with("--") {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.trim_end().ends_with(';') {
            let statement = current.trim().trim_end_matches(';').trim().to_string();
            if !statement.is_empty() {
                statements.push(statement);
            }
            current.clear();
        }
    }
    let rest = current.trim();
    if !rest.is_empty() {
        statements.push(rest.to_string());
    }
    statements
}

/// One row of `_fox_bookkeeping`: a bookkeeping migration applied to this database.
#[derive(Clone, Debug, PartialEq, Eq, foxdb::Model)]
#[foxdb(table = "_fox_bookkeeping")]
pub struct AppliedBookkeeping {
    /// [`BookkeepingMigration::version`].
    #[foxdb(primary_key)]
    pub version: i32,
    /// [`BookkeepingMigration::name`].
    pub name: String,
    /// When (RFC 3339, UTC).
    pub applied_at: String,
}

/// Applies the bookkeeping migrations the database lacks. Call with the database lock held.
///
/// # Errors
/// A statement failed; a row of `_fox_bookkeeping` that does not decode (changed by hand:
/// never taken for a missing version, which would run its statements again).
pub async fn apply_bookkeeping(connection: &mut Connection) -> foxdb::Result<()> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    // The one table a model cannot create: it records which of the others exist.
    connection
        .execute(&format!(
            "CREATE TABLE IF NOT EXISTS {} ({} integer NOT NULL PRIMARY KEY, {} varchar(200) NOT NULL, {} varchar(40) NOT NULL)",
            dialect.quote(AppliedBookkeeping::TABLE),
            dialect.quote("version"),
            dialect.quote("name"),
            dialect.quote("applied_at")
        ))
        .await?;
    let applied: Vec<i32> = AppliedBookkeeping::find()
        .all(&mut *connection)
        .await?
        .into_iter()
        .map(|row| row.version)
        .collect();
    for migration in bookkeeping_migrations(backend) {
        if applied.contains(&migration.version) {
            continue;
        }
        for statement in split_statements(migration.sql) {
            connection.execute(&statement).await?;
        }
        let record = AppliedBookkeeping {
            version: migration.version,
            name: migration.name.into(),
            applied_at: now_rfc3339(),
        };
        foxdb::query::insert(&mut *connection, &record).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_at_line_ending_semicolons() {
        let sql =
            "-- comment\nCREATE TABLE a (x text DEFAULT ';');\nCREATE TABLE b (\n  y int\n);\n";
        assert_eq!(
            split_statements(sql),
            vec![
                "CREATE TABLE a (x text DEFAULT ';')",
                "CREATE TABLE b (\n  y int\n)"
            ]
        );
    }

    #[test]
    fn every_engine_has_its_bookkeeping() {
        for backend in [Backend::Postgres, Backend::MySql, Backend::Sqlite] {
            let migrations = bookkeeping_migrations(backend);
            assert!(!migrations.is_empty());
            assert!(migrations.windows(2).all(|w| w[0].version < w[1].version));
        }
    }
}
