//! Where a [`MongoDatabase`]'s reads go: the one place that turns a FoxReplicaSet's routing
//! (read preference, lag limit, the operator's routing table) into the driver's selection of a
//! server. Writes and transactions always go to the primary (the driver sends writes nowhere
//! else, and a transaction's reads run in its session, on the primary).
//!
//! Two sources, as for the SQL router:
//! - **The operator's routing table** ([`MongoDatabase::from_routing`],
//!   [`MongoDatabase::with_routing`]): reads go to the members the table lists as readers —
//!   those the operator measured healthy and within `maxReplicaLagSeconds` with
//!   `replSetGetStatus` (the primary, when `replicaPreferred` finds no replica within the
//!   limit). The file is read again every second while the program runs.
//! - **A read preference and lag limit given in code**
//!   ([`MongoDatabase::with_read_preference`]): the driver's own `secondaryPreferred` /
//!   `secondary` with `maxStalenessSeconds`. MongoDB drivers estimate staleness no finer than
//!   90 seconds, so a tighter limit is refused there (follow the routing table for one).
//!
//! [`MongoDatabase::on_primary`] gives a handle whose reads go to the primary, for a read that
//! must see the caller's own writes. With the table's `readYourWrites`, reads of a handle (and
//! its clones) that wrote less than `readYourWritesSeconds` ago go to the primary too.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use fox_crds::{Engine, PublishedRouting, RoutedMember};
use mongodb::options::{
    ReadPreference as DriverReadPreference, ReadPreferenceOptions, SelectionCriteria, ServerAddress,
};

use super::database::MongoDatabase;
use crate::error::{Error, Result};
use crate::router::ReadPreference;
use crate::router::routing_file::{RoutingFileError, credentials, parse_routing};

/// The smallest `maxStalenessSeconds` MongoDB accepts (its drivers' staleness estimate is no
/// finer: heartbeat interval plus the primary's idle write period).
pub const MIN_MAX_STALENESS: Duration = Duration::from_secs(90);

/// How often [`MongoDatabase::from_routing`] reads its file again.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// A MongoDB database's read routing (see the module docs).
#[derive(Clone, Debug)]
pub(crate) enum ReadRouting {
    /// The driver's read preference.
    Driver(DriverReadPreference),
    /// The operator's routing table, followed live.
    Table(Arc<RwLock<TableReaders>>),
}

/// The readers of the operator's table, by address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TableReaders {
    preference: ReadPreference,
    readers: Vec<(String, u16)>,
    /// `readYourWrites`: how long reads stay on the primary after a write.
    read_your_writes: Option<Duration>,
}

impl TableReaders {
    fn of(table: &PublishedRouting) -> Self {
        Self {
            preference: table.read_preference,
            readers: table.readers.iter().map(address).collect(),
            read_your_writes: table
                .read_your_writes
                .then(|| Duration::from_secs(u64::from(table.read_your_writes_seconds))),
        }
    }
}

fn address(member: &RoutedMember) -> (String, u16) {
    (member.host.to_ascii_lowercase(), member.port)
}

impl ReadRouting {
    /// The selection of the server a read goes to; `None` for the primary.
    ///
    /// # Errors
    /// [`Error::MongoConnect`] when the table lists no reader (`readPreference: replica` with
    /// no replica within the lag limit): reads fail at once instead of waiting for a server.
    /// `last_write` is when this handle (or a clone) last wrote: with the table's
    /// `readYourWrites`, reads within `readYourWritesSeconds` of it go to the primary.
    pub(crate) fn criteria(
        &self,
        location: &str,
        last_write: Option<Instant>,
    ) -> Result<Option<SelectionCriteria>> {
        match self {
            Self::Driver(preference) => {
                Ok(Some(SelectionCriteria::ReadPreference(preference.clone())))
            }
            Self::Table(table) => {
                let table = table.read().map_err(|_| Error::MongoUnsupported {
                    feature: "reading the routing table (a thread panicked while updating it)"
                        .into(),
                })?;
                let wrote_recently = table
                    .read_your_writes
                    .zip(last_write)
                    .is_some_and(|(window, wrote)| wrote.elapsed() < window);
                if table.preference == ReadPreference::Primary || wrote_recently {
                    return Ok(None);
                }
                if table.readers.is_empty() {
                    return Err(Error::MongoConnect {
                        reason: crate::ConnectFailure::Unreachable,
                        location: location.to_string(),
                        message: "no replica is healthy within the lag limit".into(),
                        hint: "the read preference is `replica`, which never reads from the primary; check the replicas' health in the FoxReplicaSet's status, or prefer `replicaPreferred`".into(),
                    });
                }
                let readers = table.readers.clone();
                Ok(Some(SelectionCriteria::Predicate(Arc::new(
                    move |server| match server.address() {
                        ServerAddress::Tcp { host, port } => {
                            let port = port.unwrap_or(27017);
                            let host = host.to_ascii_lowercase();
                            readers.iter().any(|(h, p)| *h == host && *p == port)
                        }
                        _ => false,
                    },
                ))))
            }
        }
    }
}

/// The driver's read preference for `preference` with reads at most `max_lag` behind.
///
/// # Errors
/// [`Error::MongoUnsupported`] for a lag limit under [`MIN_MAX_STALENESS`] with a preference
/// that reads from secondaries.
pub(crate) fn driver_preference(
    preference: ReadPreference,
    max_lag: Duration,
) -> Result<Option<DriverReadPreference>> {
    if preference == ReadPreference::Primary {
        return Ok(None);
    }
    if max_lag < MIN_MAX_STALENESS {
        return Err(Error::MongoUnsupported {
            feature: format!(
                "a replica lag limit of {} s through the driver's read preference: MongoDB measures staleness no finer than {} s (maxStalenessSeconds); follow the operator's routing table (MongoDatabase::from_routing), which measures lag with replSetGetStatus, or allow {} s",
                max_lag.as_secs_f64(),
                MIN_MAX_STALENESS.as_secs(),
                MIN_MAX_STALENESS.as_secs()
            ),
        });
    }
    let options = ReadPreferenceOptions::builder()
        .max_staleness(max_lag)
        .build();
    Ok(Some(match preference {
        ReadPreference::Replica => DriverReadPreference::Secondary {
            options: Some(options),
        },
        ReadPreference::ReplicaPreferred | ReadPreference::Primary => {
            DriverReadPreference::SecondaryPreferred {
                options: Some(options),
            }
        }
    }))
}

impl MongoDatabase {
    /// This database with reads sent as `preference` says, at most `max_lag` behind the
    /// primary, by the driver's read preference (`secondaryPreferred` or `secondary` with
    /// `maxStalenessSeconds`); `ReadPreference::Primary` sends every read to the primary.
    ///
    /// # Errors
    /// [`Error::MongoUnsupported`] for a `max_lag` under [`MIN_MAX_STALENESS`] (90 s) with a
    /// preference that reads from replicas: MongoDB cannot enforce it that way; follow the
    /// operator's routing table instead ([`Self::from_routing`]).
    pub fn with_read_preference(
        &self,
        preference: ReadPreference,
        max_lag: Duration,
    ) -> Result<Self> {
        let mut routed = self.clone();
        routed.reads = driver_preference(preference, max_lag)?.map(ReadRouting::Driver);
        Ok(routed)
    }

    /// This database with reads sent to the readers of the operator's routing table `table`
    /// (a FoxReplicaSet's `<name>-routing` ConfigMap, `routing.json`), by host and port as
    /// the member URLs name them. The table is taken as it is now; [`Self::from_routing`]
    /// follows the file.
    ///
    /// # Errors
    /// [`Error::MongoUnsupported`] for a table of another engine.
    pub fn with_routing(&self, table: &PublishedRouting) -> Result<Self> {
        check_engine(table.engine)?;
        let mut routed = self.clone();
        routed.reads = Some(ReadRouting::Table(Arc::new(RwLock::new(TableReaders::of(
            table,
        )))));
        Ok(routed)
    }

    /// A MongoDB database following the operator's routing table mounted at `path`: it
    /// connects with the URL of `FOXDB_URL`, else of a file `url` beside the table (the
    /// member Secret's `url` key: a `mongodb://` URL naming the replica set's hosts and
    /// database), and reads go to the table's readers; the file is read again every second
    /// (a malformed change is logged and the last good table stays).
    ///
    /// # Errors
    /// [`RoutingFileError`]: the file cannot be read or is no routing table, is for another
    /// engine, no credentials URL, or connecting failed.
    pub async fn from_routing(
        path: impl AsRef<Path>,
    ) -> std::result::Result<Self, RoutingFileError> {
        let path = path.as_ref().to_path_buf();
        let text = std::fs::read_to_string(&path).map_err(|source| RoutingFileError::Read {
            path: path.clone(),
            source,
        })?;
        let table = parse_routing(&path, &text)?;
        check_engine(table.engine).map_err(|error| RoutingFileError::Engine {
            path: path.clone(),
            engine: table.engine,
            reason: error.to_string(),
        })?;
        let url = credentials(&path)?;
        let db = Self::connect(&url).await?;
        let readers = Arc::new(RwLock::new(TableReaders::of(&table)));
        spawn_watch(Arc::downgrade(&readers), path, text);
        let mut routed = db;
        routed.reads = Some(ReadRouting::Table(readers));
        Ok(routed)
    }

    /// This database with every read on the primary (writes and transactions go there
    /// anyway): for a read that must see what the caller just wrote.
    #[must_use]
    pub fn on_primary(&self) -> Self {
        let mut primary = self.clone();
        primary.reads = None;
        primary
    }
}

fn check_engine(engine: Engine) -> Result<()> {
    match engine {
        Engine::Mongodb => Ok(()),
        Engine::Postgresql | Engine::Mysql | Engine::Mariadb | Engine::Sqlite => {
            Err(Error::MongoUnsupported {
                feature: format!(
                    "a routing table of engine {engine} (use foxdb::Database::from_routing for SQL engines)"
                ),
            })
        }
    }
}

/// Reads the file every [`WATCH_INTERVAL`] for as long as a database handle holds `readers`.
fn spawn_watch(readers: Weak<RwLock<TableReaders>>, path: PathBuf, mut last: String) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(WATCH_INTERVAL).await;
            let Some(readers) = readers.upgrade() else {
                return;
            };
            let Ok(text) = std::fs::read_to_string(&path) else {
                tracing::warn!(path = %path.display(), "the routing file cannot be read; the last table stays");
                continue;
            };
            if text == last {
                continue;
            }
            match parse_routing(&path, &text) {
                Ok(table) if table.engine == Engine::Mongodb => {
                    if let Ok(mut current) = readers.write() {
                        *current = TableReaders::of(&table);
                    }
                    last = text;
                }
                Ok(table) => {
                    tracing::warn!(path = %path.display(), engine = %table.engine, "the routing file now names another engine; the last table stays");
                }
                Err(error) => {
                    tracing::warn!(%error, "the routing file changed into something unreadable; the last table stays");
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(host: &str, port: u16) -> RoutedMember {
        RoutedMember {
            name: host.into(),
            host: host.into(),
            port,
            weight: 1,
        }
    }

    #[test]
    fn lag_limits_map_onto_max_staleness_from_90_seconds() {
        let preferred =
            driver_preference(ReadPreference::ReplicaPreferred, Duration::from_secs(120))
                .expect("maps")
                .expect("reads from secondaries");
        assert!(
            matches!(&preferred, DriverReadPreference::SecondaryPreferred { options: Some(o) } if o.max_staleness == Some(Duration::from_secs(120))),
            "{preferred:?}"
        );
        let only = driver_preference(ReadPreference::Replica, Duration::from_secs(90))
            .expect("maps")
            .expect("reads from secondaries");
        assert!(matches!(only, DriverReadPreference::Secondary { .. }));
        assert_eq!(
            driver_preference(ReadPreference::Primary, Duration::ZERO).expect("maps"),
            None
        );
        let error = driver_preference(ReadPreference::ReplicaPreferred, Duration::from_secs(10))
            .expect_err("under 90 s");
        assert!(error.to_string().contains("no finer than 90 s"), "{error}");
    }

    #[test]
    fn a_routing_table_picks_its_readers_and_refuses_reads_without_any() {
        let mut table = PublishedRouting {
            engine: Engine::Mongodb,
            primary: Some(member("m1", 27017)),
            readers: vec![member("M2.example", 27018)],
            read_preference: ReadPreference::ReplicaPreferred,
            ..PublishedRouting::default()
        };
        let routing = ReadRouting::Table(Arc::new(RwLock::new(TableReaders::of(&table))));
        assert!(matches!(
            routing.criteria("rs", None).expect("criteria"),
            Some(SelectionCriteria::Predicate(_))
        ));
        table.read_your_writes = true;
        table.read_your_writes_seconds = 5;
        let sticky = ReadRouting::Table(Arc::new(RwLock::new(TableReaders::of(&table))));
        assert!(
            sticky
                .criteria("rs", Some(Instant::now()))
                .expect("criteria")
                .is_none(),
            "reads after a write go to the primary"
        );
        table.read_preference = ReadPreference::Primary;
        let primary = ReadRouting::Table(Arc::new(RwLock::new(TableReaders::of(&table))));
        assert!(primary.criteria("rs", None).expect("criteria").is_none());
        table.read_preference = ReadPreference::Replica;
        table.readers.clear();
        let none = ReadRouting::Table(Arc::new(RwLock::new(TableReaders::of(&table))));
        assert!(none.criteria("rs", None).is_err());
        table.engine = Engine::Postgresql;
        assert!(check_engine(table.engine).is_err());
    }
}
