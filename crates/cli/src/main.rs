//! The `switchboard` binary: one process serves everything.

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
    /// Create one `mcp` connector per server of a Claude Desktop, Cursor or VS Code
    /// config file (`mcpServers`), reporting each as created, skipped or refused.
    /// Exits 1 when any server was refused.
    ImportMcpConfig {
        #[command(flatten)]
        common: Common,
        /// The JSON file, e.g. ~/Library/Application Support/Claude/claude_desktop_config.json.
        file: std::path::PathBuf,
        /// Whose connectors: an API key of the store (default: the admin key in the data dir).
        #[arg(long, env = "SWITCHBOARD_API_KEY", hide_env_values = true)]
        api_key: Option<String>,
        /// Create personal connectors (yours alone) instead of shared ones.
        #[arg(long)]
        personal: bool,
    },
    /// Re-encrypt every stored secret under a new master key.
    RotateKey {
        #[command(flatten)]
        common: Common,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
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
            Command::ImportMcpConfig {
                common,
                file,
                api_key,
                personal,
            } => serve::import_mcp_config(common, file, api_key, personal).await,
            Command::Mcp {
                common,
                api_key,
                naming,
            } => serve::mcp_stdio(common, api_key, naming).await,
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
