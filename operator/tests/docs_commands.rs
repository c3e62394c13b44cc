//! Every shell block of the README and docs/ is accounted for: it runs here, runs in the kind
//! end-to-end test, or says why it cannot run. What a block that runs prints is compared with the
//! block, so a page never shows output the tool does not print.
//!
//! A page declares what a ```` ```console ```` block needs with an HTML comment on the line
//! before it:
//!
//! - `<!-- run -->`: runs here, in a fresh directory (where `examples/` and `client/` are the
//!   repository's and `fox` is the binary built with these tests).
//! - `<!-- run: sqlite -->`, `<!-- run: postgres -->`, `<!-- run: mysql -->`,
//!   `<!-- run: mongodb -->` (several names run the block once per engine): the same, with a
//!   throwaway database created for the block on the local server (e2e/services.sh) and named by
//!   the environment: `DATABASE_URL` (its URL), `DATABASE_NAME`; for psql the `PG*` variables
//!   (`psql -c ...` needs no arguments), for the mariadb/mysql client a `my.cnf` under
//!   `MYSQL_HOME` (`mariadb -e ...` needs none); an SQLite database is the file `app.sqlite` in
//!   the block's directory (`sqlite3 app.sqlite`); a MongoDB database is dropped after the block.
//! - `<!-- kind -->`: a kubectl/helm block; it runs in e2e/kind/run.sh, which calls
//!   `kind_blocks_run_in_a_cluster` below with a cluster's kubeconfig, in page order, from the
//!   repository root (the blocks of a page build on each other, so each command must succeed).
//! - `<!-- not run: REASON -->`: not run, and why (it builds the repository, needs a service this
//!   machine does not have...). `sh`, `shell` and `bash` blocks take only this marker: a block
//!   that runs shows its output, so it is a `console` block.
//!
//! In a block, each `$ command` line runs with `sh -c` (a line ending in `\` continues on the
//! next), and the lines after it up to the next `$` are what it prints, standard output and error
//! together. Two forms carry over to the block's later commands: `$ export NAME=VALUE` sets the
//! variable (VALUE is expanded by `sh`) for them, and `$ command &` starts a server in the
//! background (its output is discarded) that the later commands talk to; it is killed when the
//! block ends. In that text a line `...` stands for any lines (none too), `...` inside a line for
//! any text, and a duration (`13 ms`, `1.2 s`) for any duration.

use std::path::{Path, PathBuf};
use std::process::Command;

use fox_e2e::{Backend, TestDatabase};

/// An engine a block runs against: a SQL engine, or a MongoDB-wire server.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Engine {
    Sql(Backend),
    Mongodb,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the operator crate sits in the repository")
        .to_path_buf()
}

/// The fence languages of shell blocks.
const SHELL_FENCES: [&str; 4] = ["console", "sh", "shell", "bash"];

/// What the comment before a shell block declares.
#[derive(Clone, Debug, PartialEq)]
enum Marker {
    /// Runs here: in a plain directory (no engine) or once per engine, each with a database.
    Run(Vec<Engine>),
    /// Runs in the kind end-to-end test.
    Kind,
    /// Not run, for this reason.
    NotRun(String),
}

/// The marker of the HTML comment `line`, if it is one; an error for a malformed one.
fn marker(line: &str) -> Option<Result<Marker, String>> {
    let inner = line
        .trim()
        .strip_prefix("<!--")?
        .strip_suffix("-->")?
        .trim();
    if inner == "run" {
        return Some(Ok(Marker::Run(Vec::new())));
    }
    if inner == "kind" {
        return Some(Ok(Marker::Kind));
    }
    if let Some(reason) = inner.strip_prefix("not run:") {
        return Some(if reason.trim().is_empty() {
            Err("`not run:` needs a reason".to_string())
        } else {
            Ok(Marker::NotRun(reason.trim().to_string()))
        });
    }
    let engines = inner.strip_prefix("run:")?;
    let mut found = Vec::new();
    for name in engines.split_whitespace() {
        let engine = match name {
            "sqlite" => Engine::Sql(Backend::Sqlite),
            "postgres" => Engine::Sql(Backend::Postgres),
            "mysql" => Engine::Sql(Backend::MySql),
            "mongodb" => Engine::Mongodb,
            other => {
                return Some(Err(format!(
                    "unknown engine `{other}` (sqlite, postgres, mysql or mongodb)"
                )));
            }
        };
        found.push(engine);
    }
    Some(if found.is_empty() {
        Err("`run:` names at least one engine".to_string())
    } else {
        Ok(Marker::Run(found))
    })
}

/// One shell block: where it is, its marker and its `$` commands with the output each shows.
#[derive(Debug)]
struct Example {
    place: String,
    marker: Option<Marker>,
    steps: Vec<(String, Vec<String>)>,
}

/// The shell blocks of `text` (the file `name`); an error for a block that is marked wrongly.
fn examples(name: &str, text: &str) -> Result<Vec<Example>, Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let Some(language) = lines[index].trim().strip_prefix("```") else {
            index += 1;
            continue;
        };
        let language = language.trim().to_string();
        let start = index;
        index += 1;
        let mut body = Vec::new();
        while index < lines.len() && !lines[index].trim_start().starts_with("```") {
            body.push(lines[index]);
            index += 1;
        }
        index += 1;
        let place = format!("{name}:{}", start + 1);
        let marker = start
            .checked_sub(1)
            .and_then(|before| marker(lines[before]));
        let marker = match marker {
            Some(Ok(marker)) => Some(marker),
            Some(Err(problem)) => {
                errors.push(format!("{place}: {problem}"));
                continue;
            }
            None => None,
        };
        if !SHELL_FENCES.contains(&language.as_str()) {
            if marker.is_some() {
                errors.push(format!(
                    "{place}: a marker stands before a ```{language} block"
                ));
            }
            continue;
        }
        let runs = matches!(marker, Some(Marker::Run(_) | Marker::Kind));
        if runs && language != "console" {
            errors.push(format!(
                "{place}: a block that runs is a ```console block (`$ command` and its output)"
            ));
            continue;
        }
        let mut steps: Vec<(String, Vec<String>)> = Vec::new();
        let mut continued = false;
        for line in body {
            if continued && let Some((command, _)) = steps.last_mut() {
                command.push('\n');
                command.push_str(line);
                continued = line.ends_with('\\');
                continue;
            }
            match line.strip_prefix("$ ") {
                Some(command) => {
                    continued = command.ends_with('\\');
                    steps.push((command.to_string(), Vec::new()));
                }
                None => match steps.last_mut() {
                    Some((_, output)) => output.push(line.to_string()),
                    None if runs => {
                        errors.push(format!("{place}: a block that runs starts with `$ `"));
                        break;
                    }
                    None => {}
                },
            }
        }
        found.push(Example {
            place,
            marker,
            steps,
        });
    }
    if errors.is_empty() {
        Ok(found)
    } else {
        Err(errors)
    }
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

/// The database a block runs against, with the environment that names it.
struct BlockDatabase {
    _database: Option<TestDatabase>,
    /// The URL of a MongoDB database to drop after the block.
    mongodb: Option<String>,
    environment: Vec<(String, String)>,
}

/// `scheme://user[:password]@host[:port]/name[?query]` → (user, host, port).
fn server_of(url: &str) -> (String, String, Option<String>) {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (user, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let user = user.split(':').next().unwrap_or_default().to_string();
    match host.rsplit_once(':') {
        Some((host, port)) => (user, host.to_string(), Some(port.to_string())),
        None => (user, host.to_string(), None),
    }
}

/// A fresh database on `engine` for a block running in `directory`.
fn block_database(
    runtime: &tokio::runtime::Runtime,
    engine: Engine,
    directory: &Path,
) -> BlockDatabase {
    let mut environment = Vec::new();
    let engine = match engine {
        Engine::Sql(backend) => backend,
        Engine::Mongodb => {
            static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let name = format!(
                "fox_docs_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            );
            let url = format!("{}{name}", fox_e2e::mongo_url());
            environment.push(("DATABASE_URL".into(), url.clone()));
            environment.push(("DATABASE_NAME".into(), name));
            return BlockDatabase {
                _database: None,
                mongodb: Some(url),
                environment,
            };
        }
    };
    let database = match engine {
        Backend::Sqlite => {
            environment.push(("DATABASE_URL".into(), "sqlite://app.sqlite".into()));
            environment.push(("DATABASE_NAME".into(), "app.sqlite".into()));
            None
        }
        Backend::Postgres => {
            let database = runtime.block_on(TestDatabase::create(engine));
            let (user, host, port) = server_of(database.url());
            environment.push(("PGHOST".into(), host));
            environment.push(("PGPORT".into(), port.unwrap_or_else(|| "5432".into())));
            environment.push(("PGUSER".into(), user));
            environment.push(("PGDATABASE".into(), database.name().into()));
            Some(database)
        }
        Backend::MySql => {
            let database = runtime.block_on(TestDatabase::create(engine));
            let (user, host, port) = server_of(database.url());
            let port = port.unwrap_or_else(|| "3306".into());
            // The password, if the server URL has one, stays out of the file: only tests with a
            // passwordless server (e2e/services.sh's) use the client.
            let cnf = format!(
                "[client]\nhost={host}\nport={port}\nuser={user}\ndatabase={}\n",
                database.name()
            );
            std::fs::write(directory.join("my.cnf"), cnf).expect("writes my.cnf");
            environment.push(("MYSQL_HOME".into(), directory.display().to_string()));
            Some(database)
        }
    };
    if let Some(database) = &database {
        environment.push(("DATABASE_URL".into(), database.url().into()));
        environment.push(("DATABASE_NAME".into(), database.name().into()));
    }
    BlockDatabase {
        _database: database,
        mongodb: None,
        environment,
    }
}

impl BlockDatabase {
    /// Drops a MongoDB database the block used (a SQL one goes with its `TestDatabase`).
    fn drop_mongodb(&self, runtime: &tokio::runtime::Runtime) {
        if let Some(url) = &self.mongodb {
            runtime.block_on(async {
                let db = foxdb::mongo::MongoDatabase::connect(url)
                    .await
                    .expect("connects to the MongoDB-wire server to drop the block's database");
                db.drop_database()
                    .await
                    .expect("drops the block's database");
            });
        }
    }
}

/// Servers a block started with `$ command &`, killed (with their process groups) on drop.
#[derive(Default)]
struct Background(Vec<std::process::Child>);

impl Drop for Background {
    fn drop(&mut self) {
        for child in &mut self.0 {
            // The group: `sh -c` and the server it started.
            let _ = Command::new("kill")
                .arg("--")
                .arg(format!("-{}", child.id()))
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// `sh -c SCRIPT` in `directory` with `fox` first on the PATH and `environment` set.
fn sh(script: &str, directory: &Path, environment: &[(String, String)]) -> Command {
    let fox = PathBuf::from(env!("CARGO_BIN_EXE_fox"));
    let path = format!(
        "{}:{}",
        fox.parent().expect("fox sits in a directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(script)
        .current_dir(directory)
        .env("PATH", &path)
        .env("NO_COLOR", "1")
        .envs(environment.iter().map(|(k, v)| (k, v)));
    command
}

/// The variable a `$ export NAME=VALUE` step sets, with VALUE as `sh` expands it.
fn exported(
    command: &str,
    directory: &Path,
    environment: &[(String, String)],
) -> Option<(String, String)> {
    let assignment = command.strip_prefix("export ")?;
    let (name, _) = assignment.split_once('=')?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let output = sh(
        &format!("{command}\nprintf %s \"${name}\""),
        directory,
        environment,
    )
    .output()
    .expect("runs sh");
    Some((
        name.to_string(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    ))
}

/// Starts the `$ command &` step `command` (without its `&`) in its own process group.
fn start_in_background(
    command: &str,
    directory: &Path,
    environment: &[(String, String)],
) -> std::process::Child {
    use std::os::unix::process::CommandExt as _;
    sh(&format!("exec {command}"), directory, environment)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .expect("starts sh")
}

/// Runs `command` in `directory` with `fox` first on the PATH; what it printed (stdout and
/// stderr) and whether it succeeded.
fn shell(command: &str, directory: &Path, environment: &[(String, String)]) -> (String, bool) {
    let output = sh(&format!("{{\n{command}\n}} 2>&1"), directory, environment)
        .output()
        .expect("runs sh");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.status.success(),
    )
}

/// Runs the steps of `example` in `directory`; every mismatch, described. With `strict` (the
/// kind blocks, whose steps build on each other) a command must also succeed, and the first
/// problem ends the block. (A page shows a failing command's exit code with `; echo "exit $?"`.)
fn run_steps(
    example: &Example,
    directory: &Path,
    environment: &[(String, String)],
    strict: bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut environment = environment.to_vec();
    let mut background = Background::default();
    for (command, expected) in &example.steps {
        // A trailing comment is the page's, not the command's.
        let bare = command.split(" #").next().unwrap_or(command).trim_end();
        if let Some(variable) = exported(bare, directory, &environment) {
            environment.retain(|(name, _)| *name != variable.0);
            environment.push(variable);
            continue;
        }
        if let Some(server) = bare.strip_suffix(" &") {
            background
                .0
                .push(start_in_background(server, directory, &environment));
            continue;
        }
        let environment = &environment[..];
        let (printed, succeeded) = shell(command, directory, environment);
        if strict && !succeeded {
            problems.push(format!(
                "{}: `$ {command}` failed, printing\n{printed}",
                example.place
            ));
            break;
        }
        let mut actual: Vec<&str> = printed.lines().collect();
        while actual.last().is_some_and(|l| l.trim().is_empty()) {
            actual.pop();
        }
        let mut expected = expected.clone();
        while expected.last().is_some_and(|l| l.trim().is_empty()) {
            expected.pop();
        }
        if !lines_match(&expected, &actual) {
            let engine = environment
                .iter()
                .find(|(k, _)| k == "DATABASE_URL")
                .map(|(_, url)| format!(" (on {})", url.split(':').next().unwrap_or_default()))
                .unwrap_or_default();
            problems.push(format!(
                "{}{engine}: `$ {command}` printed\n{printed}\nwhere the page shows\n{}\n",
                example.place,
                expected.join("\n")
            ));
            if strict {
                break;
            }
        }
    }
    problems
}

/// Runs a `<!-- run -->` block: in a fresh directory, once per engine it names.
fn run(example: &Example, engines: &[Engine], runtime: &tokio::runtime::Runtime) -> Vec<String> {
    let engines: Vec<Option<Engine>> = if engines.is_empty() {
        vec![None]
    } else {
        engines.iter().copied().map(Some).collect()
    };
    let mut problems = Vec::new();
    for engine in engines {
        let directory = tempfile::tempdir().expect("a temporary directory");
        for linked in ["examples", "client"] {
            std::os::unix::fs::symlink(root().join(linked), directory.path().join(linked))
                .expect("links a repository folder");
        }
        let database = engine.map(|engine| block_database(runtime, engine, directory.path()));
        let environment = database.as_ref().map_or(&[][..], |d| &d.environment[..]);
        problems.extend(run_steps(example, directory.path(), environment, false));
        if let Some(database) = &database {
            database.drop_mongodb(runtime);
        }
    }
    problems
}

/// The README and the pages under docs/, with their names relative to the repository.
fn pages() -> Vec<(String, String)> {
    fn markdown(directory: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(directory).expect("reads docs/").flatten() {
            let path = entry.path();
            if path.is_dir() {
                markdown(&path, found);
            } else if path.extension().is_some_and(|e| e == "md") {
                found.push(path);
            }
        }
    }
    let root = root();
    let mut files = Vec::new();
    markdown(&root.join("docs"), &mut files);
    files.sort();
    files.insert(0, root.join("README.md"));
    files
        .iter()
        .map(|file| {
            let name = file
                .strip_prefix(&root)
                .unwrap_or(file)
                .display()
                .to_string();
            (name, std::fs::read_to_string(file).expect("reads the page"))
        })
        .collect()
}

/// Every shell block of every page; panics listing the blocks marked wrongly.
fn all_examples() -> Vec<Example> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for (name, text) in pages() {
        match examples(&name, &text) {
            Ok(examples) => found.extend(examples),
            Err(problems) => errors.extend(problems),
        }
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    found
}

#[test]
fn every_shell_block_runs_or_says_why_not() {
    let unmarked: Vec<String> = all_examples()
        .into_iter()
        .filter(|example| example.marker.is_none())
        .map(|example| example.place)
        .collect();
    assert!(
        unmarked.is_empty(),
        "shell blocks without <!-- run -->, <!-- run: ENGINE... -->, <!-- kind --> or \
         <!-- not run: REASON --> (see operator/tests/docs_commands.rs):\n{}",
        unmarked.join("\n")
    );
}

#[test]
fn marked_shell_examples_print_what_the_pages_show() {
    let examples: Vec<Example> = all_examples()
        .into_iter()
        .filter(|example| matches!(example.marker, Some(Marker::Run(_))))
        .collect();
    assert!(!examples.is_empty(), "no page marks a block <!-- run -->");
    // The blocks are independent (a directory and databases each): they run side by side.
    let problems: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = examples
            .iter()
            .map(|example| {
                scope.spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime");
                    let Some(Marker::Run(engines)) = &example.marker else {
                        unreachable!("only run blocks are kept")
                    };
                    run(example, engines, &runtime)
                })
            })
            .collect();
        running
            .into_iter()
            .flat_map(|thread| thread.join().expect("a block's thread"))
            .collect()
    });
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The `<!-- kind -->` blocks, in page order, against the cluster of `FOX_DOCS_KUBECONFIG`
/// (e2e/kind/run.sh sets it; the test is ignored otherwise), from the repository root.
#[test]
#[ignore = "needs a kind cluster: e2e/kind/run.sh runs it"]
fn kind_blocks_run_in_a_cluster() {
    let kubeconfig = std::env::var("FOX_DOCS_KUBECONFIG")
        .expect("FOX_DOCS_KUBECONFIG names the kubeconfig of the cluster to run in");
    let environment = vec![("KUBECONFIG".to_string(), kubeconfig)];
    let mut ran = 0;
    for example in all_examples() {
        if example.marker == Some(Marker::Kind) {
            ran += 1;
            let problems = run_steps(&example, &root(), &environment, true);
            assert!(problems.is_empty(), "{}", problems.join("\n"));
        }
    }
    assert!(ran > 0, "no page marks a block <!-- kind -->");
}

/// Every ```` ```rust ```` block of docs/ is compiled: its page is included as a doctest by
/// client/src/lib.rs (`#[doc = include_str!("../../docs/PAGE.md")]`, built by `cargo test --doc
/// -p foxdb`), and a `rust,ignore` block says on the line before why it cannot be
/// (`<!-- not compiled: REASON -->`).
#[test]
fn every_rust_block_of_the_docs_is_compiled_or_says_why_not() {
    let doctests = std::fs::read_to_string(root().join("client/src/lib.rs")).expect("lib.rs");
    let mut problems = Vec::new();
    let mut compiled = 0;
    for (name, text) in pages() {
        let lines: Vec<&str> = text.lines().collect();
        let mut fenced = false;
        for (index, line) in lines.iter().enumerate() {
            let Some(language) = line.trim().strip_prefix("```") else {
                continue;
            };
            fenced = !fenced;
            if !fenced || !language.starts_with("rust") {
                continue;
            }
            let place = format!("{name}:{}", index + 1);
            if language.split(',').any(|attribute| attribute == "ignore") {
                let reason = index
                    .checked_sub(1)
                    .map(|before| lines[before].trim())
                    .and_then(|before| before.strip_prefix("<!-- not compiled:"))
                    .is_some_and(|rest| rest.trim_end_matches("-->").trim().len() > 3);
                if !reason {
                    problems.push(format!(
                        "{place}: rust,ignore without <!-- not compiled: REASON --> before it"
                    ));
                }
                continue;
            }
            let included = format!("include_str!(\"../../{name}\")");
            if name.starts_with("docs/") && !doctests.contains(&included) {
                problems.push(format!(
                    "{place}: a Rust block on a page client/src/lib.rs does not compile \
                     (add `#[cfg(doctest)] #[doc = {included}]`)"
                ));
            }
            compiled += 1;
        }
    }
    assert!(
        compiled > 20,
        "only {compiled} Rust blocks found: is the scan right?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn markers_name_engines_and_reasons() {
    assert_eq!(marker("<!-- run -->"), Some(Ok(Marker::Run(Vec::new()))));
    assert_eq!(
        marker("<!-- run: postgres mysql -->"),
        Some(Ok(Marker::Run(vec![
            Engine::Sql(Backend::Postgres),
            Engine::Sql(Backend::MySql)
        ])))
    );
    assert_eq!(
        marker("<!-- run: mongodb -->"),
        Some(Ok(Marker::Run(vec![Engine::Mongodb])))
    );
    assert_eq!(marker("<!-- kind -->"), Some(Ok(Marker::Kind)));
    assert_eq!(
        marker("<!-- not run: builds the repository -->"),
        Some(Ok(Marker::NotRun("builds the repository".into())))
    );
    assert!(matches!(marker("<!-- run: oracle -->"), Some(Err(_))));
    assert!(matches!(marker("<!-- not run: -->"), Some(Err(_))));
    assert_eq!(marker("<!-- a comment -->"), None);
    let page = "<!-- run -->\n```console\n$ echo a \\\n  b\na b\n```\n\n```sh\nls\n```\n";
    let found = examples("page.md", page).expect("well marked");
    assert_eq!(found.len(), 2);
    assert_eq!(
        found[0].steps,
        [("echo a \\\n  b".to_string(), vec!["a b".to_string()])]
    );
    assert_eq!(found[1].marker, None);
    let wrong = "<!-- run -->\n```sh\nls\n```\n";
    assert!(examples("page.md", wrong).is_err());
    assert_eq!(
        server_of("postgres://postgres@127.0.0.1:5432/x?sslmode=disable"),
        ("postgres".into(), "127.0.0.1".into(), Some("5432".into()))
    );
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

/// What a `<!-- measured: COMMAND, DATE, BUILD -->` note says is wrong, if anything: the table
/// or block after it records a run of COMMAND (its figures are measurements, not what a test
/// reproduces), on DATE (`YYYY-MM-DD`), with a `release` or `debug` build (`none`: no FoxDB
/// build ran); a `make` target must exist in the Makefile.
fn measured_problem(note: &str, makefile: &str) -> Option<String> {
    let fields: Vec<&str> = note.rsplitn(3, ',').map(str::trim).collect();
    let [build, date, command] = fields[..] else {
        return Some("needs `COMMAND, DATE, BUILD`".into());
    };
    let is_date = date.len() == 10
        && date.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !is_date {
        return Some(format!("`{date}` is no date (YYYY-MM-DD)"));
    }
    if !["release", "debug", "none"].contains(&build) {
        return Some(format!("`{build}` is no build (release, debug or none)"));
    }
    if command.is_empty() {
        return Some("names no command".into());
    }
    if let Some(target) = command.strip_prefix("make ") {
        let target = target.split_whitespace().next().unwrap_or_default();
        if !makefile
            .lines()
            .any(|l| l.starts_with(&format!("{target}:")))
        {
            return Some(format!("`make {target}` is no Makefile target"));
        }
    }
    None
}

/// Whether a section under `heading` holds measurements: all of docs/performance.md, and the
/// sections of other pages named for a measurement or a `make bench` run.
fn measures(page: &str, heading: &str) -> bool {
    let heading = heading.to_lowercase();
    page == "docs/performance.md" || heading.contains("measured") || heading.contains("`make bench")
}

/// Tables of figures and the blocks a benchmark printed are records of a run: each says which
/// (`<!-- measured: COMMAND, DATE, BUILD -->` on the line before it). Any other plain-text block
/// said to be output names the test that compares it with the real output
/// (`<!-- output: PATH -->`, PATH reading the page).
#[test]
fn measurements_and_outputs_say_where_they_come_from() {
    let makefile = std::fs::read_to_string(root().join("Makefile")).expect("the Makefile");
    let mut problems = Vec::new();
    let mut measured = 0;
    for (name, text) in pages() {
        let lines: Vec<&str> = text.lines().collect();
        // The heading of each level above the line, so a section's subsections inherit it.
        let mut headings: Vec<(usize, String)> = Vec::new();
        let mut fenced = false;
        for (index, line) in lines.iter().enumerate() {
            let place = format!("{name}:{}", index + 1);
            let before = index.checked_sub(1).map_or("", |b| lines[b].trim());
            let note = |prefix: &str| {
                before
                    .strip_prefix(prefix)
                    .and_then(|rest| rest.strip_suffix("-->"))
                    .map(str::trim)
            };
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                let language = line.trim().trim_start_matches('`').trim();
                if fenced
                    && ["", "text"].contains(&language)
                    && note("<!-- measured:").is_none()
                    && note("<!-- output:").is_none()
                    && headings.iter().any(|(_, h)| measures(&name, h))
                {
                    problems.push(format!(
                        "{place}: a block among measurements without <!-- measured: ... -->"
                    ));
                }
            }
            if fenced && !line.trim_start().starts_with("```") {
                continue;
            }
            if let Some(level) = line
                .strip_prefix('#')
                .map(|rest| 1 + rest.chars().take_while(|c| *c == '#').count())
            {
                headings.retain(|(l, _)| *l < level);
                headings.push((level, line.to_string()));
            }
            let starts_table = line.starts_with('|') && !before.starts_with('|');
            if starts_table
                && note("<!-- measured:").is_none()
                && headings.iter().any(|(_, h)| measures(&name, h))
            {
                problems.push(format!(
                    "{place}: a table among measurements without <!-- measured: ... -->"
                ));
            }
            if let Some(measure) = note("<!-- measured:") {
                measured += 1;
                if !starts_table && !line.starts_with("```") {
                    problems.push(format!(
                        "{place}: <!-- measured --> stands before no table or block"
                    ));
                }
                if let Some(problem) = measured_problem(measure, &makefile) {
                    problems.push(format!("{place}: <!-- measured: {measure} -->: {problem}"));
                }
            }
            if let Some(test) = note("<!-- output:") {
                let compared = std::fs::read_to_string(root().join(test)).unwrap_or_default();
                if !line.starts_with("```") || !compared.contains(name.as_str()) {
                    problems.push(format!(
                        "{place}: <!-- output: {test} --> must stand before a block, and {test} \
                         must read {name} to compare it"
                    ));
                }
            }
        }
    }
    assert!(
        measured > 20,
        "only {measured} measurements found: is the scan right?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_measurement_names_a_command_a_date_and_a_build() {
    let makefile = "bench-migrate: services\n";
    assert_eq!(
        measured_problem("make bench-migrate, 2026-12-06, release", makefile),
        None
    );
    assert_eq!(
        measured_problem("bench-x --a 1,2, 2026-12-06, debug", makefile),
        None
    );
    assert!(measured_problem("make bench-nothing, 2026-12-06, release", makefile).is_some());
    assert!(measured_problem("make bench-migrate, yesterday, release", makefile).is_some());
    assert!(measured_problem("make bench-migrate, 2026-12-06, fast", makefile).is_some());
    assert!(measured_problem("make bench-migrate", makefile).is_some());
}
