//! The `switchboard` binary: one process serves everything.

mod mcp_client;
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

/// OAuth: the hub's public URL (redirect URIs, connect links) and, optionally, an
/// external authorization server whose JWT access tokens `/mcp` accepts beside API keys.
#[derive(clap::Args, Clone, Default)]
pub struct OAuthArgs {
    /// The hub's public origin, e.g. https://hub.example.com (OAuth redirect URIs are
    /// <public-url>/api/oauth/callback). Defaults to the request's Host.
    #[arg(long, env = "SWITCHBOARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Issuer of the access tokens /mcp accepts (enables the resource server).
    #[arg(long, env = "SWITCHBOARD_MCP_OAUTH_ISSUER", requires_all = ["mcp_oauth_audience", "mcp_oauth_jwks_url"])]
    pub mcp_oauth_issuer: Option<String>,
    /// This MCP endpoint's resource identifier, e.g. https://hub.example.com/mcp: tokens need it in `aud`.
    #[arg(long, env = "SWITCHBOARD_MCP_OAUTH_AUDIENCE")]
    pub mcp_oauth_audience: Option<String>,
    /// The issuer's JWKS URL.
    #[arg(long, env = "SWITCHBOARD_MCP_OAUTH_JWKS_URL")]
    pub mcp_oauth_jwks_url: Option<String>,
    /// Scopes every token must carry (comma-separated).
    #[arg(long, env = "SWITCHBOARD_MCP_OAUTH_SCOPES", value_delimiter = ',')]
    pub mcp_oauth_scopes: Vec<String>,
    /// Claim naming the tenant (id or name).
    #[arg(
        long,
        env = "SWITCHBOARD_MCP_OAUTH_TENANT_CLAIM",
        default_value = "tenant"
    )]
    pub mcp_oauth_tenant_claim: String,
    /// Claim naming the user in that tenant (id or name).
    #[arg(long, env = "SWITCHBOARD_MCP_OAUTH_USER_CLAIM", default_value = "sub")]
    pub mcp_oauth_user_claim: String,
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
        #[command(flatten)]
        oauth: OAuthArgs,
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
    /// Connect to an MCP server with the hub's MCP client, list its tools and
    /// optionally call one; authorizes with OAuth when the server asks (prints the
    /// URL to open, waits for the browser's redirect on a loopback port).
    McpClient(mcp_client::McpClientArgs),
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
                oauth,
            } => serve::serve(common, listen, conformance_profile, oauth).await,
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
            Command::McpClient(args) => mcp_client::run(args).await,
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
