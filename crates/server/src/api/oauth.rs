//! OAuth apps, the connect flow (`/oauth/start`, `/oauth/callback`) and connections.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use switchboard_runtime::hub::{
    CallbackOutcome, CallbackParams, McpOAuthAppInput, OAuthAppInput, OAuthAppView,
    OAuthConnectionView, OAuthStartInput, OAuthStartView,
};

use super::{ok, ApiError, ApiJson, ApiOk, AuthedCaller};
use crate::AppState;

/// Register an OAuth client: endpoints given, from a provider preset, or discovered at `issuer`.
#[utoipa::path(post, path = "/api/oauth/apps", tag = "oauth", request_body = OAuthAppInput,
    responses((status = 201, body = OAuthAppView), (status = 400), (status = 409)), security(("bearer" = [])))]
pub async fn create_app(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    ApiJson(input): ApiJson<OAuthAppInput>,
) -> Result<ApiOk<OAuthAppView>, ApiError> {
    Ok(ApiOk(
        StatusCode::CREATED,
        state.hub.create_oauth_app(&caller, input).await?,
    ))
}

/// Register an OAuth client for an MCP server behind OAuth: its authorization server is
/// discovered from the server (RFC 9728, RFC 8414); the client is the one given, the hub's
/// client ID metadata document, or dynamically registered (RFC 7591).
#[utoipa::path(post, path = "/api/oauth/apps/mcp", tag = "oauth", request_body = McpOAuthAppInput,
    responses((status = 201, body = OAuthAppView), (status = 400), (status = 502)), security(("bearer" = [])))]
pub async fn create_mcp_app(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    ApiJson(input): ApiJson<McpOAuthAppInput>,
) -> Result<ApiOk<OAuthAppView>, ApiError> {
    Ok(ApiOk(
        StatusCode::CREATED,
        state.hub.register_mcp_oauth_app(&caller, input).await?,
    ))
}

/// The hub's OAuth client ID metadata document (its `client_id` is this URL).
#[utoipa::path(get, path = "/oauth/client-metadata.json", tag = "oauth",
    responses((status = 200), (status = 404)))]
pub async fn client_metadata(State(state): State<AppState>) -> Response {
    match state.hub.client_metadata_document() {
        Some(doc) => (
            [(header::CACHE_CONTROL, "public, max-age=3600")],
            axum::Json(doc),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(serde_json::json!({"error": {"code": "not_found", "message": "the hub's public URL is not set (--public-url), so it has no client metadata document"}})),
        )
            .into_response(),
    }
}

#[utoipa::path(get, path = "/api/oauth/apps", tag = "oauth",
    responses((status = 200, body = Vec<OAuthAppView>)), security(("bearer" = [])))]
pub async fn list_apps(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
) -> Result<ApiOk<Vec<OAuthAppView>>, ApiError> {
    Ok(ok(state.hub.list_oauth_apps(&caller).await?))
}

#[utoipa::path(delete, path = "/api/oauth/apps/{id}", tag = "oauth",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
pub async fn delete_app(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<serde_json::Value>, ApiError> {
    state.hub.delete_oauth_app(&caller, &id).await?;
    Ok(ok(serde_json::json!({"deleted": id})))
}

/// The hub's public origin: configured, else from the request's Host.
fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.hub.settings().public_url {
        return url.clone();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https" || *p == "http")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

/// Start connecting an account: returns the provider's authorization URL (PKCE S256).
#[utoipa::path(post, path = "/api/oauth/start", tag = "oauth", request_body = OAuthStartInput,
    responses((status = 200, body = OAuthStartView), (status = 400), (status = 404)), security(("bearer" = [])))]
pub async fn start(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<OAuthStartInput>,
) -> Result<ApiOk<OAuthStartView>, ApiError> {
    let base = public_base(&state, &headers);
    Ok(ok(state.hub.oauth_start(&caller, input, &base).await?))
}

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '&' => "&amp;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&#39;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// Where the provider sends the browser back. Answers a small page in words.
#[utoipa::path(get, path = "/api/oauth/callback", tag = "oauth",
    responses((status = 200, description = "connected"), (status = 400, description = "denied, expired or unknown state")))]
pub async fn callback(
    State(state): State<AppState>,
    Query(params): Query<CallbackParams>,
) -> Response {
    let outcome = state.hub.oauth_callback(params).await;
    let (status, title, words) = match &outcome {
        CallbackOutcome::Connected { connector } => (
            StatusCode::OK,
            "Connected",
            format!("Your account is connected to '{}'. You can close this window.", escape(connector)),
        ),
        CallbackOutcome::Denied { reason } => (
            StatusCode::BAD_REQUEST,
            "Not connected",
            format!("Access was not granted: {}. Nothing was stored; start again to connect.", escape(reason)),
        ),
        CallbackOutcome::StateExpired => (
            StatusCode::BAD_REQUEST,
            "Link expired",
            "This sign-in link has expired. Nothing was stored; start connecting again.".to_string(),
        ),
        CallbackOutcome::StateUnknown => (
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This sign-in link is not valid or was already used. Nothing was stored; start connecting again.".to_string(),
        ),
        CallbackOutcome::Failed { reason } => (
            StatusCode::BAD_GATEWAY,
            "Not connected",
            format!("Connecting failed: {}. Nothing was stored; try again.", escape(reason)),
        ),
    };
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} · Switchboard</title></head>\
         <body><h1>{title}</h1><p>{words}</p></body></html>"
    );
    let mut resp = (status, Html(page)).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    resp
}

#[utoipa::path(get, path = "/api/connectors/{id}/oauth", tag = "oauth",
    responses((status = 200, body = Vec<OAuthConnectionView>), (status = 404)), security(("bearer" = [])))]
pub async fn connections(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<Vec<OAuthConnectionView>>, ApiError> {
    Ok(ok(state.hub.oauth_connections(&caller, &id).await?))
}

#[derive(Debug, Deserialize)]
pub struct DisconnectQuery {
    #[serde(default)]
    shared: bool,
}

/// Disconnect the caller's account (or the shared one with `?shared=true`), revoking it.
#[utoipa::path(delete, path = "/api/connectors/{id}/oauth", tag = "oauth",
    params(("shared" = Option<bool>, Query, description = "the connector's shared account")),
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
pub async fn disconnect(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
    Query(q): Query<DisconnectQuery>,
) -> Result<ApiOk<serde_json::Value>, ApiError> {
    let done = state.hub.oauth_disconnect(&caller, &id, q.shared).await?;
    Ok(ok(serde_json::json!({"disconnected": done})))
}
