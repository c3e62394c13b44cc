//! A short, seeded run of the fuzz targets (see `fox_operator::fuzz_targets` and `fuzz/`) on
//! stable Rust, without libFuzzer: mutated manifests through the reader, generated schemas
//! through plan, apply and re-plan on SQLite. Longer runs: `FOX_FUZZ_INPUTS` and
//! `FOX_FUZZ_SCHEMAS` raise the counts (docs/contributing/testing.md, "Fuzzing").

use std::path::{Path, PathBuf};

use fox_operator::fuzz_targets::{
    RoundTrip, plan_apply_replan, read_manifest_bytes, schema_from_bytes,
};

/// xorshift64*: a fixed seed gives the same inputs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % bound.max(1) as u64).expect("fits")
    }
}

fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn yaml_files(directory: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(directory) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            files.push(path);
        }
    }
}

/// Fragments that steer mutations toward what the reader treats specially.
const TOKENS: [&str; 34] = [
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "!foo ",
    "\n",
    "  ",
    "'",
    "\"",
    "#",
    "---\n",
    "...\n",
    "? ",
    "|\n",
    ">-\n",
    "~",
    "null",
    "1e999",
    "-0",
    "99999999999999999999",
    "decimal(12,2)",
    " unique",
    " references users.id on delete cascade",
    "?",
    "\t",
    "\u{feff}",
    "é😀",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(input.len() + 1);
        match rng.below(6) {
            0 if !input.is_empty() => {
                let at = at.min(input.len() - 1);
                input[at] ^= 1 << rng.below(8);
            }
            1 => input.insert(at, u8::try_from(rng.below(256)).expect("a byte")),
            2 => {
                let end = (at + rng.below(16)).min(input.len());
                input.drain(at..end);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                input.splice(at..at, token.iter().copied());
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let start = rng.below(other.len());
                let end = (start + rng.below(200)).min(other.len());
                input.splice(at..at, other[start..end].iter().copied());
            }
            _ => {
                let end = (at + rng.below(64)).min(input.len());
                let copy: Vec<u8> = input[at..end].to_vec();
                input.splice(end..end, copy);
            }
        }
    }
    input
}

#[test]
fn mutated_manifests_never_panic_the_reader() {
    let mut files = Vec::new();
    yaml_files(&repository_root().join("examples"), &mut files);
    yaml_files(
        &repository_root().join("operator/tests/fixtures"),
        &mut files,
    );
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("readable"))
        .collect();
    assert!(seeds.len() > 10, "{files:?}");
    let inputs = count_from_env("FOX_FUZZ_INPUTS", 2_000);
    let seed = u64::try_from(count_from_env("FOX_FUZZ_SEED", 0x5eed)).expect("fits");
    let mut rng = Rng(seed | 1);
    let started = std::time::Instant::now();
    let mut with_problems = 0;
    for _ in 0..inputs {
        if read_manifest_bytes(&mutate(&mut rng, &seeds)) > 0 {
            with_problems += 1;
        }
    }
    // The mutations must reach validation, not only the YAML syntax check.
    assert!(with_problems > inputs / 10, "{with_problems} of {inputs}");
    eprintln!(
        "{inputs} manifest inputs, {with_problems} with problems, in {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn generated_schemas_apply_and_re_plan_empty_on_sqlite() {
    let schemas = count_from_env("FOX_FUZZ_SCHEMAS", 25);
    let directory = tempfile::tempdir().expect("a temporary directory");
    let mut rng = Rng(0x00f0_c5db);
    let (mut valid, mut statements) = (0, 0);
    for n in 0..schemas {
        let bytes: Vec<u8> = (0..256).map(|_| rng.next().to_le_bytes()[0]).collect();
        let spec = schema_from_bytes(&bytes);
        let path = directory.path().join(format!("{n}.sqlite"));
        match plan_apply_replan(&spec, &path).await {
            Ok(RoundTrip::Invalid) => {}
            Ok(RoundTrip::InSync { statements: count }) => {
                valid += 1;
                statements += count;
            }
            Err(problem) => panic!("schema {n}: {problem}"),
        }
        let _ = std::fs::remove_file(&path);
    }
    assert!(
        valid * 2 >= schemas,
        "only {valid} of {schemas} generated schemas were valid"
    );
    eprintln!("{schemas} generated schemas, {valid} valid, {statements} statements applied");
}
