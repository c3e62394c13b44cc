//! PostgreSQL through tokio-postgres: the second PostgreSQL driver, chosen per pool with
//! [`crate::PoolOptions::postgres_driver`]. Statements, transactions and COPY run on
//! tokio-postgres connections of foxdb's own pool; values are sent with the types sqlx sends
//! them with and rows decode into the same Rust types, so a program reads and writes the same
//! whichever driver it runs on. Errors arrive in the driver error type the rest of foxdb reads,
//! with the server's code, constraint and detail.

mod columns;
mod errors;
mod link;
mod listener;
mod params;
mod pool;
mod session;
mod tls;
mod transaction;

pub(crate) use columns::{
    column_name, get, get_integer, get_nullable, get_nullable_integer, get_nullable_text, get_text,
    is_null,
};
pub(crate) use errors::ServerError;
pub(crate) use listener::Listener;
pub(crate) use pool::{Pooled, Settings, TokioPgPool};
pub(crate) use transaction::TokioPgTransaction;

use sqlx::postgres::{PgConnectOptions, PgSslMode};

use crate::url::DatabaseUrl;

/// A pool for `url`, connecting as `options` (sqlx's, already carrying foxdb's TLS defaults
/// and `certificates`) say; `sessions` are the settings of the sqlx pool built for whole
/// sessions when one is first asked for ([`TokioPgPool::sessions`]).
///
/// # Errors
/// An unreadable certificate or key ([`sqlx::Error::Tls`]).
pub(crate) fn pool(
    url: &DatabaseUrl,
    options: &PgConnectOptions,
    certificates: &crate::TlsOptions,
    settings: Settings,
    sessions: sqlx::postgres::PgPoolOptions,
) -> Result<TokioPgPool, sqlx::Error> {
    let mut config = tokio_postgres::Config::new();
    match options.get_socket() {
        Some(directory) => config.host_path(directory),
        None => config.host(options.get_host()),
    };
    config.port(options.get_port()).user(options.get_username());
    if let Some(database) = options.get_database() {
        config.dbname(database);
    }
    if let Some(name) = options.get_application_name() {
        config.application_name(name);
    }
    if let Some(server_options) = options.get_options() {
        config.options(server_options);
    }
    if let Some(password) = url_password(url.expose()).or_else(|| std::env::var("PGPASSWORD").ok())
    {
        config.password(password);
    }
    let mode = options.get_ssl_mode();
    config.ssl_mode(match mode {
        PgSslMode::Disable | PgSslMode::Allow => tokio_postgres::config::SslMode::Disable,
        PgSslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        PgSslMode::Require | PgSslMode::VerifyCa | PgSslMode::VerifyFull => {
            tokio_postgres::config::SslMode::Require
        }
    });
    let parameter = |names: &[&str]| {
        query_pairs(url.expose())
            .find(|(key, _)| names.iter().any(|name| key.eq_ignore_ascii_case(name)))
            .map(|(_, value)| tls::Pem::File(value.into()))
    };
    let memory = |pem: &Option<Vec<u8>>| pem.clone().map(tls::Pem::Memory);
    let certificates = tls::Certificates {
        root: memory(&certificates.ca_pem)
            .or_else(|| parameter(&["sslrootcert", "ssl-root-cert", "ssl-ca"])),
        client_cert: memory(&certificates.client_cert_pem)
            .or_else(|| parameter(&["sslcert", "ssl-cert"])),
        client_key: memory(&certificates.client_key_pem)
            .or_else(|| parameter(&["sslkey", "ssl-key"])),
    };
    let tls = tls::client_config(mode, &certificates)
        .map_err(|refused| sqlx::Error::Tls(Box::new(refused)))?
        .map(tls::MakeRustls);
    Ok(TokioPgPool::new(
        config,
        tls,
        settings,
        pool::Sessions::new(sessions, options.clone()),
    ))
}

/// The URL's password, percent-decoded.
fn url_password(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let (user_info, _) = authority.rsplit_once('@')?;
    let (_, password) = user_info.split_once(':')?;
    Some(percent_decode(password))
}

/// The URL's query parameters, percent-decoded.
fn query_pairs(url: &str) -> impl Iterator<Item = (String, String)> + '_ {
    url.split_once('?')
        .map_or("", |(_, query)| query)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_and_parameters_are_read_decoded() {
        assert_eq!(
            url_password("postgres://fox:p%40ss%3Aword@db:5432/app?sslmode=require").as_deref(),
            Some("p@ss:word")
        );
        assert_eq!(url_password("postgres://fox@db/app"), None);
        assert_eq!(url_password("postgres://db/app?user=a:b@c"), None);
        let pairs: Vec<_> =
            query_pairs("postgres://db/app?sslrootcert=%2Fetc%2Fca.pem&sslmode=verify-full")
                .collect();
        assert_eq!(
            pairs,
            [
                ("sslrootcert".to_string(), "/etc/ca.pem".to_string()),
                ("sslmode".to_string(), "verify-full".to_string())
            ]
        );
    }
}
