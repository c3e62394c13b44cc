//! A plan: the typed changes with their safety, the statements implementing them, the seed
//! rows to upsert, and a hash that identifies all of it for approval.

use std::fmt::Write as _;

use foxdb::dialect::dialect_for;
use foxdb::introspect::{canonical_schema, introspect_schema};
use foxdb::schema::Schema;
use foxdb::{Backend, Connection, Value};
use serde::Serialize;
use sha2::{Digest, Sha256};

use fox_crds::ColumnType;
use fox_crds::schema::FoxSchemaSpec;

use super::change::{Change, Safety};
use super::conversion::{Conversion, classify};
use super::desired::desired_schema;
use super::diff::{Renames, plan_changes};
use super::error::EngineError;
use super::render::{Statement, render_changes};
use super::required_index::keep_required_indexes;
use super::seed::{SeedRow, row_is_current, seed_rows, sequence_fix, upsert_statement};

/// A change and whether it can lose data.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedChange {
    /// The change.
    pub change: Change,
    /// Safe, destructive (with why) or impossible (with why).
    pub safety: Safety,
}

/// A seed upsert in a plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeedStatement {
    /// The row.
    pub row: SeedRow,
    /// The upsert.
    pub sql: String,
    /// Its parameters.
    #[serde(skip)]
    pub params: Vec<Value>,
}

/// Everything an apply would do.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Engine.
    pub backend: Backend,
    /// Changes in the order they run.
    pub changes: Vec<PlannedChange>,
    /// Statements in the order they run.
    pub statements: Vec<Statement>,
    /// Seed rows to write, parents first.
    pub seeds: Vec<SeedStatement>,
    /// Statements run after seeding (sequence adjustments).
    pub after_seed: Vec<String>,
    /// Identifies this exact plan (16 hex digits of SHA-256).
    pub hash: String,
    /// The declared schema, in the engine's canonical form.
    pub desired: Schema,
    /// The live schema the plan starts from.
    pub live: Schema,
    /// What the plan deliberately leaves as it is, and why (indexes the engine requires).
    pub notes: Vec<String>,
}

impl Plan {
    /// Whether the database already matches.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.seeds.is_empty()
    }

    /// Destructive changes with their reasons, one line each.
    pub fn destructive(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter_map(|c| match &c.safety {
                Safety::Destructive(why) => Some(format!("{}: {why}", c.change)),
                _ => None,
            })
            .collect()
    }

    /// Changes that cannot be applied, one line each.
    pub fn impossible(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter_map(|c| match &c.safety {
                Safety::Impossible(why) => Some(format!("{}: {why}", c.change)),
                _ => None,
            })
            .collect()
    }

    /// Seed rows the apply upserts, counted per table (tables in name order).
    pub fn seed_rows_per_table(&self) -> std::collections::BTreeMap<&str, usize> {
        let mut per_table = std::collections::BTreeMap::new();
        for seed in &self.seeds {
            *per_table.entry(seed.row.table.as_str()).or_default() += 1;
        }
        per_table
    }

    /// Every SQL statement the apply runs, seeds included (parameters shown as placeholders).
    pub fn all_sql(&self) -> Vec<String> {
        self.statements
            .iter()
            .map(|s| s.sql.clone())
            .chain(self.seeds.iter().map(|s| s.sql.clone()))
            .chain(self.after_seed.iter().cloned())
            .collect()
    }
}

/// Introspects the database behind `connection` and plans the changes to reach `spec`.
///
/// # Errors
/// Database errors, and differences the engine does not apply ([`EngineError::Diff`]).
pub async fn build_plan(
    connection: &mut Connection,
    spec: &FoxSchemaSpec,
) -> Result<Plan, EngineError> {
    let backend = connection.backend();
    let live = introspect_schema(connection).await?;
    let desired = canonical_schema(backend, &desired_schema(spec));
    // Checked before anything runs: MySQL commits DDL as it goes.
    let dialect = dialect_for(backend);
    let problems: Vec<String> = desired
        .tables
        .iter()
        .flat_map(|table| dialect.storage_problems(table))
        .collect();
    if !problems.is_empty() {
        return Err(EngineError::StorageLimits { backend, problems });
    }
    let mut changes = plan_changes(&live, &desired, &Renames::from_spec(spec))?;
    // Turning audit off keeps the records unless destructive changes are allowed.
    for change in &mut changes {
        if let Change::DisableAudit { delete_records, .. } = change {
            *delete_records = spec.policy.allow_destructive;
        }
    }
    // An engine that cannot audit as declared says so before anything runs.
    let audit = dialect.audit_capture();
    let refused: Vec<String> = changes
        .iter()
        .filter_map(|change| match change {
            Change::EnableAudit { table, .. } => table
                .audit
                .as_ref()
                .and_then(|settings| audit.unsupported(settings))
                .map(|feature| {
                    format!("table {}: {backend} does not support {feature}", table.name)
                }),
            _ => None,
        })
        .collect();
    if !refused.is_empty() {
        return Err(EngineError::Impossible { reasons: refused });
    }
    let notes = keep_required_indexes(backend, &desired, &mut changes);
    let names = LiveNames::of(&changes);
    let mut planned = Vec::with_capacity(changes.len());
    for change in changes {
        let safety = assess(connection, &live, &names, &change).await?;
        planned.push(PlannedChange { change, safety });
    }
    let changes: Vec<Change> = planned.iter().map(|p| p.change.clone()).collect();
    let statements = render_changes(backend, &changes, &desired);

    let mut seeds = Vec::new();
    let mut seeded_tables = Vec::new();
    let rows = seed_rows(spec, &desired).map_err(|cycle| EngineError::Impossible {
        reasons: vec![cycle.to_string()],
    })?;
    for row in rows {
        let Some(table) = desired.table(&row.table) else {
            continue;
        };
        // A row touching a table or column this plan creates, renames or retypes cannot be
        // compared yet: it is upserted.
        let unsettled = live.table(&row.table).is_none()
            || names.tables.contains_key(&row.table)
            || row.values.iter().any(|(column, _)| {
                names
                    .unsettled_columns
                    .contains(&(row.table.clone(), column.clone()))
            });
        if !unsettled && row_is_current(connection, table, &row).await? {
            continue;
        }
        let (sql, params) = upsert_statement(backend, table, &row);
        if !seeded_tables.contains(&row.table) {
            seeded_tables.push(row.table.clone());
        }
        seeds.push(SeedStatement { row, sql, params });
    }
    let after_seed = seeded_tables
        .iter()
        .filter_map(|t| {
            desired
                .table(t)
                .and_then(|table| sequence_fix(backend, table))
        })
        .collect();
    let hash = plan_hash(backend, &live, &planned, &statements, &seeds);
    Ok(Plan {
        backend,
        changes: planned,
        statements,
        seeds,
        after_seed,
        hash,
        desired,
        live,
        notes,
    })
}

/// What the tables and columns of a plan are called in the live database before it runs.
#[derive(Debug, Default)]
struct LiveNames {
    /// New table name → live name.
    tables: std::collections::HashMap<String, String>,
    /// (new table name, new column name) → live column name.
    columns: std::collections::HashMap<(String, String), String>,
    /// Columns this plan adds, renames or retypes.
    unsettled_columns: std::collections::HashSet<(String, String)>,
}

impl LiveNames {
    fn of(changes: &[Change]) -> Self {
        let mut names = Self::default();
        for change in changes {
            match change {
                Change::RenameTable { from, table } => {
                    names.tables.insert(table.name.clone(), from.clone());
                }
                Change::RenameColumn {
                    table,
                    from,
                    column,
                } => {
                    names
                        .columns
                        .insert((table.clone(), column.name.clone()), from.clone());
                    names
                        .unsettled_columns
                        .insert((table.clone(), column.name.clone()));
                }
                Change::AddColumn { table, column } => {
                    names
                        .unsettled_columns
                        .insert((table.clone(), column.name.clone()));
                }
                Change::AlterColumn { table, from, to } if from.ty != to.ty => {
                    names
                        .unsettled_columns
                        .insert((table.clone(), to.name.clone()));
                }
                _ => {}
            }
        }
        names
    }

    fn table<'a>(&'a self, table: &'a str) -> &'a str {
        self.tables.get(table).map_or(table, String::as_str)
    }

    fn column<'a>(&'a self, table: &str, column: &'a str) -> &'a str {
        self.columns
            .get(&(table.to_string(), column.to_string()))
            .map_or(column, String::as_str)
    }
}

/// Identifies a plan for approval: the engine, the live schema it was computed from (every
/// table, column, key and index, so a column added after the review changes the hash even when
/// a SQLite rebuild's statements stay the same), each change with what it destroys, the
/// statements and the seed rows. Row counts are left out: rows written by the application
/// between review and apply do not void an approval; schema changes do.
fn plan_hash(
    backend: Backend,
    live: &Schema,
    changes: &[PlannedChange],
    statements: &[Statement],
    seeds: &[SeedStatement],
) -> String {
    let mut hasher = Sha256::new();
    hasher.update(backend.as_str().as_bytes());
    hasher.update(b"\nlive:");
    // Streamed into the hash: at thousands of tables the text is megabytes.
    let _ = write!(HashText(&mut hasher), "{live:?}");
    for planned in changes {
        hasher.update(b"\nchange:");
        hasher.update(planned.change.to_string().as_bytes());
        hasher.update(match planned.safety {
            Safety::Safe => b":safe".as_slice(),
            Safety::Destructive(_) => b":destructive".as_slice(),
            Safety::Impossible(_) => b":impossible".as_slice(),
        });
    }
    for statement in statements {
        hasher.update(b"\n");
        hasher.update(statement.sql.as_bytes());
    }
    for seed in seeds {
        hasher.update(b"\n");
        hasher.update(seed.sql.as_bytes());
        hasher.update(format!("{:?}", seed.params).as_bytes());
    }
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Text written straight into a hash.
struct HashText<'a>(&'a mut Sha256);

impl std::fmt::Write for HashText<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0.update(text.as_bytes());
        Ok(())
    }
}

/// What an approval given for a declared resource is bound to besides the plan: the database
/// the plan goes to and the generation of the resource that declared it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApprovalScope {
    /// Identifies the target database (the operator uses a digest of the FoxReplicaSet, the
    /// primary's host and port, and the database name).
    pub target: String,
    /// `metadata.generation` of the declaring resource.
    pub generation: Option<i64>,
}

/// The hash a person approves for `plan_hash` within `scope`: an approval reviewed for one
/// database, or for one generation of the manifest, approves nothing else, even when the plan
/// itself would be the same.
pub fn approval_hash(plan_hash: &str, scope: &ApprovalScope) -> String {
    let mut hasher = Sha256::new();
    hasher.update(plan_hash.as_bytes());
    hasher.update(b"\ntarget:");
    hasher.update(scope.target.as_bytes());
    hasher.update(b"\ngeneration:");
    hasher.update(format!("{:?}", scope.generation).as_bytes());
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

async fn count(connection: &mut Connection, sql: &str) -> Result<i64, EngineError> {
    Ok(connection.fetch_i64(sql, &[]).await?)
}

fn count_cast(backend: Backend) -> &'static str {
    dialect_for(backend).integer_cast_type()
}

async fn row_count(connection: &mut Connection, table: &str) -> Result<i64, EngineError> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    count(
        connection,
        &format!(
            "SELECT CAST(COUNT(*) AS {}) FROM {}",
            count_cast(backend),
            dialect.quote(table)
        ),
    )
    .await
}

fn rows(n: i64) -> String {
    if n == 1 {
        "1 row".into()
    } else {
        format!("{n} rows")
    }
}

/// Decides whether a change can lose data, looking at the rows it touches.
async fn assess(
    connection: &mut Connection,
    live: &Schema,
    names: &LiveNames,
    change: &Change,
) -> Result<Safety, EngineError> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    Ok(match change {
        Change::DropTable { table } => {
            let n = row_count(connection, &table.name).await?;
            Safety::Destructive(format!("drops the table and its {}", rows(n)))
        }
        Change::DropColumn { table, .. } => {
            let n = row_count(connection, names.table(table)).await?;
            Safety::Destructive(format!("drops the column and its values in {}", rows(n)))
        }
        Change::AddColumn { table, column } => {
            let live_table = names.table(table);
            if column.nullable
                || column.default.is_some()
                || column.ty.is_auto_increment()
                || live.table(live_table).is_none()
            {
                Safety::Safe
            } else {
                let n = row_count(connection, live_table).await?;
                if n == 0 {
                    Safety::Safe
                } else {
                    Safety::Impossible(format!(
                        "a NOT NULL column without a default cannot be added to a table holding {}; give it a default or make it nullable",
                        rows(n)
                    ))
                }
            }
        }
        Change::AlterColumn { table, from, to } => {
            let live_table = names.table(table);
            let live_column = names.column(table, &from.name);
            let mut verdict = Safety::Safe;
            if let (ColumnType::Enum(old), ColumnType::Enum(new)) = (&from.ty, &to.ty) {
                // Only rows holding a removed label are at stake; count those, not the table.
                let removed: Vec<&String> = old.iter().filter(|l| !new.contains(l)).collect();
                if !removed.is_empty() {
                    let labels: Vec<String> =
                        removed.iter().map(|l| dialect.string_literal(l)).collect();
                    let holding = count(
                        connection,
                        &format!(
                            "SELECT CAST(COUNT(*) AS {}) FROM {} WHERE {} IN ({})",
                            count_cast(backend),
                            dialect.quote(live_table),
                            dialect.quote(live_column),
                            labels.join(", ")
                        ),
                    )
                    .await?;
                    if holding > 0 {
                        return Ok(Safety::Impossible(format!(
                            "removed labels ({}) are held by {}; update those rows to a declared label first",
                            labels.join(", "),
                            rows(holding)
                        )));
                    }
                }
            } else if from.ty != to.ty {
                match classify(&from.ty, &to.ty) {
                    Conversion::Widening => {}
                    Conversion::Narrowing(why) => {
                        let n = row_count(connection, live_table).await?;
                        if n > 0 {
                            verdict =
                                Safety::Destructive(format!("{why} ({} to convert)", rows(n)));
                        }
                    }
                    Conversion::Impossible(why) => return Ok(Safety::Impossible(why)),
                }
            }
            if from.nullable && !to.nullable {
                let nulls = count(
                    connection,
                    &format!(
                        "SELECT CAST(COUNT(*) AS {}) FROM {} WHERE {} IS NULL",
                        count_cast(backend),
                        dialect.quote(live_table),
                        dialect.quote(live_column)
                    ),
                )
                .await?;
                if nulls > 0 {
                    match &to.default {
                        Some(default) => {
                            let why = format!(
                                "replaces NULL with the default {default} in {}",
                                rows(nulls)
                            );
                            verdict = match verdict {
                                Safety::Destructive(other) => {
                                    Safety::Destructive(format!("{other}; {why}"))
                                }
                                _ => Safety::Destructive(why),
                            };
                        }
                        None => {
                            return Ok(Safety::Impossible(format!(
                                "{} hold NULL; give the column a default or fill them before making it NOT NULL",
                                rows(nulls)
                            )));
                        }
                    }
                }
            }
            verdict
        }
        Change::DisableAudit {
            table,
            delete_records: true,
            ..
        } => {
            let n = audit_record_count(connection, names.table(table)).await?;
            Safety::Destructive(format!("deletes its {} audit record(s)", n))
        }
        _ => Safety::Safe,
    })
}

/// How many audit records `table` has.
async fn audit_record_count(connection: &mut Connection, table: &str) -> Result<i64, EngineError> {
    let backend = connection.backend();
    let dialect = dialect_for(backend);
    count(
        connection,
        &format!(
            "SELECT CAST(COUNT(*) AS {}) FROM {} WHERE {} = {}",
            count_cast(backend),
            dialect.quote(foxdb::audit::AUDIT_LOG),
            dialect.quote("table_name"),
            dialect.string_literal(table)
        ),
    )
    .await
}

#[cfg(test)]
mod approval_tests {
    use super::*;

    #[test]
    fn an_approval_is_bound_to_its_database_and_generation() {
        let scope = ApprovalScope {
            target: "db-a".into(),
            generation: Some(3),
        };
        let approved = approval_hash("0123456789abcdef", &scope);
        assert_eq!(approved.len(), 16);
        assert_ne!(approved, "0123456789abcdef", "not the bare plan hash");
        assert_eq!(approved, approval_hash("0123456789abcdef", &scope.clone()));
        let other_database = ApprovalScope {
            target: "db-b".into(),
            ..scope.clone()
        };
        let next_generation = ApprovalScope {
            generation: Some(4),
            ..scope.clone()
        };
        assert_ne!(approved, approval_hash("0123456789abcdef", &other_database));
        assert_ne!(
            approved,
            approval_hash("0123456789abcdef", &next_generation)
        );
        assert_ne!(approved, approval_hash("fedcba9876543210", &scope));
    }
}
