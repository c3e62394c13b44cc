//! Ten appliers at once on one database: each waits for the lock or reports it, the schema ends
//! right, and the plan is applied exactly once.

use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::history::read_history;

use super::crash::many_tables;
use super::support::{
    connect, expected_schema, fox_command, live_schema, manifest_file, schema, schema_yaml, text,
};

const APPLIERS: usize = 10;

async fn ten_appliers(engine: Backend) {
    let database = TestDatabase::create(engine).await;
    let yaml = schema_yaml("lockTimeoutSeconds: 60", &many_tables(8));
    let manifest = manifest_file(&yaml);
    let children: Vec<_> = (0..APPLIERS)
        .map(|_| {
            fox_command(&[
                "apply",
                "-f",
                manifest.path.to_str().expect("utf-8"),
                "--database",
                database.url(),
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawns fox")
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let output = child.wait_with_output().expect("fox finishes");
        match output.status.code() {
            Some(0) => {
                if text(&output.stdout).contains("Applied plan") {
                    applied += 1;
                }
            }
            Some(1) => assert!(
                text(&output.stderr).contains("is locked by another applier"),
                "{engine}: {}",
                text(&output.stderr)
            ),
            other => panic!("{engine}: exit {other:?}: {}", text(&output.stderr)),
        }
    }
    assert_eq!(applied, 1, "{engine}: exactly one applier ran the plan");
    assert_eq!(
        live_schema(&database).await,
        expected_schema(&database, &schema(&yaml))
    );
    let mut connection = connect(&database).await;
    let history = read_history(&mut connection).await.expect("history");
    connection.close().await;
    assert_eq!(
        history.len(),
        1,
        "{engine}: one apply recorded: {history:?}"
    );
    assert_eq!(history[0].status.as_str(), "applied");
}

#[tokio::test]
async fn ten_concurrent_appliers_on_postgres() {
    ten_appliers(Backend::Postgres).await;
}

#[tokio::test]
async fn ten_concurrent_appliers_on_mysql() {
    ten_appliers(Backend::MySql).await;
}

#[tokio::test]
async fn ten_concurrent_appliers_on_sqlite() {
    ten_appliers(Backend::Sqlite).await;
}
