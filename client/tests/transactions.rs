//! Transactions on every engine: commit, rollback on error and on panic, savepoints,
//! isolation levels.

use fox_e2e::{Backend, TestDatabase};
use foxdb::{Database, Error, Isolation, ModelExt};

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "accounts")]
struct Account {
    #[foxdb(primary_key)]
    id: i64,
    balance: i64,
}

async fn accounts(engine: Backend) -> (TestDatabase, Database) {
    let test = TestDatabase::create(engine).await;
    let database = Database::connect(test.url()).await.expect("connects");
    database
        .execute(
            "CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL)",
            &[],
        )
        .await
        .expect("creates");
    database
        .insert_many(&[
            Account {
                id: 1,
                balance: 100,
            },
            Account {
                id: 2,
                balance: 100,
            },
        ])
        .await
        .expect("seeds");
    (test, database)
}

async fn balances(database: &Database) -> Vec<i64> {
    Account::find()
        .order_by(Account::ID.asc())
        .all(database)
        .await
        .expect("reads")
        .into_iter()
        .map(|a| a.balance)
        .collect()
}

#[tokio::test]
async fn commit_rollback_panic_and_savepoints_on_every_engine() {
    for engine in Backend::ALL {
        let (_test, db) = accounts(engine).await;

        db.transaction(async |tx| {
            Account::update()
                .set(Account::BALANCE, 90)
                .filter(Account::ID.eq(1))
                .exec(&mut *tx)
                .await?;
            Account::update()
                .set(Account::BALANCE, 110)
                .filter(Account::ID.eq(2))
                .exec(&mut *tx)
                .await?;
            Ok::<_, Error>(())
        })
        .await
        .expect("commits");
        assert_eq!(balances(&db).await, [90, 110], "{engine}: committed");

        let failed: Result<(), Error> = db
            .transaction(async |tx| {
                Account::update()
                    .set(Account::BALANCE, 0)
                    .filter(Account::ID.eq(1))
                    .exec(&mut *tx)
                    .await?;
                Err(Error::NotFound {
                    table: "accounts".into(),
                })
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(
            balances(&db).await,
            [90, 110],
            "{engine}: rolled back on Err"
        );

        let shared = db.clone();
        let panicked = tokio::spawn(async move {
            let _: Result<(), Error> = shared
                .transaction(async |tx| {
                    Account::update()
                        .set(Account::BALANCE, 0)
                        .filter(Account::ID.eq(2))
                        .exec(&mut *tx)
                        .await?;
                    panic!("the work panics mid-transaction");
                })
                .await;
        })
        .await;
        assert!(panicked.is_err(), "the task panicked");
        assert_eq!(
            balances(&db).await,
            [90, 110],
            "{engine}: rolled back on panic"
        );

        db.transaction(async |tx| {
            tx.insert(&Account { id: 3, balance: 5 }).await?;
            let inner: Result<(), Error> = tx
                .savepoint(async |tx| {
                    tx.insert(&Account { id: 4, balance: 7 }).await?;
                    Err(Error::NotFound {
                        table: "accounts".into(),
                    })
                })
                .await;
            assert!(inner.is_err());
            assert_eq!(
                Account::find().count(&mut *tx).await?,
                3,
                "the savepoint undid only its row"
            );
            Ok::<_, Error>(())
        })
        .await
        .expect("commits the outer transaction");
        assert_eq!(balances(&db).await, [90, 110, 5], "{engine}: savepoint");

        // A transaction inside a transaction is a savepoint: the inner work is undone alone, and
        // three levels deep the middle one keeps what it did.
        db.transaction(async |tx| {
            tx.transaction(async |tx| {
                tx.insert(&Account { id: 6, balance: 1 }).await?;
                let innermost: Result<(), Error> = tx
                    .transaction(async |tx| {
                        tx.insert(&Account { id: 7, balance: 1 }).await?;
                        Err(Error::NotFound {
                            table: "accounts".into(),
                        })
                    })
                    .await;
                assert!(innermost.is_err());
                Ok::<_, Error>(())
            })
            .await
        })
        .await
        .expect("commits the outer transaction");
        assert_eq!(
            balances(&db).await,
            [90, 110, 5, 1],
            "{engine}: nested transactions"
        );

        let serializable = db
            .transaction_with(Some(Isolation::Serializable), async |tx| {
                Account::find().count(&mut *tx).await
            })
            .await
            .expect("serializable transaction");
        assert_eq!(serializable, 4);
        let read_committed = db
            .transaction_with(Some(Isolation::ReadCommitted), async |tx| {
                Account::find().count(&mut *tx).await
            })
            .await;
        if engine == Backend::Sqlite {
            assert!(
                matches!(read_committed, Err(Error::Unsupported { .. })),
                "{engine}: a clear refusal"
            );
        } else {
            assert_eq!(read_committed.expect("read committed"), 4);
        }
        db.close().await;
    }
}
