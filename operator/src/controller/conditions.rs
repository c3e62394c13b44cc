//! Standard `metav1.Condition`s: one per type, `observedGeneration` on each, and a
//! `lastTransitionTime` that changes only when the status flips (so `kubectl wait` and alerts
//! see real transitions, not every resync).

pub use fox_crds::{ConditionType, Reason};
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
    pub type_: ConditionType,
    /// True, False or Unknown.
    pub status: ConditionStatus,
    /// Why, one of the documented [`Reason`]s.
    pub reason: Reason,
    /// Human-readable message (never credentials).
    pub message: String,
}

impl ConditionUpdate {
    /// A condition with status True.
    pub fn yes(type_: ConditionType, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: ConditionStatus::True,
            reason,
            message: message.into(),
        }
    }

    /// A condition with status False.
    pub fn no(type_: ConditionType, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: ConditionStatus::False,
            reason,
            message: message.into(),
        }
    }

    /// A condition that could not be evaluated.
    pub fn unknown(type_: ConditionType, reason: Reason, message: impl Into<String>) -> Self {
        Self {
            type_,
            status: ConditionStatus::Unknown,
            reason,
            message: message.into(),
        }
    }
}

/// Kubernetes caps condition messages at 32768 bytes; ours stay far shorter.
const MAX_MESSAGE: usize = 4096;

/// The kstatus conditions that follow from `ready`: `Reconciling` and `Stalled` (see
/// [`fox_crds::condition`]). A `Ready` that is True clears both; False with a reason that needs
/// a person is `Stalled`; any other False or Unknown is `Reconciling` (pending work or a
/// transient failure being retried).
pub fn kstatus_conditions(ready: &ConditionUpdate) -> [ConditionUpdate; 2] {
    let reason = ready.reason;
    match ready.status {
        ConditionStatus::True => [
            ConditionUpdate::no(ConditionType::Reconciling, reason, ""),
            ConditionUpdate::no(ConditionType::Stalled, reason, ""),
        ],
        ConditionStatus::False if ready.reason.is_stalled() => [
            ConditionUpdate::no(ConditionType::Reconciling, reason, ""),
            ConditionUpdate::yes(ConditionType::Stalled, reason, ready.message.clone()),
        ],
        ConditionStatus::False | ConditionStatus::Unknown => [
            ConditionUpdate::yes(ConditionType::Reconciling, reason, ready.message.clone()),
            ConditionUpdate::no(ConditionType::Stalled, reason, ""),
        ],
    }
}

/// Returns `previous` with `updates` applied: conditions not named keep their value, a
/// condition whose status is unchanged keeps its `lastTransitionTime`. An update of `Ready`
/// also sets `Reconciling` and `Stalled` (see [`kstatus_conditions`]) unless `updates` sets
/// them itself.
pub fn merge_conditions(
    previous: &[Condition],
    updates: &[ConditionUpdate],
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let mut conditions: Vec<Condition> = previous.to_vec();
    let derived: Vec<ConditionUpdate> = updates
        .iter()
        .filter(|u| u.type_ == ConditionType::Ready)
        .flat_map(kstatus_conditions)
        .filter(|d| !updates.iter().any(|u| u.type_ == d.type_))
        .collect();
    for update in updates.iter().chain(&derived) {
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
        let existing = conditions
            .iter_mut()
            .find(|c| c.type_ == update.type_.as_str());
        let transition = match &existing {
            Some(c) if c.status == status => c.last_transition_time.clone(),
            _ => Time(now),
        };
        let condition = Condition {
            type_: update.type_.as_str().to_string(),
            status: status.to_string(),
            reason: update.reason.as_str().to_string(),
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
pub fn find_condition(conditions: &[Condition], type_: impl AsRef<str>) -> Option<&Condition> {
    conditions.iter().find(|c| c.type_ == type_.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(conditions: &[Condition], type_: ConditionType) -> (String, String) {
        let c = find_condition(conditions, type_).expect("set");
        (c.status.clone(), c.reason.clone())
    }

    #[test]
    fn ready_sets_reconciling_and_stalled_as_kstatus_reads_them() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let merge = |ready: ConditionUpdate| merge_conditions(&[], &[ready], Some(1), t0);
        let retried = merge(ConditionUpdate::no(
            ConditionType::Ready,
            Reason::Locked,
            "held",
        ));
        assert_eq!(status_of(&retried, ConditionType::Reconciling).0, "True");
        assert_eq!(status_of(&retried, ConditionType::Stalled).0, "False");
        for reason in [
            Reason::InvalidSpec,
            Reason::DestructiveChange,
            Reason::Irreversible,
            Reason::Dirty,
            Reason::ChecksumChanged,
            Reason::ApprovalPending,
        ] {
            let stalled = merge(ConditionUpdate::no(ConditionType::Ready, reason, "x"));
            assert_eq!(
                status_of(&stalled, ConditionType::Stalled),
                ("True".into(), reason.as_str().into())
            );
            assert_eq!(status_of(&stalled, ConditionType::Reconciling).0, "False");
        }
        let ready = merge(ConditionUpdate::yes(
            ConditionType::Ready,
            Reason::Applied,
            "",
        ));
        assert_eq!(status_of(&ready, ConditionType::Reconciling).0, "False");
        assert_eq!(status_of(&ready, ConditionType::Stalled).0, "False");
        let unknown = merge(ConditionUpdate::unknown(
            ConditionType::Ready,
            Reason::Unreachable,
            "",
        ));
        assert_eq!(status_of(&unknown, ConditionType::Reconciling).0, "True");
    }

    #[test]
    fn transition_time_changes_only_when_status_flips() {
        let t0 = Timestamp::from_second(1_000).unwrap();
        let t1 = Timestamp::from_second(2_000).unwrap();
        let t2 = Timestamp::from_second(3_000).unwrap();
        let first = merge_conditions(
            &[],
            &[ConditionUpdate::no(
                ConditionType::Ready,
                Reason::Pending,
                "a",
            )],
            Some(1),
            t0,
        );
        let same = merge_conditions(
            &first,
            &[ConditionUpdate::no(
                ConditionType::Ready,
                Reason::Locked,
                "b",
            )],
            Some(2),
            t1,
        );
        assert_eq!(same[0].last_transition_time, Time(t0));
        assert_eq!(same[0].reason, "Locked");
        assert_eq!(same[0].observed_generation, Some(2));
        let flipped = merge_conditions(
            &same,
            &[ConditionUpdate::yes(
                ConditionType::Ready,
                Reason::Applied,
                "c",
            )],
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
                ConditionUpdate::yes(ConditionType::Ready, Reason::Applied, ""),
                ConditionUpdate::no(ConditionType::Blocked, Reason::NotBlocked, ""),
            ],
            None,
            t0,
        );
        let next = merge_conditions(
            &first,
            &[ConditionUpdate::no(
                ConditionType::Ready,
                Reason::Locked,
                "",
            )],
            None,
            t0,
        );
        assert_eq!(next.len(), 4, "Ready, Blocked, Reconciling, Stalled");
        assert_eq!(
            find_condition(&next, "Blocked").unwrap().reason,
            "NotBlocked"
        );
    }
}
