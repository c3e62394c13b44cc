//! `make demo` (the README's first command) works: its recipe, read from the Makefile, runs with
//! the `fox` these tests build in place of the one `make build` makes, on a fresh SQLite file, and
//! every line succeeds (the last one, `fox plan --detailed-exitcode`, only when the re-plan is
//! empty).

use std::path::Path;
use std::process::Command;

#[test]
fn the_make_demo_recipe_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the operator crate sits in the repository");
    let makefile = std::fs::read_to_string(root.join("Makefile")).expect("the Makefile");
    let recipe: Vec<&str> = makefile
        .lines()
        .skip_while(|line| !line.starts_with("demo:"))
        .skip(1)
        .take_while(|line| line.starts_with('\t'))
        .map(str::trim)
        .collect();
    assert!(recipe.len() >= 5, "the demo recipe: {recipe:?}");
    let directory = tempfile::tempdir().expect("a temporary directory");
    let database = directory.path().join("demo/blog.sqlite");
    let folder = format!("{}/", directory.path().join("demo").display());
    for line in recipe {
        let command = line
            .replace("$(dir $(DEMO_DB))", &folder)
            .replace("$(DEMO_DB)", &database.display().to_string())
            .replace("$(FOX)", env!("CARGO_BIN_EXE_fox"));
        assert!(
            !command.contains("$("),
            "a make variable the test does not know: {line}"
        );
        let output = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(root)
            .output()
            .expect("runs sh");
        assert!(
            output.status.success(),
            "`{line}` failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
