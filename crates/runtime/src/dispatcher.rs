//! Runs one command of one connector and renders the standard envelope.
//!
//! Every execution model goes through here, so the contract holds everywhere:
//! params validated, defaults applied, cursors verified and signed, mocks honoured,
//! deadline and cancellation enforced, a panicking handler contained, errors mapped.

use std::panic::AssertUnwindSafe;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use serde_json::{Map, Value};
use switchboard_contract::project::project;
use switchboard_contract::standard::{CURSOR, FIELDS, REQUEST_ID, TENANT_INPUTS};
use switchboard_contract::validate::validate_params;
use switchboard_contract::{
    ConnectorError, Envelope, ErrorCode, Failure, Meta, MockResult, Outcome, Success,
};

use crate::cursor::CursorSigner;
use crate::framework::{Call, Connector, Instance, RequestContext};
use crate::http::OutboundClient;

/// One request to run a command.
pub struct Dispatch<'a> {
    pub connector: &'a dyn Connector,
    /// `None` runs the type's default command.
    pub command: Option<&'a str>,
    pub params: Map<String, Value>,
    pub config: Map<String, Value>,
    pub variables: Map<String, Value>,
    /// When set, the command returns this canned scenario and the vendor is not called.
    pub mock_scenario: Option<&'a str>,
    pub instance: Instance,
    pub ctx: RequestContext,
}

/// What the dispatcher produced, with the resolved command for auditing.
pub struct Dispatched {
    pub command: String,
    pub envelope: Envelope,
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Resolves the command name, or explains which ones exist.
pub fn resolve_command<'s>(
    connector: &'s dyn Connector,
    command: Option<&str>,
) -> Result<&'s switchboard_contract::CommandSpec, ConnectorError> {
    let spec = connector.spec();
    let name = match command.or(spec.default_command.as_deref()) {
        Some(n) => n,
        None => {
            return Err(ConnectorError::invalid_input(format!(
                "no command given and connector type '{}' has no default command; available: {}",
                spec.name,
                command_list(connector)
            )))
        }
    };
    spec.command(name).ok_or_else(|| {
        ConnectorError::invalid_input(format!(
            "unknown command '{name}' for connector type '{}'; available: {}",
            spec.name,
            command_list(connector)
        ))
    })
}

fn command_list(connector: &dyn Connector) -> String {
    connector
        .spec()
        .commands
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scope a cursor is bound to: one tenant, one connector, one command.
pub fn cursor_scope(instance: &Instance, command: &str) -> String {
    format!("{}:{}:{}", instance.tenant_id, instance.id, command)
}

pub async fn dispatch(
    d: Dispatch<'_>,
    http: &OutboundClient,
    cursors: &CursorSigner,
) -> Dispatched {
    let started = std::time::Instant::now();
    let request_id = d
        .params
        .get(REQUEST_ID)
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| d.ctx.request_id.clone());
    let command_name = d
        .command
        .or(d.connector.spec().default_command.as_deref())
        .unwrap_or_default()
        .to_string();

    let (command, outcome, mut warnings) = match prepare(&d, cursors) {
        Err(e) => (command_name, Err(Box::new(Failure::from(e))), Vec::new()),
        Ok(prepared) => {
            let command = prepared.command_name.clone();
            let mut warnings = Vec::new();
            if let Some(msg) = prepared.deprecated {
                tracing::warn!(
                    connector_type = %d.connector.spec().name,
                    command = %command,
                    deprecation = %msg,
                    "deprecated command called"
                );
                warnings.push(format!("command '{command}' is deprecated: {msg}"));
            }
            let outcome = match d.mock_scenario {
                Some(scenario) => mock_outcome(d.connector, &command, scenario),
                None => {
                    let call = Call {
                        command: command.clone(),
                        params: prepared.params,
                        config: d.config,
                        variables: d.variables,
                        cursor: prepared.cursor,
                        ctx: RequestContext {
                            request_id: request_id.clone(),
                            ..d.ctx.clone()
                        },
                        http: http.clone(),
                        instance: d.instance.clone(),
                    };
                    run_guarded(d.connector, &command, call, &d.ctx).await
                }
            };
            (command, outcome, warnings)
        }
    };

    let mut meta = Meta {
        request_id,
        duration_ms: started.elapsed().as_millis() as u64,
        rate_limit: None,
        replayed: false,
    };
    let envelope = match outcome {
        Ok(success) => {
            let Success {
                payload,
                variables,
                next_page,
                warnings: handler_warnings,
                rate_limit,
                mcp_native,
            } = success;
            meta.rate_limit = rate_limit;
            let projected = d
                .connector
                .spec()
                .command(&command)
                .is_some_and(|c| c.standard.projection);
            let fields: Vec<String> = if projected {
                d_fields(&d.params)
            } else {
                Vec::new()
            };
            let data = if fields.is_empty() {
                payload
            } else {
                project(&payload, &fields)
            };
            let mut env = Envelope::success(data, meta);
            env.next_cursor = next_page.filter(|s| !s.is_null()).map(|state| {
                cursors.sign(&cursor_scope(&d.instance, &command), &state, now_secs())
            });
            warnings.extend(handler_warnings);
            env.warnings = warnings;
            env.variables = variables;
            env.mcp_native = mcp_native;
            env
        }
        Err(failure) => {
            let Failure {
                mut error,
                variables,
                rate_limit,
            } = *failure;
            if let Some(mapped) = d.connector.map_error(&error) {
                error = mapped;
            }
            if error.code == ErrorCode::RateLimited && error.retry_after_ms.is_none() {
                error.retry_after_ms = Some(1000);
            }
            meta.rate_limit = rate_limit;
            let mut env = Envelope::failure(error, meta);
            env.variables = variables;
            env.warnings = warnings;
            env
        }
    };
    Dispatched { command, envelope }
}

fn d_fields(params: &Map<String, Value>) -> Vec<String> {
    crate::framework::string_list(params.get(FIELDS))
}

struct Prepared {
    command_name: String,
    params: Map<String, Value>,
    cursor: Option<Value>,
    deprecated: Option<String>,
}

fn prepare(d: &Dispatch<'_>, cursors: &CursorSigner) -> Result<Prepared, ConnectorError> {
    let command = resolve_command(d.connector, d.command)?;
    if command.native_tool.is_some() {
        // A proxied MCP tool: its arguments are the upstream's business, not ours.
        return Ok(Prepared {
            command_name: command.name.clone(),
            params: d.params.clone(),
            cursor: None,
            deprecated: None,
        });
    }
    let mut params = validate_params(command, &d.params)?;
    // `fields` is the projection, unless the command declares a `fields` of its own
    // (a create's field values, for instance).
    let own_fields = command.params.iter().any(|p| p.name == FIELDS);
    if !command.standard.projection && !own_fields {
        params.remove(FIELDS);
    }
    for key in TENANT_INPUTS {
        if let Some(given) = params.remove(key) {
            if given.as_str() != Some(d.instance.tenant_id.as_str()) {
                return Err(ConnectorError::new(
                    ErrorCode::Forbidden,
                    format!(
                        "{key} does not match the caller's tenant; leave it out or pass your own"
                    ),
                ));
            }
        }
    }
    let cursor = match params.get(CURSOR).and_then(Value::as_str) {
        Some(c) if !c.is_empty() => Some(
            cursors
                .verify(&cursor_scope(&d.instance, &command.name), c, now_secs())
                .map_err(ConnectorError::invalid_input)?,
        ),
        _ => None,
    };
    let deprecated = command.deprecation.deprecated.then(|| {
        command
            .deprecation
            .deprecated_message
            .clone()
            .unwrap_or_else(|| "it will be removed in a future version".into())
    });
    Ok(Prepared {
        command_name: command.name.clone(),
        params,
        cursor,
        deprecated,
    })
}

/// The scenario's canned outcome; `default` stands in when the command lacks the named one.
fn mock_outcome(connector: &dyn Connector, command: &str, scenario: &str) -> Outcome {
    let Some(spec) = connector.spec().command(command) else {
        return switchboard_contract::fail(ConnectorError::internal("command vanished"));
    };
    match spec.mock(scenario).or_else(|| spec.mock("default")) {
        Some(m) => match &m.result {
            MockResult::Payload(p) => Ok(Success::new(p.clone()).warn(format!(
                "mock scenario '{}' answered; the vendor was not called",
                m.name
            ))),
            MockResult::Error(e) => switchboard_contract::fail(e.clone()),
        },
        None => switchboard_contract::fail(ConnectorError::invalid_input(format!(
            "the connector is in mock mode (scenario '{scenario}') but command '{command}' has no such mock scenario"
        ))),
    }
}

/// Runs the handler within the deadline, stops on cancellation, and turns a panic
/// into an `internal` error instead of taking the server down.
async fn run_guarded(
    connector: &dyn Connector,
    command: &str,
    call: Call,
    ctx: &RequestContext,
) -> Outcome {
    let fut = AssertUnwindSafe(connector.run(command, call)).catch_unwind();
    tokio::select! {
        res = tokio::time::timeout_at(ctx.deadline, fut) => match res {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_panic)) => {
                tracing::error!(connector_type = %connector.spec().name, command, "handler panicked");
                switchboard_contract::fail(ConnectorError::internal(
                    "the connector failed unexpectedly; the error was logged",
                ))
            }
            Err(_) => switchboard_contract::fail(ConnectorError::timeout(
                "the call did not finish before its deadline",
            )),
        },
        _ = ctx.cancel.cancelled() => switchboard_contract::fail(ConnectorError::new(
            ErrorCode::Unavailable,
            "the call was cancelled by the caller",
        )),
    }
}
