//! client/examples/quickstart.rs runs as its header says, on every engine: `fox apply` creates
//! the tables of client/examples/quickstart.yaml, then the program prints what it promises.

use std::path::Path;
use std::process::Command;

use fox_e2e::{Backend, TestDatabase};

#[path = "../../client/examples/quickstart.rs"]
#[allow(dead_code)]
mod quickstart;

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
        assert_eq!(
            lines,
            [
                "Ursula K. Le Guin is stored as ursula@example.com",
                "The Dispossessed (1974)",
                "Small Gods (1992)",
                "latest by Ursula K. Le Guin: The Dispossessed",
                "latest by Terry Pratchett: Small Gods",
                "Terry Pratchett is now Sir Terry Pratchett",
                "newest by Sir Terry Pratchett: Night Watch",
                "newest by Ursula K. Le Guin: The Dispossessed",
                "5 books in all",
            ],
            "{engine}"
        );
    }
}
