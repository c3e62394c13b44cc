//! Command-line interface of `fox`: argument definitions and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;
use crate::commands::report::OutputFormat;

/// FoxDB: declarative database schemas, migrations and replica routing for Kubernetes and
/// for laptops.
#[derive(Debug, Parser)]
#[command(name = "fox", version, about, long_about = None, after_help = CLI_AFTER_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// What `fox --help` says after the commands: the exit status and environment every command
/// shares (a command's own help names the codes it adds).
const CLI_AFTER_HELP: &str = "Exit status: 0 on success, 1 on an error (printed as `fox: error: ...`), \
    2 on a usage error (an unknown flag, a missing argument: nothing runs); a command's help \
    names the codes it adds.\n\n\
    Environment:\n  \
    FOX_DATABASE_URL  the database when --database is not given (plan, apply, seed, migrate,\n                    \
    generate migration and tenant use it before the FoxReplicaSet in the files)\n  \
    FOX_GATEWAY_SECRET  the key fox gateway signs and checks tokens with (never a flag)";

/// The `fox` subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests the way the API server and FoxDB's validation would; exit 1 on any
    /// problem.
    #[command(
        after_help = "Exit status: 0 when every manifest is valid, 1 when a problem is \
        found (each printed as FILE:LINE:COLUMN: KIND/NAME: PATH: MESSAGE)."
    )]
    Validate {
        /// Manifest files or directories (multi-document YAML; directories are read recursively).
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
    },
    /// Show what `fox apply` would change, without changing anything.
    #[command(
        after_help = "Exit status: 0 when the plan ran (in sync, or changes pending \
        without --detailed-exitcode), 2 with --detailed-exitcode when changes are pending, 1 on \
        an error (unreadable manifests, an unreachable database, a tenant not planned)."
    )]
    Plan {
        /// Manifest files or directories holding FoxSchemas (and optionally their
        /// FoxReplicaSet and Secret).
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// Database URL; overrides FOX_DATABASE_URL and the FoxReplicaSet in the files.
        #[arg(long)]
        database: Option<String>,
        /// Output format.
        #[arg(long, short = 'o', value_enum, default_value = "text")]
        output: OutputFormat,
        /// Exit 2 when changes are pending (0 = in sync, 1 = error).
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Make each database match its FoxSchema (under a database lock, in one transaction where
    /// the engine allows).
    #[command(
        after_help = "Exit status: 0 when every database matches its FoxSchema, 2 when a \
        plan needs approval (policy.requireApproval; run again with --approve HASH) and was not \
        applied, 1 on an error, a refused plan or a failed tenant."
    )]
    Apply {
        /// Manifest files or directories holding FoxSchemas (and optionally their
        /// FoxReplicaSet and Secret).
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// Database URL; overrides FOX_DATABASE_URL and the FoxReplicaSet in the files.
        #[arg(long)]
        database: Option<String>,
        /// Apply destructive changes (drops, narrowing types) as if policy.allowDestructive were set.
        #[arg(long)]
        allow_destructive: bool,
        /// Apply only if the plan's hash is this one (needed with policy.requireApproval).
        #[arg(long, value_name = "HASH")]
        approve: Option<String>,
        /// Plan and check everything, change nothing.
        #[arg(long)]
        dry_run: bool,
        /// The FoxSchema this one takes the database over from (a rename): a database is
        /// declared by one FoxSchema, and an apply under another name is refused without this.
        #[arg(long, value_name = "FOXSCHEMA")]
        replaces: Option<String>,
    },
    /// Versioned migrations: status, up, down, repair.
    #[command(subcommand)]
    Migrate(commands::migrate::MigrateCommand),
    /// Upsert the `seed` rows of FoxSchemas (also done by `fox apply`).
    Seed {
        /// Manifest files or directories holding FoxSchemas.
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// Database URL; overrides FOX_DATABASE_URL and the FoxReplicaSet in the files.
        #[arg(long)]
        database: Option<String>,
    },
    /// Generate files from manifests and the live database.
    #[command(subcommand)]
    Generate(GenerateCommand),
    /// Import from other tools: a Prisma schema as a FoxSchema (`fox import prisma`), a
    /// migrations folder of golang-migrate, sqlx, Prisma, Diesel or Flyway as FoxMigrations
    /// (`fox import migrations DIR --format TOOL`).
    #[command(subcommand)]
    Import(commands::import::ImportCommand),
    /// Run the operator: the FoxReplicaSet, FoxSchema and FoxMigration controllers, leader
    /// election and the metrics/health server. Uses the in-cluster service account, or
    /// KUBECONFIG outside a cluster.
    Run(commands::run::RunArgs),
    /// Serve the change stream over WebSocket and SSE (`fox gateway --listen ADDR --database
    /// URL`), or mint a bearer token (`fox gateway token`).
    Gateway(commands::gateway::GatewayArgs),
    /// Audit log: verify hash chains, prune expired records.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// Real-time change log maintenance.
    #[command(subcommand)]
    Realtime(commands::realtime::RealtimeCommand),
    /// Commit or roll back the distributed transaction branches left prepared on the
    /// databases, as the coordinator log decided (`fox recover --database URL --log URL`).
    Recover(commands::recover::RecoverArgs),
    /// Schema per tenant: create a tenant's namespace and apply FoxSchemas to every tenant.
    #[command(subcommand)]
    Tenant(commands::tenant::TenantCommand),
    /// Print the CustomResourceDefinitions, or write them to `crds/` and the Helm chart.
    Crds {
        /// Write `crds/*.yaml` and `charts/fox-operator/files/crds/*.yaml` instead of printing.
        #[arg(long)]
        write: bool,
        /// Repository root to write into (with `--write`).
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

/// What `fox generate` writes.
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// Write Rust model structs (`#[derive(foxdb::Model)]`) for the tables of a FoxSchema.
    Client {
        /// Manifest files or directories holding one FoxSchema.
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// File to write (default: print).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Extra derive for every generated struct and enum, as a Rust path (repeatable or
        /// comma-separated: `--derive serde::Serialize,serde::Deserialize`).
        #[arg(long = "derive", value_name = "PATH", value_delimiter = ',')]
        derives: Vec<String>,
        /// Table whose model gets `#[foxdb(hooks)]`: the application implements `foxdb::Hooks`
        /// for it in its own code (repeatable or comma-separated; `*` for every table).
        #[arg(long = "hooks", value_name = "TABLE", value_delimiter = ',')]
        manual_hooks: Vec<String>,
    },
    /// Write a FoxSchema from a live database (tables, columns, keys, indexes, foreign keys,
    /// enums), to adopt a database FoxDB did not create; what a FoxSchema cannot declare is
    /// listed in comments.
    Schema {
        /// Database URL to read.
        #[arg(long, env = "FOX_DATABASE_URL", hide_env_values = true)]
        database: String,
        /// File to write (default: print).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// `metadata.name` of the FoxSchema (default: the FoxSchema last applied to the
        /// database, else the database's name).
        #[arg(long)]
        name: Option<String>,
        /// `spec.databaseRef.name`: the FoxReplicaSet it belongs to (default: the FoxSchema's name).
        #[arg(long)]
        database_ref: Option<String>,
    },
    /// Write the next FoxMigration: `up` is the plan from the live database to the FoxSchema,
    /// `down` its inverse (left out, with the reason, when the change loses data).
    Migration {
        /// Migration name (also used in the file name).
        #[arg(long)]
        name: String,
        /// Manifest files or directories holding one FoxSchema.
        #[arg(short = 'f', long = "filename", required = true, num_args = 1..)]
        paths: Vec<PathBuf>,
        /// Database URL; overrides FOX_DATABASE_URL and the FoxReplicaSet in the files.
        #[arg(long)]
        database: Option<String>,
        /// Version of the migration (default: the UTC time as YYYYMMDDHHMMSS).
        #[arg(long)]
        version: Option<u64>,
        /// Folder the FoxMigration file is written to.
        #[arg(long, default_value = ".")]
        output_dir: PathBuf,
    },
}

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Validate { paths } => commands::validate::run(&paths),
        Command::Crds { write, root } => commands::crds::run(write, &root),
        Command::Import(command) => commands::import::run(command),
        Command::Run(args) => commands::run::run(args),
        Command::Migrate(command) => block_on(commands::migrate::run(command)),
        Command::Realtime(command) => block_on(commands::realtime::run(command)),
        Command::Recover(args) => block_on(commands::recover::run(args)),
        Command::Audit(command) => block_on(commands::audit::run(command)),
        Command::Tenant(command) => block_on(commands::tenant::run(command)),
        Command::Gateway(args) => block_on_threads(commands::gateway::run(args)),
        Command::Seed { paths, database } => {
            block_on(commands::seed::run(&paths, database.as_deref()))
        }
        Command::Generate(GenerateCommand::Client {
            paths,
            output,
            derives,
            manual_hooks,
        }) => commands::generate::client(
            &paths,
            output.as_deref(),
            &commands::generate::ClientOptions {
                derives,
                manual_hooks,
            },
        ),
        Command::Generate(GenerateCommand::Schema {
            database,
            output,
            name,
            database_ref,
        }) => block_on(commands::generate::schema(
            &database,
            output.as_deref(),
            &commands::generate::SchemaOptions { name, database_ref },
        )),
        Command::Generate(GenerateCommand::Migration {
            name,
            paths,
            database,
            version,
            output_dir,
        }) => block_on(commands::generate::migration(
            &name,
            &paths,
            database.as_deref(),
            version,
            &output_dir,
        )),
        Command::Plan {
            paths,
            database,
            output,
            detailed_exitcode,
        } => block_on(commands::plan::run(
            &paths,
            database.as_deref(),
            output,
            detailed_exitcode,
        )),
        Command::Apply {
            paths,
            database,
            allow_destructive,
            approve,
            dry_run,
            replaces,
        } => {
            let flags = commands::apply::ApplyFlags {
                database,
                allow_destructive,
                approve,
                dry_run,
                replaces,
            };
            block_on(commands::apply::run(&paths, &flags))
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("fox: error: {error:#}");
            ExitCode::from(1)
        }
    }
}

/// For the gateway: a multi-threaded runtime, as it serves many connections.
fn block_on_threads<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

fn block_on<T>(future: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(future)
}
