//! Query statistics: every statement is timed, counted per query shape, and reported when slow.
//!
//! A query shape is the statement text with its literals and placeholders replaced by `?`,
//! comments left out and parameter lists collapsed (`IN ($1, $2, $3)` → `IN (?, …)`), read the
//! way the engine's own lexer reads it (`crate::lexer`): MySQL's `"..."` strings and
//! backslash escapes, PostgreSQL's `E'...'` and `$$...$$` strings are literals like `'...'`.
//! Slow statements are logged through `tracing` (target `foxdb::slow_query`) with the shape,
//! never the values. [`QueryStats::register`] exposes the numbers to a Prometheus registry.
//!
//! # Guarantees
//! - No literal of the statement appears in a shape, a metric label or the slow-query log; a
//!   statement the lexer cannot read to its end keeps only the shape of what it could read.
//! - At most [`QueryStats::max_shapes`] shapes are kept (and so Prometheus series per metric);
//!   statements of further shapes are counted under the one shape [`OVERFLOW_SHAPE`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::Backend;
use crate::lexer::{TokenKind, Tokens, read_tokens};
use prometheus::{Histogram, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Longest statement text kept as a shape.
const SHAPE_LENGTH: usize = 240;
/// Shapes kept by default: far more than the distinct statements of a service, few enough that
/// the `/metrics` body stays small.
pub const DEFAULT_MAX_SHAPES: usize = 1000;
/// The shape (and metric label) under which statements past [`QueryStats::max_shapes`] count.
pub const OVERFLOW_SHAPE: &str = "other";
/// Statement texts whose shape is remembered: the builder writes the same few texts again and
/// again, and working a shape out is costly for long ones (200 µs for a 1000-row `INSERT`).
const REMEMBERED_SHAPES: usize = 4096;

/// Counts and latencies of the statements one [`crate::Database`] ran.
pub struct QueryStats {
    backend: Backend,
    slow_threshold: Option<Duration>,
    max_shapes: usize,
    durations: HistogramVec,
    slow: IntCounterVec,
    errors: IntCounterVec,
    /// Every shape seen, by its text.
    shapes: Mutex<HashMap<String, Arc<Shape>>>,
    /// What is known of a statement text, by a hash of it, for up to [`REMEMBERED_SHAPES`]
    /// texts: a statement run before costs one hash and one lookup.
    remembered: Mutex<HashMap<u64, Arc<Statement>, TextHashed>>,
}

/// Leaves the shapes out: they are many, and what a service runs is not for every log line
/// that prints a [`crate::Database`].
impl std::fmt::Debug for QueryStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shapes = self.shapes.lock().map_or(0, |shapes| shapes.len());
        f.debug_struct("QueryStats")
            .field("backend", &self.backend)
            .field("slow_threshold", &self.slow_threshold)
            .field("max_shapes", &self.max_shapes)
            .field("shapes", &shapes)
            .finish_non_exhaustive()
    }
}

/// What is worked out once per statement text: its shape, and its placeholders counted.
#[derive(Debug)]
pub(crate) struct Statement {
    /// The statement text, shared with the driver on every run (no copy per statement).
    sql: Arc<str>,
    shape: Arc<Shape>,
    /// Counted on first use: `record` alone does not need it.
    placeholders: std::sync::OnceLock<Result<usize, crate::lexer::Uncountable>>,
    /// Whether a replica may answer it, worked out on first use: the router asks before
    /// every statement of a database with replicas.
    plain_read: std::sync::OnceLock<bool>,
}

impl Statement {
    /// The statement text as the driver takes it.
    pub(crate) fn sql(&self) -> sqlx::AssertSqlSafe<Arc<str>> {
        sqlx::AssertSqlSafe(self.sql.clone())
    }

    /// Whether it is a plain read a replica may answer
    /// ([`crate::router::statement::is_plain_read`]), scanned once per statement text.
    pub(crate) fn is_plain_read(&self) -> bool {
        *self
            .plain_read
            .get_or_init(|| crate::router::statement::is_plain_read(&self.sql))
    }

    /// Refuses `values` that do not fit the statement's placeholders (see
    /// `connection::check_parameter_count`).
    pub(crate) fn check_parameters(
        &self,
        backend: crate::Backend,
        sql: &str,
        values: &(impl crate::connection::StatementValues + ?Sized),
    ) -> crate::Result<()> {
        let expected = self
            .placeholders
            .get_or_init(|| crate::lexer::expected_parameters(backend, sql));
        crate::connection::check_counted_parameters(backend, sql, expected, values)
    }
}

/// One query shape: its histogram (the label already resolved) and its numbers.
#[derive(Debug)]
struct Shape {
    text: String,
    duration: Histogram,
    numbers: ShapeCounters,
}

/// [`ShapeStats`] as counters every statement adds to without a lock (durations in
/// nanoseconds).
#[derive(Debug, Default)]
struct ShapeCounters {
    count: AtomicU64,
    slow: AtomicU64,
    errors: AtomicU64,
    total_nanos: AtomicU64,
    max_nanos: AtomicU64,
}

impl ShapeCounters {
    fn add(&self, elapsed: Duration, slow: bool, failed: bool) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.count.fetch_add(1, Ordering::Relaxed);
        if slow {
            self.slow.fetch_add(1, Ordering::Relaxed);
        }
        if failed {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        self.total_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.max_nanos.fetch_max(nanos, Ordering::Relaxed);
    }

    fn read(&self) -> ShapeStats {
        ShapeStats {
            count: self.count.load(Ordering::Relaxed),
            slow: self.slow.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            total: Duration::from_nanos(self.total_nanos.load(Ordering::Relaxed)),
            max: Duration::from_nanos(self.max_nanos.load(Ordering::Relaxed)),
        }
    }
}

/// What is known about one query shape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ShapeStats {
    /// Executions.
    pub count: u64,
    /// Executions slower than the threshold.
    pub slow: u64,
    /// Failed executions.
    pub errors: u64,
    /// Total time spent.
    pub total: Duration,
    /// Slowest execution.
    pub max: Duration,
}

impl QueryStats {
    /// Statistics of statements run on `backend`, with an optional slow-query threshold,
    /// keeping up to [`DEFAULT_MAX_SHAPES`] shapes.
    ///
    /// # Panics
    /// Never: the metric definitions are constant and valid.
    pub fn new(backend: Backend, slow_threshold: Option<Duration>) -> Self {
        let durations = HistogramVec::new(
            HistogramOpts::new(
                "foxdb_query_duration_seconds",
                "Time taken by statements, per query shape",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["shape"],
        )
        .expect("valid histogram definition");
        let slow = IntCounterVec::new(
            Opts::new(
                "foxdb_slow_queries_total",
                "Statements slower than the slow-query threshold",
            ),
            &["shape"],
        )
        .expect("valid counter definition");
        let errors = IntCounterVec::new(
            Opts::new("foxdb_query_errors_total", "Statements that failed"),
            &["shape"],
        )
        .expect("valid counter definition");
        Self {
            backend,
            slow_threshold,
            max_shapes: DEFAULT_MAX_SHAPES,
            durations,
            slow,
            errors,
            shapes: Mutex::default(),
            remembered: Mutex::default(),
        }
    }

    /// Keeps at most `max_shapes` shapes (and Prometheus series per metric); statements of
    /// further shapes are counted under [`OVERFLOW_SHAPE`]. Zero counts every statement there.
    #[must_use]
    pub fn with_max_shapes(mut self, max_shapes: usize) -> Self {
        self.max_shapes = max_shapes;
        self
    }

    /// The most shapes kept apart; see [`QueryStats::with_max_shapes`].
    pub fn max_shapes(&self) -> usize {
        self.max_shapes
    }

    /// Adds FoxDB's query metrics to `registry` (for a `/metrics` endpoint).
    ///
    /// # Errors
    /// The registry already holds metrics with these names.
    pub fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.durations.clone()))?;
        registry.register(Box::new(self.slow.clone()))?;
        registry.register(Box::new(self.errors.clone()))
    }

    /// Records one execution of `sql`.
    pub fn record(&self, sql: &str, elapsed: Duration, failed: bool) {
        self.record_statement(&self.statement(sql), elapsed, failed);
    }

    /// Records one execution of `statement` (from [`QueryStats::statement`]).
    pub(crate) fn record_statement(&self, statement: &Statement, elapsed: Duration, failed: bool) {
        let shape = &statement.shape;
        shape.duration.observe(elapsed.as_secs_f64());
        let slow = self
            .slow_threshold
            .is_some_and(|threshold| elapsed >= threshold);
        if slow {
            self.slow.with_label_values(&[&shape.text]).inc();
            tracing::warn!(target: "foxdb::slow_query", elapsed_ms = elapsed.as_millis() as u64, sql = %shape.text, "slow query");
        }
        if failed {
            self.errors.with_label_values(&[&shape.text]).inc();
        }
        shape.numbers.add(elapsed, slow, failed);
    }

    /// What is known of `sql` (its [`query_shape`], its placeholders once counted),
    /// remembered for the next time the same text runs.
    pub(crate) fn statement(&self, sql: &str) -> Arc<Statement> {
        let hash = text_hash(sql);
        if let Some(statement) = self
            .remembered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&hash)
            // Another text with the same hash is worked out afresh (and not remembered).
            .filter(|statement| &*statement.sql == sql)
        {
            return statement.clone();
        }
        // Worked out outside the lock: long statements take a while.
        let text = query_shape(self.backend, sql);
        let shape = {
            let mut shapes = self.shapes.lock().unwrap_or_else(|e| e.into_inner());
            // The overflow shape is one of the map's entries but not one of the `max_shapes`.
            let kept = shapes.len() - usize::from(shapes.contains_key(OVERFLOW_SHAPE));
            let text = if kept >= self.max_shapes && !shapes.contains_key(&text) {
                OVERFLOW_SHAPE.to_string()
            } else {
                text
            };
            shapes
                .entry(text)
                .or_insert_with_key(|text| {
                    Arc::new(Shape {
                        duration: self.durations.with_label_values(&[text]),
                        text: text.clone(),
                        numbers: ShapeCounters::default(),
                    })
                })
                .clone()
        };
        let statement = Arc::new(Statement {
            sql: sql.into(),
            shape,
            placeholders: std::sync::OnceLock::new(),
            plain_read: std::sync::OnceLock::new(),
        });
        let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        if remembered.len() < REMEMBERED_SHAPES {
            remembered.entry(hash).or_insert_with(|| statement.clone());
        }
        statement
    }

    /// Every shape seen so far with its numbers, most frequent first.
    pub fn snapshot(&self) -> Vec<(String, ShapeStats)> {
        let mut shapes: Vec<(String, ShapeStats)> = self
            .shapes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|shape| (shape.text.clone(), shape.numbers.read()))
            .collect();
        shapes.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
        shapes
    }
}

/// The remembered statements' keys are [`text_hash`]es already: one multiplication
/// (FxHash) rehashes them for the map, where SipHash costs more than the lookup.
type TextHashed = rustc_hash::FxBuildHasher;

/// A hash of a statement text, eight bytes at a time (FxHash's step): the same text hashes the
/// same on every call. Texts that collide are told apart by comparing them.
fn text_hash(sql: &str) -> u64 {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let step = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    let mut chunks = sql.as_bytes().chunks_exact(8);
    let mut hash = sql.len() as u64;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        hash = step(hash, u64::from_le_bytes(word));
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    step(hash, u64::from_le_bytes(last))
}

/// The statement as a shape, read as `backend` reads it: literals and placeholders become `?`
/// (strings `'?'`), comments are left out, lists of identical items collapse to `item, …`, and a
/// long statement keeps a prefix plus a hash of the whole. A statement that ends inside a string
/// or comment, or holds a placeholder foxdb cannot bind, keeps what was read before it and `…`.
pub fn query_shape(backend: Backend, sql: &str) -> String {
    let shape = collapse_repeats(&normalize_literals(backend, sql));
    if shape.chars().count() <= SHAPE_LENGTH {
        return shape;
    }
    let hash = shape.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let prefix: String = shape.chars().take(SHAPE_LENGTH - 20).collect();
    format!("{prefix}…#{hash:016x}")
}

/// Replaces string and number literals and placeholders by `?` and leaves comments out;
/// quoted identifiers stay.
fn normalize_literals(backend: Backend, sql: &str) -> String {
    let mut shape = LiteralFree {
        sql,
        out: String::with_capacity(sql.len()),
    };
    let read = read_tokens(backend, sql, &mut shape);
    let trimmed = shape.out.trim_end().len();
    shape.out.truncate(trimmed);
    if read.is_err() {
        // What follows the last token read may be a literal: it is left out.
        shape.out.push_str(" …");
    }
    shape.out
}

/// Writes a statement's tokens with their literals replaced.
struct LiteralFree<'a> {
    sql: &'a str,
    out: String,
}

impl Tokens for LiteralFree<'_> {
    fn token(&mut self, kind: TokenKind, span: std::ops::Range<usize>) {
        match kind {
            TokenKind::Text => self.push_text(self.sql.get(span).unwrap_or_default()),
            TokenKind::QuotedIdentifier => {
                self.out.push_str(self.sql.get(span).unwrap_or_default())
            }
            // Counting stops before such text: it never reaches a shape.
            TokenKind::String | TokenKind::Unterminated => self.out.push_str("'?'"),
            TokenKind::Placeholder => self.out.push('?'),
            TokenKind::Comment => {
                if !self.out.ends_with(char::is_whitespace) && !self.out.is_empty() {
                    self.out.push(' ');
                }
            }
        }
    }
}

impl LiteralFree<'_> {
    /// Copies text outside strings, identifiers and comments with each number (`12`, `1.5`,
    /// `1e5`, `0x1F`; a digit that does not continue a name) replaced by `?`.
    fn push_text(&mut self, text: &str) {
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            let continues_name = self
                .out
                .chars()
                .last()
                .is_some_and(|p| p.is_alphanumeric() || p == '_' || p == '$');
            if !c.is_ascii_digit() || continues_name {
                self.out.push(c);
                continue;
            }
            // `1.5` may reach here as `1`, `.` and `5`: one number.
            if self.out.ends_with("?.") {
                self.out.pop();
            } else {
                self.out.push('?');
            }
            while chars
                .next_if(|n| n.is_ascii_alphanumeric() || *n == '.' || *n == '_')
                .is_some()
            {}
        }
    }
}

/// Collapses runs of identical comma-separated items, at every nesting level:
/// `IN (?, ?, ?)` → `IN (?, …)`, `VALUES (?, ?), (?, ?)` → `VALUES (?, ?), …`.
fn collapse_repeats(text: &str) -> String {
    // Innermost groups first.
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '(' {
            let mut depth = 1;
            let mut inner = String::new();
            for n in chars.by_ref() {
                match n {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                inner.push(n);
            }
            out.push('(');
            let group = collapse_repeats(&inner);
            // A list of one placeholder reads like a longer one: `IN (?)` ≈ `IN (?, ?)`.
            if group.trim().contains('?') && !group.contains(',') && !group.contains(' ') {
                out.push_str(group.trim());
                out.push_str(", …");
            } else {
                out.push_str(&group);
            }
            out.push(')');
        } else {
            out.push(c);
        }
    }
    let items = split_top_level(&out);
    // `VALUES (…), (…)`: the first item carries the statement before the list.
    let repeats = |previous: &str, item: &str| {
        previous.trim() == item.trim()
            || previous.trim_end().ends_with(&format!(" {}", item.trim()))
    };
    let mut collapsed: Vec<&str> = Vec::new();
    for item in &items {
        match collapsed.as_slice() {
            [.., before, last] if last.trim() == "…" && repeats(before, item) => {}
            [.., last] if repeats(last, item) => collapsed.push(" …"),
            _ => collapsed.push(item),
        }
    }
    collapsed.join(",")
}

/// Splits at commas outside parentheses and quotes.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0_i32, None, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"' | '`') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_hide_values_and_collapse_lists() {
        assert_eq!(
            query_shape(
                Backend::Postgres,
                r#"SELECT "id" FROM "people" WHERE "id" IN ($1, $2, $3) AND "age" > $4 LIMIT 20 OFFSET 40"#
            ),
            r#"SELECT "id" FROM "people" WHERE "id" IN (?, …) AND "age" > ? LIMIT ? OFFSET ?"#
        );
        assert_eq!(
            query_shape(
                Backend::Sqlite,
                r#"INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?), (?, ?)"#
            ),
            r#"INSERT INTO "t" ("a", "b") VALUES (?, …), …"#
        );
        assert_eq!(
            query_shape(
                Backend::Postgres,
                r#"SELECT 1 FROM "t2" WHERE "s" IN (CAST($1 AS "e"), CAST($2 AS "e")) AND "n" = 'O''Brien'"#
            ),
            r#"SELECT ? FROM "t2" WHERE "s" IN (CAST(? AS "e"), …) AND "n" = '?'"#
        );
        let long = format!(
            "SELECT {} FROM t",
            (0..100)
                .map(|i| format!("c{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let other = long.replace("c99", "c98");
        assert_ne!(
            query_shape(Backend::Postgres, &long),
            query_shape(Backend::Postgres, &other),
            "long statements keep a hash of the whole"
        );
    }

    /// Every literal form of each engine, holding `s3cr3t`: none survives in the shape.
    #[test]
    fn no_literal_form_of_any_engine_survives_in_a_shape() {
        let cases: [(Backend, &str, &str); 14] = [
            (Backend::MySql, r#"SELECT "s3cr3t""#, "SELECT '?'"),
            (Backend::MySql, r#"SELECT "a\" s3cr3t""#, "SELECT '?'"),
            (Backend::MySql, r"SELECT 'it\' s3cr3t'", "SELECT '?'"),
            (
                Backend::MySql,
                "SELECT `s3cr3t` FROM t # s3cr3t",
                "SELECT `s3cr3t` FROM t",
            ),
            (
                Backend::MySql,
                "SELECT 1 /*! + 0x5333 */ -- s3cr3t",
                "SELECT ? /*! + ? */",
            ),
            (Backend::Postgres, r"SELECT E'it\' s3cr3t'", "SELECT '?'"),
            (Backend::Postgres, "SELECT $$api_key=s3cr3t$$", "SELECT '?'"),
            (
                Backend::Postgres,
                "SELECT $k$ $$ s3cr3t $k$, 1.5e3",
                "SELECT '?', ?",
            ),
            (
                Backend::Postgres,
                "SELECT 1 /* a /* b */ s3cr3t */",
                "SELECT ?",
            ),
            (
                Backend::Postgres,
                r#"SELECT "s3cr3t" FROM t"#,
                r#"SELECT "s3cr3t" FROM t"#,
            ),
            (
                Backend::Sqlite,
                "SELECT 's3cr3t', x'5333'",
                "SELECT '?', x'?'",
            ),
            (
                Backend::Sqlite,
                "SELECT [s3cr3t] FROM t WHERE a = ?1",
                "SELECT [s3cr3t] FROM t WHERE a = ?",
            ),
            (Backend::Sqlite, "SELECT 1 /* s3cr3t", "SELECT ?"),
            (Backend::Postgres, "SELECT 'abc', 's3cr3t", "SELECT '?', …"),
        ];
        for (backend, sql, expected) in cases {
            let shape = query_shape(backend, sql);
            assert_eq!(shape, expected, "{backend:?}: {sql}");
        }
        // Quoted identifiers are names, not literals: they stay (the `s3cr3t` identifiers above).
    }

    #[test]
    fn shapes_past_the_limit_count_under_one_overflow_shape() {
        let stats = QueryStats::new(Backend::Postgres, None).with_max_shapes(3);
        for i in 0..10 {
            stats.record(
                &format!("SELECT c{i} FROM t"),
                Duration::from_millis(1),
                false,
            );
        }
        let snapshot = stats.snapshot();
        assert_eq!(snapshot.len(), 4, "{snapshot:?}");
        assert_eq!(snapshot[0].0, OVERFLOW_SHAPE);
        assert_eq!(snapshot[0].1.count, 7);
        stats.record("SELECT c0 FROM t", Duration::from_millis(1), false);
        assert_eq!(
            stats
                .snapshot()
                .iter()
                .find(|(s, _)| s == "SELECT c0 FROM t")
                .map(|(_, n)| n.count),
            Some(2),
            "a kept shape is still counted on its own"
        );
        let debug = format!("{stats:?}");
        assert!(
            !debug.contains("c0"),
            "Debug leaves the shapes out: {debug}"
        );
    }

    #[test]
    fn a_statement_text_is_worked_out_once_and_checked_on_every_run() {
        let stats = QueryStats::new(crate::Backend::MySql, None);
        let sql = "SELECT ? + ? FROM t WHERE s = '?'";
        let two = [crate::Value::Int(1), crate::Value::Int(2)];
        let first = stats.statement(sql);
        assert!(
            first
                .check_parameters(crate::Backend::MySql, sql, &two[..])
                .is_ok()
        );
        // Values a builder lends are counted and checked alike.
        let lent = [&two[0], &two[1]];
        assert!(
            first
                .check_parameters(crate::Backend::MySql, sql, &lent[..])
                .is_ok()
        );
        let tenant = crate::Value::CurrentTenant;
        let error = first
            .check_parameters(crate::Backend::MySql, sql, &[&two[0], &tenant][..])
            .expect_err("a lent tenant placeholder is refused");
        assert!(
            matches!(error, crate::Error::TenantRequired { .. }),
            "{error}"
        );
        let error = first
            .check_parameters(crate::Backend::MySql, sql, &lent[..1])
            .expect_err("one lent value for two placeholders");
        assert!(error.to_string().contains("2 placeholders"), "{error}");
        let again = stats.statement(sql);
        assert!(Arc::ptr_eq(&first, &again), "remembered per text");
        let error = again
            .check_parameters(crate::Backend::MySql, sql, &two[..1])
            .expect_err("one value for two placeholders");
        assert!(error.to_string().contains("2 placeholders"), "{error}");
    }

    #[test]
    fn slow_statements_are_counted_per_shape() {
        let stats = QueryStats::new(Backend::Sqlite, Some(Duration::from_millis(10)));
        stats.record("SELECT a FROM t", Duration::from_millis(1), false);
        stats.record("SELECT a FROM t", Duration::from_millis(50), false);
        stats.record("SELECT b FROM t", Duration::from_millis(1), true);
        let snapshot = stats.snapshot();
        assert_eq!(snapshot[0].0, "SELECT a FROM t");
        assert_eq!((snapshot[0].1.count, snapshot[0].1.slow), (2, 1));
        assert_eq!(snapshot[1].1.errors, 1);
        // Remembered shapes are the shapes.
        stats.record("SELECT a FROM t", Duration::from_millis(1), false);
        assert_eq!(stats.snapshot()[0].1.count, 3);
        let registry = Registry::new();
        stats.register(&registry).unwrap();
        let families = registry.gather();
        assert!(
            families
                .iter()
                .any(|f| f.name() == "foxdb_slow_queries_total")
        );
    }
}
