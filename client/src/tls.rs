//! TLS by default: connections to another machine use verified TLS unless the URL asks for less.
//!
//! | host | URL names no TLS mode | URL names a mode |
//! |---|---|---|
//! | loopback (`localhost`, `127.0.0.0/8`, `::1`) or a Unix socket | the driver's default: TLS if the server offers it, else plain | that mode |
//! | any other | PostgreSQL `verify-full`, MySQL/MariaDB `VERIFY_IDENTITY`: the server's certificate must chain to a trusted CA and name the host | that mode; a mode weaker than the default is logged once (target `foxdb::tls`, at warn) |
//!
//! The host is judged by its text, never by resolving it: a name that resolves to this machine
//! but is not `localhost` counts as another machine. Trusted CAs are the Mozilla roots built in,
//! plus the URL's `sslrootcert` (PostgreSQL) / `ssl-ca` (MySQL) file or [`TlsOptions::ca_pem`];
//! a client certificate comes from `sslcert`/`sslkey` (`ssl-cert`/`ssl-key`) or
//! [`TlsOptions::client_cert_pem`]/[`TlsOptions::client_key_pem`]. On PostgreSQL the
//! `PGSSLMODE` environment variable counts as a mode named, as it does for libpq.

#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::collections::HashSet;
use std::net::IpAddr;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::sync::Mutex;

#[cfg(any(feature = "postgres", feature = "mysql"))]
use crate::url::DatabaseUrl;

/// Certificates to use besides what the URL names, in PEM (for certificates held in memory, such
/// as a Kubernetes Secret's `ca.crt`, `tls.crt` and `tls.key`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// A CA certificate to trust (besides the built-in roots).
    pub ca_pem: Option<Vec<u8>>,
    /// A client certificate to present.
    pub client_cert_pem: Option<Vec<u8>>,
    /// The client certificate's private key.
    pub client_key_pem: Option<Vec<u8>>,
}

impl TlsOptions {
    /// Whether no certificate is given.
    pub fn is_empty(&self) -> bool {
        self.ca_pem.is_none() && self.client_cert_pem.is_none() && self.client_key_pem.is_none()
    }
}

/// Leaves the key out.
impl std::fmt::Debug for TlsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsOptions")
            .field("ca_pem", &self.ca_pem.is_some())
            .field("client_cert_pem", &self.client_cert_pem.is_some())
            .field("client_key_pem", &self.client_key_pem.is_some())
            .finish()
    }
}

/// Whether `host` (or a Unix socket, when `socket`) is this machine by its text alone:
/// `localhost`, a loopback address, or a socket.
pub fn is_loopback(host: &str, socket: bool) -> bool {
    if socket || host.starts_with('/') {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether the URL (or, on PostgreSQL, `PGSSLMODE`) names a TLS mode.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn names_mode(url: &DatabaseUrl, environment: Option<&str>) -> bool {
    url.query_keys()
        .any(|key| key.eq_ignore_ascii_case("sslmode") || key.eq_ignore_ascii_case("ssl-mode"))
        || environment.is_some_and(|variable| std::env::var_os(variable).is_some())
}

/// Logs, once per location, that the URL chose TLS weaker than verified.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn warn_weaker(url: &DatabaseUrl, mode: &str) {
    static WARNED: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    let location = url.location();
    let first = WARNED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashSet::new)
        .insert(location.clone());
    if first {
        tracing::warn!(
            target: "foxdb::tls",
            %location,
            mode,
            "the database URL asks for TLS mode {mode}, which does not verify the server: someone on the network path can read or change the traffic; remove the mode to get verified TLS"
        );
    }
}

/// PostgreSQL connect options with the default above applied, and `tls`'s certificates.
#[cfg(feature = "postgres")]
pub(crate) fn secure_postgres(
    options: sqlx::postgres::PgConnectOptions,
    url: &DatabaseUrl,
    tls: &TlsOptions,
) -> sqlx::postgres::PgConnectOptions {
    use sqlx::postgres::PgSslMode;
    let mut options = options;
    if let Some(ca) = &tls.ca_pem {
        options = options.ssl_root_cert_from_pem(ca.clone());
    }
    if let Some(cert) = &tls.client_cert_pem {
        options = options.ssl_client_cert_from_pem(cert);
    }
    if let Some(key) = &tls.client_key_pem {
        options = options.ssl_client_key_from_pem(key);
    }
    if is_loopback(options.get_host(), options.get_socket().is_some()) {
        return options;
    }
    if !names_mode(url, Some("PGSSLMODE")) {
        return options.ssl_mode(PgSslMode::VerifyFull);
    }
    let weaker = match options.get_ssl_mode() {
        PgSslMode::VerifyFull => None,
        PgSslMode::Disable => Some("disable"),
        PgSslMode::Allow => Some("allow"),
        PgSslMode::Prefer => Some("prefer"),
        PgSslMode::Require => Some("require"),
        PgSslMode::VerifyCa => Some("verify-ca"),
    };
    if let Some(mode) = weaker {
        warn_weaker(url, mode);
    }
    options
}

/// MySQL/MariaDB connect options with the default above applied, and `tls`'s certificates.
#[cfg(feature = "mysql")]
pub(crate) fn secure_mysql(
    options: sqlx::mysql::MySqlConnectOptions,
    url: &DatabaseUrl,
    tls: &TlsOptions,
) -> sqlx::mysql::MySqlConnectOptions {
    use sqlx::mysql::MySqlSslMode;
    let mut options = options;
    if let Some(ca) = &tls.ca_pem {
        options = options.ssl_ca_from_pem(ca.clone());
    }
    if let Some(cert) = &tls.client_cert_pem {
        options = options.ssl_client_cert_from_pem(cert);
    }
    if let Some(key) = &tls.client_key_pem {
        options = options.ssl_client_key_from_pem(key);
    }
    if is_loopback(options.get_host(), options.get_socket().is_some()) {
        return options;
    }
    if !names_mode(url, None) {
        return options.ssl_mode(MySqlSslMode::VerifyIdentity);
    }
    let weaker = match options.get_ssl_mode() {
        MySqlSslMode::VerifyIdentity => None,
        MySqlSslMode::Disabled => Some("DISABLED"),
        MySqlSslMode::Preferred => Some("PREFERRED"),
        MySqlSslMode::Required => Some("REQUIRED"),
        MySqlSslMode::VerifyCa => Some("VERIFY_CA"),
    };
    if let Some(mode) = weaker {
        warn_weaker(url, mode);
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_judged_by_the_text_of_the_host() {
        for local in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.1.2.3",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback(local, false), "{local}");
        }
        assert!(is_loopback("/var/run/postgresql", false));
        assert!(is_loopback("db.internal", true), "a socket");
        for remote in [
            "db.example.com",
            "10.0.0.5",
            "192.0.2.2",
            "vm",
            "localhost.evil.com",
        ] {
            assert!(!is_loopback(remote, false), "{remote}");
        }
    }

    #[cfg(feature = "postgres")]
    fn postgres(raw: &str) -> sqlx::postgres::PgConnectOptions {
        let url = DatabaseUrl::parse(raw).expect("a URL");
        let options = url.expose().parse().expect("sqlx reads it");
        secure_postgres(options, &url, &TlsOptions::default())
    }

    #[cfg(feature = "mysql")]
    fn mysql(raw: &str) -> sqlx::mysql::MySqlConnectOptions {
        let url = DatabaseUrl::parse(raw).expect("a URL");
        let options = url.expose().parse().expect("sqlx reads it");
        secure_mysql(options, &url, &TlsOptions::default())
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_to_another_host_verifies_unless_the_url_says_otherwise() {
        // PGSSLMODE would count as a mode named.
        if std::env::var_os("PGSSLMODE").is_some() {
            return;
        }
        let mode = |raw: &str| format!("{:?}", postgres(raw).get_ssl_mode());
        assert_eq!(mode("postgres://u:p@db.example.com/app"), "VerifyFull");
        assert_eq!(mode("postgres://u:p@10.1.2.3:5433/app"), "VerifyFull");
        assert_eq!(
            mode("postgres://u:p@db.example.com/app?sslmode=require"),
            "Require"
        );
        assert_eq!(
            mode("postgres://u:p@db.example.com/app?sslmode=disable"),
            "Disable"
        );
        assert_eq!(
            mode("postgres://u:p@127.0.0.1/app"),
            "Prefer",
            "the driver default"
        );
        assert_eq!(mode("postgres://u:p@localhost/app"), "Prefer");
        assert_eq!(
            mode("postgres://u:p@x/app?host=/var/run/postgresql"),
            "Prefer",
            "a Unix socket"
        );
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_to_another_host_verifies_unless_the_url_says_otherwise() {
        let mode = |raw: &str| format!("{:?}", mysql(raw).get_ssl_mode());
        assert_eq!(mode("mysql://u:p@db.example.com/app"), "VerifyIdentity");
        assert_eq!(
            mode("mariadb://u:p@[2001:db8::1]:3307/app"),
            "VerifyIdentity"
        );
        assert_eq!(
            mode("mysql://u:p@db.example.com/app?ssl-mode=DISABLED"),
            "Disabled"
        );
        assert_eq!(mode("mysql://u:p@127.0.0.1/app"), "Preferred");
        assert_eq!(
            mode("mysql://u:p@db/app?socket=/run/mysqld/mysqld.sock"),
            "Preferred"
        );
    }

    #[test]
    fn debug_leaves_the_key_out() {
        let tls = TlsOptions {
            client_key_pem: Some(b"-----BEGIN PRIVATE KEY----- s3cr3t".to_vec()),
            ..TlsOptions::default()
        };
        assert!(!format!("{tls:?}").contains("s3cr3t"));
    }
}
