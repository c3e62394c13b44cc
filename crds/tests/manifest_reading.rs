//! Reading manifest files: what YAML is refused (duplicate keys, aliases, foreign tags, absurd
//! nesting) and where problems point (the line of the field they concern).

use fox_crds::manifest::{ManifestSet, parse_manifests};

fn read(yaml: &str) -> ManifestSet {
    let mut set = ManifestSet::default();
    parse_manifests("m.yaml".as_ref(), yaml, &mut set);
    set
}

fn problems(yaml: &str) -> Vec<String> {
    read(yaml)
        .problems
        .iter()
        .map(ToString::to_string)
        .collect()
}

const SCHEMA_HEAD: &str = "apiVersion: foxdb.dev/v1alpha1
kind: FoxSchema
metadata:
  name: shop
spec:
  databaseRef: {name: db}
";

#[test]
fn duplicate_yaml_keys_are_refused_with_their_line() {
    let yaml = format!(
        "{SCHEMA_HEAD}  policy:
    allowDestructive: false
  tables:
    - name: users
      columns:
        - {{name: id, type: bigserial, primaryKey: true, type: text}}
  policy:
    allowDestructive: true
"
    );
    let set = read(&yaml);
    assert!(
        set.documents.is_empty(),
        "a document with duplicate keys is not used"
    );
    assert_eq!(
        problems(&yaml),
        vec![
            "m.yaml:12: FoxSchema/shop: spec.tables[0].columns[0].type: duplicate key \"type\" (first at line 12); a key may appear once in a mapping, remove one of them",
            "m.yaml:13: FoxSchema/shop: spec.policy: duplicate key \"policy\" (first at line 7); a key may appear once in a mapping, remove one of them",
        ]
    );
}

#[test]
fn duplicate_keys_are_refused_at_the_top_level_and_in_other_kinds() {
    let yaml = "apiVersion: v1
kind: Secret
metadata: {name: db-url}
stringData:
  url: sqlite://a.db
  url: sqlite://b.db
kind: Secret
";
    let found = problems(yaml);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].starts_with("m.yaml:6: Secret/db-url: stringData.url: duplicate key \"url\""));
    assert!(found[1].starts_with("m.yaml:7: Secret/db-url: kind: duplicate key \"kind\""));
}

#[test]
fn yaml_aliases_are_refused() {
    let yaml = format!(
        "{SCHEMA_HEAD}  tables:
    - name: users
      columns: &columns
        - {{name: id, type: bigserial, primaryKey: true}}
    - name: admins
      columns: *columns
"
    );
    assert_eq!(
        problems(&yaml),
        vec![
            "m.yaml:12: FoxSchema/shop: spec.tables[1].columns: YAML aliases (*name) are not accepted in manifests; write the value out in full"
        ]
    );
}

/// The classic "billion laughs": nine strings, then nine levels of nine aliases each (9^10,
/// 3.5 billion strings once expanded). It must be refused at the first alias, fast and small.
#[test]
fn a_yaml_alias_bomb_is_refused_in_under_a_second_and_fifty_megabytes() {
    let mut yaml = format!("{SCHEMA_HEAD}  laughs:\n    l0: &l0 [");
    yaml.push_str(&["\"lol\""; 9].join(", "));
    yaml.push_str("]\n");
    for level in 1..=9 {
        let previous = format!("*l{}", level - 1);
        yaml.push_str(&format!(
            "    l{level}: &l{level} [{}]\n",
            [previous.as_str(); 9].join(", ")
        ));
    }
    // Padded to the size of the file that took 1.7 GB and 32 s before aliases were refused.
    while yaml.len() < 15_000 {
        yaml.push_str("    # padding padding padding padding padding padding padding padding\n");
    }
    let before = peak_memory_reset();
    let started = std::time::Instant::now();
    let found = problems(&yaml);
    let elapsed = started.elapsed();
    let peak = peak_memory_bytes();
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("YAML aliases (*name) are not accepted"),
        "{found:#?}"
    );
    assert!(
        elapsed < std::time::Duration::from_secs(1),
        "took {elapsed:?}"
    );
    if let (Some(before), Some(peak)) = (before, peak) {
        assert!(
            peak.saturating_sub(before) < 50 * 1024 * 1024,
            "peak memory grew by {} bytes",
            peak.saturating_sub(before)
        );
    }
}

/// Resets the process's peak resident set size to its current size and returns that size.
fn peak_memory_reset() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_kilobytes("VmRSS:").map(|kb| kb * 1024)
}

fn peak_memory_bytes() -> Option<u64> {
    status_kilobytes("VmHWM:").map(|kb| kb * 1024)
}

fn status_kilobytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

#[test]
fn tags_other_than_the_yaml_core_ones_are_refused() {
    let yaml = format!(
        "{SCHEMA_HEAD}  tables:
    - name: !Ref users
      columns:
        - {{name: id, type: !!str bigserial, primaryKey: true}}
"
    );
    assert_eq!(
        problems(&yaml),
        vec![
            "m.yaml:8: FoxSchema/shop: spec.tables[0].name: YAML tag !Ref is not accepted in manifests; remove it"
        ]
    );
}

#[test]
fn absurdly_deep_nesting_is_refused() {
    let mut yaml = format!("{SCHEMA_HEAD}  deep:\n");
    for level in 0..100 {
        yaml.push_str(&format!("{}k:\n", "  ".repeat(level + 2)));
    }
    let found = problems(&yaml);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("nested more than 64 levels deep"),
        "{found:#?}"
    );

    let depth = 100_000;
    let flow = format!(
        "{SCHEMA_HEAD}  deep: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let found = problems(&flow);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("nested more than 64 levels deep")
            || found[0].contains("recursion limit exceeded"),
        "{found:#?}"
    );
}

#[test]
fn problems_point_at_the_line_of_their_field() {
    let yaml = format!(
        "{SCHEMA_HEAD}  tables:
    - name: users
      columns:
        - name: id
          type: bigserial
          primaryKey: true
        - name: email
          type: strin
    - name: posts
      columns:
        - {{name: id, type: bigserial, primaryKey: true}}
        - {{name: author_id, type: bigint, references: {{table: writers, column: id}}}}
"
    );
    assert_eq!(
        problems(&yaml),
        vec![
            "m.yaml:14:11: FoxSchema/shop: spec.tables[0].columns[1].type: unknown type \"strin\" (known: smallint integer bigint serial bigserial boolean real double decimal(p,s) char(n) varchar(n) text date time timestamp timestamptz uuid json bytes enum(a,b,...))",
            "m.yaml:18:56: FoxSchema/shop: spec.tables[1].columns[1].references.table: table \"writers\" is not declared in this schema",
        ]
    );
}

#[test]
fn a_missing_field_points_at_its_parent() {
    let yaml = "apiVersion: foxdb.dev/v1alpha1
kind: FoxMigration
metadata:
  name: m1
spec:
  databaseRef: {name: db}
  version: 1
";
    let found = problems(yaml);
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("m.yaml:7: FoxMigration/m1: spec.name:")
                || p.starts_with("m.yaml:5:1: FoxMigration/m1: spec.name:")),
        "{found:#?}"
    );
}

#[test]
fn a_list_where_a_scalar_is_expected_names_its_field_and_line() {
    let yaml = format!(
        "{SCHEMA_HEAD}  tables:
    - name: users
      columns:
        - {{name: id, type: bigserial, primaryKey: true}}
        - name: role
          type: text
          default: [reader, writer]
  seed:
    - table: users
      rows:
        - {{id: 1, role: {{nested: map}}}}
"
    );
    assert_eq!(
        problems(&yaml),
        vec![
            "m.yaml:13:11: FoxSchema/shop: spec.tables[0].columns[1].default: default is a list or mapping; only a json column's seed value may be one",
            "m.yaml:17:19: FoxSchema/shop: spec.seed[0].rows[0].role: value is a list or mapping; only a json column's seed value may be one",
        ]
    );
}

/// The review's second stalling object: the CRD admits any value in a seed row, and a json
/// column's value is naturally an object; it reads, validates and is kept as JSON.
#[test]
fn an_object_as_a_json_columns_seed_value_is_accepted() {
    let yaml = format!(
        "{SCHEMA_HEAD}  tables:
    - name: settings
      columns:
        - {{name: id, type: bigserial, primaryKey: true}}
        - {{name: body, type: json}}
  seed:
    - table: settings
      rows:
        - {{id: 1, body: {{theme: dark, sizes: [1, 2]}}}}
"
    );
    assert_eq!(problems(&yaml), Vec::<String>::new());
}

#[test]
fn scalars_keep_their_meaning() {
    let yaml = format!(
        "{SCHEMA_HEAD}  tables:
    - name: flags
      columns:
        - {{name: id, type: integer, primaryKey: true}}
        - {{name: on, type: boolean, default: true}}
        - {{name: code, type: text, default: 007}}
        - {{name: ratio, type: double, default: 1.5e3}}
        - {{name: label, type: text, default: '12'}}
        - {{name: note, type: text, nullable: true, default: ~}}
"
    );
    let set = read(&yaml);
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
    let (_, schema) = set.schemas().next().expect("the schema");
    let defaults: Vec<String> = schema.spec.tables[0]
        .columns
        .iter()
        .map(|c| format!("{:?}", c.default))
        .collect();
    assert_eq!(
        defaults,
        vec![
            "None",
            "Some(Bool(true))",
            "Some(String(\"007\"))",
            "Some(Float(1500.0))",
            "Some(String(\"12\"))",
            "None",
        ]
    );
}

#[test]
fn documents_before_a_syntax_error_are_still_read() {
    let yaml = "apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
key: [unclosed
";
    let set = read(yaml);
    assert_eq!(set.documents.len(), 1);
    assert_eq!(set.problems.len(), 1);
    assert!(
        set.problems[0]
            .to_string()
            .starts_with("m.yaml:6:1: YAML syntax error:"),
        "{}",
        set.problems[0]
    );
}

#[test]
fn a_secret_with_a_wrongly_shaped_field_names_it() {
    let yaml = "apiVersion: v1
kind: Secret
metadata: {name: db-url}
stringData:
  url: [not, a, string]
";
    let found = problems(yaml);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].starts_with("m.yaml:5:3: Secret/db-url: stringData.url: invalid Secret: invalid type: sequence, expected a string"),
        "{found:#?}"
    );
}
