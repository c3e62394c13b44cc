//! docs/reference/conditions.md: per kind, the condition types it sets, the reasons it writes
//! (with what each means and asks of the reader) and the Events it publishes, from
//! `fox_crds::ConditionType` and `fox_crds::Reason`, the lists the controllers take their
//! spellings from.

use std::fmt::Write as _;

use fox_crds::condition::{ConditionType, Reason, Remedy, ResourceKind};

fn remedy(reason: Reason) -> &'static str {
    match reason.remedy() {
        Remedy::Report => "—",
        Remedy::Wait => "time",
        Remedy::Stall => "a person",
    }
}

pub fn page(note: &str) -> String {
    let mut out = note.to_string();
    out.push_str("# Conditions, reasons and Events\n\n");
    out.push_str(
        "What a FoxDB resource reports in `status.conditions` and in Kubernetes Events, kind by \
         kind. The spellings come from one list in the code (`fox_crds::ConditionType` and \
         `fox_crds::Reason`, crds/src/condition.rs), which the controllers take every condition \
         type and reason from; this page is generated from it. How the operator sets conditions \
         (`observedGeneration`, transition times, retries) is told in \
         [The operator](../operator.md#conditions).\n\n\
         The column *needs* tells what a reason asks of the reader: *a person* (as the reason \
         of `Ready=False` it sets `Stalled=True`: no retry resolves it), *time* (as the reason \
         of `Ready=False` or `Unknown` it sets `Reconciling=True`: the operator retries) or \
         nothing (it reports a state). `Reconciling` and `Stalled` take `Ready`'s reason. \
         `kubectl get` shows `Ready`'s reason (and with `-o wide` its message); \
         `kubectl describe` lists the Events.\n\n",
    );
    for kind in ResourceKind::ALL {
        let name = kind.as_str();
        writeln!(out, "## {name}\n").expect("writes");
        writeln!(out, "### {name} conditions\n").expect("writes");
        out.push_str("| condition | True means |\n|---|---|\n");
        for type_ in ConditionType::ALL
            .iter()
            .filter(|t| t.kinds().contains(&kind))
        {
            writeln!(
                out,
                "| `{}` | {} |",
                type_.as_str(),
                super::cell(type_.meaning())
            )
            .expect("writes");
        }
        writeln!(out, "\n### {name} reasons\n").expect("writes");
        out.push_str("| reason | needs | meaning |\n|---|---|---|\n");
        let reasons = Reason::ALL.iter().filter(|r| r.kinds().contains(&kind));
        for reason in reasons.clone() {
            writeln!(
                out,
                "| `{}` | {} | {} |",
                reason.as_str(),
                remedy(*reason),
                super::cell(reason.meaning())
            )
            .expect("writes");
        }
        writeln!(out, "\n### {name} Events\n").expect("writes");
        out.push_str(
            "Each Event's reason is one of the reasons above (its meaning is there); Kubernetes \
             groups repeated Events by reason and action.\n\n",
        );
        out.push_str("| reason | type |\n|---|---|\n");
        for reason in reasons {
            if let Some((type_, kinds)) = reason.event()
                && kinds.contains(&kind)
            {
                writeln!(out, "| `{}` | {} |", reason.as_str(), type_.as_str()).expect("writes");
            }
        }
        out.push('\n');
    }
    out.push_str(
        "Next: the numbers the operator exports beside conditions, in the \
         [metrics reference](metrics.md).\n",
    );
    out
}
