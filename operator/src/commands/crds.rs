//! `fox crds`: print or write the CustomResourceDefinitions.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use fox_crds::crdgen::{all_crds_yaml, crd_file_name, crd_yaml, custom_resource_definitions};

/// Directories, relative to the repository root, that hold the generated CRD YAML.
pub const CRD_DIRECTORIES: [&str; 2] = ["crds", "charts/fox-operator/files/crds"];

/// Prints the CRDs, or writes one file per CRD into each of [`CRD_DIRECTORIES`] under `root`.
///
/// # Errors
/// When a file cannot be written.
pub fn run(write: bool, root: &Path) -> anyhow::Result<ExitCode> {
    if !write {
        print!("{}", all_crds_yaml()?);
        return Ok(ExitCode::SUCCESS);
    }
    for directory in CRD_DIRECTORIES {
        let directory = root.join(directory);
        std::fs::create_dir_all(&directory)
            .with_context(|| format!("creating {}", directory.display()))?;
        for crd in custom_resource_definitions() {
            let path = directory.join(crd_file_name(&crd));
            std::fs::write(&path, crd_yaml(&crd)?)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
