//! `MongoDatabase::subscribe`: a model's changes through a change stream, as the same
//! `foxdb::realtime::Change<T>` SQL subscriptions yield, resumable by token. Runs against the
//! nx-27017 wire server by default and a real `mongod` (replica set) with `FOX_TEST_MONGO_URL`;
//! a server that refuses change streams must refuse with the typed error.

mod mongo_support;

use std::time::Duration;

use foxdb::mongo::{MongoChanges, MongoDatabase};
use foxdb::realtime::{Change, Operation, Position};
use foxdb::{Error, ModelExt};
use futures_util::StreamExt;
use mongo_support::MongoTest;

#[derive(Clone, Debug, PartialEq, foxdb::Model)]
#[foxdb(table = "notes")]
struct Note {
    #[foxdb(primary_key)]
    id: i64,
    title: String,
    pinned: bool,
}

fn note(id: i64, title: &str) -> Note {
    Note {
        id,
        title: title.into(),
        pinned: false,
    }
}

/// The next change, failing the test after ten seconds.
async fn next(changes: &mut MongoChanges<Note>) -> Change<Note> {
    tokio::time::timeout(Duration::from_secs(10), changes.next())
        .await
        .expect("a change within ten seconds")
        .expect("the stream is open")
        .expect("a change, not an error")
}

/// Starts a subscription, or says why this server cannot (then the test ends: the refusal
/// must be the typed error).
async fn started(
    db: &MongoDatabase,
    subscribe: foxdb::mongo::MongoSubscribe<Note>,
) -> Option<MongoChanges<Note>> {
    // The collection exists before the stream opens (as on a real deployment).
    db.insert(&note(0, "setup"))
        .await
        .expect("inserts the setup note");
    match subscribe.start().await {
        Ok(changes) => Some(changes),
        Err(Error::MongoUnsupported { feature }) => {
            println!(
                "SKIPPED: this server has no change streams ({feature}); set FOX_TEST_MONGO_URL to a replica-set mongod to run the test"
            );
            None
        }
        Err(other) => panic!("start: {other:?}"),
    }
}

#[tokio::test]
async fn inserts_updates_and_deletes_arrive_as_typed_changes_in_order() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let Some(mut changes) = started(db, db.subscribe::<Note>()).await else {
        return;
    };
    db.insert(&note(1, "first")).await.unwrap();
    db.update(
        &Note::update()
            .set(Note::TITLE, "edited")
            .filter(Note::ID.eq(1)),
    )
    .await
    .unwrap();
    db.remove(&note(1, "edited")).await.unwrap();

    let inserted = next(&mut changes).await;
    assert_eq!(inserted.op, Operation::Insert);
    assert_eq!(inserted.new, Some(note(1, "first")));
    assert_eq!(inserted.position, Position(1));
    let updated = next(&mut changes).await;
    assert_eq!(updated.op, Operation::Update);
    assert_eq!(updated.new.map(|n| n.title).as_deref(), Some("edited"));
    assert_eq!(updated.position, Position(2));
    let deleted = next(&mut changes).await;
    assert_eq!(deleted.op, Operation::Delete);
    assert_eq!(deleted.new, None);
    assert!(deleted.position > updated.position);
    let age = chrono::Utc::now() - deleted.committed_at;
    assert!(age < chrono::Duration::minutes(1), "{age}");
}

#[tokio::test]
async fn a_new_subscription_resumes_after_the_token_of_the_last_change_seen() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let Some(mut changes) = started(db, db.subscribe::<Note>()).await else {
        return;
    };
    db.insert(&note(1, "one")).await.unwrap();
    assert_eq!(next(&mut changes).await.new, Some(note(1, "one")));
    let token = changes
        .resume_token()
        .expect("a resume token after a change");
    drop(changes);

    // Written while nobody listens.
    db.insert(&note(2, "two")).await.unwrap();
    db.insert(&note(3, "three")).await.unwrap();
    let mut resumed = db
        .subscribe::<Note>()
        .resume_after(token)
        .start()
        .await
        .unwrap();
    assert_eq!(next(&mut resumed).await.new, Some(note(2, "two")));
    assert_eq!(next(&mut resumed).await.new, Some(note(3, "three")));
}

/// Field conditions sit beside `operationType` in the `$match` stage; the nx-27017 wire server
/// matches equality and `$in`/`$nin` there (a real mongod matches every filter the builder
/// renders).
#[tokio::test]
async fn events_and_filters_are_matched_on_the_server() {
    let test = MongoTest::new().await;
    let db = &test.db;
    let subscribe = db
        .subscribe::<Note>()
        .events([Operation::Insert])
        .filter(Note::TITLE.in_(["keep me", "keep too", "keep this"]));
    let Some(mut changes) = started(db, subscribe).await else {
        return;
    };
    db.insert(&note(1, "skip me")).await.unwrap();
    db.insert(&note(2, "keep me")).await.unwrap();
    db.update(
        &Note::update()
            .set(Note::TITLE, "keep too")
            .filter(Note::ID.eq(1)),
    )
    .await
    .unwrap();
    db.insert(&note(3, "keep this")).await.unwrap();
    let first = next(&mut changes).await;
    assert_eq!(
        (first.op, first.new.map(|n| n.id)),
        (Operation::Insert, Some(2))
    );
    let second = next(&mut changes).await;
    assert_eq!(
        (second.op, second.new.map(|n| n.id)),
        (Operation::Insert, Some(3))
    );
}
