use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use switchboard_contract::Envelope;
use switchboard_runtime::hub::{
    ConnectorInput, ConnectorPatch, ConnectorView, ExecuteRequest, ImportReport,
};
use switchboard_store::model::Visibility;

use super::{ok, ApiError, ApiJson, ApiOk, AuthedCaller, EnvelopeResponse};
use crate::AppState;

/// The connectors the caller may use: the tenant's shared ones and their own.
#[utoipa::path(get, path = "/api/connectors", tag = "connectors",
    responses((status = 200, body = Vec<ConnectorView>)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
) -> Result<ApiOk<Vec<ConnectorView>>, ApiError> {
    Ok(ok(state.hub.list_connectors(&caller).await?))
}

/// Configure a connector of a catalog type. Secrets are encrypted and never returned.
#[utoipa::path(post, path = "/api/connectors", tag = "connectors", request_body = ConnectorInput,
    responses((status = 201, body = ConnectorView), (status = 400), (status = 409)), security(("bearer" = [])))]
pub async fn create(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    ApiJson(input): ApiJson<ConnectorInput>,
) -> Result<ApiOk<ConnectorView>, ApiError> {
    let view = state.hub.create_connector(&caller, input).await?;
    Ok(ApiOk(StatusCode::CREATED, view))
}

/// One connector, by id or name.
#[utoipa::path(get, path = "/api/connectors/{id}", tag = "connectors",
    responses((status = 200, body = ConnectorView), (status = 404)), security(("bearer" = [])))]
pub async fn get_one(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<ConnectorView>, ApiError> {
    Ok(ok(state.hub.get_connector(&caller, &id).await?))
}

/// Change a connector. `config` is merged; the secret placeholder keeps a stored secret.
#[utoipa::path(patch, path = "/api/connectors/{id}", tag = "connectors", request_body = ConnectorPatch,
    responses((status = 200, body = ConnectorView), (status = 400), (status = 404), (status = 409)), security(("bearer" = [])))]
pub async fn update(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ConnectorPatch>,
) -> Result<ApiOk<ConnectorView>, ApiError> {
    Ok(ok(state.hub.update_connector(&caller, &id, patch).await?))
}

#[utoipa::path(delete, path = "/api/connectors/{id}", tag = "connectors",
    responses((status = 200), (status = 404)), security(("bearer" = [])))]
pub async fn delete(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<ApiOk<serde_json::Value>, ApiError> {
    state.hub.delete_connector(&caller, &id).await?;
    Ok(ok(serde_json::json!({"deleted": id})))
}

/// Run `health` and record the connector's status (`connected` or `error` with the reason).
#[utoipa::path(post, path = "/api/connectors/{id}/test", tag = "connectors",
    responses((status = 200, description = "The health envelope")), security(("bearer" = [])))]
pub async fn test(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
) -> Result<EnvelopeResponse, ApiError> {
    Ok(EnvelopeResponse(
        state.hub.test_connector(&caller, &id).await?,
    ))
}

/// Run a command; answers with the connector envelope (SPEC section 2).
#[utoipa::path(post, path = "/api/connectors/{id}/execute", tag = "connectors", request_body = ExecuteRequest,
    responses((status = 200, description = "Envelope with ok true"), (status = 400, description = "Envelope with the error")),
    security(("bearer" = [])))]
pub async fn execute(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ExecuteRequest>,
) -> EnvelopeResponse {
    let env: Envelope = state.hub.execute(&caller, &id, req, None).await;
    EnvelopeResponse(env)
}

/// Import the `mcpServers` file of Claude Desktop, Cursor or VS Code: one `mcp`
/// connector per server, each reported as created, skipped or refused with why.
/// `?visibility=personal` makes them yours alone (default: shared, admins only).
#[utoipa::path(post, path = "/api/connectors/import", tag = "connectors",
    request_body(content = Object, description = "A client config file: {\"mcpServers\": {name: {command, args, env} | {url, headers}}}"),
    params(("visibility" = Option<String>, Query, description = "tenant (default) or personal")),
    responses((status = 200, body = ImportReport), (status = 400)), security(("bearer" = [])))]
pub async fn import(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Query(query): Query<ImportQuery>,
    ApiJson(doc): ApiJson<serde_json::Value>,
) -> Result<ApiOk<ImportReport>, ApiError> {
    let visibility = match query.visibility.as_deref() {
        None | Some("tenant") => None,
        Some("personal") => Some(Visibility::Personal),
        Some(other) => {
            return Err(switchboard_contract::ConnectorError::invalid_input(format!(
                "visibility '{other}' is not tenant or personal"
            ))
            .into())
        }
    };
    Ok(ok(state
        .hub
        .import_mcp_config(&caller, &doc, visibility)
        .await?))
}

#[derive(Debug, serde::Deserialize)]
pub struct ImportQuery {
    visibility: Option<String>,
}
