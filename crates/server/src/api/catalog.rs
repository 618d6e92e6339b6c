use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use switchboard_runtime::hub::{CatalogEntry, ConnectorTypeInput, ConnectorTypeView, TypeQuery};

use super::{ok, ApiError, ApiJson, ApiOk, AuthedCaller};
use crate::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only enabled types (default true).
    pub enabled_only: Option<bool>,
}

/// The catalog of connector types.
#[utoipa::path(get, path = "/api/connector-types", tag = "catalog", params(ListQuery),
    responses((status = 200, body = Vec<CatalogEntry>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    _caller: AuthedCaller,
    Query(q): Query<ListQuery>,
) -> Result<ApiOk<Vec<CatalogEntry>>, ApiError> {
    let types = state
        .hub
        .list_types(TypeQuery {
            enabled_only: q.enabled_only.unwrap_or(true),
        })
        .await?;
    Ok(ok(types))
}

/// One catalog entry.
#[utoipa::path(get, path = "/api/connector-types/{id}", tag = "catalog",
    responses((status = 200, body = CatalogEntry), (status = 404)), security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    _caller: AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<CatalogEntry>, ApiError> {
    Ok(ok(state.hub.get_type(&id).await?))
}

/// Every command of a type with its input schema, annotations and deprecation.
#[utoipa::path(get, path = "/api/connector-types/{id}/capabilities", tag = "catalog",
    responses((status = 200, body = Object), (status = 404)), security(("bearer" = [])))]
pub async fn capabilities(
    State(state): State<AppState>,
    _caller: AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<Value>, ApiError> {
    Ok(ok(state.hub.type_capabilities(&id).await?))
}

/// Create a user-built connector type (platform admins): `executionModel` `script`
/// (with `scriptSource`), `external` (with `endpointUrl`) or `openapi`; `configSchema`
/// in seed 003's shape. Scripts are compiled now: syntax errors come back with line and column.
#[utoipa::path(post, path = "/api/connector-types", tag = "catalog", request_body = ConnectorTypeInput,
    responses((status = 201, body = ConnectorTypeView), (status = 400), (status = 403), (status = 409)),
    security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    ApiJson(input): ApiJson<ConnectorTypeInput>,
) -> Result<ApiOk<ConnectorTypeView>, ApiError> {
    let view = state.hub.create_type(&caller, input).await?;
    Ok(ApiOk(StatusCode::CREATED, view))
}

/// Change a user-built type (platform admins). Left-out keys keep their value. The
/// version must rise by at least the largest change (removed command or param, newly
/// required param, type change: major; added command or optional param: minor;
/// descriptions or implementation: patch); a smaller bump is refused naming each change
/// and the level it needs. `autoBump: true` sets the version. Built-in types only take `enabled`.
#[utoipa::path(put, path = "/api/connector-types/{id}", tag = "catalog", request_body = ConnectorTypeInput,
    responses((status = 200, body = ConnectorTypeView), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ConnectorTypeInput>,
) -> Result<ApiOk<ConnectorTypeView>, ApiError> {
    Ok(ok(state.hub.update_type(&caller, &id, input).await?))
}

/// Delete a user-built type no connector uses (platform admins).
#[utoipa::path(delete, path = "/api/connector-types/{id}", tag = "catalog",
    responses((status = 204), (status = 400), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.hub.delete_type(&caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A type's authoring definition: `configSchema`, `scriptSource`, `limits`, `endpointUrl`
/// (platform admins), ready to edit and send back with PUT.
#[utoipa::path(get, path = "/api/connector-types/{id}/definition", tag = "catalog",
    responses((status = 200, body = ConnectorTypeView), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn definition(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<ConnectorTypeView>, ApiError> {
    Ok(ok(state.hub.type_definition(&caller, &id).await?))
}
