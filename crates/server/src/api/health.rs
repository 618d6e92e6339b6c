use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use utoipa::OpenApi;

use super::{ok, ApiOk};
use crate::{ApiDoc, AppState};

/// Liveness and store reachability; needs no key.
#[utoipa::path(get, path = "/api/health", tag = "health", responses((status = 200, description = "Healthy")))]
pub async fn health(State(state): State<AppState>) -> ApiOk<Value> {
    let store = state.hub.store().tenant_count().await.is_ok();
    ok(json!({
        "status": if store { "ok" } else { "degraded" },
        "store": if store { "ok" } else { "unreachable" },
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

/// This API's OpenAPI document, generated from the handlers.
#[utoipa::path(get, path = "/api/openapi.json", tag = "health", responses((status = 200, description = "OpenAPI 3.1 document")))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
