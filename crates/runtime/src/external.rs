//! External connectors: a remote service speaking the external protocol 2.0
//! (seed `003`, SPEC section 4).
//!
//! * `POST {endpoint}/execute` with `{protocolVersion: "2.0", command, config, params,
//!   variables, metadata: {stepId, runId, requestId, timeout}}`; the answer is
//!   `{success: true, payload, variables}` or `{success: false, error, diagnostics}`.
//!   `metadata.timeout` (ms) is what the hub waits; it stops waiting then.
//! * `GET {endpoint}/schema` (optional) fills the type's commands when it is created
//!   without them.
//! * `GET {endpoint}/health` answers the type's `health` command when the service
//!   declares no `health` command of its own.
//!
//! Legacy 1.x answers (`data`, `outputVariables`, `protocolVersion: "1.x"`) are refused
//! with an upgrade error; garbage and timeouts get errors that say which.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::Url;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use switchboard_contract::authoring::parse_config_schema;
use switchboard_contract::{Access, ConnectorError, ConnectorSpec, Outcome, Success};

use crate::executors::{ExecutionModelSupport, StoredType, TypeDraft};
use crate::framework::{Call, Connector};
use crate::http::{error_for_status, redact_url, OutboundClient, OutboundRequest};
use crate::protocol::{kind, legacy_keys_error, outcome_from_result};

pub const PROTOCOL_VERSION: &str = "2.0";

/// How long the hub waits for `/execute` when the type sets nothing.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// The longest wait a type may ask for.
pub const MAX_TIMEOUT_MS: u64 = 300_000;

/// How much of a garbage answer an error quotes.
const QUOTE_BYTES: usize = 200;

/// The model-specific part of an external type, stored as the record's `definition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalDefinition {
    pub endpoint_url: String,
    pub timeout_ms: u64,
    /// The service declares no `health` command: `health` calls `GET /health`.
    pub health_from_endpoint: bool,
}

pub struct ExternalSupport {
    http: OutboundClient,
}

impl ExternalSupport {
    pub fn new(http: OutboundClient) -> Self {
        ExternalSupport { http }
    }
}

/// `endpoint` without a trailing slash, checked against the network policy's URL rules.
fn endpoint_base(http: &OutboundClient, endpoint: &str) -> Result<String, ConnectorError> {
    let url = http
        .check_url(endpoint)
        .map_err(|e| ConnectorError::invalid_input(format!("endpointUrl is not usable: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConnectorError::invalid_input(
            "endpointUrl must not have a query or fragment: the hub appends /execute, /schema and /health",
        ));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn shown(url: &str) -> String {
    Url::parse(url).map_or_else(|_| "the endpoint".into(), |u| redact_url(&u))
}

fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut end = text.len().min(QUOTE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let q = &text[..end];
    if q.trim().is_empty() {
        "an empty body".into()
    } else {
        format!("{q:?}")
    }
}

#[async_trait::async_trait]
impl ExecutionModelSupport for ExternalSupport {
    async fn prepare(&self, draft: &mut TypeDraft) -> Result<(), ConnectorError> {
        let endpoint = draft
            .definition
            .get("endpointUrl")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ConnectorError::invalid_input(
                    "an external connector type needs endpointUrl: the base URL of a service speaking protocol 2.0",
                )
            })?;
        let base = endpoint_base(&self.http, endpoint)?;
        let timeout_ms = match draft.definition.get("timeoutMs") {
            None | Some(Value::Null) => DEFAULT_TIMEOUT_MS,
            Some(v) => v
                .as_u64()
                .filter(|t| (1..=MAX_TIMEOUT_MS).contains(t))
                .ok_or_else(|| {
                    ConnectorError::invalid_input(format!(
                        "timeoutMs must be an integer from 1 to {MAX_TIMEOUT_MS}"
                    ))
                })?,
        };
        let authored = draft.spec.commands.iter().any(|c| c.name != "health")
            || draft.spec.command("health").is_some();
        if !authored {
            self.fill_from_schema(&base, draft).await?;
        }
        draft.definition = serde_json::to_value(ExternalDefinition {
            endpoint_url: base,
            timeout_ms,
            health_from_endpoint: draft.spec.command("health").is_none(),
        })
        .map_err(|e| ConnectorError::internal(format!("cannot store the definition: {e}")))?;
        Ok(())
    }

    fn build(&self, stored: &StoredType) -> Result<Arc<dyn Connector>, ConnectorError> {
        let def: ExternalDefinition =
            serde_json::from_value(stored.definition().clone()).map_err(|e| {
                ConnectorError::internal(format!(
                    "external connector type '{}' has an unreadable definition: {e}",
                    stored.record.id
                ))
            })?;
        Ok(Arc::new(ExternalConnector {
            spec: stored.spec.clone(),
            def,
        }))
    }
}

impl ExternalSupport {
    /// Reads `GET /schema`: `{configSchema: {connectionConfig, commands}}` or the
    /// `configSchema` object itself.
    async fn fill_from_schema(
        &self,
        base: &str,
        draft: &mut TypeDraft,
    ) -> Result<(), ConnectorError> {
        let url = format!("{base}/schema");
        let resp = self
            .http
            .send(
                OutboundRequest::get(&url).timeout(Duration::from_secs(10)),
                None,
            )
            .await
            .map_err(|e| {
                ConnectorError::invalid_input(format!(
                    "the type declares no commands and GET {} failed: {e}; give configSchema.commands or serve /schema",
                    shown(&url)
                ))
            })?;
        if !resp.is_success() {
            return Err(ConnectorError::invalid_input(format!(
                "the type declares no commands and GET {} answered {}; give configSchema.commands or serve /schema",
                shown(&url),
                resp.status
            )));
        }
        let body: Value = serde_json::from_slice(&resp.body).map_err(|_| {
            ConnectorError::invalid_input(format!(
                "GET {} answered with something that is not JSON: {}",
                shown(&url),
                quote(&resp.body)
            ))
        })?;
        let schema = body.get("configSchema").unwrap_or(&body);
        let parsed = parse_config_schema(schema).map_err(|problems| {
            ConnectorError::invalid_input(format!(
                "the schema served at {} is invalid: {}",
                shown(&url),
                problems.join("; ")
            ))
        })?;
        if parsed.commands.is_empty() {
            return Err(ConnectorError::invalid_input(format!(
                "the schema served at {} has no commands",
                shown(&url)
            )));
        }
        draft.spec.commands = parsed.commands;
        if draft.spec.config.is_empty() {
            draft.spec.config = parsed.config;
        }
        Ok(())
    }
}

/// Runs an external type's commands over HTTP.
pub struct ExternalConnector {
    spec: ConnectorSpec,
    def: ExternalDefinition,
}

impl Connector for ExternalConnector {
    fn spec(&self) -> &ConnectorSpec {
        &self.spec
    }

    fn run(&self, command: &str, call: Call) -> BoxFuture<'static, Outcome> {
        let def = self.def.clone();
        let command = command.to_string();
        let read = self
            .spec
            .command(&command)
            .is_some_and(|c| c.access == Access::Read);
        Box::pin(async move {
            if command == "health" && def.health_from_endpoint {
                return health(&def, &call).await;
            }
            execute(&def, &command, read, call).await
        })
    }
}

/// The wait for one request: the type's timeout, within what is left of the call.
fn wait_for(def: &ExternalDefinition, call: &Call) -> Result<Duration, ConnectorError> {
    let left = call.time_left();
    if left.is_zero() {
        return Err(ConnectorError::timeout(
            "the call's deadline passed before the external connector was called",
        ));
    }
    Ok(left.min(Duration::from_millis(def.timeout_ms)))
}

async fn health(def: &ExternalDefinition, call: &Call) -> Outcome {
    let url = format!("{}/health", def.endpoint_url);
    let wait = wait_for(def, call)?;
    let resp = send(call, OutboundRequest::get(&url).timeout(wait), wait, &url).await?;
    if let Some(e) = error_for_status(&resp, "the external connector's /health") {
        return Err(Box::new(e.into()));
    }
    let body = serde_json::from_slice::<Value>(&resp.body).unwrap_or(Value::Null);
    Ok(Success::new(json!({
        "status": "ok",
        "endpoint": shown(&def.endpoint_url),
        "service": body,
    })))
}

async fn send(
    call: &Call,
    req: OutboundRequest,
    wait: Duration,
    url: &str,
) -> Result<crate::http::OutboundResponse, Box<switchboard_contract::Failure>> {
    let deadline = tokio::time::Instant::now() + wait;
    match tokio::time::timeout_at(deadline, call.http.send(req, Some(deadline))).await {
        Err(_) | Ok(Err(crate::http::OutboundError::Timeout { .. })) => Err(Box::new(
            ConnectorError::timeout(format!(
                "the external connector at {} did not answer within {} ms",
                shown(url),
                wait.as_millis()
            ))
            .with_vendor_code("external_timeout")
            .into(),
        )),
        Ok(Err(e)) => Err(Box::new(ConnectorError::from(e).into())),
        Ok(Ok(resp)) => Ok(resp),
    }
}

async fn execute(def: &ExternalDefinition, command: &str, read: bool, call: Call) -> Outcome {
    let url = format!("{}/execute", def.endpoint_url);
    let wait = wait_for(def, &call)?;
    let body = json!({
        "protocolVersion": PROTOCOL_VERSION,
        "command": command,
        "config": call.config,
        "params": call.params,
        "variables": call.variables,
        "metadata": {
            "stepId": call.ctx.request_id,
            "runId": call.ctx.request_id,
            "requestId": call.ctx.request_id,
            "connector": call.instance.name,
            "timeout": wait.as_millis() as u64,
        },
    });
    let req = OutboundRequest::post(&url)
        .json(body)
        .timeout(wait)
        .idempotent(read);
    let resp = send(&call, req, wait, &url).await?;
    let who = format!("the external connector at {}", shown(&url));
    let parsed = serde_json::from_slice::<Value>(&resp.body);
    let obj = match parsed {
        Ok(Value::Object(m)) => m,
        Ok(other) if resp.is_success() => {
            return Err(Box::new(
                ConnectorError::upstream(format!(
                    "{who} answered with {} instead of a protocol 2.0 result object",
                    kind(&other)
                ))
                .with_vendor_code("external_bad_response")
                .into(),
            ))
        }
        _ if !resp.is_success() => {
            let e = error_for_status(&resp, &who)
                .unwrap_or_else(|| ConnectorError::upstream(format!("{who} failed")));
            return Err(Box::new(e.into()));
        }
        _ => {
            return Err(Box::new(
                ConnectorError::upstream(format!(
                    "{who} answered {} with something that is not JSON: {}",
                    resp.status,
                    quote(&resp.body)
                ))
                .with_vendor_code("external_bad_response")
                .into(),
            ))
        }
    };
    if let Some(v) = obj.get("protocolVersion") {
        let version = v.as_str().unwrap_or_default();
        if !version.starts_with("2.") {
            let mut e = legacy_keys_error(&obj, &who).unwrap_or_else(|| {
                ConnectorError::upstream(format!(
                    "{who} speaks protocol {}: protocol 2.0 is required; upgrade the service to answer \
                     {{success, payload, variables}} or {{success: false, error, diagnostics}}",
                    if version.is_empty() { v.to_string() } else { version.to_string() }
                ))
                .with_vendor_code("legacy_protocol")
            });
            e.vendor_code = Some("legacy_protocol".into());
            return Err(Box::new(e.into()));
        }
    }
    if let Some(e) = legacy_keys_error(&obj, &who) {
        return Err(Box::new(e.into()));
    }
    if !obj.get("success").is_some_and(Value::is_boolean) {
        if !resp.is_success() {
            let e = error_for_status(&resp, &who)
                .unwrap_or_else(|| ConnectorError::upstream(format!("{who} failed")));
            return Err(Box::new(e.into()));
        }
        return Err(Box::new(
            ConnectorError::upstream(format!(
                "{who} answered without a boolean 'success': not a protocol 2.0 result"
            ))
            .with_vendor_code("external_bad_response")
            .into(),
        ));
    }
    outcome_from_result(obj, &who)
}
