//! The diesel_bench workloads every peer runs, with the amount of work each must report so a
//! peer that does less (fewer rows, no grouping) fails instead of looking fast.

use std::fmt;

use crate::dataset;

/// One workload, as every peer runs it on the prepared data ([`crate::dataset`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Trivial query: the first `n` users by id, decoded.
    SelectUsers(u64),
    /// Medium query: users with black hair left-joined with their posts, ordered by user and
    /// post id, the first `n` rows, decoded as (user, post) pairs.
    JoinPosts(u64),
    /// Loading associations: [`dataset::EAGER_USERS`] users, their posts and the posts'
    /// comments, one query per level, grouped into users → posts → comments.
    EagerLoad,
    /// `n` new users in one `INSERT` statement.
    Insert(u64),
    /// One user's hair colour set by primary key.
    UpdateByKey,
    /// One user deleted by primary key: a row of its own per run
    /// ([`dataset::deleted_user_id`]), inserted before the workload's first run.
    DeleteByKey,
}

impl Workload {
    /// Every workload, in the order peers run them (writes last, so reads see the prepared
    /// data as it was seeded).
    pub const ALL: [Workload; 14] = [
        Self::SelectUsers(1),
        Self::SelectUsers(10),
        Self::SelectUsers(100),
        Self::SelectUsers(1000),
        Self::JoinPosts(1),
        Self::JoinPosts(10),
        Self::JoinPosts(100),
        Self::JoinPosts(1000),
        Self::EagerLoad,
        Self::Insert(1),
        Self::Insert(100),
        Self::Insert(1000),
        Self::UpdateByKey,
        Self::DeleteByKey,
    ];

    /// The key peers print and the driver reads: `select/10`, `eager`, `update`, `delete`.
    pub fn key(self) -> String {
        match self {
            Self::SelectUsers(n) => format!("select/{n}"),
            Self::JoinPosts(n) => format!("join/{n}"),
            Self::EagerLoad => "eager".into(),
            Self::Insert(n) => format!("insert/{n}"),
            Self::UpdateByKey => "update".into(),
            Self::DeleteByKey => "delete".into(),
        }
    }

    /// The workload a key names, if any.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.key() == key)
    }

    /// What a run must report: rows decoded (users, join rows, comments reached through the
    /// grouped users → posts → comments), rows inserted, updated or deleted.
    pub fn expected_count(self) -> u64 {
        match self {
            Self::SelectUsers(n) | Self::JoinPosts(n) | Self::Insert(n) => n,
            Self::EagerLoad => {
                dataset::EAGER_USERS * dataset::POSTS_PER_USER * dataset::COMMENTS_PER_POST
            }
            Self::UpdateByKey | Self::DeleteByKey => 1,
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SelectUsers(n) => write!(f, "select {n} users"),
            Self::JoinPosts(n) => write!(f, "users ⟕ posts, {n} rows"),
            Self::EagerLoad => f.write_str("users → posts → comments"),
            Self::Insert(n) => write!(f, "insert {n} users"),
            Self::UpdateByKey => f.write_str("update by primary key"),
            Self::DeleteByKey => f.write_str("delete by primary key"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_names_its_workload() {
        for workload in Workload::ALL {
            assert_eq!(Workload::from_key(&workload.key()), Some(workload));
        }
        assert_eq!(Workload::from_key("select/7"), None);
    }

    #[test]
    fn writes_come_after_every_read_and_delete_comes_last() {
        let first_write = Workload::ALL
            .iter()
            .position(|w| matches!(w, Workload::Insert(_)))
            .expect("an insert workload");
        assert!(Workload::ALL[first_write..].iter().all(|w| matches!(
            w,
            Workload::Insert(_) | Workload::UpdateByKey | Workload::DeleteByKey
        )));
        assert_eq!(Workload::ALL.last(), Some(&Workload::DeleteByKey));
        assert_eq!(Workload::from_key("delete"), Some(Workload::DeleteByKey));
        assert_eq!(Workload::DeleteByKey.expected_count(), 1);
        assert_eq!(Workload::DeleteByKey.to_string(), "delete by primary key");
    }
}
