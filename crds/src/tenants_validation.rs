//! Checks of `spec.tenants` (see [`crate::tenants`]).

use std::collections::HashMap;

use crate::schema::FoxSchemaSpec;
use crate::validation::Problems;

/// Longest tenant name: a PostgreSQL identifier.
const MAX_TENANT_NAME: usize = 63;

/// Why `name` cannot name a tenant's schema or database, if it cannot.
pub(crate) fn tenant_name_problem(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= MAX_TENANT_NAME
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (!valid).then(|| {
        format!(
            "tenant name \"{}\" is not 1 to 63 lower-case letters, digits and `_` starting with a letter or `_` (it names a schema or database)",
            name.escape_debug()
        )
    })
}

/// `spec.tenants`: valid, unique names; one strategy; nothing the tenant apply cannot do.
pub(crate) fn validate_tenants(spec: &FoxSchemaSpec, problems: &mut Problems) {
    let Some(tenants) = &spec.tenants else {
        return;
    };
    if tenants.schemas.is_empty() && tenants.databases.is_empty() {
        problems.add(
            "spec.tenants",
            "lists no tenant; list `schemas` or `databases`, or remove `tenants` to apply to the database of databaseRef",
        );
    }
    if !tenants.schemas.is_empty() && !tenants.databases.is_empty() {
        problems.add(
            "spec.tenants",
            "lists both `schemas` and `databases`; a FoxSchema uses one strategy (declare the other tenants with a second FoxSchema)",
        );
    }
    if !spec.collections.is_empty() {
        problems.add(
            "spec.tenants",
            "tenants of MongoDB collections are not supported; list tenants on a FoxSchema of tables",
        );
    }
    if spec.policy.require_approval {
        problems.add(
            "spec.tenants",
            "policy.requireApproval is not supported with tenants (each tenant has its own plan); approve per tenant with `fox apply --approve` on its URL, or turn requireApproval off",
        );
    }
    let mut seen: HashMap<&str, String> = HashMap::new();
    let names = tenants
        .schemas
        .iter()
        .enumerate()
        .map(|(i, name)| (format!("spec.tenants.schemas[{i}]"), name.as_str()))
        .chain(
            tenants
                .databases
                .iter()
                .enumerate()
                .map(|(i, d)| (format!("spec.tenants.databases[{i}].name"), d.name.as_str())),
        );
    for (path, name) in names {
        if let Some(problem) = tenant_name_problem(name) {
            problems.add(&path, problem);
        }
        if let Some(first) = seen.insert(name, path.clone()) {
            problems.add(
                &path,
                format!("tenant \"{name}\" is listed twice (also {first})"),
            );
        }
    }
    for (i, database) in tenants.databases.iter().enumerate() {
        if database.connection.name.is_empty() {
            problems.add(
                format!("spec.tenants.databases[{i}].connection.name"),
                "names no Secret; give the Secret holding the tenant database's URL",
            );
        }
    }
}
