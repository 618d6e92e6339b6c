//! The built-in `http` and `delay` connectors against real local servers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use switchboard_contract::{Envelope, ErrorCode};
use switchboard_runtime::dispatcher::{dispatch, Dispatch};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{Connector, CursorSigner, Instance, Progress, RequestContext};

async fn vendor() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    let app = Router::new()
        .route(
            "/v1/users",
            get(
                move |headers: HeaderMap, Query(q): Query<Map<String, Value>>| {
                    let seen = seen2.clone();
                    async move {
                        let auth = headers
                            .get("authorization")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        let key = headers
                            .get("x-api-key")
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string();
                        seen.lock().unwrap().push(format!("{auth}|{key}"));
                        let mut h = HeaderMap::new();
                        h.insert("x-ratelimit-limit", "100".parse().unwrap());
                        h.insert("x-ratelimit-remaining", "42".parse().unwrap());
                        (
                            h,
                            Json(json!({"users": [{"id": 1, "name": "ada"}], "query": q})),
                        )
                    }
                },
            ),
        )
        .route(
            "/v1/missing",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    Json(json!({"message": "no such thing"})),
                )
            }),
        )
        .route(
            "/v1/busy",
            get(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "7")],
                    Json(json!({"message": "slow down"})),
                )
            }),
        )
        .route("/", get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, seen)
}

fn loopback_allowed() -> OutboundClient {
    OutboundClient::new(
        NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]),
        OutboundConfig::default(),
    )
    .unwrap()
}

async fn run(
    connector: &dyn Connector,
    http: &OutboundClient,
    command: &str,
    params: Value,
    config: Value,
    ctx: RequestContext,
) -> Envelope {
    dispatch(
        Dispatch {
            connector,
            command: Some(command),
            params: params.as_object().cloned().unwrap_or_default(),
            config: config.as_object().cloned().unwrap_or_default(),
            variables: Map::new(),
            mock_scenario: None,
            instance: Instance {
                id: "c1".into(),
                tenant_id: "t1".into(),
                name: "api".into(),
            },
            ctx,
        },
        http,
        &CursorSigner::new([5; 32]),
    )
    .await
    .envelope
}

fn ctx() -> RequestContext {
    RequestContext::new("r", Duration::from_secs(20))
}

#[tokio::test]
async fn http_sends_the_configured_credential_and_maps_vendor_errors() {
    let (base, seen) = vendor().await;
    let def = switchboard_connectors::http::definition();
    let http = loopback_allowed();
    let bearer = json!({"baseUrl": format!("{base}/v1"), "authType": "bearer", "token": "tok-123"});

    let env = run(
        &def,
        &http,
        "get",
        json!({"path": "/users", "query": {"q": "a b", "n": 2}}),
        bearer.clone(),
        ctx(),
    )
    .await;
    assert!(env.ok, "{env:?}");
    let data = env.data.unwrap();
    assert_eq!(data["status"], 200);
    assert_eq!(data["body"]["users"][0]["name"], "ada");
    assert_eq!(data["body"]["query"], json!({"q": "a b", "n": "2"}));
    let rl = env.meta.rate_limit.expect("rate limit from headers");
    assert_eq!((rl.limit, rl.remaining), (Some(100), Some(42)));

    let header = json!({"baseUrl": format!("{base}/v1"), "authType": "header", "headerName": "X-Api-Key", "headerValue": "k-9"});
    assert!(
        run(&def, &http, "get", json!({"path": "/users"}), header, ctx())
            .await
            .ok
    );
    let basic = json!({"baseUrl": format!("{base}/v1"), "authType": "basic", "username": "u", "password": "p"});
    assert!(
        run(&def, &http, "get", json!({"path": "/users"}), basic, ctx())
            .await
            .ok
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![
            "Bearer tok-123|".to_string(),
            "|k-9".into(),
            "Basic dTpw|".into()
        ]
    );

    let env = run(
        &def,
        &http,
        "get",
        json!({"path": "/missing"}),
        bearer.clone(),
        ctx(),
    )
    .await;
    assert_eq!(env.error.as_ref().unwrap().code, ErrorCode::NotFound);
    let env = run(
        &def,
        &http,
        "request",
        json!({"method": "GET", "path": "/busy"}),
        bearer.clone(),
        ctx(),
    )
    .await;
    let e = env.error.unwrap();
    assert_eq!(
        (e.code, e.retry_after_ms),
        (ErrorCode::RateLimited, Some(7000))
    );
    // A path cannot leave the base URL.
    let env = run(
        &def,
        &http,
        "get",
        json!({"path": "//evil.example/x"}),
        bearer.clone(),
        ctx(),
    )
    .await;
    assert_eq!(env.error.unwrap().code, ErrorCode::InvalidInput);
    // Health uses healthPath.
    let env = run(
        &def,
        &http,
        "health",
        json!({}),
        json!({"baseUrl": base}),
        ctx(),
    )
    .await;
    assert!(env.ok, "{env:?}");
}

#[tokio::test]
async fn http_refuses_loopback_unless_allowlisted() {
    let (base, seen) = vendor().await;
    let def = switchboard_connectors::http::definition();
    let strict =
        OutboundClient::new(NetworkPolicy::new(Vec::new()), OutboundConfig::default()).unwrap();
    let env = run(
        &def,
        &strict,
        "get",
        json!({"path": "/users"}),
        json!({"baseUrl": format!("{base}/v1"), "authType": "bearer", "token": "tok-123"}),
        ctx(),
    )
    .await;
    let e = env.error.unwrap();
    assert_eq!(e.code, ErrorCode::Forbidden, "{e:?}");
    assert!(
        e.message.contains("SWITCHBOARD_ALLOW_NETWORKS"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("tok-123"));
    assert!(
        seen.lock().unwrap().is_empty(),
        "the request must not leave the hub"
    );
}

#[tokio::test]
async fn delay_reports_progress_and_respects_the_deadline() {
    let def = switchboard_connectors::delay::definition();
    let http = loopback_allowed();
    let updates = Arc::new(Mutex::new(Vec::new()));
    let sink = updates.clone();
    let mut c = ctx();
    c.progress = Progress::new(move |u| sink.lock().unwrap().push(u.progress));
    let env = run(&def, &http, "wait", json!({"delayMs": 350}), json!({}), c).await;
    assert!(env.ok);
    assert_eq!(env.data.unwrap()["delayedMs"], 350);
    let got = updates.lock().unwrap().clone();
    assert!(
        got.len() >= 3 && got.windows(2).all(|w| w[0] <= w[1]) && *got.last().unwrap() == 350.0,
        "{got:?}"
    );

    let env = run(
        &def,
        &http,
        "wait",
        json!({"delayMs": 5000}),
        json!({}),
        RequestContext::new("r", Duration::from_millis(100)),
    )
    .await;
    assert_eq!(env.error.unwrap().code, ErrorCode::Timeout);
    let env = run(
        &def,
        &http,
        "wait",
        json!({"delayMs": -1}),
        json!({}),
        ctx(),
    )
    .await;
    assert_eq!(env.error.unwrap().code, ErrorCode::InvalidInput);
}
