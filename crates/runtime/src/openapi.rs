//! OpenAPI-derived types (execution model `openapi`): [`OpenApiSupport`] reads a document
//! (given, or fetched by URL through the outbound client and its network policy) into a
//! draft and a type; [`OpenApiConnector`] runs the stored operations directly: it builds
//! each request from the command's params, applies the configured credentials (API key,
//! bearer, basic, OAuth2 client credentials with a token cache) and maps the answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ::http::Method;
use futures::future::BoxFuture;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use switchboard_contract::{
    ConnectorError, ConnectorSpec, ErrorCode, ExecutionModel, Failure, Outcome, Success,
};
use switchboard_openapi::{
    BodyEncoding, BodyShape, Draft, Location, OpenApiDefinition, OpenApiType, Operation,
    ParseLimits, SchemeKind, SecurityScheme, SecurityUse, TypeOptions, ACCESS_TOKEN_FIELD, HEALTH,
};
use tokio::time::Instant;

use crate::framework::{Call, Connector};
use crate::http::{
    error_for_status, OutboundClient, OutboundConfig, OutboundRequest, OutboundResponse,
    RequestBody,
};

/// Environment variable overriding the largest OpenAPI document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES_ENV: &str = "SWITCHBOARD_OPENAPI_MAX_BYTES";

/// Where a document comes from.
#[derive(Debug, Clone)]
pub enum OasSource {
    /// The document itself: an object, or JSON or YAML text.
    Document(Value),
    /// Fetched through the hub's outbound client (network policy applies).
    Url(String),
}

impl OasSource {
    /// `{"spec": …}` or `{"url": "…"}`, exactly one.
    pub fn from_fields(
        spec: Option<Value>,
        url: Option<String>,
    ) -> Result<OasSource, ConnectorError> {
        match (spec, url) {
            (Some(spec), None) => Ok(OasSource::Document(spec)),
            (None, Some(url)) => Ok(OasSource::Url(url)),
            (Some(_), Some(_)) => Err(ConnectorError::invalid_input(
                "give either 'spec' (the document) or 'url' (where to fetch it), not both",
            )),
            (None, None) => Err(ConnectorError::invalid_input(
                "give 'spec' (the OpenAPI document, as an object or as JSON or YAML text) or 'url' (where to fetch it)",
            )),
        }
    }
}

/// Parsing, type building and executor construction for the `openapi` model.
#[derive(Clone)]
pub struct OpenApiSupport {
    http: OutboundClient,
    limits: ParseLimits,
}

/// Parse limits: the defaults, with the document size from [`MAX_DOCUMENT_BYTES_ENV`].
pub fn limits_from_env() -> ParseLimits {
    let mut limits = ParseLimits::default();
    if let Some(bytes) = std::env::var(MAX_DOCUMENT_BYTES_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        limits.max_document_bytes = bytes;
    }
    limits
}

fn oas_error(e: switchboard_openapi::OasError) -> ConnectorError {
    let pointer = e.pointer.clone();
    ConnectorError::invalid_input(e.to_string()).with_diagnostics(json!({"pointer": pointer}))
}

impl OpenApiSupport {
    pub fn new(http: OutboundClient, limits: ParseLimits) -> Self {
        OpenApiSupport { http, limits }
    }

    pub fn limits(&self) -> &ParseLimits {
        &self.limits
    }

    /// Reads a document into a draft. Parsing runs off the async threads (GitHub's
    /// description takes a few hundred milliseconds).
    pub async fn parse(&self, source: OasSource) -> Result<Draft, ConnectorError> {
        let limits = self.limits.clone();
        let (document, source_url) = match source {
            OasSource::Document(Value::String(text)) => (Document::Text(text), None),
            OasSource::Document(value @ Value::Object(_)) => (Document::Value(value), None),
            OasSource::Document(_) => {
                return Err(ConnectorError::invalid_input(
                    "'spec' must be the OpenAPI document as an object, or as JSON or YAML text",
                ))
            }
            OasSource::Url(url) => (Document::Text(self.fetch(&url).await?), Some(url)),
        };
        tokio::task::spawn_blocking(move || match document {
            Document::Text(text) => {
                switchboard_openapi::parse_from(&text, &limits, source_url.as_deref())
            }
            Document::Value(value) => switchboard_openapi::parse_value(&value, &limits),
        })
        .await
        .map_err(|_| ConnectorError::internal("parsing the document failed unexpectedly"))?
        .map_err(oas_error)
    }

    /// GETs a document through the network policy, allowing up to the document size limit.
    async fn fetch(&self, url: &str) -> Result<String, ConnectorError> {
        let config = OutboundConfig {
            max_response_bytes: self.limits.max_document_bytes as u64,
            ..self.http.config().clone()
        };
        let client = OutboundClient::new(self.http.policy().clone(), config)?;
        let req = OutboundRequest::get(url)
            .header(
                "Accept",
                "application/json, application/yaml;q=0.9, */*;q=0.5",
            )
            .timeout(Duration::from_secs(60));
        let resp = client.send(req, None).await.map_err(|e| {
            let mut err = ConnectorError::from(e);
            err.message = format!("fetching the OpenAPI document failed: {}", err.message);
            err
        })?;
        if let Some(mut err) = error_for_status(&resp, "the document's server") {
            err.code = ErrorCode::InvalidInput;
            err.message = format!("fetching the OpenAPI document failed: {}", err.message);
            return Err(err);
        }
        String::from_utf8(resp.body.to_vec()).map_err(|_| {
            ConnectorError::invalid_input("the fetched OpenAPI document is not UTF-8 text")
        })
    }

    /// Parses a document and keeps the chosen operations as a type.
    pub async fn build_type(
        &self,
        source: OasSource,
        options: &TypeOptions,
    ) -> Result<(OpenApiType, Vec<switchboard_openapi::Warning>), ConnectorError> {
        let draft = self.parse(source).await?;
        let built = switchboard_openapi::build_type(&draft, options)
            .map_err(ConnectorError::invalid_input)?;
        Ok((built, draft.warnings))
    }

    /// Completes a type about to be stored (`POST`/`PUT /api/connector-types` with
    /// `executionModel: "openapi"`). `definition` is either an import request,
    /// `{"spec": <document> | "url": "…", "operations": ["repos/get", …]}` (operations by
    /// command name or operationId; all when left out), which is parsed and replaces the
    /// spec's config and commands and the definition; or a stored [`OpenApiDefinition`],
    /// which is checked against the spec's commands.
    pub async fn prepare_type(
        &self,
        spec: &mut ConnectorSpec,
        definition: &mut Value,
    ) -> Result<(), ConnectorError> {
        let import = definition
            .as_object()
            .filter(|d| d.contains_key("spec") || d.contains_key("url"));
        let Some(import) = import else {
            // A stored definition (an update that does not re-import): it must still fit.
            let parsed: OpenApiDefinition = serde_json::from_value(definition.clone()).map_err(|e| {
                ConnectorError::invalid_input(format!(
                    "definition must be {{\"spec\": <OpenAPI document>}} or {{\"url\": \"…\"}} with optional \"operations\": [names], or a stored OpenAPI definition ({e})"
                ))
            })?;
            OpenApiConnector::new(spec.clone(), parsed)?;
            return Ok(());
        };
        let source = OasSource::from_fields(
            import.get("spec").cloned(),
            match import.get("url") {
                None => None,
                Some(Value::String(u)) => Some(u.clone()),
                Some(_) => {
                    return Err(ConnectorError::invalid_input(
                        "definition.url must be a string",
                    ))
                }
            },
        )?;
        let operations = match import.get("operations") {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|i| {
                        i.as_str().map(str::to_string).ok_or_else(|| {
                            ConnectorError::invalid_input(
                                "definition.operations must list command names or operationIds (strings)",
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            Some(_) => {
                return Err(ConnectorError::invalid_input(
                    "definition.operations must be an array of command names or operationIds",
                ))
            }
        };
        let options = TypeOptions {
            name: spec.name.clone(),
            version: spec.version.clone(),
            description: Some(spec.description.clone()).filter(|d| !d.is_empty()),
            tool_prefix: Some(spec.tool_prefix.clone()),
            category: spec.category.clone(),
            tags: spec.tags.clone(),
            operations,
        };
        let (built, _warnings) = self.build_type(source, &options).await?;
        let docs_url = spec.docs_url.take();
        *spec = built.spec;
        spec.docs_url = docs_url;
        *definition = serde_json::to_value(&built.definition).map_err(|e| {
            ConnectorError::internal(format!("cannot store the OpenAPI definition: {e}"))
        })?;
        Ok(())
    }

    /// Builds the executor of a stored type from its spec and definition JSON.
    pub fn build(
        &self,
        spec: &ConnectorSpec,
        definition: &Value,
    ) -> Result<Arc<dyn Connector>, ConnectorError> {
        openapi_executor(spec, definition)
    }
}

enum Document {
    Text(String),
    Value(Value),
}

/// The executor of a stored OpenAPI-derived type: its spec and its definition JSON.
pub fn openapi_executor(
    spec: &ConnectorSpec,
    definition: &Value,
) -> Result<Arc<dyn Connector>, ConnectorError> {
    let definition: OpenApiDefinition =
        serde_json::from_value(definition.clone()).map_err(|e| {
            ConnectorError::internal(format!(
                "connector type '{}' has an unreadable OpenAPI definition: {e}",
                spec.name
            ))
        })?;
    Ok(Arc::new(OpenApiConnector::new(spec.clone(), definition)?))
}

/// Cached OAuth2 client-credentials tokens, keyed by connector, endpoint, client,
/// scopes and a hash of the secret (a new secret gets a new token).
type TokenCache = Mutex<HashMap<String, (String, Instant)>>;

/// Runs the operations of an OpenAPI-derived type.
pub struct OpenApiConnector {
    spec: ConnectorSpec,
    definition: Arc<OpenApiDefinition>,
    tokens: Arc<TokenCache>,
    /// Per command, its input schema compiled on first use (`None` when the document's
    /// schema is not valid JSON Schema; the vendor then validates alone).
    validators: HashMap<String, OnceLock<Option<jsonschema::Validator>>>,
}

impl OpenApiConnector {
    /// Checks every command but `health` has an operation.
    pub fn new(
        mut spec: ConnectorSpec,
        definition: OpenApiDefinition,
    ) -> Result<Self, ConnectorError> {
        spec.execution_model = ExecutionModel::Openapi;
        let missing: Vec<&str> = spec
            .commands
            .iter()
            .map(|c| c.name.as_str())
            .filter(|c| *c != HEALTH && definition.operation(c).is_none())
            .collect();
        if !missing.is_empty() {
            return Err(ConnectorError::internal(format!(
                "connector type '{}' has commands without an operation: {}",
                spec.name,
                missing.join(", ")
            )));
        }
        let validators = spec
            .commands
            .iter()
            .filter(|c| c.raw_input_schema.is_some())
            .map(|c| (c.name.clone(), OnceLock::new()))
            .collect();
        Ok(OpenApiConnector {
            spec,
            definition: Arc::new(definition),
            tokens: Arc::new(Mutex::new(HashMap::new())),
            validators,
        })
    }

    /// Checks params against the command's full input schema (nested objects, unions,
    /// patterns), which the hub's field validation does not reach.
    fn check_params(
        &self,
        command: &str,
        params: &Map<String, Value>,
    ) -> Result<(), ConnectorError> {
        let (Some(cell), Some(schema)) = (
            self.validators.get(command),
            self.spec
                .command(command)
                .and_then(|c| c.raw_input_schema.as_ref()),
        ) else {
            return Ok(());
        };
        let Some(validator) = cell.get_or_init(|| jsonschema::validator_for(schema).ok()) else {
            return Ok(());
        };
        let instance = Value::Object(params.clone());
        let problems: Vec<String> = validator
            .iter_errors(&instance)
            .take(5)
            .map(|e| {
                let at = e.instance_path.to_string();
                let at = at.trim_start_matches('/');
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("'{}': {e}", at.replace('/', "."))
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConnectorError::invalid_input(format!(
                "parameters do not match the operation's schema: {}",
                problems.join("; ")
            )))
        }
    }
}

impl Connector for OpenApiConnector {
    fn spec(&self) -> &ConnectorSpec {
        &self.spec
    }

    fn run(&self, command: &str, call: Call) -> BoxFuture<'static, Outcome> {
        if let Err(e) = self.check_params(command, &call.params) {
            return Box::pin(async move { Err(e.into()) });
        }
        let definition = self.definition.clone();
        let tokens = self.tokens.clone();
        let vendor = self.spec.name.clone();
        let command = command.to_string();
        Box::pin(async move {
            let runner = Runner {
                definition: &definition,
                tokens: &tokens,
                vendor: &vendor,
                call: &call,
            };
            if command == HEALTH {
                return runner.health().await;
            }
            match definition.operation(&command) {
                Some(op) => runner.operation(op).await,
                None => Err(ConnectorError::internal(format!(
                    "command '{command}' has no operation"
                ))
                .into()),
            }
        })
    }
}

struct Runner<'a> {
    definition: &'a OpenApiDefinition,
    tokens: &'a TokenCache,
    vendor: &'a str,
    call: &'a Call,
}

/// A request being assembled.
struct Parts {
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    cookies: Vec<(String, String)>,
}

impl Runner<'_> {
    fn config_str(&self, field: &str) -> Option<&str> {
        self.call
            .config
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    fn base_url(&self) -> Result<&str, ConnectorError> {
        self.config_str(&self.definition.base_url_field)
            .map(|b| b.trim_end_matches('/'))
            .ok_or_else(|| {
                ConnectorError::invalid_input(format!(
                    "the connector has no '{}': set it in the connector's config",
                    self.definition.base_url_field
                ))
            })
    }

    async fn health(&self) -> Outcome {
        let base = self.base_url()?.to_string();
        let mut parts = Parts {
            query: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
        };
        // Any configured scheme will do: the point is that the credentials are accepted.
        let uses: Vec<SecurityUse> = self
            .definition
            .security_schemes
            .iter()
            .find(|s| self.configured(s))
            .map(|s| {
                vec![SecurityUse {
                    scheme: s.name.clone(),
                    scopes: Vec::new(),
                }]
            })
            .unwrap_or_default();
        let token = self.authorize(&uses, &mut parts).await?;
        if uses.is_empty() {
            self.fallback_bearer(&mut parts);
        }
        let req = assemble(OutboundRequest::get(with_query(&base, &parts.query)), parts);
        let resp = self.send(req).await?;
        if matches!(resp.status, 401 | 403) || resp.status >= 500 {
            return Err(self.failure(&resp, token.as_deref()));
        }
        Ok(
            Success::new(json!({"status": resp.status, "reachable": true}))
                .rate_limit(resp.rate_limit),
        )
    }

    async fn operation(&self, op: &Operation) -> Outcome {
        let params = &self.call.params;
        let base = self.base_url()?.to_string();
        let mut path = op.path.clone();
        let mut parts = Parts {
            query: Vec::new(),
            headers: Vec::new(),
            cookies: Vec::new(),
        };
        for b in &op.params {
            let Some(value) = params.get(&b.param).filter(|v| !v.is_null()) else {
                if b.location == Location::Path {
                    return Err(ConnectorError::invalid_input(format!(
                        "missing path parameter '{}'",
                        b.param
                    ))
                    .into());
                }
                continue;
            };
            match b.location {
                Location::Path => {
                    let text = simple_value(value);
                    // URL parsers treat `.`/`..` segments (even `%2E%2E`) as navigation: a
                    // value must not move the call to another endpoint of the API.
                    if text.is_empty() || text == "." || text == ".." {
                        return Err(ConnectorError::invalid_input(format!(
                            "path parameter '{}' must not be empty, '.' or '..'",
                            b.param
                        ))
                        .into());
                    }
                    path = path.replace(&format!("{{{}}}", b.wire), &encode_component(&text));
                }
                Location::Query => query_pairs(
                    &b.wire,
                    value,
                    b.style.as_deref(),
                    b.explode,
                    &mut parts.query,
                ),
                Location::Header => parts.headers.push((b.wire.clone(), simple_value(value))),
                Location::Cookie => parts.cookies.push((b.wire.clone(), simple_value(value))),
            }
        }
        if let Some(accept) = &op.accept {
            parts.headers.push(("Accept".into(), accept.clone()));
        }
        let token = self.authorize_operation(op, &mut parts).await?;
        let method = Method::from_bytes(op.method.as_bytes())
            .map_err(|_| ConnectorError::internal(format!("unsupported method '{}'", op.method)))?;
        let url = with_query(&format!("{base}{path}"), &parts.query);
        let mut req = assemble(OutboundRequest::new(method, url), parts);
        if let Some(body) = self.body(op)? {
            req = req.body(body);
        }
        let resp = self.send(req).await?;
        if resp.status >= 400 {
            return Err(self.failure(&resp, token.as_deref()));
        }
        Ok(Success::new(payload_of(&resp)).rate_limit(resp.rate_limit))
    }

    async fn send(&self, req: OutboundRequest) -> Result<OutboundResponse, Box<Failure>> {
        Ok(self
            .call
            .http
            .send(req, Some(self.call.ctx.deadline))
            .await
            .map_err(ConnectorError::from)?)
    }

    /// The vendor's error; a 401 also drops a cached client-credentials token.
    fn failure(&self, resp: &OutboundResponse, token_key: Option<&str>) -> Box<Failure> {
        if resp.status == 401 {
            if let (Some(key), Ok(mut tokens)) = (token_key, self.tokens.lock()) {
                tokens.remove(key);
            }
        }
        let error = error_for_status(resp, self.vendor).unwrap_or_else(|| {
            ConnectorError::upstream(format!("{} returned {}", self.vendor, resp.status))
        });
        Box::new(Failure {
            error,
            variables: Map::new(),
            rate_limit: resp.rate_limit.clone(),
        })
    }

    fn body(&self, op: &Operation) -> Result<Option<RequestBody>, ConnectorError> {
        let Some(binding) = &op.body else {
            return Ok(None);
        };
        let params = &self.call.params;
        let value = match &binding.shape {
            BodyShape::Whole { param } => params.get(param).filter(|v| !v.is_null()).cloned(),
            BodyShape::Properties { properties } => {
                let mut obj = Map::new();
                for p in properties {
                    if let Some(v) = params.get(&p.param).filter(|v| !v.is_null()) {
                        obj.insert(p.wire.clone(), v.clone());
                    }
                }
                (!obj.is_empty() || binding.required).then_some(Value::Object(obj))
            }
        };
        let Some(value) = value else { return Ok(None) };
        Ok(Some(match binding.encoding {
            BodyEncoding::Json if binding.content_type == "application/json" => {
                RequestBody::Json(value)
            }
            BodyEncoding::Json => RequestBody::Bytes(
                serde_json::to_vec(&value).unwrap_or_default().into(),
                binding.content_type.clone(),
            ),
            BodyEncoding::Form => {
                let obj = value.as_object().ok_or_else(|| {
                    ConnectorError::invalid_input("a form body must be an object of fields")
                })?;
                RequestBody::Form(
                    obj.iter()
                        .map(|(k, v)| (k.clone(), simple_value(v)))
                        .collect(),
                )
            }
            BodyEncoding::Text => RequestBody::Bytes(
                simple_value(&value).into_bytes().into(),
                binding.content_type.clone(),
            ),
        }))
    }

    fn configured(&self, scheme: &SecurityScheme) -> bool {
        match &scheme.kind {
            SchemeKind::ApiKey { field, .. } | SchemeKind::Bearer { field } => {
                self.config_str(field).is_some()
            }
            SchemeKind::Basic { username_field, .. } => self.config_str(username_field).is_some(),
            SchemeKind::OAuth2 {
                access_token_field,
                client_credentials,
            } => {
                self.config_str(access_token_field).is_some()
                    || client_credentials.as_ref().is_some_and(|cc| {
                        self.config_str(&cc.token_url_field).is_some()
                            && self.config_str(&cc.client_id_field).is_some()
                            && self.config_str(&cc.client_secret_field).is_some()
                    })
            }
        }
    }

    /// A document without security schemes: `accessToken`, when set, as a bearer token.
    fn fallback_bearer(&self, parts: &mut Parts) {
        if self.definition.fallback_bearer {
            if let Some(token) = self.config_str(ACCESS_TOKEN_FIELD) {
                parts
                    .headers
                    .push(("Authorization".into(), format!("Bearer {token}")));
            }
        }
    }

    /// Picks the first requirement whose schemes are all configured and applies it.
    async fn authorize_operation(
        &self,
        op: &Operation,
        parts: &mut Parts,
    ) -> Result<Option<String>, ConnectorError> {
        if op.security.is_empty() {
            self.fallback_bearer(parts);
            return Ok(None);
        }
        // The first alternative the config satisfies; an empty one (`{}`) means the
        // operation also works without credentials.
        let usable = op.security.iter().find(|alternative| {
            !alternative.is_empty()
                && alternative.iter().all(|u| {
                    self.definition
                        .scheme(&u.scheme)
                        .is_some_and(|s| self.configured(s))
                })
        });
        match usable {
            Some(uses) => self.authorize(uses, parts).await,
            None if op.security.iter().any(Vec::is_empty) => Ok(None),
            None => {
                let fields: Vec<String> = op
                    .security
                    .iter()
                    .flatten()
                    .filter_map(|u| self.definition.scheme(&u.scheme))
                    .map(|s| format!("'{}' ({})", s.name, scheme_fields(s).join(" + ")))
                    .collect();
                Err(ConnectorError::new(
                    ErrorCode::Unauthorized,
                    format!(
                        "'{}' needs credentials the connector does not have: configure one of {}",
                        op.command,
                        fields.join(", ")
                    ),
                ))
            }
        }
    }

    /// Applies schemes; returns the token-cache key when a client-credentials token was used.
    async fn authorize(
        &self,
        uses: &[SecurityUse],
        parts: &mut Parts,
    ) -> Result<Option<String>, ConnectorError> {
        let mut cache_key = None;
        for u in uses {
            let Some(scheme) = self.definition.scheme(&u.scheme) else {
                continue;
            };
            match &scheme.kind {
                SchemeKind::ApiKey {
                    location,
                    param_name,
                    field,
                } => {
                    let key = self.config_str(field).unwrap_or_default().to_string();
                    match location {
                        Location::Header => parts.headers.push((param_name.clone(), key)),
                        Location::Query => parts.query.push((param_name.clone(), key)),
                        Location::Cookie => parts.cookies.push((param_name.clone(), key)),
                        Location::Path => {}
                    }
                }
                SchemeKind::Bearer { field } => {
                    let token = self.config_str(field).unwrap_or_default();
                    parts
                        .headers
                        .push(("Authorization".into(), format!("Bearer {token}")));
                }
                SchemeKind::Basic {
                    username_field,
                    password_field,
                } => {
                    let user = self.config_str(username_field).unwrap_or_default();
                    let pass = self.config_str(password_field).unwrap_or_default();
                    let encoded = base64_encode(&format!("{user}:{pass}"));
                    parts
                        .headers
                        .push(("Authorization".into(), format!("Basic {encoded}")));
                }
                SchemeKind::OAuth2 {
                    access_token_field,
                    client_credentials,
                } => {
                    let token = match (self.config_str(access_token_field), client_credentials) {
                        (Some(token), _) => token.to_string(),
                        (None, Some(cc)) => {
                            let (token, key) = self
                                .client_credentials_token(
                                    self.config_str(&cc.token_url_field).unwrap_or_default(),
                                    self.config_str(&cc.client_id_field).unwrap_or_default(),
                                    self.config_str(&cc.client_secret_field).unwrap_or_default(),
                                    &u.scopes,
                                )
                                .await?;
                            cache_key = Some(key);
                            token
                        }
                        (None, None) => continue,
                    };
                    parts
                        .headers
                        .push(("Authorization".into(), format!("Bearer {token}")));
                }
            }
        }
        Ok(cache_key)
    }

    /// A cached token, or a new one from the token endpoint (client credentials grant,
    /// client authenticated with HTTP basic as RFC 6749 recommends).
    async fn client_credentials_token(
        &self,
        token_url: &str,
        client_id: &str,
        client_secret: &str,
        scopes: &[String],
    ) -> Result<(String, String), ConnectorError> {
        let scope = scopes.join(" ");
        let secret_hash = Sha256::digest(client_secret.as_bytes());
        let key = format!(
            "{}\n{token_url}\n{client_id}\n{scope}\n{:x}",
            self.call.instance.id, secret_hash
        );
        if let Ok(tokens) = self.tokens.lock() {
            if let Some((token, expires)) = tokens.get(&key) {
                if *expires > Instant::now() {
                    return Ok((token.clone(), key));
                }
            }
        }
        let mut form = vec![("grant_type".to_string(), "client_credentials".to_string())];
        if !scope.is_empty() {
            form.push(("scope".into(), scope));
        }
        let req = OutboundRequest::post(token_url)
            .basic(encode_form(client_id), encode_form(client_secret))
            .header("Accept", "application/json")
            .form(form);
        let resp = self
            .call
            .http
            .send(req, Some(self.call.ctx.deadline))
            .await?;
        if !resp.is_success() {
            return Err(ConnectorError::new(
                ErrorCode::Unauthorized,
                format!(
                    "the OAuth token endpoint refused the client credentials ({}); check clientId and clientSecret",
                    resp.status
                ),
            )
            .with_diagnostics(json!({"status": resp.status})));
        }
        let body = resp.json_value();
        let token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ConnectorError::upstream(
                    "the OAuth token endpoint answered without an access_token",
                )
            })?
            .to_string();
        let lifetime = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        // Renew a little early so a token never expires in flight.
        let expires = Instant::now() + Duration::from_secs(lifetime.saturating_sub(30).max(1));
        if let Ok(mut tokens) = self.tokens.lock() {
            let now = Instant::now();
            tokens.retain(|_, (_, until)| *until > now);
            tokens.insert(key.clone(), (token.clone(), expires));
        }
        Ok((token, key))
    }
}

/// The config fields a scheme reads, for error messages.
fn scheme_fields(s: &SecurityScheme) -> Vec<String> {
    match &s.kind {
        SchemeKind::ApiKey { field, .. } | SchemeKind::Bearer { field } => vec![field.clone()],
        SchemeKind::Basic {
            username_field,
            password_field,
        } => vec![username_field.clone(), password_field.clone()],
        SchemeKind::OAuth2 {
            access_token_field,
            client_credentials,
        } => {
            let mut f = vec![access_token_field.clone()];
            if let Some(cc) = client_credentials {
                f = vec![format!(
                    "{} or {}/{}/{}",
                    access_token_field,
                    cc.token_url_field,
                    cc.client_id_field,
                    cc.client_secret_field
                )];
            }
            f
        }
    }
}

fn assemble(mut req: OutboundRequest, parts: Parts) -> OutboundRequest {
    for (k, v) in parts.headers {
        req = req.header(k, v);
    }
    if !parts.cookies.is_empty() {
        let cookie: Vec<String> = parts
            .cookies
            .iter()
            .map(|(k, v)| format!("{}={}", encode_form(k), encode_form(v)))
            .collect();
        req = req.header("Cookie", cookie.join("; "));
    }
    req
}

fn with_query(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_string();
    }
    let qs: Vec<String> = query
        .iter()
        .map(|(k, v)| format!("{}={}", encode_form(k), encode_form(v)))
        .collect();
    format!(
        "{url}{}{}",
        if url.contains('?') { '&' } else { '?' },
        qs.join("&")
    )
}

/// A scalar as text; arrays and objects in the `simple` style (comma-separated).
fn simple_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(simple_value).collect::<Vec<_>>().join(","),
        Value::Object(obj) => obj
            .iter()
            .flat_map(|(k, v)| [k.clone(), simple_value(v)])
            .collect::<Vec<_>>()
            .join(","),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Query serialization per OpenAPI `style` and `explode` (default `form`, exploded).
fn query_pairs(
    name: &str,
    value: &Value,
    style: Option<&str>,
    explode: Option<bool>,
    out: &mut Vec<(String, String)>,
) {
    let style = style.unwrap_or("form");
    let explode = explode.unwrap_or(style == "form");
    match value {
        Value::Array(items) => {
            if explode {
                out.extend(items.iter().map(|i| (name.to_string(), simple_value(i))));
            } else {
                let sep = match style {
                    "spaceDelimited" => " ",
                    "pipeDelimited" => "|",
                    _ => ",",
                };
                out.push((
                    name.to_string(),
                    items.iter().map(simple_value).collect::<Vec<_>>().join(sep),
                ));
            }
        }
        Value::Object(obj) if style == "deepObject" => {
            out.extend(
                obj.iter()
                    .map(|(k, v)| (format!("{name}[{k}]"), simple_value(v))),
            );
        }
        Value::Object(obj) if explode => {
            out.extend(obj.iter().map(|(k, v)| (k.clone(), simple_value(v))));
        }
        other => out.push((name.to_string(), simple_value(other))),
    }
}

/// Percent-encodes all but RFC 3986 unreserved characters (path segments: `/` too).
fn encode_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn encode_form(s: &str) -> String {
    encode_component(s)
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The JSON body; for an empty or non-JSON answer, its status and text.
fn payload_of(resp: &OutboundResponse) -> Value {
    if resp.body.is_empty() {
        return json!({"status": resp.status});
    }
    match serde_json::from_slice::<Value>(&resp.body) {
        Ok(v) => v,
        Err(_) => json!({
            "status": resp.status,
            "contentType": resp.header("content-type").unwrap_or(""),
            "text": resp.text(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_styles() {
        let mut out = Vec::new();
        query_pairs("t", &json!(["a", "b"]), None, None, &mut out);
        query_pairs("u", &json!(["a", "b"]), None, Some(false), &mut out);
        query_pairs(
            "p",
            &json!(["a", "b"]),
            Some("pipeDelimited"),
            None,
            &mut out,
        );
        query_pairs(
            "f",
            &json!({"x": 1}),
            Some("deepObject"),
            Some(true),
            &mut out,
        );
        query_pairs("n", &json!(5), None, None, &mut out);
        let pairs: Vec<(&str, &str)> = out.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("t", "a"),
                ("t", "b"),
                ("u", "a,b"),
                ("p", "a|b"),
                ("f[x]", "1"),
                ("n", "5")
            ]
        );
        assert_eq!(
            with_query("https://x/y", &[("a b".into(), "c&d".into())]),
            "https://x/y?a%20b=c%26d"
        );
    }

    #[test]
    fn path_values_are_percent_encoded() {
        assert_eq!(encode_component("src/main.rs"), "src%2Fmain.rs");
        assert_eq!(encode_component("a b?#"), "a%20b%3F%23");
        assert_eq!(simple_value(&json!([1, "x"])), "1,x");
    }
}
