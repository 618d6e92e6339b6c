//! REST API: every response is `{"ok": true, "data": …}` or
//! `{"ok": false, "error": {"code", "message"}}` with a fitting status.

pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod catalog;
pub(crate) mod connectors;
pub(crate) mod health;
pub(crate) mod keys;
pub(crate) mod oauth;
pub(crate) mod openapi_import;
pub(crate) mod profiles;
pub(crate) mod tenants;

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use switchboard_contract::{ConnectorError, Envelope, ErrorCode};

use crate::{AppState, MAX_BODY_BYTES};

pub use auth::AuthedCaller;

pub fn router(state: AppState) -> Router<AppState> {
    let authed = Router::new()
        // A type's definition may carry a whole OpenAPI document (GitHub's is 13 MB).
        .route(
            "/connector-types",
            get(catalog::list)
                .post(catalog::create)
                .layer(DefaultBodyLimit::max(openapi_import::body_limit())),
        )
        .route(
            "/connector-types/parse-oas",
            post(openapi_import::parse_oas)
                .layer(DefaultBodyLimit::max(openapi_import::body_limit())),
        )
        .route(
            "/connector-types/{id}",
            get(catalog::get_one)
                .put(catalog::update)
                .delete(catalog::delete)
                .layer(DefaultBodyLimit::max(openapi_import::body_limit())),
        )
        .route("/connector-types/{id}/definition", get(catalog::definition))
        .route(
            "/connector-types/{id}/capabilities",
            get(catalog::capabilities),
        )
        .route(
            "/connectors",
            get(connectors::list).post(connectors::create),
        )
        .route(
            "/connectors/{id}",
            get(connectors::get_one)
                .patch(connectors::update)
                .delete(connectors::delete),
        )
        .route("/connectors/import", post(connectors::import))
        .route("/connectors/{id}/test", post(connectors::test))
        .route("/connectors/{id}/execute", post(connectors::execute))
        .route("/keys", get(keys::list).post(keys::create))
        .route("/keys/{id}", axum::routing::delete(keys::revoke))
        .route("/profiles", get(profiles::list).post(profiles::create))
        .route(
            "/profiles/{id}",
            get(profiles::get_one)
                .put(profiles::replace)
                .delete(profiles::delete),
        )
        .route("/users", post(tenants::create_user))
        .route("/tenants", post(tenants::create))
        .route("/me", get(tenants::me))
        .route("/audit", get(audit::list))
        .route("/oauth/apps", get(oauth::list_apps).post(oauth::create_app))
        .route("/oauth/apps/mcp", post(oauth::create_mcp_app))
        .route("/oauth/apps/{id}", axum::routing::delete(oauth::delete_app))
        .route("/oauth/start", post(oauth::start))
        .route(
            "/connectors/{id}/oauth",
            get(oauth::connections).delete(oauth::disconnect),
        )
        .route_layer(middleware::from_fn_with_state(state, auth::require_key));
    Router::new()
        .route("/health", get(health::health))
        .route("/openapi.json", get(health::openapi))
        .route("/oauth/callback", get(oauth::callback))
        .merge(authed)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

async fn not_found() -> ApiError {
    ConnectorError::not_found("no such API route; see /api/openapi.json").into()
}

/// A successful answer in the envelope.
pub struct ApiOk<T>(pub StatusCode, pub T);

impl<T: Serialize> IntoResponse for ApiOk<T> {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"ok": true, "data": self.1}))).into_response()
    }
}

pub fn ok<T: Serialize>(data: T) -> ApiOk<T> {
    ApiOk(StatusCode::OK, data)
}

/// A failed answer: status from the error code (unless overridden), the error in the envelope.
#[derive(Debug)]
pub struct ApiError {
    pub error: ConnectorError,
    pub status: Option<StatusCode>,
}

impl From<ConnectorError> for ApiError {
    fn from(error: ConnectorError) -> Self {
        ApiError {
            error,
            status: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status.unwrap_or_else(|| {
            StatusCode::from_u16(self.error.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        });
        let mut resp = (status, Json(json!({"ok": false, "error": self.error}))).into_response();
        add_retry_after(&mut resp, self.error.retry_after_ms);
        if self.error.code == ErrorCode::Unauthorized {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"switchboard\""),
            );
        }
        resp
    }
}

fn add_retry_after(resp: &mut Response, retry_after_ms: Option<u64>) {
    if let Some(ms) = retry_after_ms {
        let secs = ms.div_ceil(1000).max(1);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
}

/// A connector's envelope, with the HTTP status its outcome implies.
pub struct EnvelopeResponse(pub Envelope);

impl IntoResponse for EnvelopeResponse {
    fn into_response(self) -> Response {
        let status = match &self.0.error {
            None => StatusCode::OK,
            Some(e) => StatusCode::from_u16(e.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        };
        let retry = self.0.error.as_ref().and_then(|e| e.retry_after_ms);
        let mut resp = (status, Json(self.0)).into_response();
        add_retry_after(&mut resp, retry);
        resp
    }
}

/// `Json<T>` whose rejections are envelopes with the exact reason (bad syntax,
/// unknown field, wrong type, missing content type, body too large).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let error = match r {
        JsonRejection::JsonDataError(e) => ConnectorError::invalid_input(format!(
            "the request body does not match what this endpoint takes: {}",
            e.body_text()
                .trim_start_matches("Failed to deserialize the JSON body into the target type: ")
        )),
        JsonRejection::JsonSyntaxError(e) => ConnectorError::invalid_input(format!(
            "the request body is not valid JSON: {}",
            e.body_text()
                .trim_start_matches("Failed to parse the request body as JSON: ")
        )),
        JsonRejection::MissingJsonContentType(_) => ConnectorError::invalid_input(
            "send the body as JSON with the header Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return ApiError {
                error: ConnectorError::invalid_input(format!(
                    "the request body is larger than the {} KiB limit",
                    MAX_BODY_BYTES / 1024
                )),
                status: Some(StatusCode::PAYLOAD_TOO_LARGE),
            };
        }
        other => ConnectorError::invalid_input(format!(
            "could not read the request body: {}",
            other.body_text()
        )),
    };
    error.into()
}
