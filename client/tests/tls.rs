//! TLS by default against the real servers: a host that is not loopback by its text gets
//! verified TLS, so PostgreSQL's self-signed certificate is refused and MariaDB without TLS is
//! refused, unless the URL names a weaker mode.
//!
//! The "remote" host is a name of this machine other than `localhost` that resolves to loopback
//! addresses only (the kernel's host name, or another name `/etc/hosts` gives 127.0.0.1), so no
//! traffic leaves the machine.

use foxdb::{Database, Error};

/// A name other than `localhost` that resolves to loopback addresses only.
async fn loopback_alias() -> String {
    let mut candidates: Vec<String> = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| vec![name.trim().to_string()])
        .unwrap_or_default();
    if let Ok(hosts) = std::fs::read_to_string("/etc/hosts") {
        for line in hosts.lines() {
            let mut fields = line.split_whitespace();
            if fields.next().is_some_and(|ip| ip.starts_with("127.")) {
                candidates.extend(fields.map(str::to_string));
            }
        }
    }
    for name in candidates {
        if name.is_empty() || name.eq_ignore_ascii_case("localhost") || name.starts_with('#') {
            continue;
        }
        let Ok(addresses) = tokio::net::lookup_host((name.as_str(), 0)).await else {
            continue;
        };
        let addresses: Vec<_> = addresses.collect();
        if !addresses.is_empty() && addresses.iter().all(|a| a.ip().is_loopback()) {
            return name;
        }
    }
    panic!(
        "no name other than localhost resolves to 127.0.0.1 here: add one to /etc/hosts (for example `127.0.0.1 db-alias`)"
    );
}

fn refused_with(result: Result<Database, Error>, what: &str) -> String {
    match result {
        Err(error @ Error::Connect { .. }) => error.to_string(),
        Err(other) => panic!("{what}: expected a connection error, got {other}"),
        Ok(_) => panic!("{what}: connected"),
    }
}

#[tokio::test]
async fn postgres_refuses_an_untrusted_certificate_by_default_and_takes_a_weaker_mode_when_asked() {
    let host = loopback_alias().await;
    let message = refused_with(
        Database::connect(&format!("postgres://postgres:pw@{host}:5432/test")).await,
        "PostgreSQL with a self-signed certificate",
    );
    assert!(!message.contains("pw@"), "no password in {message}");
    let db = Database::connect(&format!(
        "postgres://postgres@{host}:5432/test?sslmode=require"
    ))
    .await
    .expect("sslmode=require accepts the certificate unverified");
    let rows = db
        .fetch_all(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("reads");
    assert!(
        rows[0].get::<bool>("ssl").expect("a bool"),
        "still encrypted"
    );
    db.close().await;
}

#[tokio::test]
async fn mariadb_refuses_plaintext_to_a_remote_host_by_default() {
    let host = loopback_alias().await;
    refused_with(
        Database::connect(&format!("mysql://root@{host}:3306/test")).await,
        "MariaDB without TLS",
    );
    let db = Database::connect(&format!("mysql://root@{host}:3306/test?ssl-mode=DISABLED"))
        .await
        .expect("ssl-mode=DISABLED connects in plain text");
    db.fetch_all("SELECT 1", &[]).await.expect("reads");
    db.close().await;
}

#[tokio::test]
async fn loopback_hosts_keep_the_drivers_default() {
    // MariaDB here has no TLS: a loopback URL without a mode still connects.
    let db = Database::connect("mysql://root@127.0.0.1:3306/test")
        .await
        .expect("plain text to loopback");
    db.close().await;
}

/// The certificates that come with a URL (a Secret's `ca.crt`, handed over by the operator) are
/// used by every connection to it: the schema engine's and the migration runner's too.
#[tokio::test]
async fn a_ca_that_comes_with_the_url_verifies_the_server() {
    use foxdb::{ConnectOptions, Connection, DatabaseUrl, TlsOptions};
    let admin = Database::connect("postgres://postgres@127.0.0.1:5432/test")
        .await
        .expect("connects");
    let rows = admin
        .fetch_all("SHOW ssl_cert_file", &[])
        .await
        .expect("reads the server's certificate path");
    admin.close().await;
    let path: String = rows[0].get("ssl_cert_file").expect("a path");
    let certificate = std::fs::read(&path).expect("the server's certificate is readable");

    // The server's certificate names localhost; verify-full needs a CA that signed it.
    let url = DatabaseUrl::parse("postgres://postgres@localhost:5432/test?sslmode=verify-full")
        .expect("parses");
    let refused = Connection::connect(&url, &ConnectOptions::default()).await;
    assert!(refused.is_err(), "an unknown CA is refused");
    let url = url.with_tls(TlsOptions {
        ca_pem: Some(certificate),
        ..TlsOptions::default()
    });
    let mut connection = Connection::connect(&url, &ConnectOptions::default())
        .await
        .expect("the CA that came with the URL verifies the server");
    connection.execute("SELECT 1").await.expect("runs");
    connection.close().await;
}
