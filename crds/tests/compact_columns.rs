//! Compact columns in manifests: they read into the same columns as the full form, mix with
//! it, and their problems point at their line and column.

use fox_crds::manifest::{ManifestSet, parse_manifests};
use fox_crds::schema::FoxSchemaSpec;

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

fn spec(yaml: &str) -> FoxSchemaSpec {
    let set = read(yaml);
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
    set.schemas().next().expect("a FoxSchema").1.spec.clone()
}

fn schema(tables: &str) -> String {
    format!(
        "apiVersion: foxdb.dev/v1alpha1
kind: FoxSchema
metadata:
  name: blog
spec:
  databaseRef: {{name: db}}
  tables:
{tables}"
    )
}

const FULL: &str = "    - name: users
      columns:
        - {name: id, type: bigserial, primaryKey: true}
        - {name: email, type: varchar(255), unique: true}
        - {name: name, type: varchar(100), nullable: true}
        - {name: active, type: boolean, default: true}
        - {name: created_at, type: timestamptz, default: now()}
    - name: posts
      columns:
        - {name: id, type: bigserial, primaryKey: true}
        - name: author_id
          type: bigint
          references: {table: users, column: id, onDelete: cascade, onUpdate: restrict}
        - {name: editor_id, type: bigint, nullable: true, references: {table: users, onDelete: set-null}}
        - {name: title, type: text, default: untitled}
        - {name: price, type: \"decimal(12,2)\", default: 0}
        - {name: state, type: \"enum(draft,published)\", default: draft}
";

const COMPACT: &str = "    - name: users
      columns:
        - id: bigserial pk
        - email: varchar(255) unique
        - name: varchar(100)?
        - active: boolean default true
        - created_at: timestamptz default now()
    - name: posts
      columns:
        - id: bigserial primary key
        - author_id: bigint references users.id on delete cascade on update restrict
        - {editor_id: bigint nullable references users on delete set null}
        - title: text default 'untitled'
        - price: decimal(12,2) default 0
        - state: enum(draft,published) default draft
";

#[test]
fn compact_columns_read_as_the_same_columns_as_the_full_form() {
    assert_eq!(spec(&schema(COMPACT)), spec(&schema(FULL)));
}

#[test]
fn compact_and_full_columns_mix_in_one_table() {
    let mixed = "    - name: users
      columns:
        - id: bigserial pk
        - {name: email, type: varchar(255), unique: true, previousNames: [mail]}
        - nickname: text?
";
    let spec = spec(&schema(mixed));
    let columns = &spec.tables[0].columns;
    assert_eq!(
        columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["id", "email", "nickname"]
    );
    assert!(columns[0].primary_key);
    assert_eq!(columns[1].previous_names, ["mail"]);
    assert!(columns[2].nullable);
}

#[test]
fn compact_column_problems_point_at_the_column_with_line_and_column() {
    let yaml = schema(
        "    - name: users
      columns:
        - id: bigserial pk
        - email: varchar(255) uniqe
        - code: bigint auto
        - name: varchr(100)?
        - owner_id: bigint references users.id on delete explode
        - age: 5
",
    );
    assert_eq!(
        problems(&yaml),
        vec![
            "m.yaml:11:11: FoxSchema/blog: spec.tables[0].columns[1]: unknown modifier \"uniqe\" in \"varchar(255) uniqe\"; the modifiers are `?` or `nullable`, `unique`, `pk` or `primary key`, `default <literal>`, `references <table>[.<column>]` followed by `on delete <action>` and `on update <action>` (actions: cascade, restrict, set null, no action)",
            "m.yaml:12:11: FoxSchema/blog: spec.tables[0].columns[2]: unknown modifier \"auto\" in \"bigint auto\" (auto-increment is a type here: serial or bigserial); the modifiers are `?` or `nullable`, `unique`, `pk` or `primary key`, `default <literal>`, `references <table>[.<column>]` followed by `on delete <action>` and `on update <action>` (actions: cascade, restrict, set null, no action)",
            "m.yaml:13:11: FoxSchema/blog: spec.tables[0].columns[3].type: unknown type \"varchr(100)\" (known: smallint integer bigint serial bigserial boolean real double decimal(p,s) char(n) varchar(n) text date time timestamp timestamptz uuid json bytes enum(a,b,...))",
            "m.yaml:14:11: FoxSchema/blog: spec.tables[0].columns[4]: \"on delete\" needs cascade, restrict, set null or no action after it in \"bigint references users.id on delete explode\"",
            "m.yaml:15:11: FoxSchema/blog: spec.tables[0].columns[5]: a compact column is written `age: <type> [modifiers]` with a string value, found number 5; or write the full form `{name: age, type: ...}`",
        ]
    );
}

#[test]
fn compact_columns_get_the_full_forms_semantic_checks() {
    let yaml = schema(
        "    - name: users
      columns:
        - id: bigserial pk
        - score: smallint default 40000
        - boss_id: integer references users.id
        - {buddy_id: bigint references people.id}
",
    );
    let found = problems(&yaml);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found[0].starts_with("m.yaml:11:11: FoxSchema/blog: spec.tables[0].columns[1].default:"),
        "{}",
        found[0]
    );
    assert!(
        found[1].contains("spec.tables[0].columns[2].references: type mismatch"),
        "{}",
        found[1]
    );
    assert!(
        found[2].contains(
            "spec.tables[0].columns[3].references.table: table \"people\" is not declared"
        ),
        "{}",
        found[2]
    );
}

#[test]
fn full_form_columns_are_still_held_to_their_fields() {
    let yaml = schema(
        "    - name: users
      columns:
        - {name: id, type: bigserial, primaryKey: true, nulable: true}
        - {nullable: true}
",
    );
    assert_eq!(
        problems(&yaml),
        vec![
            "m.yaml:10:57: FoxSchema/blog: spec.tables[0].columns[0].nulable: unknown field \"nulable\" (did you mean \"nullable\"?)",
            "m.yaml:11:11: FoxSchema/blog: spec.tables[0].columns[1].name: required field is missing",
            "m.yaml:11:11: FoxSchema/blog: spec.tables[0].columns[1].type: required field is missing",
        ]
    );
}

#[test]
fn a_stored_object_with_a_bad_compact_column_still_reads_and_fails_validation() {
    // The operator's watch deserializes what the API server stored: it must not fail there.
    let table: fox_crds::schema::TableSpec = serde_json::from_value(serde_json::json!({
        "name": "users",
        "columns": [{"id": "bigserial pk"}, {"email": "text uniqe"}, {"age": [1]}]
    }))
    .expect("reads");
    assert_eq!(table.columns[0].compact_problem, None);
    assert!(
        table.columns[1]
            .compact_problem
            .as_deref()
            .is_some_and(|p| p.contains("\"uniqe\""))
    );
    assert!(
        table.columns[2]
            .compact_problem
            .as_deref()
            .is_some_and(|p| p.contains("found a list"))
    );
}

/// The first fenced block of `language` in `section`.
fn fenced<'a>(section: &'a str, language: &str) -> &'a str {
    let opening = format!("```{language}\n");
    let start = section
        .find(&opening)
        .unwrap_or_else(|| panic!("a ```{language} block"))
        + opening.len();
    let length = section[start..].find("```\n").expect("a closed block");
    &section[start..start + length]
}

#[test]
fn the_schema_length_comparison_in_the_docs_is_what_the_blocks_measure() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/schema.md");
    let page = std::fs::read_to_string(path).expect("docs/schema.md");
    let start = page
        .find("### How long a schema is")
        .expect("the comparison");
    let end = start + page[start..].find("\n## ").expect("a next section");
    let section = &page[start..end];
    let fox = fenced(section, "yaml");
    let typeorm = fenced(section, "typescript");
    let prisma = fenced(section, "prisma");
    let measure = |text: &str| (text.lines().count(), text.chars().count());
    let ((fox_lines, fox_chars), (typeorm_lines, typeorm_chars), (prisma_lines, prisma_chars)) =
        (measure(fox), measure(typeorm), measure(prisma));
    for row in [
        format!("| FoxSchema, compact columns | {fox_lines} | {fox_chars} |"),
        format!("| TypeORM entities | {typeorm_lines} | {typeorm_chars} |"),
        format!("| Prisma schema | {prisma_lines} | {prisma_chars} |"),
    ] {
        assert!(section.contains(&row), "docs/schema.md should say {row}");
    }
    #[allow(clippy::cast_precision_loss)]
    let share = |part: usize, whole: usize| 100.0 * part as f64 / whole as f64;
    let sentence = format!(
        "The FoxSchema takes {:.1} % of the TypeORM entities' lines and {:.1} % of the Prisma\nschema's characters",
        share(fox_lines, typeorm_lines),
        share(fox_chars, prisma_chars)
    );
    assert!(
        section.contains(&sentence),
        "docs/schema.md should say {sentence}"
    );
    // The promise: at most 40 % of TypeORM's lines, no more characters than Prisma.
    assert!(
        fox_lines * 100 <= typeorm_lines * 40,
        "{fox_lines} of {typeorm_lines} lines"
    );
    assert!(
        fox_chars <= prisma_chars,
        "{fox_chars} of {prisma_chars} characters"
    );
    // And the FoxSchema counted is a valid one, with every column compact.
    let spec = spec(fox);
    let columns: usize = spec.tables.iter().map(|t| t.columns.len()).sum();
    assert_eq!(
        columns,
        fox.matches("        - ").count() - 2,
        "every column is compact"
    );
    assert_eq!(
        spec.tables
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["users", "profiles", "posts"]
    );
}
