//! A throwaway MongoDB database per test: on `FOX_TEST_MONGO_URL` (a real mongod) when set,
//! else on nx-27017 at 127.0.0.1:27017 (`bash e2e/services.sh` starts it).

use std::sync::atomic::{AtomicU32, Ordering};

use fox_crds::FoxSchema;
use foxdb::document_store::bson::doc;
use foxdb::document_store::{DocumentStore, DocumentStoreUrl};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The server tests run against.
pub fn server_url() -> String {
    std::env::var("FOX_TEST_MONGO_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "mongodb://127.0.0.1:27017/admin".into())
}

/// Whether the tests run against a real mongod (`FOX_TEST_MONGO_URL`), which enforces
/// validators and lists them back; nx-27017 does neither.
pub fn real_mongod() -> bool {
    std::env::var("FOX_TEST_MONGO_URL").is_ok_and(|u| !u.is_empty())
}

/// A database of its own for one test; call [`MongoTestDatabase::drop`] at the end.
pub struct MongoTestDatabase {
    pub url: DocumentStoreUrl,
    pub store: DocumentStore,
}

impl MongoTestDatabase {
    pub async fn new(test: &str) -> Self {
        let name = format!(
            "fox_{test}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let url = DocumentStoreUrl::parse(&server_url())
            .expect("valid MongoDB test URL")
            .with_database(&name);
        let store = DocumentStore::connect(&url)
            .await
            .expect("the MongoDB test server answers (bash e2e/services.sh starts nx-27017)");
        store.drop_database().await.expect("drops leftovers");
        Self { url, store }
    }

    /// Names of the collections, `_fox_*` ones included, sorted.
    pub async fn collection_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .store
            .run_cursor_command(doc! {"listCollections": 1, "nameOnly": true})
            .await
            .expect("lists collections")
            .iter()
            .filter_map(|c| c.get_str("name").ok().map(str::to_string))
            .collect();
        names.sort();
        names
    }

    /// How many indexes `collection` has, `_id_` included.
    pub async fn index_count(&self, collection: &str) -> usize {
        self.store
            .run_cursor_command(doc! {"listIndexes": collection})
            .await
            .expect("lists indexes")
            .len()
    }

    /// The documents of `collection`.
    pub async fn documents(&self, collection: &str) -> Vec<foxdb::document_store::bson::Document> {
        self.store
            .run_cursor_command(doc! {"find": collection, "filter": {}})
            .await
            .expect("finds")
    }

    pub async fn drop(self) {
        self.store
            .drop_database()
            .await
            .expect("drops the test database");
    }
}

/// A FoxSchema of the given collections (YAML list items, indented by 4).
pub fn collections(policy: &str, collections_yaml: &str) -> FoxSchema {
    super::support::schema(&collections_yaml_document(policy, collections_yaml))
}

pub fn collections_yaml_document(policy: &str, collections_yaml: &str) -> String {
    format!(
        "apiVersion: foxdb.dev/v1alpha1\nkind: FoxSchema\nmetadata: {{name: test}}\nspec:\n  databaseRef: {{name: db}}\n  policy: {{{policy}}}\n  collections:\n{collections_yaml}"
    )
}

/// The blog's posts and users, with validators and several index kinds.
pub const BLOG: &str = r#"    - name: users
      validator:
        $jsonSchema:
          bsonType: object
          required: [email]
          properties:
            email: {bsonType: string}
            name: {bsonType: string}
      indexes:
        - keys: [{field: email}]
          unique: true
    - name: posts
      validator:
        $jsonSchema:
          bsonType: object
          required: [title]
          properties:
            title: {bsonType: string}
            status: {enum: [draft, published]}
            publishedAt: {bsonType: date}
            createdAt: {bsonType: date}
      validationLevel: moderate
      validationAction: warn
      indexes:
        - keys: [{field: title}]
        - name: published_recent
          keys: [{field: publishedAt, order: desc}]
          partialFilterExpression: {status: published}
        - keys: [{field: createdAt}]
          name: expire_old
          expireAfterSeconds: 86400
"#;
