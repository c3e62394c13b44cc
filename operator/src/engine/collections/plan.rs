//! A MongoDB plan: the typed changes with their safety, the commands implementing them, and a
//! hash that identifies all of it for approval (as for SQL).
//!
//! # Servers that do not report what they were given
//! A stand-in server such as nx-27017 accepts validators and index options but does not list
//! them back (`listCollections` shows no validator; `listIndexes` renames indexes and drops
//! their direction and partial filter). Before comparing, the plan asks the server once, with a
//! scratch collection `_fox_probe`, whether it reports them. If it does not, the collections
//! FoxDB applied before are compared with what the last apply recorded in `_fox_history`
//! instead of what the server lists, and the plan says so in a note: hand-made drift of
//! validators and indexes is then invisible (a real mongod shows it).

use fox_crds::schema::{CollectionSpec, FoxSchemaSpec};
use foxdb::document_store::bson::{Document, doc};
use foxdb::document_store::{DocumentStore, DocumentStoreError};
use foxdb::introspect::mongo::{LiveCollections, introspect_collections};
use sha2::{Digest, Sha256};

use super::change::CollectionChange;
use super::diff::plan_collection_changes;
use super::history::last_applied_collections;
use crate::engine::change::Safety;
use crate::engine::error::EngineError;

/// Scratch collection of the fidelity probe.
const PROBE_COLLECTION: &str = "_fox_probe";

/// A change and whether it can lose data.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedCollectionChange {
    /// The change.
    pub change: CollectionChange,
    /// Safe or destructive (with why).
    pub safety: Safety,
    /// The command that makes it.
    pub command: Document,
}

/// Everything an apply to a MongoDB database would do.
#[derive(Clone, Debug)]
pub struct CollectionPlan {
    /// Changes in the order they run, one command each.
    pub changes: Vec<PlannedCollectionChange>,
    /// Identifies this exact plan (16 hex digits of SHA-256).
    pub hash: String,
    /// The declared collections.
    pub desired: Vec<CollectionSpec>,
    /// The live collections the plan starts from.
    pub live: LiveCollections,
    /// What the plan leaves alone or could not read back, and why.
    pub notes: Vec<String>,
}

impl CollectionPlan {
    /// Whether the database already matches.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Destructive changes with their reasons, one line each.
    pub fn destructive(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter_map(|c| match &c.safety {
                Safety::Destructive(why) => Some(format!("{}: {why}", c.change)),
                _ => None,
            })
            .collect()
    }

    /// Every command as relaxed extended JSON, in the order they run.
    pub fn commands_json(&self) -> Vec<String> {
        self.changes
            .iter()
            .map(|c| {
                foxdb::document_store::bson::Bson::Document(c.command.clone())
                    .into_relaxed_extjson()
                    .to_string()
            })
            .collect()
    }
}

/// Introspects the database behind `store` and plans the changes to reach `spec`.
///
/// # Errors
/// A command failed; a validator or partial filter extended JSON cannot express.
pub async fn build_collection_plan(
    store: &DocumentStore,
    spec: &FoxSchemaSpec,
) -> Result<CollectionPlan, EngineError> {
    let mut live = introspect_collections(store).await?;
    let mut notes: Vec<String> = live
        .unmanaged_indexes
        .iter()
        .map(|index| format!("index {index} is of a kind FoxDB does not manage (left alone)"))
        .collect();
    let mut compared = live.collections.clone();
    if let Some(recorded) = last_applied_collections(store).await?
        && compared
            .iter()
            .any(|c| recorded.iter().any(|r| r.name == c.name))
        && !server_reports_options(store).await?
    {
        for collection in &mut compared {
            if let Some(applied) = recorded.iter().find(|r| r.name == collection.name) {
                *collection = applied.clone();
            }
        }
        notes.push(format!(
            "the server at {} does not list validators and index options back as they were created (a stand-in such as nx-27017); collections FoxDB applied are compared with the last apply recorded in _fox_history",
            store.url().location()
        ));
    }
    let desired = spec.collections.clone();
    let mut changes = Vec::new();
    for change in plan_collection_changes(&compared, &desired) {
        let command = change.command().map_err(|reason| EngineError::Impossible {
            reasons: vec![format!("{change}: {reason}")],
        })?;
        changes.push(PlannedCollectionChange {
            safety: change.safety(),
            change,
            command,
        });
    }
    live.collections = compared;
    let hash = plan_hash(&live, &changes);
    Ok(CollectionPlan {
        changes,
        hash,
        desired,
        live,
        notes,
    })
}

/// Whether the server lists a validator and an index's name and direction back as created:
/// checked on a scratch collection that is dropped again.
async fn server_reports_options(store: &DocumentStore) -> Result<bool, DocumentStoreError> {
    let validator = doc! {"$jsonSchema": {"bsonType": "object", "required": ["probe"]}};
    drop_probe(store).await?;
    let probed = async {
        store
            .run_command(doc! {"create": PROBE_COLLECTION, "validator": validator.clone()})
            .await?;
        store
            .run_command(doc! {
                "createIndexes": PROBE_COLLECTION,
                "indexes": [{"key": {"probe": -1}, "name": "fox_probe"}],
            })
            .await?;
        let listed = store
            .run_cursor_command(doc! {"listCollections": 1, "filter": {"name": PROBE_COLLECTION}})
            .await?;
        let validator_kept = listed
            .first()
            .and_then(|c| c.get_document("options").ok())
            .and_then(|o| o.get_document("validator").ok())
            == Some(&validator);
        let indexes = store
            .run_cursor_command(doc! {"listIndexes": PROBE_COLLECTION})
            .await?;
        let index_kept = indexes.iter().any(|i| {
            i.get_str("name").ok() == Some("fox_probe")
                && i.get_document("key")
                    .ok()
                    .and_then(|k| k.get("probe"))
                    .and_then(|v| v.as_i32().or_else(|| v.as_f64().map(|f| f as i32)))
                    == Some(-1)
        });
        Ok::<bool, DocumentStoreError>(validator_kept && index_kept)
    }
    .await;
    drop_probe(store).await?;
    probed
}

async fn drop_probe(store: &DocumentStore) -> Result<(), DocumentStoreError> {
    match store.run_command(doc! {"drop": PROBE_COLLECTION}).await {
        // 26: NamespaceNotFound, which older servers send for a missing collection.
        Err(error) if error.code() == Some(26) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Identifies a plan for approval: the live collections it was computed from, each change with
/// its safety, and the commands.
fn plan_hash(live: &LiveCollections, changes: &[PlannedCollectionChange]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"mongodb\nlive:");
    hasher.update(format!("{live:?}").as_bytes());
    for planned in changes {
        hasher.update(b"\nchange:");
        hasher.update(planned.change.to_string().as_bytes());
        hasher.update(match planned.safety {
            Safety::Safe => b":safe".as_slice(),
            Safety::Destructive(_) => b":destructive".as_slice(),
            Safety::Impossible(_) => b":impossible".as_slice(),
        });
        hasher.update(b"\n");
        hasher.update(format!("{:?}", planned.command).as_bytes());
    }
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
