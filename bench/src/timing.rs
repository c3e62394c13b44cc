//! Medians of repeated runs, and how they print.

use std::time::Duration;

/// How often a workload runs: `warmup` untimed runs (connections, prepared statements, caches),
/// then `runs` timed ones whose median is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sampling {
    /// Untimed runs first.
    pub warmup: usize,
    /// Timed runs.
    pub runs: usize,
}

impl Default for Sampling {
    fn default() -> Self {
        Self {
            warmup: 10,
            runs: 30,
        }
    }
}

/// The median of some durations.
pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// `1.234 s` or `56.0 ms`: for runs of many milliseconds.
pub fn show(duration: Duration) -> String {
    if duration >= Duration::from_secs(1) {
        format!("{:.3} s", duration.as_secs_f64())
    } else {
        format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
    }
}

/// `12.3 ms`, `1.23 ms` or `456 µs`: three significant digits, for single queries.
pub fn show_latency(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros >= 10_000.0 {
        format!("{:.1} ms", micros / 1000.0)
    } else if micros >= 1000.0 {
        format!("{:.2} ms", micros / 1000.0)
    } else {
        format!("{micros:.0} µs")
    }
}

/// Two workloads measured in alternating rounds (a, b, a, b, ...), so load that comes and
/// goes on the machine falls on both alike: per round `sampling.warmup` untimed and
/// `sampling.runs` timed calls of each; the median over `rounds` of each one's median.
///
/// # Errors
/// The first error a workload returns.
pub async fn measure_alternating<A, FA, B, FB>(
    sampling: Sampling,
    rounds: usize,
    mut a: A,
    mut b: B,
) -> anyhow::Result<(Duration, Duration)>
where
    A: FnMut(usize) -> FA,
    FA: Future<Output = anyhow::Result<()>>,
    B: FnMut(usize) -> FB,
    FB: Future<Output = anyhow::Result<()>>,
{
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        first.push(measure_round(sampling, &mut a).await?);
        second.push(measure_round(sampling, &mut b).await?);
    }
    Ok((median(first), median(second)))
}

async fn measure_round<F, Fut>(sampling: Sampling, work: &mut F) -> anyhow::Result<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    for i in 0..sampling.warmup {
        work(i).await?;
    }
    let mut samples = Vec::with_capacity(sampling.runs);
    for i in 0..sampling.runs {
        let started = std::time::Instant::now();
        work(i).await?;
        samples.push(started.elapsed());
    }
    Ok(median(samples))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_an_odd_count_is_the_middle_sample() {
        let samples = [3, 1, 2].map(Duration::from_millis).to_vec();
        assert_eq!(median(samples), Duration::from_millis(2));
    }

    #[test]
    fn latencies_print_with_three_significant_digits() {
        assert_eq!(show_latency(Duration::from_micros(456)), "456 µs");
        assert_eq!(show_latency(Duration::from_micros(1234)), "1.23 ms");
        assert_eq!(show_latency(Duration::from_micros(12_345)), "12.3 ms");
    }
}
