//! `fox run`: the operator (controller manager) in a cluster.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use crate::controller::manager::{RunConfig, run as run_manager};
use crate::controller::member_address::{AddressClass, Cidr, MemberAddressPolicy};
use crate::telemetry::logging::{LogFormat, init_logging};

/// Flags of `fox run`; each has an environment variable, for the Helm chart.
#[derive(Debug, clap::Args)]
#[command(after_help = "Environment read besides the flags' own variables:\n  \
    POD_NAME       identity in the leader Lease and in Events (default: the host name)\n  \
    POD_NAMESPACE  namespace of the Lease when --lease-namespace is not given\n  \
    KUBECONFIG     cluster to use outside a pod (in a pod, the service account is used)\n\n\
    Exit status: 0 after SIGTERM/SIGINT; 1 when the API server or the CRDs are missing, the\n\
    metrics address cannot be bound, or the leader Lease is lost.")]
pub struct RunArgs {
    /// Address of the HTTP server for `/metrics` (Prometheus), `/healthz` and `/readyz`.
    #[arg(long, env = "FOX_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Elect a leader with a coordination.k8s.io Lease so only one replica reconciles
    /// (`--leader-elect=false` to turn off, for a single replica or local runs).
    #[arg(
        long,
        env = "FOX_LEADER_ELECT",
        default_value_t = true,
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_missing_value = "true"
    )]
    pub leader_elect: bool,
    /// Name of the leader-election Lease.
    #[arg(long, env = "FOX_LEASE_NAME", default_value = "fox-operator")]
    pub lease_name: String,
    /// Namespace of the Lease (default: `POD_NAMESPACE`, else `default`).
    #[arg(long, env = "FOX_LEASE_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// Watch FoxDB resources in this namespace only (default: all namespaces).
    #[arg(long, env = "FOX_WATCH_NAMESPACE")]
    pub watch_namespace: Option<String>,
    /// Log format: one JSON object per line, or text.
    #[arg(long, env = "FOX_LOG_FORMAT", value_enum, default_value = "json")]
    pub log_format: LogFormat,
    /// Log filter (tracing env-filter syntax, e.g. `info` or `info,fox_operator=debug`).
    #[arg(long, env = "FOX_LOG", default_value = "info")]
    pub log_level: String,
    /// Seconds between periodic re-checks of every FoxSchema (drift) and FoxMigration.
    #[arg(long, env = "FOX_RESYNC_SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(5..))]
    pub resync_seconds: u64,
    /// Member addresses published in EndpointSlices although they are refused by default:
    /// `loopback`, `link-local`, `service-range` (comma-separated). Refused by default so a
    /// FoxReplicaSet cannot point a Service at the node, a metadata endpoint or another Service.
    #[arg(long, env = "FOX_ALLOW_MEMBER_ADDRESSES", value_delimiter = ',')]
    pub allow_member_addresses: Vec<AddressClass>,
    /// The cluster's Service IP ranges (comma-separated CIDRs, e.g. `10.96.0.0/12`): member
    /// addresses inside them are not published.
    #[arg(long, env = "FOX_SERVICE_CIDR", value_delimiter = ',')]
    pub service_cidr: Vec<Cidr>,
    /// Read Secrets only in these namespaces (comma-separated), the ones that opted in; the
    /// chart grants Secret access there only. Default: every watched namespace.
    #[arg(long, env = "FOX_SECRET_NAMESPACES", value_delimiter = ',')]
    pub secret_namespaces: Vec<String>,
}

/// Identity of this process in the Lease and in Events: `POD_NAME`, else the host name.
fn identity() -> String {
    std::env::var("POD_NAME")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|v| !v.is_empty()))
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| format!("fox-{}", std::process::id()))
}

/// Runs the operator until a shutdown signal.
///
/// # Errors
/// Invalid flags, no API server, missing CRDs, lost leadership.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format, &args.log_level)?;
    let config = RunConfig {
        metrics_addr: args.metrics_addr,
        leader_elect: args.leader_elect,
        lease_name: args.lease_name,
        lease_namespace: args
            .lease_namespace
            .or_else(|| {
                std::env::var("POD_NAMESPACE")
                    .ok()
                    .filter(|v| !v.is_empty())
            })
            .unwrap_or_else(|| "default".into()),
        identity: identity(),
        watch_namespace: args.watch_namespace.filter(|n| !n.is_empty()),
        resync: Duration::from_secs(args.resync_seconds),
        member_addresses: MemberAddressPolicy {
            allowed: args.allow_member_addresses,
            service_ranges: args.service_cidr,
        },
        secret_namespaces: args
            .secret_namespaces
            .into_iter()
            .filter(|n| !n.is_empty())
            .collect(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run_manager(config))?;
    Ok(ExitCode::SUCCESS)
}
