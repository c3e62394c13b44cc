//! Which database each FoxSchema in the given files goes to: `--database`, else
//! `FOX_DATABASE_URL`, else its FoxReplicaSet (and that one's Secret) in the same files, else the
//! embedded SQLite file `sqlite://foxdb.sqlite`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use fox_crds::Engine;
use fox_crds::FoxSchema;
use fox_crds::manifest::{ManifestSet, load_manifests};
use foxdb::DatabaseUrl;
use foxdb::document_store::DocumentStoreUrl;

/// The embedded default database.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://foxdb.sqlite";

/// A FoxSchema and the database it is applied to.
#[derive(Debug)]
pub struct Target {
    /// The schema.
    pub schema: FoxSchema,
    /// The database.
    pub url: DatabaseUrl,
    /// Where the URL came from, for messages.
    pub source: String,
}

impl Target {
    /// `FoxSchema/name`.
    pub fn schema_name(&self) -> String {
        self.schema.metadata.name.clone().unwrap_or_default()
    }
}

/// Reads and validates the manifests under `paths`; prints every problem and fails when there
/// is any, before any connection is made.
///
/// # Errors
/// Unreadable paths, invalid manifests.
pub fn load_valid_manifests(paths: &[PathBuf]) -> anyhow::Result<ManifestSet> {
    let set = load_manifests(paths)?;
    let report = super::validate::validate_set(&set);
    if !report.problems.is_empty() {
        for problem in &report.problems {
            eprintln!("{problem}");
        }
        bail!(
            "{} problem(s) in the manifests; nothing was done (see `fox validate`)",
            report.problems.len()
        );
    }
    Ok(set)
}

/// Pairs every FoxSchema of tables in `set` with its database; for commands that work on
/// tables only (`fox seed`, `fox tenant`, `fox generate migration`).
///
/// # Errors
/// No FoxSchema in the files; a FoxSchema of MongoDB collections; `--database` with several
/// schemas; a FoxReplicaSet whose Secret is missing.
pub fn resolve_targets(set: &ManifestSet, database: Option<&str>) -> anyhow::Result<Vec<Target>> {
    let (targets, collections) = resolve_schema_targets(set, database)?;
    if let Some(target) = collections.first() {
        bail!(
            "FoxSchema/{} declares MongoDB collections, which this command does not support (fox plan, fox apply and fox migrate do); nothing was done",
            target.schema_name()
        );
    }
    Ok(targets)
}

/// A FoxSchema of MongoDB collections and the database it is applied to.
#[derive(Debug)]
pub struct CollectionTarget {
    /// The schema.
    pub schema: FoxSchema,
    /// The database.
    pub url: DocumentStoreUrl,
    /// Where the URL came from, for messages.
    pub source: String,
}

impl CollectionTarget {
    /// `FoxSchema/name`.
    pub fn schema_name(&self) -> String {
        self.schema.metadata.name.clone().unwrap_or_default()
    }
}

/// Pairs every FoxSchema in `set` with its database: those of tables with a SQL database,
/// those of collections with a MongoDB database.
///
/// # Errors
/// No FoxSchema in the files; `--database` with several schemas; a FoxReplicaSet whose Secret
/// is missing; a URL of the wrong kind for the schema (a MongoDB URL for tables, a SQL URL for
/// collections).
pub fn resolve_schema_targets(
    set: &ManifestSet,
    database: Option<&str>,
) -> anyhow::Result<(Vec<Target>, Vec<CollectionTarget>)> {
    let schemas: Vec<&FoxSchema> = set.schemas().map(|(_, s)| s).collect();
    if schemas.is_empty() {
        bail!("the given files hold no FoxSchema");
    }
    let from_environment = std::env::var("FOX_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let explicit = match (database, from_environment.as_deref()) {
        (Some(url), _) => Some((url.to_string(), "--database".to_string())),
        (None, Some(url)) => Some((url.to_string(), "FOX_DATABASE_URL".to_string())),
        (None, None) => None,
    };
    if explicit.is_some() && schemas.len() > 1 {
        bail!(
            "{} names one database but the files hold {} FoxSchemas; pass one schema at a time",
            explicit
                .as_ref()
                .map(|(_, s)| s.as_str())
                .unwrap_or_default(),
            schemas.len()
        );
    }
    let mut targets = Vec::new();
    let mut collection_targets = Vec::new();
    for schema in schemas {
        let (raw, source) = match &explicit {
            Some(chosen) => chosen.clone(),
            None => from_replica_set(set, &schema.spec.database_ref.name)?,
        };
        let name = schema.metadata.name.clone().unwrap_or_default();
        if !schema.spec.collections.is_empty() {
            if !DocumentStoreUrl::is_document_store(&raw) {
                bail!(
                    "FoxSchema/{name} declares MongoDB collections, but its database ({source}) is not a mongodb:// URL; nothing was done"
                );
            }
            let url = DocumentStoreUrl::parse(&raw)?;
            collection_targets.push(CollectionTarget {
                schema: schema.clone(),
                url,
                source,
            });
            continue;
        }
        if DocumentStoreUrl::is_document_store(&raw) {
            bail!(
                "FoxSchema/{name} declares tables, but its database ({source}) is MongoDB, which holds collections; nothing was done"
            );
        }
        let url = DatabaseUrl::parse(&raw)?;
        if let Some(other) = targets
            .iter()
            .find(|t: &&Target| same_database(&t.url, &url))
        {
            bail!(
                "FoxSchema/{} and FoxSchema/{} both target {} {} ({}); a database is declared by one FoxSchema (merge their tables into one); nothing was done",
                other.schema_name(),
                name,
                url.backend(),
                url.location(),
                source
            );
        }
        targets.push(Target {
            schema: schema.clone(),
            url,
            source,
        });
    }
    Ok((targets, collection_targets))
}

/// Whether two URLs name the same database (same engine, server and database, or file).
fn same_database(a: &DatabaseUrl, b: &DatabaseUrl) -> bool {
    a.backend() == b.backend()
        && a.location() == b.location()
        && a.database_name() == b.database_name()
}

/// The database for resources naming `database_ref` (none for plain SQL folders): `--database`,
/// else `FOX_DATABASE_URL`, else the FoxReplicaSet and Secret in the files, else the embedded
/// default.
///
/// # Errors
/// A FoxReplicaSet whose Secret is missing; an unparsable URL.
pub fn database_for(
    set: &ManifestSet,
    database_ref: Option<&str>,
    database: Option<&str>,
) -> anyhow::Result<(DatabaseUrl, String)> {
    let (raw, source) = raw_database_for(set, database_ref, database)?;
    Ok((DatabaseUrl::parse(&raw)?, source))
}

/// [`database_for`] without parsing: the URL as given, and where it came from.
///
/// # Errors
/// A FoxReplicaSet whose Secret is missing, or whose URL disagrees with its engine.
pub fn raw_database_for(
    set: &ManifestSet,
    database_ref: Option<&str>,
    database: Option<&str>,
) -> anyhow::Result<(String, String)> {
    let from_environment = std::env::var("FOX_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty());
    let (raw, source) = match (database, from_environment, database_ref) {
        (Some(url), _, _) => (url.to_string(), "--database".to_string()),
        (None, Some(url), _) => (url, "FOX_DATABASE_URL".to_string()),
        (None, None, Some(name)) => from_replica_set(set, name)?,
        (None, None, None) => (
            DEFAULT_DATABASE_URL.to_string(),
            "embedded default (no --database or FOX_DATABASE_URL)".to_string(),
        ),
    };
    Ok((raw, source))
}

fn from_replica_set(set: &ManifestSet, name: &str) -> anyhow::Result<(String, String)> {
    let Some((_, replica_set)) = set
        .replica_sets()
        .find(|(_, r)| r.metadata.name.as_deref() == Some(name))
    else {
        return Ok((
            DEFAULT_DATABASE_URL.to_string(),
            "embedded default (no --database, FOX_DATABASE_URL or FoxReplicaSet in the files)"
                .to_string(),
        ));
    };
    let connection = &replica_set.spec.primary.connection;
    let url = set.secret_value(&connection.name, &connection.key).with_context(|| {
        format!(
            "FoxReplicaSet/{name} takes its URL from Secret {} key {}, which is not in the given files; add it or pass --database",
            connection.name, connection.key
        )
    })?;
    let declares_mongodb = matches!(replica_set.spec.engine, Engine::Mongodb);
    if DocumentStoreUrl::is_document_store(&url) || declares_mongodb {
        if !(DocumentStoreUrl::is_document_store(&url) && declares_mongodb) {
            bail!(
                "Secret {} key {} and FoxReplicaSet/{name}'s engine {} disagree: MongoDB takes a mongodb:// URL, the other engines a SQL URL; fix one of them",
                connection.name,
                connection.key,
                replica_set.spec.engine
            );
        }
        DocumentStoreUrl::parse(&url)?;
        return Ok((
            url,
            format!("FoxReplicaSet/{name} (Secret {})", connection.name),
        ));
    }
    let parsed = DatabaseUrl::parse(&url)?;
    if !parsed.matches_engine(replica_set.spec.engine) {
        bail!(
            "Secret {} key {} holds a {} URL, but FoxReplicaSet/{name} declares engine {}; fix one of them",
            connection.name,
            connection.key,
            parsed.backend(),
            replica_set.spec.engine
        );
    }
    Ok((
        url,
        format!("FoxReplicaSet/{name} (Secret {})", connection.name),
    ))
}

/// The tenants of `target`'s FoxSchema (`spec.tenants`), if it lists any: schema tenants on
/// the target's server, database tenants with their URLs from the Secrets in `set`.
///
/// # Errors
/// A tenant's Secret missing from the files, an unparsable URL, or one of another engine
/// than the target's.
pub fn tenant_targets(
    set: &ManifestSet,
    target: &Target,
) -> anyhow::Result<Option<crate::engine::tenants::TenantTargets>> {
    use crate::engine::tenants::TenantTargets;
    let Some(tenants) = &target.schema.spec.tenants else {
        return Ok(None);
    };
    if !tenants.schemas.is_empty() {
        return Ok(Some(TenantTargets::Schemas {
            server: target.url.clone(),
            names: tenants.schemas.clone(),
        }));
    }
    let mut databases = Vec::with_capacity(tenants.databases.len());
    for tenant in &tenants.databases {
        let connection = &tenant.connection;
        let raw = set.secret_value(&connection.name, &connection.key).with_context(|| {
            format!(
                "FoxSchema/{}: tenant {} takes its URL from Secret {} key {}, which is not in the given files; add it",
                target.schema_name(),
                tenant.name,
                connection.name,
                connection.key
            )
        })?;
        let url = DatabaseUrl::parse(&raw).with_context(|| {
            format!(
                "FoxSchema/{}: tenant {} (Secret {} key {})",
                target.schema_name(),
                tenant.name,
                connection.name,
                connection.key
            )
        })?;
        if url.backend() != target.url.backend() {
            bail!(
                "FoxSchema/{}: tenant {} is a {} database (Secret {}), but the FoxSchema's database is {}; a FoxSchema's tenants share one engine",
                target.schema_name(),
                tenant.name,
                url.backend(),
                connection.name,
                target.url.backend()
            );
        }
        databases.push((tenant.name.clone(), url));
    }
    Ok(Some(TenantTargets::Databases(databases)))
}
