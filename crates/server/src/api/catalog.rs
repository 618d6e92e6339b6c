use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::Value;
use switchboard_runtime::hub::{CatalogEntry, TypeQuery};

use super::{ok, ApiError, ApiOk, AuthedCaller};
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
