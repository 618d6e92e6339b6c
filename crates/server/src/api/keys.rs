use axum::extract::{Path, State};
use axum::http::StatusCode;
use switchboard_runtime::hub::{KeyInput, KeyView, NewKey};

use super::{ok, ApiError, ApiJson, ApiOk, AuthedCaller};
use crate::AppState;

/// Create an API key for yourself; the token is in this answer only.
#[utoipa::path(post, path = "/api/keys", tag = "keys", request_body = KeyInput,
    responses((status = 201, body = NewKey)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    ApiJson(input): ApiJson<KeyInput>,
) -> Result<ApiOk<NewKey>, ApiError> {
    Ok(ApiOk(
        StatusCode::CREATED,
        state.hub.create_key(&caller, input).await?,
    ))
}

/// Keys of the tenant (admins) or your own (members); never the secret part.
#[utoipa::path(get, path = "/api/keys", tag = "keys", responses((status = 200, body = Vec<KeyView>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
) -> Result<ApiOk<Vec<KeyView>>, ApiError> {
    Ok(ok(state.hub.list_keys(&caller).await?))
}

#[utoipa::path(delete, path = "/api/keys/{id}", tag = "keys", responses((status = 200), (status = 404)), security(("bearer" = [])))]
pub async fn revoke(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<serde_json::Value>, ApiError> {
    state.hub.revoke_key(&caller, &id).await?;
    Ok(ok(serde_json::json!({"revoked": id})))
}
