//! The clients `make bench` compares, each run in its own process on the same prepared data:
//! raw sqlx (the speed limit), foxdb, SeaORM, Diesel, raw tokio-postgres and TypeORM (Node,
//! `bench/typeorm/`); `make bench-instructions` adds raw sqlx on a bare connection.
//!
//! Every Rust peer implements [`Client`]: six operations written the way that library's own
//! documentation writes them. [`run`] times them all the same way; a peer that returns fewer
//! rows than the workload asks for fails the run.

mod diesel;
mod foxdb;
mod seaorm;
mod sqlx;
mod tokio_postgres;

use std::path::PathBuf;
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use ::foxdb::{Backend, DatabaseUrl, PostgresDriver};
use anyhow::{Context, Result, bail, ensure};

use crate::dataset::{self, NewUser};
use crate::measurement::Measurement;
use crate::timing::{Sampling, median};
use crate::workload::Workload;

/// A client under comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Peer {
    /// Hand-written SQL on a sqlx pool of the engine's own type, decoded by position.
    Sqlx,
    /// The same on one bare sqlx connection, no pool: the instruction counts' limit.
    SqlxBare,
    /// The foxdb client on sqlx: PostgreSQL with `PostgresDriver::Sqlx`, MariaDB and SQLite
    /// on their only driver.
    Foxdb,
    /// The foxdb client with PostgreSQL on tokio-postgres, its default driver
    /// (`PoolOptions::postgres_driver`; PostgreSQL only).
    FoxdbTokioPostgres,
    /// SeaORM 2.0 (PostgreSQL only here).
    Seaorm,
    /// Diesel 2.3, synchronous, one connection (PostgreSQL only here).
    Diesel,
    /// Hand-written SQL on one tokio-postgres connection, statements prepared once, decoded
    /// by position (PostgreSQL only).
    TokioPostgres,
    /// TypeORM 0.3 with the `pg` driver on Node (PostgreSQL only here).
    Typeorm,
}

impl Peer {
    /// Every peer of the wall-clock table, in the order of its columns; raw sqlx first (the
    /// ratios' base).
    pub const ALL: [Peer; 7] = [
        Self::Sqlx,
        Self::Foxdb,
        Self::FoxdbTokioPostgres,
        Self::Seaorm,
        Self::Diesel,
        Self::TokioPostgres,
        Self::Typeorm,
    ];

    /// Every peer of the instruction counts (the Rust ones), raw sqlx on a bare connection
    /// first (the ratios' base).
    pub const RUST: [Peer; 7] = [
        Self::SqlxBare,
        Self::TokioPostgres,
        Self::Foxdb,
        Self::FoxdbTokioPostgres,
        Self::Sqlx,
        Self::Seaorm,
        Self::Diesel,
    ];

    /// The name on the command line (`--peer seaorm`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlx => "sqlx",
            Self::SqlxBare => "sqlx-bare",
            Self::Foxdb => "foxdb",
            Self::FoxdbTokioPostgres => "foxdb-tokio-postgres",
            Self::Seaorm => "seaorm",
            Self::Diesel => "diesel",
            Self::TokioPostgres => "tokio-postgres",
            Self::Typeorm => "typeorm",
        }
    }

    /// The name in the table.
    pub fn title(self) -> &'static str {
        match self {
            Self::Sqlx => "sqlx",
            Self::SqlxBare => "sqlx (bare)",
            Self::Foxdb => "foxdb",
            Self::FoxdbTokioPostgres => "foxdb (tokio-postgres)",
            Self::Seaorm => "SeaORM",
            Self::Diesel => "Diesel",
            Self::TokioPostgres => "tokio-postgres",
            Self::Typeorm => "TypeORM",
        }
    }

    /// Whether the benchmark runs this peer on `backend`: the ORMs, tokio-postgres and foxdb
    /// on tokio-postgres are compared on PostgreSQL, raw sqlx and foxdb on every engine.
    pub fn runs_on(self, backend: Backend) -> bool {
        matches!(self, Self::Sqlx | Self::SqlxBare | Self::Foxdb) || backend == Backend::Postgres
    }

    /// The process that runs this peer's workloads on `url` and prints its measurements.
    ///
    /// # Errors
    /// The current executable cannot be found, or TypeORM is not installed.
    pub fn command(self, url: &str, sampling: Sampling) -> Result<Command> {
        let mut command = match self {
            Self::Typeorm => {
                let script = typeorm_dir().join("bench.js");
                ensure!(
                    typeorm_dir().join("node_modules/typeorm").is_dir(),
                    "TypeORM is not installed in {}: run `bash bench/typeorm/install.sh` (`make bench` does)",
                    typeorm_dir().display()
                );
                let mut command = Command::new("node");
                command.arg(script);
                command
            }
            _ => {
                let mut command = Command::new(
                    std::env::current_exe().context("finding the bench-client executable")?,
                );
                command.args(["--peer", self.name()]);
                command
            }
        };
        command.args([
            "--url",
            url,
            "--warmup",
            &sampling.warmup.to_string(),
            "--runs",
            &sampling.runs.to_string(),
        ]);
        Ok(command)
    }
}

fn typeorm_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("typeorm")
}

/// Six operations, one per kind of workload, in a client's own idiom. Each returns the
/// amount of work done (see [`Workload::expected_count`]).
trait Client {
    /// New users in this client's own row type, built before the timed runs.
    type NewUsers;

    /// Turns the insert workload's rows into [`Client::NewUsers`].
    fn new_users(&self, users: &[NewUser]) -> Self::NewUsers;

    /// The first `limit` users by id.
    async fn select_users(&mut self, limit: u64) -> Result<u64>;

    /// Users with `hair_color` left-joined with their posts, by user and post id, `limit` rows.
    async fn join_posts(&mut self, hair_color: &str, limit: u64) -> Result<u64>;

    /// The users with `user_ids`, their posts and the posts' comments, grouped; returns the
    /// number of comments reached through the grouping.
    async fn eager_load(&mut self, user_ids: &[i64]) -> Result<u64>;

    /// Inserts `users` in one statement; returns the rows inserted.
    async fn insert_users(&mut self, users: &Self::NewUsers) -> Result<u64>;

    /// Sets the hair colour of user `id`; returns the rows updated.
    async fn update_hair_color(&mut self, id: i64, hair_color: &str) -> Result<u64>;

    /// Deletes user `id`; returns the rows deleted.
    async fn delete_user(&mut self, id: i64) -> Result<u64>;
}

/// One run of `workload` on `client` (`run` picks the value an update writes and the user a
/// delete removes); returns the rows of work it did.
async fn run_workload<C: Client>(
    client: &mut C,
    workload: Workload,
    run: usize,
    user_ids: &[i64],
    new_users: &C::NewUsers,
) -> Result<u64> {
    match workload {
        Workload::SelectUsers(n) => client.select_users(n).await,
        Workload::JoinPosts(n) => client.join_posts(dataset::JOIN_HAIR_COLOR, n).await,
        Workload::EagerLoad => client.eager_load(user_ids).await,
        Workload::Insert(_) => client.insert_users(new_users).await,
        Workload::UpdateByKey => {
            client
                .update_hair_color(dataset::UPDATE_TARGET, dataset::update_hair_color(run))
                .await
        }
        Workload::DeleteByKey => client.delete_user(dataset::deleted_user_id(run)).await,
    }
}

/// What `workload` needs in the database before its first of `runs` runs: the delete
/// workload one user per run ([`dataset::insert_users_to_delete`]), the others nothing.
async fn prepare_workload(url: &str, workload: Workload, runs: usize) -> Result<()> {
    match workload {
        Workload::DeleteByKey => dataset::insert_users_to_delete(url, runs).await,
        _ => Ok(()),
    }
}

/// Runs `workloads` (in the order of [`Workload::ALL`]) on `client` (connected to `url`):
/// `sampling.warmup` untimed runs, then the median of `sampling.runs` timed ones. Each run's
/// count is checked outside the timing.
async fn measure(
    client: &mut impl Client,
    url: &str,
    sampling: Sampling,
    workloads: &[Workload],
) -> Result<Vec<Measurement>> {
    let user_ids = dataset::eager_user_ids();
    let mut measurements = Vec::with_capacity(workloads.len());
    for workload in Workload::ALL.into_iter().filter(|w| workloads.contains(w)) {
        let new_users = match workload {
            Workload::Insert(n) => client.new_users(&dataset::new_users(n)),
            _ => client.new_users(&[]),
        };
        prepare_workload(url, workload, sampling.warmup + sampling.runs).await?;
        let mut samples = Vec::with_capacity(sampling.runs);
        for run in 0..sampling.warmup + sampling.runs {
            let started = Instant::now();
            let count = run_workload(client, workload, run, &user_ids, &new_users)
                .await
                .with_context(|| format!("running `{workload}`"))?;
            let elapsed = started.elapsed();
            ensure!(
                count == workload.expected_count(),
                "`{workload}` did {count} rows of work instead of {}",
                workload.expected_count()
            );
            if run >= sampling.warmup {
                samples.push(elapsed);
            }
        }
        measurements.push(Measurement {
            workload,
            median: median(samples),
        });
    }
    Ok(measurements)
}

/// Marks the edges of a workload's counted runs: `bench-instructions` has callgrind dump (and
/// zero) its counters each time this returns (`--dump-after`), so the dumps alternate between
/// a workload's untimed preparation and its `n` counted runs.
#[inline(never)]
pub fn instruction_boundary() {
    std::hint::black_box(());
}

/// Polls of operations that returned `Pending` since the last [`instruction_boundary`] of
/// [`count`]: the operation's reply was not on the socket yet, so the runtime parked, its I/O
/// driver woke the task and the operation was polled again.
static WAITS: AtomicU64 = AtomicU64::new(0);

/// An operation's future, polled through one function that is never inlined
/// ([`OPERATION_POLLS`]): the dumps then give what runs inside the operation's polls (the
/// client's code, the driver, decoding) apart from the runtime's scheduling and I/O driver,
/// whose share depends on how often the reply was not there yet ([`WAITS`]).
struct OperationPolls<'a>(Pin<&'a mut (dyn Future<Output = Result<u64>> + 'a)>);

/// [`OperationPolls`]' poll as callgrind names it.
pub const OPERATION_POLLS: &str =
    "<fox_bench::peers::OperationPolls as core::future::future::Future>::poll";

impl Future for OperationPolls<'_> {
    type Output = Result<u64>;

    #[inline(never)]
    fn poll(mut self: Pin<&mut Self>, context: &mut TaskContext<'_>) -> Poll<Result<u64>> {
        let poll = self.0.as_mut().poll(context);
        if poll.is_pending() {
            WAITS.fetch_add(1, Ordering::Relaxed);
        }
        poll
    }
}

/// The line a `--peer` process prints after each workload's counted runs:
/// `waits WORKLOAD N`, N the polls of those runs that returned `Pending`.
pub fn waits_line(workload: Workload, waits: u64) -> String {
    format!("waits {} {waits}", workload.key())
}

/// The workload and waits of a [`waits_line`].
pub fn parse_waits_line(line: &str) -> Option<(Workload, u64)> {
    let mut words = line.strip_prefix("waits ")?.split(' ');
    let workload = Workload::from_key(words.next()?)?;
    let waits = words.next()?.parse().ok()?;
    words.next().is_none().then_some((workload, waits))
}

/// Runs every workload of [`Workload::ALL`] on `client` (connected to `url`): one untimed run,
/// then `iterations(workload)` counted runs between two [`instruction_boundary`] calls, each
/// run polled through [`OperationPolls`]; prints each workload's [`waits_line`].
async fn count(
    client: &mut impl Client,
    url: &str,
    iterations: impl Fn(Workload) -> u64,
) -> Result<()> {
    let user_ids = dataset::eager_user_ids();
    for workload in Workload::ALL {
        let new_users = match workload {
            Workload::Insert(n) => client.new_users(&dataset::new_users(n)),
            _ => client.new_users(&[]),
        };
        let runs = iterations(workload);
        prepare_workload(url, workload, runs as usize + 1).await?;
        for run in 0..=runs {
            if run == 1 {
                instruction_boundary();
                WAITS.store(0, Ordering::Relaxed);
            }
            let operation = run_workload(client, workload, run as usize, &user_ids, &new_users);
            let operation: Pin<&mut (dyn Future<Output = Result<u64>> + '_)> =
                std::pin::pin!(operation);
            let count = OperationPolls(operation)
                .await
                .with_context(|| format!("running `{workload}`"))?;
            ensure!(
                count == workload.expected_count(),
                "`{workload}` reported {count}, expected {}",
                workload.expected_count()
            );
        }
        instruction_boundary();
        println!("{}", waits_line(workload, WAITS.load(Ordering::Relaxed)));
    }
    Ok(())
}

/// Runs `peer`'s workloads in this process on the prepared database at `url` for
/// `bench-instructions`: `iterations(workload)` counted runs each, marked by
/// [`instruction_boundary`].
///
/// # Errors
/// Connection, query and count errors; TypeORM, which is not a Rust peer; a peer on an engine
/// it is not compared on.
pub async fn run_counted(
    peer: Peer,
    url: &str,
    iterations: impl Fn(Workload) -> u64,
) -> Result<()> {
    let backend = DatabaseUrl::parse(url)?.backend();
    ensure!(
        peer.runs_on(backend),
        "{} is compared on PostgreSQL only",
        peer.title()
    );
    match peer {
        Peer::Sqlx => count(&mut sqlx::RawSqlx::connect(url).await?, url, iterations).await,
        Peer::SqlxBare => {
            count(
                &mut sqlx::RawSqlx::connect_bare(url).await?,
                url,
                iterations,
            )
            .await
        }
        Peer::Foxdb => {
            count(
                &mut foxdb::Foxdb::connect(url, PostgresDriver::Sqlx).await?,
                url,
                iterations,
            )
            .await
        }
        Peer::FoxdbTokioPostgres => {
            let mut client = foxdb::Foxdb::connect(url, PostgresDriver::TokioPostgres).await?;
            count(&mut client, url, iterations).await
        }
        Peer::Seaorm => count(&mut seaorm::SeaOrm::connect(url).await?, url, iterations).await,
        Peer::Diesel => count(&mut diesel::Diesel::connect(url)?, url, iterations).await,
        Peer::TokioPostgres => {
            count(
                &mut tokio_postgres::TokioPostgres::connect(url).await?,
                url,
                iterations,
            )
            .await
        }
        Peer::Typeorm => bail!("TypeORM runs under Node, not under callgrind here"),
    }
}

/// Runs `peer`'s `workloads` in this process on the prepared database at `url`.
///
/// # Errors
/// Connection, query and count errors; TypeORM, which runs under Node, not here; a peer on an
/// engine it is not compared on.
pub async fn run(
    peer: Peer,
    url: &str,
    sampling: Sampling,
    workloads: &[Workload],
) -> Result<Vec<Measurement>> {
    let backend = DatabaseUrl::parse(url)?.backend();
    ensure!(
        peer.runs_on(backend),
        "{} is compared on PostgreSQL only",
        peer.title()
    );
    match peer {
        Peer::Sqlx => {
            measure(
                &mut sqlx::RawSqlx::connect(url).await?,
                url,
                sampling,
                workloads,
            )
            .await
        }
        Peer::SqlxBare => {
            measure(
                &mut sqlx::RawSqlx::connect_bare(url).await?,
                url,
                sampling,
                workloads,
            )
            .await
        }
        Peer::Foxdb => {
            measure(
                &mut foxdb::Foxdb::connect(url, PostgresDriver::Sqlx).await?,
                url,
                sampling,
                workloads,
            )
            .await
        }
        Peer::FoxdbTokioPostgres => {
            let mut client = foxdb::Foxdb::connect(url, PostgresDriver::TokioPostgres).await?;
            measure(&mut client, url, sampling, workloads).await
        }
        Peer::Seaorm => {
            measure(
                &mut seaorm::SeaOrm::connect(url).await?,
                url,
                sampling,
                workloads,
            )
            .await
        }
        Peer::Diesel => measure(&mut diesel::Diesel::connect(url)?, url, sampling, workloads).await,
        Peer::TokioPostgres => {
            measure(
                &mut tokio_postgres::TokioPostgres::connect(url).await?,
                url,
                sampling,
                workloads,
            )
            .await
        }
        Peer::Typeorm => bail!("TypeORM runs under Node: node bench/typeorm/bench.js"),
    }
}

/// Users → posts → comments, as the eager-loading workload assembles them.
type Loaded<U, P, C> = Vec<(U, Vec<(P, Vec<C>)>)>;

/// The comments reached through users → posts → comments: what eager loading reports.
fn comments_reached<U, P, C>(loaded: &Loaded<U, P, C>) -> u64 {
    loaded
        .iter()
        .flat_map(|(_, posts)| posts)
        .map(|(_, comments)| comments.len() as u64)
        .sum()
}

/// Nests what a level-by-level loader returns: `posts` in user order, `posts_per_user[i]` of
/// them for `users[i]`, and `comments[j]` for `posts[j]`.
fn nest<U, P, C>(
    users: Vec<U>,
    posts_per_user: Vec<usize>,
    posts: Vec<P>,
    comments: Vec<Vec<C>>,
) -> Loaded<U, P, C> {
    let mut posts = posts.into_iter().zip(comments);
    users
        .into_iter()
        .zip(posts_per_user)
        .map(|(user, count)| (user, posts.by_ref().take(count).collect()))
        .collect()
}

/// Groups `children` under their parents: `result[i]` holds the children whose key (by
/// `parent_key`) equals `key(parents[i])`, in the order they came. For the peers that
/// assemble users → posts → comments by hand.
fn group_by_parent<P, C>(
    parents: &[P],
    parent_key: impl Fn(&P) -> i64,
    children: Vec<C>,
    child_key: impl Fn(&C) -> i64,
) -> Vec<Vec<C>> {
    let index: std::collections::HashMap<i64, usize> = parents
        .iter()
        .enumerate()
        .map(|(i, parent)| (parent_key(parent), i))
        .collect();
    let mut grouped: Vec<Vec<C>> = parents.iter().map(|_| Vec::new()).collect();
    for child in children {
        if let Some(&i) = index.get(&child_key(&child)) {
            grouped[i].push(child);
        }
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_waits_line_reads_back_and_other_output_does_not() {
        let line = waits_line(Workload::SelectUsers(10), 42);
        assert_eq!(line, "waits select/10 42");
        assert_eq!(
            parse_waits_line(&line),
            Some((Workload::SelectUsers(10), 42))
        );
        assert_eq!(parse_waits_line("waits select/7 1"), None);
        assert_eq!(parse_waits_line("waits eager 1 2"), None);
        assert_eq!(parse_waits_line("select/1 12 µs"), None);
    }
}
