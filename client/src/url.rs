//! Database URLs: the engine they name and a form safe to print.

use std::fmt;

use crate::Backend;
use crate::error::Error;

/// A parsed database URL. Its `Display` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    backend: Backend,
    /// Certificates that come with the URL (a Kubernetes Secret's `ca.crt`, `tls.crt`,
    /// `tls.key`), used by [`crate::Connection::connect`] when its options give none.
    tls: crate::TlsOptions,
}

impl DatabaseUrl {
    /// Parses a URL: `postgres://` / `postgresql://`, `mysql://` / `mariadb://`, `sqlite://` (or
    /// `sqlite:`).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] for an unknown scheme; the message does not echo credentials.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        // Nothing of a URL that fails to parse is echoed beyond its scheme: where the structure
        // is broken, the password is not where redaction would look for it.
        let scheme = raw.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        let backend = match scheme.as_deref() {
            Some("postgres" | "postgresql") => Backend::Postgres,
            Some("mysql" | "mariadb") => Backend::MySql,
            Some("sqlite") => Backend::Sqlite,
            _ => {
                return Err(Error::InvalidUrl {
                    url: "(not shown)".into(),
                    reason: "it does not start with postgres://, mysql://, mariadb:// or sqlite://"
                        .into(),
                });
            }
        };
        let scheme = scheme.unwrap_or_default();
        if !backend.is_embedded() {
            let Some((_, rest)) = raw.split_once("://") else {
                return Err(Error::InvalidUrl {
                    url: format!("{scheme}:…"),
                    reason: "expected SCHEME://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE".into(),
                });
            };
            check_host_and_port(rest).map_err(|reason| Error::InvalidUrl {
                url: format!("{scheme}://…"),
                reason: reason.into(),
            })?;
        }
        let raw = if let Some(rest) = raw.strip_prefix("mariadb:") {
            format!("mysql:{rest}")
        } else {
            raw.to_string()
        };
        Ok(Self {
            raw,
            backend,
            tls: crate::TlsOptions::default(),
        })
    }

    /// This URL with the certificates that come with it (from the same Secret, say), so every
    /// connection made to it uses them.
    #[must_use]
    pub fn with_tls(mut self, tls: crate::TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// The certificates that come with this URL (none unless [`Self::with_tls`] gave some).
    pub fn tls(&self) -> &crate::TlsOptions {
        &self.tls
    }

    /// `message` with this URL's password hidden wherever it appears, as given or
    /// percent-decoded: for text from a driver or server, which may quote what it was given.
    pub fn hide_password(&self, message: &str) -> String {
        let (_, credentials, _) = split_credentials(&self.raw);
        let Some(password) = credentials.and_then(|c| c.split_once(':')).map(|(_, p)| p) else {
            return redact(message);
        };
        let mut hidden = redact(message);
        for form in [password.to_string(), percent_decode(password)] {
            // A password of one or two characters would blank out ordinary words.
            if form.chars().count() >= 3 {
                hidden = hidden.replace(&form, "***");
            }
        }
        hidden
    }
    /// The engine.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether this URL reaches the engine a FoxReplicaSet declares (`mysql://` and
    /// `mariadb://` serve both MySQL and MariaDB).
    pub fn matches_engine(&self, engine: fox_crds::Engine) -> bool {
        Backend::try_from(engine) == Ok(self.backend)
    }

    /// The full URL, credentials included: only for handing to a driver.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// Host and port (or file path for SQLite), for messages.
    pub fn location(&self) -> String {
        if self.backend.is_embedded() {
            return self.sqlite_path().unwrap_or_default();
        }
        let (_, _, after) = split_credentials(&self.raw);
        after.split(['/', '?']).next().unwrap_or("").to_string()
    }

    /// Host, port and database (the file path for SQLite), for messages.
    pub fn target(&self) -> String {
        if self.backend.is_embedded() {
            return self.location();
        }
        format!("{}/{}", self.location(), self.database_name())
    }

    /// The database name (file path for SQLite).
    pub fn database_name(&self) -> String {
        if self.backend.is_embedded() {
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

    /// This URL for the tenant whose tables live in the namespace `name` (schema per tenant):
    /// on PostgreSQL its connections use the schema `name` (`search_path`, through the URL's
    /// `options`), on MySQL and MariaDB the database `name` on the same server. The schema
    /// engine and the client both work in a connection's current schema, so `fox apply` and a
    /// [`crate::Database`] on this URL reach that tenant's tables alone.
    ///
    /// # Errors
    /// [`Error::InvalidTenant`] for a name that is not lower-case letters, digits and `_`
    /// (at most 63, starting with a letter or `_`); [`Error::Unsupported`] on SQLite (a
    /// database is a file: give each tenant its own file) and for a PostgreSQL URL that sets
    /// `options` already.
    pub fn in_tenant_namespace(&self, name: &str) -> Result<Self, Error> {
        let valid = name.len() <= 63
            && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(Error::InvalidTenant {
                tenant: name.escape_debug().to_string(),
                reason: "a tenant schema or database name is 1 to 63 lower-case letters, digits and `_`, starting with a letter or `_`".into(),
            });
        }
        let (base, query) = match self.raw.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (self.raw.as_str(), None),
        };
        let raw = match self.backend {
            Backend::Postgres => {
                if self.query_keys().any(|key| key == "options") {
                    return Err(Error::Unsupported {
                        backend: self.backend,
                        feature: "a tenant schema on a URL that sets `options` already (set search_path there instead)".into(),
                    });
                }
                let setting = format!("options=-c%20search_path%3D{name}");
                match query {
                    Some(query) => format!("{base}?{query}&{setting}"),
                    None => format!("{base}?{setting}"),
                }
            }
            Backend::MySql => {
                let (_, _, after) = split_credentials(base);
                let database = after.split_once('/').map_or("", |(_, path)| path);
                let server = &base[..base.len() - database.len()];
                let server = server.strip_suffix('/').unwrap_or(server);
                match query {
                    Some(query) => format!("{server}/{name}?{query}"),
                    None => format!("{server}/{name}"),
                }
            }
            Backend::Sqlite => {
                return Err(Error::Unsupported {
                    backend: self.backend,
                    feature: "a schema per tenant (a SQLite database is one file: give each tenant its own file URL)".into(),
                });
            }
        };
        Ok(Self {
            raw,
            backend: self.backend,
            tls: self.tls.clone(),
        })
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

/// Checks that what follows `scheme://` has a host part of the form `HOST[:PORT]` or
/// `[IPV6][:PORT]` (or none, for a local socket): a user part with no `@` after it (the password
/// would be read as host and port) or a malformed port is refused. Reasons never quote the text.
fn check_host_and_port(rest: &str) -> Result<(), &'static str> {
    let (credentials, after) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let host_and_port = after.split(['/', '?', '#']).next().unwrap_or("");
    let port = if let Some(bracketed) = host_and_port.strip_prefix('[') {
        let Some((_, after_bracket)) = bracketed.split_once(']') else {
            return Err("an IPv6 host opened with `[` is not closed with `]`");
        };
        match after_bracket {
            "" => None,
            port => match port.strip_prefix(':') {
                Some(port) => Some(port),
                None => return Err("expected `:PORT` after the bracketed IPv6 host"),
            },
        }
    } else {
        host_and_port.split_once(':').map(|(_, port)| port)
    };
    match port {
        Some(port) if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) => {
            Err(if credentials.is_none() {
                "the port is not a number; if the URL has a user and password, is the `@` between them and the host missing?"
            } else {
                "the port is not a number"
            })
        }
        Some(port) if port.parse::<u16>().is_err() => Err("the port is out of range (1-65535)"),
        _ => Ok(()),
    }
}

/// Decodes `%XX` escapes; other text is kept as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escape = (bytes[index] == b'%')
            .then(|| text.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escape {
            Some(byte) => {
                decoded.push(byte);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
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

/// Replaces the password of every URL in a free-text message (a server's replication error may
/// quote its connection string) with `***`; the rest of the text is kept as it is.
pub fn redact_urls_in(message: &str) -> String {
    message
        .split_inclusive(char::is_whitespace)
        .map(|word| {
            if word.contains("://") {
                redact(word)
            } else {
                word.to_string()
            }
        })
        .collect()
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
    fn a_tenant_namespace_is_a_search_path_on_postgres_and_a_database_on_mysql() {
        let pg = DatabaseUrl::parse("postgres://app:pw@db:5432/saas?sslmode=disable").unwrap();
        assert_eq!(
            pg.in_tenant_namespace("acme").unwrap().expose(),
            "postgres://app:pw@db:5432/saas?sslmode=disable&options=-c%20search_path%3Dacme"
        );
        let my = DatabaseUrl::parse("mysql://root@db:3306/saas").unwrap();
        assert_eq!(
            my.in_tenant_namespace("t_01").unwrap().expose(),
            "mysql://root@db:3306/t_01"
        );
        for bad in ["", "Acme", "a-b", "a;b", "1a"] {
            assert!(
                matches!(
                    pg.in_tenant_namespace(bad),
                    Err(Error::InvalidTenant { .. })
                ),
                "{bad:?}"
            );
        }
        let lite = DatabaseUrl::parse("sqlite://x.db").unwrap();
        assert!(matches!(
            lite.in_tenant_namespace("acme"),
            Err(Error::Unsupported { .. })
        ));
    }

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
            error.contains("does not start with postgres://") && !error.contains("pw"),
            "{error}"
        );
    }

    /// Malformed URLs of every shape seen in practice: none of them echoes the password.
    const MALFORMED_WITH_PASSWORD: [&str; 10] = [
        "postgres://app:Fox-Leak-9Qz7-db.example:5432/app",
        "postgres//app:Fox-Leak-9Qz7@db/app",
        "app:Fox-Leak-9Qz7@db:5432/app",
        "mysql://root:Fox-Leak-9Qz7",
        "postgres:/app:Fox-Leak-9Qz7@db/app",
        "mysql://root:Fox-Leak-9Qz7@db:notaport/x",
        "mysql://root:Fox-Leak-9Qz7@[::1/x",
        "postgres://app:Fox-Leak-9Qz7@db:5432:77/x",
        "postgres://app:Fox-Leak-9Qz7@db:99999/x",
        " postgres://app:Fox-Leak-9Qz7@db/x",
    ];

    #[test]
    fn malformed_urls_are_refused_without_the_password() {
        for raw in MALFORMED_WITH_PASSWORD {
            let error = DatabaseUrl::parse(raw).expect_err(raw).to_string();
            assert!(!error.contains("Fox-Leak-9Qz7"), "{raw}: {error}");
            assert!(error.starts_with("invalid database URL"), "{error}");
        }
        let missing_at = DatabaseUrl::parse(MALFORMED_WITH_PASSWORD[0])
            .unwrap_err()
            .to_string();
        assert!(missing_at.contains("`@`"), "{missing_at}");
    }

    #[test]
    fn well_formed_hosts_and_ports_parse() {
        for raw in [
            "postgres://app:pw@db:5432/app",
            "postgres://app@[::1]:5432/app",
            "mysql://root@[::1]/x",
            "postgres:///app?host=/var/run/postgresql",
            "mysql://root@localhost/x",
            "postgres://app:p%40ss@db/app",
        ] {
            assert!(DatabaseUrl::parse(raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn driver_messages_lose_the_password_in_either_form() {
        let url = DatabaseUrl::parse("postgres://app:Fox%2FLeak@db/app").unwrap();
        assert_eq!(
            url.hide_password("bad value Fox/Leak and Fox%2FLeak"),
            "bad value *** and ***"
        );
    }
}
