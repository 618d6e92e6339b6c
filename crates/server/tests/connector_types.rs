//! User-built connector types through the real server: the seeded sample script
//! connector over MCP, script types created over REST (syntax errors, limits),
//! versioning on PUT, deprecation, and external connectors speaking protocol 2.0.

mod common;

use std::time::Duration;

use axum::routing::{get, post};
use axum::Json;
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_runtime::http::NetworkPolicy;

use common::{backends, TestHub};

const CURRENT: &str = "2026-07-28";

/// A stateless (2026-07-28) MCP request.
async fn mcp(h: &TestHub, method: &str, params: Value) -> Value {
    let mut params = params;
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": CURRENT,
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut rb = h
        .client
        .post(h.url("/mcp"))
        .bearer_auth(&h.admin_key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", CURRENT)
        .header("mcp-method", method);
    if let Some(name) = body["params"]["name"].as_str() {
        rb = rb.header("mcp-name", name);
    }
    let resp = rb.json(&body).send().await.expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    let messages: Vec<Value> = match serde_json::from_str::<Value>(&text) {
        Ok(v) => vec![v],
        Err(_) => text
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect(),
    };
    messages
        .into_iter()
        .find(|m| m.get("id").is_some())
        .map(|m| m["result"].clone())
        .unwrap_or(Value::Null)
}

async fn call_tool(h: &TestHub, name: &str, arguments: Value) -> Value {
    mcp(
        h,
        "tools/call",
        json!({"name": name, "arguments": arguments}),
    )
    .await
}

async fn tool_names(h: &TestHub) -> Vec<String> {
    mcp(h, "tools/list", json!({})).await["tools"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn the_sample_script_connector_works_over_mcp() {
    let h = TestHub::start(backends().await.remove(0)).await;
    let (s, t) = h.get("/api/connector-types/sample-script").await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["data"]["execution_model"], "script");
    let (s, c) = h
        .post(
            "/api/connectors",
            json!({"name": "staff", "type": "sample-script",
                   "config": {"apiKey": "sample-secret-token-42"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(c["data"]["config"]["apiKey"], "********");

    let names = tool_names(&h).await;
    for t in [
        "sample-script.health",
        "sample-script.test",
        "sample-script.lookupEmployee",
        "sample-script.listEmployees",
        "sample-script.createEmployee",
        "sample-script.echo",
    ] {
        assert!(names.contains(&t.to_string()), "{t} missing from {names:?}");
    }

    for name in [
        "sample-script.lookupEmployee",
        "sample-script_lookupEmployee",
    ] {
        let r = call_tool(&h, name, json!({"id": "E003"})).await;
        assert_eq!(r["structuredContent"]["ok"], true, "{r}");
        assert_eq!(r["structuredContent"]["data"]["name"], "Katherine Johnson");
    }
    let r = call_tool(
        &h,
        "sample-script.lookupEmployee",
        json!({"email": "HEDY@example.com"}),
    )
    .await;
    assert_eq!(r["structuredContent"]["data"]["id"], "E007", "{r}");

    let r = call_tool(&h, "sample-script.lookupEmployee", json!({"id": "E999"})).await;
    assert_eq!(r["isError"], true);
    assert_eq!(r["structuredContent"]["error"]["code"], "not_found");

    let r = call_tool(
        &h,
        "sample-script.listEmployees",
        json!({"department": "Research", "limit": 2}),
    )
    .await;
    let data = &r["structuredContent"]["data"];
    assert_eq!(data["total"], 3, "{r}");
    assert_eq!(data["employees"].as_array().unwrap().len(), 2);

    let r = call_tool(
        &h,
        "sample-script.createEmployee",
        json!({"name": "Alan Turing", "email": "not-an-email"}),
    )
    .await;
    assert_eq!(r["isError"], true);
    assert_eq!(r["structuredContent"]["error"]["code"], "invalid_input");
    assert!(r["structuredContent"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not an email address"));
    let r = call_tool(
        &h,
        "sample-script.createEmployee",
        json!({"name": "Alan Turing", "email": "alan@example.com"}),
    )
    .await;
    let data = &r["structuredContent"]["data"];
    assert_eq!(data["simulated"], true, "{r}");
    assert_eq!(data["department"], "Engineering", "default applied");

    // The script sees the decrypted secret, but the hub masks it in results.
    let r = call_tool(&h, "sample-script.echo", json!({"message": "hi"})).await;
    let data = &r["structuredContent"]["data"];
    assert_eq!(data["params"]["message"], "hi", "{r}");
    assert_eq!(data["config"]["company"], "Acme");
    assert_ne!(data["config"]["apiKey"], "sample-secret-token-42");
    assert!(!r.to_string().contains("sample-secret-token-42"));

    let r = call_tool(&h, "sample-script.health", json!({})).await;
    assert_eq!(r["structuredContent"]["data"]["source"], "sample", "{r}");
    assert_eq!(r["structuredContent"]["data"]["employees"], 8);

    // Annotations follow the declared access.
    let tools = mcp(&h, "tools/list", json!({})).await["tools"].clone();
    let create = tools
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sample-script.createEmployee")
        .unwrap();
    assert_eq!(create["annotations"]["readOnlyHint"], false);
}

const CRM_SCRIPT: &str =
    "function listContacts() { return { payload: { contacts: [], limit: sb.params.limit } }; }\n\
function spin() { while (true) {} }\n\
function test() { return { payload: { up: true } }; }\n";

fn crm_schema() -> Value {
    json!({
        "connectionConfig": {"baseUrl": {"type": "string", "description": "CRM URL"}},
        "commands": {
            "listContacts": {"params": ["limit"], "description": "List contacts",
                             "paramSchema": {"limit": {"type": "number", "default": 50}},
                             "outputs": ["contacts"]},
            "spin": {"description": "Loops forever", "access": "read"},
            "test": {"description": "Connectivity"}
        }
    })
}

async fn create_crm(h: &TestHub) {
    let (s, b) = h
        .post(
            "/api/connector-types",
            json!({"name": "my-crm", "type": "my-crm", "description": "My CRM", "version": "1.0.0",
                   "executionModel": "script", "configSchema": crm_schema(),
                   "scriptSource": CRM_SCRIPT, "limits": {"cpuMs": 300}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = h
        .post("/api/connectors", json!({"name": "crm", "type": "my-crm"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
}

async fn execute(h: &TestHub, command: &str, params: Value) -> (StatusCode, Value) {
    h.post(
        "/api/connectors/crm/execute",
        json!({"command": command, "params": params}),
    )
    .await
}

#[tokio::test]
async fn script_types_are_created_checked_and_limited() {
    for backend in backends().await {
        let h = TestHub::start(backend).await;
        // A syntax error is reported with its line and column; nothing is stored.
        let (s, b) = h
            .post(
                "/api/connector-types",
                json!({"name": "my-crm", "executionModel": "script", "configSchema": crm_schema(),
                       "scriptSource": "function listContacts() {\n  return {;\n}"}),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_GATEWAY, "{b}");
        let msg = b["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("SyntaxError") && msg.contains("(line 2, column"),
            "{msg}"
        );
        assert_eq!(
            h.get("/api/connector-types/my-crm").await.0,
            StatusCode::NOT_FOUND
        );

        // Legacy-shaped bodies with unknown keys and bad schemas get specific errors.
        let (s, b) = h
            .post(
                "/api/connector-types",
                json!({"name": "my-crm", "executionModel": "script",
                       "configSchema": {"commands": {"x": {"params": "limit"}}}, "scriptSource": "x"}),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("configSchema.commands.x.params: must be an array"));

        create_crm(&h).await;
        let (s, b) = execute(&h, "listContacts", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["data"]["limit"], 50);
        let (s, b) = execute(&h, "spin", json!({})).await;
        assert_eq!(s, StatusCode::GATEWAY_TIMEOUT, "{b}");
        assert!(b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("CPU time limit of 300 ms"));
        // The hub and the same connector keep working.
        let (s, b) = execute(&h, "listContacts", json!({"limit": 3})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let (s, _) = h
            .post("/api/connectors/crm/execute", json!({"command": "health"}))
            .await;
        assert_eq!(s, StatusCode::OK);

        // Duplicates and built-in models are refused.
        let (s, _) = h
            .post(
                "/api/connector-types",
                json!({"name": "my-crm", "executionModel": "script", "configSchema": crm_schema(),
                       "scriptSource": CRM_SCRIPT}),
            )
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        let (s, b) = h
            .post(
                "/api/connector-types",
                json!({"name": "other", "executionModel": "built_in"}),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("new-connector"));

        // Members may read the catalog but not change it.
        let (_, m) = h
            .post("/api/users", json!({"name": "mia", "role": "member"}))
            .await;
        let mia = m["data"]["apiKey"].as_str().unwrap().to_string();
        let (s, _) = h
            .req_with(
                "PUT",
                "/api/connector-types/my-crm",
                &mia,
                Some(json!({"description": "mine"})),
            )
            .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // A type in use cannot be deleted; once unused it can.
        let (s, _) = h
            .req_with("DELETE", "/api/connector-types/my-crm", &h.admin_key, None)
            .await;
        assert_eq!(s, StatusCode::CONFLICT);
        h.req_with("DELETE", "/api/connectors/crm", &h.admin_key, None)
            .await;
        let (s, _) = h
            .req_with("DELETE", "/api/connector-types/my-crm", &h.admin_key, None)
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{}", h.label());
        let (s, _) = h
            .req_with(
                "DELETE",
                "/api/connector-types/directory",
                &h.admin_key,
                None,
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
}

async fn put(h: &TestHub, body: Value) -> (StatusCode, Value) {
    h.req_with(
        "PUT",
        "/api/connector-types/my-crm",
        &h.admin_key,
        Some(body),
    )
    .await
}

#[tokio::test]
async fn versioning_refuses_an_under_bump_and_auto_bumps() {
    for backend in backends().await {
        let h = TestHub::start(backend).await;
        create_crm(&h).await;

        // Removing a command and adding a required param need a major bump.
        let mut schema = crm_schema();
        schema["commands"].as_object_mut().unwrap().remove("spin");
        schema["commands"]["listContacts"]["paramSchema"]["owner"] =
            json!({"type": "string", "required": true});
        schema["commands"]["listContacts"]["params"] = json!(["limit", "owner"]);
        let (s, b) = put(&h, json!({"version": "1.1.0", "configSchema": schema})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        let msg = b["error"]["message"].as_str().unwrap();
        assert!(msg.contains("1.0.0 → 1.1.0 is a minor bump"), "{msg}");
        assert!(
            msg.contains("need a major bump (to 2.0.0 or later)"),
            "{msg}"
        );
        assert!(msg.contains("command 'spin' was removed (major)"), "{msg}");
        assert!(
            msg.contains("parameter 'owner' of command 'listContacts' was added as required, without a default (major)"),
            "{msg}"
        );
        assert_eq!(b["error"]["diagnostics"]["requiredBump"], "major");
        assert_eq!(b["error"]["diagnostics"]["minimumVersion"], "2.0.0");
        // Nothing changed.
        let (_, t) = h.get("/api/connector-types/my-crm").await;
        assert_eq!(t["data"]["version"], "1.0.0");

        // A description-only change needs a patch; the same version is refused.
        let (s, b) = put(&h, json!({"version": "1.0.0", "description": "Our CRM"})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("need a patch bump"));
        let (s, b) = put(&h, json!({"version": "1.0.1", "description": "Our CRM"})).await;
        assert_eq!(s, StatusCode::OK, "{b}");

        // A new command (minor) with autoBump; the old one deprecated.
        let mut schema = crm_schema();
        schema["commands"]["listContacts"]["deprecated"] = json!(true);
        schema["commands"]["listContacts"]["deprecatedMessage"] = json!("use searchContacts");
        schema["commands"]["searchContacts"] =
            json!({"description": "Search contacts", "params": ["q"], "access": "read"});
        let source = format!(
            "{CRM_SCRIPT}function searchContacts() {{ return {{ payload: {{ q: sb.params.q }} }}; }}"
        );
        let (s, b) = put(
            &h,
            json!({"autoBump": true, "configSchema": schema, "scriptSource": source}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["data"]["version"], "1.1.0");
        assert_eq!(b["data"]["previous_version"], "1.0.1");
        let levels: Vec<&str> = b["data"]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["level"].as_str().unwrap())
            .collect();
        assert!(levels.iter().all(|l| *l == "minor"), "{b}");

        // The new command runs at once (executor cache invalidated); the deprecated one
        // still works and carries a warning; capabilities show the deprecation.
        let (s, b) = execute(&h, "searchContacts", json!({"q": "ada"})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["data"]["q"], "ada");
        let (s, b) = execute(&h, "listContacts", json!({})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert!(b["warnings"][0]
            .as_str()
            .unwrap()
            .contains("deprecated: use searchContacts"));
        let (_, caps) = h.get("/api/connector-types/my-crm/capabilities").await;
        let list = caps["data"]["commands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "listContacts")
            .unwrap()
            .clone();
        assert_eq!(list["deprecated"], true);
        assert_eq!(list["deprecatedMessage"], "use searchContacts");
        let search = caps["data"]["commands"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "searchContacts")
            .unwrap()
            .clone();
        assert_eq!(search["addedInVersion"], "1.1.0");
        assert!(tool_names(&h)
            .await
            .contains(&"my-crm.searchContacts".to_string()));

        // The stored definition round-trips: sending it back is not a change.
        let (s, d) = h.get("/api/connector-types/my-crm/definition").await;
        assert_eq!(s, StatusCode::OK);
        let def = d["data"]["definition"].clone();
        assert!(def["scriptSource"]
            .as_str()
            .unwrap()
            .contains("searchContacts"));
        let (s, b) = put(&h, json!({"configSchema": def["configSchema"]})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["data"]["version"], "1.1.0");
        assert_eq!(b["data"]["changes"], json!([]));

        // Major with autoBump.
        let mut schema = def["configSchema"].clone();
        schema["commands"]
            .as_object_mut()
            .unwrap()
            .remove("listContacts");
        let (s, b) = put(&h, json!({"autoBump": true, "configSchema": schema})).await;
        assert_eq!(s, StatusCode::OK, "{b}");
        assert_eq!(b["data"]["version"], "2.0.0");
        let (s, _) = execute(&h, "listContacts", json!({})).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "removed command is gone");

        // Built-in types take only `enabled`.
        let (s, b) = h
            .req_with(
                "PUT",
                "/api/connector-types/directory",
                &h.admin_key,
                Some(json!({"description": "x"})),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    }
}

/// A protocol 2.0 service; `mode` picks how `/execute` misbehaves.
async fn external_service(mode: &'static str) -> String {
    let app = axum::Router::new()
        .route(
            "/schema",
            get(|| async {
                Json(json!({"name": "inventory", "configSchema": {
                    "connectionConfig": {"token": {"type": "string", "secret": true}},
                    "commands": {
                        "listItems": {"description": "List items", "access": "read",
                                      "params": ["limit"], "paramSchema": {"limit": {"type": "integer", "default": 5}}},
                        "slow": {"description": "Takes long", "access": "read"}
                    }}}))
            }),
        )
        .route("/health", get(|| async { Json(json!({"status": "up"})) }))
        .route(
            "/execute",
            post(move |Json(req): Json<Value>| async move {
                match mode {
                    "legacy" => Json(json!({"success": true, "data": {"items": []},
                                            "outputVariables": {"n": 0}}))
                    .into_response_parts(),
                    "legacy-version" => Json(json!({"protocolVersion": "1.2", "success": true}))
                        .into_response_parts(),
                    "garbage" => "<html>Internal proxy error</html>".into_response_parts(),
                    _ => {
                        if req["command"] == "slow" {
                            tokio::time::sleep(Duration::from_secs(5)).await;
                        }
                        if req["protocolVersion"] != "2.0" {
                            return Json(json!({"success": false, "error": "wrong protocol"}))
                                .into_response_parts();
                        }
                        Json(json!({"success": true,
                                    "payload": {"items": [{"sku": "A1"}], "echo": req},
                                    "variables": {"itemCount": 1}}))
                        .into_response_parts()
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

trait IntoParts {
    fn into_response_parts(self) -> axum::response::Response;
}
impl<T: axum::response::IntoResponse> IntoParts for T {
    fn into_response_parts(self) -> axum::response::Response {
        self.into_response()
    }
}

#[tokio::test]
async fn external_connectors_speak_protocol_2() {
    let policy = NetworkPolicy::new(NetworkPolicy::parse_allowlist("127.0.0.0/8").unwrap());
    let h = TestHub::start_with_policy(backends().await.remove(0), policy).await;
    let good = external_service("ok").await;
    // No commands given: they come from GET /schema.
    let (s, b) = h
        .post(
            "/api/connector-types",
            json!({"name": "inventory", "executionModel": "external", "endpointUrl": format!("{good}/"),
                   "timeoutMs": 500}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let names: Vec<&str> = b["data"]["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["listItems", "slow", "health"]);
    let (s, b) = h
        .post(
            "/api/connectors",
            json!({"name": "stock", "type": "inventory", "config": {"token": "tok-abcdef-123"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");

    let r = call_tool(&h, "inventory.listItems", json!({})).await;
    let data = &r["structuredContent"]["data"];
    assert_eq!(data["items"][0]["sku"], "A1", "{r}");
    let sent = &data["echo"];
    assert_eq!(sent["protocolVersion"], "2.0");
    assert_eq!(sent["command"], "listItems");
    assert_eq!(sent["params"]["limit"], 5);
    assert!(sent["metadata"]["timeout"].as_u64().unwrap() <= 500);
    assert!(sent["metadata"]["runId"].is_string());
    // The service got the secret; the result shown to the agent has it masked.
    assert!(!r.to_string().contains("tok-abcdef-123"));

    let r = call_tool(&h, "inventory.health", json!({})).await;
    assert_eq!(
        r["structuredContent"]["data"]["service"]["status"], "up",
        "{r}"
    );

    // metadata.timeout is honoured: the hub stops waiting after 500 ms.
    let started = std::time::Instant::now();
    let r = call_tool(&h, "inventory.slow", json!({})).await;
    assert_eq!(r["structuredContent"]["error"]["code"], "timeout", "{r}");
    assert!(r["structuredContent"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("did not answer within 500 ms"));
    assert!(started.elapsed() < Duration::from_secs(3));

    // Legacy and garbage answers get their own errors; the hub keeps working.
    for (mode, needle) in [
        ("legacy", "legacy key(s) 'data' (use payload"),
        (
            "legacy-version",
            "speaks protocol 1.2: protocol 2.0 is required",
        ),
        (
            "garbage",
            "with something that is not JSON: \"<html>Internal proxy error</html>\"",
        ),
    ] {
        let url = external_service(mode).await;
        let name = format!("inv-{}", mode.replace('-', ""));
        let (s, b) = h
            .post(
                "/api/connector-types",
                json!({"name": name, "executionModel": "external", "endpointUrl": url}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = h
            .post("/api/connectors", json!({"name": name, "type": name}))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (_, b) = h
            .post(
                &format!("/api/connectors/{name}/execute"),
                json!({"command": "listItems"}),
            )
            .await;
        let msg = b["error"]["message"].as_str().unwrap_or_default();
        assert!(msg.contains(needle), "{mode}: {b}");
        assert_eq!(b["error"]["code"], "upstream_error");
    }
    let r = call_tool(&h, "inventory.listItems", json!({"limit": 1})).await;
    assert_eq!(r["structuredContent"]["ok"], true);

    // An endpoint the network policy refuses cannot be registered for /schema discovery.
    let (s, b) = h
        .post(
            "/api/connector-types",
            json!({"name": "meta", "executionModel": "external",
                   "endpointUrl": "http://169.254.169.254/"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
}
