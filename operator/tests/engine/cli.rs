//! `fox plan` and `fox apply` as users and scripts see them: exit codes, refusals, approval,
//! dry runs, output formats, and clear errors that never show credentials.

use fox_e2e::{Backend, TestDatabase};

use super::support::{
    execute, expected_schema, fox, live_schema, manifest_file, query_texts, schema, schema_yaml,
    text,
};

const BEFORE: &str = "
    - name: items
      columns:
        - {name: id, type: integer, primaryKey: true}
        - {name: name, type: varchar(50)}
        - {name: note, type: text, nullable: true}
";

fn after() -> String {
    BEFORE.replace("        - {name: note, type: text, nullable: true}\n", "")
}

#[tokio::test]
async fn destructive_change_is_refused_by_default_and_applied_when_allowed() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let before = manifest_file(&schema_yaml("", BEFORE));
        let after_yaml = schema_yaml("", &after());
        let after = manifest_file(&after_yaml);
        let path = |m: &super::support::ManifestFile| m.path.to_str().expect("utf-8").to_string();
        let url = database.url().to_string();

        let first = fox(&["apply", "-f", &path(&before), "--database", &url]);
        assert_eq!(
            first.status.code(),
            Some(0),
            "{engine}: {}",
            text(&first.stderr)
        );
        execute(
            &database,
            "INSERT INTO items (id, name, note) VALUES (1, 'apple', 'keep me')",
        )
        .await;

        let pending = fox(&[
            "plan",
            "-f",
            &path(&after),
            "--database",
            &url,
            "--detailed-exitcode",
        ]);
        assert_eq!(pending.status.code(), Some(2), "{engine}: changes pending");
        assert!(
            text(&pending.stdout).contains("DESTRUCTIVE"),
            "{engine}: {}",
            text(&pending.stdout)
        );

        let refused = fox(&["apply", "-f", &path(&after), "--database", &url]);
        assert_eq!(refused.status.code(), Some(1), "{engine}");
        let message = text(&refused.stderr);
        assert!(
            message.contains("refusing to apply 1 destructive change")
                && message
                    .contains("drop column items.note: drops the column and its values in 1 row"),
            "{engine}: {message}"
        );
        assert_eq!(
            live_schema(&database).await,
            expected_schema(&database, &schema(&schema_yaml("", BEFORE))),
            "{engine}: database unchanged"
        );

        let allowed = fox(&[
            "apply",
            "-f",
            &path(&after),
            "--database",
            &url,
            "--allow-destructive",
        ]);
        assert_eq!(
            allowed.status.code(),
            Some(0),
            "{engine}: {}",
            text(&allowed.stderr)
        );
        let in_sync = fox(&[
            "plan",
            "-f",
            &path(&after),
            "--database",
            &url,
            "--detailed-exitcode",
        ]);
        assert_eq!(
            in_sync.status.code(),
            Some(0),
            "{engine}: {}",
            text(&in_sync.stdout)
        );
    }
}

#[tokio::test]
async fn approval_is_required_when_the_policy_says_so() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let url = database.url().to_string();
    let manifest = manifest_file(&schema_yaml("requireApproval: true", BEFORE));
    let path = manifest.path.to_str().expect("utf-8");

    let waiting = fox(&["apply", "-f", path, "--database", &url]);
    assert_eq!(waiting.status.code(), Some(2));
    let output = text(&waiting.stdout);
    let hash = output
        .split("--approve ")
        .nth(1)
        .map(|rest| rest.trim().to_string())
        .expect("the hash to approve is printed");
    assert_eq!(hash.len(), 16, "{output}");
    assert!(
        live_schema(&database).await.tables.is_empty(),
        "nothing applied before approval"
    );

    let wrong = fox(&[
        "apply",
        "-f",
        path,
        "--database",
        &url,
        "--approve",
        "0000000000000000",
    ]);
    assert_eq!(
        wrong.status.code(),
        Some(2),
        "a different hash is not an approval"
    );

    let approved = fox(&["apply", "-f", path, "--database", &url, "--approve", &hash]);
    assert_eq!(
        approved.status.code(),
        Some(0),
        "{}",
        text(&approved.stderr)
    );
    assert_eq!(live_schema(&database).await.tables.len(), 1);
}

#[tokio::test]
async fn dry_run_changes_nothing_and_formats_serve_tools() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let url = database.url().to_string();
    let manifest = manifest_file(&schema_yaml("", BEFORE));
    let path = manifest.path.to_str().expect("utf-8");

    let dry = fox(&["apply", "-f", path, "--database", &url, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0));
    assert!(
        text(&dry.stdout).contains("Dry run"),
        "{}",
        text(&dry.stdout)
    );
    assert!(live_schema(&database).await.tables.is_empty());

    let json = fox(&["plan", "-f", path, "--database", &url, "-o", "json"]);
    let parsed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    let plan = &parsed["plans"][0];
    assert_eq!(plan["engine"], "sqlite");
    assert_eq!(plan["inSync"], false);
    assert_eq!(plan["changes"][0]["kind"], "create-table");
    assert_eq!(plan["changes"][0]["safety"], "safe");

    let sql = fox(&["plan", "-f", path, "--database", &url, "-o", "sql"]);
    assert!(
        text(&sql.stdout).contains("CREATE TABLE \"items\""),
        "{}",
        text(&sql.stdout)
    );
}

#[test]
fn invalid_manifests_are_refused_before_connecting() {
    let manifest = manifest_file(&schema_yaml("", &BEFORE.replace("varchar(50)", "strin")));
    let output = fox(&[
        "apply",
        "-f",
        manifest.path.to_str().expect("utf-8"),
        "--database",
        "postgres://fox:secret@127.0.0.1:1/nowhere",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert!(
        message.contains("unknown type \"strin\"") && message.contains("nothing was done"),
        "{message}"
    );
    assert!(!message.contains("cannot connect"), "{message}");
}

#[test]
fn unreachable_database_names_the_host_with_a_hint_and_no_password() {
    let manifest = manifest_file(&schema_yaml("", BEFORE));
    for url in [
        "postgres://fox:s3cretpw@127.0.0.1:1/app",
        "mysql://fox:s3cretpw@127.0.0.1:1/app",
    ] {
        let output = fox(&[
            "plan",
            "-f",
            manifest.path.to_str().expect("utf-8"),
            "--database",
            url,
        ]);
        assert_eq!(output.status.code(), Some(1));
        let message = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(
            message.contains("cannot connect") && message.contains("127.0.0.1:1"),
            "{message}"
        );
        assert!(message.contains("hint: is the server running"), "{message}");
        assert!(!message.contains("s3cretpw"), "{message}");
    }
}

#[tokio::test]
async fn a_held_lock_makes_apply_wait_then_name_the_holder() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url().to_string();
        let manifest = manifest_file(&schema_yaml("lockTimeoutSeconds: 1", BEFORE));
        let mut holder = super::support::connect(&database).await;
        match engine {
            Backend::Postgres => {
                holder
                    .execute("SET application_name = 'migration-job-7'")
                    .await
                    .expect("sets name");
                holder.fetch_i64("SELECT CASE WHEN pg_try_advisory_lock(439956816962) THEN 1 ELSE 0 END::bigint", &[]).await.expect("locks");
            }
            Backend::MySql => {
                let name = format!("foxdb:{}", database.name());
                holder
                    .fetch_i64(
                        "SELECT CAST(GET_LOCK(?, 0) AS SIGNED)",
                        &[foxdb::Value::Text(name)],
                    )
                    .await
                    .expect("locks");
            }
            Backend::Sqlite => {
                holder.execute("BEGIN EXCLUSIVE").await.expect("locks");
            }
        }
        let started = std::time::Instant::now();
        let output = fox(&[
            "apply",
            "-f",
            manifest.path.to_str().expect("utf-8"),
            "--database",
            &url,
        ]);
        assert_eq!(output.status.code(), Some(1), "{engine}");
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(900),
            "{engine}: waited for the lock"
        );
        let message = text(&output.stderr);
        assert!(
            message.contains("is locked by another applier")
                && message.contains("gave up after 1 s"),
            "{engine}: {message}"
        );
        if engine == Backend::Postgres {
            assert!(
                message.contains("migration-job-7"),
                "{engine}: names the holder: {message}"
            );
        }
        if engine == Backend::Sqlite {
            holder.execute("ROLLBACK").await.expect("unlocks");
        }
        holder.close().await;
        let rows = query_texts(&database, "SELECT 1").await;
        assert_eq!(rows.len(), 1);
        assert!(
            live_schema(&database).await.tables.is_empty(),
            "{engine}: nothing applied"
        );
    }
}

#[tokio::test]
async fn seed_command_upserts_only_the_seed_rows() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let url = database.url().to_string();
    let blog = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/blog/10-schema.yaml"
    );
    assert_eq!(
        fox(&["apply", "-f", blog, "--database", &url])
            .status
            .code(),
        Some(0)
    );
    execute(&database, "UPDATE tags SET name = 'edited' WHERE id = 1").await;
    let seeded = fox(&["seed", "-f", blog, "--database", &url]);
    assert_eq!(seeded.status.code(), Some(0), "{}", text(&seeded.stderr));
    assert!(
        text(&seeded.stdout).contains("1 seed row(s) upserted"),
        "{}",
        text(&seeded.stdout)
    );
    let rows = query_texts(&database, "SELECT name FROM tags WHERE id = 1").await;
    assert_eq!(rows, vec![vec![Some("rust".to_string())]]);
}

/// Malformed URLs carrying a known password, in every shape users mistype them.
const MALFORMED_URLS: [&str; 9] = [
    "postgres://app:Fox-Leak-9Qz7-db.example:5432/app",
    "postgres//app:Fox-Leak-9Qz7@db/app",
    "app:Fox-Leak-9Qz7@db:5432/app",
    "mysql://root:Fox-Leak-9Qz7",
    "postgres:/app:Fox-Leak-9Qz7@db/app",
    "mysql://root:Fox-Leak-9Qz7@db:notaport/x",
    "mysql://root:Fox-Leak-9Qz7@[::1/x",
    "postgres://app:Fox-Leak-9Qz7@127.0.0.1:1/app?sslmode=bogus",
    "mysql://app:Fox-Leak-9Qz7@127.0.0.1:1/app",
];

/// A Secret holding `url`, a FoxReplicaSet reading it, a FoxSchema and a FoxMigration on it.
fn manifests_with_secret_url(url: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: db-primary}}\nstringData:\n  url: '{url}'\n---\n\
         apiVersion: foxdb.dev/v1alpha1\nkind: FoxReplicaSet\nmetadata: {{name: db}}\nspec:\n  engine: postgresql\n  primary:\n    name: pg-0\n    connection: {{name: db-primary, key: url}}\n---\n\
         {}\n---\n\
         apiVersion: foxdb.dev/v1alpha1\nkind: FoxMigration\nmetadata: {{name: m1}}\nspec:\n  databaseRef: {{name: db}}\n  version: 1\n  name: one\n  up: CREATE TABLE t (id integer)\n  down: DROP TABLE t\n",
        schema_yaml("", BEFORE)
    )
}

#[test]
fn malformed_urls_never_show_the_password_on_any_entry_point() {
    let commands: [&[&str]; 5] = [
        &["plan"],
        &["apply"],
        &["seed"],
        &["migrate", "status"],
        &["generate", "migration", "--name", "next"],
    ];
    for url in MALFORMED_URLS {
        let from_secret = manifest_file(&manifests_with_secret_url(url));
        let plain = manifest_file(&manifests_with_secret_url("sqlite://unused.sqlite"));
        for command in commands {
            let with_files = |manifest: &super::support::ManifestFile| {
                let mut args: Vec<&str> = command.to_vec();
                args.extend(["-f", manifest.path.to_str().expect("utf-8")]);
                args.into_iter().map(str::to_string).collect::<Vec<_>>()
            };
            let mut runs = Vec::new();
            // --database
            let mut args = with_files(&plain);
            args.extend(["--database".to_string(), url.to_string()]);
            runs.push((
                "--database",
                super::support::fox_command(&to_str(&args)).output(),
            ));
            // FOX_DATABASE_URL
            runs.push((
                "FOX_DATABASE_URL",
                super::support::fox_command(&to_str(&with_files(&plain)))
                    .env("FOX_DATABASE_URL", url)
                    .output(),
            ));
            // The FoxReplicaSet's Secret
            runs.push((
                "Secret",
                super::support::fox_command(&to_str(&with_files(&from_secret))).output(),
            ));
            for (entry, output) in runs {
                let output = output.expect("fox runs");
                let shown = format!("{}{}", text(&output.stdout), text(&output.stderr));
                assert_eq!(
                    output.status.code(),
                    Some(1),
                    "{command:?} via {entry} with {url}: {shown}"
                );
                assert!(
                    !shown.contains("Fox-Leak-9Qz7"),
                    "{command:?} via {entry} with {url} printed the password: {shown}"
                );
            }
        }
    }
}

fn to_str(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_secret_url_for_another_engine_than_the_replica_set_declares_is_refused() {
    // The FoxReplicaSet says postgresql; the Secret holds a MariaDB URL.
    let manifests = manifest_file(&manifests_with_secret_url(
        "mysql://root:Fox-Leak-9Qz7@127.0.0.1:3306/test",
    ));
    let output = fox(&["plan", "-f", manifests.path.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1));
    let message = text(&output.stderr);
    assert!(
        message.contains("holds a mysql URL, but FoxReplicaSet/db declares engine postgresql"),
        "{message}"
    );
    assert!(!message.contains("Fox-Leak-9Qz7"), "{message}");
}

/// A second `policy:` block used to win silently and turn `allowDestructive` on; now the
/// manifest is refused before any connection, and the column and its values stay.
#[tokio::test]
async fn a_duplicate_policy_key_is_refused_before_anything_is_dropped() {
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url().to_string();
        let before = manifest_file(&schema_yaml("", BEFORE));
        let first = fox(&[
            "apply",
            "-f",
            before.path.to_str().expect("utf-8"),
            "--database",
            &url,
        ]);
        assert_eq!(
            first.status.code(),
            Some(0),
            "{engine}: {}",
            text(&first.stderr)
        );
        let doubled = format!(
            "{}  policy: {{allowDestructive: true}}\n",
            schema_yaml("allowDestructive: false", &after())
        );
        let doubled = manifest_file(&doubled);
        let refused = fox(&[
            "apply",
            "-f",
            doubled.path.to_str().expect("utf-8"),
            "--database",
            &url,
        ]);
        assert_eq!(refused.status.code(), Some(1), "{engine}");
        let message = text(&refused.stderr);
        assert!(
            message.contains(
                ":13: FoxSchema/test: spec.policy: duplicate key \"policy\" (first at line 6)"
            ) && message.contains("nothing was done"),
            "{engine}: {message}"
        );
        assert_eq!(
            live_schema(&database).await,
            expected_schema(&database, &schema(&schema_yaml("", BEFORE))),
            "{engine}: database unchanged"
        );
    }
}

/// Names some engine cannot hold (characters beyond the BMP on MySQL; `sqlite_` and `_fox_` in
/// any case on SQLite) are refused by `fox plan` and `fox apply` on every engine, before any DDL.
#[tokio::test]
async fn names_an_engine_cannot_hold_are_refused_before_any_ddl() {
    let bad_tables = [
        ("party_🎉", "outside the Basic Multilingual Plane"),
        ("SQLite_stats", "which SQLite reserves"),
        ("_FOX_notes", "reserved for FoxDB's own tables"),
    ];
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let url = database.url().to_string();
        for (name, reason) in bad_tables {
            let yaml = schema_yaml(
                "",
                &format!(
                    "{BEFORE}    - name: \"{name}\"\n      columns:\n        - {{name: id, type: integer, primaryKey: true}}\n"
                ),
            );
            let manifest = manifest_file(&yaml);
            for command in ["plan", "apply"] {
                let output = fox(&[
                    command,
                    "-f",
                    manifest.path.to_str().expect("utf-8"),
                    "--database",
                    &url,
                ]);
                assert_eq!(output.status.code(), Some(1), "{engine} {command} {name}");
                let message = text(&output.stderr);
                assert!(
                    message.contains("spec.tables[1].name:") && message.contains(reason),
                    "{engine} {command} {name}: {message}"
                );
            }
        }
        assert!(
            live_schema(&database).await.tables.is_empty(),
            "{engine}: nothing was created"
        );
    }
}
