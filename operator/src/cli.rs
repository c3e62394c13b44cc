//! Command-line interface of `fox`: argument definitions and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

/// FoxDB: declarative database schemas, migrations and replica routing for Kubernetes and
/// for laptops.
#[derive(Debug, Parser)]
#[command(name = "fox", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The `fox` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests the way the API server and FoxDB's validation would; exit 1 on any
    /// problem.
    Validate {
        /// Manifest files or directories (multi-document YAML; directories are read recursively).
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
    },
    /// Print the CustomResourceDefinitions, or write them to `crds/` and the Helm chart.
    Crds {
        /// Write `crds/*.yaml` and `charts/fox-operator/crds/*.yaml` instead of printing.
        #[arg(long)]
        write: bool,
        /// Repository root to write into (with `--write`).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Validate { paths } => commands::validate::run(&paths),
        Command::Crds { write, root } => commands::crds::run(write, &root),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("fox: error: {error:#}");
            ExitCode::from(1)
        }
    }
}
