//! OpenAPI-derived connectors over REST: `parse-oas` (document, YAML, URL through the
//! network policy, Swagger 2.0, size), and a type made of a subset of GitHub's operations
//! executing against a local simulator that answers like api.github.com.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{CursorSigner, Hub, HubSettings};
use switchboard_store::testing::TestDb;

use common::TestHub;

async fn first_backend_hub() -> TestHub {
    let backend = common::backends()
        .await
        .into_iter()
        .next()
        .expect("a backend");
    TestHub::start(backend).await
}

const PETS_YAML: &str = r#"
openapi: 3.0.3
info: {title: Pets, version: "1.0"}
servers: [{url: "https://pets.example/v1"}]
paths:
  /pets/{id}:
    get:
      operationId: getPet
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    delete:
      operationId: deletePet
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
  /broken:
    get:
      operationId: broken
      parameters: [{$ref: '#/components/parameters/Nope'}]
components:
  securitySchemes:
    key: {type: apiKey, in: header, name: X-Key}
"#;

#[tokio::test]
async fn parse_oas_returns_a_draft_with_commands_and_warnings() {
    let h = first_backend_hub().await;
    let (s, body) = h
        .post("/api/connector-types/parse-oas", json!({"spec": PETS_YAML}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let d = &body["data"];
    assert_eq!(d["title"], "Pets");
    assert_eq!(d["executionModel"], "openapi");
    let names: Vec<&str> = d["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["getPet", "deletePet"]);
    assert_eq!(d["commands"][1]["annotations"]["destructiveHint"], true);
    assert_eq!(
        d["commands"][0]["inputSchema"]["properties"]["id"]["type"],
        "integer"
    );
    assert_eq!(
        d["configSchema"]["properties"]["baseUrl"]["default"],
        "https://pets.example/v1"
    );
    assert_eq!(d["configSchema"]["properties"]["key"]["writeOnly"], true);
    assert_eq!(
        d["warnings"][0]["pointer"],
        "/paths/~1broken/get/parameters/0/$ref"
    );

    // The same document as an object.
    let doc: Value = serde_norway::from_str(PETS_YAML).unwrap();
    let (s, body) = h
        .post("/api/connector-types/parse-oas", json!({"spec": doc}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["commands"].as_array().unwrap().len(), 2);

    // The route is in the hub's own OpenAPI document.
    let (_, api) = h.get_anon("/api/openapi.json").await;
    assert!(api["paths"]["/api/connector-types/parse-oas"]["post"].is_object());
}

#[tokio::test]
async fn parse_oas_refuses_bad_input_specifically() {
    let h = first_backend_hub().await;
    let cases = [
        (
            json!({"spec": {"swagger": "2.0", "info": {}, "paths": {}}}),
            "Swagger 2.0 is not supported; convert to OpenAPI 3 (e.g. with swagger2openapi)",
        ),
        (json!({"spec": "{\"openapi\": "}), "not valid JSON"),
        (json!({"spec": 42}), "'spec' must be the OpenAPI document"),
        (json!({}), "give 'spec'"),
        (json!({"spec": {}, "url": "https://x.example"}), "not both"),
        (
            json!({"spec": {"openapi": "2.5"}}),
            "OpenAPI 2.5 is not supported",
        ),
        (json!({"document": {}}), "unknown field"),
    ];
    for (input, expected) in cases {
        let (s, body) = h
            .post("/api/connector-types/parse-oas", input.clone())
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{input}: {body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains(expected), "{input}: {msg}");
    }
    // Members may not import (a URL makes the hub fetch).
    let (_, m) = h
        .post("/api/users", json!({"name": "mia", "role": "member"}))
        .await;
    let mia = m["data"]["apiKey"].as_str().unwrap().to_string();
    let (s, _) = h
        .req_with(
            "POST",
            "/api/connector-types/parse-oas",
            &mia,
            Some(json!({"spec": PETS_YAML})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn parse_oas_takes_documents_larger_than_the_general_body_limit() {
    let h = first_backend_hub().await;
    let mut paths = serde_json::Map::new();
    for i in 0..3000 {
        paths.insert(format!("/things{i}/{{id}}"), json!({"get": {"operationId": format!("getThing{i}"),
            "description": "x".repeat(300),
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}]}}));
    }
    let doc = json!({"openapi": "3.1.0", "info": {"title": "Big", "version": "1"}, "paths": paths});
    assert!(doc.to_string().len() > switchboard_server::MAX_BODY_BYTES);
    let (s, body) = h
        .post("/api/connector-types/parse-oas", json!({"spec": doc}))
        .await;
    assert_eq!(s, StatusCode::OK, "{}", body["error"]);
    assert_eq!(body["data"]["commands"].as_array().unwrap().len(), 3000);
}

/// Serves `body` at `/openapi.yaml` on 127.0.0.1.
async fn serve_document(body: &'static str) -> String {
    let app = Router::new()
        .route("/specs/openapi.yaml", get(move || async move { body }))
        .route("/missing", get(|| async { (AxumStatus::NOT_FOUND, "no") }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

const RELATIVE_YAML: &str = r#"
openapi: 3.1.0
info: {title: Relative, version: "1"}
servers: [{url: /api/v2}]
paths: {/ping: {get: {operationId: ping}}}
"#;

#[tokio::test]
async fn parse_oas_fetches_by_url_through_the_network_policy() {
    let origin = serve_document(RELATIVE_YAML).await;
    let url = format!("{origin}/specs/openapi.yaml");

    // Loopback is refused unless allowlisted.
    let strict = first_backend_hub().await;
    let (s, body) = strict
        .post("/api/connector-types/parse-oas", json!({"url": url}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("network policy"),
        "{body}"
    );

    let backend = common::backends().await.into_iter().next().unwrap();
    let open = TestHub::start_with_policy(
        backend,
        NetworkPolicy::new(NetworkPolicy::parse_allowlist("127.0.0.0/8").unwrap()),
    )
    .await;
    let (s, body) = open
        .post("/api/connector-types/parse-oas", json!({"url": url}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["commands"][0]["name"], "ping");
    // A relative server URL is resolved against where the document came from.
    assert_eq!(
        body["data"]["configSchema"]["properties"]["baseUrl"]["default"],
        format!("{origin}/api/v2")
    );

    let (s, body) = open
        .post(
            "/api/connector-types/parse-oas",
            json!({"url": format!("{origin}/missing")}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("404"),
        "{body}"
    );
}

// ---- GitHub subset against a simulator ----

const TOKEN: &str = "ghp_simulated";

#[derive(Clone, Default)]
struct GitHub {
    created: Arc<Mutex<Vec<Value>>>,
}

/// Headers api.github.com sends on every answer.
fn rate_headers() -> [(&'static str, &'static str); 5] {
    [
        ("x-ratelimit-limit", "5000"),
        ("x-ratelimit-remaining", "4999"),
        ("x-ratelimit-reset", "1900000000"),
        ("x-ratelimit-used", "1"),
        ("x-ratelimit-resource", "core"),
    ]
}

fn github_error(status: AxumStatus, message: &str, doc: &str) -> Response {
    (status, rate_headers(), Json(json!({"message": message, "documentation_url": doc, "status": status.as_u16().to_string()}))).into_response()
}

/// GitHub's 401 unless the token is the simulator's.
fn refused(headers: &HeaderMap) -> Option<Response> {
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        Some(v) if v == format!("Bearer {TOKEN}") => None,
        _ => Some(github_error(
            AxumStatus::UNAUTHORIZED,
            "Bad credentials",
            "https://docs.github.com/rest",
        )),
    }
}

fn repo_json(owner: &str, repo: &str) -> Value {
    json!({"id": 1296269, "name": repo, "full_name": format!("{owner}/{repo}"), "owner": {"login": owner},
           "private": false, "default_branch": "main"})
}

async fn gh_root(headers: HeaderMap) -> Response {
    if let Some(e) = refused(&headers) {
        return e;
    }
    (
        rate_headers(),
        Json(json!({"current_user_url": "https://api.github.com/user"})),
    )
        .into_response()
}

async fn gh_repo(
    headers: HeaderMap,
    UrlPath((owner, repo)): UrlPath<(String, String)>,
) -> Response {
    if let Some(e) = refused(&headers) {
        return e;
    }
    if repo != "hello-world" {
        return github_error(
            AxumStatus::NOT_FOUND,
            "Not Found",
            "https://docs.github.com/rest/repos/repos#get-a-repository",
        );
    }
    (rate_headers(), Json(repo_json(&owner, &repo))).into_response()
}

async fn gh_list_issues(
    headers: HeaderMap,
    UrlPath((owner, repo)): UrlPath<(String, String)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(e) = refused(&headers) {
        return e;
    }
    let per_page: usize = q.get("per_page").and_then(|p| p.parse().ok()).unwrap_or(30);
    let state = q.get("state").cloned().unwrap_or_else(|| "open".into());
    let label = q.get("labels").cloned();
    let issues: Vec<Value> = (1..=5)
        .map(|n| json!({"number": n, "title": format!("Issue {n}"), "state": state, "labels": [{"name": label.clone().unwrap_or_default()}],
                        "repository_url": format!("https://api.github.com/repos/{owner}/{repo}")}))
        .take(per_page)
        .collect();
    let link = format!("<https://api.github.com/repositories/1296269/issues?per_page={per_page}&page=2>; rel=\"next\"");
    (rate_headers(), [("link", link)], Json(issues)).into_response()
}

async fn gh_create_issue(
    State(gh): State<GitHub>,
    headers: HeaderMap,
    UrlPath((owner, repo)): UrlPath<(String, String)>,
    Json(body): Json<Value>,
) -> Response {
    if let Some(e) = refused(&headers) {
        return e;
    }
    if body
        .get("title")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return (AxumStatus::UNPROCESSABLE_ENTITY, rate_headers(), Json(json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Issue", "code": "missing_field", "field": "title"}],
            "documentation_url": "https://docs.github.com/rest/issues/issues#create-an-issue", "status": "422"}))).into_response();
    }
    gh.created.lock().unwrap().push(body.clone());
    let issue = json!({"number": 42, "title": body["title"], "body": body.get("body"), "labels": body.get("labels"), "state": "open",
                       "html_url": format!("https://github.com/{owner}/{repo}/issues/42")});
    (AxumStatus::CREATED, rate_headers(), Json(issue)).into_response()
}

async fn gh_content(
    headers: HeaderMap,
    UrlPath((_owner, _repo, path)): UrlPath<(String, String, String)>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Some(e) = refused(&headers) {
        return e;
    }
    (rate_headers(), Json(json!({"type": "file", "path": path, "name": path.rsplit('/').next(), "ref": q.get("ref"), "encoding": "base64", "content": "Zm4gbWFpbigpIHt9"}))).into_response()
}

async fn gh_delete_comment(
    headers: HeaderMap,
    UrlPath((_o, _r, id)): UrlPath<(String, String, u64)>,
) -> Response {
    if let Some(e) = refused(&headers) {
        return e;
    }
    if id != 7 {
        return github_error(
            AxumStatus::NOT_FOUND,
            "Not Found",
            "https://docs.github.com/rest/issues/comments#delete-an-issue-comment",
        );
    }
    (AxumStatus::NO_CONTENT, rate_headers()).into_response()
}

async fn start_github(gh: GitHub) -> String {
    let app = Router::new()
        .route("/", get(gh_root))
        .route("/repos/{owner}/{repo}", get(gh_repo))
        .route(
            "/repos/{owner}/{repo}/issues",
            get(gh_list_issues).post(gh_create_issue),
        )
        .route("/repos/{owner}/{repo}/contents/{*path}", get(gh_content))
        .route(
            "/repos/{owner}/{repo}/issues/comments/{comment_id}",
            delete(gh_delete_comment),
        )
        .with_state(gh);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// One stateless MCP request (protocol revision 2026-07-28).
async fn mcp(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    method: &str,
    mut params: Value,
) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let mut req = client
        .post(format!("{base}/mcp"))
        .bearer_auth(key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", method);
    if let Some(name) = params["name"].as_str() {
        req = req.header("mcp-name", name);
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let text = req.json(&body).send().await.unwrap().text().await.unwrap();
    serde_json::from_str(&text)
        .ok()
        .or_else(|| {
            text.lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                .find(|m| m.get("id").is_some())
        })
        .unwrap_or(Value::Null)
}

fn github_description() -> Option<String> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/oas/node_modules/@octokit/openapi/generated/api.github.com.json");
    match std::fs::read_to_string(&file) {
        Ok(text) => Some(text),
        Err(_) => {
            eprintln!(
                "skipped: {} is not installed; run scripts/oas-corpus (scripts/test does)",
                file.display()
            );
            None
        }
    }
}

const SUBSET: [&str; 5] = [
    "repos/get",
    "issues/list-for-repo",
    "issues/create",
    "repos/get-content",
    "issues/delete-comment",
];

#[tokio::test]
async fn a_type_from_githubs_operations_executes_against_a_simulator() {
    let Some(text) = github_description() else {
        return;
    };
    for backend in common::backends().await {
        let gh = GitHub::default();
        let sim = start_github(gh.clone()).await;

        // Loopback allowed so the hub can reach the simulator.
        let policy = NetworkPolicy::new(NetworkPolicy::parse_allowlist("127.0.0.0/8").unwrap());
        let http = OutboundClient::new(policy, OutboundConfig::default()).unwrap();

        let registry = switchboard_connectors::registry();
        let db = TestDb::open(backend).await;
        let hub = Hub::new(
            db.store.clone(),
            registry,
            http,
            CursorSigner::new([9; 32]),
            HubSettings::default(),
        );
        hub.seed_catalog().await.unwrap();
        let key = hub.bootstrap().await.unwrap().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(switchboard_server::serve(listener, hub.clone(), async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let call = |path: &str, body: Value| {
            let req = client
                .post(format!("{base}{path}"))
                .bearer_auth(&key)
                .json(&body);
            async move {
                let resp = req.send().await.unwrap();
                let status = resp.status();
                (status, resp.json::<Value>().await.unwrap_or(Value::Null))
            }
        };
        let label = db.backend.label();

        // The admin's path: the chosen operations of the document become a type.
        let (s, created) = call(
            "/api/connector-types",
            json!({"name": "github-sim", "description": "GitHub operations, from its OpenAPI description",
                   "executionModel": "openapi",
                   "definition": {"spec": text.as_str(), "operations": SUBSET}}),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{label}: {created}");

        // The catalog shows the commands with annotations from their methods.
        let caps = client
            .get(format!(
                "{base}/api/connector-types/github-sim/capabilities"
            ))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let cmds = caps["data"]["commands"].as_array().unwrap();
        let names: Vec<&str> = cmds.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "health",
                "repos_get",
                "repos_get_content",
                "issues_list_for_repo",
                "issues_create",
                "issues_delete_comment"
            ],
            "{label}"
        );
        let annotations =
            |n: &str| cmds.iter().find(|c| c["name"] == n).unwrap()["annotations"].clone();
        assert_eq!(annotations("repos_get")["readOnlyHint"], true);
        assert_eq!(
            annotations("issues_delete_comment")["destructiveHint"],
            true
        );
        assert_eq!(annotations("issues_create")["readOnlyHint"], false);

        let (s, c) = call("/api/connectors", json!({"name": "gh", "type": "github-sim", "config": {"baseUrl": sim, "accessToken": TOKEN}})).await;
        assert_eq!(s, StatusCode::CREATED, "{label}: {c}");
        assert_eq!(
            c["data"]["config"]["accessToken"], "********",
            "{label}: secrets are masked"
        );

        let exec = |command: &str, params: Value| {
            call(
                "/api/connectors/gh/execute",
                json!({"command": command, "params": params}),
            )
        };

        let (s, env) = exec("health", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{label}: {env}");

        let (s, env) = exec(
            "repos_get",
            json!({"owner": "octocat", "repo": "hello-world"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{label}: {env}");
        assert_eq!(env["data"]["full_name"], "octocat/hello-world");
        assert_eq!(
            env["meta"]["rateLimit"]["remaining"], 4999,
            "{label}: {env}"
        );

        let (s, env) = exec("issues_list_for_repo", json!({"owner": "octocat", "repo": "hello-world", "state": "closed", "labels": "bug", "per_page": 2})).await;
        assert_eq!(s, StatusCode::OK, "{label}: {env}");
        let issues = env["data"].as_array().unwrap();
        assert_eq!(issues.len(), 2);
        assert_eq!(issues[0]["state"], "closed");
        assert_eq!(issues[0]["labels"][0]["name"], "bug");

        // Validation by the hub before GitHub is called: enum and type.
        let (s, env) = exec(
            "issues_list_for_repo",
            json!({"owner": "octocat", "repo": "hello-world", "state": "shut"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{label}: {env}");
        assert!(
            env["error"]["message"]
                .as_str()
                .unwrap()
                .contains("'state' must be one of: open, closed, all"),
            "{env}"
        );
        let (s, env) = exec(
            "issues_create",
            json!({"owner": "octocat", "repo": "hello-world", "body": "no title"}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{label}: {env}");
        assert!(
            env["error"]["message"]
                .as_str()
                .unwrap()
                .contains("missing required parameter(s): title"),
            "{env}"
        );

        let (s, env) = exec("issues_create", json!({"owner": "octocat", "repo": "hello-world", "title": "Found a bug", "body": "It breaks", "labels": ["bug"]})).await;
        assert_eq!(s, StatusCode::OK, "{label}: {env}");
        assert_eq!(env["data"]["number"], 42);
        assert_eq!(
            gh.created.lock().unwrap().last().cloned(),
            Some(json!({"title": "Found a bug", "body": "It breaks", "labels": ["bug"]}))
        );

        // GitHub's own 422 maps to invalid_input with its body in the diagnostics.
        let (s, env) = exec(
            "issues_create",
            json!({"owner": "octocat", "repo": "hello-world", "title": ""}),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{label}: {env}");
        assert_eq!(env["error"]["code"], "invalid_input");
        assert_eq!(
            env["error"]["diagnostics"]["body"]["errors"][0]["code"],
            "missing_field"
        );

        // A path with slashes travels as one percent-encoded segment.
        let (s, env) = exec(
            "repos_get_content",
            json!({"owner": "octocat", "repo": "hello-world", "path": "src/main.rs", "ref": "dev"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{label}: {env}");
        assert_eq!(env["data"]["path"], "src/main.rs");
        assert_eq!(env["data"]["ref"], "dev");

        let (s, env) = exec(
            "issues_delete_comment",
            json!({"owner": "octocat", "repo": "hello-world", "comment_id": 7}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{label}: {env}");
        assert_eq!(env["data"], json!({"status": 204}));

        let (s, env) = exec("repos_get", json!({"owner": "octocat", "repo": "nope"})).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{label}: {env}");
        assert_eq!(env["error"]["code"], "not_found");

        // A wrong token is GitHub's 401, the contract's unauthorized (the hub may refresh and retry).
        let (s, _) = call("/api/connectors", json!({"name": "gh-bad", "type": "github-sim", "config": {"baseUrl": sim, "accessToken": "wrong"}})).await;
        assert_eq!(s, StatusCode::CREATED);
        let (s, env) = call(
            "/api/connectors/gh-bad/execute",
            json!({"command": "repos_get", "params": {"owner": "octocat", "repo": "hello-world"}}),
        )
        .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{label}: {env}");
        assert_eq!(env["error"]["code"], "unauthorized");
        assert!(!env.to_string().contains("wrong"), "the token never shows");

        // Over MCP (stateless 2026-07-28 revision): the tools are listed with their
        // annotations and schemas, and a call reaches the simulator.
        let tools = mcp(&client, &base, &key, "tools/list", json!({})).await;
        let tools = tools["result"]["tools"].as_array().expect("tools");
        let repos_get = tools
            .iter()
            .find(|t| t["name"] == "github-sim.repos_get")
            .unwrap_or_else(|| panic!("{label}: no github-sim.repos_get in {tools:?}"));
        assert_eq!(repos_get["annotations"]["readOnlyHint"], true);
        assert_eq!(
            repos_get["inputSchema"]["required"],
            json!(["owner", "repo"])
        );
        let answer = mcp(
            &client,
            &base,
            &key,
            "tools/call",
            json!({"name": "github-sim.issues_create", "arguments": {"owner": "octocat", "repo": "hello-world", "title": "Via MCP"}}),
        )
        .await;
        assert_eq!(answer["result"]["isError"], false, "{label}: {answer}");
        assert_eq!(
            gh.created.lock().unwrap().last().cloned(),
            Some(json!({"title": "Via MCP"}))
        );

        let _ = stop.send(());
    }
}
