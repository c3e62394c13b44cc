//! Standard `metav1.Condition`s: one per type, `observedGeneration` on each, and a
//! `lastTransitionTime` that changes only when the status flips (so `kubectl wait` and alerts
//! see real transitions, not every resync).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// The status of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionStatus {
    /// The condition holds.
    True,
    /// It does not.
    False,
    /// It could not be evaluated (for example the database was unreachable).
    Unknown,
}

impl ConditionStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::True => "True",
            Self::False => "False",
            Self::Unknown => "Unknown",
        }
    }
}

/// A condition to set: type, status, reason and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionUpdate {
    /// `Ready`, `Planned`, ...
    pub type_: &'static str,
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// CamelCase reason.
    pub reason: String,
    /// Human-readable message (never credentials).
    pub message: String,
}

impl ConditionUpdate {
    /// A condition with status True.
    pub fn yes(type_: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: ConditionStatus::True,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A condition with status False.
    pub fn no(type_: &'static str, reason: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: ConditionStatus::False,
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// A condition that could not be evaluated.
    pub fn unknown(
        type_: &'static str,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status: ConditionStatus::Unknown,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Kubernetes caps condition messages at 32768 bytes; ours stay far shorter.
const MAX_MESSAGE: usize = 4096;

/// Returns `previous` with `updates` applied: conditions not named keep their value, a
/// condition whose status is unchanged keeps its `lastTransitionTime`.
pub fn merge_conditions(
    previous: &[Condition],
    updates: &[ConditionUpdate],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut conditions: Vec<Condition> = previous.to_vec();
    for update in updates {
        let status = update.status.as_str();
        let mut message = update.message.clone();
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let existing = conditions.iter_mut().find(|c| c.type_ == update.type_);
        let transition = match &existing {
            Some(c) if c.status == status => c.last_transition_time.clone(),
            _ => Time(now),
        };
        let condition = Condition {
            type_: update.type_.to_string(),
            status: status.to_string(),
            reason: update.reason.clone(),
            message,
            observed_generation: generation,
            last_transition_time: transition,
        };
        match existing {
            Some(slot) => *slot = condition,
            None => conditions.push(condition),
        }
    }
    conditions
}

/// The condition of `type_`, if set.
pub fn find_condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_changes_only_when_status_flips() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let t1 = Timestamp::from_second(2_000).unwrap();
        let t2 = Timestamp::from_second(3_000).unwrap();
        let first = merge_conditions(
            &[],
            &[ConditionUpdate::no("Ready", "Pending", "a")],
            Some(1),
            t0,
        );
        let same = merge_conditions(
            &first,
            &[ConditionUpdate::no("Ready", "Locked", "b")],
            Some(2),
            t1,
        );
        assert_eq!(same[0].last_transition_time, Time(t0));
        assert_eq!(same[0].reason, "Locked");
        assert_eq!(same[0].observed_generation, Some(2));
        let flipped = merge_conditions(
            &same,
            &[ConditionUpdate::yes("Ready", "Applied", "c")],
            Some(2),
            t2,
        );
        assert_eq!(flipped[0].last_transition_time, Time(t2));
        assert_eq!(flipped[0].status, "True");
    }

    #[test]
    fn other_conditions_are_kept() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let first = merge_conditions(
            &[],
            &[
                ConditionUpdate::yes("Ready", "A", ""),
                ConditionUpdate::no("Blocked", "B", ""),
            ],
            None,
            t0,
        );
        let next = merge_conditions(&first, &[ConditionUpdate::no("Ready", "C", "")], None, t0);
        assert_eq!(next.len(), 2);
        assert_eq!(find_condition(&next, "Blocked").unwrap().reason, "B");
    }
}
