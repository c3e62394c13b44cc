//! FoxDB's operator and schema engine, and the `fox` command line.
//!
//! The engine makes a live database match a FoxSchema and applies FoxMigrations; the
//! controllers are thin adapters from Kubernetes objects to engine calls; the CLI runs the same
//! engine on manifest files without a cluster.
#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod controller;
pub mod engine;
pub mod fuzz_targets;
pub mod gateway;
pub mod import;
pub mod migrate;
pub mod telemetry;
