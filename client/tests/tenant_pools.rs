//! Database per tenant: `TenantPools` opens a tenant's pool on first use, keeps at most the
//! bound open and closes the least recently used beyond it; each tenant's rows stay in its own
//! database. On PostgreSQL and SQLite.

use fox_e2e::{Backend, TestDatabase};
use foxdb::tenant_pools::TenantPools;
use foxdb::{PoolOptions, Value};

#[tokio::test]
async fn pools_open_lazily_stay_bounded_and_keep_each_tenant_in_its_database() {
    for engine in [Backend::Postgres, Backend::Sqlite] {
        let databases = [
            TestDatabase::create(engine).await,
            TestDatabase::create(engine).await,
            TestDatabase::create(engine).await,
        ];
        let urls: Vec<String> = databases.iter().map(|d| d.url().to_string()).collect();
        let names = ["acme", "globex", "initech"];
        let by_tenant: std::collections::HashMap<String, String> =
            names.iter().map(|n| n.to_string()).zip(urls).collect();
        let pools = TenantPools::new(
            move |tenant: &str| by_tenant.get(tenant).cloned().unwrap_or_default(),
            2,
            PoolOptions::default(),
        );
        assert!(
            pools.open_tenants().is_empty(),
            "{engine}: nothing opened up front"
        );
        for name in names {
            let db = pools.get(name).await.expect("opens");
            db.execute("CREATE TABLE owner (name varchar(20) NOT NULL)", &[])
                .await
                .expect("creates");
            db.execute(
                &format!(
                    "INSERT INTO owner (name) VALUES ({})",
                    foxdb::dialect::dialect_for(db.backend()).placeholder(1)
                ),
                &[Value::Text(name.into())],
            )
            .await
            .expect("inserts");
        }
        assert_eq!(
            pools.open_tenants(),
            ["globex", "initech"],
            "{engine}: acme, least recently used, was closed"
        );
        pools.get("globex").await.expect("open");
        for name in names {
            let db = pools.get(name).await.expect("opens again");
            let rows = db
                .fetch_all("SELECT name FROM owner", &[])
                .await
                .expect("reads");
            let owners: Vec<String> = rows
                .iter()
                .map(|r| r.get::<String>("name").expect("a name"))
                .collect();
            assert_eq!(owners, [name], "{engine}: the tenant's own database");
        }
        assert_eq!(pools.open_tenants().len(), 2, "{engine}: still bounded");
        assert!(
            pools.get("").await.is_err(),
            "{engine}: an empty tenant is refused"
        );
        pools.close().await;
        assert!(pools.open_tenants().is_empty());
        drop(databases);
    }
}
