//! MongoDB replication as a health check needs it: what `replSetGetStatus` says about the
//! server that answered it (its state, its health, how far its oplog is behind the primary's),
//! or that the server is no replica set at all.
//!
//! MongoDB is a document store beside the SQL engines, so it has no [`super::Replication`]
//! implementation (that trait is over SQL connections); it answers the same questions with the
//! same [`PrimaryProbe`] and [`ReplicaProbe`], from one `replSetGetStatus` reply parsed by the
//! pure [`parse_replica_set_status`].
//!
//! # What is read
//! `replSetGetStatus` (run on the `admin` database) reports the replica set "from the point of
//! view of the server that processed the command": `members[]` with `name`, `health` (1 up,
//! 0 down), `stateStr` (`PRIMARY`, `SECONDARY`, `RECOVERING`, ...), `optimeDate` (the time of
//! the last operation the member applied; `optime.ts`, a BSON timestamp, when the date is
//! missing) and `self: true` on the answering member. A member's lag is the primary's optime
//! minus its own, as `rs.printSecondaryReplicationInfo()` computes it.
//!
//! A server that is no replica set answers with error 76 (`NoReplicationEnabled`, "not running
//! with --replSet"); a stand-in server may instead answer `ok: 1` without `members`. Both are
//! [`ServerTopology::Standalone`]. A replica set not initiated yet answers error 94
//! (`NotYetInitialized`), which is a problem, not a standalone.

use mongodb::bson::{Bson, Document};

use super::{PrimaryProbe, ReplicaProbe};

/// Server error code of `replSetGetStatus` on a server started without `--replSet`.
pub const NO_REPLICATION_ENABLED: i32 = 76;

/// Server error code of `replSetGetStatus` on a replica set member not initiated yet.
pub const NOT_YET_INITIALIZED: i32 = 94;

/// What a MongoDB server is, from `replSetGetStatus`.
#[derive(Clone, Debug, PartialEq)]
pub enum ServerTopology {
    /// A single server: no replica set, no secondaries, no lag to measure.
    Standalone,
    /// A replica set member, with the set as it sees it.
    ReplicaSet(ReplicaSetStatus),
}

/// A replica set as one of its members sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaSetStatus {
    /// The set's name (`replSetName`).
    pub set: String,
    /// Every member the answering server knows.
    pub members: Vec<ReplicaSetMember>,
}

/// One member in a `replSetGetStatus` reply.
#[derive(Clone, Debug, PartialEq)]
pub struct ReplicaSetMember {
    /// `host:port` as the replica set configuration names it.
    pub name: String,
    /// `stateStr`: `PRIMARY`, `SECONDARY`, `RECOVERING`, `STARTUP2`, `ARBITER`, `DOWN`, ...
    pub state: String,
    /// `health` is 1: the answering server reaches it (always 1 for the answering server).
    pub reachable: bool,
    /// The time of the last operation it applied, in milliseconds since the epoch
    /// (`optimeDate`, else the seconds of `optime.ts`); `None` when the reply has neither
    /// (an arbiter, a member never reached).
    pub optime_millis: Option<i64>,
    /// `self: true`: the server that answered.
    pub is_self: bool,
}

impl ReplicaSetMember {
    /// Whether it is the primary.
    pub fn is_primary(&self) -> bool {
        self.state == "PRIMARY"
    }

    /// Whether it is a secondary (replicating, readable).
    pub fn is_secondary(&self) -> bool {
        self.state == "SECONDARY"
    }
}

impl ReplicaSetStatus {
    /// The member that answered the command.
    pub fn answering(&self) -> Option<&ReplicaSetMember> {
        self.members.iter().find(|m| m.is_self)
    }

    /// The primary, when the answering server knows one that it reaches.
    pub fn primary(&self) -> Option<&ReplicaSetMember> {
        self.members.iter().find(|m| m.is_primary() && m.reachable)
    }

    /// Seconds `member` is behind the primary (0 when ahead, as heartbeats can be); `None`
    /// without a primary or an optime on either side.
    pub fn lag_seconds(&self, member: &ReplicaSetMember) -> Option<f64> {
        let primary = self.primary()?.optime_millis?;
        let applied = member.optime_millis?;
        // Millisecond counts of real dates fit an f64 exactly.
        #[allow(clippy::cast_precision_loss)]
        let lag = (primary.saturating_sub(applied)).max(0) as f64 / 1000.0;
        Some(lag)
    }
}

/// Reads a `replSetGetStatus` reply (the command's `ok: 1` document).
///
/// # Errors
/// What is missing or of the wrong type, for a reply with `members` that is not shaped as
/// MongoDB documents it.
pub fn parse_replica_set_status(reply: &Document) -> Result<ServerTopology, String> {
    let Some(members) = reply.get("members") else {
        // A server without replication that still answers `ok: 1` (a stand-in server).
        return Ok(ServerTopology::Standalone);
    };
    let Bson::Array(members) = members else {
        return Err(format!(
            "`members` is a {:?}, not an array",
            members.element_type()
        ));
    };
    let members = members
        .iter()
        .enumerate()
        .map(|(index, member)| match member {
            Bson::Document(member) => {
                parse_member(member).map_err(|e| format!("members[{index}]: {e}"))
            }
            other => Err(format!(
                "members[{index}] is a {:?}, not a document",
                other.element_type()
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ServerTopology::ReplicaSet(ReplicaSetStatus {
        set: reply.get_str("set").unwrap_or_default().to_string(),
        members,
    }))
}

fn parse_member(member: &Document) -> Result<ReplicaSetMember, String> {
    let name = member
        .get_str("name")
        .map_err(|_| "no `name` string".to_string())?
        .to_string();
    let state = member
        .get_str("stateStr")
        .map_err(|_| format!("{name}: no `stateStr` string"))?
        .to_string();
    let is_self = member.get_bool("self").unwrap_or(false);
    // The answering server omits `health` for itself in some versions; it answered.
    let reachable = match member.get("health") {
        Some(health) => {
            number(health).ok_or_else(|| format!("{name}: `health` is not a number"))? >= 1.0
        }
        None => is_self,
    };
    let optime_millis = match member.get("optimeDate") {
        Some(Bson::DateTime(date)) => Some(date.timestamp_millis()),
        _ => optime_seconds(member).map(|seconds| seconds * 1000),
    };
    Ok(ReplicaSetMember {
        name,
        state,
        reachable,
        optime_millis,
        is_self,
    })
}

/// The seconds of `optime.ts` (MongoDB 3.2+), or of `optime` itself (a timestamp, before).
fn optime_seconds(member: &Document) -> Option<i64> {
    match member.get("optime")? {
        Bson::Timestamp(ts) => Some(i64::from(ts.time)),
        Bson::Document(optime) => match optime.get("ts")? {
            Bson::Timestamp(ts) => Some(i64::from(ts.time)),
            _ => None,
        },
        _ => None,
    }
}

fn number(value: &Bson) -> Option<f64> {
    match value {
        Bson::Double(v) => Some(*v),
        Bson::Int32(v) => Some(f64::from(*v)),
        #[allow(clippy::cast_precision_loss)]
        Bson::Int64(v) => Some(*v as f64),
        _ => None,
    }
}

/// The primary check of the server that answered: it takes writes when it is the primary of
/// its set, or a standalone server.
pub fn primary_probe(topology: &ServerTopology) -> PrimaryProbe {
    match topology {
        ServerTopology::Standalone => PrimaryProbe {
            writable: true,
            is_replica: Some(false),
            problem: None,
        },
        ServerTopology::ReplicaSet(set) => match set.answering() {
            Some(me) if me.is_primary() => PrimaryProbe {
                writable: true,
                is_replica: Some(false),
                problem: None,
            },
            Some(me) => PrimaryProbe {
                writable: false,
                is_replica: Some(me.is_secondary()),
                problem: Some(format!(
                    "it is {} in replica set {}{}",
                    me.state,
                    set.set,
                    set.primary()
                        .map(|p| format!(" (the primary is {})", p.name))
                        .unwrap_or_else(|| " (which has no primary now)".into())
                )),
            },
            None => PrimaryProbe {
                writable: false,
                is_replica: None,
                problem: Some(format!(
                    "replSetGetStatus of replica set {} names no member as itself",
                    set.set
                )),
            },
        },
    }
}

/// The replica check of the server that answered: a reachable `SECONDARY` replicates, and its
/// lag is the primary's optime minus its own.
pub fn replica_probe(topology: &ServerTopology) -> ReplicaProbe {
    let set = match topology {
        ServerTopology::Standalone => {
            return ReplicaProbe::not_replicating(
                false,
                "the server is a standalone MongoDB server (no replica set): it has no replicas",
            );
        }
        ServerTopology::ReplicaSet(set) => set,
    };
    let Some(me) = set.answering() else {
        return ReplicaProbe {
            problem: Some(format!(
                "replSetGetStatus of replica set {} names no member as itself",
                set.set
            )),
            ..ReplicaProbe::default()
        };
    };
    if me.is_primary() {
        return ReplicaProbe::not_replicating(
            false,
            format!(
                "the server is the primary of replica set {}; it does not replicate",
                set.set
            ),
        );
    }
    if !me.is_secondary() {
        return ReplicaProbe::not_replicating(
            true,
            format!("the member is {}, not SECONDARY", me.state),
        );
    }
    let lag_seconds = set.lag_seconds(me);
    ReplicaProbe {
        replicating: true,
        is_replica: Some(true),
        lag_seconds,
        applied: me.optime_millis.map(|m| m.to_string()),
        problem: set.primary().is_none().then(|| {
            format!(
                "replica set {} has no reachable primary; lag cannot be measured",
                set.set
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mongodb::bson::{DateTime, Timestamp, doc};

    fn date(text: &str) -> Bson {
        Bson::DateTime(DateTime::parse_rfc3339_str(text).expect("date"))
    }

    /// A reply shaped as the MongoDB manual's `replSetGetStatus` example, as a secondary
    /// (`m2`) answers it: `members[]` with `optime.ts`, `optimeDate`, `health`, `stateStr`.
    fn three_members(answering: &str, m2_applied: &str) -> Document {
        let member =
            |id: i32, name: &str, state: i32, state_str: &str, applied: &str, secs: u32| {
                let mut member = doc! {
                    "_id": id,
                    "name": name,
                    "health": 1.0,
                    "state": state,
                    "stateStr": state_str,
                    "uptime": 269,
                    "optime": { "ts": Timestamp { time: secs, increment: 1 }, "t": 4_i64 },
                    "optimeDurable": { "ts": Timestamp { time: secs, increment: 1 }, "t": 4_i64 },
                    "optimeDate": date(applied),
                    "optimeDurableDate": date(applied),
                    "lastHeartbeat": date("2019-12-05T22:37:33.720Z"),
                    "pingMs": 0_i64,
                    "syncSourceHost": "",
                    "syncSourceId": -1,
                    "infoMessage": "",
                    "configVersion": 1,
                };
                if name == answering {
                    member.insert("self", true);
                    member.remove("lastHeartbeat");
                    member.remove("pingMs");
                }
                member
            };
        doc! {
            "set": "replset",
            "date": date("2019-12-05T22:37:35.170Z"),
            "myState": 2,
            "term": 4_i64,
            "heartbeatIntervalMillis": 2000_i64,
            "members": [
                member(0, "m1.example.net:27017", 1, "PRIMARY", "2019-12-05T22:37:33Z", 1_575_585_453),
                member(1, "m2.example.net:27017", 2, "SECONDARY", m2_applied, 1_575_585_441),
                member(2, "m3.example.net:27017", 2, "SECONDARY", "2019-12-05T22:37:33Z", 1_575_585_453),
            ],
            "ok": 1.0,
        }
    }

    #[test]
    fn a_secondary_lags_by_the_primary_optime_minus_its_own() {
        let reply = three_members("m2.example.net:27017", "2019-12-05T22:37:21.500Z");
        let topology = parse_replica_set_status(&reply).expect("parses");
        let probe = replica_probe(&topology);
        assert!(probe.replicating, "{probe:?}");
        assert_eq!(probe.is_replica, Some(true));
        assert_eq!(probe.lag_seconds, Some(11.5));
        assert_eq!(probe.problem, None);
        let as_primary = primary_probe(&topology);
        assert!(!as_primary.writable);
        assert_eq!(
            as_primary.problem.as_deref(),
            Some("it is SECONDARY in replica set replset (the primary is m1.example.net:27017)")
        );
    }

    #[test]
    fn the_primary_takes_writes_and_does_not_replicate() {
        let topology = parse_replica_set_status(&three_members(
            "m1.example.net:27017",
            "2019-12-05T22:37:33Z",
        ))
        .expect("parses");
        assert!(primary_probe(&topology).writable);
        let as_replica = replica_probe(&topology);
        assert!(!as_replica.replicating);
        assert_eq!(as_replica.is_replica, Some(false));
    }

    #[test]
    fn optime_ts_stands_in_for_a_missing_optime_date() {
        let mut reply = three_members("m2.example.net:27017", "2019-12-05T22:37:33Z");
        for member in reply.get_array_mut("members").expect("members") {
            if let Bson::Document(member) = member {
                member.remove("optimeDate");
            }
        }
        let probe = replica_probe(&parse_replica_set_status(&reply).expect("parses"));
        assert_eq!(probe.lag_seconds, Some(12.0), "from optime.ts seconds");
    }

    #[test]
    fn a_down_primary_leaves_the_lag_unknown_and_says_why() {
        let mut reply = three_members("m2.example.net:27017", "2019-12-05T22:37:33Z");
        if let Some(Bson::Document(primary)) =
            reply.get_array_mut("members").expect("members").first_mut()
        {
            primary.insert("health", 0.0);
            primary.insert("stateStr", "(not reachable/healthy)");
        }
        let probe = replica_probe(&parse_replica_set_status(&reply).expect("parses"));
        assert_eq!(probe.lag_seconds, None);
        assert!(
            probe
                .problem
                .as_deref()
                .is_some_and(|p| p.contains("no reachable primary")),
            "{probe:?}"
        );
    }

    #[test]
    fn a_recovering_member_is_a_replica_that_does_not_take_reads() {
        let mut reply = three_members("m3.example.net:27017", "2019-12-05T22:37:33Z");
        if let Some(Bson::Document(m3)) =
            reply.get_array_mut("members").expect("members").get_mut(2)
        {
            m3.insert("stateStr", "RECOVERING");
        }
        let probe = replica_probe(&parse_replica_set_status(&reply).expect("parses"));
        assert!(!probe.replicating);
        assert_eq!(probe.is_replica, Some(true));
        assert_eq!(
            probe.problem.as_deref(),
            Some("the member is RECOVERING, not SECONDARY")
        );
    }

    #[test]
    fn a_reply_without_members_is_a_standalone_server() {
        // nx-27017 answers this way; mongod without --replSet answers error 76 instead.
        let topology = parse_replica_set_status(&doc! { "ok": 1, "result": [] }).expect("parses");
        assert_eq!(topology, ServerTopology::Standalone);
        assert!(primary_probe(&topology).writable);
        let as_replica = replica_probe(&topology);
        assert!(!as_replica.replicating);
        assert!(as_replica.problem.is_some_and(|p| p.contains("standalone")));
    }

    #[test]
    fn a_malformed_member_is_an_error_naming_it() {
        let reply = doc! { "set": "rs0", "members": [ { "name": "a:1", "stateStr": "PRIMARY" }, { "name": "b:1" } ] };
        let error = parse_replica_set_status(&reply).expect_err("no stateStr");
        assert_eq!(error, "members[1]: b:1: no `stateStr` string");
    }
}
