//! What the eager-loading tests share: the blog they load from, and an executor that logs what
//! each statement returned.
#![allow(dead_code, reason = "each test crate uses its own part of the support")]

pub mod blog;
pub mod statement_log;
