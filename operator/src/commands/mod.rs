//! One module per `fox` subcommand.

pub mod crds;
pub mod validate;
