//! Script connectors in the QuickJS sandbox: the host API, the limits, and every way
//! a script can misbehave, each with a specific error and the next call unharmed.

use std::time::Duration;

use axum::routing::{get, post};
use axum::Json;
use serde_json::{json, Map, Value};
use switchboard_contract::authoring::parse_config_schema;
use switchboard_contract::{ConnectorSpec, Envelope, ErrorCode, ExecutionModel};
use switchboard_runtime::dispatcher::{dispatch, Dispatch};
use switchboard_runtime::executors::{ExecutionModelSupport, StoredType, TypeDraft};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::script::{ScriptSettings, ScriptSupport};
use switchboard_runtime::{Connector, CursorSigner, Instance, RequestContext};
use switchboard_store::model::ConnectorTypeRecord;

fn spec(name: &str, schema: Value) -> ConnectorSpec {
    let parsed = parse_config_schema(&schema).expect("schema");
    let mut commands = parsed.commands;
    if !commands.iter().any(|c| c.name == "health") {
        commands.push(switchboard_contract::CommandSpec::new(
            "health",
            switchboard_contract::Access::Read,
            "health",
        ));
    }
    ConnectorSpec {
        name: name.into(),
        version: "1.0.0".into(),
        description: "test".into(),
        category: None,
        tags: vec![],
        tool_prefix: name.into(),
        execution_model: ExecutionModel::Script,
        scopes: vec![],
        requires_oauth: false,
        oauth_provider: None,
        docs_url: None,
        config: parsed.config,
        default_command: None,
        commands,
    }
}

fn support() -> ScriptSupport {
    ScriptSupport::new(ScriptSettings {
        workers: 2,
        ..ScriptSettings::default()
    })
}

/// Prepares (compiles, checks) and builds a script type, as the hub does.
async fn build(
    support: &ScriptSupport,
    schema: Value,
    source: &str,
    limits: Value,
) -> Result<std::sync::Arc<dyn Connector>, switchboard_contract::ConnectorError> {
    let mut draft = TypeDraft {
        spec: spec("crm", schema),
        definition: json!({"scriptSource": source, "limits": limits}),
    };
    support.prepare(&mut draft).await?;
    let record = ConnectorTypeRecord {
        id: "crm".into(),
        name: "crm".into(),
        version: "1.0.0".into(),
        description: String::new(),
        category: None,
        tags: vec![],
        tool_prefix: "crm".into(),
        execution_model: "script".into(),
        scopes: vec![],
        requires_oauth: false,
        oauth_provider: None,
        docs_url: None,
        enabled: true,
        builtin: false,
        spec: serde_json::to_value(&draft.spec).unwrap(),
        created_at: 0,
        updated_at: 0,
        definition: draft.definition,
    };
    support.build(&StoredType::from_record(record)?)
}

fn client(allow_loopback: bool) -> OutboundClient {
    let allow = if allow_loopback {
        NetworkPolicy::parse_allowlist("127.0.0.0/8").unwrap()
    } else {
        Vec::new()
    };
    OutboundClient::new(NetworkPolicy::new(allow), OutboundConfig::default()).unwrap()
}

async fn call_with(
    c: &dyn Connector,
    command: &str,
    params: Value,
    config: Value,
    http: &OutboundClient,
) -> Envelope {
    let obj = |v: Value| -> Map<String, Value> { v.as_object().cloned().unwrap_or_default() };
    dispatch(
        Dispatch {
            connector: c,
            command: Some(command),
            params: obj(params),
            config: obj(config),
            variables: obj(json!({"runId": "run-7"})),
            mock_scenario: None,
            instance: Instance {
                id: "c1".into(),
                tenant_id: "t1".into(),
                name: "crm-prod".into(),
            },
            ctx: RequestContext::new("req-1", Duration::from_secs(10)),
        },
        http,
        &CursorSigner::new([1; 32]),
    )
    .await
    .envelope
}

async fn call(c: &dyn Connector, command: &str, params: Value) -> Envelope {
    call_with(c, command, params, json!({}), &client(false)).await
}

fn error(env: &Envelope) -> (ErrorCode, String, Option<String>) {
    let e = env
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("expected an error: {env:?}"));
    (e.code, e.message.clone(), e.vendor_code.clone())
}

fn cmds(names: &[&str]) -> Value {
    let mut m = Map::new();
    for n in names {
        m.insert((*n).into(), json!({"description": n, "access": "read"}));
    }
    json!({ "commands": m })
}

#[tokio::test]
async fn echo_sees_params_config_and_variables() {
    let s = support();
    let schema = json!({
        "connectionConfig": {"apiKey": {"type": "string", "secret": true}},
        "commands": {"echo": {"params": ["msg"], "description": "echo"}, "test": {"description": "t"}}
    });
    let c = build(
        &s,
        schema,
        r#"
        function echo(params) {
          sb.log.info("echo called with", params, 42);
          sb.log.debug("debug"); sb.log.trace("trace"); sb.log.warn("warn"); sb.log.error("error");
          return { success: true, payload: { params: sb.params, sameArg: params.msg === sb.params.msg,
                   config: sb.config, variables: sb.variables }, variables: { echoed: true } };
        }
        function test() { return { success: true, payload: { up: true } }; }
        "#,
        json!({}),
    )
    .await
    .unwrap();
    let env = call_with(
        c.as_ref(),
        "echo",
        json!({"msg": "hi"}),
        json!({"apiKey": "k-123"}),
        &client(false),
    )
    .await;
    assert!(env.ok, "{env:?}");
    let data = env.data.unwrap();
    assert_eq!(data["params"]["msg"], "hi");
    assert_eq!(data["sameArg"], true);
    assert_eq!(data["config"]["apiKey"], "k-123");
    assert_eq!(data["variables"]["runId"], "run-7");
    assert_eq!(env.variables.get("echoed"), Some(&json!(true)));
    // `health` runs `test` when the script has no `health` function.
    let env = call(c.as_ref(), "health", json!({})).await;
    assert_eq!(env.data.unwrap(), json!({"up": true}));
}

#[tokio::test]
async fn syntax_errors_are_reported_at_create_time_with_line_and_column() {
    let s = support();
    let err = build(
        &s,
        cmds(&["list"]),
        "function list() {\n  return { success: true };\n}\nfunction broken() {\n  var x = ;\n}\n",
        json!({}),
    )
    .await
    .err()
    .expect("a syntax error");
    assert_eq!(err.code, ErrorCode::UpstreamError);
    assert_eq!(err.vendor_code.as_deref(), Some("script_syntax_error"));
    assert!(err.message.contains("SyntaxError"), "{}", err.message);
    assert!(
        err.message.contains("(line 5, column 11)"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn every_command_needs_its_function() {
    let s = support();
    let err = build(
        &s,
        cmds(&["list", "create"]),
        "function list() { return {}; }",
        json!({}),
    )
    .await
    .err()
    .expect("missing functions");
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("'create'"), "{}", err.message);
    assert!(err.message.contains("'health'"), "{}", err.message);
}

#[tokio::test]
async fn calls_cannot_see_each_other() {
    let s = support();
    let c = build(
        &s,
        cmds(&["count", "health"]),
        "var n = 0; function count() { n += 1; globalThis.leak = (globalThis.leak || 0) + 1; \
         return { payload: { n: n, leak: globalThis.leak } }; } function health() { return {}; }",
        json!({}),
    )
    .await
    .unwrap();
    for _ in 0..5 {
        let env = call(c.as_ref(), "count", json!({})).await;
        assert_eq!(env.data.unwrap(), json!({"n": 1, "leak": 1}));
    }
}

#[tokio::test]
async fn sandbox_has_no_file_socket_timer_or_module_access() {
    let s = support();
    let c = build(
        &s,
        cmds(&["probe", "health"]),
        r#"function probe() {
             var found = {};
             ["require", "process", "std", "os", "setTimeout", "setInterval", "fetch",
              "XMLHttpRequest", "WebSocket", "Deno", "Bun", "performance", "print", "console"]
               .forEach(function (n) { found[n] = typeof globalThis[n]; });
             var imported;
             try { eval("import * as fs from 'fs'"); imported = "no error"; } catch (e) { imported = String(e); }
             return { payload: { found: found, imported: imported } };
           }
           function health() { return {}; }"#,
        json!({}),
    )
    .await
    .unwrap();
    let env = call(c.as_ref(), "probe", json!({})).await;
    let data = env.data.unwrap();
    for (name, t) in data["found"].as_object().unwrap() {
        assert_eq!(t, "undefined", "{name} must not exist in the sandbox");
    }
    assert_ne!(data["imported"], "no error");
}

#[tokio::test]
async fn an_infinite_loop_is_stopped_by_the_cpu_limit_and_the_next_call_works() {
    let s = support();
    let c = build(
        &s,
        cmds(&["spin", "ok", "health"]),
        "function spin() { while (true) {} } function ok() { return { payload: 'fine' }; } \
         function health() { return {}; }",
        json!({"cpuMs": 200}),
    )
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let env = call(c.as_ref(), "spin", json!({})).await;
    let (code, message, vendor) = error(&env);
    assert_eq!(code, ErrorCode::Timeout);
    assert_eq!(vendor.as_deref(), Some("script_cpu_limit"));
    assert!(message.contains("CPU time limit of 200 ms"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // Every worker still answers (the stopped runtime was replaced).
    for _ in 0..4 {
        let env = call(c.as_ref(), "ok", json!({})).await;
        assert_eq!(env.data, Some(json!("fine")), "{env:?}");
    }
    // A script cannot catch the interruption.
    let c = build(
        &s,
        cmds(&["spin", "health"]),
        "function spin() { for (;;) { try { while (true) {} } catch (e) {} } } \
         function health() { return {}; }",
        json!({"cpuMs": 150}),
    )
    .await
    .unwrap();
    let env = call(c.as_ref(), "spin", json!({})).await;
    assert_eq!(error(&env).2.as_deref(), Some("script_cpu_limit"));
}

#[tokio::test]
async fn unbounded_allocation_is_stopped_by_the_memory_limit() {
    let s = support();
    let c = build(
        &s,
        cmds(&["hog", "ok", "health"]),
        "function hog() { var a = []; while (true) { a.push(new Array(10000).fill(a.length)); } } \
         function ok() { return { payload: [1, 2, 3] }; } function health() { return {}; }",
        json!({"memoryBytes": 8 * 1024 * 1024, "cpuMs": 5000}),
    )
    .await
    .unwrap();
    let env = call(c.as_ref(), "hog", json!({})).await;
    let (code, message, vendor) = error(&env);
    assert_eq!(code, ErrorCode::UpstreamError);
    assert_eq!(vendor.as_deref(), Some("script_memory_limit"), "{message}");
    assert!(
        message.contains("memory limit of 8388608 bytes"),
        "{message}"
    );
    for _ in 0..4 {
        let env = call(c.as_ref(), "ok", json!({})).await;
        assert_eq!(env.data, Some(json!([1, 2, 3])));
    }
}

#[tokio::test]
async fn a_throw_names_the_error_and_where() {
    let s = support();
    let c = build(
        &s,
        cmds(&["boom", "value", "health"]),
        "function boom() {\n  var x = 1;\n  throw new TypeError('no widgets here');\n}\n\
         function value() { throw { reason: 'plain object' }; }\nfunction health() { return {}; }",
        json!({}),
    )
    .await
    .unwrap();
    let env = call(c.as_ref(), "boom", json!({})).await;
    let (code, message, vendor) = error(&env);
    assert_eq!(code, ErrorCode::UpstreamError);
    assert_eq!(vendor.as_deref(), Some("script_error"));
    assert!(message.contains("TypeError: no widgets here"), "{message}");
    assert!(message.contains("(line 3, column"), "{message}");
    let env = call(c.as_ref(), "value", json!({})).await;
    assert!(error(&env).1.contains("plain object"), "{env:?}");
}

#[tokio::test]
async fn non_object_results_are_refused() {
    let s = support();
    let c = build(
        &s,
        cmds(&["num", "arr", "none", "str", "big", "health"]),
        "function num() { return 42; } function arr() { return [1]; } function none() {} \
         function str() { return 'ok'; } function big() { return { payload: 'x'.repeat(5000) }; } \
         function health() { return {}; }",
        json!({"maxResultBytes": 1000}),
    )
    .await
    .unwrap();
    for (cmd, what) in [
        ("num", "a value of type int"),
        ("arr", "an array"),
        ("none", "nothing"),
        ("str", "a value of type string"),
    ] {
        let env = call(c.as_ref(), cmd, json!({})).await;
        let (code, message, vendor) = error(&env);
        assert_eq!(code, ErrorCode::UpstreamError);
        assert_eq!(vendor.as_deref(), Some("script_result_not_object"));
        assert!(
            message.contains(&format!("returned {what}")),
            "{cmd}: {message}"
        );
    }
    let env = call(c.as_ref(), "big", json!({})).await;
    let (_, message, vendor) = error(&env);
    assert_eq!(vendor.as_deref(), Some("script_result_too_large"));
    assert!(message.contains("the limit is 1000 bytes"), "{message}");
}

#[tokio::test]
async fn legacy_result_keys_are_refused_with_an_upgrade_message() {
    let s = support();
    let c = build(
        &s,
        cmds(&["old", "fails", "health"]),
        "function old() { return { success: true, data: { a: 1 }, outputVariables: { b: 2 } }; } \
         function fails() { return { success: false, error: 'CRM said no', code: 'conflict', \
           diagnostics: { statusCode: 409 }, variables: { failed: true } }; } \
         function health() { return {}; }",
        json!({}),
    )
    .await
    .unwrap();
    let env = call(c.as_ref(), "old", json!({})).await;
    let (code, message, vendor) = error(&env);
    assert_eq!(code, ErrorCode::UpstreamError);
    assert_eq!(vendor.as_deref(), Some("legacy_protocol"));
    assert!(message.contains("protocol 2.0 is required"), "{message}");
    assert!(message.contains("'data' (use payload"), "{message}");
    let env = call(c.as_ref(), "fails", json!({})).await;
    let e = env.error.clone().unwrap();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert_eq!(e.message, "CRM said no");
    assert_eq!(e.diagnostics, Some(json!({"statusCode": 409})));
    assert_eq!(env.variables.get("failed"), Some(&json!(true)));
}

/// A small vendor API on 127.0.0.1 for `sb.http`.
async fn vendor() -> String {
    let app = axum::Router::new()
        .route(
            "/api/contacts",
            get(|headers: axum::http::HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                (
                    [("x-total", "2")],
                    Json(json!({"data": [{"id": 1}, {"id": 2}], "auth": auth})),
                )
            })
            .post(|headers: axum::http::HeaderMap, body: String| async move {
                let ct = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                Json(json!({"id": 99, "contentType": ct, "received": body}))
            })
            .patch(|Json(v): Json<Value>| async move { Json(json!({"patched": v})) })
            .delete(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/text",
            post(|body: String| async move { format!("echo:{body}") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

const HTTP_SCRIPT: &str = r#"
function list() {
  var r = sb.http.get(sb.config.baseUrl + "/api/contacts", { Authorization: "Bearer " + sb.config.apiKey });
  return { payload: { status: r.status, total: r.headers["x-total"], body: r.body } };
}
function create() {
  var a = sb.http.post(sb.config.baseUrl + "/api/contacts", JSON.stringify({ email: sb.params.email }));
  var b = sb.http.post(sb.config.baseUrl + "/api/contacts", { email: "obj@x" });
  var t = sb.http.post(sb.config.baseUrl + "/text", "plain words");
  var p = sb.http.patch(sb.config.baseUrl + "/api/contacts", { name: "n" });
  var d = sb.http["delete"](sb.config.baseUrl + "/api/contacts");
  return { payload: { a: a.body, b: b.body, t: t.body, p: p.body, d: d.status } };
}
function many() {
  for (var i = 0; i < 10; i++) { sb.http.get(sb.config.baseUrl + "/api/contacts"); }
  return {};
}
function forbidden() {
  var r = sb.http.get("http://169.254.169.254/latest/meta-data/");
  return { payload: r };
}
function caught() {
  try { sb.http.get("http://127.0.0.1:1/"); } catch (e) { return { payload: { caught: String(e.message) } }; }
}
function health() { return {}; }
"#;

fn http_schema() -> Value {
    json!({
        "connectionConfig": {"baseUrl": {"type": "string"}, "apiKey": {"type": "secret"}},
        "commands": {
            "list": {"access": "read"}, "create": {"params": ["email"]}, "many": {},
            "forbidden": {}, "caught": {}
        }
    })
}

#[tokio::test]
async fn http_goes_through_the_hub_client() {
    let base = vendor().await;
    let s = support();
    let c = build(&s, http_schema(), HTTP_SCRIPT, json!({"maxHttpCalls": 5}))
        .await
        .unwrap();
    let http = client(true);
    let config = json!({"baseUrl": base, "apiKey": "k-9"});
    let env = call_with(c.as_ref(), "list", json!({}), config.clone(), &http).await;
    let data = env.data.expect("list works");
    assert_eq!(data["status"], 200);
    assert_eq!(data["total"], "2");
    assert_eq!(data["body"]["data"][1]["id"], 2);
    assert_eq!(data["body"]["auth"], "Bearer k-9");

    let env = call_with(
        c.as_ref(),
        "create",
        json!({"email": "a@b"}),
        config.clone(),
        &http,
    )
    .await;
    let data = env.data.clone().unwrap_or_else(|| panic!("{env:?}"));
    assert_eq!(data["a"]["contentType"], "application/json");
    assert_eq!(data["a"]["received"], r#"{"email":"a@b"}"#);
    assert_eq!(data["b"]["contentType"], "application/json");
    assert_eq!(data["t"], "echo:plain words");
    assert_eq!(data["p"]["patched"]["name"], "n");
    assert_eq!(data["d"], 204);

    let env = call_with(c.as_ref(), "many", json!({}), config.clone(), &http).await;
    let (code, message, vendor) = error(&env);
    assert_eq!(code, ErrorCode::InvalidInput);
    assert_eq!(vendor.as_deref(), Some("script_http_limit"));
    assert!(
        message.contains("already made 5 HTTP requests"),
        "{message}"
    );
}

#[tokio::test]
async fn http_to_a_forbidden_address_is_refused_by_the_network_policy() {
    let s = support();
    let c = build(&s, http_schema(), HTTP_SCRIPT, json!({}))
        .await
        .unwrap();
    let env = call(c.as_ref(), "forbidden", json!({})).await;
    let (code, message, _) = error(&env);
    assert_eq!(code, ErrorCode::Forbidden, "{message}");
    assert!(message.starts_with("sb.http.get:"), "{message}");
    // Loopback without an allowlist, caught by the script: it sees the reason.
    let env = call(c.as_ref(), "caught", json!({})).await;
    let caught = env.data.unwrap()["caught"].as_str().unwrap().to_string();
    assert!(caught.contains("sb.http.get:"), "{caught}");
    assert!(
        caught.to_lowercase().contains("not allowed")
            || caught.contains("refused")
            || caught.contains("loopback"),
        "{caught}"
    );
}

#[tokio::test]
async fn limits_above_the_hub_ceiling_are_refused() {
    let s = support();
    let err = build(
        &s,
        cmds(&["x", "health"]),
        "function x() { return {}; } function health() { return {}; }",
        json!({"cpuMs": 10_000_000, "nope": 1}),
    )
    .await
    .err()
    .unwrap();
    assert!(
        err.message.contains("unknown field `nope`"),
        "{}",
        err.message
    );
    let err = build(
        &s,
        cmds(&["x", "health"]),
        "function x() { return {}; } function health() { return {}; }",
        json!({"cpuMs": 10_000_000}),
    )
    .await
    .err()
    .unwrap();
    assert!(
        err.message.contains("limits.cpuMs is 10000000"),
        "{}",
        err.message
    );
}
