//! Script connectors: user-authored JavaScript run in an embedded QuickJS sandbox
//! (SPEC section 4). Each command is a global function of the same name; the host
//! API is the global `sb`:
//!
//! * `sb.config` (decrypted connection config), `sb.params`, `sb.variables`;
//! * `sb.http.get(url, headers?)`, `sb.http.post/put/patch(url, body?, headers?)`,
//!   `sb.http.delete(url, headers?)` → `{status, body, headers}`, through the hub's
//!   outbound client and its network policy (a string body that is JSON goes out as
//!   JSON, an object as JSON, other strings as text);
//! * `sb.log.trace/debug/info/warn/error(...)` into the hub's log, tagged with the
//!   connector type, connector and command.
//!
//! A command returns `{success, payload, variables}` or `{success: false, error,
//! diagnostics}`; legacy `data` / `outputVariables` keys are refused.

mod pool;
mod sandbox;

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchboard_contract::{ConnectorError, ConnectorSpec, Outcome};

use crate::executors::{ExecutionModelSupport, StoredType, TypeDraft};
use crate::framework::{Call, Connector};
pub use pool::ScriptPool;
use sandbox::{CallInput, HttpBridge};

/// Per-call limits of a script type; each may be set per type up to the hub's ceiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScriptLimits {
    /// Time running JavaScript (waiting for HTTP does not count).
    pub cpu_ms: u64,
    /// Heap of the script's runtime.
    pub memory_bytes: u64,
    /// `sb.http` requests per call.
    pub max_http_calls: u32,
    /// Size of the returned object as JSON.
    pub max_result_bytes: u64,
}

impl Default for ScriptLimits {
    fn default() -> Self {
        ScriptLimits {
            cpu_ms: 1_000,
            memory_bytes: 32 * 1024 * 1024,
            max_http_calls: 20,
            max_result_bytes: 1024 * 1024,
        }
    }
}

impl ScriptLimits {
    /// The limits a type asks for: `requested` keys over the defaults, each within `ceiling`.
    pub fn resolve(
        requested: Option<&Value>,
        defaults: &ScriptLimits,
        ceiling: &ScriptLimits,
    ) -> Result<ScriptLimits, ConnectorError> {
        let mut merged = serde_json::to_value(defaults).unwrap_or(Value::Null);
        match requested {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                if let Some(obj) = merged.as_object_mut() {
                    for (k, v) in m {
                        obj.insert(k.clone(), v.clone());
                    }
                }
            }
            Some(_) => return Err(ConnectorError::invalid_input(
                "limits must be an object with cpuMs, memoryBytes, maxHttpCalls, maxResultBytes",
            )),
        }
        let limits: ScriptLimits = serde_json::from_value(merged).map_err(|e| {
            ConnectorError::invalid_input(format!(
                "limits: {e}; accepted: cpuMs, memoryBytes, maxHttpCalls, maxResultBytes (positive integers)"
            ))
        })?;
        let mut problems = Vec::new();
        let mut check = |name: &str, v: u64, max: u64, min: u64| {
            if v < min || v > max {
                problems.push(format!(
                    "limits.{name} is {v}; this hub allows {min} to {max}"
                ));
            }
        };
        check("cpuMs", limits.cpu_ms, ceiling.cpu_ms, 1);
        check(
            "memoryBytes",
            limits.memory_bytes,
            ceiling.memory_bytes,
            1024 * 1024,
        );
        check(
            "maxHttpCalls",
            limits.max_http_calls as u64,
            ceiling.max_http_calls as u64,
            0,
        );
        check(
            "maxResultBytes",
            limits.max_result_bytes,
            ceiling.max_result_bytes,
            1,
        );
        if problems.is_empty() {
            Ok(limits)
        } else {
            Err(ConnectorError::invalid_input(problems.join("; ")))
        }
    }
}

/// Hub-wide script settings.
#[derive(Debug, Clone)]
pub struct ScriptSettings {
    /// Worker threads, each with one warm runtime.
    pub workers: usize,
    /// Limits of a type that sets none.
    pub default_limits: ScriptLimits,
    /// The most a type may ask for.
    pub max_limits: ScriptLimits,
}

impl Default for ScriptSettings {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        ScriptSettings {
            workers: cores.clamp(2, 8),
            default_limits: ScriptLimits::default(),
            max_limits: ScriptLimits {
                cpu_ms: 30_000,
                memory_bytes: 256 * 1024 * 1024,
                max_http_calls: 200,
                max_result_bytes: 8 * 1024 * 1024,
            },
        }
    }
}

/// The model-specific part of a script type, stored as the record's `definition`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptDefinition {
    pub script_source: String,
    pub limits: ScriptLimits,
}

/// The largest script accepted.
pub const MAX_SCRIPT_BYTES: usize = 512 * 1024;

/// Compiles scripts at create time and builds [`ScriptConnector`]s.
pub struct ScriptSupport {
    pool: ScriptPool,
    settings: ScriptSettings,
}

impl ScriptSupport {
    pub fn new(settings: ScriptSettings) -> Self {
        ScriptSupport {
            pool: ScriptPool::new(settings.workers),
            settings,
        }
    }

    pub fn pool(&self) -> &ScriptPool {
        &self.pool
    }
}

#[async_trait::async_trait]
impl ExecutionModelSupport for ScriptSupport {
    async fn prepare(&self, draft: &mut TypeDraft) -> Result<(), ConnectorError> {
        let source = draft
            .definition
            .get("scriptSource")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| {
                ConnectorError::invalid_input(
                    "a script connector type needs scriptSource: JavaScript with one function per command",
                )
            })?
            .to_string();
        if source.len() > MAX_SCRIPT_BYTES {
            return Err(ConnectorError::invalid_input(format!(
                "scriptSource is {} bytes; the limit is {MAX_SCRIPT_BYTES}",
                source.len()
            )));
        }
        let limits = ScriptLimits::resolve(
            draft.definition.get("limits"),
            &self.settings.default_limits,
            &self.settings.max_limits,
        )?;
        // `health` may be served by a `test` function (seed 003's convention).
        let mut functions: Vec<String> =
            draft.spec.commands.iter().map(|c| c.name.clone()).collect();
        functions.push("test".into());
        let input = CallInput {
            type_name: draft.spec.name.clone(),
            connector_name: String::new(),
            source: Arc::from(source.as_str()),
            command: String::new(),
            params: Map::new(),
            config: Map::new(),
            variables: Map::new(),
            limits,
            deadline: tokio::time::Instant::now()
                + Duration::from_millis(limits.cpu_ms.max(1000) * 2),
            cancel: tokio_util::sync::CancellationToken::new(),
            http: None,
        };
        let mut missing = self
            .pool
            .run(move |sandbox| sandbox.check(&input, &functions))
            .await??;
        let test_defined = !missing.iter().any(|m| m == "test");
        missing.retain(|m| draft.spec.command(m).is_some() && !(m == "health" && test_defined));
        if !missing.is_empty() {
            return Err(ConnectorError::invalid_input(format!(
                "the script defines no function for command(s) {}: each command runs the global function of the same name{}",
                missing.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", "),
                if missing.iter().any(|m| m == "health") {
                    " ('health' may also be served by a function 'test')"
                } else {
                    ""
                }
            )));
        }
        draft.definition = serde_json::to_value(ScriptDefinition {
            script_source: source,
            limits,
        })
        .map_err(|e| ConnectorError::internal(format!("cannot store the script: {e}")))?;
        Ok(())
    }

    fn build(&self, stored: &StoredType) -> Result<Arc<dyn Connector>, ConnectorError> {
        let def: ScriptDefinition =
            serde_json::from_value(stored.definition().clone()).map_err(|e| {
                ConnectorError::internal(format!(
                    "script connector type '{}' has an unreadable definition: {e}",
                    stored.record.id
                ))
            })?;
        Ok(Arc::new(ScriptConnector {
            spec: stored.spec.clone(),
            source: Arc::from(def.script_source.as_str()),
            limits: def.limits,
            pool: self.pool.clone(),
        }))
    }
}

/// Runs a script type's commands on the pool.
pub struct ScriptConnector {
    spec: ConnectorSpec,
    source: Arc<str>,
    limits: ScriptLimits,
    pool: ScriptPool,
}

impl ScriptConnector {
    pub fn new(spec: ConnectorSpec, source: &str, limits: ScriptLimits, pool: ScriptPool) -> Self {
        ScriptConnector {
            spec,
            source: Arc::from(source),
            limits,
            pool,
        }
    }
}

impl Connector for ScriptConnector {
    fn spec(&self) -> &ConnectorSpec {
        &self.spec
    }

    fn run(&self, command: &str, call: Call) -> BoxFuture<'static, Outcome> {
        let pool = self.pool.clone();
        // Stops the script if the caller stops waiting (deadline, cancellation, drop).
        let cancel = call.ctx.cancel.child_token();
        let guard = cancel.clone().drop_guard();
        let input = CallInput {
            type_name: self.spec.name.clone(),
            connector_name: call.instance.name.clone(),
            source: self.source.clone(),
            command: command.to_string(),
            params: call.params,
            config: call.config,
            variables: call.variables,
            limits: self.limits,
            deadline: call.ctx.deadline,
            cancel,
            http: tokio::runtime::Handle::try_current()
                .ok()
                .map(|handle| HttpBridge {
                    client: call.http,
                    handle,
                }),
        };
        Box::pin(async move {
            let outcome = pool
                .run(move |sandbox| {
                    if tokio::time::Instant::now() >= input.deadline {
                        return Err(Box::new(
                            ConnectorError::timeout(
                                "the call's deadline passed while waiting for a free script runtime",
                            )
                            .into(),
                        ));
                    }
                    sandbox.run(&input)
                })
                .await;
            drop(guard);
            outcome.unwrap_or_else(|e| Err(Box::new(e.into())))
        })
    }
}
