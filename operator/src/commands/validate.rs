//! `fox validate`: check manifests without a cluster.

use std::path::PathBuf;
use std::process::ExitCode;

use fox_crds::manifest::{ManifestSet, Resource, load_manifests};

/// Validates every manifest under `paths`, prints each problem and a summary.
///
/// Exit code 0 when everything is valid, 1 on any problem.
///
/// # Errors
/// When a path cannot be read.
pub fn run(paths: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let set = load_manifests(paths)?;
    let report = validate_set(&set);
    for line in &report.problems {
        println!("{line}");
    }
    for line in &report.notes {
        eprintln!("note: {line}");
    }
    if report.problems.is_empty() {
        println!(
            "fox validate: {} valid ({})",
            plural(report.checked.len(), "resource"),
            report.checked.join(", ")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "fox validate: {} found",
            plural(report.problems.len(), "problem")
        );
        Ok(ExitCode::from(1))
    }
}

/// What validating a set of manifests found.
#[derive(Debug, Default)]
pub struct ValidationReport {
    /// Problems, one line each, with file, object and field path.
    pub problems: Vec<String>,
    /// Things worth knowing that are not errors (a reference to an object not in the files).
    pub notes: Vec<String>,
    /// `Kind/name` of every FoxDB resource that passed.
    pub checked: Vec<String>,
}

/// Validates a loaded set, including references between the resources in it.
pub fn validate_set(set: &ManifestSet) -> ValidationReport {
    let mut report = ValidationReport {
        problems: set.problems.iter().map(ToString::to_string).collect(),
        ..ValidationReport::default()
    };
    for document in &set.documents {
        let name = |meta: &kube::core::ObjectMeta| meta.name.clone().unwrap_or_default();
        match &document.resource {
            Resource::ReplicaSet(rs) => {
                report
                    .checked
                    .push(format!("FoxReplicaSet/{}", name(&rs.metadata)));
                let secrets =
                    std::iter::once(("spec.primary.connection".to_string(), &rs.spec.primary))
                        .chain(
                            rs.spec.replicas.iter().enumerate().map(|(i, member)| {
                                (format!("spec.replicas[{i}].connection"), member)
                            }),
                        )
                        .map(|(path, m)| (path, &m.connection.name))
                        .chain(
                            rs.spec
                                .cache
                                .as_ref()
                                .map(|c| ("spec.cache.redis".to_string(), &c.redis.name)),
                        );
                for (path, secret) in secrets {
                    if !set
                        .secrets()
                        .any(|s| s.metadata.name.as_ref() == Some(secret))
                    {
                        report.notes.push(format!(
                            "{}: FoxReplicaSet/{} uses Secret \"{secret}\", which is not in these files (it must exist in the cluster)",
                            document.origin.at(&path),
                            name(&rs.metadata)
                        ));
                    }
                }
            }
            Resource::Schema(schema) => {
                report
                    .checked
                    .push(format!("FoxSchema/{}", name(&schema.metadata)));
                let target = &schema.spec.database_ref.name;
                match set.replica_sets().find(|(_, rs)| rs.metadata.name.as_ref() == Some(target)) {
                    Some((_, rs)) if rs.spec.engine.is_sql() && !schema.spec.collections.is_empty() => {
                        report.problems.push(format!(
                            "{}: FoxSchema/{}: spec.collections: FoxReplicaSet/{target} is {}, which has tables, not collections",
                            document.origin.at("spec.collections"), name(&schema.metadata), rs.spec.engine
                        ));
                    }
                    Some((_, rs)) if !rs.spec.engine.is_sql() && !schema.spec.tables.is_empty() => {
                        report.problems.push(format!(
                            "{}: FoxSchema/{}: spec.tables: FoxReplicaSet/{target} is mongodb, which has collections, not tables",
                            document.origin.at("spec.tables"), name(&schema.metadata)
                        ));
                    }
                    Some(_) => {}
                    None => report.notes.push(format!(
                        "{}: FoxSchema/{} targets FoxReplicaSet \"{target}\", which is not in these files",
                        document.origin.at("spec.databaseRef"),
                        name(&schema.metadata)
                    )),
                }
            }
            Resource::Migration(migration) => {
                report
                    .checked
                    .push(format!("FoxMigration/{}", name(&migration.metadata)));
            }
            Resource::Secret(_) | Resource::Other { .. } => {}
        }
    }
    // One FoxSchema declares a database (see engine::ownership): a second one on the same
    // FoxReplicaSet would plan the first one's tables as undeclared.
    let mut owners = std::collections::HashMap::new();
    for (origin, schema) in set.schemas() {
        let key = (
            schema.metadata.namespace.clone().unwrap_or_default(),
            schema.spec.database_ref.name.clone(),
        );
        let name = schema.metadata.name.clone().unwrap_or_default();
        if let Some((first_name, first_origin)) = owners.get(&key) {
            report.problems.push(format!(
                "{origin}: FoxSchema/{name}: spec.databaseRef.name: FoxSchema/{first_name} ({first_origin}) already declares database \"{}\"; a database is declared by one FoxSchema (merge their tables into one)",
                key.1
            ));
        } else {
            owners.insert(key, (name, origin.to_string()));
        }
    }
    let mut versions = std::collections::HashMap::new();
    for (origin, migration) in set.migrations() {
        let key = (
            migration.spec.database_ref.name.clone(),
            migration.spec.version,
        );
        if let Some(first) = versions.insert(key, origin.at("spec.version")) {
            report.problems.push(format!(
                "{}: FoxMigration/{}: spec.version: version {} for database \"{}\" is also used at {first}",
                origin.at("spec.version"),
                migration.metadata.name.clone().unwrap_or_default(),
                migration.spec.version,
                migration.spec.database_ref.name
            ));
        }
    }
    report
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}
