//! `fox generate`: a FoxMigration from the live database to a FoxSchema (`migration`), the
//! Rust models of a FoxSchema (`client`), and a FoxSchema from a live database (`schema`).

mod client;
mod migration;
mod schema;

pub use client::{ClientOptions, client, client_source, client_source_with};
pub use migration::{IRREVERSIBLE_ANNOTATION, migration};
pub(crate) use schema::resource_name;
pub use schema::{GeneratedSchema, SchemaOptions, schema, write_schema};
