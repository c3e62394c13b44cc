//! `fox gateway --listen ADDR --database URL` serves the change stream to browsers;
//! `fox gateway token` mints a bearer token. Both read the signing secret from
//! `FOX_GATEWAY_SECRET` (never from a flag, so it stays out of process listings).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::gateway::{Gateway, serve, token};

/// Environment variable holding the HMAC secret.
pub const SECRET_ENV: &str = "FOX_GATEWAY_SECRET";

/// `fox gateway`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct GatewayArgs {
    /// Mint a token instead of serving.
    #[command(subcommand)]
    pub command: Option<GatewayCommand>,
    /// Address to serve on, such as 0.0.0.0:8080.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Database URL.
    #[arg(long, env = "FOX_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
}

/// `fox gateway token`.
#[derive(Debug, Subcommand)]
pub enum GatewayCommand {
    /// Print a bearer token granting the given tables (and only rows matching the filters).
    Token {
        /// A table the token may read (repeat for more).
        #[arg(long = "table", required = true)]
        tables: Vec<String>,
        /// A column equality every row sent must satisfy, `column=value` (repeatable).
        #[arg(long = "filter")]
        filters: Vec<String>,
        /// How long the token is valid: a number with s, m, h or d.
        #[arg(long, default_value = "1h", value_parser = super::realtime::parse_duration)]
        ttl: Duration,
    },
}

fn secret() -> anyhow::Result<Vec<u8>> {
    let secret = std::env::var(SECRET_ENV).unwrap_or_default();
    if secret.len() < 32 {
        anyhow::bail!(
            "{SECRET_ENV} must hold the token signing secret, at least 32 characters (such as the output of `openssl rand -hex 32`)"
        );
    }
    Ok(secret.into_bytes())
}

/// Runs `fox gateway`.
///
/// # Errors
/// A missing secret, listen address or database; an unreachable database; a taken port.
pub async fn run(args: GatewayArgs) -> anyhow::Result<ExitCode> {
    let secret = secret()?;
    if let Some(GatewayCommand::Token {
        tables,
        filters,
        ttl,
    }) = args.command
    {
        let mut parsed = BTreeMap::new();
        for filter in &filters {
            let Some((column, value)) = filter.split_once('=') else {
                anyhow::bail!("--filter {filter:?}: write column=value");
            };
            parsed.insert(column.to_string(), value.to_string());
        }
        let scope = token::Scope {
            tables,
            filters: parsed,
            exp: chrono::Utc::now().timestamp()
                + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        println!("{}", token::mint(&secret, &scope));
        return Ok(ExitCode::SUCCESS);
    }
    let Some(listen) = args.listen else {
        anyhow::bail!("fox gateway needs --listen ADDR (or the `token` subcommand)");
    };
    let Some(database) = args.database else {
        anyhow::bail!("fox gateway needs --database URL (or FOX_DATABASE_URL)");
    };
    let url = foxdb::DatabaseUrl::parse(&database)?;
    let db = foxdb::Database::connect(url.expose()).await?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    eprintln!(
        "fox gateway: serving changes of {} {} on http://{}",
        url.backend(),
        url.location(),
        listener.local_addr()?
    );
    serve(listener, Gateway::start(db, secret)).await?;
    Ok(ExitCode::SUCCESS)
}
