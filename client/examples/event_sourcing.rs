//! Event sourcing with foxdb: an account whose state is the fold of its events, commands that
//! decide against the current version and retry on a conflict, a snapshot, and a projection
//! into a read model that keeps its checkpoint in the database.
//!
//! Run it on an embedded SQLite file, or point it at another database:
//! `cargo run -p foxdb --example event_sourcing [-- postgres://postgres@127.0.0.1/test]`.

use foxdb::events::{
    Error, Event, EventStore, ExpectedVersion, HandlerError, NewEvent, Projection,
    ProjectionRunner, RecordedEvent,
};
use foxdb::{Database, Transaction, Value};
use serde::{Deserialize, Serialize};

/// What happens to an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    Opened { owner: String },
    Deposited { cents: i64 },
    Withdrew { cents: i64 },
}

impl Event for AccountEvent {
    fn event_type(&self) -> &'static str {
        match self {
            AccountEvent::Opened { .. } => "account.opened",
            AccountEvent::Deposited { .. } => "account.deposited",
            AccountEvent::Withdrew { .. } => "account.withdrew",
        }
    }
}

/// An account's state: the fold of its events.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub owner: String,
    pub balance: i64,
}

impl Account {
    fn apply(&mut self, event: &AccountEvent) {
        match event {
            AccountEvent::Opened { owner } => self.owner = owner.clone(),
            AccountEvent::Deposited { cents } => self.balance += cents,
            AccountEvent::Withdrew { cents } => self.balance -= cents,
        }
    }
}

/// The account's state and version: its latest snapshot, then the events after it.
async fn load(store: &EventStore, stream: &str) -> Result<(Account, u64), Error> {
    let (mut account, mut version) = match store.load_snapshot::<Account>(stream).await? {
        Some(snapshot) => (snapshot.state, snapshot.version),
        None => (Account::default(), 0),
    };
    for event in store
        .read_stream::<AccountEvent>(stream, version + 1, 10_000)
        .await?
    {
        account.apply(&event.data);
        version = event.version;
    }
    Ok((account, version))
}

/// A command: decide on the current state, append at the version decided on; when another
/// writer got there first, load again and decide again.
async fn withdraw(
    store: &EventStore,
    stream: &str,
    cents: i64,
) -> Result<Result<(), String>, Error> {
    loop {
        let (account, version) = load(store, stream).await?;
        if account.balance < cents {
            return Ok(Err(format!(
                "withdrawal of {cents} refused: the balance is {}",
                account.balance
            )));
        }
        let event = NewEvent::new(&AccountEvent::Withdrew { cents })?.correlated_with("atm-17");
        match store
            .append(stream, ExpectedVersion::Exact(version), &[event])
            .await
        {
            Ok(_) => return Ok(Ok(())),
            Err(Error::WrongExpectedVersion { .. }) => continue,
            Err(error) => return Err(error),
        }
    }
}

/// A read model: one row per account with its balance, kept by a projection.
struct Balances;

impl Projection for Balances {
    type Event = AccountEvent;

    fn name(&self) -> &str {
        "balances"
    }

    async fn apply(
        &mut self,
        tx: &mut Transaction,
        event: &RecordedEvent<AccountEvent>,
    ) -> Result<(), HandlerError> {
        let p = |n| foxdb::dialect::dialect_for(tx.backend()).placeholder(n);
        let (sql, values) = match &event.data {
            AccountEvent::Opened { owner } => (
                format!(
                    "INSERT INTO account_balances (account, owner, balance) VALUES ({}, {}, 0)",
                    p(1),
                    p(2)
                ),
                vec![
                    Value::Text(event.stream_id.clone()),
                    Value::Text(owner.clone()),
                ],
            ),
            AccountEvent::Deposited { cents } | AccountEvent::Withdrew { cents } => {
                let sign = if matches!(event.data, AccountEvent::Withdrew { .. }) {
                    -1
                } else {
                    1
                };
                (
                    format!(
                        "UPDATE account_balances SET balance = balance + {} WHERE account = {}",
                        p(1),
                        p(2)
                    ),
                    vec![
                        Value::Int(sign * cents),
                        Value::Text(event.stream_id.clone()),
                    ],
                )
            }
        };
        tx.execute(&sql, &values).await?;
        Ok(())
    }
}

/// Runs the tour against `url`; returns what it prints.
pub async fn run(url: &str) -> Result<Vec<String>, Error> {
    let db = Database::connect(url).await?;
    // The read model is the application's own table.
    db.execute(
        "CREATE TABLE account_balances (account VARCHAR(100) PRIMARY KEY, owner VARCHAR(100) NOT NULL, balance BIGINT NOT NULL)",
        &[],
    )
    .await?;
    // Creates the store's tables when missing; events record the actor "teller".
    let store = EventStore::open(&db.with_actor("teller")).await?;
    let mut lines = Vec::new();

    for (stream, owner) in [("account-ada", "Ada"), ("account-bob", "Bob")] {
        let opened = NewEvent::new(&AccountEvent::Opened {
            owner: owner.into(),
        })?;
        store
            .append(stream, ExpectedVersion::NoStream, &[opened])
            .await?;
    }
    let deposit = NewEvent::new(&AccountEvent::Deposited { cents: 500 })?;
    store
        .append("account-ada", ExpectedVersion::Exact(1), &[deposit])
        .await?;
    withdraw(&store, "account-ada", 200)
        .await?
        .expect("enough money");
    if let Err(refused) = withdraw(&store, "account-ada", 1_000).await? {
        lines.push(refused);
    }

    // Two writers that read version 1: the second is told, and nothing is written.
    let late = NewEvent::new(&AccountEvent::Deposited { cents: 1 })?;
    match store
        .append("account-ada", ExpectedVersion::Exact(1), &[late])
        .await
    {
        Err(Error::WrongExpectedVersion { actual, .. }) => {
            lines.push(format!(
                "a stale append is refused: account-ada is at version {actual}"
            ));
        }
        other => lines.push(format!("unexpected: {other:?}")),
    }

    let (account, version) = load(&store, "account-ada").await?;
    store
        .save_snapshot("account-ada", version, &account)
        .await?;
    lines.push(format!(
        "{} has {} at version {version} (snapshot saved)",
        account.owner, account.balance
    ));

    let history = store
        .read_stream_backward::<AccountEvent>("account-ada", u64::MAX, 1)
        .await?;
    if let Some(newest) = history.first() {
        lines.push(format!(
            "newest: {:?} by {} in {}",
            newest.data,
            newest.metadata.actor.as_deref().unwrap_or("nobody"),
            newest
                .metadata
                .correlation_id
                .as_deref()
                .unwrap_or("no request")
        ));
    }

    let mut runner = ProjectionRunner::new(&store, Balances);
    let applied = runner.catch_up().await?;
    lines.push(format!("the projection applied {applied} events"));
    for row in db
        .fetch_all(
            "SELECT owner, balance FROM account_balances ORDER BY owner",
            &[],
        )
        .await?
    {
        lines.push(format!(
            "read model: {} {}",
            row.get::<String>("owner")?,
            row.get::<i64>("balance")?
        ));
    }
    let all = store.read_all::<serde_json::Value>(0, 100).await?;
    lines.push(format!(
        "global order: {}",
        all.iter()
            .map(|e| format!("{}:{}", e.position, e.event_type))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    db.close().await;
    Ok(lines)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sqlite://event_sourcing.sqlite?mode=rwc".into());
    for line in run(&url).await? {
        println!("{line}");
    }
    Ok(())
}
