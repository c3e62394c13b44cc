//! An engine is one `impl Dialect` (client/src/dialect/) plus its driver binding
//! (client/src/backend/). Elsewhere code asks the dialect, or matches on `Backend` with an arm
//! per engine, so that adding an engine makes the compiler point at every place it must answer:
//! an `== Backend::X` test or a `_ =>` arm would let a new engine through silently.

use std::path::{Path, PathBuf};

/// The source trees scanned: the client's and the operator's.
fn source_roots() -> Vec<PathBuf> {
    let client = Path::new(env!("CARGO_MANIFEST_DIR"));
    vec![client.join("src"), client.join("../operator/src")]
}

/// Where engine differences belong.
fn is_engine_module(path: &Path) -> bool {
    let path = path.to_string_lossy().replace('\\', "/");
    path.contains("client/src/dialect/") || path.contains("client/src/backend/")
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

fn scanned_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for root in source_roots() {
        rust_files(&root, &mut files);
    }
    assert!(files.len() > 50, "the source trees were found");
    files
}

/// Whether `line` tests a value for one engine: `== Backend::X`, `Backend::X !=`,
/// `matches!(.., Backend::X)` or `if let Backend::X`.
fn tests_for_one_engine(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    let Some(at) = code.find("Backend::") else {
        return false;
    };
    let before = code[..at].trim_end();
    let after = &code[at + "Backend::".len()..];
    let after_variant = after.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    before.ends_with("==")
        || before.ends_with("!=")
        || after_variant.trim_start().starts_with("==")
        || after_variant.trim_start().starts_with("!=")
        || before.ends_with("if let")
        || (code.contains("matches!(")
            && code[code.find("matches!(").unwrap_or(0)..].contains("Backend::"))
        || tests_for_one_engine(after)
}

#[test]
fn no_code_outside_the_engine_modules_tests_for_one_engine() {
    let mut found = Vec::new();
    for file in scanned_files() {
        if is_engine_module(&file) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("reads the source");
        for (number, line) in text.lines().enumerate() {
            if tests_for_one_engine(line) {
                found.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "engine tests outside client/src/dialect and client/src/backend (make them a `Dialect` method, or a `match` with an arm per engine):\n{}",
        found.join("\n")
    );
}

/// The arms at the top level of the `match` block starting at `open` (the `{`), as the text of
/// each arm's pattern.
fn top_level_patterns(text: &str, open: usize) -> Vec<String> {
    let mut patterns = Vec::new();
    let mut depth = 0usize;
    let mut pattern = String::new();
    let mut in_pattern = true;
    let mut chars = text[open..].char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '{' | '(' | '[' => {
                depth += 1;
                if depth == 1 {
                    continue;
                }
            }
            '}' | ')' | ']' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
                if depth == 1 && c == '}' {
                    // The end of a block arm's body: the next arm's pattern follows.
                    in_pattern = true;
                    pattern.clear();
                    continue;
                }
            }
            ',' if depth == 1 => {
                in_pattern = true;
                pattern.clear();
                continue;
            }
            '=' if depth == 1 && in_pattern && chars.peek().is_some_and(|(_, n)| *n == '>') => {
                patterns.push(pattern.trim().to_string());
                in_pattern = false;
                continue;
            }
            _ => {}
        }
        if depth >= 1 && in_pattern {
            pattern.push(c);
        }
    }
    patterns
}

#[test]
fn matches_over_engines_name_every_engine() {
    let mut found = Vec::new();
    for file in scanned_files() {
        let text = std::fs::read_to_string(&file).expect("reads the source");
        let mut from = 0;
        while let Some(at) = text[from..].find("match ") {
            let start = from + at;
            from = start + 6;
            let Some(open) = text[start..].find('{').map(|o| start + o) else {
                break;
            };
            let patterns = top_level_patterns(&text, open);
            let over_engines = patterns
                .iter()
                .any(|p| p.starts_with("Backend::") || p.contains("| Backend::"));
            if over_engines && patterns.iter().any(|p| p == "_" || p.starts_with("_ if")) {
                let line = text[..start].lines().count();
                found.push(format!("{}:{line}", file.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "`match`es over Backend with a `_ =>` arm (name every engine, so a new one is a compile error):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_sees_what_it_forbids() {
    assert!(tests_for_one_engine("if backend == Backend::MySql {"));
    assert!(tests_for_one_engine("let x = Backend::Sqlite != backend;"));
    assert!(tests_for_one_engine(
        "if matches!(backend, Backend::Postgres) {"
    ));
    assert!(tests_for_one_engine("if let Backend::Postgres = backend {"));
    assert!(!tests_for_one_engine("Backend::MySql => true,"));
    assert!(!tests_for_one_engine(
        "// once: `backend == Backend::MySql`"
    ));
    let source = "match backend { Backend::MySql => 1, _ => 2 }";
    assert_eq!(
        top_level_patterns(source, source.find('{').expect("a brace")),
        ["Backend::MySql", "_"]
    );
    let nested = "match b { Backend::MySql => { match x { _ => 1 } } Backend::Sqlite | Backend::Postgres => 2 }";
    assert_eq!(
        top_level_patterns(nested, nested.find('{').expect("a brace")),
        ["Backend::MySql", "Backend::Sqlite | Backend::Postgres"]
    );
}
