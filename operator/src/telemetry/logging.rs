//! Structured logs: JSON lines by default (one object per event, with the resource's kind,
//! namespace and name as fields), or human-readable text.

use tracing_subscriber::EnvFilter;

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable text.
    Text,
}

/// The filter `fox run` uses for `--log-level`: the user's, with the driver's statement log
/// (`sqlx::query`, every statement in full at debug level) off unless the user names `sqlx`:
/// a migration's statements may carry literals such as `PASSWORD '...'`.
pub fn log_filter(user: &str) -> String {
    if user.contains("sqlx") {
        user.to_string()
    } else {
        format!("{user},sqlx::query=off")
    }
}

/// Installs the global subscriber (filter: [`log_filter`] of `filter`).
///
/// # Errors
/// An invalid filter string, or a subscriber already installed.
pub fn init_logging(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(log_filter(filter))
        .map_err(|error| anyhow::anyhow!("invalid --log-level {filter:?}: {error}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.with_ansi(false).try_init(),
    };
    installed.map_err(|error| anyhow::anyhow!("cannot install the logger: {error}"))
}
