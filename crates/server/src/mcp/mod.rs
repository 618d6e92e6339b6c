//! MCP over Streamable HTTP at `/mcp` (and later `/mcp/<profile>`), both protocol
//! revisions on one endpoint, built on rmcp. The HTTP layer authenticates and
//! leaves the caller in the request; `handler::McpFrontend` turns MCP requests into
//! hub calls.

mod auth;
mod bridge;
pub mod discovery;
pub mod handler;
pub mod tools;

use std::sync::Arc;

use axum::middleware;
use axum::Router;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::AppState;
pub use handler::McpFrontend;
pub use tools::Naming;

/// Which `Host` and `Origin` values the MCP endpoint accepts (DNS-rebinding defence).
#[derive(Debug, Clone, Default)]
pub struct McpSettings {
    /// Hostnames or `host:port` authorities; loopback names are always included.
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`scheme://host:port`, `:*` for any port); loopback origins are
    /// always included. A request with any other `Origin` gets 403.
    pub allowed_origins: Vec<String>,
}

impl McpSettings {
    /// Reads `SWITCHBOARD_ALLOWED_HOSTS` and `SWITCHBOARD_ALLOWED_ORIGINS` (comma lists).
    pub fn from_env() -> Self {
        let list = |var: &str| -> Vec<String> {
            std::env::var(var)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        };
        McpSettings {
            allowed_hosts: list("SWITCHBOARD_ALLOWED_HOSTS"),
            allowed_origins: list("SWITCHBOARD_ALLOWED_ORIGINS"),
        }
    }

    fn rmcp_config(&self, shutdown: CancellationToken) -> StreamableHttpServerConfig {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
            .map(String::from)
            .to_vec();
        hosts.extend(self.allowed_hosts.iter().cloned());
        let mut origins: Vec<String> =
            ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"]
                .map(String::from)
                .to_vec();
        origins.extend(self.allowed_origins.iter().cloned());
        let mut config = StreamableHttpServerConfig::default()
            .with_allowed_hosts(hosts)
            .with_allowed_origins(origins)
            .enforce_origin_validation();
        config.cancellation_token = shutdown;
        config.max_request_body_bytes = crate::MAX_BODY_BYTES;
        config
    }
}

pub fn router(
    state: AppState,
    settings: &McpSettings,
    shutdown: CancellationToken,
) -> Router<AppState> {
    let hub = state.hub.clone();
    let service = StreamableHttpService::new(
        move || Ok(McpFrontend::new(hub.clone())),
        Arc::new(LocalSessionManager::default()),
        settings.rmcp_config(shutdown),
    );
    Router::new()
        .route_service("/mcp", service.clone())
        .route_service("/mcp/{profile}", service)
        .route_layer(middleware::from_fn_with_state(state, auth::require_caller))
}
