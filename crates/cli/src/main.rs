//! The `switchboard` binary: one process serves everything.

mod new_connector;
mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "switchboard",
    version,
    about = "Self-hosted connector hub for AI agents"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
pub struct Common {
    /// Where the SQLite store, master key and admin key live.
    #[arg(
        long,
        env = "SWITCHBOARD_DATA_DIR",
        default_value = "./switchboard-data"
    )]
    pub data_dir: PathBuf,
    /// A PostgreSQL URL to use instead of the embedded SQLite store.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub (REST API; MCP in later versions).
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on.
        #[arg(long, env = "SWITCHBOARD_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Serve the MCP conformance suite's fixture at /mcp/conformance: registers the
        /// test connectors (as SWITCHBOARD_TEST_CONNECTORS=1 does) and an anonymous
        /// profile over them. For testing only.
        #[arg(long)]
        conformance_profile: bool,
    },
    /// Serve MCP over stdio, for desktop clients that launch a command. Authenticates
    /// with SWITCHBOARD_API_KEY against the same store `serve` uses.
    Mcp {
        #[command(flatten)]
        common: Common,
        /// The API key whose tools to serve.
        #[arg(long, env = "SWITCHBOARD_API_KEY", hide_env_values = true)]
        api_key: String,
        /// Tool names as `directory_lookup` (underscore, the default here because
        /// desktop clients such as Claude Desktop reject dots) or `directory.lookup` (dot).
        #[arg(long, value_parser = ["underscore", "dot"], default_value = "underscore")]
        naming: String,
    },
    /// Re-encrypt every stored secret under a new master key.
    RotateKey {
        #[command(flatten)]
        common: Common,
    },
    /// Write a built-in connector stub into crates/connectors/src/ and register it.
    NewConnector {
        /// Kebab-case name, e.g. acme-crm: the catalog id and tool prefix.
        name: String,
        /// One-line description for the stub.
        #[arg(long, short = 'd')]
        description: Option<String>,
        /// Overwrite the stub if it exists and differs.
        #[arg(long, short = 'f')]
        force: bool,
        /// The workspace root (default: the current directory or its nearest parent
        /// holding crates/connectors).
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

fn new_connector(
    name: &str,
    description: Option<&str>,
    force: bool,
    root: Option<PathBuf>,
) -> anyhow::Result<()> {
    let root = match root {
        Some(r) => r,
        None => new_connector::find_root(&std::env::current_dir()?)?,
    };
    let done = new_connector::run(&root, name, description, force)?;
    let module = new_connector::module_name(name);
    match (done.wrote_file, done.registered) {
        (false, false) => println!("{name}: already scaffolded and registered; nothing changed"),
        (wrote, registered) => {
            if wrote {
                println!("wrote {}", done.file.display());
            }
            if registered {
                println!("registered {module} in crates/connectors/src/lib.rs");
            }
            println!(
                "next: edit {} (replace list_items with real commands), then \
                 cargo test -p switchboard-connectors {module}",
                done.file.display()
            );
        }
    }
    Ok(())
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Command::NewConnector {
        name,
        description,
        force,
        root,
    } = &cli.command
    {
        return match new_connector(name, description.as_deref(), *force, root.clone()) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::FAILURE
            }
        };
    }
    serve::init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve {
                common,
                listen,
                conformance_profile,
            } => serve::serve(common, listen, conformance_profile).await,
            Command::RotateKey { common } => serve::rotate_key(common).await,
            Command::Mcp {
                common,
                api_key,
                naming,
            } => serve::mcp_stdio(common, api_key, naming).await,
            Command::NewConnector { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
