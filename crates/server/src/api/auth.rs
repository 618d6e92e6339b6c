//! Bearer API-key authentication for every `/api` route but health and the OpenAPI document.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use switchboard_contract::{ConnectorError, ErrorCode};
use switchboard_runtime::Caller;

use super::ApiError;
use crate::AppState;

fn unauthorized(msg: &str) -> Response {
    ApiError::from(ConnectorError::new(ErrorCode::Unauthorized, msg)).into_response()
}

pub async fn require_key(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return unauthorized("missing API key: send the header Authorization: Bearer <key>");
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return unauthorized("the Authorization header must be 'Bearer <key>'");
    };
    match state.hub.authenticate(token).await {
        Ok(Some(caller)) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Ok(None) => unauthorized("the API key is invalid or revoked"),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The authenticated caller, put in place by `require_key`.
pub struct AuthedCaller(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for AuthedCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(AuthedCaller)
            .ok_or_else(|| ConnectorError::new(ErrorCode::Unauthorized, "missing API key").into())
    }
}
