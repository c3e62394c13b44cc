//! What the MongoDB client tests share: a fresh, uniquely named database per test on the
//! server `FOX_TEST_MONGO_URL` names (default: the nx-27017 wire server on 127.0.0.1:27017),
//! dropped when the test ends; and whether that server is a real `mongod`.
#![allow(dead_code, reason = "each test crate uses its own part of the support")]

use std::sync::atomic::{AtomicU32, Ordering};

use foxdb::mongo::MongoDatabase;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database for one test, dropped on drop.
pub struct MongoTest {
    pub db: MongoDatabase,
    url: String,
}

/// `base` (a server URL, possibly with options) naming database `name`.
pub fn url_with_database(base: &str, name: &str) -> String {
    let (address, options) = base
        .split_once('?')
        .map_or((base, None), |(a, o)| (a, Some(o)));
    let (scheme, rest) = address.split_once("://").expect("a mongodb:// URL");
    let hosts = rest.split('/').next().unwrap_or(rest);
    match options {
        Some(options) => format!("{scheme}://{hosts}/{name}?{options}"),
        None => format!("{scheme}://{hosts}/{name}"),
    }
}

impl MongoTest {
    pub async fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let name = format!(
            "fox_test_{}_{}_{nanos:x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        let url = url_with_database(&fox_e2e::mongo_url(), &name);
        let db = MongoDatabase::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("connects to the test MongoDB server: {e}"));
        Self { db, url }
    }

    /// The test database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether the server is a real `mongod` (it answers `buildInfo` with a `gitVersion`;
    /// the nx-27017 wire server does not).
    pub async fn is_real_mongod(&self) -> bool {
        #[derive(serde::Deserialize)]
        struct BuildInfo {
            #[serde(rename = "gitVersion")]
            git_version: Option<String>,
        }
        self.db
            .run_command::<BuildInfo>(foxdb::mongo::bson::doc! { "buildInfo": 1 })
            .await
            .map(|info| info.git_version.is_some_and(|v| !v.is_empty()))
            .unwrap_or(false)
    }
}

impl Drop for MongoTest {
    fn drop(&mut self) {
        // Dropped from inside a runtime: the database is dropped on a thread of its own.
        let url = self.url.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                if let Ok(db) = MongoDatabase::connect(&url).await {
                    let _ = db.drop_database().await;
                }
            });
        })
        .join();
    }
}
