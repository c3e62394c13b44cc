//! `make bench` (second part): the Redis query cache and replica routing on PostgreSQL.
//!
//! - **cache**: a one-row read by primary key, and the headline query — 20 users, each with
//!   its profile and its 5 newest posts (three statements) — uncached against a cache hit.
//! - **routing**: a one-row read through `Database::builder()` (primary + one streaming
//!   replica, the read answered by the replica) against the same read on a plain connection
//!   to that replica.
//!
//! Each pair of workloads (uncached and hit; direct and routed) runs in alternating rounds —
//! warm-up runs, then the median of timed runs — and each reports the median of its rounds'
//! medians, so load that comes and goes on the machine falls on both alike. Uses the local PostgreSQL and Redis of the tests, and a
//! primary/replica pair of its own (fox-e2e's `PostgresPair`).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use fox_bench::timing::{median, show_latency};
use foxdb::cache::QueryCache;
use foxdb::{Database, ModelExt, PoolConfig, Relation, Value};

#[derive(foxdb::Model, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[foxdb(table = "users")]
struct User {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    name: String,
    email: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[foxdb(table = "profiles")]
struct Profile {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    user_id: i64,
    bio: String,
}

#[derive(foxdb::Model, Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[foxdb(table = "posts")]
struct Post {
    #[foxdb(primary_key, auto_increment)]
    id: i64,
    author_id: i64,
    title: String,
    body: String,
    created_at: i64,
}

impl User {
    fn profile() -> Relation<User, Profile> {
        Relation::has_many(User::ID, Profile::USER_ID)
    }
    fn posts() -> Relation<User, Post> {
        Relation::has_many(User::ID, Post::AUTHOR_ID)
    }
}

#[derive(Debug, Parser)]
#[command(about = "The query cache and replica routing against their uncached, direct baselines")]
struct Args {
    /// Timed runs per workload and round.
    #[arg(long, default_value_t = 300)]
    runs: usize,
    /// Untimed runs first.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Rounds; the median of their medians is reported.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
}

const SCHEMA: [&str; 5] = [
    "CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text NOT NULL)",
    "CREATE TABLE profiles (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, bio text NOT NULL)",
    "CREATE TABLE posts (id bigserial PRIMARY KEY, author_id bigint NOT NULL REFERENCES users, title text NOT NULL, body text NOT NULL, created_at bigint NOT NULL)",
    "CREATE INDEX ON profiles (user_id)",
    "CREATE INDEX ON posts (author_id, created_at)",
];

async fn seed(db: &Database) -> Result<()> {
    for ddl in SCHEMA {
        db.execute(ddl, &[]).await?;
    }
    db.execute(
        "INSERT INTO users (name, email) SELECT 'user ' || g, 'u' || g || '@example.com' FROM generate_series(1, 1000) g",
        &[],
    )
    .await?;
    db.execute(
        "INSERT INTO profiles (user_id, bio) SELECT id, repeat('bio ', 20) FROM users",
        &[],
    )
    .await?;
    db.execute(
        "INSERT INTO posts (author_id, title, body, created_at) \
         SELECT u.id, 'post ' || g, repeat('text ', 60), g FROM users u, generate_series(1, 10) g",
        &[],
    )
    .await?;
    db.execute("ANALYZE", &[]).await?;
    Ok(())
}

/// Two workloads measured in alternating rounds (a, b, a, b, ...), so load that comes and
/// goes on the machine falls on both alike: the median over rounds of each one's median.
async fn measure_pair<A, FA, B, FB>(args: &Args, mut a: A, mut b: B) -> Result<(Duration, Duration)>
where
    A: FnMut(usize) -> FA,
    FA: Future<Output = Result<()>>,
    B: FnMut(usize) -> FB,
    FB: Future<Output = Result<()>>,
{
    let one_round = Args {
        rounds: 1,
        runs: args.runs,
        warmup: args.warmup,
    };
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        first.push(measure(&one_round, &mut a).await?);
        second.push(measure(&one_round, &mut b).await?);
    }
    Ok((median(first), median(second)))
}

/// The median over `rounds` of the median of `runs` timed calls of `work`.
async fn measure<F, Fut>(args: &Args, mut work: F) -> Result<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut medians = Vec::new();
    for _ in 0..args.rounds {
        for i in 0..args.warmup {
            work(i).await?;
        }
        let mut samples = Vec::with_capacity(args.runs);
        for i in 0..args.runs {
            let started = Instant::now();
            work(i).await?;
            samples.push(started.elapsed());
        }
        medians.push(median(samples));
    }
    Ok(median(medians))
}

type Headline = (User, Option<Profile>, Vec<Post>);

async fn headline(db: &Database, cached: bool) -> Result<Vec<Headline>> {
    let query = User::find()
        .order_by(User::ID.asc())
        .limit(20)
        .with(User::profile().one())
        .with(User::posts().order_by(Post::CREATED_AT.desc()).limit(5));
    Ok(if cached {
        query.cache(Duration::from_secs(300)).all(db).await?
    } else {
        query.all(db).await?
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let args = Args::parse();
    let test = fox_e2e::TestDatabase::create(foxdb::Backend::Postgres).await;
    let url = format!("{}?sslmode=disable", test.url());
    let plain = Database::connect(&url).await?;
    seed(&plain).await?;
    let prefix = format!("foxbench:{}:", std::process::id());
    let cached = plain
        .clone()
        .with_cache(QueryCache::new(&fox_e2e::redis_url(), prefix)?);

    println!("## Query cache (PostgreSQL, Redis on the same machine)\n");
    println!("| query | uncached | cache hit | speed-up |");
    println!("|---|---|---|---|");
    let one_row = |db: Database, cache: bool| async move {
        let query = User::find().filter(User::ID.eq(42));
        let user = if cache {
            query.cache(Duration::from_secs(300)).one(&db).await?
        } else {
            query.one(&db).await?
        };
        anyhow::ensure!(user.is_some_and(|u| u.id == 42), "user 42 read");
        Ok(())
    };
    let (uncached_one, hit_one) = measure_pair(
        &args,
        |_| one_row(plain.clone(), false),
        |_| one_row(cached.clone(), true),
    )
    .await?;
    row("one row by primary key", uncached_one, hit_one);
    let check = |rows: Vec<Headline>| {
        anyhow::ensure!(
            rows.len() == 20
                && rows
                    .iter()
                    .all(|(_, profile, posts)| profile.is_some() && posts.len() == 5),
            "20 users, each with a profile and 5 posts"
        );
        Ok(())
    };
    let (uncached_headline, hit_headline) = measure_pair(
        &args,
        |_| {
            let db = plain.clone();
            async move { check(headline(&db, false).await?) }
        },
        |_| {
            let db = cached.clone();
            async move { check(headline(&db, true).await?) }
        },
    )
    .await?;
    row(
        "20 users → profile → 5 newest posts (3 statements)",
        uncached_headline,
        hit_headline,
    );
    let metrics = cached.query_cache().context("cache")?.metrics();
    println!(
        "\n(cache: {} hits, {} misses, {} errors)\n",
        metrics.hits(),
        metrics.misses(),
        metrics.errors()
    );

    println!("## Replica routing (PostgreSQL primary + streaming replica)\n");
    let pair = fox_e2e::replica::PostgresPair::start().context("PostgreSQL pair")?;
    let primary = Database::connect(&pair.primary_url()).await?;
    primary
        .execute(
            "CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL)",
            &[],
        )
        .await?;
    primary
        .execute(
            "INSERT INTO users SELECT g, 'user ' || g, 'u' || g || '@example.com' FROM generate_series(1, 1000) g",
            &[],
        )
        .await?;
    pair.catch_up().context("catch up")?;
    let direct = Database::connect(&pair.replica_url()).await?;
    let routed = Database::builder()
        .primary(pair.primary_url())
        .replica(pair.replica_url())
        .pool(PoolConfig::default())
        .connect()
        .await?;
    let read = |db: Database, i: usize| async move {
        let id = (i % 1000 + 1) as i64;
        let rows = db
            .fetch_all(
                "SELECT id, name, email FROM users WHERE id = $1",
                &[Value::Int(id)],
            )
            .await?;
        anyhow::ensure!(rows.len() == 1, "one row");
        Ok(())
    };
    let (direct_time, routed_time) = measure_pair(
        &args,
        |i| read(direct.clone(), i),
        |i| read(routed.clone(), i),
    )
    .await?;
    let replica_reads = routed
        .routing_metrics()
        .context("metrics")?
        .reads_from(&foxdb::DatabaseUrl::parse(&pair.replica_url())?.location());
    println!("| read | direct to the replica | through the router | overhead |");
    println!("|---|---|---|---|");
    println!(
        "| one row by primary key | {} | {} | {:+.1} % |",
        show_latency(direct_time),
        show_latency(routed_time),
        (routed_time.as_secs_f64() / direct_time.as_secs_f64() - 1.0) * 100.0
    );
    println!("\n(router: {replica_reads} reads answered by the replica)");
    Ok(())
}

fn row(name: &str, uncached: Duration, hit: Duration) {
    println!(
        "| {name} | {} | {} | {:.1}x |",
        show_latency(uncached),
        show_latency(hit),
        uncached.as_secs_f64() / hit.as_secs_f64()
    );
}
