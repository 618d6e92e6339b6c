//! The HTTP surfaces over the hub: the REST API under `/api` and MCP at `/mcp`
//! (later the web UI). Handlers stay thin: parse, call a hub service, render.

pub mod api;
pub mod mcp;
mod openapi;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use switchboard_runtime::Hub;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use mcp::resource::ResourceServerSettings;
pub use mcp::McpSettings;
pub use openapi::ApiDoc;

/// Largest request body accepted anywhere; bigger ones get 413 with a clear message.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
    /// Open sessions of the legacy HTTP+SSE MCP transport.
    pub sse_sessions: mcp::legacy_sse::SseSessions,
    /// Validates external OAuth access tokens on `/mcp`, when configured.
    pub resource_server: Option<mcp::resource::TokenValidator>,
}

/// The whole HTTP surface. `shutdown` closes MCP streams so a graceful stop never
/// waits on a client's open SSE connection.
pub fn router(hub: Hub, mcp: &McpSettings, shutdown: CancellationToken) -> Router {
    let state = AppState {
        hub,
        sse_sessions: Default::default(),
        resource_server: mcp
            .resource_server
            .clone()
            .map(mcp::resource::TokenValidator::new),
    };
    Router::new()
        .nest("/api", api::router(state.clone()))
        .route(
            switchboard_runtime::hub::CLIENT_METADATA_PATH,
            axum::routing::get(api::oauth::client_metadata),
        )
        .merge(mcp::router(state.clone(), mcp, shutdown))
        .with_state(state)
}

/// Serves with default settings until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    hub: Hub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, hub, McpSettings::default(), shutdown).await
}

/// Serves until `shutdown` resolves, then drains in-flight requests and the audit queue.
pub async fn serve_with(
    listener: TcpListener,
    hub: Hub,
    mcp: McpSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let token = CancellationToken::new();
    let app = router(hub.clone(), &mcp, token.clone())
        .into_make_service_with_connect_info::<SocketAddr>();
    let stop = token.clone();
    tokio::spawn(async move {
        shutdown.await;
        stop.cancel();
    });
    // Without TCP_NODELAY a response written in two parts (an SSE stream's headers,
    // then its event) waits for the client's delayed ACK: 40 ms per call.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {e}");
        }
    });
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { token.cancelled().await })
        .await?;
    hub.flush().await;
    Ok(())
}
