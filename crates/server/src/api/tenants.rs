use axum::extract::State;
use axum::http::StatusCode;
use switchboard_runtime::hub::{NewTenant, NewUser, TenantInput, UserInput};
use switchboard_runtime::Caller;

use super::{ok, ApiError, ApiJson, ApiOk, AuthedCaller};
use crate::AppState;

/// Create a tenant (platform admins); answers with its first admin's API key.
#[utoipa::path(post, path = "/api/tenants", tag = "tenants", request_body = TenantInput,
    responses((status = 201, body = NewTenant), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    ApiJson(input): ApiJson<TenantInput>,
) -> Result<ApiOk<NewTenant>, ApiError> {
    Ok(ApiOk(
        StatusCode::CREATED,
        state.hub.create_tenant(&caller, input).await?,
    ))
}

/// Add a user to your tenant (admins); answers with the user's first API key.
#[utoipa::path(post, path = "/api/users", tag = "tenants", request_body = UserInput,
    responses((status = 201, body = NewUser), (status = 403), (status = 409)), security(("bearer" = [])))]
pub async fn create_user(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    ApiJson(input): ApiJson<UserInput>,
) -> Result<ApiOk<NewUser>, ApiError> {
    Ok(ApiOk(
        StatusCode::CREATED,
        state.hub.create_user(&caller, input).await?,
    ))
}

/// Who the key belongs to.
#[utoipa::path(get, path = "/api/me", tag = "tenants", responses((status = 200, body = Object)), security(("bearer" = [])))]
pub async fn me(AuthedCaller(caller): AuthedCaller) -> ApiOk<Caller> {
    ok(caller)
}
