//! The outbound HTTP client against real local servers.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use switchboard_contract::error::{ConnectorError, ErrorCode};
use switchboard_runtime::http::{
    error_for_status, NetworkPolicy, OutboundClient, OutboundConfig, OutboundError,
    OutboundRequest, RequestBody,
};
use tokio::time::Instant;

async fn serve_on(bind: &str, router: Router) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    Ok(addr)
}

async fn serve(router: Router) -> SocketAddr {
    serve_on("127.0.0.1:0", router).await.unwrap()
}

fn fast_config() -> OutboundConfig {
    OutboundConfig {
        retry_base_delay: Duration::from_millis(20),
        retry_max_delay: Duration::from_millis(100),
        ..OutboundConfig::default()
    }
}

fn strict_client() -> OutboundClient {
    OutboundClient::new(NetworkPolicy::default(), fast_config()).unwrap()
}

fn loopback_client_with(config: OutboundConfig) -> OutboundClient {
    let policy = NetworkPolicy::new(NetworkPolicy::parse_allowlist("127.0.0.0/8").unwrap());
    OutboundClient::new(policy, config).unwrap()
}

fn loopback_client() -> OutboundClient {
    loopback_client_with(fast_config())
}

#[derive(Clone, Default)]
struct Hits(Arc<AtomicU32>);

impl Hits {
    fn bump(&self) -> u32 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
    fn get(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `/ok` answers 200; `/flaky` answers 503 once then 200; `/always/{status}` answers that status.
async fn counting_server() -> (SocketAddr, Hits) {
    let hits = Hits::default();
    let router = Router::new()
        .route(
            "/ok",
            get(|State(h): State<Hits>| async move {
                h.bump();
                "hello"
            }),
        )
        .route(
            "/flaky",
            any(|State(h): State<Hits>| async move {
                if h.bump() == 1 {
                    (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
                } else {
                    (StatusCode::OK, "recovered").into_response()
                }
            }),
        )
        .with_state(hits.clone());
    (serve(router).await, hits)
}

fn assert_policy(
    result: Result<switchboard_runtime::http::OutboundResponse, OutboundError>,
) -> String {
    match result {
        Err(OutboundError::Policy(msg)) => msg,
        other => panic!("expected a policy refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn policy_refuses_loopback_without_allowlist() {
    let (addr, hits) = counting_server().await;
    let client = strict_client();

    let msg = assert_policy(
        client
            .send(
                OutboundRequest::get(format!("http://127.0.0.1:{}/ok", addr.port())),
                None,
            )
            .await,
    );
    assert!(msg.contains("127.0.0.1"), "{msg}");
    assert!(msg.contains("loopback"), "{msg}");
    assert!(msg.contains("SWITCHBOARD_ALLOW_NETWORKS"), "{msg}");

    let msg = assert_policy(
        client
            .send(
                OutboundRequest::get(format!("http://localhost:{}/ok", addr.port())),
                None,
            )
            .await,
    );
    assert!(msg.contains("localhost resolves to"), "{msg}");
    assert!(msg.contains("SWITCHBOARD_ALLOW_NETWORKS"), "{msg}");

    assert_eq!(hits.get(), 0, "nothing may reach the server");

    let err = ConnectorError::from(OutboundError::Policy(msg));
    assert_eq!(err.code, ErrorCode::Forbidden);
}

#[tokio::test]
async fn policy_allows_allowlisted_loopback() {
    let (addr, hits) = counting_server().await;
    let client = loopback_client();
    for host in ["127.0.0.1", "localhost"] {
        let resp = client
            .send(
                OutboundRequest::get(format!("http://{host}:{}/ok", addr.port())),
                None,
            )
            .await
            .unwrap();
        assert_eq!(resp.status, 200);
        assert!(resp.is_success());
        assert_eq!(resp.text(), "hello");
        assert_eq!(resp.attempts, 1);
    }
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn policy_refuses_special_addresses_in_every_spelling() {
    let client = strict_client();
    for url in [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00:ec2::254]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0.0.0.0:8080/",
        "https://100.64.1.1/",
    ] {
        let started = Instant::now();
        let msg = assert_policy(client.send(OutboundRequest::get(url), None).await);
        assert!(msg.contains("refused by network policy"), "{url}: {msg}");
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "{url} was not refused up front"
        );
    }
    // The normalized forms name the address actually targeted.
    let msg = assert_policy(
        client
            .send(OutboundRequest::get("http://2130706433/"), None)
            .await,
    );
    assert!(msg.contains("127.0.0.1"), "{msg}");
    let msg = assert_policy(
        client
            .send(OutboundRequest::get("http://0x7f.1/"), None)
            .await,
    );
    assert!(msg.contains("127.0.0.1"), "{msg}");
    // Allowlisting loopback does not open the metadata address.
    let msg = assert_policy(
        loopback_client()
            .send(OutboundRequest::get("http://169.254.169.254/"), None)
            .await,
    );
    assert!(msg.contains("cloud metadata"), "{msg}");
}

#[tokio::test]
async fn refuses_other_schemes_and_userinfo() {
    let client = loopback_client();
    for url in [
        "file:///etc/passwd",
        "ftp://example.com/x",
        "gopher://127.0.0.1:70/",
    ] {
        match client.send(OutboundRequest::get(url), None).await {
            Err(OutboundError::InvalidUrl(msg)) => assert!(msg.contains("scheme"), "{msg}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    match client
        .send(
            OutboundRequest::get("http://admin:SECRETPW@127.0.0.1:9/"),
            None,
        )
        .await
    {
        Err(err @ OutboundError::InvalidUrl(_)) => {
            let text = err.to_string();
            assert!(!text.contains("SECRETPW"), "{text}");
            assert!(!text.contains("admin"), "{text}");
            assert_eq!(ConnectorError::from(err).code, ErrorCode::InvalidInput);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        client.send(OutboundRequest::get("not a url"), None).await,
        Err(OutboundError::InvalidUrl(_))
    ));
}

#[tokio::test]
async fn get_is_retried_on_503() {
    let (addr, hits) = counting_server().await;
    let resp = loopback_client()
        .send(
            OutboundRequest::get(format!("http://127.0.0.1:{}/flaky", addr.port())),
            None,
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.text(), "recovered");
    assert_eq!(resp.attempts, 2);
    assert_eq!(hits.get(), 2);
}

#[tokio::test]
async fn post_is_not_retried_unless_marked_idempotent() {
    let (addr, hits) = counting_server().await;
    let url = format!("http://127.0.0.1:{}/flaky", addr.port());
    let client = loopback_client();
    let resp = client
        .send(
            OutboundRequest::post(&url).json(serde_json::json!({"a": 1})),
            None,
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 503);
    assert!(!resp.is_success());
    assert_eq!(resp.attempts, 1);
    assert_eq!(hits.get(), 1);

    let (addr, hits) = counting_server().await;
    let url = format!("http://127.0.0.1:{}/flaky", addr.port());
    let resp = client
        .send(
            OutboundRequest::post(&url)
                .json(serde_json::json!({"a": 1}))
                .idempotent(true),
            None,
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.attempts, 2);
    assert_eq!(hits.get(), 2);
}

async fn rate_limited_server(retry_after: &'static str, failures: u32) -> (SocketAddr, Hits) {
    let hits = Hits::default();
    let router = Router::new()
        .route(
            "/limited",
            get(move |State(h): State<Hits>| async move {
                if h.bump() <= failures {
                    (
                        StatusCode::TOO_MANY_REQUESTS,
                        [("retry-after", retry_after), ("x-ratelimit-remaining", "0")],
                        "slow down",
                    )
                        .into_response()
                } else {
                    (
                        StatusCode::OK,
                        [
                            ("x-ratelimit-limit", "100"),
                            ("x-ratelimit-remaining", "99"),
                        ],
                        "fine",
                    )
                        .into_response()
                }
            }),
        )
        .with_state(hits.clone());
    (serve(router).await, hits)
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (addr, hits) = rate_limited_server("1", 1).await;
    let started = Instant::now();
    let resp = loopback_client()
        .send(
            OutboundRequest::get(format!("http://127.0.0.1:{}/limited", addr.port())),
            None,
        )
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.attempts, 2);
    assert_eq!(hits.get(), 2);
    assert!(
        elapsed >= Duration::from_millis(900),
        "waited only {elapsed:?}"
    );
    let rl = resp.rate_limit.unwrap();
    assert_eq!((rl.limit, rl.remaining), (Some(100), Some(99)));
}

#[tokio::test]
async fn deadline_shorter_than_retry_after_returns_the_429() {
    let (addr, hits) = rate_limited_server("5", 10).await;
    let started = Instant::now();
    let resp = loopback_client()
        .send(
            OutboundRequest::get(format!("http://127.0.0.1:{}/limited", addr.port())),
            Some(Instant::now() + Duration::from_secs(1)),
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 429);
    assert_eq!(resp.attempts, 1);
    assert_eq!(resp.retry_after_ms, Some(5000));
    assert_eq!(hits.get(), 1);
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );

    let err = error_for_status(&resp, "Acme").unwrap();
    assert_eq!(err.code, ErrorCode::RateLimited);
    assert_eq!(err.retry_after_ms, Some(5000));
    assert_eq!(err.message, "Acme returned 429 Too Many Requests");
}

async fn slow_server(hits: Hits) -> SocketAddr {
    let router = Router::new()
        .route(
            "/slow",
            get(|State(h): State<Hits>| async move {
                h.bump();
                tokio::time::sleep(Duration::from_secs(3)).await;
                "late"
            }),
        )
        .with_state(hits);
    serve(router).await
}

#[tokio::test]
async fn timeouts() {
    let hits = Hits::default();
    let addr = slow_server(hits.clone()).await;
    let url = format!("http://127.0.0.1:{}/slow?api_key=SECRET", addr.port());

    // Per-request timeout, no retries.
    let client = loopback_client_with(OutboundConfig {
        max_retries: 0,
        ..fast_config()
    });
    let started = Instant::now();
    let err = client
        .send(
            OutboundRequest::get(&url).timeout(Duration::from_millis(200)),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_millis(1500));
    let text = err.to_string();
    assert!(
        text.contains(&format!("127.0.0.1:{}/slow", addr.port())),
        "{text}"
    );
    assert!(
        !text.contains("SECRET") && !text.contains("api_key"),
        "{text}"
    );
    assert_eq!(ConnectorError::from(err).code, ErrorCode::Timeout);
    assert_eq!(hits.get(), 1);

    // Timeouts of idempotent requests are retried.
    let client = loopback_client();
    let err = client
        .send(
            OutboundRequest::get(&url).timeout(Duration::from_millis(150)),
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::Timeout { .. }), "{err:?}");
    assert_eq!(hits.get(), 4);

    // The deadline caps the per-request timeout.
    let started = Instant::now();
    let err = client
        .send(
            OutboundRequest::get(&url),
            Some(Instant::now() + Duration::from_millis(300)),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::Timeout { .. }), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );

    // A deadline already past fails without sending.
    let before = hits.get();
    let err = client
        .send(OutboundRequest::get(&url), Some(Instant::now()))
        .await
        .unwrap_err();
    assert!(matches!(err, OutboundError::Timeout { .. }), "{err:?}");
    assert_eq!(hits.get(), before);
}

#[tokio::test]
async fn oversize_bodies_are_refused() {
    let router = Router::new()
        .route("/big", get(|| async { "x".repeat(4096) }))
        .route(
            "/stream",
            get(|| async {
                let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![b'y'; 256]));
                Response::new(Body::from_stream(futures::stream::iter(chunks)))
            }),
        )
        .route("/small", get(|| async { "x".repeat(1000) }));
    let addr = serve(router).await;
    let client = loopback_client_with(OutboundConfig {
        max_response_bytes: 1024,
        ..fast_config()
    });
    for path in ["big", "stream"] {
        let err = client
            .send(
                OutboundRequest::get(format!("http://127.0.0.1:{}/{path}", addr.port())),
                None,
            )
            .await
            .unwrap_err();
        assert_eq!(err, OutboundError::TooLarge { limit: 1024 }, "{path}");
        assert_eq!(ConnectorError::from(err).code, ErrorCode::UpstreamError);
    }
    let resp = client
        .send(
            OutboundRequest::get(format!("http://127.0.0.1:{}/small", addr.port())),
            None,
        )
        .await
        .unwrap();
    assert_eq!(resp.body.len(), 1000);
}

fn redirect_to(location: String) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header("location", location)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn redirects_are_checked_and_bounded() {
    let router = Router::new()
        .route("/ok", get(|| async { "landed" }))
        .route(
            "/to-metadata",
            get(|| async { redirect_to("http://169.254.169.254/latest/meta-data/".into()) }),
        )
        .route(
            "/to-private",
            get(|| async { redirect_to("http://10.0.0.1/admin".into()) }),
        )
        .route(
            "/to-file",
            get(|| async { redirect_to("file:///etc/passwd".into()) }),
        )
        .route("/to-ok", get(|| async { redirect_to("/ok".into()) }))
        .route(
            "/hop/{n}",
            get(
                |axum::extract::Path(n): axum::extract::Path<u32>| async move {
                    if n == 0 {
                        "end".into_response()
                    } else {
                        redirect_to(format!("/hop/{}", n - 1))
                    }
                },
            ),
        );
    let addr = serve(router).await;
    let base = format!("http://127.0.0.1:{}", addr.port());
    let client = loopback_client();

    let resp = client
        .send(OutboundRequest::get(format!("{base}/to-ok")), None)
        .await
        .unwrap();
    assert_eq!(resp.text(), "landed");

    for path in ["to-metadata", "to-private"] {
        let msg = assert_policy(
            client
                .send(
                    OutboundRequest::get(format!("{base}/{path}?token=SECRET")),
                    None,
                )
                .await,
        );
        assert!(msg.contains("refused by network policy"), "{msg}");
        assert!(!msg.contains("SECRET"), "{msg}");
    }
    // A non-http(s) Location is never followed: refused, or handed back as the 302.
    match client
        .send(OutboundRequest::get(format!("{base}/to-file")), None)
        .await
    {
        Ok(resp) => assert_eq!(resp.status, 302),
        Err(err) => assert!(
            matches!(err, OutboundError::InvalidUrl(_) | OutboundError::Policy(_)),
            "{err:?}"
        ),
    }

    // Five redirects are followed, six are not.
    let resp = client
        .send(OutboundRequest::get(format!("{base}/hop/5")), None)
        .await
        .unwrap();
    assert_eq!(resp.text(), "end");
    match client
        .send(OutboundRequest::get(format!("{base}/hop/6")), None)
        .await
    {
        Err(OutboundError::Other(msg)) => assert!(msg.contains("redirects"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn redirect_to_a_denied_hostname_is_refused_by_the_resolver() {
    // Serve on 127.0.0.2 and allowlist only that address: `localhost`
    // (127.0.0.1 / ::1) stays denied. Skipped where 127.0.0.2 is not bindable.
    let Ok(target) = serve_on(
        "127.0.0.1:0",
        Router::new().route("/", get(|| async { "secret" })),
    )
    .await
    else {
        return;
    };
    let location = format!("http://localhost:{}/", target.port());
    let router = Router::new().route(
        "/go",
        get(move || {
            let location = location.clone();
            async move { redirect_to(location) }
        }),
    );
    let Ok(addr) = serve_on("127.0.0.2:0", router).await else {
        eprintln!("127.0.0.2 not bindable; skipping");
        return;
    };
    let policy = NetworkPolicy::new(NetworkPolicy::parse_allowlist("127.0.0.2").unwrap());
    let client = OutboundClient::new(policy, fast_config()).unwrap();
    let msg = assert_policy(
        client
            .send(
                OutboundRequest::get(format!("http://127.0.0.2:{}/go", addr.port())),
                None,
            )
            .await,
    );
    assert!(msg.contains("localhost resolves to"), "{msg}");
}

#[tokio::test]
async fn errors_never_show_query_strings() {
    // Policy refusal.
    let err = strict_client()
        .send(
            OutboundRequest::get("http://127.0.0.1:9/x?api_key=SECRET"),
            None,
        )
        .await
        .unwrap_err();
    // Connection refused on a closed port.
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let connect_err = loopback_client_with(OutboundConfig {
        max_retries: 0,
        ..fast_config()
    })
    .send(
        OutboundRequest::get(format!("http://127.0.0.1:{closed}/v1/items?api_key=SECRET"))
            .bearer("TOKEN-SECRET"),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(connect_err, OutboundError::Connect(_)),
        "{connect_err:?}"
    );
    assert!(
        connect_err.to_string().contains("/v1/items"),
        "{connect_err}"
    );
    assert_eq!(
        ConnectorError::from(connect_err.clone()).code,
        ErrorCode::Unavailable
    );

    for err in [err, connect_err] {
        let display = err.to_string();
        let debug = format!("{err:?}");
        let connector = ConnectorError::from(err).message;
        for text in [display, debug, connector] {
            assert!(!text.contains("SECRET"), "{text}");
            assert!(!text.contains("api_key"), "{text}");
        }
    }
}

#[tokio::test]
async fn requests_carry_headers_and_bodies_and_responses_parse() {
    async fn echo(headers: HeaderMap, body: String) -> Response {
        let h = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        (
            StatusCode::NOT_FOUND,
            [
                ("x-ratelimit-limit", "5000"),
                ("x-ratelimit-remaining", "4999"),
                ("x-ratelimit-reset", "1893456000"),
            ],
            axum::Json(serde_json::json!({
                "authorization": h("authorization"),
                "userAgent": h("user-agent"),
                "contentType": h("content-type"),
                "custom": h("x-custom"),
                "body": body,
            })),
        )
            .into_response()
    }
    let addr = serve(Router::new().route("/echo", any(echo))).await;
    let url = format!("http://127.0.0.1:{}/echo", addr.port());
    let client = loopback_client();

    let resp = client
        .send(
            OutboundRequest::post(&url)
                .bearer("tok")
                .header("X-Custom", "yes")
                .json(serde_json::json!({"name": "x"})),
            None,
        )
        .await
        .unwrap();
    assert_eq!(resp.status, 404);
    assert_eq!(resp.attempts, 1);
    let echoed = resp.json_value();
    assert_eq!(echoed["authorization"], "Bearer tok");
    assert_eq!(echoed["custom"], "yes");
    assert_eq!(echoed["contentType"], "application/json");
    assert_eq!(echoed["body"], r#"{"name":"x"}"#);
    assert!(echoed["userAgent"]
        .as_str()
        .unwrap()
        .starts_with("switchboard/"));
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let rl = resp.rate_limit.clone().unwrap();
    assert_eq!(rl.limit, Some(5000));
    assert_eq!(rl.remaining, Some(4999));
    assert_eq!(rl.reset_at.as_deref(), Some("2030-01-01T00:00:00Z"));
    #[derive(serde::Deserialize)]
    struct Echo {
        custom: String,
    }
    assert_eq!(resp.json::<Echo>().unwrap().custom, "yes");
    assert!(matches!(
        resp.json::<Vec<u8>>(),
        Err(OutboundError::Decode(_))
    ));

    let err = error_for_status(&resp, "Acme").unwrap();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert_eq!(err.message, "Acme returned 404 Not Found");
    assert_eq!(err.diagnostics.as_ref().unwrap()["status"], 404);
    assert_eq!(err.diagnostics.as_ref().unwrap()["body"]["custom"], "yes");

    let resp = client
        .send(
            OutboundRequest::new(::http::Method::PUT, &url)
                .basic("user", "pass")
                .body(RequestBody::Form(vec![
                    ("a".into(), "1 2".into()),
                    ("b".into(), "&".into()),
                ])),
            None,
        )
        .await
        .unwrap();
    let echoed = resp.json_value();
    assert_eq!(echoed["authorization"], "Basic dXNlcjpwYXNz");
    assert_eq!(echoed["contentType"], "application/x-www-form-urlencoded");
    assert_eq!(echoed["body"], "a=1+2&b=%26");

    let resp = client
        .send(
            OutboundRequest::post(&url).body(RequestBody::Bytes(
                bytes::Bytes::from_static(b"raw"),
                "application/octet-stream".into(),
            )),
            None,
        )
        .await
        .unwrap();
    let echoed = resp.json_value();
    assert_eq!(echoed["contentType"], "application/octet-stream");
    assert_eq!(echoed["body"], "raw");

    let resp = client
        .send(OutboundRequest::post(&url).text("plain words"), None)
        .await
        .unwrap();
    assert_eq!(
        resp.json_value()["contentType"],
        "text/plain; charset=utf-8"
    );
}
