//! `fox import migrations`: a database golang-migrate, Prisma Migrate, sqlx, Diesel or Flyway
//! already migrated is taken over by `fox migrate up` without running anything again, and only
//! migrations added afterwards run.
//!
//! The tools themselves cannot be downloaded here, so each test leaves the database exactly as
//! the tool would: it runs the migration scripts and writes the tool's bookkeeping table with
//! the tool's documented columns and checksum algorithm (golang-migrate's
//! `schema_migrations(version, dirty)`, Prisma's `_prisma_migrations` with the SHA-256 of each
//! `migration.sql`, sqlx's SHA-384, Flyway's CRC32 computed outside FoxDB).

use std::path::Path;

use fox_e2e::{Backend, TestDatabase};
use sha2::{Digest, Sha256};

use super::support::{execute, fox, query_texts, text};

/// The statements of two migrations every engine runs alike: (folder-less name, up, down).
const FIRST: (&str, &str, &str) = (
    "create_users",
    "CREATE TABLE users (id integer PRIMARY KEY, email varchar(255) NOT NULL);\n",
    "DROP TABLE users;\n",
);
const SECOND: (&str, &str, &str) = (
    "create_posts",
    "CREATE TABLE posts (id integer PRIMARY KEY, author_id integer NOT NULL REFERENCES users (id), title varchar(200) NOT NULL);\n",
    "DROP TABLE posts;\n",
);
const THIRD: (&str, &str, &str) = (
    "add_bio",
    "ALTER TABLE users ADD COLUMN bio varchar(500);\n",
    "ALTER TABLE users DROP COLUMN bio;\n",
);

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("folder");
    }
    std::fs::write(path, text).expect("written");
}

/// `fox import migrations DIR --format FORMAT -o migrations.yaml`; returns the file.
fn import(folder: &Path, format: &str, output: &Path) -> String {
    let imported = fox(&[
        "import",
        "migrations",
        folder.to_str().expect("utf-8"),
        "--format",
        format,
        "-o",
        output.to_str().expect("utf-8"),
        "--database-ref",
        "blog",
    ]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        text(&imported.stderr)
    );
    let yaml = std::fs::read_to_string(output).expect("written");
    let validated = fox(&["validate", "-f", output.to_str().expect("utf-8")]);
    assert_eq!(
        validated.status.code(),
        Some(0),
        "{}{}\n{yaml}",
        text(&validated.stdout),
        text(&validated.stderr)
    );
    yaml
}

/// `fox migrate SUBCOMMAND -f FILE --database URL`: (exit code, stdout + stderr).
fn migrate(database: &TestDatabase, subcommand: &str, file: &Path) -> (Option<i32>, String) {
    let output = fox(&[
        "migrate",
        subcommand,
        "-f",
        file.to_str().expect("utf-8"),
        "--database",
        database.url(),
    ]);
    (
        output.status.code(),
        format!("{}{}", text(&output.stdout), text(&output.stderr)),
    )
}

/// Runs a script the way the tool would, one statement at a time.
async fn run_script(database: &TestDatabase, script: &str) {
    for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        execute(database, statement).await;
    }
}

/// golang-migrate's bookkeeping table on each engine, as its database drivers create it.
fn golang_migrate_table(engine: Backend) -> &'static str {
    match engine {
        Backend::Postgres => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
        }
        Backend::MySql => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
        }
        Backend::Sqlite => {
            "CREATE TABLE IF NOT EXISTS schema_migrations (version uint64, dirty bool)"
        }
    }
}

/// A database golang-migrate migrated to version 2 (its table holds the current version
/// only), and the folder it used.
async fn migrated_by_golang_migrate(
    engine: Backend,
    dirty: bool,
) -> (TestDatabase, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("temp dir");
    for (version, (name, up, down)) in [(1, FIRST), (2, SECOND)] {
        write(
            &folder.path().join(format!("00000{version}_{name}.up.sql")),
            up,
        );
        write(
            &folder
                .path()
                .join(format!("00000{version}_{name}.down.sql")),
            down,
        );
    }
    let database = TestDatabase::create(engine).await;
    run_script(&database, FIRST.1).await;
    run_script(&database, SECOND.1).await;
    execute(&database, golang_migrate_table(engine)).await;
    let flag = if dirty { "TRUE" } else { "FALSE" };
    execute(
        &database,
        &format!("INSERT INTO schema_migrations (version, dirty) VALUES (2, {flag})"),
    )
    .await;
    execute(
        &database,
        "INSERT INTO users (id, email) VALUES (1, 'ada@example.com')",
    )
    .await;
    (database, folder)
}

#[tokio::test]
async fn a_database_golang_migrate_migrated_is_adopted_and_only_new_migrations_run() {
    for engine in Backend::ALL {
        let (database, folder) = migrated_by_golang_migrate(engine, false).await;
        let out = tempfile::tempdir().expect("temp dir");
        let file = out.path().join("migrations.yaml");
        let yaml = import(folder.path(), "golang-migrate", &file);
        assert!(
            yaml.contains("importedFrom:\n    tool: golang-migrate\n    version: '2'"),
            "{yaml}"
        );

        // Before the takeover, status says what `up` will adopt.
        let (code, status) = migrate(&database, "status", &file);
        assert_eq!(code, Some(0), "{engine}: {status}");
        assert!(
            status.contains("2 create posts: applied by golang-migrate; `fox migrate up` records it as applied without running it."),
            "{engine}: {status}"
        );

        let (code, output) = migrate(&database, "up", &file);
        assert_eq!(code, Some(0), "{engine}: {output}");
        assert!(
            output.contains("adopted 1 create users (applied by golang-migrate; not run)")
                && output.contains("adopted 2 create posts")
                && output.contains("Nothing to do: the database is up to date."),
            "{engine}: {output}"
        );
        // Nothing ran again: the row written before is still there.
        assert_eq!(
            query_texts(&database, "SELECT email FROM users").await,
            [[Some("ada@example.com".to_string())]],
            "{engine}"
        );
        let (code, status) = migrate(&database, "status", &file);
        assert_eq!(code, Some(0), "{engine}: {status}");
        assert_eq!(status.matches(" applied ").count(), 2, "{engine}: {status}");

        // A new migration in the tool's folder: imported again, only it runs.
        write(&folder.path().join("000003_add_bio.up.sql"), THIRD.1);
        write(&folder.path().join("000003_add_bio.down.sql"), THIRD.2);
        import(folder.path(), "golang-migrate", &file);
        let (code, output) = migrate(&database, "up", &file);
        assert_eq!(code, Some(0), "{engine}: {output}");
        assert!(
            output.contains("  3 add bio (") && output.contains("Applied 1 migration(s)."),
            "{engine}: {output}"
        );
        assert!(!output.contains("adopted"), "{engine}: {output}");
        let (code, status) = migrate(&database, "status", &file);
        assert_eq!(code, Some(0), "{engine}: {status}");
        assert_eq!(status.matches(" applied ").count(), 3, "{engine}: {status}");
        execute(&database, "UPDATE users SET bio = 'mathematician'").await;
    }
}

#[tokio::test]
async fn a_version_golang_migrate_left_dirty_is_refused_and_nothing_is_adopted() {
    let (database, folder) = migrated_by_golang_migrate(Backend::Sqlite, true).await;
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("migrations.yaml");
    import(folder.path(), "golang-migrate", &file);
    let (code, output) = migrate(&database, "up", &file);
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains("version 2 (create posts): golang-migrate did not complete it (schema_migrations marks it dirty"),
        "{output}"
    );
    let (_, status) = migrate(&database, "status", &file);
    assert_eq!(
        status.matches(" pending ").count(),
        2,
        "nothing adopted: {status}"
    );
}

/// Prisma's `_prisma_migrations` on each engine, as Prisma Migrate creates it.
fn prisma_table(engine: Backend) -> &'static str {
    match engine {
        Backend::Postgres => {
            r#"CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)"#
        }
        Backend::MySql => {
            "CREATE TABLE _prisma_migrations (id VARCHAR(36) PRIMARY KEY NOT NULL, checksum VARCHAR(64) NOT NULL, finished_at DATETIME(3), migration_name VARCHAR(255) NOT NULL, logs TEXT, rolled_back_at DATETIME(3), started_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3), applied_steps_count INTEGER UNSIGNED NOT NULL DEFAULT 0) DEFAULT CHARACTER SET utf8mb4"
        }
        Backend::Sqlite => {
            r#"CREATE TABLE "_prisma_migrations" ("id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME, "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME, "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)"#
        }
    }
}

/// Prisma's checksum of a migration: the SHA-256 of `migration.sql`, hex.
fn prisma_checksum(script: &str) -> String {
    Sha256::digest(script.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Records a migration in `_prisma_migrations` as `prisma migrate deploy` does when it
/// finishes one.
async fn record_prisma_migration(database: &TestDatabase, id: usize, name: &str, checksum: &str) {
    execute(
        database,
        &format!(
            "INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count) \
             VALUES ('00000000-0000-4000-8000-00000000000{id}', '{checksum}', CURRENT_TIMESTAMP, '{name}', NULL, NULL, CURRENT_TIMESTAMP, 1)"
        ),
    )
    .await;
}

/// A database Prisma Migrate migrated with two migrations; the second's recorded checksum is
/// `second_checksum` when given (a file edited after it was applied).
async fn migrated_by_prisma(
    engine: Backend,
    second_checksum: Option<&str>,
) -> (TestDatabase, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("temp dir");
    write(
        &folder.path().join("migration_lock.toml"),
        "# Please do not edit this file manually\nprovider = \"postgresql\"\n",
    );
    let database = TestDatabase::create(engine).await;
    execute(&database, prisma_table(engine)).await;
    for (id, (timestamp, (name, up, _))) in [("20240101120000", FIRST), ("20240102120000", SECOND)]
        .into_iter()
        .enumerate()
    {
        let migration = format!("{timestamp}_{name}");
        write(&folder.path().join(&migration).join("migration.sql"), up);
        run_script(&database, up).await;
        let checksum = match second_checksum {
            Some(recorded) if id == 1 => recorded.to_string(),
            _ => prisma_checksum(up),
        };
        record_prisma_migration(&database, id, &migration, &checksum).await;
    }
    (database, folder)
}

#[tokio::test]
async fn a_database_prisma_migrated_is_adopted_and_only_new_migrations_run() {
    for engine in Backend::ALL {
        let (database, folder) = migrated_by_prisma(engine, None).await;
        let out = tempfile::tempdir().expect("temp dir");
        let file = out.path().join("migrations.yaml");
        let yaml = import(folder.path(), "prisma", &file);
        assert!(
            yaml.contains(&format!("checksum: {}", prisma_checksum(FIRST.1))),
            "{yaml}"
        );
        let (code, output) = migrate(&database, "up", &file);
        assert_eq!(code, Some(0), "{engine}: {output}");
        assert!(
            output.contains("adopted 20240101120000 create users (applied by prisma; not run)")
                && output.contains("adopted 20240102120000 create posts")
                && output.contains("Nothing to do"),
            "{engine}: {output}"
        );
        let (code, status) = migrate(&database, "status", &file);
        assert_eq!(code, Some(0), "{engine}: {status}");
        assert_eq!(status.matches(" applied ").count(), 2, "{engine}: {status}");

        write(
            &folder.path().join("20240103120000_add_bio/migration.sql"),
            THIRD.1,
        );
        import(folder.path(), "prisma", &file);
        let (code, output) = migrate(&database, "up", &file);
        assert_eq!(code, Some(0), "{engine}: {output}");
        assert!(
            output.contains("  20240103120000 add bio (")
                && output.contains("Applied 1 migration(s)."),
            "{engine}: {output}"
        );
        let (code, status) = migrate(&database, "status", &file);
        assert_eq!(code, Some(0), "{engine}: {status}");
        assert_eq!(status.matches(" applied ").count(), 3, "{engine}: {status}");
    }
}

#[tokio::test]
async fn a_prisma_checksum_that_differs_from_the_file_is_refused() {
    let edited = prisma_checksum("CREATE TABLE posts (id integer PRIMARY KEY);\n");
    let (database, folder) = migrated_by_prisma(Backend::Sqlite, Some(&edited)).await;
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("migrations.yaml");
    import(folder.path(), "prisma", &file);
    let (code, output) = migrate(&database, "up", &file);
    assert_eq!(code, Some(1), "{output}");
    assert!(
        output.contains(&format!(
            "version 20240102120000 (create posts): prisma applied it with checksum {edited} but its file now has checksum {}",
            prisma_checksum(SECOND.1)
        )),
        "{output}"
    );
    // A failed Prisma migration (started, never finished) is refused too.
    let (database, folder) = migrated_by_prisma(Backend::Sqlite, None).await;
    execute(&database, "UPDATE _prisma_migrations SET finished_at = NULL WHERE migration_name = '20240102120000_create_posts'").await;
    import(folder.path(), "prisma", &file);
    let (code, output) = migrate(&database, "up", &file);
    assert_eq!(code, Some(1), "{output}");
    assert!(output.contains("prisma did not complete it"), "{output}");
}

/// Flyway's checksums of [`FIRST`] and [`SECOND`], computed outside FoxDB (Python's
/// `zlib.crc32` over the script's lines without their line endings, as a signed 32-bit number,
/// which is what Flyway's `ChecksumCalculator` does).
const FLYWAY_CHECKSUMS: [i32; 2] = [617_680_480, -1_650_222_847];

/// sqlx's checksum: the SHA-384 of the script, as the engine's binary literal.
fn sqlx_checksum(engine: Backend, script: &str) -> String {
    let hex: String = sha2::Sha384::digest(script.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match engine {
        Backend::Postgres => format!("decode('{hex}', 'hex')"),
        Backend::MySql | Backend::Sqlite => format!("X'{hex}'"),
    }
}

/// The bookkeeping table of sqlx, Diesel or Flyway on `engine`, as each tool creates it.
fn tool_table(tool: &str, engine: Backend) -> String {
    let (now, bytes) = match engine {
        Backend::Postgres => ("now()", "BYTEA"),
        Backend::MySql | Backend::Sqlite => ("CURRENT_TIMESTAMP", "BLOB"),
    };
    match tool {
        "sqlx" => format!(
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT {now}, success BOOLEAN NOT NULL, checksum {bytes} NOT NULL, execution_time BIGINT NOT NULL)"
        ),
        "diesel" => format!(
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, run_on TIMESTAMP NOT NULL DEFAULT {now})"
        ),
        _ => format!(
            "CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT {now}, execution_time INT NOT NULL, success BOOLEAN NOT NULL)"
        ),
    }
}

#[tokio::test]
async fn databases_sqlx_diesel_and_flyway_migrated_are_adopted_without_running_anything() {
    for engine in Backend::ALL {
        for tool in ["sqlx", "diesel", "flyway"] {
            let folder = tempfile::tempdir().expect("temp dir");
            let database = TestDatabase::create(engine).await;
            execute(&database, &tool_table(tool, engine)).await;
            for (index, (name, up, down)) in [FIRST, SECOND].into_iter().enumerate() {
                let version = index + 1;
                run_script(&database, up).await;
                let record = match tool {
                    "sqlx" => {
                        write(&folder.path().join(format!("{version}_{name}.up.sql")), up);
                        write(
                            &folder.path().join(format!("{version}_{name}.down.sql")),
                            down,
                        );
                        format!(
                            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES ({version}, '{name}', TRUE, {}, 1)",
                            sqlx_checksum(engine, up)
                        )
                    }
                    "diesel" => {
                        let dir = folder
                            .path()
                            .join(format!("2024-01-0{version}-120000_{name}"));
                        write(&dir.join("up.sql"), up);
                        write(&dir.join("down.sql"), down);
                        format!(
                            "INSERT INTO __diesel_schema_migrations (version) VALUES ('2024010{version}120000')"
                        )
                    }
                    _ => {
                        write(&folder.path().join(format!("V{version}__{name}.sql")), up);
                        write(&folder.path().join(format!("U{version}__{name}.sql")), down);
                        format!(
                            "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES ({version}, '{version}', '{name}', 'SQL', 'V{version}__{name}.sql', {}, 'flyway', 1, TRUE)",
                            FLYWAY_CHECKSUMS[index]
                        )
                    }
                };
                execute(&database, &record).await;
            }
            let out = tempfile::tempdir().expect("temp dir");
            let file = out.path().join("migrations.yaml");
            import(folder.path(), tool, &file);
            let (code, output) = migrate(&database, "up", &file);
            assert_eq!(code, Some(0), "{engine} {tool}: {output}");
            assert_eq!(
                output
                    .matches(&format!("(applied by {tool}; not run)"))
                    .count(),
                2,
                "{engine} {tool}: {output}"
            );
            assert!(
                output.contains("Nothing to do"),
                "{engine} {tool}: {output}"
            );
            let (code, status) = migrate(&database, "status", &file);
            assert_eq!(code, Some(0), "{engine} {tool}: {status}");
            assert_eq!(
                status.matches(" applied ").count(),
                2,
                "{engine} {tool}: {status}"
            );
        }
    }
}
