//! The test harness gives every test its own database on each engine and removes it after.

use fox_e2e::{Backend, TestDatabase};
use sqlx::{AnyConnection, Connection, Row};

async fn database_exists(engine: Backend, name: &str) -> bool {
    match engine {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(&fox_e2e::postgres_server_url())
                .await
                .expect("connects");
            sqlx::query("SELECT count(*) FROM pg_database WHERE datname = $1")
                .bind(name)
                .fetch_one(&mut c)
                .await
                .expect("queries")
                .get::<i64, _>(0)
                == 1
        }
        Backend::MySql => {
            let mut c = sqlx::MySqlConnection::connect(&fox_e2e::mysql_server_url())
                .await
                .expect("connects");
            sqlx::query("SELECT count(*) FROM information_schema.schemata WHERE schema_name = ?")
                .bind(name)
                .fetch_one(&mut c)
                .await
                .expect("queries")
                .get::<i64, _>(0)
                == 1
        }
        Backend::Sqlite => false,
    }
}

#[tokio::test]
async fn each_engine_gets_a_fresh_database_that_is_dropped_afterwards() {
    sqlx::any::install_default_drivers();
    for engine in Backend::ALL {
        let database = TestDatabase::create(engine).await;
        let name = database.name().to_string();
        let mut connection = AnyConnection::connect(database.url())
            .await
            .expect("connects");
        sqlx::raw_sql("CREATE TABLE probe (id integer primary key)")
            .execute(&mut connection)
            .await
            .unwrap_or_else(|e| panic!("{engine}: {e}"));
        connection.close().await.expect("closes");
        if engine != Backend::Sqlite {
            assert!(database_exists(engine, &name).await, "{engine}: created");
        }
        drop(database);
        assert!(!database_exists(engine, &name).await, "{engine}: dropped");
    }
}
