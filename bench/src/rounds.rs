//! Interleaved rounds: two targets measured in one process, A B A B …, and the per-round
//! arithmetic that turns their counts into one ratio per round and a median over the rounds.
//!
//! Measuring both targets in the same process, one short stretch after the other, gives them
//! the same runtime, the same connection warmness and the same machine load at nearly the same
//! moment; whatever drifts (how often a reply is already waiting on the socket, which depends
//! on how busy the shared machine is) falls on both sides of a round alike, and the median
//! over many rounds drops the rounds where it did not.
//!
//! Expected flow: [`schedule`] gives the stretches in the order they run; the counted process
//! reads them in that order with a dump point before and after each; [`per_read`] turns the
//! `n` and `3n` stretches of one target in one round into instructions per read
//! (`(I(3n) − I(n)) / 2n`, so what a stretch costs once, the dump itself or a ping on a
//! connection idle since the previous stretch, cancels); [`Spread::of`] summarises the rounds.

/// Which of the two targets, in the order of a round that starts with the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The baseline (a direct connection).
    First,
    /// The measured target (through the router).
    Second,
}

/// One counted stretch of reads: `scale` times `n` reads of one workload by one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stretch {
    /// The round, from 0.
    pub round: usize,
    /// The workload's index.
    pub workload: usize,
    /// The target reading.
    pub side: Side,
    /// 1 or 3: the stretch reads `scale * n` times.
    pub scale: u64,
}

/// The stretches of `rounds` rounds over `workloads` workloads, in the order they run. Per
/// round and workload: both targets read `n` times, then both `3n` times; the target that
/// goes first alternates from round to round (`First` in even rounds), so neither always
/// follows the other.
pub fn schedule(rounds: usize, workloads: usize) -> Vec<Stretch> {
    let mut stretches = Vec::with_capacity(rounds * workloads * 4);
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [Side::First, Side::Second]
        } else {
            [Side::Second, Side::First]
        };
        for workload in 0..workloads {
            for scale in [1, 3] {
                for side in order {
                    stretches.push(Stretch {
                        round,
                        workload,
                        side,
                        scale,
                    });
                }
            }
        }
    }
    stretches
}

/// Per read between a stretch of `n` reads that counted `once` and one of `3n` that counted
/// `thrice`: `(thrice − once) / 2n`. Negative when the longer stretch counted less (possible
/// for a sub-count that varies with waiting), so the noise shows instead of clipping to 0.
pub fn per_read(once: u64, thrice: u64, n: u64) -> f64 {
    (thrice as f64 - once as f64) / (2 * n) as f64
}

/// The counts of one target's `n` and `3n` stretches of one workload in one round.
pub fn pair_of<'a, T>(
    stretches: &[Stretch],
    counts: &'a [T],
    round: usize,
    workload: usize,
    side: Side,
) -> Option<(&'a T, &'a T)> {
    let find = |scale: u64| {
        stretches
            .iter()
            .position(|s| {
                s.round == round && s.workload == workload && s.side == side && s.scale == scale
            })
            .and_then(|index| counts.get(index))
    };
    Some((find(1)?, find(3)?))
}

/// The median, the lowest and the highest of some values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The middle value (the mean of the two middle ones for an even count).
    pub median: f64,
    /// The lowest.
    pub min: f64,
    /// The highest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: &[f64]) -> Option<Self> {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let (first, last) = (*sorted.first()?, *sorted.last()?);
        let middle = sorted.len() / 2;
        let median = if sorted.len().is_multiple_of(2) {
            f64::midpoint(sorted[middle - 1], sorted[middle])
        } else {
            sorted[middle]
        };
        Some(Self {
            median,
            min: first,
            max: last,
        })
    }
}

/// The least-squares line through `(x, y)` points: `(intercept, slope)`; `None` for fewer than
/// two points or when every `x` is the same.
pub fn line_fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    if points.len() < 2 {
        return None;
    }
    let count = points.len() as f64;
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / count;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / count;
    let spread: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if spread == 0.0 {
        return None;
    }
    let slope = points
        .iter()
        .map(|p| (p.0 - mean_x) * (p.1 - mean_y))
        .sum::<f64>()
        / spread;
    Some((mean_y - slope * mean_x, slope))
}

/// The contents of `/proc/loadavg` up to the third figure (`1.52 1.31 0.97`), or `unknown`.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|figures| !figures.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_alternate_which_target_reads_first_and_give_each_an_n_and_a_3n_stretch() {
        let stretches = schedule(2, 1);
        let order: Vec<(usize, Side, u64)> = stretches
            .iter()
            .map(|s| (s.round, s.side, s.scale))
            .collect();
        assert_eq!(
            order,
            vec![
                (0, Side::First, 1),
                (0, Side::Second, 1),
                (0, Side::First, 3),
                (0, Side::Second, 3),
                (1, Side::Second, 1),
                (1, Side::First, 1),
                (1, Side::Second, 3),
                (1, Side::First, 3),
            ]
        );
        assert_eq!(schedule(3, 2).len(), 3 * 2 * 4);
    }

    #[test]
    fn a_pair_is_found_by_round_workload_and_side() {
        let stretches = schedule(2, 2);
        let counts: Vec<usize> = (0..stretches.len()).collect();
        // Round 1 starts with the second side; workload 1 comes after workload 0's four.
        assert_eq!(
            pair_of(&stretches, &counts, 1, 1, Side::Second),
            Some((&12, &14))
        );
        assert_eq!(pair_of(&stretches, &counts, 2, 0, Side::First), None);
    }

    #[test]
    fn per_read_cancels_what_a_stretch_costs_once() {
        // 500 once per stretch + 20 per read.
        assert_eq!(per_read(500 + 20 * 100, 500 + 20 * 300, 100), 20.0);
        assert_eq!(per_read(300, 100, 100), -1.0);
    }

    #[test]
    fn a_line_fit_gives_intercept_and_slope() {
        let points = [(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)];
        assert_eq!(line_fit(&points), Some((1.0, 2.0)));
        assert_eq!(line_fit(&[(1.0, 1.0), (1.0, 2.0)]), None);
        assert_eq!(line_fit(&[(1.0, 1.0)]), None);
    }

    #[test]
    fn spread_gives_median_min_and_max() {
        let spread = Spread::of(&[3.0, 1.0, 2.0, 10.0]).expect("values");
        assert_eq!(spread.median, 2.5);
        assert_eq!((spread.min, spread.max), (1.0, 10.0));
        assert_eq!(Spread::of(&[4.0]).map(|s| s.median), Some(4.0));
        assert_eq!(Spread::of(&[]), None);
    }
}
