//! Health probes of FoxReplicaSet members against real servers: healthy primaries on every
//! engine, replicas whose lag grows and vanishes, members that are down or not what their role
//! says, and messages that never show a password.
//!
//! Replica tests run private server pairs (`fox_e2e::replica`). How they make lag:
//! - PostgreSQL: WAL replay paused on the standby while the primary writes; the probe's lag
//!   (`now() - pg_last_xact_replay_timestamp()`) grows until replay resumes, then is 0.
//! - MariaDB: `MASTER_DELAY` holds each event back; `Seconds_Behind_Master` grows while a written
//!   event waits, and is 0 once the delay is lifted and the event applied. A stopped SQL thread
//!   is no lag but no replication: MariaDB reports a NULL lag, and the probe says unhealthy.

use std::time::{Duration, Instant};

use fox_crds::replica_set::MemberRole;
use fox_e2e::replica::{MariaDbPair, PostgresPair};
use fox_e2e::{Backend, TestDatabase};
use fox_operator::engine::health::{MemberProbe, probe_member};
use fox_operator::engine::member_connection::MemberConnection;
use foxdb::{Database, DatabaseUrl, PoolOptions};

/// Bound of every probe that is not about the timeout itself; generous for a loaded machine.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test waits for lag to appear or vanish, or a member to turn unhealthy.
const DEADLINE: Duration = Duration::from_secs(30);
/// A password no server message would contain by chance.
const PASSWORD: &str = "Quokka-pw-7f3e91";

fn pool_options() -> PoolOptions {
    PoolOptions {
        max_connections: 2,
        acquire_timeout: Duration::from_secs(3),
        ..PoolOptions::default()
    }
}

async fn connect(url: &str) -> Database {
    Database::connect_with(url, &pool_options())
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn probe(database: &Database, role: MemberRole) -> MemberProbe {
    probe_member(
        &MemberConnection::Sql(database.clone()),
        role,
        PROBE_TIMEOUT,
    )
    .await
}

/// Probes until `done` holds and returns that probe; fails with the last probe at the deadline.
async fn probe_until(
    database: &Database,
    role: MemberRole,
    what: &str,
    done: impl Fn(&MemberProbe) -> bool,
) -> MemberProbe {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let probe = probe(database, role).await;
        if done(&probe) {
            return probe;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: still {probe:?} after {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `url` logging in as `user` with [`PASSWORD`].
fn with_credentials(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    format!("{scheme}://{user}:{PASSWORD}@{host_and_path}")
}

fn message(probe: &MemberProbe) -> &str {
    probe.message.as_deref().unwrap_or_default()
}

fn assert_no_password(probe: &MemberProbe) {
    assert!(
        !format!("{probe:?}").contains(PASSWORD),
        "the password leaked: {probe:?}"
    );
}

fn assert_unhealthy_saying(probe: &MemberProbe, expected: &str) {
    assert!(!probe.healthy, "expected unhealthy: {probe:?}");
    assert!(
        message(probe).contains(expected),
        "expected a message containing {expected:?}: {probe:?}"
    );
    assert_no_password(probe);
}

#[tokio::test]
async fn healthy_primaries_report_no_lag_on_every_engine() {
    for engine in Backend::ALL {
        let test_database = TestDatabase::create(engine).await;
        let database = connect(test_database.url()).await;
        let probe = probe(&database, MemberRole::Primary).await;
        assert!(probe.healthy, "{engine}: {probe:?}");
        assert_eq!(probe.lag_seconds, None, "{engine}");
        assert_eq!(probe.message, None, "{engine}");
        assert!(probe.lag_within(0), "{engine}: a primary has no lag limit");
        if engine != Backend::MySql {
            assert_eq!(probe.in_recovery, Some(false), "{engine}");
        }
        database.close().await;
    }
}

#[tokio::test]
async fn a_primary_declared_as_replica_is_unhealthy() {
    let expected = [
        (
            Backend::Postgres,
            "declared replica but the server is a primary",
        ),
        (
            Backend::MySql,
            "declared replica but the server does not replicate",
        ),
        (
            Backend::Sqlite,
            "declared replica but sqlite has no replicas",
        ),
    ];
    for (engine, message) in expected {
        let test_database = TestDatabase::create(engine).await;
        let database = connect(test_database.url()).await;
        let probe = probe(&database, MemberRole::Replica).await;
        assert_unhealthy_saying(&probe, message);
        assert_eq!(probe.in_recovery, Some(false), "{engine}");
        assert!(!probe.lag_within(u32::MAX), "{engine}");
        database.close().await;
    }
}

#[tokio::test]
async fn postgres_replica_lag_grows_while_replay_is_paused_and_vanishes_after() {
    let pair = PostgresPair::start().expect("starts a PostgreSQL pair");
    let primary = connect(&pair.primary_url()).await;
    let replica = connect(&pair.replica_url()).await;
    primary
        .execute("CREATE TABLE events (id int)", &[])
        .await
        .unwrap();
    pair.catch_up().unwrap();

    let caught_up = probe(&replica, MemberRole::Replica).await;
    assert!(caught_up.healthy, "{caught_up:?}");
    assert_eq!(caught_up.in_recovery, Some(true));
    assert_eq!(caught_up.lag_seconds, Some(0.0), "{caught_up:?}");
    assert!(caught_up.lag_within(0));

    // A standby declared primary would take writes it must refuse.
    let standby = probe(&replica, MemberRole::Primary).await;
    assert_unhealthy_saying(
        &standby,
        "declared primary but the server is a read-only replica",
    );
    assert!(
        standby.answered && standby.in_recovery == Some(true),
        "{standby:?}"
    );

    pair.pause_replay().unwrap();
    primary
        .execute("INSERT INTO events VALUES (1)", &[])
        .await
        .unwrap();
    let lagging = probe_until(
        &replica,
        MemberRole::Replica,
        "lag of a paused replica",
        |p| p.lag_seconds.is_some_and(|lag| lag >= 1.0),
    )
    .await;
    assert!(lagging.healthy, "lag is not ill health: {lagging:?}");
    assert!(!lagging.lag_within(0));
    assert!(lagging.lag_within(3600));

    pair.resume_replay().unwrap();
    probe_until(
        &replica,
        MemberRole::Replica,
        "lag after replay resumed",
        |p| p.healthy && p.lag_seconds == Some(0.0),
    )
    .await;
    primary.close().await;
    replica.close().await;
}

#[tokio::test]
async fn postgres_members_that_go_down_are_unhealthy() {
    let mut pair = PostgresPair::start().expect("starts a PostgreSQL pair");
    // Trust authentication ignores the password, so it rides along in every pooled
    // connection's options: nothing the probe reports may show it.
    let primary = connect(&with_credentials(&pair.primary_url(), "postgres")).await;
    let replica = connect(&with_credentials(&pair.replica_url(), "postgres")).await;
    assert!(probe(&replica, MemberRole::Replica).await.healthy);

    pair.stop_primary();
    let primary_down = probe(&primary, MemberRole::Primary).await;
    assert!(!primary_down.healthy, "{primary_down:?}");
    assert!(!message(&primary_down).is_empty());
    assert_no_password(&primary_down);
    let orphaned = probe_until(
        &replica,
        MemberRole::Replica,
        "replica of a stopped primary",
        |p| !p.healthy,
    )
    .await;
    assert_unhealthy_saying(&orphaned, "replication is not running");
    assert_eq!(orphaned.in_recovery, Some(true));

    pair.stop_replica();
    let replica_down = probe(&replica, MemberRole::Replica).await;
    assert!(!replica_down.healthy, "{replica_down:?}");
    assert!(!message(&replica_down).is_empty());
    assert_no_password(&replica_down);
}

#[tokio::test]
async fn mariadb_replica_lag_follows_the_replication_delay() {
    let pair = MariaDbPair::start().expect("starts a MariaDB pair");
    let primary = connect(&pair.primary_url()).await;
    let replica = connect(&pair.replica_url()).await;
    primary
        .execute("CREATE TABLE events (id int PRIMARY KEY)", &[])
        .await
        .unwrap();
    pair.catch_up().unwrap();

    let caught_up = probe(&replica, MemberRole::Replica).await;
    assert!(caught_up.healthy, "{caught_up:?}");
    assert_eq!(caught_up.in_recovery, Some(true));
    assert_eq!(caught_up.lag_seconds, Some(0.0), "{caught_up:?}");

    // The replica runs with read_only=ON: writes routed there would fail. It answered,
    // though (it counts as reachable when the operator decides whether to keep the last
    // published endpoints), and the probe says what it is.
    let read_only = probe(&replica, MemberRole::Primary).await;
    assert_unhealthy_saying(&read_only, "declared primary but the server is read-only");
    assert!(read_only.answered, "{read_only:?}");
    assert_eq!(read_only.in_recovery, Some(true), "{read_only:?}");

    pair.set_replica_delay(3600).unwrap();
    primary
        .execute("INSERT INTO events VALUES (1)", &[])
        .await
        .unwrap();
    let lagging = probe_until(
        &replica,
        MemberRole::Replica,
        "a delayed replica at least 1 s behind",
        |p| p.lag_seconds.is_some_and(|lag| lag >= 1.0),
    )
    .await;
    assert!(lagging.healthy, "lag is not ill health: {lagging:?}");
    assert!(
        !lagging.lag_within(0) && lagging.lag_within(3600),
        "{lagging:?}"
    );

    pair.set_replica_delay(0).unwrap();
    probe_until(
        &replica,
        MemberRole::Replica,
        "lag after the delay was lifted",
        |p| p.healthy && p.lag_seconds == Some(0.0),
    )
    .await;

    // A stopped SQL thread applies nothing: MariaDB reports no lag at all, and that is
    // unhealthy rather than "0 s behind".
    pair.stop_replica_sql_thread().unwrap();
    let stopped = probe(&replica, MemberRole::Replica).await;
    assert_unhealthy_saying(&stopped, "replication is not running: SQL thread stopped");
    assert_eq!(stopped.lag_seconds, None);
    pair.start_replica_sql_thread().unwrap();
    probe_until(&replica, MemberRole::Replica, "SQL thread restarted", |p| {
        p.healthy
    })
    .await;
    primary.close().await;
    replica.close().await;
}

#[tokio::test]
async fn mariadb_members_that_go_down_are_unhealthy() {
    let mut pair = MariaDbPair::start().expect("starts a MariaDB pair");
    let primary = connect(&pair.primary_url()).await;
    let replica = connect(&pair.replica_url()).await;
    assert!(probe(&replica, MemberRole::Replica).await.healthy);

    pair.stop_primary();
    let primary_down = probe(&primary, MemberRole::Primary).await;
    assert!(!primary_down.healthy, "{primary_down:?}");
    assert!(!message(&primary_down).is_empty());
    // The IO thread keeps reconnecting; the probe reports it with MariaDB's own error.
    let orphaned = probe_until(
        &replica,
        MemberRole::Replica,
        "replica of a stopped primary",
        |p| !p.healthy,
    )
    .await;
    assert_unhealthy_saying(&orphaned, "replication is not running: IO thread");

    pair.stop_replica();
    let replica_down = probe(&replica, MemberRole::Replica).await;
    assert!(!replica_down.healthy, "{replica_down:?}");
    assert!(!message(&replica_down).is_empty());
}

#[tokio::test]
async fn a_probe_without_an_answer_in_time_is_unhealthy() {
    let test_database = TestDatabase::create(Backend::Postgres).await;
    let options = PoolOptions {
        max_connections: 1,
        acquire_timeout: Duration::from_secs(30),
        ..PoolOptions::default()
    };
    let database = Database::connect_with(test_database.url(), &options)
        .await
        .unwrap();
    // The pool's only connection is taken: the probe waits longer than it may.
    let transaction = database.begin(None).await.unwrap();
    let started = Instant::now();
    let probe = probe_member(
        &MemberConnection::Sql(database.clone()),
        MemberRole::Primary,
        Duration::from_millis(500),
    )
    .await;
    assert_unhealthy_saying(&probe, "no answer within 0.5 s");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    transaction.rollback().await.unwrap();
    database.close().await;
}

#[tokio::test]
async fn unreachable_members_are_reported_without_their_password() {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let urls = [
        // Nothing listens.
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:{closed_port}/fox"),
        format!("mysql://root:{PASSWORD}@127.0.0.1:{closed_port}/fox"),
        // The server refuses the login.
        with_credentials(&fox_e2e::postgres_server_url(), "fox_no_such_role"),
        with_credentials(&fox_e2e::mysql_server_url(), "root"),
    ];
    let options = PoolOptions {
        acquire_timeout: Duration::from_secs(1),
        ..pool_options()
    };
    for url in urls {
        let error = Database::connect_with(&url, &options)
            .await
            .expect_err("the login fails");
        let probe = MemberProbe::unreachable(&error);
        assert!(!probe.healthy && !probe.answered, "{probe:?}");
        let location = DatabaseUrl::parse(&url).unwrap().location();
        assert!(message(&probe).contains(&location), "{probe:?}");
        assert_no_password(&probe);
    }
}
