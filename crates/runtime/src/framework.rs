//! The connector framework: what a handler receives (`Call`), and how a connector
//! type bundles its declarative spec with its handlers (`Definition`).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use switchboard_contract::{CommandSpec, ConnectorError, ConnectorSpec, FieldSpec, Outcome};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::http::OutboundClient;

/// One progress update from a long-running handler.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressUpdate {
    pub progress: f64,
    pub total: Option<f64>,
    pub message: Option<String>,
}

/// Where a handler reports progress; a no-op when the caller did not ask for it.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<dyn Fn(ProgressUpdate) + Send + Sync>>);

impl Progress {
    pub fn new(sink: impl Fn(ProgressUpdate) + Send + Sync + 'static) -> Self {
        Progress(Some(Arc::new(sink)))
    }
    pub fn report(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        if let Some(sink) = &self.0 {
            sink(ProgressUpdate {
                progress,
                total,
                message: message.map(str::to_string),
            });
        }
    }
    pub fn is_wanted(&self) -> bool {
        self.0.is_some()
    }
}

/// What a handler may ask of the MCP client that made the call: log lines, an LLM
/// completion (sampling), input from the user (elicitation). Params and results are
/// MCP's JSON shapes, so the runtime stays free of any MCP library.
#[async_trait::async_trait]
pub trait ClientBridge: Send + Sync {
    /// A `notifications/message` at `level` (`debug`, `info`, `warning`, `error`…).
    async fn log(&self, level: &str, data: Value);
    /// `sampling/createMessage`; fails when the client does not offer sampling.
    async fn create_message(&self, params: Value) -> Result<Value, ConnectorError>;
    /// `elicitation/create`; fails when the client does not offer elicitation.
    async fn elicit(&self, params: Value) -> Result<Value, ConnectorError>;
}

/// Per-call context: tracing id, deadline, cancellation, progress, the client.
#[derive(Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub deadline: Instant,
    pub cancel: CancellationToken,
    pub progress: Progress,
    /// Present when the call came over MCP from a client that can be asked things.
    pub client: Option<Arc<dyn ClientBridge>>,
}

impl RequestContext {
    pub fn new(request_id: impl Into<String>, timeout: std::time::Duration) -> Self {
        RequestContext {
            request_id: request_id.into(),
            deadline: Instant::now() + timeout,
            cancel: CancellationToken::new(),
            progress: Progress::default(),
            client: None,
        }
    }

    /// The calling client, or an error saying the call did not come from one that can answer.
    pub fn client(&self) -> Result<&Arc<dyn ClientBridge>, ConnectorError> {
        self.client.as_ref().ok_or_else(|| {
            ConnectorError::invalid_input(
                "this command needs an MCP client that can be asked (sampling, elicitation)",
            )
        })
    }
}

/// Which configured connector a call runs for; handlers that keep state key it by `id`.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
}

/// Everything a handler gets. Params are already validated, with defaults applied.
#[derive(Clone)]
pub struct Call {
    pub command: String,
    pub params: Map<String, Value>,
    /// Decrypted connection config, secrets included. Never log it.
    pub config: Map<String, Value>,
    pub variables: Map<String, Value>,
    /// The verified continuation state of the cursor the caller passed, if any.
    pub cursor: Option<Value>,
    pub ctx: RequestContext,
    pub http: OutboundClient,
    pub instance: Instance,
}

impl Call {
    /// The params as a typed struct.
    pub fn params_as<T: DeserializeOwned>(&self) -> Result<T, ConnectorError> {
        serde_json::from_value(Value::Object(self.params.clone()))
            .map_err(|e| ConnectorError::invalid_input(format!("invalid parameters: {e}")))
    }
    /// The connection config as a typed struct.
    pub fn config_as<T: DeserializeOwned>(&self) -> Result<T, ConnectorError> {
        serde_json::from_value(Value::Object(self.config.clone())).map_err(|e| {
            ConnectorError::invalid_input(format!(
                "the connector's configuration is incomplete or invalid: {e}"
            ))
        })
    }
    pub fn str_param(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }
    /// The `fields` standard input: the fields the caller will keep, so a handler can
    /// ask its vendor for only those (the dispatcher projects the result either way).
    pub fn fields(&self) -> Vec<String> {
        string_list(self.params.get(switchboard_contract::standard::FIELDS))
    }
    /// The `limit` standard input, bounded by the connector's own maximum.
    pub fn limit(&self, default: usize, max: usize) -> usize {
        self.params
            .get(switchboard_contract::standard::LIMIT)
            .and_then(Value::as_u64)
            .map_or(default, |l| l as usize)
            .clamp(1, max)
    }
    pub fn time_left(&self) -> std::time::Duration {
        self.ctx.deadline.saturating_duration_since(Instant::now())
    }
}

pub type Handler = Arc<dyn Fn(Call) -> BoxFuture<'static, Outcome> + Send + Sync>;

/// Rewrites a handler's error, e.g. to add a vendor-specific hint. Returns `None` to keep it.
pub type ErrorMap = Arc<dyn Fn(&ConnectorError) -> Option<ConnectorError> + Send + Sync>;

/// Anything the dispatcher can run: built-in definitions now; script, external,
/// OpenAPI and MCP executors implement the same trait.
pub trait Connector: Send + Sync {
    fn spec(&self) -> &ConnectorSpec;
    fn run(&self, command: &str, call: Call) -> BoxFuture<'static, Outcome>;
    fn map_error(&self, _error: &ConnectorError) -> Option<ConnectorError> {
        None
    }

    // Resources, prompts and completions, in MCP's JSON shapes. Most connectors
    // offer none; MCP fixtures and proxied MCP servers do.

    /// MCP `Resource` objects.
    fn resources(&self, _instance: &Instance) -> Vec<Value> {
        Vec::new()
    }
    /// MCP `ResourceTemplate` objects.
    fn resource_templates(&self, _instance: &Instance) -> Vec<Value> {
        Vec::new()
    }
    /// The `ReadResourceResult` for `uri`, or `None` when this connector does not serve it.
    fn read_resource(
        &self,
        _instance: &Instance,
        _uri: &str,
    ) -> BoxFuture<'static, Option<Result<Value, ConnectorError>>> {
        Box::pin(async { None })
    }
    /// MCP `Prompt` objects.
    fn prompts(&self, _instance: &Instance) -> Vec<Value> {
        Vec::new()
    }
    /// The `GetPromptResult`, or `None` when this connector has no such prompt.
    fn get_prompt(
        &self,
        _instance: &Instance,
        _name: &str,
        _arguments: Map<String, Value>,
    ) -> BoxFuture<'static, Option<Result<Value, ConnectorError>>> {
        Box::pin(async { None })
    }
    /// Suggestions for an argument of a prompt (`ref/prompt`) or template (`ref/resource`).
    fn complete(&self, _reference: &Value, _argument: &str, _value: &str) -> Vec<String> {
        Vec::new()
    }
}

/// A built-in connector type: its spec plus one handler per command.
pub struct Definition {
    spec: ConnectorSpec,
    handlers: HashMap<String, Handler>,
    error_map: Option<ErrorMap>,
}

impl Definition {
    pub fn builder(name: &str, version: &str, description: &str) -> DefinitionBuilder {
        DefinitionBuilder {
            spec: ConnectorSpec {
                name: name.to_string(),
                version: version.to_string(),
                description: description.to_string(),
                category: None,
                tags: Vec::new(),
                tool_prefix: name.replace('_', "-"),
                execution_model: switchboard_contract::ExecutionModel::BuiltIn,
                scopes: Vec::new(),
                requires_oauth: false,
                oauth_provider: None,
                docs_url: None,
                config: Vec::new(),
                default_command: None,
                commands: Vec::new(),
            },
            handlers: HashMap::new(),
            error_map: None,
        }
    }
}

impl Connector for Definition {
    fn spec(&self) -> &ConnectorSpec {
        &self.spec
    }
    fn run(&self, command: &str, call: Call) -> BoxFuture<'static, Outcome> {
        match self.handlers.get(command) {
            Some(h) => h(call),
            None => {
                let msg = format!("command '{command}' has no handler");
                Box::pin(async move { switchboard_contract::fail(ConnectorError::internal(msg)) })
            }
        }
    }
    fn map_error(&self, error: &ConnectorError) -> Option<ConnectorError> {
        self.error_map.as_ref().and_then(|m| m(error))
    }
}

pub struct DefinitionBuilder {
    spec: ConnectorSpec,
    handlers: HashMap<String, Handler>,
    error_map: Option<ErrorMap>,
}

impl DefinitionBuilder {
    pub fn category(mut self, c: &str) -> Self {
        self.spec.category = Some(c.to_string());
        self
    }
    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.spec.tags = tags.iter().map(|t| t.to_string()).collect();
        self
    }
    pub fn tool_prefix(mut self, p: &str) -> Self {
        self.spec.tool_prefix = p.to_string();
        self
    }
    pub fn docs_url(mut self, u: &str) -> Self {
        self.spec.docs_url = Some(u.to_string());
        self
    }
    pub fn scopes(mut self, s: &[&str]) -> Self {
        self.spec.scopes = s.iter().map(|t| t.to_string()).collect();
        self
    }
    pub fn oauth(mut self, provider: &str) -> Self {
        self.spec.requires_oauth = true;
        self.spec.oauth_provider = Some(provider.to_string());
        self
    }
    pub fn config(mut self, field: FieldSpec) -> Self {
        self.spec.config.push(field);
        self
    }
    pub fn default_command(mut self, c: &str) -> Self {
        self.spec.default_command = Some(c.to_string());
        self
    }
    pub fn error_map(
        mut self,
        f: impl Fn(&ConnectorError) -> Option<ConnectorError> + Send + Sync + 'static,
    ) -> Self {
        self.error_map = Some(Arc::new(f));
        self
    }
    pub fn command<F, Fut>(mut self, spec: CommandSpec, handler: F) -> Self
    where
        F: Fn(Call) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        self.handlers.insert(
            spec.name.clone(),
            Arc::new(move |call| Box::pin(handler(call))),
        );
        self.spec.commands.push(spec);
        self
    }
    pub fn build(self) -> Definition {
        Definition {
            spec: self.spec,
            handlers: self.handlers,
            error_map: self.error_map,
        }
    }
}

/// The connector types this binary can execute, by catalog id; the execution models
/// it can run user-built types in beyond the runtime's own; and the user-built types
/// seeded into every catalog (the sample script connector).
#[derive(Clone, Default)]
pub struct Registry {
    types: HashMap<String, Arc<dyn Connector>>,
    models: Vec<(
        switchboard_contract::ExecutionModel,
        Arc<dyn crate::executors::ExecutionModelSupport>,
    )>,
    seeds: Vec<Value>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }
    /// Registers a type; a spec that breaks the naming rules is a programming error
    /// caught by the built-ins' tests, so it panics here at start-up, never later.
    pub fn register(&mut self, connector: Arc<dyn Connector>) {
        if let Err(e) = connector.spec().check() {
            panic!("connector type '{}' is invalid: {e}", connector.spec().name);
        }
        self.types.insert(connector.spec().name.clone(), connector);
    }
    pub fn get(&self, type_id: &str) -> Option<Arc<dyn Connector>> {
        self.types.get(type_id).cloned()
    }
    pub fn specs(&self) -> impl Iterator<Item = &ConnectorSpec> {
        self.types.values().map(|c| c.spec())
    }
    /// Adds (or replaces) the support for an execution model, e.g. OpenAPI.
    pub fn register_model(
        &mut self,
        model: switchboard_contract::ExecutionModel,
        support: Arc<dyn crate::executors::ExecutionModelSupport>,
    ) {
        self.models.push((model, support));
    }
    pub fn models(
        &self,
    ) -> impl Iterator<
        Item = &(
            switchboard_contract::ExecutionModel,
            Arc<dyn crate::executors::ExecutionModelSupport>,
        ),
    > {
        self.models.iter()
    }
    /// A user-built type to create in the catalog at start-up, in the body shape of
    /// `POST /api/connector-types`; replaced when its version changes.
    pub fn seed_type(&mut self, definition: Value) {
        self.seeds.push(definition);
    }
    pub fn seeded_types(&self) -> &[Value] {
        &self.seeds
    }
}

/// The strings of a JSON array (other items and non-arrays give nothing).
pub fn string_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}
