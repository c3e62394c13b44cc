//! `FoxSchema::validate`: every problem of a schema declaration at once.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::column_type::ColumnType;
use crate::conventions::{default_foreign_key, default_index_name, default_join_table};
use crate::identifier::{folded, identifier_problem, reserved_name_problem};
use crate::rename_validation::validate_previous_names;
use crate::scalar::Scalar;
use crate::schema::{
    ColumnSpec, FoxSchema, FoxSchemaSpec, ReferentialAction, RelationKind, TableSpec,
};
use crate::seed_validation::validate_seed_keys;
use crate::validation::{Problems, ValidationError, dns_label_problem};
use crate::value_validation::{default_problem, seed_value_problem};

pub use crate::value_validation::DEFAULT_EXPRESSIONS;

impl FoxSchema {
    /// Checks the schema for everything the API server cannot: unknown types, duplicate
    /// names, references to missing tables or columns, foreign key type mismatches, missing
    /// primary keys, names no engine can hold, bad enum and decimal arguments, seed rows that
    /// cannot be upserted.
    ///
    /// # Errors
    /// Every problem found, each with its field path, in declaration order.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let mut problems = Problems::default();
        if let Some(name) = self.metadata.name.as_deref()
            && let Some(problem) = dns_label_problem(name)
        {
            problems.add("metadata.name", problem);
        }
        validate_spec(&self.spec, &mut problems);
        problems.into_result()
    }
}

/// What validation learned about one declared table, used for cross-table checks.
struct TableFacts<'a> {
    spec: &'a TableSpec,
    types: HashMap<String, Option<ColumnType>>,
    primary_key: Vec<String>,
    single_unique: HashSet<String>,
}

impl<'a> TableFacts<'a> {
    fn new(spec: &'a TableSpec) -> Self {
        let types = spec
            .columns
            .iter()
            .map(|c| (c.name.clone(), c.type_.parse::<ColumnType>().ok()))
            .collect();
        let primary_key = declared_primary_key(spec);
        let mut single_unique: HashSet<String> = spec
            .columns
            .iter()
            .filter(|c| c.unique)
            .map(|c| c.name.clone())
            .collect();
        for index in spec.indexes.iter().filter(|i| i.unique) {
            if let [only] = index.columns.as_slice() {
                single_unique.insert(only.clone());
            }
        }
        if let [only] = primary_key.as_slice() {
            single_unique.insert(only.clone());
        }
        Self {
            spec,
            types,
            primary_key,
            single_unique,
        }
    }

    fn has_column(&self, name: &str) -> bool {
        self.types.contains_key(name)
    }

    fn column_type(&self, name: &str) -> Option<&ColumnType> {
        self.types.get(name).and_then(Option::as_ref)
    }

    fn column(&self, name: &str) -> Option<&'a ColumnSpec> {
        self.spec.columns.iter().find(|c| c.name == name)
    }
}

/// The primary key as declared: the table-level list, else the columns marked `primaryKey`.
pub fn declared_primary_key(table: &TableSpec) -> Vec<String> {
    match &table.primary_key {
        Some(columns) => columns.clone(),
        None => table
            .columns
            .iter()
            .filter(|c| c.primary_key)
            .map(|c| c.name.clone())
            .collect(),
    }
}

fn validate_spec(spec: &FoxSchemaSpec, problems: &mut Problems) {
    if let Some(problem) = dns_label_problem(&spec.database_ref.name) {
        problems.add("spec.databaseRef.name", problem);
    }
    match (spec.tables.is_empty(), spec.collections.is_empty()) {
        (false, false) => problems.add(
            "spec",
            "declares both tables and collections; a FoxSchema targets either a SQL database (tables) or MongoDB (collections)",
        ),
        (true, true) => problems.add(
            "spec",
            "declares no tables and no collections; an empty schema would drop everything",
        ),
        _ => {}
    }

    let mut table_names: HashMap<String, usize> = HashMap::new();
    for (i, table) in spec.tables.iter().enumerate() {
        let path = format!("spec.tables[{i}]");
        check_name(&format!("{path}.name"), &table.name, problems);
        if let Some(problem) = reserved_name_problem(&table.name) {
            problems.add(format!("{path}.name"), problem);
        }
        if let Some(first) = table_names.insert(folded(&table.name), i) {
            problems.add(
                format!("{path}.name"),
                format!(
                    "duplicate table name \"{}\" (also spec.tables[{first}]; names are compared case-insensitively)",
                    table.name
                ),
            );
        }
    }
    validate_previous_names(spec, problems);
    crate::tenants_validation::validate_tenants(spec, problems);

    let facts: BTreeMap<String, TableFacts<'_>> = spec
        .tables
        .iter()
        .map(|t| (t.name.clone(), TableFacts::new(t)))
        .collect();
    let mut index_names: HashMap<String, String> = HashMap::new();
    let mut foreign_key_names: HashMap<String, String> = HashMap::new();
    for (i, table) in spec.tables.iter().enumerate() {
        validate_table(
            &format!("spec.tables[{i}]"),
            table,
            &facts,
            &mut index_names,
            &mut foreign_key_names,
            problems,
        );
    }
    crate::collection_validation::validate_collections(spec, problems);
    validate_seed(spec, &facts, problems);
    let primary_keys = facts
        .iter()
        .map(|(name, table)| (name.clone(), table.primary_key.clone()))
        .collect();
    validate_seed_keys(spec, &primary_keys, problems);
}

fn check_name(path: &str, name: &str, problems: &mut Problems) {
    if let Some(problem) = identifier_problem(name) {
        problems.add(path, problem);
    }
}

fn validate_table(
    path: &str,
    table: &TableSpec,
    facts: &BTreeMap<String, TableFacts<'_>>,
    index_names: &mut HashMap<String, String>,
    foreign_key_names: &mut HashMap<String, String>,
    problems: &mut Problems,
) {
    let Some(own) = facts.get(&table.name) else {
        return;
    };
    if table.columns.is_empty() {
        problems.add(
            format!("{path}.columns"),
            "a table needs at least one column",
        );
    }
    let mut column_names: HashMap<String, usize> = HashMap::new();
    for (j, column) in table.columns.iter().enumerate() {
        let column_path = format!("{path}.columns[{j}]");
        check_name(&format!("{column_path}.name"), &column.name, problems);
        if let Some(first) = column_names.insert(folded(&column.name), j) {
            problems.add(
                format!("{column_path}.name"),
                format!(
                    "duplicate column name \"{}\" (also {path}.columns[{first}])",
                    column.name
                ),
            );
        }
        if let Some(problem) = &column.compact_problem {
            problems.add(column_path, problem.clone());
            continue;
        }
        let ty = match column.type_.parse::<ColumnType>() {
            Ok(ty) => Some(ty),
            Err(error) => {
                let mut message = error.to_string();
                // `{name: total, type: decimal(12,2)}`: in a flow mapping the comma ends the value.
                if column.type_.contains('(') && !column.type_.contains(')') {
                    message.push_str(
                        "; in a flow mapping `{...}` a comma ends the value, so quote types with commas: `type: \"decimal(12,2)\"`",
                    );
                }
                problems.add(format!("{column_path}.type"), message);
                None
            }
        };
        if matches!(column.default, Some(Scalar::Null)) && !column.nullable {
            problems.add(
                format!("{column_path}.default"),
                format!("\"{}\" is NOT NULL and cannot default to null; remove the default or make it nullable", column.name),
            );
        }
        if let (Some(ty), Some(default)) = (&ty, &column.default)
            && let Some(problem) = default_problem(ty, default)
        {
            problems.add(format!("{column_path}.default"), problem);
        }
        if let Some(ty) = &ty
            && ty.is_auto_increment()
            && column.default.is_some()
        {
            problems.add(
                format!("{column_path}.default"),
                format!("a {ty} column takes its values from a sequence and cannot have a default"),
            );
        }
        if let Some(reference) = &column.references {
            if let Some(name) = &reference.name {
                let name_path = format!("{column_path}.references.name");
                check_name(&name_path, name, problems);
                if let Some(problem) = reserved_name_problem(name) {
                    problems.add(name_path.clone(), problem);
                }
                // MySQL keeps constraint names per database.
                if let Some(other) = foreign_key_names.insert(folded(name), name_path.clone()) {
                    problems.add(
                        name_path,
                        format!("foreign key name \"{name}\" is already used by {other}; foreign key names are unique per database"),
                    );
                }
            }
            validate_reference(
                &format!("{column_path}.references"),
                column,
                ty.as_ref(),
                &reference.table,
                reference.column.as_deref(),
                reference.on_delete,
                facts,
                problems,
            );
        }
    }

    validate_primary_key(path, table, own, problems);
    validate_tenant_column(path, table, problems);
    validate_realtime_retention(path, table, problems);

    for (k, index) in table.indexes.iter().enumerate() {
        let index_path = format!("{path}.indexes[{k}]");
        if index.columns.is_empty() {
            problems.add(
                format!("{index_path}.columns"),
                "an index needs at least one column",
            );
        }
        let mut seen = HashSet::new();
        for (c, column) in index.columns.iter().enumerate() {
            if !own.has_column(column) {
                problems.add(
                    format!("{index_path}.columns[{c}]"),
                    format!(
                        "column \"{column}\" is not declared in table \"{}\"",
                        table.name
                    ),
                );
            }
            if !seen.insert(column) {
                problems.add(
                    format!("{index_path}.columns[{c}]"),
                    format!("column \"{column}\" appears twice in the index"),
                );
            }
        }
        let name = match &index.name {
            Some(name) => {
                check_name(&format!("{index_path}.name"), name, problems);
                if let Some(problem) = reserved_name_problem(name) {
                    problems.add(format!("{index_path}.name"), problem);
                }
                name.clone()
            }
            None => default_index_name(&table.name, &index.columns, index.unique),
        };
        // PostgreSQL and SQLite keep index names per schema, not per table.
        if let Some(other) = index_names.insert(folded(&name), index_path.clone()) {
            problems.add(
                format!("{index_path}.name"),
                format!("index name \"{name}\" is already used by {other}; index names are unique per database"),
            );
        }
    }

    let mut relation_names: HashSet<String> = HashSet::new();
    for (r, relation) in table.relations.iter().enumerate() {
        let relation_path = format!("{path}.relations[{r}]");
        check_name(&format!("{relation_path}.name"), &relation.name, problems);
        if own.has_column(&relation.name) {
            problems.add(
                format!("{relation_path}.name"),
                format!(
                    "relation \"{}\" has the name of a column; the client needs distinct names",
                    relation.name
                ),
            );
        }
        if !relation_names.insert(folded(&relation.name)) {
            problems.add(
                format!("{relation_path}.name"),
                format!("duplicate relation name \"{}\"", relation.name),
            );
        }
        validate_relation(&relation_path, table, own, relation, facts, problems);
    }

    for (f, field) in table.audit.exclude_fields.iter().enumerate() {
        if !own.has_column(field) {
            problems.add(
                format!("{path}.audit.excludeFields[{f}]"),
                format!(
                    "column \"{field}\" is not declared in table \"{}\"",
                    table.name
                ),
            );
        }
    }
}

/// `tenantColumn`: a NOT NULL text column of the table, outside any former name of a
/// column (the policy and the clients name it as declared).
/// A retention needs capture (it would be ignored otherwise) and at least a day.
fn validate_realtime_retention(path: &str, table: &TableSpec, problems: &mut Problems) {
    let Some(days) = table.realtime_retention_days else {
        return;
    };
    if !table.realtime {
        problems.add(
            format!("{path}.realtimeRetentionDays"),
            "a retention of the change log needs realtime: true on the table (nothing is captured without it)",
        );
    }
    if days == 0 {
        problems.add(
            format!("{path}.realtimeRetentionDays"),
            "a retention of 0 days would delete changes before subscribers see them: use at least 1",
        );
    }
}

fn validate_tenant_column(path: &str, table: &TableSpec, problems: &mut Problems) {
    let Some(tenant) = &table.tenant_column else {
        return;
    };
    let field = format!("{path}.tenantColumn");
    let Some(column) = table.columns.iter().find(|c| &c.name == tenant) else {
        problems.add(
            field,
            format!(
                "tenant column \"{tenant}\" is not a column of table \"{}\"",
                table.name
            ),
        );
        return;
    };
    if column.nullable {
        problems.add(
            field.clone(),
            format!("tenant column \"{tenant}\" must be NOT NULL: every row belongs to a tenant (remove `nullable: true`)"),
        );
    }
    if let Ok(ty) = column.type_.parse::<ColumnType>()
        && !matches!(
            ty,
            ColumnType::Char(_) | ColumnType::Varchar(_) | ColumnType::Text
        )
    {
        problems.add(
            field,
            format!("tenant column \"{tenant}\" is {ty}: tenant ids are text (use varchar(n), char(n) or text)"),
        );
    }
}

fn validate_primary_key(
    path: &str,
    table: &TableSpec,
    own: &TableFacts<'_>,
    problems: &mut Problems,
) {
    let column_level = table.columns.iter().any(|c| c.primary_key);
    if table.primary_key.is_some() && column_level {
        problems.add(
            format!("{path}.primaryKey"),
            "primary key declared both on the table and on columns; use one form",
        );
    }
    if own.primary_key.is_empty() {
        problems.add(
            format!("{path}.primaryKey"),
            format!(
                "table \"{}\" has no primary key; mark a column `primaryKey: true` or list columns in `primaryKey`",
                table.name
            ),
        );
    }
    let mut seen = HashSet::new();
    for (k, column) in own.primary_key.iter().enumerate() {
        let key_path = if table.primary_key.is_some() {
            format!("{path}.primaryKey[{k}]")
        } else {
            format!("{path}.primaryKey")
        };
        if !seen.insert(column) {
            problems.add(
                &key_path,
                format!("column \"{column}\" appears twice in the primary key"),
            );
        }
        match own.column(column) {
            None => problems.add(
                &key_path,
                format!(
                    "column \"{column}\" is not declared in table \"{}\"",
                    table.name
                ),
            ),
            Some(spec) if spec.nullable => problems.add(
                &key_path,
                format!("primary key column \"{column}\" cannot be nullable"),
            ),
            Some(_) => {}
        }
    }
    for (j, column) in table.columns.iter().enumerate() {
        let is_serial = own
            .column_type(&column.name)
            .is_some_and(ColumnType::is_auto_increment);
        if is_serial && own.primary_key.as_slice() != [column.name.clone()] {
            problems.add(
                format!("{path}.columns[{j}].type"),
                format!(
                    "\"{}\" is {}, which must be the table's only primary key column (SQLite and MySQL auto-increment only such a column)",
                    column.name, column.type_
                ),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn validate_reference(
    path: &str,
    column: &ColumnSpec,
    column_type: Option<&ColumnType>,
    target_table: &str,
    target_column: Option<&str>,
    on_delete: ReferentialAction,
    facts: &BTreeMap<String, TableFacts<'_>>,
    problems: &mut Problems,
) {
    let Some(target) = facts.get(target_table) else {
        problems.add(
            format!("{path}.table"),
            format!("table \"{target_table}\" is not declared in this schema"),
        );
        return;
    };
    let target_column = match target_column {
        Some(name) => name.to_string(),
        None => match target.primary_key.as_slice() {
            [only] => only.clone(),
            _ => {
                problems.add(
                    format!("{path}.column"),
                    format!("table \"{target_table}\" has no single-column primary key; name the referenced column"),
                );
                return;
            }
        },
    };
    if !target.has_column(&target_column) {
        problems.add(
            format!("{path}.column"),
            format!("column \"{target_column}\" is not declared in table \"{target_table}\""),
        );
        return;
    }
    if !target.single_unique.contains(&target_column) {
        problems.add(
            format!("{path}.column"),
            format!("\"{target_table}.{target_column}\" is neither the primary key nor unique; a foreign key must reference a unique column"),
        );
    }
    if let (Some(own_type), Some(target_type)) = (column_type, target.column_type(&target_column))
        && own_type.referenced_as() != target_type.referenced_as()
    {
        problems.add(
            path,
            format!(
                "type mismatch: \"{}\" is {own_type} but references \"{target_table}.{target_column}\" of type {target_type} (use {})",
                column.name,
                target_type.referenced_as()
            ),
        );
    }
    if on_delete == ReferentialAction::SetNull && !column.nullable {
        problems.add(
            format!("{path}.onDelete"),
            format!(
                "set-null needs a nullable column, but \"{}\" is NOT NULL",
                column.name
            ),
        );
    }
}

fn validate_relation(
    path: &str,
    table: &TableSpec,
    own: &TableFacts<'_>,
    relation: &crate::schema::RelationSpec,
    facts: &BTreeMap<String, TableFacts<'_>>,
    problems: &mut Problems,
) {
    let Some(related) = facts.get(&relation.table) else {
        problems.add(
            format!("{path}.table"),
            format!(
                "table \"{}\" is not declared in this schema",
                relation.table
            ),
        );
        return;
    };
    if relation.through.is_some() && relation.kind != RelationKind::ManyToMany {
        problems.add(
            format!("{path}.through"),
            "only many-to-many relations have a join table",
        );
    }
    match relation.kind {
        RelationKind::OneToMany | RelationKind::OneToOne => {
            let foreign_key = relation
                .foreign_key
                .clone()
                .unwrap_or_else(|| default_foreign_key(&table.name));
            check_generated_key(
                path,
                own,
                &table.name,
                &relation.table,
                related,
                &foreign_key,
                problems,
            );
        }
        RelationKind::ManyToOne => {
            let foreign_key = relation
                .foreign_key
                .clone()
                .unwrap_or_else(|| default_foreign_key(&relation.table));
            check_generated_key(
                path,
                related,
                &relation.table,
                &table.name,
                own,
                &foreign_key,
                problems,
            );
        }
        RelationKind::ManyToMany => {
            if relation.foreign_key.is_some() {
                problems.add(
                    format!("{path}.foreignKey"),
                    "a many-to-many relation has no foreign key of its own; its join table holds two",
                );
            }
            let through = relation
                .through
                .clone()
                .unwrap_or_else(|| default_join_table(&table.name, &relation.table));
            if let Some(problem) = identifier_problem(&through) {
                problems.add(format!("{path}.through"), problem);
            }
            for (side, facts_of) in [(&table.name, own), (&relation.table, related)] {
                if facts_of.primary_key.len() != 1 {
                    problems.add(
                        path,
                        format!("table \"{side}\" needs a single-column primary key to take part in a many-to-many relation"),
                    );
                }
            }
        }
    }
}

/// Checks the foreign key of a 1:1 / 1:N / N:1 relation. The key lives on `holder` and points
/// at `referenced`'s primary key; when the holder declares the column, its type must match.
#[allow(clippy::too_many_arguments)]
fn check_generated_key(
    path: &str,
    referenced: &TableFacts<'_>,
    referenced_name: &str,
    holder_name: &str,
    holder: &TableFacts<'_>,
    foreign_key: &str,
    problems: &mut Problems,
) {
    if let Some(problem) = identifier_problem(foreign_key) {
        problems.add(format!("{path}.foreignKey"), problem);
        return;
    }
    let [primary_key] = referenced.primary_key.as_slice() else {
        problems.add(
            path,
            format!(
                "table \"{referenced_name}\" needs a single-column primary key for this relation"
            ),
        );
        return;
    };
    if let (Some(key_type), Some(pk_type)) = (
        holder.column_type(foreign_key),
        referenced.column_type(primary_key),
    ) && key_type.referenced_as() != pk_type.referenced_as()
    {
        problems.add(
            format!("{path}.foreignKey"),
            format!(
                "type mismatch: \"{holder_name}.{foreign_key}\" is {key_type} but \"{referenced_name}.{primary_key}\" is {pk_type} (use {})",
                pk_type.referenced_as()
            ),
        );
    }
}

fn validate_seed(
    spec: &FoxSchemaSpec,
    facts: &BTreeMap<String, TableFacts<'_>>,
    problems: &mut Problems,
) {
    let collections: HashSet<&str> = spec.collections.iter().map(|c| c.name.as_str()).collect();
    for (s, seed) in spec.seed.iter().enumerate() {
        let path = format!("spec.seed[{s}]");
        if collections.contains(seed.table.as_str()) {
            continue;
        }
        let Some(table) = facts.get(&seed.table) else {
            problems.add(
                format!("{path}.table"),
                format!("table \"{}\" is not declared in this schema", seed.table),
            );
            continue;
        };
        for (r, row) in seed.rows.iter().enumerate() {
            let row_path = format!("{path}.rows[{r}]");
            for (column, value) in row {
                match table.column(column) {
                    None => problems.add(
                        format!("{row_path}.{column}"),
                        format!(
                            "column \"{column}\" is not declared in table \"{}\"",
                            seed.table
                        ),
                    ),
                    Some(spec) => {
                        if matches!(value, Scalar::Null) && !spec.nullable {
                            problems.add(
                                format!("{row_path}.{column}"),
                                format!("null in NOT NULL column \"{column}\""),
                            );
                        } else if let Some(ty) = table.column_type(column)
                            && !matches!(value, Scalar::Null)
                            && let Some(problem) = seed_value_problem(ty, value)
                        {
                            problems.add(format!("{row_path}.{column}"), problem);
                        }
                    }
                }
            }
            for key in &table.primary_key {
                if !row.contains_key(key) {
                    problems.add(
                        row_path.clone(),
                        format!("row lacks primary key column \"{key}\"; seed rows are upserted by primary key"),
                    );
                }
            }
            for column in &table.spec.columns {
                let required = !column.nullable
                    && column.default.is_none()
                    && !table.primary_key.contains(&column.name);
                if required && !row.contains_key(&column.name) {
                    problems.add(
                        row_path.clone(),
                        format!(
                            "row lacks \"{}\", which is NOT NULL and has no default",
                            column.name
                        ),
                    );
                }
            }
        }
    }
}
