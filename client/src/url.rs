//! Database URLs: the engine they name and a form safe to print.

use std::fmt;

use crate::Backend;
use crate::error::Error;

/// A parsed database URL. Its `Display` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
}

impl DatabaseUrl {
    /// Parses a URL: `postgres://` / `postgresql://`, `mysql://` / `mariadb://`, `sqlite://` (or
    /// `sqlite:`).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for an unknown scheme; the message does not echo credentials.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let scheme = raw.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        let backend = match scheme.as_deref() {
            Some("postgres" | "postgresql") => Backend::Postgres,
            Some("mysql" | "mariadb") => Backend::MySql,
            Some("sqlite") => Backend::Sqlite,
            _ => {
                return Err(Error::InvalidUrl {
                    url: redact(raw),
                    reason: "unknown scheme; use postgres://, mysql://, mariadb:// or sqlite://"
                        .into(),
                });
            }
        };
        let raw = if let Some(rest) = raw.strip_prefix("mariadb:") {
            format!("mysql:{rest}")
        } else {
            raw.to_string()
        };
        Ok(Self { raw, backend })
    }

    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The full URL, credentials included: only for handing to a driver.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// Host and port (or file path for SQLite), for messages.
    pub fn location(&self) -> String {
        if self.backend == Backend::Sqlite {
            return self.sqlite_path().unwrap_or_default();
        }
        let after_scheme = self.raw.split_once("://").map_or("", |(_, rest)| rest);
        let authority = after_scheme.split(['/', '?']).next().unwrap_or("");
        authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host)
            .to_string()
    }

    /// The database name (file path for SQLite).
    pub fn database_name(&self) -> String {
        if self.backend == Backend::Sqlite {
            return self.sqlite_path().unwrap_or_default();
        }
        let after_scheme = self.raw.split_once("://").map_or("", |(_, rest)| rest);
        after_scheme
            .split_once('/')
            .map(|(_, path)| path.split('?').next().unwrap_or("").to_string())
            .unwrap_or_default()
    }

    /// The file of a SQLite URL.
    pub fn sqlite_path(&self) -> Option<String> {
        let rest = self.raw.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        Some(rest.split('?').next().unwrap_or(rest).to_string())
    }
}

/// Replaces the password of a URL with `***`.
pub fn redact(raw: &str) -> String {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return raw.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or("");
            let hidden = if credentials.contains(':') {
                ":***"
            } else {
                ""
            };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => raw.to_string(),
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.raw))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", redact(&self.raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_hides_the_password() {
        let url = DatabaseUrl::parse("postgres://blog:s3cret@db:5432/blog").unwrap();
        assert_eq!(url.to_string(), "postgres://blog:***@db:5432/blog");
        assert_eq!(
            format!("{url:?}"),
            "DatabaseUrl(postgres://blog:***@db:5432/blog)"
        );
        assert_eq!(url.location(), "db:5432");
        assert_eq!(url.database_name(), "blog");
    }

    #[test]
    fn schemes_map_to_backends() {
        assert_eq!(
            DatabaseUrl::parse("mariadb://root@h/x").unwrap().backend(),
            Backend::MySql
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://foxdb.sqlite")
                .unwrap()
                .sqlite_path()
                .unwrap(),
            "foxdb.sqlite"
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:x.db?mode=rwc")
                .unwrap()
                .sqlite_path()
                .unwrap(),
            "x.db"
        );
        let error = DatabaseUrl::parse("oracle://u:pw@h/x")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("oracle://u:***@h/x") && !error.contains("pw"),
            "{error}"
        );
    }
}
