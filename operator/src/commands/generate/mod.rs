//! `fox generate`: a FoxMigration from the live database to a FoxSchema (`migration`), and
//! the Rust models of a FoxSchema (`client`).

mod client;
mod migration;

pub use client::{ClientOptions, client, client_source, client_source_with};
pub use migration::{IRREVERSIBLE_ANNOTATION, migration};
