//! `fox validate` on the shipped examples: the blog set is valid, every broken manifest in
//! `examples/invalid/` is reported with its exact message.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("operator/ has a parent")
        .to_path_buf()
}

fn fox(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fox"))
        .args(args)
        .current_dir(repository_root())
        .output()
        .expect("fox runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn blog_example_is_valid() {
    let output = fox(&["validate", "-f", "examples/blog/"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("4 resources valid"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn invalid_examples_report_every_problem_with_its_path() {
    let output = fox(&["validate", "-f", "examples/invalid/"]);
    assert_eq!(output.status.code(), Some(1));
    let expected_path = repository_root().join("examples/invalid/EXPECTED.txt");
    let actual = stdout(&output);
    if std::env::var_os("FOX_BLESS").is_some() {
        std::fs::write(&expected_path, &actual).expect("writes EXPECTED.txt");
    }
    let expected = std::fs::read_to_string(&expected_path).expect("EXPECTED.txt exists");
    assert_eq!(
        actual, expected,
        "output differs from examples/invalid/EXPECTED.txt (re-run with FOX_BLESS=1 after checking it)"
    );
}

#[test]
fn each_invalid_file_fails_on_its_own() {
    let directory = repository_root().join("examples/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&directory)
        .expect("examples/invalid exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6);
    for file in files {
        let output = fox(&["validate", "-f", file.to_str().expect("utf-8 path")]);
        assert_eq!(
            output.status.code(),
            Some(1),
            "{} should be invalid",
            file.display()
        );
    }
}

#[test]
fn yaml_syntax_error_names_file_line_and_column() {
    let output = fox(&["validate", "-f", "examples/invalid/syntax-error.yaml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with("examples/invalid/syntax-error.yaml:10:1: YAML syntax error:"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn reserved_words_are_valid_names() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("reserved.yaml");
    std::fs::write(
        &file,
        r#"apiVersion: foxdb.dev/v1alpha1
kind: FoxSchema
metadata: {name: reserved}
spec:
  databaseRef: {name: db}
  tables:
    - name: select
      columns:
        - {name: order, type: integer, primaryKey: true}
        - {name: group, type: text}
        - {name: user, type: text}
"#,
    )
    .expect("writes");
    let output = fox(&["validate", "-f", file.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn unreadable_path_is_an_error_not_a_pass() {
    let output = fox(&["validate", "-f", "examples/does-not-exist"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("examples/does-not-exist"));
}

#[test]
fn printed_crds_match_the_committed_files() {
    let output = fox(&["crds"]);
    assert_eq!(output.status.code(), Some(0));
    let mut files: Vec<_> = std::fs::read_dir(repository_root().join("crds"))
        .expect("crds/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let committed: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("readable"))
        .collect();
    assert_eq!(stdout(&output), committed);
}

#[test]
fn duplicate_yaml_keys_are_refused_with_their_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("policy.yaml");
    std::fs::write(
        &file,
        r#"apiVersion: foxdb.dev/v1alpha1
kind: FoxSchema
metadata: {name: shop}
spec:
  databaseRef: {name: db}
  policy:
    allowDestructive: false
  tables:
    - name: users
      columns:
        - {name: id, type: integer, primaryKey: true}
  policy:
    allowDestructive: true
"#,
    )
    .expect("writes");
    let output = fox(&["validate", "-f", file.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).starts_with(&format!(
            "{}:12: FoxSchema/shop: spec.policy: duplicate key \"policy\" (first at line 6)",
            file.display()
        )),
        "{}",
        stdout(&output)
    );
}

#[test]
fn problems_point_at_the_line_and_column_of_their_field() {
    let expected = std::fs::read_to_string(repository_root().join("examples/invalid/EXPECTED.txt"))
        .expect("EXPECTED.txt exists");
    // bad-types.yaml declares its columns on lines 11-17, one per line.
    let line = expected
        .lines()
        .find(|l| l.contains("spec.tables[0].columns[1].type: unknown type \"strin\""))
        .expect("the problem is reported");
    let source = std::fs::read_to_string(repository_root().join("examples/invalid/bad-types.yaml"))
        .expect("bad-types.yaml exists");
    let column = source
        .lines()
        .nth(11)
        .and_then(|l| l.find("type:"))
        .expect("line 12 holds the type")
        + 1;
    assert!(
        line.starts_with(&format!("examples/invalid/bad-types.yaml:12:{column}: ")),
        "{line}"
    );
}

#[test]
fn a_type_cut_at_its_comma_in_a_flow_mapping_gets_a_hint_to_quote_it() {
    let directory = tempfile::tempdir().expect("temp dir");
    let file = directory.path().join("flow.yaml");
    std::fs::write(
        &file,
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {name: shop}\nspec:\n  databaseRef: {name: db}\n  tables:\n    - name: items\n      columns:\n        - {name: id, type: bigserial, primaryKey: true}\n        - {name: total, type: decimal(12,2)}\n",
    )
    .expect("writes");
    let output = fox(&["validate", "-f", file.to_str().expect("utf-8")]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(
        stdout(&output).contains(&format!(
            "{}:10:25: FoxSchema/shop: spec.tables[0].columns[1].type: type \"decimal(12\" has an unclosed argument list; in a flow mapping `{{...}}` a comma ends the value, so quote types with commas: `type: \"decimal(12,2)\"`",
            file.display()
        )),
        "{}",
        stdout(&output)
    );
}
