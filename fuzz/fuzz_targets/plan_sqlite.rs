//! A schema built from the bytes is planned, applied to an empty SQLite database and planned
//! again: no panic, no error, nothing left to change.
#![no_main]

use std::sync::atomic::{AtomicU64, Ordering};

use fox_operator::fuzz_targets::{plan_apply_replan, schema_from_bytes};
use libfuzzer_sys::fuzz_target;

static RUNS: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let spec = schema_from_bytes(data);
    let directory = std::env::temp_dir().join(format!("fox-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let path = directory.join(format!("{}.sqlite", RUNS.fetch_add(1, Ordering::Relaxed)));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let outcome = runtime.block_on(plan_apply_replan(&spec, &path));
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if let Err(problem) = outcome {
        panic!("{problem}");
    }
});
