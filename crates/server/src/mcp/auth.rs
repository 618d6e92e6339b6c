//! Who is calling MCP, and through which profile. The caller (and profile) go into
//! the request's extensions, where rmcp hands them to the handler with the rest of
//! the HTTP request parts. Anonymous profiles admit callers without a key.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use switchboard_runtime::Hub;

use super::resource::{TokenRejection, TokenValidator};
use crate::AppState;

fn rpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    let mut resp = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"switchboard\""),
        );
    }
    resp
}

/// A 401 with the RFC 9728 `resource_metadata` challenge when an authorization server
/// is configured, so MCP clients can discover where to get a token.
fn unauthorized_with(validator: Option<&TokenValidator>, message: &str, invalid: bool) -> Response {
    let mut resp = rpc_error(StatusCode::UNAUTHORIZED, -32001, message);
    if let Some(v) = validator {
        let error = invalid.then_some(("invalid_token", message));
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, v.challenge(error, None));
    }
    resp
}

fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.matches('.').count() == 2
}

pub async fn require_caller(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let path = req.uri().path();
    let profile_name = path
        .strip_prefix("/mcp/")
        .or_else(|| path.strip_prefix("/sse/"))
        .map(|p| p.trim_end_matches('/').to_string())
        .filter(|p| !p.is_empty());
    let store = state.hub.store();
    let validator = state.resource_server.as_ref();
    let unauthorized = |message: &str| unauthorized_with(validator, message, false);

    let caller = match &token {
        Some(t) if validator.is_some() && looks_like_jwt(t) => {
            let v = validator.expect("checked above");
            match v.validate(&state.hub, t).await {
                Ok(c) => Some(c),
                Err(TokenRejection::Invalid(m)) => return unauthorized_with(validator, &m, true),
                Err(TokenRejection::Scope(scope)) => {
                    let message = format!("the token lacks a required scope: {scope}");
                    let mut resp = rpc_error(StatusCode::FORBIDDEN, -32001, &message);
                    resp.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        v.challenge(Some(("insufficient_scope", &message)), Some(&scope)),
                    );
                    return resp;
                }
                Err(TokenRejection::NoUser(m)) => {
                    return rpc_error(StatusCode::FORBIDDEN, -32001, &m)
                }
                Err(TokenRejection::Unavailable(m)) => {
                    return rpc_error(StatusCode::SERVICE_UNAVAILABLE, -32603, &m)
                }
            }
        }
        Some(t) => match state.hub.authenticate(t).await {
            Ok(Some(c)) => Some(c),
            Ok(None) => return unauthorized("the API key is invalid or revoked"),
            Err(e) => return rpc_error(StatusCode::SERVICE_UNAVAILABLE, -32603, &e.message),
        },
        None => None,
    };
    let Some(name) = profile_name else {
        let Some(caller) = caller else {
            return unauthorized("missing API key: send the header Authorization: Bearer <key>");
        };
        req.extensions_mut().insert(caller);
        return next.run(req).await;
    };

    // A profile of the caller's own tenant, else an anonymous one.
    let own = match &caller {
        Some(c) => store.get_profile(&c.tenant_id, &name).await.ok().flatten(),
        None => None,
    };
    let (caller, profile) = match (own, caller) {
        (Some(p), Some(c)) => (c, p),
        (None, caller) => match store.get_anonymous_profile(&name).await {
            Ok(Some(p)) => (Hub::anonymous_caller(&p), p),
            Ok(None) if caller.is_none() => {
                return unauthorized("missing API key: send the header Authorization: Bearer <key>")
            }
            Ok(None) => {
                return rpc_error(
                    StatusCode::NOT_FOUND,
                    -32601,
                    &format!("no MCP profile '{name}' in this tenant: see GET /api/profiles"),
                )
            }
            Err(_) => {
                return rpc_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    -32603,
                    "the hub's store is unavailable",
                )
            }
        },
        (Some(_), None) => unreachable!("a tenant profile is only looked up with a caller"),
    };
    req.extensions_mut().insert(caller);
    req.extensions_mut().insert(profile);
    next.run(req).await
}
