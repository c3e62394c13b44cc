//! SIGKILL at random points of a ~50-statement apply (~14 on MySQL): PostgreSQL and SQLite are left at the old
//! or the new schema, MySQL resumes to the new one on the next apply; history stays consistent.

use std::time::{Duration, Instant};

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::history::read_history;

use super::support::{
    connect, expected_schema, fox, fox_command, live_schema, manifest_file, schema, schema_yaml,
    text,
};

const KILLS_PER_ENGINE: usize = 20;

/// Thirteen chained tables: about four statements each on PostgreSQL, one on MySQL.
pub fn many_tables(count: usize) -> String {
    let mut yaml = String::from(
        "    - name: base\n      columns:\n        - {name: id, type: bigserial, primaryKey: true}\n",
    );
    for i in 0..count {
        let parent = if i == 0 {
            "base".to_string()
        } else {
            format!("t{:02}", i - 1)
        };
        yaml.push_str(&format!(
            "    - name: t{i:02}\n      columns:\n        - {{name: id, type: bigserial, primaryKey: true}}\n        - {{name: name, type: varchar(50), unique: true}}\n        - {{name: parent_id, type: bigint, nullable: true, references: {{table: {parent}, onDelete: cascade}}}}\n        - {{name: amount, type: \"decimal(10,2)\", default: 0}}\n        - {{name: created_at, type: timestamptz, default: now()}}\n"
        ));
    }
    yaml
}

/// xorshift64*: reproducible kill points.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound.max(1)
    }
}

async fn history_statuses(database: &TestDatabase) -> Vec<String> {
    let mut connection = connect(database).await;
    let statuses = read_history(&mut connection)
        .await
        .map(|rows| {
            rows.into_iter()
                .map(|r| r.status.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    connection.close().await;
    statuses
}

async fn kill_repeatedly(engine: Backend) {
    let old_yaml = schema_yaml("", &many_tables(0));
    let new_yaml = schema_yaml("", &many_tables(13));
    let old_manifest = manifest_file(&old_yaml);
    let new_manifest = manifest_file(&new_yaml);
    let (old, new) = (schema(&old_yaml), schema(&new_yaml));

    // How long an undisturbed apply takes, to spread the kill points over it.
    let probe = TestDatabase::create(engine).await;
    let started = Instant::now();
    let output = fox(&[
        "apply",
        "-f",
        new_manifest.path.to_str().expect("utf-8"),
        "--database",
        probe.url(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let full = started.elapsed();
    let summary = text(&output.stdout);
    let statements: usize = summary
        .split(" statements")
        .next()
        .and_then(|before| before.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{engine}: no statement count in {summary}"));
    // MySQL declares a new table's indexes and the keys to tables created before it inside
    // its CREATE TABLE, so its plan has about one statement per table.
    let long = if engine == Backend::MySql { 13 } else { 39 };
    assert!(
        statements >= long,
        "{engine}: a long plan ({statements} statements)"
    );
    drop(probe);

    let mut random = Random(0x5eed_f0c5 ^ engine.to_string().len() as u64);
    let (mut at_old, mut at_new) = (0, 0);
    for round in 0..KILLS_PER_ENGINE {
        let database = TestDatabase::create(engine).await;
        let first = fox(&[
            "apply",
            "-f",
            old_manifest.path.to_str().expect("utf-8"),
            "--database",
            database.url(),
        ]);
        assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));

        let delay = Duration::from_micros(random.below(full.as_micros() as u64 * 6 / 5));
        let mut child = fox_command(&[
            "apply",
            "-f",
            new_manifest.path.to_str().expect("utf-8"),
            "--database",
            database.url(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawns fox");
        std::thread::sleep(delay);
        child.kill().ok();
        child.wait().expect("reaps fox");

        let label = format!("{engine} round {round} (killed after {delay:?} of {full:?})");
        let live = live_schema(&database).await;
        match engine {
            Backend::Postgres | Backend::Sqlite => {
                let statuses = history_statuses(&database).await;
                if live == expected_schema(&database, &old) {
                    at_old += 1;
                    assert!(
                        statuses.iter().all(|s| s == "applied") && statuses.len() == 1,
                        "{label}: {statuses:?}"
                    );
                } else if live == expected_schema(&database, &new) {
                    at_new += 1;
                    assert_eq!(statuses, ["applied", "applied"], "{label}");
                } else {
                    panic!("{label}: the database is neither at the old nor at the new schema");
                }
            }
            Backend::MySql => {
                let resumed = fox(&[
                    "apply",
                    "-f",
                    new_manifest.path.to_str().expect("utf-8"),
                    "--database",
                    database.url(),
                ]);
                assert_eq!(
                    resumed.status.code(),
                    Some(0),
                    "{label}: {}",
                    text(&resumed.stderr)
                );
                assert_eq!(
                    live_schema(&database).await,
                    expected_schema(&database, &new),
                    "{label}: resumed to the new schema"
                );
                let statuses = history_statuses(&database).await;
                assert!(
                    !statuses.iter().any(|s| s == "running"),
                    "{label}: {statuses:?}"
                );
                let applied = statuses.iter().filter(|s| *s == "applied").count();
                assert_eq!(
                    applied, 2,
                    "{label}: the old and the new schema each applied once: {statuses:?}"
                );
                if live == expected_schema(&database, &old) {
                    at_old += 1
                } else {
                    at_new += 1
                }
            }
        }
    }
    eprintln!(
        "{engine}: {KILLS_PER_ENGINE} kills, {at_old} left before the new schema, {at_new} after"
    );
}

#[tokio::test]
async fn killed_applies_leave_postgres_at_old_or_new_schema() {
    kill_repeatedly(Backend::Postgres).await;
}

#[tokio::test]
async fn killed_applies_resume_on_mysql() {
    kill_repeatedly(Backend::MySql).await;
}

#[tokio::test]
async fn killed_applies_leave_sqlite_at_old_or_new_schema() {
    kill_repeatedly(Backend::Sqlite).await;
}
