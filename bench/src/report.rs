//! The driver's output: one Markdown table of medians per workload and peer with each peer's
//! ratio to raw sqlx, then how foxdb stands against its targets.

use std::fmt::Write as _;
use std::time::Duration;

use crate::driver::{EngineInstructions, PerOperation};
use crate::measurement::Measurement;
use crate::peers::Peer;
use crate::timing::{Sampling, show_latency};
use crate::workload::Workload;

/// One engine's results: every peer that ran on it, with its measurements.
#[derive(Debug)]
pub struct EngineResults {
    /// `PostgreSQL 15.8`.
    pub engine: String,
    /// Peers in the order they ran, raw sqlx first.
    pub peers: Vec<(Peer, Vec<Measurement>)>,
}

impl EngineResults {
    fn median(&self, peer: Peer, workload: Workload) -> Option<Duration> {
        self.peers
            .iter()
            .find(|(p, _)| *p == peer)?
            .1
            .iter()
            .find(|m| m.workload == workload)
            .map(|m| m.median)
    }

    /// `peer`'s time over `base`'s on `workload`.
    fn ratio(&self, peer: Peer, base: Peer, workload: Workload) -> Option<f64> {
        let time = self.median(peer, workload)?.as_secs_f64();
        let base = self.median(base, workload)?.as_secs_f64();
        (base > 0.0).then(|| time / base)
    }
}

/// Renders the table and the targets summary.
pub fn render(
    results: &[EngineResults],
    rounds: usize,
    sampling: Sampling,
    cpu: Option<usize>,
) -> String {
    let peers: Vec<Peer> = Peer::ALL
        .into_iter()
        .filter(|peer| {
            results
                .iter()
                .any(|r| r.median(*peer, Workload::ALL[0]).is_some())
        })
        .collect();
    let others: Vec<Peer> = peers.iter().copied().filter(|p| *p != Peer::Sqlx).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Median of {rounds} rounds' medians of {} runs (after {} warm-up runs); each peer in its own \
         process{} on the same data; ratio = peer time / raw sqlx time (lower is faster). Raw \
         sqlx is the honest limit: a pool with foxdb's settings that, like foxdb's, does not \
         ping a connection before each statement.\n",
        sampling.runs,
        sampling.warmup,
        cpu.map(|cpu| format!(" pinned to CPU {cpu}"))
            .unwrap_or_default()
    );
    let mut header = vec!["engine".to_string(), "workload".to_string()];
    header.extend(peers.iter().map(|p| p.title().to_string()));
    header.extend(others.iter().map(|p| format!("{}/sqlx", p.title())));
    write_header(&mut out, &header);
    for result in results {
        for workload in Workload::ALL {
            let mut cells = vec![result.engine.clone(), workload.to_string()];
            cells.extend(peers.iter().map(|peer| {
                result
                    .median(*peer, workload)
                    .map_or_else(|| "–".into(), show_latency)
            }));
            cells.extend(others.iter().map(|peer| {
                result
                    .ratio(*peer, Peer::Sqlx, workload)
                    .map_or_else(|| "–".into(), |r| format!("{r:.2}x"))
            }));
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    out.push('\n');
    out.push_str(&targets(results));
    out
}

/// The geometric mean of some ratios.
fn geometric_mean(ratios: &[f64]) -> Option<f64> {
    (!ratios.is_empty())
        .then(|| (ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp())
}

/// foxdb against each target, per engine and PostgreSQL driver: how many workloads meet it,
/// and the geometric mean. Each foxdb is held to the raw limit of its own driver.
fn targets(results: &[EngineResults]) -> String {
    let mut out = String::new();
    for result in results {
        for (foxdb, limit) in [
            (Peer::Foxdb, Peer::Sqlx),
            (Peer::FoxdbTokioPostgres, Peer::TokioPostgres),
        ] {
            // (what, foxdb's time over the other's on each workload, the bound foxdb must
            // stay under)
            let within = format!("within 10% of raw {}", limit.title());
            let comparisons = [
                (within.as_str(), limit, 1.10),
                ("ahead of SeaORM", Peer::Seaorm, 1.0),
                ("ahead of Diesel", Peer::Diesel, 1.0),
                ("≥2x TypeORM's throughput", Peer::Typeorm, 0.5),
            ];
            for (target, other, bound) in comparisons {
                let ratios: Vec<(Workload, f64)> = Workload::ALL
                    .into_iter()
                    .filter_map(|w| Some((w, result.ratio(foxdb, other, w)?)))
                    .collect();
                let Some(mean) =
                    geometric_mean(&ratios.iter().map(|(_, r)| *r).collect::<Vec<_>>())
                else {
                    continue;
                };
                let missed: Vec<String> = ratios
                    .iter()
                    .filter(|(_, r)| *r > bound)
                    .map(|(w, r)| format!("{w} {r:.2}x"))
                    .collect();
                let _ = write!(
                    out,
                    "{}: {} {target}: {} of {} workloads ({}/{} geometric mean {mean:.2}x)",
                    result.engine,
                    foxdb.title(),
                    ratios.len() - missed.len(),
                    ratios.len(),
                    foxdb.title(),
                    other.title(),
                );
                if missed.is_empty() {
                    out.push('\n');
                } else {
                    let _ = writeln!(out, "; missed: {}", missed.join(", "));
                }
            }
        }
    }
    out
}

/// `11.5 k`, `3.43 M`: three significant digits for an instruction count.
pub fn show_instructions(count: f64) -> String {
    let (value, unit) = if count >= 1e6 {
        (count / 1e6, " M")
    } else if count >= 1e3 {
        (count / 1e3, " k")
    } else {
        (count, "")
    };
    if value >= 100.0 {
        format!("{value:.0}{unit}")
    } else if value >= 10.0 {
        format!("{value:.1}{unit}")
    } else {
        format!("{value:.2}{unit}")
    }
}

impl EngineInstructions {
    fn counts(&self, peer: Peer, workload: Workload) -> Option<PerOperation> {
        self.peers
            .iter()
            .find(|(p, _)| *p == peer)?
            .1
            .iter()
            .find(|(w, _)| *w == workload)
            .map(|(_, count)| *count)
    }

    fn per_operation(&self, peer: Peer, workload: Workload) -> Option<f64> {
        Some(self.counts(peer, workload)?.instructions)
    }

    fn ratio(&self, peer: Peer, base: Peer, workload: Workload) -> Option<f64> {
        let count = self.per_operation(peer, workload)?;
        let base = self.per_operation(base, workload)?;
        (base > 0.0).then(|| count / base)
    }

    /// [`EngineInstructions::ratio`] of the instructions inside the operations' polls.
    fn in_operation_ratio(&self, peer: Peer, base: Peer, workload: Workload) -> Option<f64> {
        let count = self.counts(peer, workload)?.in_operation;
        let base = self.counts(base, workload)?.in_operation;
        (base > 0.0).then(|| count / base)
    }
}

/// foxdb's instruction targets against raw sqlx on a bare connection: (what, workloads, bound).
const INSTRUCTION_TARGETS: [(&str, &[Workload], f64); 2] = [
    (
        "fixed cost per statement (one-row select, insert, update, delete) within 1.3x",
        &[
            Workload::SelectUsers(1),
            Workload::Insert(1),
            Workload::UpdateByKey,
            Workload::DeleteByKey,
        ],
        1.3,
    ),
    (
        "row decoding (1000 joined rows, eager loading) within 1.1x",
        &[Workload::JoinPosts(1000), Workload::EagerLoad],
        1.1,
    ),
];

/// Renders the instruction counts: one table of client instructions per operation with each
/// peer's ratio to raw sqlx on a bare connection, then foxdb against its targets.
pub fn render_instructions(results: &[EngineInstructions], iterations: u64) -> String {
    let base = Peer::SqlxBare;
    let mut peers: Vec<Peer> = Vec::new();
    for result in results {
        for (peer, _) in &result.peers {
            if !peers.contains(peer) {
                peers.push(*peer);
            }
        }
    }
    let others: Vec<Peer> = peers.iter().copied().filter(|p| *p != base).collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Client instructions per operation (callgrind, every thread of the peer's process): \
         (I(3n) - I(n)) / 2n for n = {iterations} runs of the one-row workloads ({} of the \
         hundred-row ones, {} of the thousand-row ones), so start-up and first runs cancel; \
         ratio = peer / raw sqlx on a bare connection (lower is less work). Raw sqlx (pool) \
         runs on a pool with foxdb's settings and no ping; the last column, foxdb / raw sqlx on \
         that pool, compares foxdb with its driver's honest limit for a pooled client.\n",
        (iterations / 10).max(2),
        (iterations / 100).max(2),
    );
    let mut header = vec!["engine".to_string(), "workload".to_string()];
    header.extend(peers.iter().map(|p| p.title().to_string()));
    header.extend(
        others
            .iter()
            .map(|p| format!("{}/{}", p.title(), base.title())),
    );
    // A pooled client's honest limit is the driver on a pool with the same settings.
    let pooled = peers.contains(&Peer::Foxdb) && peers.contains(&Peer::Sqlx);
    if pooled {
        header.push(format!("{}/{}", Peer::Foxdb.title(), Peer::Sqlx.title()));
    }
    // foxdb on tokio-postgres against its own driver's limit.
    let native = peers.contains(&Peer::FoxdbTokioPostgres) && peers.contains(&Peer::TokioPostgres);
    if native {
        header.push(format!(
            "{}/{}",
            Peer::FoxdbTokioPostgres.title(),
            Peer::TokioPostgres.title()
        ));
    }
    write_header(&mut out, &header);
    for result in results {
        for workload in Workload::ALL {
            let mut cells = vec![result.engine.clone(), workload.to_string()];
            cells.extend(peers.iter().map(|peer| {
                result
                    .per_operation(*peer, workload)
                    .map_or_else(|| "–".into(), show_instructions)
            }));
            cells.extend(others.iter().map(|peer| {
                result
                    .ratio(*peer, base, workload)
                    .map_or_else(|| "–".into(), |r| format!("{r:.2}x"))
            }));
            if pooled {
                cells.push(
                    result
                        .ratio(Peer::Foxdb, Peer::Sqlx, workload)
                        .map_or_else(|| "–".into(), |r| format!("{r:.2}x")),
                );
            }
            if native {
                cells.push(
                    result
                        .ratio(Peer::FoxdbTokioPostgres, Peer::TokioPostgres, workload)
                        .map_or_else(|| "–".into(), |r| format!("{r:.2}x")),
                );
            }
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
    out.push('\n');
    render_in_operation(&mut out, results, &peers, base);
    out.push('\n');
    for result in results {
        for (foxdb, limit) in [
            (Peer::Foxdb, base),
            (Peer::Foxdb, Peer::Sqlx),
            (Peer::FoxdbTokioPostgres, Peer::TokioPostgres),
        ] {
            for (target, workloads, bound) in INSTRUCTION_TARGETS {
                let ratios: Vec<(Workload, f64)> = workloads
                    .iter()
                    .filter_map(|w| Some((*w, result.ratio(foxdb, limit, *w)?)))
                    .collect();
                if ratios.is_empty() {
                    continue;
                }
                let shown: Vec<String> =
                    ratios.iter().map(|(w, r)| format!("{w} {r:.2}x")).collect();
                let met = ratios.iter().filter(|(_, r)| *r <= bound).count();
                let _ = writeln!(
                    out,
                    "{}: {} {target} of {}: {met} of {} ({})",
                    result.engine,
                    foxdb.title(),
                    limit.title(),
                    ratios.len(),
                    shown.join(", ")
                );
            }
        }
        // The same targets on what runs inside the operations' polls, which waiting for the
        // server does not move (much).
        for (target, workloads, bound) in INSTRUCTION_TARGETS {
            let ratios: Vec<(Workload, f64)> = workloads
                .iter()
                .filter_map(|w| Some((*w, result.in_operation_ratio(Peer::Foxdb, base, *w)?)))
                .collect();
            if ratios.is_empty() {
                continue;
            }
            let shown: Vec<String> = ratios.iter().map(|(w, r)| format!("{w} {r:.2}x")).collect();
            let met = ratios.iter().filter(|(_, r)| *r <= bound).count();
            let _ = writeln!(
                out,
                "{}: foxdb {target} of {}, inside the operations' polls: {met} of {} ({})",
                result.engine,
                base.title(),
                ratios.len(),
                shown.join(", ")
            );
        }
    }
    out
}

/// The second table: per peer, the instructions inside the operations' polls and the polls
/// that found no reply yet (waits), per operation, with foxdb's in-poll ratio to `base`.
fn render_in_operation(
    out: &mut String,
    results: &[EngineInstructions],
    peers: &[Peer],
    base: Peer,
) {
    let _ = writeln!(
        out,
        "Inside the operations' polls (the client's code, the driver and decoding; not the \
         runtime's scheduling and I/O driver) and waits (polls that found no reply yet: each \
         costs the process a park, a wake-up and a second poll), per operation:\n"
    );
    let mut header = vec!["engine".to_string(), "workload".to_string()];
    for peer in peers {
        header.push(format!("{} in polls", peer.title()));
        header.push(format!("{} waits", peer.title()));
    }
    let ratio = peers.contains(&Peer::Foxdb) && peers.contains(&base);
    if ratio {
        header.push(format!("{}/{} in polls", Peer::Foxdb.title(), base.title()));
    }
    write_header(out, &header);
    for result in results {
        for workload in Workload::ALL {
            let mut cells = vec![result.engine.clone(), workload.to_string()];
            for peer in peers {
                match result.counts(*peer, workload) {
                    Some(counts) => {
                        cells.push(show_instructions(counts.in_operation));
                        cells.push(format!("{:.2}", counts.waits));
                    }
                    None => cells.extend(["–".to_string(), "–".to_string()]),
                }
            }
            if ratio {
                cells.push(
                    result
                        .in_operation_ratio(Peer::Foxdb, base, workload)
                        .map_or_else(|| "–".into(), |r| format!("{r:.2}x")),
                );
            }
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
    }
}

/// A table's header row and its alignment row (two text columns, then numbers).
fn write_header(out: &mut String, header: &[String]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let alignment: Vec<&str> = (0..header.len())
        .map(|i| if i < 2 { "---" } else { "---:" })
        .collect();
    let _ = writeln!(out, "|{}|", alignment.join("|"));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `count` instructions for every workload, 1,000 of them outside the operation's polls.
    fn counts(count: f64) -> Vec<(Workload, PerOperation)> {
        Workload::ALL
            .into_iter()
            .map(|w| {
                (
                    w,
                    PerOperation {
                        instructions: count,
                        in_operation: count - 1_000.0,
                        waits: 0.5,
                    },
                )
            })
            .collect()
    }

    fn measured(peer: Peer, micros: u64) -> (Peer, Vec<Measurement>) {
        let measurements = Workload::ALL
            .into_iter()
            .map(|workload| Measurement {
                workload,
                median: Duration::from_micros(micros),
            })
            .collect();
        (peer, measurements)
    }

    #[test]
    fn ratios_are_to_raw_sqlx_and_missing_peers_print_a_dash() {
        let results = [
            EngineResults {
                engine: "PostgreSQL".into(),
                peers: vec![measured(Peer::Sqlx, 100), measured(Peer::Foxdb, 105)],
            },
            EngineResults {
                engine: "SQLite".into(),
                peers: vec![measured(Peer::Sqlx, 100)],
            },
        ];
        let table = render(&results, 3, Sampling::default(), None);
        assert!(table.contains("| PostgreSQL | select 1 users | 100 µs | 105 µs | 1.05x |"));
        assert!(table.contains("| SQLite | select 1 users | 100 µs | – | – |"));
        assert!(table.contains("PostgreSQL: foxdb within 10% of raw sqlx: 14 of 14 workloads"));
    }

    #[test]
    fn instruction_counts_print_with_ratios_to_bare_sqlx() {
        let results = [EngineInstructions {
            engine: "PostgreSQL".into(),
            peers: vec![
                (Peer::SqlxBare, counts(10_000.0)),
                (Peer::Foxdb, counts(12_500.0)),
            ],
        }];
        let table = render_instructions(&results, 1000);
        assert!(table.contains("| PostgreSQL | select 1 users | 10.0 k | 12.5 k | 1.25x |"));
        assert!(table.contains("within 1.3x of sqlx (bare): 4 of 4"));
        assert!(table.contains("within 1.1x of sqlx (bare): 0 of 2"));
        assert!(
            table.contains(
                "| PostgreSQL | select 1 users | 9.00 k | 0.50 | 11.5 k | 0.50 | 1.28x |"
            ),
            "{table}"
        );
        assert!(
            table.contains("within 1.3x of sqlx (bare), inside the operations' polls: 4 of 4"),
            "{table}"
        );
        assert_eq!(show_instructions(3_431_000.0), "3.43 M");
        assert_eq!(show_instructions(950.0), "950");
    }

    #[test]
    fn instruction_counts_compare_foxdb_with_sqlx_on_a_pool_too() {
        let results = [EngineInstructions {
            engine: "PostgreSQL".into(),
            peers: vec![
                (Peer::SqlxBare, counts(10_000.0)),
                (Peer::Foxdb, counts(12_000.0)),
                (Peer::Sqlx, counts(15_000.0)),
            ],
        }];
        let table = render_instructions(&results, 1000);
        assert!(table.contains("| foxdb/sqlx |"), "{table}");
        assert!(table.contains("| 1.20x | 1.50x | 0.80x |"), "{table}");
        assert!(table.contains("within 1.3x of sqlx: 4 of 4"), "{table}");
    }

    #[test]
    fn a_missed_target_names_the_workloads() {
        let results = [EngineResults {
            engine: "PostgreSQL".into(),
            peers: vec![measured(Peer::Foxdb, 100), measured(Peer::Typeorm, 150)],
        }];
        let summary = targets(&results);
        assert!(summary.contains("≥2x TypeORM's throughput: 0 of 14 workloads"));
        assert!(summary.contains("missed: select 1 users 0.67x"));
    }
}
