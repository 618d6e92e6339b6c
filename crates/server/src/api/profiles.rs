use axum::extract::{Path, State};
use axum::http::StatusCode;
use switchboard_runtime::hub::{ProfileInput, ProfileView};

use super::{ok, ApiError, ApiJson, ApiOk, AuthedCaller};
use crate::AppState;

/// Create a profile: an MCP endpoint at `/mcp/<name>` over a subset of tools (admins).
#[utoipa::path(post, path = "/api/profiles", tag = "profiles", request_body = ProfileInput,
    responses((status = 201, body = ProfileView), (status = 400), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    ApiJson(input): ApiJson<ProfileInput>,
) -> Result<ApiOk<ProfileView>, ApiError> {
    Ok(ApiOk(
        StatusCode::CREATED,
        state.hub.create_profile(&caller, input).await?,
    ))
}

#[utoipa::path(get, path = "/api/profiles", tag = "profiles", responses((status = 200, body = Vec<ProfileView>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
) -> Result<ApiOk<Vec<ProfileView>>, ApiError> {
    Ok(ok(state.hub.list_profiles(&caller).await?))
}

#[utoipa::path(get, path = "/api/profiles/{id}", tag = "profiles", responses((status = 200, body = ProfileView), (status = 404)), security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<ProfileView>, ApiError> {
    Ok(ok(state.hub.get_profile(&caller, &id).await?))
}

/// Replace a profile's definition (admins).
#[utoipa::path(put, path = "/api/profiles/{id}", tag = "profiles", request_body = ProfileInput,
    responses((status = 200, body = ProfileView), (status = 400), (status = 404)), security(("bearer" = [])))]
pub async fn replace(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ProfileInput>,
) -> Result<ApiOk<ProfileView>, ApiError> {
    Ok(ok(state.hub.replace_profile(&caller, &id, input).await?))
}

#[utoipa::path(delete, path = "/api/profiles/{id}", tag = "profiles", responses((status = 200), (status = 404)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<serde_json::Value>, ApiError> {
    state.hub.delete_profile(&caller, &id).await?;
    Ok(ok(serde_json::json!({"deleted": id})))
}
