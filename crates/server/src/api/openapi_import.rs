//! `POST /api/connector-types/parse-oas`: an OpenAPI 3.x document (or its URL) as a
//! draft connector type, for an admin to pick operations from.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use switchboard_contract::ConnectorError;
use switchboard_runtime::openapi::{limits_from_env, OasSource};

use super::{ok, ApiError, ApiOk, AuthedCaller};
use crate::AppState;

/// The document, or where to fetch it (through the hub's network policy).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParseOasInput {
    /// The OpenAPI 3.0 or 3.1 document: an object, or JSON or YAML text.
    #[schema(value_type = Object)]
    pub spec: Option<Value>,
    /// An http(s) URL to fetch the document from.
    pub url: Option<String>,
}

/// The largest request body this route takes: room for the largest document, escaped.
pub fn body_limit() -> usize {
    limits_from_env().max_document_bytes.saturating_mul(2)
}

/// Parse an OpenAPI 3.0/3.1 document into a draft type: one command per operation,
/// connection fields from its servers and security schemes, and warnings (by JSON
/// pointer) for the parts that were skipped. Swagger 2.0 is refused with advice.
#[utoipa::path(post, path = "/api/connector-types/parse-oas", tag = "catalog", request_body = ParseOasInput,
    responses((status = 200, description = "The draft: title, suggestedName, configSchema, config, securitySchemes, commands (name, operationId, method, path, access, annotations, inputSchema), warnings ({pointer, message})", body = Object),
        (status = 400, description = "Not a usable OpenAPI 3 document; `error.diagnostics.pointer` says where"),
        (status = 403), (status = 413)),
    security(("bearer" = [])))]
pub async fn parse_oas(
    State(state): State<AppState>,
    AuthedCaller(caller): AuthedCaller,
    body: Result<Bytes, BytesRejection>,
) -> Result<ApiOk<Value>, ApiError> {
    let body = body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError {
                error: ConnectorError::invalid_input(format!(
                    "the request body is larger than the {} MiB limit for OpenAPI documents (set SWITCHBOARD_OPENAPI_MAX_BYTES to raise it, or pass 'url')",
                    body_limit() / (1024 * 1024)
                )),
                status: Some(StatusCode::PAYLOAD_TOO_LARGE),
            }
        } else {
            ConnectorError::invalid_input(format!("could not read the request body: {r}")).into()
        }
    })?;
    // Refuse non-admins before spending time on a large document.
    caller.require_admin("importing an OpenAPI document")?;
    let input: ParseOasInput = serde_json::from_slice(&body).map_err(|e| {
        ConnectorError::invalid_input(format!(
            "the request body must be JSON {{\"spec\": …}} or {{\"url\": \"…\"}}: {e}"
        ))
    })?;
    let source = OasSource::from_fields(input.spec, input.url)?;
    let draft = state.hub.parse_openapi(&caller, source).await?;
    Ok(ok(draft.to_json()))
}
