//! `FoxMigration::validate`.

use crate::migration::{FoxMigration, MAX_MIGRATION_NAME_CHARS};
use crate::tenants_validation::tenant_name_problem;
use crate::validation::{Problems, ValidationError, dns_label_problem};

impl FoxMigration {
    /// Checks that the migration has a body, a name and a valid database reference.
    ///
    /// # Errors
    /// Every problem found, each with its field path.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut problems = Problems::default();
        if let Some(name) = self.metadata.name.as_deref()
            && let Some(problem) = dns_label_problem(name)
        {
            problems.add("metadata.name", problem);
        }
        let spec = &self.spec;
        if let Some(problem) = dns_label_problem(&spec.database_ref.name) {
            problems.add("spec.databaseRef.name", problem);
        }
        if spec.version == 0 {
            problems.add("spec.version", "version must be 1 or greater");
        }
        if spec.name.trim().is_empty() {
            problems.add("spec.name", "name must not be empty");
        }
        let name_chars = spec.name.chars().count();
        if name_chars > MAX_MIGRATION_NAME_CHARS {
            problems.add(
                "spec.name",
                format!(
                    "name is {name_chars} characters long; the migration history keeps at most {MAX_MIGRATION_NAME_CHARS}"
                ),
            );
        }
        let has_sql = spec.up.as_deref().is_some_and(|s| !s.trim().is_empty());
        let has_commands = spec.up_commands.as_ref().is_some_and(|c| !c.is_empty());
        match (has_sql, has_commands) {
            (false, false) => problems.add(
                "spec.up",
                "a migration needs `up` (SQL) or `upCommands` (MongoDB)",
            ),
            (true, true) => problems.add(
                "spec.upCommands",
                "give either `up` (SQL) or `upCommands` (MongoDB), not both",
            ),
            _ => {}
        }
        if has_sql && spec.down_commands.is_some() {
            problems.add(
                "spec.downCommands",
                "a SQL migration rolls back with `down`",
            );
        }
        if has_commands && spec.down.is_some() {
            problems.add(
                "spec.down",
                "a MongoDB migration rolls back with `downCommands`",
            );
        }
        if let Some(imported) = &spec.imported_from {
            if imported.version.trim().is_empty() {
                problems.add(
                    "spec.importedFrom.version",
                    "the tool's version of the migration must not be empty",
                );
            }
            match (imported.tool.keeps_checksums(), &imported.checksum) {
                (true, None) => problems.add(
                    "spec.importedFrom.checksum",
                    format!(
                        "{} records a checksum of every migration: give the one of this `up` text (`fox import migrations` writes it)",
                        imported.tool
                    ),
                ),
                (false, Some(_)) => problems.add(
                    "spec.importedFrom.checksum",
                    format!("{} keeps no checksum: leave it out", imported.tool),
                ),
                _ => {}
            }
            if !has_sql {
                problems.add(
                    "spec.importedFrom",
                    "only SQL migrations (`up`) are imported from another tool",
                );
            }
        }
        if let Some(tenants) = &spec.tenants {
            // Both, or neither.
            let named = !tenants.names.is_empty();
            if tenants.all == named {
                problems.add(
                    "spec.tenants",
                    "give `all: true` (every tenant of the FoxSchema listing the tenants of databaseRef) or `names`, one of them",
                );
            }
            for (index, name) in tenants.names.iter().enumerate() {
                if let Some(problem) = tenant_name_problem(name) {
                    problems.add(format!("spec.tenants.names[{index}]"), problem);
                }
                if tenants.names[..index].contains(name) {
                    problems.add(
                        format!("spec.tenants.names[{index}]"),
                        format!("tenant {name} is listed twice"),
                    );
                }
            }
            if has_commands {
                problems.add(
                    "spec.tenants",
                    "tenants apply to SQL migrations (`up`); MongoDB has no schema or database per tenant in FoxDB",
                );
            }
        }
        problems.into_result()
    }
}
