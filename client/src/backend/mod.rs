//! Which SQL engine a connection talks to, and which engines this build of foxdb can connect to.
//!
//! Each engine's driver is compiled in by the foxdb cargo feature of its name: `postgres`,
//! `mysql`, `sqlite` (all three by default). [`Backend`] keeps every variant whatever the
//! features, so URLs parse, SQL renders and code that matches on it compiles for every engine;
//! connecting to an engine left out is an [`Error::BackendNotEnabled`] naming the feature.
//!
//! What only one engine's driver needs (its bindings, rows and statement results) sits in this
//! module's submodule for that engine, compiled with the feature. What is the same on every
//! engine is written once and dispatched with [`on_engine!`].

#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;

#[cfg(feature = "postgres")]
pub(crate) mod postgres_tokio;

use std::fmt;

use crate::error::Error;

/// A SQL engine family. MariaDB speaks the MySQL dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
}

impl Backend {
    /// Every SQL engine, for code (and tests) that must hold on all of them.
    pub const ALL: [Backend; 3] = [Self::Postgres, Self::MySql, Self::Sqlite];

    /// Name used in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgresql",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }

    /// Whether the engine is a library in the application's process reading a file (SQLite),
    /// so its URL names a path rather than a server and a database on it.
    pub fn is_embedded(self) -> bool {
        match self {
            Self::Postgres | Self::MySql => false,
            Self::Sqlite => true,
        }
    }

    /// The foxdb cargo feature that compiles this engine's driver in.
    pub fn cargo_feature(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
            Self::Sqlite => "sqlite",
        }
    }

    /// Whether this build of foxdb can connect to the engine (its cargo feature is on).
    pub fn is_enabled(self) -> bool {
        match self {
            Self::Postgres => cfg!(feature = "postgres"),
            Self::MySql => cfg!(feature = "mysql"),
            Self::Sqlite => cfg!(feature = "sqlite"),
        }
    }

    /// The error for connecting to this engine when its driver is compiled out.
    #[cfg_attr(
        all(feature = "postgres", feature = "mysql", feature = "sqlite"),
        allow(dead_code)
    )]
    pub(crate) fn not_enabled(self) -> Error {
        Error::BackendNotEnabled {
            backend: self,
            feature: self.cargo_feature(),
        }
    }
}

/// The SQL engine family of a FoxReplicaSet's `spec.engine`; MySQL and MariaDB share one.
/// MongoDB is a document store, not a SQL backend: it is returned as the error.
impl TryFrom<fox_crds::Engine> for Backend {
    type Error = fox_crds::Engine;

    fn try_from(engine: fox_crds::Engine) -> Result<Self, Self::Error> {
        match engine {
            fox_crds::Engine::Postgresql => Ok(Self::Postgres),
            fox_crds::Engine::Mysql | fox_crds::Engine::Mariadb => Ok(Self::MySql),
            fox_crds::Engine::Sqlite => Ok(Self::Sqlite),
            fox_crds::Engine::Mongodb => Err(engine),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every new connection of an engine needs before its first statement, pooled or single.
pub(crate) trait SessionSetup: Send {
    /// Prepares the session.
    fn prepare_session(&mut self) -> impl Future<Output = Result<(), sqlx::Error>> + Send;
}

#[cfg(feature = "postgres")]
impl SessionSetup for sqlx::PgConnection {
    async fn prepare_session(&mut self) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

#[cfg(feature = "mysql")]
impl SessionSetup for sqlx::MySqlConnection {
    async fn prepare_session(&mut self) -> Result<(), sqlx::Error> {
        Ok(())
    }
}

/// A server error's codes and names, read out of the driver's error (what each driver keeps
/// in fields of its own is read by that engine's module).
#[derive(Debug, Default)]
pub(crate) struct ServerErrorFields {
    code: Option<String>,
    number: Option<u32>,
    message: String,
    constraint: Option<String>,
    table: Option<String>,
    column: Option<String>,
    detail: Option<String>,
}

impl ServerErrorFields {
    /// The fields as the dialects read them.
    pub(crate) fn as_ref(&self) -> crate::dialect::ServerError<'_> {
        crate::dialect::ServerError {
            code: self.code.as_deref(),
            number: self.number,
            message: &self.message,
            constraint: self.constraint.as_deref(),
            table: self.table.as_deref(),
            column: self.column.as_deref(),
            detail: self.detail.as_deref(),
        }
    }
}

/// Reads the codes and names out of a driver's database error.
pub(crate) fn server_error(error: &dyn sqlx::error::DatabaseError) -> ServerErrorFields {
    #[allow(unused_mut, reason = "only some engines add fields of their own")]
    let mut fields = ServerErrorFields {
        code: error.code().map(std::borrow::Cow::into_owned),
        message: error.message().to_string(),
        constraint: error.constraint().map(str::to_string),
        table: error.table().map(str::to_string),
        ..ServerErrorFields::default()
    };
    #[cfg(feature = "postgres")]
    if let Some(pg) = error.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        fields.column = pg.column().map(str::to_string);
        fields.detail = pg.detail().map(str::to_string);
    }
    #[cfg(feature = "postgres")]
    if let Some(pg) = error.try_downcast_ref::<postgres_tokio::ServerError>() {
        fields.column = pg.column().map(str::to_string);
        fields.detail = pg.detail().map(str::to_string);
    }
    #[cfg(feature = "mysql")]
    if let Some(mysql) = error.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        fields.number = Some(u32::from(mysql.number()));
    }
    fields
}

/// A `match` on a per-engine enum (a connection, pool, transaction or row) whose arms all run the
/// same code: `on_engine!(value, Enum(binding) => body)` has one arm per engine compiled in, each
/// running `body` with `binding` bound to that engine's driver value. The body is type-checked
/// per engine, so it may call the drivers' methods directly. Arms that differ between engines
/// are written out, each under its `#[cfg(feature = "...")]`.
///
/// Values with a tokio-postgres variant besides the sqlx ones (a pool, a transaction, a row)
/// name its arm after the shared one: `on_engine!(value, Enum(b) => body, Enum::TokioPostgres(c) => other)`.
macro_rules! on_engine {
    ($value:expr, $enum:ident($binding:pat) => $body:expr) => {
        match $value {
            #[cfg(feature = "postgres")]
            $enum::Postgres($binding) => $body,
            #[cfg(feature = "mysql")]
            $enum::MySql($binding) => $body,
            #[cfg(feature = "sqlite")]
            $enum::Sqlite($binding) => $body,
        }
    };
    ($value:expr, $enum:ident($binding:pat) => $body:expr, $($pattern:pat => $arm:expr),+ $(,)?) => {
        match $value {
            #[cfg(feature = "postgres")]
            $enum::Postgres($binding) => $body,
            #[cfg(feature = "mysql")]
            $enum::MySql($binding) => $body,
            #[cfg(feature = "sqlite")]
            $enum::Sqlite($binding) => $body,
            $(#[cfg(feature = "postgres")] $pattern => $arm,)+
        }
    };
}
pub(crate) use on_engine;

#[cfg(test)]
mod tests {
    use super::*;

    const URLS: [&str; 3] = [
        "postgres://app@127.0.0.1:1/blog",
        "mysql://app@127.0.0.1:1/blog",
        "sqlite:///nonexistent-dir/blog.db",
    ];

    #[test]
    fn a_compiled_out_engine_names_the_feature_to_turn_on() {
        let message = Backend::MySql.not_enabled().to_string();
        assert!(message.contains("`mysql` cargo feature"), "{message}");
        assert_eq!(Backend::Postgres.cargo_feature(), "postgres");
        assert_eq!(Backend::Sqlite.is_enabled(), cfg!(feature = "sqlite"));
    }

    // Meaningful in builds with fewer engines (`--no-default-features --features sqlite`);
    // with all three there is nothing compiled out to refuse.
    #[tokio::test]
    async fn connecting_to_a_compiled_out_engine_is_refused_with_its_feature() {
        for url in URLS {
            let backend = crate::DatabaseUrl::parse(url).expect("parses").backend();
            if backend.is_enabled() {
                continue;
            }
            let pooled = crate::Database::connect(url).await.expect_err("refused");
            let single = crate::Connection::connect(
                &crate::DatabaseUrl::parse(url).expect("parses"),
                &crate::ConnectOptions::default(),
            )
            .await
            .expect_err("refused");
            for error in [pooled, single] {
                assert!(
                    matches!(error, Error::BackendNotEnabled { backend: b, feature } if b == backend && feature == backend.cargo_feature()),
                    "{error}"
                );
            }
        }
    }
}
