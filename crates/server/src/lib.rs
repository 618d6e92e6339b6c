//! The HTTP surfaces over the hub: the REST API under `/api` (and, in later issues,
//! MCP and the web UI). Handlers stay thin: parse, call a hub service, render.

pub mod api;
mod openapi;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use switchboard_runtime::Hub;
use tokio::net::TcpListener;

pub use openapi::ApiDoc;

/// Largest request body accepted anywhere; bigger ones get 413 with a clear message.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub hub: Hub,
}

pub fn router(hub: Hub) -> Router {
    let state = AppState { hub };
    Router::new()
        .nest("/api", api::router(state.clone()))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then drains in-flight requests and the audit queue.
pub async fn serve(
    listener: TcpListener,
    hub: Hub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(hub.clone()).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    hub.flush().await;
    Ok(())
}
