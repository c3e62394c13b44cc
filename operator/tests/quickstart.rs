//! client/examples/quickstart.rs runs as its header says, on every engine: `fox apply` creates
//! the tables of client/examples/quickstart.yaml, then the program prints what docs/client.md
//! shows after `cargo run -q -p foxdb --example quickstart`.

use std::path::Path;
use std::process::Command;

use fox_e2e::{Backend, TestDatabase};

#[path = "../../client/examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

/// The lines docs/client.md shows the example printing.
fn printed_in_the_guide() -> Vec<String> {
    let page = include_str!("../../docs/client.md");
    let block = page
        .split("$ cargo run -q -p foxdb --example quickstart -- sqlite://quickstart.sqlite\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/client.md shows the quickstart's output");
    block.lines().map(str::to_string).collect()
}

#[tokio::test]
async fn quickstart_runs_on_the_schema_fox_apply_creates() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../client/examples/quickstart.yaml");
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let applied = Command::new(env!("CARGO_BIN_EXE_fox"))
            .arg("apply")
            .arg("-f")
            .arg(&schema)
            .args(["--database", database.url()])
            .output()
            .expect("runs fox");
        assert!(
            applied.status.success(),
            "{engine}: fox apply failed:\n{}{}",
            String::from_utf8_lossy(&applied.stdout),
            String::from_utf8_lossy(&applied.stderr)
        );
        let lines = quickstart::run(database.url())
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        assert_eq!(lines, printed_in_the_guide(), "{engine}");
    }
}
