//! The dispatcher enforces the contract around every call; each test breaks one rule.

use std::time::Duration;

use serde_json::{json, Map, Value};
use switchboard_contract::{
    fail, Access, CommandSpec, ConnectorError, Envelope, ErrorCode, FieldSpec, Outcome, Success,
};
use switchboard_runtime::dispatcher::{dispatch, Dispatch};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{Call, CursorSigner, Definition, Instance, RequestContext};

fn widget() -> Definition {
    Definition::builder("widget", "1.0.0", "Test connector")
        .default_command("list")
        .error_map(|e| {
            (e.code == ErrorCode::UpstreamError).then(|| {
                ConnectorError::new(ErrorCode::Unavailable, "widget API is down, try later")
                    .with_vendor_code("W-503")
            })
        })
        .command(
            CommandSpec::new("health", Access::Read, "ok")
                .mock_payload("default", json!({"ok": true})),
            |_c: Call| async { switchboard_contract::succeed(json!({"ok": true})) },
        )
        .command(
            CommandSpec::new("list", Access::Read, "list widgets")
                .param(FieldSpec::string("color").default_value("red"))
                .paginated()
                .projection()
                .mock_payload("default", json!({"items": [{"id": "mock"}]}))
                .mock_error(
                    "down",
                    ConnectorError::rate_limited("slow down", Some(2500)),
                ),
            list,
        )
        .command(
            CommandSpec::new("get", Access::Read, "get one")
                .param(FieldSpec::string("id").required())
                .param(FieldSpec::string("owner").required()),
            |c: Call| async move { switchboard_contract::succeed(json!({"id": c.params["id"]})) },
        )
        .command(
            CommandSpec::new("broken", Access::Read, "upstream fails"),
            |_c: Call| async { fail(ConnectorError::upstream("500 from widget API")) },
        )
        .command(
            CommandSpec::new("limited", Access::Read, "rate limited without hint"),
            |_c: Call| async {
                Err(Box::new(switchboard_contract::Failure::from(
                    ConnectorError::new(ErrorCode::RateLimited, "429"),
                )))
            },
        )
        .command(
            CommandSpec::new("slow", Access::Read, "sleeps"),
            |_c: Call| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                switchboard_contract::succeed(json!({}))
            },
        )
        .command(
            CommandSpec::new("panics", Access::Read, "panics"),
            |_c: Call| async {
                let v: Vec<u8> = Vec::new();
                #[allow(clippy::indexing_slicing)]
                let _ = v[1];
                switchboard_contract::succeed(json!({}))
            },
        )
        .command(
            CommandSpec::new("old", Access::Read, "deprecated").deprecated("use list instead"),
            |c: Call| async move {
                Ok(Success::new(json!({"vars": c.variables})).variable("seen", true))
            },
        )
        .build()
}

async fn list(c: Call) -> Outcome {
    let offset = c
        .cursor
        .as_ref()
        .and_then(|s| s["offset"].as_u64())
        .unwrap_or(0);
    let limit = c.limit(2, 10) as u64;
    let items: Vec<Value> = (offset..(offset + limit).min(5))
        .map(|i| json!({"id": i, "color": c.params["color"], "secret": "internal"}))
        .collect();
    let next = offset + limit;
    Ok(
        Success::new(json!({"items": items}))
            .next_page((next < 5).then(|| json!({"offset": next}))),
    )
}

fn client() -> OutboundClient {
    OutboundClient::new(NetworkPolicy::new(Vec::new()), OutboundConfig::default()).expect("client")
}

fn instance(tenant: &str) -> Instance {
    Instance {
        id: "conn-1".into(),
        tenant_id: tenant.into(),
        name: "widget".into(),
    }
}

struct Run {
    command: Option<&'static str>,
    params: Value,
    mock: Option<&'static str>,
    tenant: &'static str,
    timeout: Duration,
}

impl Default for Run {
    fn default() -> Self {
        Run {
            command: None,
            params: json!({}),
            mock: None,
            tenant: "t1",
            timeout: Duration::from_secs(5),
        }
    }
}

async fn run(def: &Definition, r: Run) -> Envelope {
    let signer = CursorSigner::new([1; 32]);
    run_with(def, r, &signer).await
}

async fn run_with(def: &Definition, r: Run, signer: &CursorSigner) -> Envelope {
    let params: Map<String, Value> = r.params.as_object().cloned().unwrap_or_default();
    let mut vars = Map::new();
    vars.insert("runId".into(), json!("r1"));
    dispatch(
        Dispatch {
            connector: def,
            command: r.command,
            params,
            config: Map::new(),
            variables: vars,
            mock_scenario: r.mock,
            instance: instance(r.tenant),
            ctx: RequestContext::new("req-1", r.timeout),
        },
        &client(),
        signer,
    )
    .await
    .envelope
}

fn code(e: &Envelope) -> ErrorCode {
    e.error.as_ref().expect("an error").code
}

#[tokio::test]
async fn missing_required_params_are_named_in_one_error() {
    let env = run(
        &widget(),
        Run {
            command: Some("get"),
            ..Default::default()
        },
    )
    .await;
    assert!(!env.ok);
    assert_eq!(code(&env), ErrorCode::InvalidInput);
    let msg = &env.error.unwrap().message;
    assert!(
        msg.contains("missing required parameter(s): id, owner"),
        "{msg}"
    );
}

#[tokio::test]
async fn unknown_command_lists_the_available_ones() {
    let env = run(
        &widget(),
        Run {
            command: Some("nope"),
            ..Default::default()
        },
    )
    .await;
    let msg = env.error.unwrap().message;
    assert!(
        msg.contains("unknown command 'nope'") && msg.contains("health, list, get"),
        "{msg}"
    );
}

#[tokio::test]
async fn default_command_runs_when_none_given_and_defaults_apply() {
    let env = run(&widget(), Run::default()).await;
    assert!(env.ok, "{env:?}");
    assert_eq!(env.data.unwrap()["items"][0]["color"], "red");
    assert_eq!(env.meta.request_id, "req-1");
}

#[tokio::test]
async fn request_id_param_is_used_for_tracing() {
    let env = run(
        &widget(),
        Run {
            params: json!({"requestId": "abc"}),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(env.meta.request_id, "abc");
}

#[tokio::test]
async fn pages_through_signed_cursors_until_the_end() {
    let def = widget();
    let signer = CursorSigner::new([1; 32]);
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let mut params = json!({"limit": 2});
        if let Some(c) = &cursor {
            params["cursor"] = json!(c);
        }
        let env = run_with(
            &def,
            Run {
                params,
                ..Default::default()
            },
            &signer,
        )
        .await;
        assert!(env.ok, "{env:?}");
        for item in env.data.unwrap()["items"].as_array().unwrap() {
            ids.push(item["id"].as_u64().unwrap());
        }
        cursor = env.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(ids, vec![0, 1, 2, 3, 4]);
    assert!(
        cursor.is_none(),
        "nextCursor must be absent on the last page"
    );
}

#[tokio::test]
async fn forged_or_foreign_cursors_are_refused() {
    let def = widget();
    let env = run(
        &def,
        Run {
            params: json!({"limit": 2}),
            ..Default::default()
        },
    )
    .await;
    let cursor = env.next_cursor.unwrap();
    let forged = run(
        &def,
        Run {
            params: json!({"cursor": format!("x{cursor}")}),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(code(&forged), ErrorCode::InvalidInput);
    // The same cursor in another tenant is refused: cursors are bound to tenant and connector.
    let other = run(
        &def,
        Run {
            params: json!({"cursor": cursor}),
            tenant: "t2",
            ..Default::default()
        },
    )
    .await;
    assert_eq!(code(&other), ErrorCode::InvalidInput);
}

#[tokio::test]
async fn projection_keeps_only_requested_fields() {
    let env = run(
        &widget(),
        Run {
            params: json!({"fields": ["id"]}),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(env.data.unwrap()["items"][0], json!({"id": 0}));
}

#[tokio::test]
async fn error_map_rewrites_handler_errors() {
    let env = run(
        &widget(),
        Run {
            command: Some("broken"),
            ..Default::default()
        },
    )
    .await;
    let e = env.error.unwrap();
    assert_eq!(e.code, ErrorCode::Unavailable);
    assert_eq!(e.vendor_code.as_deref(), Some("W-503"));
}

#[tokio::test]
async fn rate_limited_always_carries_retry_after() {
    let env = run(
        &widget(),
        Run {
            command: Some("limited"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(env.error.unwrap().retry_after_ms, Some(1000));
}

#[tokio::test]
async fn mocks_answer_without_running_the_handler() {
    let def = widget();
    let env = run(
        &def,
        Run {
            mock: Some("default"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(env.data.unwrap()["items"][0]["id"], "mock");
    assert!(env.warnings.iter().any(|w| w.contains("mock")));
    let env = run(
        &def,
        Run {
            mock: Some("down"),
            ..Default::default()
        },
    )
    .await;
    let e = env.error.unwrap();
    assert_eq!(
        (e.code, e.retry_after_ms),
        (ErrorCode::RateLimited, Some(2500))
    );
    // A scenario the command lacks falls back to its default mock…
    let env = run(
        &def,
        Run {
            command: Some("health"),
            mock: Some("down"),
            ..Default::default()
        },
    )
    .await;
    assert!(env.ok);
    // …and a command with no mocks at all says so.
    let env = run(
        &def,
        Run {
            command: Some("broken"),
            mock: Some("down"),
            ..Default::default()
        },
    )
    .await;
    assert!(env.error.unwrap().message.contains("no such mock scenario"));
}

#[tokio::test]
async fn mocks_still_validate_params() {
    let env = run(
        &widget(),
        Run {
            command: Some("get"),
            mock: Some("default"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(code(&env), ErrorCode::InvalidInput);
}

#[tokio::test]
async fn tenant_id_must_match_the_caller() {
    let def = widget();
    let ok = run(
        &def,
        Run {
            params: json!({"tenantId": "t1"}),
            ..Default::default()
        },
    )
    .await;
    assert!(ok.ok);
    let bad = run(
        &def,
        Run {
            params: json!({"workspaceId": "t9"}),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(code(&bad), ErrorCode::Forbidden);
}

#[tokio::test]
async fn deadline_turns_into_timeout() {
    let env = run(
        &widget(),
        Run {
            command: Some("slow"),
            timeout: Duration::from_millis(50),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(code(&env), ErrorCode::Timeout);
}

#[tokio::test]
async fn a_panicking_handler_is_contained() {
    let env = run(
        &widget(),
        Run {
            command: Some("panics"),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(code(&env), ErrorCode::Internal);
}

#[tokio::test]
async fn cancellation_reaches_the_call() {
    let def = widget();
    let signer = CursorSigner::new([1; 32]);
    let ctx = RequestContext::new("req", Duration::from_secs(10));
    let cancel = ctx.cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    });
    let started = std::time::Instant::now();
    let out = dispatch(
        Dispatch {
            connector: &def,
            command: Some("slow"),
            params: Map::new(),
            config: Map::new(),
            variables: Map::new(),
            mock_scenario: None,
            instance: instance("t1"),
            ctx,
        },
        &client(),
        &signer,
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(out.envelope.error.unwrap().message.contains("cancelled"));
}

#[tokio::test]
async fn deprecated_commands_work_and_warn_and_variables_flow() {
    let env = run(
        &widget(),
        Run {
            command: Some("old"),
            ..Default::default()
        },
    )
    .await;
    assert!(env.ok);
    assert!(env
        .warnings
        .iter()
        .any(|w| w.contains("deprecated") && w.contains("use list instead")));
    assert_eq!(env.data.unwrap()["vars"]["runId"], "r1");
    assert_eq!(env.variables["seen"], json!(true));
}
