//! Transactions on a single `Connection` (what the schema engine runs on), on every engine:
//! commit, rollback, nesting as savepoints, the closure form, and the exclusive transaction
//! only SQLite has.

use fox_e2e::{Backend, TestDatabase};
use foxdb::{ConnectOptions, Connection, DatabaseUrl, Error};

async fn connection(test: &TestDatabase) -> Connection {
    let url = DatabaseUrl::parse(test.url()).expect("parses");
    let mut connection = Connection::connect(&url, &ConnectOptions::default())
        .await
        .expect("connects");
    connection
        .execute("CREATE TABLE notes (id integer PRIMARY KEY)")
        .await
        .expect("creates");
    connection
}

async fn ids(connection: &mut Connection) -> Vec<String> {
    connection
        .fetch_text_rows("SELECT CAST(id AS CHAR(10)) FROM notes ORDER BY id", &[])
        .await
        .expect("reads")
        .into_iter()
        .map(|row| row[0].clone().unwrap_or_default().trim().to_string())
        .collect()
}

#[tokio::test]
async fn a_connection_commits_rolls_back_and_nests_as_savepoints_on_every_engine() {
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let mut connection = connection(&test).await;
        assert!(!connection.in_transaction(), "{engine}");

        connection.begin().await.expect("begins");
        connection
            .execute("INSERT INTO notes VALUES (1)")
            .await
            .expect("inserts");
        connection.rollback().await.expect("rolls back");
        assert_eq!(ids(&mut connection).await, Vec::<String>::new(), "{engine}");

        connection.begin().await.expect("begins");
        connection
            .execute("INSERT INTO notes VALUES (2)")
            .await
            .expect("inserts");
        connection.begin().await.expect("sets a savepoint");
        assert_eq!(connection.transaction_depth(), 2, "{engine}");
        connection
            .execute("INSERT INTO notes VALUES (3)")
            .await
            .expect("inserts");
        connection
            .rollback()
            .await
            .expect("rolls back to the savepoint");
        assert!(
            connection.in_transaction(),
            "{engine}: the outer one goes on"
        );
        connection.commit().await.expect("commits");
        assert!(!connection.in_transaction(), "{engine}");
        assert_eq!(ids(&mut connection).await, vec!["2"], "{engine}");

        let failed: Result<(), Error> = connection
            .transaction(async |c| {
                c.execute("INSERT INTO notes VALUES (4)").await?;
                c.execute("INSERT INTO notes VALUES (2)").await?;
                Ok(())
            })
            .await;
        assert!(failed.is_err(), "{engine}: the duplicate key fails");
        assert!(!connection.in_transaction(), "{engine}");
        assert_eq!(ids(&mut connection).await, vec!["2"], "{engine}: 4 undone");
        connection.close().await;
    }
}

#[tokio::test]
async fn an_exclusive_transaction_is_sqlite_only_and_never_nested() {
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let mut connection = connection(&test).await;
        let exclusive = connection.begin_exclusive().await;
        if engine == Backend::Sqlite {
            exclusive.expect("SQLite has one");
            let nested = connection.begin_exclusive().await;
            assert!(
                matches!(nested, Err(Error::Unsupported { .. })),
                "{nested:?}"
            );
            connection
                .execute("INSERT INTO notes VALUES (1)")
                .await
                .expect("inserts");
            connection.commit().await.expect("commits");
            assert_eq!(ids(&mut connection).await, vec!["1"]);
        } else {
            assert!(
                matches!(exclusive, Err(Error::Unsupported { .. })),
                "{engine}: {exclusive:?}"
            );
            assert!(!connection.in_transaction(), "{engine}");
        }
        connection.close().await;
    }
}

#[derive(foxdb::Model, Clone, Debug, PartialEq)]
#[foxdb(table = "notes")]
struct Note {
    #[foxdb(primary_key)]
    id: i32,
}

#[tokio::test]
async fn a_connection_is_an_executor_for_models_inside_its_transaction_on_every_engine() {
    use foxdb::ModelExt;
    for engine in Backend::ALL {
        let test = TestDatabase::create(engine).await;
        let mut connection = connection(&test).await;
        connection.begin().await.expect("begins");
        foxdb::query::insert(&mut connection, &Note { id: 7 })
            .await
            .unwrap_or_else(|e| panic!("{engine}: inserts a model: {e}"));
        foxdb::query::upsert(&mut connection, &Note { id: 8 })
            .await
            .unwrap_or_else(|e| panic!("{engine}: upserts a model: {e}"));
        let seen = Note::find()
            .order_by(Note::ID.asc())
            .all(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{engine}: reads models: {e}"));
        assert_eq!(seen, [Note { id: 7 }, Note { id: 8 }], "{engine}");
        connection.rollback().await.expect("rolls back");
        assert_eq!(
            Note::find().count(&mut connection).await.expect("counts"),
            0,
            "{engine}: the model writes were part of the transaction"
        );
        connection.close().await;
    }
}
