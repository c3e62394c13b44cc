//! The bodies of FoxDB's fuzz targets, shared by `fuzz/` (`cargo fuzz run`, libFuzzer) and the
//! short seeded run of the test suite (`operator/tests/fuzz_smoke.rs`), so both exercise the
//! same code.
//!
//! - [`read_manifest_bytes`]: any bytes through the manifest reader and every resource's
//!   validation, as `fox validate` reads a file. It must never panic.
//! - [`schema_from_bytes`] and [`plan_apply_replan`]: a valid FoxSchema built from the bytes is
//!   planned and applied to an empty SQLite database; planning it again must find nothing to
//!   change.
//!
//! See docs/contributing/testing.md, "Fuzzing", for the long runs.

use std::path::Path;
use std::time::Duration;

use fox_crds::manifest::{ManifestSet, parse_manifests};
use fox_crds::schema::{
    ColumnSpec, ForeignKeySpec, FoxSchema, FoxSchemaSpec, IndexSpec, ReferentialAction, TableSpec,
};
use fox_crds::{ColumnType, DatabaseRef, Scalar};
use foxdb::DatabaseUrl;

use crate::engine::{ApplyOptions, apply_schema, plan_schema};

/// Reads `data` as a manifest file and renders every problem found; returns how many there were.
///
/// # Guarantees
/// Never panics on any input (that is what the target checks).
pub fn read_manifest_bytes(data: &[u8]) -> usize {
    let text = String::from_utf8_lossy(data);
    let mut set = ManifestSet::default();
    parse_manifests("fuzz.yaml".as_ref(), &text, &mut set);
    for document in &set.documents {
        // Locating a field walks the recorded lines: exercise it on every document.
        let _ = document.origin.at("spec.tables[0].columns[0].type");
    }
    set.problems.iter().map(ToString::to_string).count()
}

/// Draws choices from fuzzer bytes; past the end every draw is 0, so any input builds a schema.
#[derive(Debug)]
struct Draws<'a> {
    bytes: &'a [u8],
}

impl Draws<'_> {
    fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((first, rest)) => {
                self.bytes = rest;
                *first
            }
            None => 0,
        }
    }

    /// A number in `0..bound` (`bound` > 0).
    fn below(&mut self, bound: usize) -> usize {
        let value = usize::from(self.byte()) << 8 | usize::from(self.byte());
        value % bound
    }

    fn chance(&mut self, in_256: u8) -> bool {
        self.byte() < in_256
    }

    fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
        &items[self.below(items.len())]
    }
}

/// Table names: reserved words and mixed case included, every engine must quote them.
const TABLE_NAMES: [&str; 8] = [
    "users",
    "order",
    "group",
    "items",
    "select",
    "Mixed_Case",
    "t",
    "line_items",
];

/// Primary key types a generated table uses.
const KEY_TYPES: [&str; 6] = [
    "bigserial",
    "serial",
    "integer",
    "bigint",
    "uuid",
    "varchar(40)",
];

/// A FoxSchema built from `data`: one to four tables with a primary key, up to six columns of
/// every portable type with valid defaults, foreign keys to earlier tables and indexes. Most
/// inputs give a schema `validate()` accepts; [`plan_apply_replan`] skips the others.
pub fn schema_from_bytes(data: &[u8]) -> FoxSchemaSpec {
    let mut draws = Draws { bytes: data };
    let table_count = 1 + draws.below(4);
    let mut names: Vec<&str> = TABLE_NAMES.to_vec();
    let mut tables: Vec<TableSpec> = Vec::new();
    for _ in 0..table_count {
        let name = names.remove(draws.below(names.len()));
        let key_type = *draws.pick(&KEY_TYPES);
        let mut columns = vec![ColumnSpec {
            name: "id".into(),
            type_: key_type.into(),
            primary_key: true,
            ..ColumnSpec::default()
        }];
        for c in 0..draws.below(7) {
            columns.push(random_column(&mut draws, format!("c{c}"), &tables));
        }
        let mut indexes = Vec::new();
        for _ in 0..draws.below(3) {
            if columns.len() < 2 {
                break;
            }
            let first = 1 + draws.below(columns.len() - 1);
            let mut indexed = vec![columns[first].name.clone()];
            if draws.chance(80) {
                let second = draws.below(columns.len());
                if second != first {
                    indexed.push(columns[second].name.clone());
                }
            }
            let index = IndexSpec {
                columns: indexed,
                unique: draws.chance(64),
                name: None,
            };
            if !indexes.contains(&index) {
                indexes.push(index);
            }
        }
        tables.push(TableSpec {
            name: name.into(),
            columns,
            indexes,
            ..TableSpec::default()
        });
    }
    FoxSchemaSpec {
        database_ref: DatabaseRef {
            name: "fuzz".into(),
        },
        tables,
        ..FoxSchemaSpec::default()
    }
}

fn random_column(draws: &mut Draws<'_>, name: String, earlier: &[TableSpec]) -> ColumnSpec {
    let mut column = ColumnSpec {
        name,
        nullable: draws.chance(100),
        ..ColumnSpec::default()
    };
    // A foreign key to an earlier table's key, typed as that key is referenced.
    if !earlier.is_empty() && draws.chance(70) {
        let target = draws.pick(earlier);
        let key = &target.columns[0];
        let referenced = key
            .type_
            .parse::<ColumnType>()
            .map(|ty| ty.referenced_as().to_string())
            .unwrap_or_else(|_| key.type_.clone());
        let on_delete = *draws.pick(&[
            ReferentialAction::NoAction,
            ReferentialAction::Restrict,
            ReferentialAction::Cascade,
            ReferentialAction::SetNull,
        ]);
        column.type_ = referenced;
        column.nullable |= on_delete == ReferentialAction::SetNull;
        column.references = Some(ForeignKeySpec {
            table: target.name.clone(),
            column: draws.chance(128).then(|| key.name.clone()),
            on_delete,
            on_update: *draws.pick(&[ReferentialAction::NoAction, ReferentialAction::Cascade]),
            name: None,
        });
        return column;
    }
    let (type_, default) = random_type_and_default(draws);
    column.type_ = type_;
    column.unique = draws.chance(30);
    column.default = default.filter(|_| draws.chance(120));
    column
}

/// A portable type and a default that fits it.
fn random_type_and_default(draws: &mut Draws<'_>) -> (String, Option<Scalar>) {
    let integer = |draws: &mut Draws<'_>, bound: i64| {
        let raw = i64::from(draws.byte()) << 8 | i64::from(draws.byte());
        Scalar::Integer((raw % (2 * bound)) - bound)
    };
    match draws.below(20) {
        0 => ("smallint".into(), Some(integer(draws, 30_000))),
        1 => ("integer".into(), Some(integer(draws, 60_000))),
        2 => ("bigint".into(), Some(integer(draws, 60_000))),
        3 => ("boolean".into(), Some(Scalar::Bool(draws.chance(128)))),
        4 => (
            "real".into(),
            Some(Scalar::Float(f64::from(draws.byte()) / 4.0)),
        ),
        5 => (
            "double".into(),
            Some(Scalar::Float(f64::from(draws.byte()) / 8.0)),
        ),
        6 => {
            let precision = 1 + draws.below(38);
            let scale = draws.below(precision.min(10) + 1);
            let default = if precision > scale {
                Some(Scalar::Integer(i64::from(draws.byte() % 10)))
            } else {
                None
            };
            (format!("decimal({precision},{scale})"), default)
        }
        7 => {
            let length = 1 + draws.below(20);
            (
                format!("char({length})"),
                Some(Scalar::String("x".repeat(length.min(3)))),
            )
        }
        8 => {
            let length = 1 + draws.below(300);
            let text = *draws.pick(&["", "a", "it's", "naïve", "x y"]);
            let fits = text.chars().count() <= length;
            (
                format!("varchar({length})"),
                fits.then(|| Scalar::String(text.into())),
            )
        }
        9 => ("text".into(), Some(Scalar::String("hello".into()))),
        10 => (
            "date".into(),
            Some(Scalar::String(
                (*draws.pick(&["2024-02-29", "current_date", "1999-12-31"])).into(),
            )),
        ),
        11 => ("time".into(), Some(Scalar::String("12:30:00".into()))),
        12 => (
            "timestamp".into(),
            Some(Scalar::String("2024-01-02 03:04:05".into())),
        ),
        13 => ("timestamptz".into(), Some(Scalar::String("now()".into()))),
        14 => ("uuid".into(), None),
        15 => ("json".into(), None),
        16 => ("bytes".into(), None),
        _ => {
            let labels =
                *draws.pick(&[&["a", "b"][..], &["draft", "published", "archived"], &["x"]]);
            let default = Scalar::String((*draws.pick(labels)).into());
            (format!("enum({})", labels.join(",")), Some(default))
        }
    }
}

/// What became of one generated schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RoundTrip {
    /// `validate()` refused the schema; nothing ran.
    Invalid,
    /// Planned, applied, and planned again with nothing left to change.
    InSync {
        /// Statements the first plan ran.
        statements: usize,
    },
}

/// Validates `spec`; when valid, plans and applies it to the (new, empty) SQLite database at
/// `path` and plans it again.
///
/// # Errors
/// What went wrong, in words: planning or applying failed, or the second plan is not empty.
/// The target panics on it.
pub async fn plan_apply_replan(spec: &FoxSchemaSpec, path: &Path) -> Result<RoundTrip, String> {
    if FoxSchema::new("fuzz", spec.clone()).validate().is_err() {
        return Ok(RoundTrip::Invalid);
    }
    let url = DatabaseUrl::parse(&format!("sqlite://{}?mode=rwc", path.display()))
        .map_err(|e| format!("database URL: {e}"))?;
    let options = ApplyOptions {
        schema_name: "fuzz".into(),
        owner_uid: None,
        replaces: None,
        allow_destructive: false,
        require_approval: false,
        approve: None,
        approval_scope: None,
        dry_run: false,
        lock_timeout: Duration::from_secs(5),
    };
    let yaml = || serde_yaml_ng::to_string(spec).unwrap_or_default();
    let first = plan_schema(&url, spec)
        .await
        .map_err(|e| format!("plan failed: {e}\n{}", yaml()))?;
    apply_schema(&url, spec, &options, &mut |_| {})
        .await
        .map_err(|e| format!("apply failed: {e}\n{}", yaml()))?;
    let again = plan_schema(&url, spec)
        .await
        .map_err(|e| format!("re-plan failed: {e}\n{}", yaml()))?;
    if !again.is_empty() {
        return Err(format!(
            "re-plan after apply is not empty: {:#?}\n{}",
            again.changes,
            yaml()
        ));
    }
    Ok(RoundTrip::InSync {
        statements: first.statements.len(),
    })
}
