//! What a peer process reports to the driver: one line per workload on standard output,
//! `fox-bench<TAB>key<TAB>median in nanoseconds`, the same from Rust and from Node.

use std::time::Duration;

use anyhow::{Context, Result};

use crate::workload::Workload;

const PREFIX: &str = "fox-bench";

/// The median time of one workload, as one peer measured it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// Which workload.
    pub workload: Workload,
    /// Median of the timed runs.
    pub median: Duration,
}

impl Measurement {
    /// The line a peer prints.
    pub fn to_line(&self) -> String {
        format!(
            "{PREFIX}\t{}\t{}",
            self.workload.key(),
            self.median.as_nanos()
        )
    }

    /// Reads a line a peer printed; `None` for lines that are not measurements.
    ///
    /// # Errors
    /// A measurement line with an unknown workload or a malformed number.
    pub fn from_line(line: &str) -> Option<Result<Self>> {
        let rest = line.strip_prefix(PREFIX)?.strip_prefix('\t')?;
        Some(Self::parse_fields(rest).with_context(|| format!("reading `{line}`")))
    }

    fn parse_fields(fields: &str) -> Result<Self> {
        let (key, nanos) = fields
            .split_once('\t')
            .context("two tab-separated fields")?;
        let workload = Workload::from_key(key).context("an unknown workload")?;
        let nanos: u64 = nanos.trim().parse().context("nanoseconds")?;
        Ok(Self {
            workload,
            median: Duration::from_nanos(nanos),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_measurement_reads_back() {
        let measurement = Measurement {
            workload: Workload::JoinPosts(100),
            median: Duration::from_nanos(123_456),
        };
        let read = Measurement::from_line(&measurement.to_line()).map(Result::ok);
        assert_eq!(read, Some(Some(measurement)));
    }

    #[test]
    fn other_output_is_not_a_measurement() {
        assert!(Measurement::from_line("query took 3 ms").is_none());
        assert!(matches!(
            Measurement::from_line("fox-bench\tselect/7\t100"),
            Some(Err(_))
        ));
    }
}
