//! One QuickJS runtime and what a call may do in it.
//!
//! The runtime (allocator, atoms, shapes) is reused across calls; every call gets a
//! fresh context, so its globals, the `sb` object and anything a script stores are
//! gone when it returns. The context has the language and JSON, and no `std`/`os`
//! modules, no module loader, no timers: the only way out is `sb`.
//!
//! Limits: the interrupt handler stops the script when its CPU budget (time spent
//! running JavaScript, not waiting for HTTP), the call's deadline or cancellation is
//! reached; the runtime's memory limit bounds allocation; `sb.http` counts requests;
//! the result's JSON size is checked. A runtime that hit a limit is discarded.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rquickjs::context::intrinsic;
use rquickjs::function::{Opt, Rest};
use rquickjs::{CaughtError, Context, Ctx, Function, Object, Runtime, Value};
use serde_json::{json, Map, Value as Json};
use switchboard_contract::{ConnectorError, ErrorCode, Outcome};
use tokio_util::sync::CancellationToken;

use super::ScriptLimits;
use crate::http::{OutboundClient, OutboundRequest, RequestBody};
use crate::protocol::{self, outcome_from_result};

/// What a script's context offers besides the base objects: no `Performance`
/// (timing side channel), no `DOMException`.
type Intrinsics = (
    intrinsic::Date,
    intrinsic::Eval,
    intrinsic::RegExpCompiler,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::Proxy,
    intrinsic::MapSet,
    intrinsic::TypedArrays,
    intrinsic::Promise,
    intrinsic::WeakRef,
);

/// Native stack QuickJS may use; worker threads get several times this.
pub(crate) const MAX_STACK_BYTES: usize = 512 * 1024;

/// How a call reaches the network: the hub's client, on the hub's runtime.
#[derive(Clone)]
pub(crate) struct HttpBridge {
    pub client: OutboundClient,
    pub handle: tokio::runtime::Handle,
}

/// One call to run.
pub(crate) struct CallInput {
    pub type_name: String,
    pub connector_name: String,
    pub source: Arc<str>,
    pub command: String,
    pub params: Map<String, Json>,
    pub config: Map<String, Json>,
    pub variables: Map<String, Json>,
    pub limits: ScriptLimits,
    pub deadline: tokio::time::Instant,
    pub cancel: CancellationToken,
    /// `None` when checking a script: `sb.http` then refuses.
    pub http: Option<HttpBridge>,
}

/// Why the interrupt handler stopped a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trip {
    Cpu,
    Deadline,
    Cancelled,
}

/// Time accounting shared with the interrupt handler.
#[derive(Default)]
struct Meter {
    active: Cell<bool>,
    started: Cell<Option<Instant>>,
    /// Time spent waiting in host calls, which does not count as CPU.
    waited: Cell<Duration>,
    cpu_limit: Cell<Duration>,
    deadline: Cell<Option<tokio::time::Instant>>,
    cancel: RefCell<Option<CancellationToken>>,
    tripped: Cell<Option<Trip>>,
}

impl Meter {
    fn start(
        &self,
        limits: &ScriptLimits,
        deadline: tokio::time::Instant,
        cancel: CancellationToken,
    ) {
        self.started.set(Some(Instant::now()));
        self.waited.set(Duration::ZERO);
        self.cpu_limit.set(Duration::from_millis(limits.cpu_ms));
        self.deadline.set(Some(deadline));
        *self.cancel.borrow_mut() = Some(cancel);
        self.tripped.set(None);
        self.active.set(true);
    }
    fn stop(&self) {
        self.active.set(false);
        *self.cancel.borrow_mut() = None;
    }
    fn cpu_used(&self) -> Duration {
        self.started.get().map_or(Duration::ZERO, |s| {
            s.elapsed().saturating_sub(self.waited.get())
        })
    }
    /// Called by QuickJS every few thousand operations; `true` stops the script.
    fn should_interrupt(&self) -> bool {
        if !self.active.get() {
            return false;
        }
        let trip = if self.cpu_used() > self.cpu_limit.get() {
            Some(Trip::Cpu)
        } else if self
            .deadline
            .get()
            .is_some_and(|d| tokio::time::Instant::now() >= d)
        {
            Some(Trip::Deadline)
        } else if self
            .cancel
            .borrow()
            .as_ref()
            .is_some_and(|c| c.is_cancelled())
        {
            Some(Trip::Cancelled)
        } else {
            None
        };
        if trip.is_some() {
            self.tripped.set(trip);
        }
        trip.is_some()
    }
}

/// Per-call state the host functions share.
#[derive(Default)]
struct Host {
    http_calls: Cell<u32>,
    /// The last error a host function threw, so an uncaught one keeps its code.
    last_error: RefCell<Option<ConnectorError>>,
    memory_exhausted: Cell<bool>,
}

/// A warm QuickJS runtime, owned by one worker thread.
pub(crate) struct Sandbox {
    rt: Runtime,
    meter: Rc<Meter>,
    /// Set after a call hit a limit: the pool replaces this sandbox.
    pub(crate) poisoned: bool,
}

impl Sandbox {
    pub(crate) fn new() -> Result<Sandbox, String> {
        let rt = Runtime::new().map_err(|e| format!("cannot start a script runtime: {e}"))?;
        rt.set_max_stack_size(MAX_STACK_BYTES);
        let meter = Rc::new(Meter::default());
        let m = meter.clone();
        rt.set_interrupt_handler(Some(Box::new(move || m.should_interrupt())));
        Ok(Sandbox {
            rt,
            meter,
            poisoned: false,
        })
    }

    /// Runs one command. Never panics on script behaviour; every failure is an outcome.
    pub(crate) fn run(&mut self, input: &CallInput) -> Outcome {
        self.enter(input);
        let outcome = match Context::custom::<Intrinsics>(&self.rt) {
            Ok(context) => {
                let host = Rc::new(Host::default());
                let mut outcome = context.with(|ctx| self.call(&ctx, input, &host));
                // Out of memory, QuickJS may fail to build its own error and throw null:
                // a failure with the heap at its limit is the memory limit whatever it says.
                if outcome.is_err() && !host.memory_exhausted.get() {
                    let used = self.rt.memory_usage().malloc_size.max(0) as u64;
                    if used * 10 >= input.limits.memory_bytes * 9 {
                        host.memory_exhausted.set(true);
                        outcome = Err(Box::new(memory_limit_error(input).into()));
                    }
                }
                if host.memory_exhausted.get() {
                    self.poisoned = true;
                }
                outcome
            }
            Err(e) => {
                self.poisoned = true;
                Err(Box::new(
                    ConnectorError::internal(format!("cannot create a script context: {e}")).into(),
                ))
            }
        };
        self.leave();
        outcome
    }

    /// Loads a script without calling anything, and lists which of `functions` it
    /// does not define. Syntax errors come back with line and column.
    pub(crate) fn check(
        &mut self,
        input: &CallInput,
        functions: &[String],
    ) -> Result<Vec<String>, ConnectorError> {
        self.enter(input);
        let result = match Context::custom::<Intrinsics>(&self.rt) {
            Ok(context) => context.with(|ctx| {
                let host = Rc::new(Host::default());
                self.load(&ctx, input, &host)?;
                let globals = ctx.globals();
                Ok(functions
                    .iter()
                    .filter(|f| {
                        !globals
                            .get::<_, Value>(f.as_str())
                            .is_ok_and(|v| v.is_function())
                    })
                    .cloned()
                    .collect())
            }),
            Err(e) => Err(ConnectorError::internal(format!(
                "cannot create a script context: {e}"
            ))),
        };
        self.leave();
        result
    }

    fn enter(&mut self, input: &CallInput) {
        self.rt.set_memory_limit(input.limits.memory_bytes as usize);
        self.meter
            .start(&input.limits, input.deadline, input.cancel.clone());
    }

    fn leave(&mut self) {
        if self.meter.tripped.get().is_some() {
            self.poisoned = true;
        }
        self.meter.stop();
        // Lift the limit so collection itself cannot fail, then reclaim the context.
        self.rt.set_memory_limit(0);
        self.rt.run_gc();
    }

    /// Installs `sb` and evaluates the source.
    fn load<'js>(
        &self,
        ctx: &Ctx<'js>,
        input: &CallInput,
        host: &Rc<Host>,
    ) -> Result<(), ConnectorError> {
        install_sb(ctx, input, host, &self.meter)
            .map_err(|e| self.js_error(ctx, e, input, host, "preparing the sandbox"))?;
        let mut options = rquickjs::context::EvalOptions::default();
        options.global = true;
        options.strict = false;
        options.backtrace_barrier = true;
        options.filename = Some(script_file(input));
        ctx.eval_with_options::<(), _>(input.source.as_bytes().to_vec(), options)
            .map_err(|e| self.js_error(ctx, e, input, host, "loading the script"))
    }

    fn call<'js>(&self, ctx: &Ctx<'js>, input: &CallInput, host: &Rc<Host>) -> Outcome {
        self.load(ctx, input, host)?;
        let globals = ctx.globals();
        let function = [input.command.as_str(), "test"]
            .into_iter()
            .take(if input.command == "health" { 2 } else { 1 })
            .find_map(|name| {
                globals
                    .get::<_, Value>(name)
                    .ok()
                    .and_then(|v| v.into_function())
            });
        let Some(function) = function else {
            return Err(Box::new(
                ConnectorError::internal(format!(
                    "the script of connector type '{}' defines no function '{}' for this command",
                    input.type_name, input.command
                ))
                .into(),
            ));
        };
        let params = globals
            .get::<_, Object>("sb")
            .and_then(|sb| sb.get::<_, Value>("params"))
            .map_err(|e| self.js_error(ctx, e, input, host, "preparing the call"))?;
        let returned: Value = function
            .call((params,))
            .map_err(|e| self.js_error(ctx, e, input, host, "running"))?;
        self.result(ctx, returned, input, host)
    }

    fn result<'js>(
        &self,
        ctx: &Ctx<'js>,
        v: Value<'js>,
        input: &CallInput,
        host: &Rc<Host>,
    ) -> Outcome {
        let who = format!("script command '{}'", input.command);
        let shape_error = |what: String| -> Outcome {
            Err(Box::new(
                ConnectorError::upstream(format!(
                    "{who} returned {what}; return an object such as {{success: true, payload: …}}"
                ))
                .with_vendor_code("script_result_not_object")
                .into(),
            ))
        };
        if v.is_undefined() {
            return shape_error("nothing".into());
        }
        if !v.is_object() || v.is_array() || v.is_function() || v.is_promise() {
            let what = if v.is_array() {
                "an array".to_string()
            } else if v.is_promise() {
                "a promise (commands must be synchronous)".to_string()
            } else {
                format!("a value of type {}", v.type_name())
            };
            return shape_error(what);
        }
        let text = match ctx.json_stringify(v) {
            Ok(Some(s)) => s
                .to_string()
                .map_err(|e| self.js_error(ctx, e, input, host, "reading the result"))?,
            Ok(None) => return shape_error("a value JSON cannot represent".into()),
            Err(e) => {
                return Err(Box::new(
                    self.js_error(ctx, e, input, host, "converting the result to JSON")
                        .into(),
                ))
            }
        };
        if text.len() as u64 > input.limits.max_result_bytes {
            return Err(Box::new(
                ConnectorError::upstream(format!(
                    "{who} returned {} bytes of JSON; the limit is {} bytes (limits.maxResultBytes)",
                    text.len(),
                    input.limits.max_result_bytes
                ))
                .with_vendor_code("script_result_too_large")
                .into(),
            ));
        }
        match serde_json::from_str::<Json>(&text) {
            Ok(Json::Object(m)) => outcome_from_result(m, &who),
            Ok(other) => shape_error(protocol::kind(&other).to_string()),
            Err(e) => Err(Box::new(
                ConnectorError::internal(format!("{who}: result is not valid JSON: {e}")).into(),
            )),
        }
    }

    /// A QuickJS error as a connector error: limits first, then host errors that went
    /// uncaught (they keep their code), then the script's own exception with its location.
    fn js_error<'js>(
        &self,
        ctx: &Ctx<'js>,
        error: rquickjs::Error,
        input: &CallInput,
        host: &Host,
        phase: &str,
    ) -> ConnectorError {
        let caught = CaughtError::from_error(ctx, error);
        if let Some(trip) = self.meter.tripped.get() {
            return match trip {
                Trip::Cpu => ConnectorError::timeout(format!(
                    "script command '{}' exceeded its CPU time limit of {} ms (limits.cpuMs) and was stopped",
                    input.command, input.limits.cpu_ms
                ))
                .with_vendor_code("script_cpu_limit"),
                Trip::Deadline => ConnectorError::timeout(format!(
                    "script command '{}' did not finish before the call's deadline",
                    input.command
                )),
                Trip::Cancelled => ConnectorError::new(
                    ErrorCode::Unavailable,
                    format!("script command '{}' was cancelled", input.command),
                ),
            };
        }
        let (message, stack) = match &caught {
            CaughtError::Exception(ex) => (
                ex.message().unwrap_or_else(|| "error".into()),
                ex.stack().unwrap_or_default(),
            ),
            CaughtError::Value(v) => (
                ctx.json_stringify(v.clone())
                    .ok()
                    .flatten()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_else(|| format!("a thrown {}", v.type_name())),
                String::new(),
            ),
            CaughtError::Error(e) => (e.to_string(), String::new()),
        };
        let name = match &caught {
            CaughtError::Exception(ex) => ex
                .get::<_, Option<String>>("name")
                .ok()
                .flatten()
                .unwrap_or_else(|| "Error".into()),
            _ => "Error".into(),
        };
        // Out of memory, QuickJS sometimes cannot allocate its error and throws null.
        let thrown_null = matches!(&caught, CaughtError::Value(v) if v.is_null())
            || message == "null"
            || message.ends_with(": null");
        if message.contains("out of memory")
            || thrown_null
            || matches!(&caught, CaughtError::Error(rquickjs::Error::Allocation))
        {
            host.memory_exhausted.set(true);
            return memory_limit_error(input);
        }
        if let Some(e) = host.last_error.borrow().as_ref() {
            if message == e.message {
                return e.clone();
            }
        }
        let at = location(&stack, &script_file(input))
            .map(|(l, c)| format!(" (line {l}, column {c})"))
            .unwrap_or_default();
        let code = if name == "SyntaxError" && phase == "loading the script" {
            "script_syntax_error"
        } else {
            "script_error"
        };
        ConnectorError::upstream(format!(
            "script of connector type '{}' failed while {phase}: {name}: {message}{at}",
            input.type_name
        ))
        .with_vendor_code(code)
        .with_diagnostics(json!({"stack": stack}))
    }
}

fn script_file(input: &CallInput) -> String {
    format!("{}.js", input.type_name)
}

/// The first `file:line:column` of `file` in a QuickJS stack trace.
pub(crate) fn location(stack: &str, file: &str) -> Option<(u32, u32)> {
    let mut rest = stack;
    while let Some(i) = rest.find(file) {
        let after = &rest[i + file.len()..];
        let mut parts = after
            .strip_prefix(':')?
            .splitn(3, |c: char| !c.is_ascii_digit());
        let line = parts.next().and_then(|l| l.parse().ok());
        let col = after[1..]
            .split_once(':')
            .and_then(|(_, c)| c.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|c| c.parse().ok());
        if let (Some(l), Some(c)) = (line, col) {
            return Some((l, c));
        }
        rest = after;
    }
    None
}

/// Builds the `sb` global: `config`, `params`, `variables`, `log`, `http`.
fn install_sb<'js>(
    ctx: &Ctx<'js>,
    input: &CallInput,
    host: &Rc<Host>,
    meter: &Rc<Meter>,
) -> rquickjs::Result<()> {
    let sb = Object::new(ctx.clone())?;
    let to_js = |m: &Map<String, Json>| -> rquickjs::Result<Value<'js>> {
        ctx.json_parse(serde_json::to_string(m).unwrap_or_else(|_| "{}".into()))
    };
    sb.set("config", to_js(&input.config)?)?;
    sb.set("params", to_js(&input.params)?)?;
    sb.set("variables", to_js(&input.variables)?)?;

    let log = Object::new(ctx.clone())?;
    for level in ["trace", "debug", "info", "warn", "error"] {
        let type_name = input.type_name.clone();
        let connector = input.connector_name.clone();
        let command = input.command.clone();
        log.set(
            level,
            Function::new(ctx.clone(), move |ctx: Ctx<'js>, args: Rest<Value<'js>>| {
                let message = args
                    .0
                    .into_iter()
                    .map(|v| display(&ctx, v))
                    .collect::<Vec<_>>()
                    .join(" ");
                emit_log(level, &type_name, &connector, &command, &message);
            })?,
        )?;
    }
    sb.set("log", log)?;

    let http = Object::new(ctx.clone())?;
    for method in ["get", "post", "put", "patch", "delete"] {
        let host = host.clone();
        let meter = meter.clone();
        let bridge = input.http.clone();
        let limits = input.limits;
        let deadline = input.deadline;
        let cancel = input.cancel.clone();
        http.set(
            method,
            Function::new(
                ctx.clone(),
                move |ctx: Ctx<'js>,
                      url: Value<'js>,
                      a: Opt<Value<'js>>,
                      b: Opt<Value<'js>>|
                      -> rquickjs::Result<Value<'js>> {
                    let has_body = matches!(method, "post" | "put" | "patch");
                    let (body, headers) = if has_body { (a.0, b.0) } else { (None, a.0) };
                    let result = http_call(
                        &ctx,
                        method,
                        url,
                        body,
                        headers,
                        bridge.as_ref(),
                        &host,
                        &meter,
                        &limits,
                        deadline,
                        &cancel,
                    );
                    match result {
                        Ok(response) => ctx.json_parse(response.to_string()),
                        Err(e) => {
                            let message = e.message.clone();
                            *host.last_error.borrow_mut() = Some(e);
                            Err(rquickjs::Exception::throw_message(&ctx, &message))
                        }
                    }
                },
            )?,
        )?;
    }
    sb.set("http", http)?;
    ctx.globals().set("sb", sb)?;
    Ok(())
}

fn emit_log(level: &str, type_name: &str, connector: &str, command: &str, message: &str) {
    macro_rules! log_at {
        ($lvl:ident) => {
            tracing::$lvl!(target: "switchboard::script", connector_type = %type_name, connector = %connector, command = %command, "{message}")
        };
    }
    match level {
        "trace" => log_at!(trace),
        "debug" => log_at!(debug),
        "info" => log_at!(info),
        "warn" => log_at!(warn),
        _ => log_at!(error),
    }
}

/// A log argument as text: strings as they are, everything else as JSON.
fn display<'js>(ctx: &Ctx<'js>, v: Value<'js>) -> String {
    if let Some(s) = v.as_string() {
        return s.to_string().unwrap_or_default();
    }
    if let Some(ex) = v.as_exception() {
        return ex.message().unwrap_or_else(|| "error".into());
    }
    ctx.json_stringify(v.clone())
        .ok()
        .flatten()
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| v.type_name().to_string())
}

fn to_json<'js>(ctx: &Ctx<'js>, v: Value<'js>) -> Result<Json, ConnectorError> {
    let text = ctx
        .json_stringify(v)
        .map_err(|e| {
            ConnectorError::invalid_input(format!("value cannot be converted to JSON: {e}"))
        })?
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| "null".into());
    serde_json::from_str(&text).map_err(|e| {
        ConnectorError::invalid_input(format!("value cannot be converted to JSON: {e}"))
    })
}

/// One `sb.http.*` request: checked, counted, sent through the hub's client on the
/// hub's runtime, with the wait excluded from the CPU budget.
#[allow(clippy::too_many_arguments)]
fn http_call<'js>(
    ctx: &Ctx<'js>,
    method: &str,
    url: Value<'js>,
    body: Option<Value<'js>>,
    headers: Option<Value<'js>>,
    bridge: Option<&HttpBridge>,
    host: &Host,
    meter: &Meter,
    limits: &ScriptLimits,
    deadline: tokio::time::Instant,
    cancel: &CancellationToken,
) -> Result<Json, ConnectorError> {
    let name = format!("sb.http.{method}");
    let Some(bridge) = bridge else {
        return Err(ConnectorError::invalid_input(format!(
            "{name} is not available while the script is being checked; call it inside a command function"
        )));
    };
    let Some(url) = url.as_string().and_then(|s| s.to_string().ok()) else {
        return Err(ConnectorError::invalid_input(format!(
            "{name}: the URL must be a string"
        )));
    };
    let calls = host.http_calls.get() + 1;
    host.http_calls.set(calls);
    if calls > limits.max_http_calls {
        return Err(ConnectorError::invalid_input(format!(
            "{name}: this call already made {} HTTP requests, the limit (limits.maxHttpCalls)",
            limits.max_http_calls
        ))
        .with_vendor_code("script_http_limit"));
    }
    let mut req = OutboundRequest::new(
        method
            .to_ascii_uppercase()
            .parse()
            .unwrap_or(http::Method::GET),
        url,
    );
    let mut has_content_type = false;
    if let Some(h) = headers.filter(|h| !h.is_undefined() && !h.is_null()) {
        match to_json(ctx, h)? {
            Json::Object(m) => {
                for (k, v) in m {
                    let value = match v {
                        Json::String(s) => s,
                        Json::Null => continue,
                        other => other.to_string(),
                    };
                    has_content_type |= k.eq_ignore_ascii_case("content-type");
                    req = req.header(k, value);
                }
            }
            _ => {
                return Err(ConnectorError::invalid_input(format!(
                    "{name}: headers must be an object of name → value"
                )))
            }
        }
    }
    if let Some(b) = body.filter(|b| !b.is_undefined() && !b.is_null()) {
        req = if let Some(s) = b.as_string() {
            let text = s.to_string().unwrap_or_default();
            // A JSON string (seed scripts send JSON.stringify(...)) goes out as JSON.
            let is_json = !has_content_type
                && matches!(text.trim_start().chars().next(), Some('{') | Some('['))
                && serde_json::from_str::<Json>(&text).is_ok();
            if is_json {
                req.header("Content-Type", "application/json")
                    .body(RequestBody::Text(text))
            } else {
                req.text(text)
            }
        } else {
            req.json(to_json(ctx, b)?)
        };
    }
    let started = Instant::now();
    let client = bridge.client.clone();
    let result = bridge.handle.block_on(async {
        tokio::select! {
            r = tokio::time::timeout_at(deadline, client.send(req, Some(deadline))) => r
                .map_err(|_| ConnectorError::timeout(format!("{name}: the call's deadline passed while waiting for the response")))
                .and_then(|r| r.map_err(ConnectorError::from)),
            _ = cancel.cancelled() => Err(ConnectorError::new(ErrorCode::Unavailable, format!("{name}: the call was cancelled"))),
        }
    });
    meter.waited.set(meter.waited.get() + started.elapsed());
    let resp = result.map_err(|mut e| {
        e.message = format!("{name}: {}", e.message);
        e
    })?;
    let body = match serde_json::from_slice::<Json>(&resp.body) {
        Ok(v) if !resp.body.is_empty() => v,
        _ => Json::String(resp.text()),
    };
    let headers: Map<String, Json> = resp
        .headers
        .iter()
        .filter_map(|(k, v)| {
            Some((
                k.as_str().to_string(),
                Json::String(v.to_str().ok()?.to_string()),
            ))
        })
        .collect();
    Ok(json!({"status": resp.status, "body": body, "headers": headers}))
}

fn memory_limit_error(input: &CallInput) -> ConnectorError {
    ConnectorError::upstream(format!(
        "script command '{}' exceeded its memory limit of {} bytes (limits.memoryBytes) and was stopped",
        input.command, input.limits.memory_bytes
    ))
    .with_vendor_code("script_memory_limit")
}

#[cfg(test)]
mod tests {
    use super::location;

    #[test]
    fn finds_line_and_column() {
        assert_eq!(location("    at crm.js:3:7\n", "crm.js"), Some((3, 7)));
        assert_eq!(
            location("    at list (crm.js:12:5)\n    at <eval>", "crm.js"),
            Some((12, 5))
        );
        assert_eq!(location("    at other.js:1:1", "crm.js"), None);
    }
}
