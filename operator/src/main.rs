//! The `fox` command: the FoxDB operator (`fox run`) and the cluster-free commands.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use fox_operator::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    fox_operator::cli::run(cli)
}
