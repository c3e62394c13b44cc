//! docs/reference/metrics.md: every metric the operator and the gateway export, with its type,
//! labels and help, from the collectors they register (`Metrics::descriptions`,
//! `gateway::metric_descriptions`).

use std::fmt::Write as _;

use fox_operator::telemetry::metrics::MetricDescription;

fn table(metrics: &[MetricDescription], out: &mut String) {
    out.push_str("| metric | type | labels | help |\n|---|---|---|---|\n");
    for metric in metrics {
        let labels: Vec<String> = metric.labels.iter().map(|l| format!("`{l}`")).collect();
        writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            metric.name,
            metric.type_,
            labels.join(", "),
            super::cell(&super::sentence(&metric.help))
        )
        .expect("writes");
    }
    out.push('\n');
}

pub fn page(note: &str) -> String {
    let mut out = note.to_string();
    out.push_str("# Metrics reference\n\n");
    out.push_str(
        "Every Prometheus metric FoxDB exports, with its type, labels and help text, as the \
         processes register them (this page is generated from their registries). Labels carry \
         resource, member and error names only: never a URL, a host name from a Secret, or \
         anything else read from a Secret.\n\n",
    );
    out.push_str("## The operator\n\n");
    out.push_str(
        "The operator (`fox run`) serves these on `/metrics` of its metrics port \
         (`--metrics-addr`, see [The operator](../operator.md#metrics-and-health)). A series appears once there is \
         something to count: `fox_member_healthy` after a FoxReplicaSet's first health check, \
         `fox_reconcile_errors_total` after a failed reconcile.\n\n",
    );
    let operator = fox_operator::telemetry::Metrics::new().descriptions();
    table(&operator, &mut out);
    out.push_str("## The gateway\n\n");
    out.push_str(
        "`fox gateway` serves these on `GET /metrics` of its own port (see \
         [Real-time subscriptions](../realtime.md#the-gateway)).\n\n",
    );
    table(&fox_operator::gateway::metric_descriptions(), &mut out);
    out.push_str("Next: the words these pages use, in the [Glossary](../glossary.md).\n");
    out
}
