//! Query statistics: every statement is timed, counted per query shape, and reported when slow.
//!
//! A query shape is the statement text with its parameter lists collapsed (`IN ($1, $2, $3)` →
//! `IN (…)`), so values never appear and the number of shapes stays bounded. Slow statements
//! are logged through `tracing` (target `foxdb::slow_query`) with the SQL, never the values.
//! [`QueryStats::register`] exposes the numbers to a Prometheus registry.

use std::sync::Mutex;
use std::time::Duration;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

/// Longest statement text kept as a shape.
const SHAPE_LENGTH: usize = 240;

/// Counts and latencies of the statements one [`crate::Database`] ran.
#[derive(Debug)]
pub struct QueryStats {
    slow_threshold: Option<Duration>,
    durations: HistogramVec,
    slow: IntCounterVec,
    errors: IntCounterVec,
    shapes: Mutex<std::collections::HashMap<String, ShapeStats>>,
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
    /// Statistics with an optional slow-query threshold.
    ///
    /// # Panics
    /// Never: the metric definitions are constant and valid.
    pub fn new(slow_threshold: Option<Duration>) -> Self {
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
            slow_threshold,
            durations,
            slow,
            errors,
            shapes: Mutex::default(),
        }
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
        let shape = query_shape(sql);
        self.durations
            .with_label_values(&[&shape])
            .observe(elapsed.as_secs_f64());
        let slow = self
            .slow_threshold
            .is_some_and(|threshold| elapsed >= threshold);
        if slow {
            self.slow.with_label_values(&[&shape]).inc();
            tracing::warn!(target: "foxdb::slow_query", elapsed_ms = elapsed.as_millis() as u64, sql = %shape, "slow query");
        }
        if failed {
            self.errors.with_label_values(&[&shape]).inc();
        }
        if let Ok(mut shapes) = self.shapes.lock() {
            let entry = shapes.entry(shape).or_default();
            entry.count += 1;
            entry.slow += u64::from(slow);
            entry.errors += u64::from(failed);
            entry.total += elapsed;
            entry.max = entry.max.max(elapsed);
        }
    }

    /// Every shape seen so far with its numbers, most frequent first.
    pub fn snapshot(&self) -> Vec<(String, ShapeStats)> {
        let mut shapes: Vec<(String, ShapeStats)> = self
            .shapes
            .lock()
            .map(|s| s.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        shapes.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
        shapes
    }
}

/// The statement with its placeholder lists collapsed and its length bounded.
pub fn query_shape(sql: &str) -> String {
    let mut shape = String::with_capacity(sql.len().min(SHAPE_LENGTH));
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '(' && chars.peek().is_some_and(|n| *n == '$' || *n == '?') {
            // Skip a `($1, $2, …)` / `(?, ?, …)` list entirely.
            let mut depth = 1;
            for inner in chars.by_ref() {
                match inner {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            shape.push_str("(…)");
            continue;
        }
        shape.push(c);
    }
    // VALUES (…), (…), … of batched inserts collapse too.
    while shape.contains("(…), (…)") {
        shape = shape.replace("(…), (…)", "(…)");
    }
    if shape.chars().count() > SHAPE_LENGTH {
        shape = shape.chars().take(SHAPE_LENGTH).collect::<String>() + "…";
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_hide_values_and_collapse_lists() {
        assert_eq!(
            query_shape(r#"SELECT "id" FROM "people" WHERE "id" IN ($1, $2, $3) AND "age" > $4"#),
            r#"SELECT "id" FROM "people" WHERE "id" IN (…) AND "age" > $4"#
        );
        assert_eq!(
            query_shape(r#"INSERT INTO "t" ("a", "b") VALUES (?, ?), (?, ?), (?, ?)"#),
            r#"INSERT INTO "t" ("a", "b") VALUES (…)"#
        );
    }

    #[test]
    fn slow_statements_are_counted_per_shape() {
        let stats = QueryStats::new(Some(Duration::from_millis(10)));
        stats.record("SELECT 1", Duration::from_millis(1), false);
        stats.record("SELECT 1", Duration::from_millis(50), false);
        stats.record("SELECT 2", Duration::from_millis(1), true);
        let snapshot = stats.snapshot();
        assert_eq!(snapshot[0].0, "SELECT 1");
        assert_eq!((snapshot[0].1.count, snapshot[0].1.slow), (2, 1));
        assert_eq!(snapshot[1].1.errors, 1);
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
