//! One module per `fox` subcommand, plus what they share (targets, output).

pub mod apply;
pub mod audit;
pub mod collection_report;
pub mod crds;
pub mod gateway;
pub mod generate;
pub mod import;
pub mod migrate;
pub mod migrate_tenants;
pub mod plan;
pub mod realtime;
pub mod recover;
pub mod report;
pub mod run;
pub mod seed;
pub mod target;
pub mod tenant;
pub mod validate;
