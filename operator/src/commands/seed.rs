//! `fox seed`: upsert the `seed` rows of FoxSchemas without changing the schema.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::target::{load_valid_manifests, resolve_targets};
use crate::engine::seed_schema;

/// Upserts the seed rows of every FoxSchema under `paths` that differ from the database.
///
/// # Errors
/// Invalid manifests, unreachable databases, failed upserts (nothing written on PostgreSQL and
/// SQLite).
pub async fn run(paths: &[PathBuf], database: Option<&str>) -> anyhow::Result<ExitCode> {
    let set = load_valid_manifests(paths)?;
    for target in resolve_targets(&set, database)? {
        let timeout =
            Duration::from_secs(u64::from(target.schema.spec.policy.lock_timeout_seconds));
        let written = seed_schema(&target.url, &target.schema.spec, timeout)
            .await
            .map_err(|e| anyhow::anyhow!("FoxSchema/{}: {e}", target.schema_name()))?;
        println!(
            "FoxSchema/{} → {} {}: {written} seed row(s) upserted",
            target.schema_name(),
            target.url.backend(),
            target.url.location()
        );
    }
    Ok(ExitCode::SUCCESS)
}
