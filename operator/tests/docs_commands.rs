//! The shell examples of the README and docs/ marked to run (an HTML comment `<!-- run -->` on
//! the line before a ```` ```console ```` block) run here, and what they print is compared with
//! the block, so a page never shows output the tool does not print.
//!
//! In a block, each `$ command` line runs with `sh -c` in one fresh directory per block (where
//! `examples/` is the repository's, and `fox` is the binary built with these tests), and the
//! lines after it up to the next `$` are what it prints, standard output and error together.
//! In that text a line `...` stands for any lines (none too), `...` inside a line for any text,
//! and a duration (`13 ms`, `1.2 s`) for any duration. Blocks that call kubectl or helm belong
//! to the kind end-to-end run (e2e/kind/) and are not marked.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the operator crate sits in the repository")
        .to_path_buf()
}

/// The marker on the line before a block that runs.
const MARKER: &str = "<!-- run -->";

/// One marked block: where it is and its `$` commands with the output each shows.
struct Example {
    place: String,
    steps: Vec<(String, Vec<String>)>,
}

/// The marked `console` blocks of `text` (the file `name`).
fn examples(name: &str, text: &str) -> Vec<Example> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        if line.trim() != MARKER {
            continue;
        }
        let fence = lines.get(index + 1).map_or("", |l| l.trim());
        assert_eq!(
            fence,
            "```console",
            "{name}:{}: {MARKER} must stand right before a ```console block",
            index + 1
        );
        let mut steps: Vec<(String, Vec<String>)> = Vec::new();
        for body in &lines[index + 2..] {
            if body.trim_start().starts_with("```") {
                break;
            }
            match body.strip_prefix("$ ") {
                Some(command) => steps.push((command.to_string(), Vec::new())),
                None => match steps.last_mut() {
                    Some((_, output)) => output.push(body.to_string()),
                    None => panic!(
                        "{name}:{}: a run block starts with a `$ command` line",
                        index + 3
                    ),
                },
            }
        }
        found.push(Example {
            place: format!("{name}:{}", index + 2),
            steps,
        });
    }
    found
}

/// `text` with every duration (`13 ms`, `1.25 s`) written `<duration>`.
fn without_durations(text: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_number =
            chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_alphanumeric());
        if starts_number {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let rest: String = chars[j..].iter().take(4).collect();
            let unit = [" ms", " s"].into_iter().find(|u| {
                rest.starts_with(u) && !rest[u.len()..].starts_with(char::is_alphanumeric)
            });
            if let Some(unit) = unit {
                out.push_str("<duration>");
                i = j + unit.len();
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Whether `actual` is `expected` where each `...` stands for any text.
fn line_matches(expected: &str, actual: &str) -> bool {
    let expected = without_durations(expected.trim_end());
    let actual = without_durations(actual.trim_end());
    let parts: Vec<&str> = expected.split("...").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether the lines `actual` are `expected`, where an `...` line stands for any lines.
fn lines_match(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|skip| lines_match(rest, &actual[skip..]))
        }
        Some((first, rest)) => {
            !actual.is_empty() && line_matches(first, actual[0]) && lines_match(rest, &actual[1..])
        }
    }
}

/// Runs the steps of `example` in a fresh directory; every mismatch, described.
fn run(example: &Example, fox: &Path) -> Vec<String> {
    let directory = tempfile::tempdir().expect("a temporary directory");
    std::os::unix::fs::symlink(root().join("examples"), directory.path().join("examples"))
        .expect("links examples/");
    let path = format!(
        "{}:{}",
        fox.parent().expect("fox sits in a directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut problems = Vec::new();
    for (command, expected) in &example.steps {
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!("{command} 2>&1"))
            .current_dir(directory.path())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .expect("runs sh");
        let printed = String::from_utf8_lossy(&output.stdout).into_owned();
        let mut actual: Vec<&str> = printed.lines().collect();
        while actual.last().is_some_and(|l| l.trim().is_empty()) {
            actual.pop();
        }
        let mut expected = expected.clone();
        while expected.last().is_some_and(|l| l.trim().is_empty()) {
            expected.pop();
        }
        if !lines_match(&expected, &actual) {
            problems.push(format!(
                "{}: `$ {command}` printed\n{printed}\nwhere the page shows\n{}\n",
                example.place,
                expected.join("\n")
            ));
        }
    }
    problems
}

#[test]
fn marked_shell_examples_print_what_the_pages_show() {
    let root = root();
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let fox = PathBuf::from(env!("CARGO_BIN_EXE_fox"));
    let mut ran = 0;
    let mut problems = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("reads the page");
        let name = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .display()
            .to_string();
        for example in examples(&name, &text) {
            ran += 1;
            problems.extend(run(&example, &fox));
        }
    }
    assert!(ran > 0, "no page marks a block {MARKER}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn output_patterns_take_elisions_and_durations() {
    let expected: Vec<String> = ["Plan 1a: 3 changes", "...", "Applied in 55 ms: ... rows."]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(lines_match(
        &expected,
        &[
            "Plan 1a: 3 changes",
            "a",
            "b",
            "Applied in 3 ms: 2 seed rows."
        ]
    ));
    assert!(lines_match(
        &expected,
        &["Plan 1a: 3 changes", "Applied in 1.5 s: x rows."]
    ));
    assert!(!lines_match(
        &expected,
        &["Plan 1b: 3 changes", "Applied in 3 ms: 2 rows."]
    ));
    assert!(!lines_match(&expected, &["Plan 1a: 3 changes"]));
    assert!(!line_matches("[ 1/17] x", "[ 1-17/17] x"));
}
