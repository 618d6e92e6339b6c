//! The OpenAPI executor against a local echo server: request building (path, query,
//! header, cookie, body) and every supported credential, OAuth2 token caching included.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use switchboard_contract::ErrorCode;
use switchboard_openapi::{build_type, parse_value, ParseLimits, TypeOptions};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::openapi::openapi_executor;
use switchboard_runtime::{Call, Connector, Instance, RequestContext};

#[derive(Clone, Default)]
struct Sim {
    token_requests: Arc<AtomicU32>,
}

async fn token(State(sim): State<Sim>, headers: HeaderMap, body: String) -> impl IntoResponse {
    // client_secret_basic of "my client" / "s3cret" (form-encoded, then base64).
    let expected = "Basic bXklMjBjbGllbnQ6czNjcmV0";
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected)
        || !body.contains("grant_type=client_credentials")
    {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        );
    }
    let n = sim.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    (
        StatusCode::OK,
        Json(
            json!({"access_token": format!("tok-{n}"), "token_type": "Bearer", "expires_in": 3600, "scope": body}),
        ),
    )
}

/// Echoes the request; `/status/{code}` answers with that status.
async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    if let Some(code) = uri.path().strip_prefix("/api/status/") {
        let code = code.parse().unwrap_or(500);
        return (
            StatusCode::from_u16(code).unwrap(),
            Json(json!({"message": "simulated failure"})),
        )
            .into_response();
    }
    if uri.path() == "/api/empty" {
        return StatusCode::NO_CONTENT.into_response();
    }
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "authorization": header("authorization"),
        "xApiKey": header("x-api-key"),
        "xTrace": header("x-trace"),
        "accept": header("accept"),
        "cookie": header("cookie"),
        "contentType": header("content-type"),
        "body": String::from_utf8_lossy(&body),
    }))
    .into_response()
}

async fn start(sim: Sim) -> String {
    let app = Router::new()
        .route("/token", post(token))
        .fallback(echo)
        .with_state(sim);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn document(base: &str) -> Value {
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Echo", "version": "1"},
        "servers": [{"url": format!("{base}/api")}],
        "paths": {
            "/files/{path}": {"get": {"operationId": "getFile", "security": [{"header": []}], "parameters": [
                {"name": "path", "in": "path", "required": true, "schema": {"type": "string"}},
                {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                {"name": "filter", "in": "query", "style": "deepObject", "schema": {"type": "object"}},
                {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                {"name": "pref", "in": "cookie", "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/vnd.echo+json": {"schema": {"type": "object"}}}}}}},
            "/items": {
                "post": {"operationId": "createItem", "security": [{"basic": []}], "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "count": {"type": "integer"}}}}}}},
                "patch": {"operationId": "patchItems", "security": [{"query": []}], "requestBody": {"content": {"application/merge-patch+json": {"schema": {
                    "type": "array", "items": {"type": "string"}}}}}},
                "put": {"operationId": "formItems", "security": [{"cookie": []}], "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
                    "type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "integer"}}}}}}}
            },
            "/oauth": {"get": {"operationId": "viaOauth", "security": [{"oauth": ["read", "write"]}]}},
            "/either": {"get": {"operationId": "either", "security": [{"header": []}, {"basic": []}]}},
            "/optional": {"get": {"operationId": "optional", "security": [{}, {"header": []}]}},
            "/status/{code}": {"get": {"operationId": "status", "parameters": [{"name": "code", "in": "path", "required": true, "schema": {"type": "integer"}}]}},
            "/empty": {"delete": {"operationId": "empty"}}
        },
        "components": {"securitySchemes": {
            "header": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "query": {"type": "apiKey", "in": "query", "name": "api_key"},
            "cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
            "basic": {"type": "http", "scheme": "basic"},
            "oauth": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": format!("{base}/token"), "scopes": {}}}}
        }}
    })
}

fn connector(base: &str) -> Arc<dyn Connector> {
    let draft = parse_value(&document(base), &ParseLimits::default()).unwrap();
    assert!(draft.warnings.is_empty(), "{:?}", draft.warnings);
    let t = build_type(
        &draft,
        &TypeOptions {
            name: "echo".into(),
            ..TypeOptions::default()
        },
    )
    .unwrap();
    let spec = serde_json::to_value(&t.spec).unwrap();
    let definition = serde_json::to_value(&t.definition).unwrap();
    openapi_executor(&serde_json::from_value(spec).unwrap(), &definition).unwrap()
}

fn client() -> OutboundClient {
    let policy = NetworkPolicy::new(NetworkPolicy::parse_allowlist("127.0.0.0/8").unwrap());
    OutboundClient::new(
        policy,
        OutboundConfig {
            max_retries: 0,
            ..OutboundConfig::default()
        },
    )
    .unwrap()
}

fn map(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// Runs a command as the dispatcher would (params already validated).
async fn run(
    c: &Arc<dyn Connector>,
    command: &str,
    params: Value,
    config: Value,
) -> Result<Value, switchboard_contract::ConnectorError> {
    let call = Call {
        command: command.into(),
        params: map(params),
        config: map(config),
        variables: Map::new(),
        cursor: None,
        ctx: RequestContext::new("r1", Duration::from_secs(10)),
        http: client(),
        instance: Instance {
            id: "c1".into(),
            tenant_id: "t1".into(),
            name: "echo".into(),
        },
    };
    c.run(command, call)
        .await
        .map(|s| s.payload)
        .map_err(|f| f.error)
}

#[tokio::test]
async fn path_query_header_cookie_and_api_key_header() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let config = json!({"baseUrl": format!("{base}/api"), "header": "k-1"});
    let out = run(&c, "getFile", json!({
        "path": "src/main rs", "tags": ["a", "b"], "filter": {"state": "open"}, "X-Trace": "t-9", "pref": "dark"}), config).await.unwrap();
    assert_eq!(out["method"], "GET");
    assert_eq!(
        out["path"], "/api/files/src%2Fmain%20rs",
        "path params are percent-encoded"
    );
    assert_eq!(out["query"], "tags=a&tags=b&filter%5Bstate%5D=open");
    assert_eq!(out["xApiKey"], "k-1");
    assert_eq!(out["xTrace"], "t-9");
    assert_eq!(out["cookie"], "pref=dark");
    assert_eq!(
        out["accept"], "application/vnd.echo+json",
        "Accept from the success response"
    );
}

#[tokio::test]
async fn path_values_cannot_navigate_to_other_endpoints() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let config = json!({"baseUrl": format!("{base}/api"), "header": "k-1"});
    for bad in ["..", ".", ""] {
        let err = run(&c, "getFile", json!({"path": bad}), config.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidInput, "{bad:?}");
        assert!(
            err.message.contains("must not be empty, '.' or '..'"),
            "{}",
            err.message
        );
    }
    let out = run(&c, "getFile", json!({"path": "../x"}), config)
        .await
        .unwrap();
    assert_eq!(
        out["path"], "/api/files/..%2Fx",
        "a slash is encoded, so '..' stays inside one segment"
    );
}

#[tokio::test]
async fn nested_values_are_checked_against_the_full_schema() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let config = json!({"baseUrl": format!("{base}/api"), "header": "k-1"});
    let err = run(
        &c,
        "getFile",
        json!({"path": "a", "filter": "not-an-object"}),
        config.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(
        err.message.contains("'filter'") && err.message.contains("object"),
        "{}",
        err.message
    );
    let err = run(
        &c,
        "patchItems",
        json!({"body": [1]}),
        json!({"baseUrl": format!("{base}/api"), "query": "k"}),
    )
    .await
    .unwrap_err();
    assert!(err.message.contains("'body.0'"), "{}", err.message);
}

#[tokio::test]
async fn json_body_with_basic_auth() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let config = json!({"baseUrl": format!("{base}/api"), "username": "ann", "password": "pw"});
    let out = run(&c, "createItem", json!({"name": "x", "count": 2}), config)
        .await
        .unwrap();
    assert_eq!(out["method"], "POST");
    assert_eq!(
        serde_json::from_str::<Value>(out["body"].as_str().unwrap()).unwrap(),
        json!({"name": "x", "count": 2})
    );
    assert_eq!(out["authorization"], "Basic YW5uOnB3");
    assert_eq!(out["contentType"], "application/json");
}

#[tokio::test]
async fn whole_body_with_its_media_type_and_api_key_in_query() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let config = json!({"baseUrl": format!("{base}/api"), "query": "q k"});
    let out = run(&c, "patchItems", json!({"body": ["a"]}), config)
        .await
        .unwrap();
    assert_eq!(out["method"], "PATCH");
    assert_eq!(out["body"], "[\"a\"]");
    assert_eq!(out["contentType"], "application/merge-patch+json");
    assert_eq!(out["query"], "api_key=q%20k");
}

#[tokio::test]
async fn form_body_with_api_key_in_cookie() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let config = json!({"baseUrl": format!("{base}/api"), "cookie": "sess"});
    let out = run(&c, "formItems", json!({"a": "x y", "b": 3}), config)
        .await
        .unwrap();
    assert_eq!(out["method"], "PUT");
    assert_eq!(out["contentType"], "application/x-www-form-urlencoded");
    assert_eq!(out["body"], "a=x+y&b=3");
    assert_eq!(out["cookie"], "session=sess");
}

#[tokio::test]
async fn oauth2_client_credentials_token_is_fetched_once_and_cached() {
    let sim = Sim::default();
    let base = start(sim.clone()).await;
    let c = connector(&base);
    let config = json!({"baseUrl": format!("{base}/api"), "clientId": "my client", "clientSecret": "s3cret", "tokenUrl": format!("{base}/token")});
    let first = run(&c, "viaOauth", json!({}), config.clone())
        .await
        .unwrap();
    assert_eq!(first["authorization"], "Bearer tok-1");
    let second = run(&c, "viaOauth", json!({}), config.clone())
        .await
        .unwrap();
    assert_eq!(second["authorization"], "Bearer tok-1");
    assert_eq!(
        sim.token_requests.load(Ordering::SeqCst),
        1,
        "the token is cached"
    );

    // A ready access token (the token lifecycle's) wins over the grant.
    let mut with_token = config.clone();
    with_token["accessToken"] = json!("from-lifecycle");
    let out = run(&c, "viaOauth", json!({}), with_token).await.unwrap();
    assert_eq!(out["authorization"], "Bearer from-lifecycle");

    let mut wrong = config;
    wrong["clientSecret"] = json!("nope");
    let err = run(&c, "viaOauth", json!({}), wrong).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains("refused the client credentials"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("nope"));
}

#[tokio::test]
async fn first_configured_alternative_is_used_and_missing_credentials_are_named() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let out = run(
        &c,
        "either",
        json!({}),
        json!({"baseUrl": format!("{base}/api"), "username": "u", "password": "p"}),
    )
    .await
    .unwrap();
    assert!(out["authorization"].as_str().unwrap().starts_with("Basic "));
    assert!(out["xApiKey"].is_null());
    // `{}` among the alternatives: credentials are sent when configured, else none.
    let bare = json!({"baseUrl": format!("{base}/api")});
    let out = run(&c, "optional", json!({}), bare).await.unwrap();
    assert!(out["xApiKey"].is_null() && out["authorization"].is_null());
    let keyed = json!({"baseUrl": format!("{base}/api"), "header": "k"});
    let out = run(&c, "optional", json!({}), keyed).await.unwrap();
    assert_eq!(out["xApiKey"], "k");
    let err = run(
        &c,
        "either",
        json!({}),
        json!({"baseUrl": format!("{base}/api")}),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::Unauthorized);
    assert!(
        err.message.contains("'header' (header)")
            && err.message.contains("'basic' (username + password)"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn statuses_map_to_contract_errors_and_empty_answers_to_status() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let config = json!({"baseUrl": format!("{base}/api")});
    for (code, expected) in [
        (401, ErrorCode::Unauthorized),
        (404, ErrorCode::NotFound),
        (422, ErrorCode::InvalidInput),
        (429, ErrorCode::RateLimited),
        (503, ErrorCode::Unavailable),
    ] {
        let err = run(&c, "status", json!({"code": code}), config.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code, expected, "{code}");
        assert_eq!(
            err.diagnostics.as_ref().unwrap()["body"]["message"],
            "simulated failure"
        );
    }
    let out = run(&c, "empty", json!({}), config.clone()).await.unwrap();
    assert_eq!(out, json!({"status": 204}));
    let health = run(&c, "health", json!({}), config).await.unwrap();
    assert_eq!(health["reachable"], true);
    let err = run(&c, "health", json!({}), json!({})).await.unwrap_err();
    assert!(err.message.contains("no 'baseUrl'"), "{}", err.message);
}

#[tokio::test]
async fn network_policy_applies_to_operations() {
    let base = start(Sim::default()).await;
    let c = connector(&base);
    let call = Call {
        command: "empty".into(),
        params: Map::new(),
        config: map(json!({"baseUrl": format!("{base}/api")})),
        variables: Map::new(),
        cursor: None,
        ctx: RequestContext::new("r1", Duration::from_secs(5)),
        http: OutboundClient::new(NetworkPolicy::default(), OutboundConfig::default()).unwrap(),
        instance: Instance::default(),
    };
    let err = c.run("empty", call).await.unwrap_err().error;
    assert_eq!(err.code, ErrorCode::Forbidden);
    assert!(err.message.contains("network policy"), "{}", err.message);
}

#[tokio::test]
async fn a_type_is_prepared_from_an_import_request_and_checked_when_stored() {
    use switchboard_contract::{ConnectorSpec, ExecutionModel};
    use switchboard_runtime::openapi::OpenApiSupport;

    let base = start(Sim::default()).await;
    let support = OpenApiSupport::new(client(), ParseLimits::default());
    let mut spec = ConnectorSpec {
        name: "echo".into(),
        version: "1.2.0".into(),
        description: String::new(),
        category: None,
        tags: Vec::new(),
        tool_prefix: "echo".into(),
        execution_model: ExecutionModel::Openapi,
        scopes: Vec::new(),
        requires_oauth: false,
        oauth_provider: None,
        docs_url: Some("https://docs.example".into()),
        config: Vec::new(),
        default_command: None,
        commands: Vec::new(),
    };
    let mut definition = json!({"spec": document(&base), "operations": ["getFile", "empty"]});
    support
        .prepare_type(&mut spec, &mut definition)
        .await
        .unwrap();
    let names: Vec<&str> = spec.commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["health", "empty", "getFile"], "document order");
    assert_eq!(spec.version, "1.2.0");
    assert_eq!(spec.docs_url.as_deref(), Some("https://docs.example"));
    assert!(spec.config.iter().any(|f| f.name == "baseUrl"));
    assert_eq!(definition["operations"].as_array().unwrap().len(), 2);

    // Stored again as it is (an update without a new document): accepted.
    let mut stored = definition.clone();
    support
        .prepare_type(&mut spec.clone(), &mut stored)
        .await
        .unwrap();
    assert_eq!(stored, definition);
    // A command without an operation is refused.
    let mut broken = definition.clone();
    broken["operations"].as_array_mut().unwrap().pop();
    let err = support
        .prepare_type(&mut spec.clone(), &mut broken)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("without an operation: getFile"),
        "{}",
        err.message
    );

    let mut unknown = json!({"spec": document(&base), "operations": ["nope"]});
    let err = support
        .prepare_type(&mut spec.clone(), &mut unknown)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("unknown operation(s): nope"),
        "{}",
        err.message
    );
    let mut garbage = json!({"operations": 3});
    let err = support
        .prepare_type(&mut spec.clone(), &mut garbage)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("definition must be"),
        "{}",
        err.message
    );
    let mut swagger = json!({"spec": {"swagger": "2.0"}});
    let err = support
        .prepare_type(&mut spec, &mut swagger)
        .await
        .unwrap_err();
    assert!(
        err.message.contains("Swagger 2.0 is not supported"),
        "{}",
        err.message
    );
}

#[test]
fn every_github_input_schema_compiles_as_json_schema() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oas/node_modules/@octokit/openapi/generated/api.github.com.json");
    let Ok(text) = std::fs::read_to_string(&file) else {
        eprintln!(
            "skipped: {} is not installed; run scripts/oas-corpus (scripts/test does)",
            file.display()
        );
        return;
    };
    let draft = switchboard_openapi::parse(&text, &ParseLimits::default()).unwrap();
    let failed: Vec<String> = draft
        .commands
        .iter()
        .filter_map(|c| {
            let schema = c.spec.raw_input_schema.as_ref()?;
            jsonschema::validator_for(schema)
                .err()
                .map(|e| format!("{}: {e}", c.spec.name))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} schemas do not compile: {:#?}",
        failed.len(),
        draft.commands.len(),
        &failed[..failed.len().min(10)]
    );
}
