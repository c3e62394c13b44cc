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
        if backend != Backend::Sqlite && !raw.contains("://") {
            // Without `//` the user and password are not where redaction looks for them, so
            // the text is not echoed at all.
            return Err(Error::InvalidUrl {
                url: format!("{}:…", scheme.unwrap_or_default()),
                reason: "expected SCHEME://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE".into(),
            });
        }
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
        let (_, _, after) = split_credentials(&self.raw);
        after.split(['/', '?']).next().unwrap_or("").to_string()
    }

    /// The database name (file path for SQLite).
    pub fn database_name(&self) -> String {
        if self.backend == Backend::Sqlite {
            return self.sqlite_path().unwrap_or_default();
        }
        let (_, _, after) = split_credentials(&self.raw);
        after
            .split_once('/')
            .map(|(_, path)| path.split('?').next().unwrap_or("").to_string())
            .unwrap_or_default()
    }

    /// The keys of the URL's query parameters (`?sslmode=require&x=1` → `sslmode`, `x`).
    pub fn query_keys(&self) -> impl Iterator<Item = &str> {
        let (_, _, after) = split_credentials(&self.raw);
        after
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default()
            .split('&')
            .filter_map(|pair| pair.split('=').next())
            .filter(|key| !key.is_empty())
    }

    /// The file of a SQLite URL.
    pub fn sqlite_path(&self) -> Option<String> {
        let rest = self.raw.strip_prefix("sqlite:")?;
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        Some(rest.split('?').next().unwrap_or(rest).to_string())
    }
}

/// Splits `scheme://credentials@rest`. Credentials end at the last `@`, since passwords may
/// hold `/`, `?` or `#`.
fn split_credentials(raw: &str) -> (&str, Option<&str>, &str) {
    let Some((scheme, rest)) = raw.split_once("://") else {
        return ("", None, raw);
    };
    match rest.rfind('@') {
        Some(at) => (scheme, Some(&rest[..at]), &rest[at + 1..]),
        None => (scheme, None, rest),
    }
}

/// Replaces the password of a URL (in the user part or a `password=` parameter) with `***`.
pub fn redact(raw: &str) -> String {
    let (scheme, credentials, after) = split_credentials(raw);
    let mut redacted = match credentials {
        Some(credentials) => {
            let user = credentials.split(':').next().unwrap_or("");
            let hidden = if credentials.contains(':') {
                ":***"
            } else {
                ""
            };
            format!("{scheme}://{user}{hidden}@{after}")
        }
        None => raw.to_string(),
    };
    if let Some(query_start) = redacted.find('?') {
        let (base, query) = redacted.split_at(query_start + 1);
        let hidden: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_string(),
            })
            .collect();
        redacted = format!("{base}{}", hidden.join("&"));
    }
    redacted
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
    fn passwords_with_url_characters_stay_hidden() {
        let url =
            DatabaseUrl::parse("postgres://app:Xy/9+Q?z@db:5432/app?sslmode=require&password=p2")
                .unwrap();
        let shown = url.to_string();
        assert_eq!(
            shown,
            "postgres://app:***@db:5432/app?sslmode=require&password=***"
        );
        assert_eq!(url.location(), "db:5432");
        assert_eq!(url.database_name(), "app");
        assert!(!format!("{url:?}").contains("Xy/9"));
    }

    #[test]
    fn urls_without_slashes_are_refused_without_echoing_them() {
        for raw in [
            "postgres:app:Fox-Pw-7q2Zx9@db/app",
            "mysql:root:Fox-Pw-7q2Zx9@db",
        ] {
            let error = DatabaseUrl::parse(raw).unwrap_err().to_string();
            assert!(!error.contains("Fox-Pw-7q2Zx9"), "{error}");
            assert!(error.contains("SCHEME://"), "{error}");
        }
        assert!(DatabaseUrl::parse("sqlite:data/app.sqlite").is_ok());
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
