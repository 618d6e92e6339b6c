//! MCP over Streamable HTTP at `/mcp` (and later `/mcp/<profile>`), both protocol
//! revisions on one endpoint, built on rmcp. The HTTP layer authenticates and
//! leaves the caller in the request; `handler::McpFrontend` turns MCP requests into
//! hub calls.

mod auth;
mod bridge;
pub mod discovery;
pub mod handler;
pub mod legacy_sse;
pub mod resource;
pub mod tools;

use std::sync::Arc;

use axum::extract::State;
use axum::middleware;
use axum::routing::{get, post};
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
    /// An external OAuth authorization server whose JWT access tokens `/mcp` accepts
    /// beside API keys.
    pub resource_server: Option<resource::ResourceServerSettings>,
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
            resource_server: None,
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
        // Stateless answers as plain JSON unless the handler streams notifications
        // first (rmcp then falls back to SSE): no stream set-up on the common path.
        config.json_response = true;
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
    let streamable = Router::new()
        .route_service("/mcp", service.clone())
        .route_service("/mcp/{profile}", service)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_caller,
        ));
    // rmcp checks Host and Origin for Streamable HTTP; the legacy transport is ours.
    let legacy = Router::new()
        .route("/sse", get(legacy_sse::open))
        .route("/sse/{profile}", get(legacy_sse::open))
        .route("/message", post(legacy_sse::message))
        .route_layer(middleware::from_fn_with_state(state, auth::require_caller))
        .route_layer(middleware::from_fn_with_state(
            Arc::new(settings.clone()),
            check_host_and_origin,
        ));
    streamable
        .merge(legacy)
        .route(
            "/.well-known/oauth-protected-resource",
            get(resource::metadata),
        )
        .route(
            "/.well-known/oauth-protected-resource/{*path}",
            get(resource::metadata),
        )
}

/// The part of a `Host` header or an origin's authority before any port.
fn hostname(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

/// DNS-rebinding defence for the legacy transport: the same rule rmcp applies to
/// Streamable HTTP, on host names (any port).
async fn check_host_and_origin(
    State(settings): State<Arc<McpSettings>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let allowed = |host: &str| {
        ["localhost", "127.0.0.1", "::1"].contains(&host)
            || settings.allowed_hosts.iter().any(|h| hostname(h) == host)
    };
    let host_ok = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|h| allowed(hostname(h)));
    let origin_ok = match req
        .headers()
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(origin) => {
            let authority = origin.split("://").nth(1).unwrap_or("");
            allowed(hostname(authority)) || settings.allowed_origins.iter().any(|o| o == origin)
        }
    };
    if host_ok && origin_ok {
        next.run(req).await
    } else {
        (
            axum::http::StatusCode::FORBIDDEN,
            "Host or Origin is not allowed",
        )
            .into_response()
    }
}
