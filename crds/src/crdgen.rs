//! The CustomResourceDefinitions of FoxDB as objects and as the YAML committed in `crds/`.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::migration::FoxMigration;
use crate::replica_set::FoxReplicaSet;
use crate::schema::FoxSchema;

/// The three CRDs, ordered by file name (`<plural>.foxdb.dev.yaml`).
pub fn custom_resource_definitions() -> Vec<CustomResourceDefinition> {
    let mut crds = vec![FoxReplicaSet::crd(), FoxSchema::crd(), FoxMigration::crd()];
    crds.sort_by_key(crd_file_name);
    crds
}

/// File name a CRD is written to: `<plural>.<group>.yaml`.
pub fn crd_file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// One CRD as a YAML document, starting with `---`.
///
/// # Errors
/// When serialization fails, which only a bug in the types can cause.
pub fn crd_yaml(crd: &CustomResourceDefinition) -> Result<String, serde_yaml_ng::Error> {
    Ok(format!("---\n{}", serde_yaml_ng::to_string(crd)?))
}

/// Every CRD, concatenated in file-name order: what `fox crds` prints and what
/// `cat crds/*.yaml` shows.
///
/// # Errors
/// When serialization fails, which only a bug in the types can cause.
pub fn all_crds_yaml() -> Result<String, serde_yaml_ng::Error> {
    custom_resource_definitions().iter().map(crd_yaml).collect()
}
