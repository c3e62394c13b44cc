//! Helpers for engine tests: schemas from YAML, applying, introspecting.

use std::time::Duration;

use fox_crds::FoxSchema;
use fox_crds::manifest::{ManifestSet, parse_manifests};
use fox_e2e::TestDatabase;
use fox_operator::engine::{
    ApplyOptions, ApplyOutcome, EngineError, Plan, apply_schema, plan_schema,
};
use foxdb::introspect::canonical_schema;
use foxdb::schema::Schema;
use foxdb::{ConnectOptions, Connection, DatabaseUrl};

/// Parses one FoxSchema from YAML, panicking with every problem when it is invalid.
pub fn schema(yaml: &str) -> FoxSchema {
    let mut set = ManifestSet::default();
    parse_manifests("test.yaml".as_ref(), yaml, &mut set);
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
    set.schemas().next().expect("a FoxSchema").1.clone()
}

/// A FoxSchema with the given tables (YAML list items, indented by 4).
pub fn tables(tables_yaml: &str) -> FoxSchema {
    schema(&format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  tables:\n{tables_yaml}"
    ))
}

pub fn url(database: &TestDatabase) -> DatabaseUrl {
    DatabaseUrl::parse(database.url()).expect("valid test URL")
}

pub fn options(allow_destructive: bool) -> ApplyOptions {
    ApplyOptions {
        schema_name: "test".into(),
        owner_uid: None,
        replaces: None,
        allow_destructive,
        require_approval: false,
        approve: None,
        approval_scope: None,
        dry_run: false,
        lock_timeout: Duration::from_secs(30),
    }
}

pub async fn apply(
    database: &TestDatabase,
    schema: &FoxSchema,
    allow_destructive: bool,
) -> Result<ApplyOutcome, EngineError> {
    apply_schema(
        &url(database),
        &schema.spec,
        &options(allow_destructive),
        &mut |_| {},
    )
    .await
}

pub async fn plan(database: &TestDatabase, schema: &FoxSchema) -> Plan {
    plan_schema(&url(database), &schema.spec)
        .await
        .expect("plans")
}

pub async fn connect(database: &TestDatabase) -> Connection {
    Connection::connect(&url(database), &ConnectOptions::default())
        .await
        .expect("connects")
}

pub async fn live_schema(database: &TestDatabase) -> Schema {
    database.live_schema().await
}

/// The declared schema as the engine of `database` stores it.
pub fn expected_schema(database: &TestDatabase, schema: &FoxSchema) -> Schema {
    let backend = url(database).backend();
    canonical_schema(
        backend,
        &fox_operator::engine::desired::desired_schema(&schema.spec),
    )
}

pub async fn execute(database: &TestDatabase, sql: &str) {
    let mut connection = connect(database).await;
    connection
        .execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    connection.close().await;
}

pub async fn query_texts(database: &TestDatabase, sql: &str) -> Vec<Vec<Option<String>>> {
    let mut connection = connect(database).await;
    let rows = connection
        .fetch_text_rows(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    connection.close().await;
    rows
}

pub fn applied(outcome: Result<ApplyOutcome, EngineError>) {
    match outcome {
        Ok(ApplyOutcome::Applied { .. } | ApplyOutcome::InSync { .. }) => {}
        other => panic!("expected the plan to apply, got {other:?}"),
    }
}

/// A manifest file in a temporary directory.
pub struct ManifestFile {
    _directory: tempfile::TempDir,
    pub path: std::path::PathBuf,
}

pub fn manifest_file(yaml: &str) -> ManifestFile {
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("schema.yaml");
    std::fs::write(&path, yaml).expect("writes manifest");
    ManifestFile {
        _directory: directory,
        path,
    }
}

/// A FoxSchema document with the given policy and tables.
pub fn schema_yaml(policy: &str, tables_yaml: &str) -> String {
    format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  policy: {{{policy}}}\n  tables:\n{tables_yaml}"
    )
}

pub fn fox_command(args: &[&str]) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_fox"));
    command.args(args).env_remove("FOX_DATABASE_URL");
    command
}

pub fn fox(args: &[&str]) -> std::process::Output {
    fox_command(args).output().expect("fox runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
