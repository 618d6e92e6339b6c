use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::Value;

use super::{ok, ApiError, ApiOk, AuthedCaller};
use crate::AppState;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    /// At most this many entries (1 to 500, default 100).
    pub limit: Option<i64>,
    /// Only entries older than this (RFC 3339 or epoch milliseconds), for paging back.
    pub before: Option<String>,
    pub connector_id: Option<String>,
    /// e.g. `connector.execute`
    pub action: Option<String>,
}

/// The tenant's audit log, newest first (admins).
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Vec<Object>), (status = 403)), security(("bearer" = [])))]
pub async fn list(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    Query(q): Query<AuditParams>,
) -> Result<ApiOk<Vec<Value>>, ApiError> {
    let entries = state
        .hub
        .list_audit(
            &caller,
            q.limit,
            q.before.as_deref(),
            q.connector_id,
            q.action,
        )
        .await?;
    Ok(ok(entries))
}
