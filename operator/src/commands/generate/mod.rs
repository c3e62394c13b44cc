//! `fox generate`: a FoxMigration from the live database to a FoxSchema (`migration`), and
//! the Rust models of a FoxSchema (`client`).

mod client;
mod migration;

pub use client::{client, client_source};
pub use migration::{IRREVERSIBLE_ANNOTATION, migration};
