//! The schema engine against real PostgreSQL, MariaDB and SQLite databases.

mod round_trip;
mod support;
