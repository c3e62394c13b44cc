//! Global transaction ids: which coordinator began a transaction, when, and which branch a
//! prepared transaction on one database is.
//!
//! A branch id reads `fox:<coordinator>:<millis>-<nonce>:<branch>`, for instance
//! `fox:payments-1:1764900000000-3fa85f64:0`. It is at most 64 bytes, the longest XA global
//! transaction id MySQL and MariaDB take (PostgreSQL takes 200), and holds only letters, digits
//! and `:-_`, so it is written into statements as a plain string literal.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The prefix of every id FoxDB writes; prepared transactions without it are not FoxDB's and
/// recovery leaves them alone.
const PREFIX: &str = "fox";

/// Longest coordinator name: keeps a branch id within MySQL's 64 bytes.
pub const MAX_COORDINATOR_LEN: usize = 24;

/// Most branches (participants) in one distributed transaction.
pub const MAX_BRANCHES: usize = 100;

/// A coordinator's name: 1 to 24 letters, digits, `-` or `_`. Two coordinators that run at the
/// same time should have different names (a host name, a pod name); recovery tells in its
/// report whose transactions it resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CoordinatorId(String);

/// Why a coordinator name or a transaction id was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The coordinator name breaks the rules of [`CoordinatorId`].
    #[error(
        "invalid coordinator name {name:?}: use 1 to {MAX_COORDINATOR_LEN} letters, digits, '-' or '_'"
    )]
    Coordinator {
        /// The name given.
        name: String,
    },
    /// The text is not a FoxDB branch id.
    #[error("not a FoxDB branch id: {text:?}")]
    Branch {
        /// The text read.
        text: String,
    },
}

impl CoordinatorId {
    /// Checks `name`.
    ///
    /// # Errors
    /// [`IdError::Coordinator`] for an empty or too long name, or another character.
    pub fn new(name: impl Into<String>) -> Result<Self, IdError> {
        let name = name.into();
        let valid = !name.is_empty()
            && name.len() <= MAX_COORDINATOR_LEN
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if valid {
            Ok(Self(name))
        } else {
            Err(IdError::Coordinator { name })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CoordinatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One distributed transaction: its coordinator, when it began (milliseconds since the Unix
/// epoch) and a random nonce. The coordinator log is keyed by it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransactionId {
    coordinator: CoordinatorId,
    began_millis: u64,
    nonce: u32,
}

impl TransactionId {
    /// A new id for a transaction `coordinator` begins now.
    pub fn begin(coordinator: &CoordinatorId) -> Self {
        let began_millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        // RandomState is seeded per instance from the operating system's randomness.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(began_millis);
        let nonce = (hasher.finish() & u64::from(u32::MAX)) as u32;
        Self {
            coordinator: coordinator.clone(),
            began_millis,
            nonce,
        }
    }

    /// The coordinator that began it.
    pub fn coordinator(&self) -> &CoordinatorId {
        &self.coordinator
    }

    /// When it began.
    pub fn began(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.began_millis)
    }

    /// How long ago it began (zero when the clock says the future).
    pub fn age(&self) -> Duration {
        SystemTime::now()
            .duration_since(self.began())
            .unwrap_or_default()
    }

    /// The id of its branch number `branch` (the participant's position, from 0).
    pub fn branch(&self, branch: usize) -> BranchId {
        BranchId {
            transaction: self.clone(),
            branch,
        }
    }
}

impl fmt::Display for TransactionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{PREFIX}:{}:{}-{:08x}",
            self.coordinator, self.began_millis, self.nonce
        )
    }
}

/// One branch of a distributed transaction: the id a participant database knows its prepared
/// transaction by (PostgreSQL's `gid`, an XA `xid` on MySQL/MariaDB).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BranchId {
    transaction: TransactionId,
    branch: usize,
}

impl BranchId {
    /// The distributed transaction.
    pub fn transaction(&self) -> &TransactionId {
        &self.transaction
    }

    /// The participant's position in the transaction, from 0.
    pub fn branch(&self) -> usize {
        self.branch
    }

    /// Reads a branch id back from a database's list of prepared transactions.
    ///
    /// # Errors
    /// [`IdError::Branch`] when `text` is not one FoxDB wrote (another application's prepared
    /// transaction).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let refused = || IdError::Branch { text: text.into() };
        let mut parts = text.split(':');
        let (Some(PREFIX), Some(coordinator), Some(began), Some(branch), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(refused());
        };
        let coordinator = CoordinatorId::new(coordinator).map_err(|_| refused())?;
        let (millis, nonce) = began.split_once('-').ok_or_else(refused)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(millis) || !digits(branch) || nonce.len() != 8 {
            return Err(refused());
        }
        Ok(Self {
            transaction: TransactionId {
                coordinator,
                began_millis: millis.parse().map_err(|_| refused())?,
                nonce: u32::from_str_radix(nonce, 16).map_err(|_| refused())?,
            },
            branch: branch.parse().map_err(|_| refused())?,
        })
    }
}

impl fmt::Display for BranchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.transaction, self.branch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_branch_id_names_its_coordinator_transaction_and_branch_and_reads_back() {
        let coordinator = CoordinatorId::new("payments-1").expect("valid");
        let transaction = TransactionId::begin(&coordinator);
        let branch = transaction.branch(1);
        let text = branch.to_string();
        assert!(text.starts_with("fox:payments-1:"), "{text}");
        assert!(text.ends_with(":1"), "{text}");
        let read = BranchId::parse(&text).expect("reads back");
        assert_eq!(read, branch);
        assert_eq!(read.transaction().coordinator().as_str(), "payments-1");
        assert!(read.transaction().age() < Duration::from_secs(60));
    }

    #[test]
    fn the_longest_branch_id_fits_an_xa_global_transaction_id() {
        let coordinator = CoordinatorId::new("c".repeat(MAX_COORDINATOR_LEN)).expect("valid");
        let mut transaction = TransactionId::begin(&coordinator);
        transaction.began_millis = u64::MAX;
        let text = transaction.branch(MAX_BRANCHES - 1).to_string();
        assert!(text.len() <= 64, "{} bytes: {text}", text.len());
    }

    #[test]
    fn coordinator_names_that_could_break_an_id_are_refused() {
        for name in [
            "",
            "a:b",
            "a b",
            "x'y",
            &"c".repeat(MAX_COORDINATOR_LEN + 1),
        ] {
            assert!(CoordinatorId::new(name).is_err(), "{name:?}");
        }
    }

    #[test]
    fn prepared_transactions_of_other_applications_are_not_read_as_foxdb_ones() {
        for text in [
            "",
            "my-app-tx-1",
            "fox:a:1-0000000g:0",
            "fox:a:1-00000000",
            "fox:a:1-00000000:0:9",
            "xa:a:1-00000000:0",
        ] {
            assert!(BranchId::parse(text).is_err(), "{text:?}");
        }
    }
}
