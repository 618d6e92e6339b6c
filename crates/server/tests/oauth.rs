//! OAuth 2.1 against a real authorization server: oidc-provider (npm) in
//! tests/oauth/provider.mjs, started here on 127.0.0.1 with a free port. Skips, saying
//! why, when its node_modules are not installed (scripts/test installs them).

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{backends, TestHub};
use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_runtime::http::NetworkPolicy;
use switchboard_runtime::HubSettings;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/oauth")
}

fn provider_available() -> bool {
    let ok = provider_dir().join("node_modules/oidc-provider").is_dir();
    if !ok {
        eprintln!(
            "skipped: oidc-provider is not installed (run `npm ci` in tests/oauth, as scripts/test does)"
        );
    }
    ok
}

/// The running provider; killed on drop (its stdin closing stops it too).
struct Provider {
    issuer: String,
    _child: Child,
}

async fn start_provider(redirect_uri: &str, access_ttl: u64) -> Provider {
    let mut child = Command::new("node")
        .arg("provider.mjs")
        .current_dir(provider_dir())
        .env("REDIRECT_URI", redirect_uri)
        .env("ACCESS_TTL", access_ttl.to_string())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("provider starts in time")
        .unwrap()
        .expect("provider prints its port");
    let port = line.strip_prefix("LISTENING ").expect("LISTENING line");
    Provider {
        issuer: format!("http://127.0.0.1:{port}"),
        _child: child,
    }
}

/// A resource server that says whether it got a token and for whom (never the token).
/// `reject` makes it answer 401 that many times.
struct ResourceServer {
    url: String,
    reject: Arc<AtomicUsize>,
}

async fn start_resource_server() -> ResourceServer {
    let reject = Arc::new(AtomicUsize::new(0));
    let r = reject.clone();
    let app = axum::Router::new().route(
        "/whoami",
        axum::routing::get(move |headers: axum::http::HeaderMap| {
            let r = r.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let claims = auth
                    .strip_prefix("Bearer ")
                    .and_then(|t| t.split('.').nth(1))
                    .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
                    .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let expired = claims
                    .as_ref()
                    .and_then(|c| c["exp"].as_i64())
                    .is_some_and(|exp| exp <= now);
                if r.load(Ordering::SeqCst) > 0 || expired || claims.is_none() {
                    let _ =
                        r.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
                    return (
                        axum::http::StatusCode::UNAUTHORIZED,
                        axum::Json(json!({"error": "invalid_token"})),
                    );
                }
                let c = claims.unwrap_or_default();
                (
                    axum::http::StatusCode::OK,
                    axum::Json(json!({"gotToken": true, "sub": c["sub"], "aud": c["aud"]})),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    ResourceServer { url, reject }
}

struct Setup {
    hub: TestHub,
    provider: Provider,
    rs: ResourceServer,
    http: reqwest::Client,
}

async fn setup(backend: common::TestBackend, access_ttl: u64, skew: Duration) -> Setup {
    let policy = NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    let settings = HubSettings {
        oauth_refresh_skew: skew,
        ..HubSettings::default()
    };
    let hub = TestHub::start_with(backend, policy, settings).await;
    let provider = start_provider(&hub.url("/api/oauth/callback"), access_ttl).await;
    let rs = start_resource_server().await;
    let (s, app) = hub
        .post(
            "/api/oauth/apps",
            json!({"name": "idp", "provider": "test-idp", "issuer": provider.issuer,
                   "clientId": "switchboard", "clientSecret": "switchboard-test-secret",
                   "scopes": ["openid", "api:read"], "resource": rs.url}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{app}");
    assert_eq!(app["data"]["hasClientSecret"], true);
    assert!(!app.to_string().contains("switchboard-test-secret"));
    assert_eq!(
        app["data"]["tokenUrl"],
        format!("{}/token", provider.issuer),
        "discovered"
    );
    let (s, c) = hub
        .post(
            "/api/connectors",
            json!({"name": "api", "type": "http", "config": {"baseUrl": rs.url, "authType": "oauth"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Setup {
        hub,
        provider,
        rs,
        http,
    }
}

impl Setup {
    /// Opens the authorization URL like a browser and returns the URL the provider
    /// redirects to on the hub (not followed).
    async fn authorize(&self, authorization_url: &str) -> String {
        let mut cookies: BTreeMap<String, String> = BTreeMap::new();
        let mut url = authorization_url.to_string();
        for _ in 0..10 {
            let cookie = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let resp = self
                .http
                .get(&url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            for sc in resp.headers().get_all("set-cookie") {
                let sc = sc.to_str().unwrap();
                let pair = sc.split(';').next().unwrap();
                if let Some((k, v)) = pair.split_once('=') {
                    cookies.insert(k.to_string(), v.to_string());
                }
            }
            let status = resp.status();
            let Some(location) = resp.headers().get("location") else {
                panic!("provider stopped redirecting at {status}");
            };
            let next = reqwest::Url::parse(&url)
                .unwrap()
                .join(location.to_str().unwrap())
                .unwrap()
                .to_string();
            if next.starts_with(&self.hub.url("/api/oauth/callback")) {
                return next;
            }
            url = next;
        }
        panic!("too many redirects");
    }

    async fn start(&self, body: Value) -> String {
        let (s, v) = self.hub.post("/api/oauth/start", body).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let url = v["data"]["authorizationUrl"].as_str().unwrap().to_string();
        assert!(url.contains("code_challenge_method=S256"), "{url}");
        assert!(url.contains("resource="), "{url}");
        url
    }

    async fn callback(&self, url: &str) -> (StatusCode, String) {
        let resp = self.http.get(url).send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    async fn connect(&self, body: Value) {
        let auth = self.start(body).await;
        let back = self.authorize(&auth).await;
        let (s, page) = self.callback(&back).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        assert!(
            page.contains("Your account is connected to 'api'"),
            "{page}"
        );
    }

    async fn whoami(&self) -> Value {
        let (_, env) = self
            .hub
            .post(
                "/api/connectors/api/execute",
                json!({"command": "get", "params": {"path": "/whoami"}}),
            )
            .await;
        env
    }

    async fn counts(&self) -> Value {
        reqwest::get(format!("{}/test/counts", self.provider.issuer))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn stored_tokens(&self, user: &str) -> Value {
        let conn = self
            .hub
            .db
            .store
            .get_connector_by_name(&self.hub.tenant_id, "api")
            .await
            .unwrap()
            .unwrap();
        self.hub
            .db
            .store
            .oauth_tokens(&self.hub.tenant_id, &conn.id, user)
            .await
            .unwrap()
            .expect("a token set is stored")
    }
}

/// Another hub over the same database, as a second replica would be.
async fn second_replica(t: &Setup) -> switchboard_runtime::Hub {
    use switchboard_runtime::http::{OutboundClient, OutboundConfig};
    let policy = NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    switchboard_runtime::Hub::new(
        t.hub.db.store.clone(),
        switchboard_connectors::registry(),
        OutboundClient::new(policy, OutboundConfig::default()).unwrap(),
        switchboard_runtime::CursorSigner::new([9; 32]),
        HubSettings {
            oauth_refresh_skew: t.hub.hub.settings().oauth_refresh_skew,
            ..HubSettings::default()
        },
    )
}

fn count(counts: &Value, grant: &str) -> u64 {
    counts[grant].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_call_refresh_rotate_and_single_flight() {
    if !provider_available() {
        return;
    }
    for backend in backends().await {
        // Tokens live 3 s and are refreshed when less than 1 s is left.
        let t = setup(backend, 3, Duration::from_millis(1000)).await;
        let label = t.hub.label();

        // Before connecting, a call says how to connect.
        let env = t.whoami().await;
        assert_eq!(env["error"]["code"], "unauthorized", "{label}: {env}");
        assert!(
            env["error"]["message"].as_str().unwrap().contains("/auth?"),
            "{label}: {env}"
        );

        t.connect(json!({"connector": "api", "shared": true})).await;
        let (_, conn) = t.hub.get("/api/connectors/api").await;
        assert_eq!(conn["data"]["status"], "connected", "{label}: {conn}");

        let env = t.whoami().await;
        assert_eq!(env["ok"], true, "{label}: {env}");
        assert_eq!(env["data"]["body"]["gotToken"], true);
        assert_eq!(env["data"]["body"]["sub"], "alice");
        assert_eq!(env["data"]["body"]["aud"], t.rs.url, "RFC 8707 audience");
        assert_eq!(count(&t.counts().await, "authorization_code"), 1);
        assert_eq!(count(&t.counts().await, "refresh_token"), 0);
        let first = t.stored_tokens("").await;
        assert!(!t.hub.db.store.pool().is_closed());

        // Near expiry, many concurrent calls: exactly one refresh at the provider.
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let calls = (0..16).map(|_| t.whoami());
        for env in futures::future::join_all(calls).await {
            assert_eq!(env["ok"], true, "{label}: {env}");
        }
        assert_eq!(
            count(&t.counts().await, "refresh_token"),
            1,
            "{label}: single flight"
        );
        let second = t.stored_tokens("").await;
        assert_ne!(
            first["refresh_token"], second["refresh_token"],
            "the rotated refresh token was stored"
        );

        // The rotated token works for the next refresh (oidc-provider refuses reuse of
        // a rotated one by revoking the grant, so this proves it was used).
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let env = t.whoami().await;
        assert_eq!(env["ok"], true, "{label}: {env}");
        assert_eq!(count(&t.counts().await, "refresh_token"), 2);

        // Two replicas over one database: the lease row keeps it to one refresh.
        let replica = second_replica(&t).await;
        let caller = replica
            .authenticate(&t.hub.admin_key)
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2200)).await;
        let request = || switchboard_runtime::hub::ExecuteRequest {
            command: Some("get".into()),
            params: json!({"path": "/whoami"}).as_object().unwrap().clone(),
            ..Default::default()
        };
        let on_replica = (0..8).map(|_| replica.execute(&caller, "api", request(), None));
        let on_first = (0..8).map(|_| t.whoami());
        let (a, b) = tokio::join!(
            futures::future::join_all(on_replica),
            futures::future::join_all(on_first)
        );
        assert!(a.iter().all(|e| e.ok), "{label}: replica calls succeed");
        assert!(
            b.iter().all(|e| e["ok"] == true),
            "{label}: first replica's calls succeed"
        );
        assert_eq!(
            count(&t.counts().await, "refresh_token"),
            3,
            "{label}: one refresh across replicas"
        );

        // A vendor 401 on a token that looks fresh: one refresh, one retry, success.
        t.rs.reject.store(1, Ordering::SeqCst);
        let env = t.whoami().await;
        assert_eq!(env["ok"], true, "{label}: {env}");
        assert_eq!(count(&t.counts().await, "refresh_token"), 4);
        // Twice in a row: refreshed once, then the error stands.
        t.rs.reject.store(2, Ordering::SeqCst);
        let env = t.whoami().await;
        assert_eq!(env["error"]["code"], "unauthorized", "{label}: {env}");
        assert_eq!(count(&t.counts().await, "refresh_token"), 5);
    }
}

#[tokio::test]
async fn revoked_grant_becomes_expired_with_a_reconnect_hint() {
    if !provider_available() {
        return;
    }
    for backend in backends().await {
        let t = setup(backend, 2, Duration::from_millis(500)).await;
        let label = t.hub.label();
        t.connect(json!({"connector": "api", "shared": true})).await;
        assert_eq!(t.whoami().await["ok"], true);

        // The user revokes the grant at the provider.
        let tokens = t.stored_tokens("").await;
        let resp = t
            .http
            .post(format!("{}/token/revocation", t.provider.issuer))
            .basic_auth("switchboard", Some("switchboard-test-secret"))
            .form(&[
                ("token", tokens["refresh_token"].as_str().unwrap()),
                ("token_type_hint", "refresh_token"),
            ])
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());

        tokio::time::sleep(Duration::from_millis(2100)).await;
        let env = t.whoami().await;
        assert_eq!(env["error"]["code"], "unauthorized", "{label}: {env}");
        let msg = env["error"]["message"].as_str().unwrap();
        assert!(msg.contains("expired"), "{label}: {msg}");
        assert!(msg.contains("invalid_grant"), "{label}: {msg}");
        assert!(
            msg.contains("/authorize?") || msg.contains("/auth?"),
            "a connect link: {msg}"
        );
        assert!(!msg.contains(tokens["refresh_token"].as_str().unwrap()));

        let (_, conn) = t.hub.get("/api/connectors/api").await;
        assert_eq!(conn["data"]["status"], "expired", "{label}: {conn}");
        assert_eq!(conn["data"]["account"]["uses"], "shared", "{conn}");
        assert_eq!(conn["data"]["account"]["status"], "expired", "{conn}");
        let (_, conns) = t.hub.get("/api/connectors/api/oauth").await;
        assert_eq!(conns["data"][0]["status"], "expired", "{conns}");
        assert!(conns["data"][0]["statusReason"]
            .as_str()
            .unwrap()
            .contains("connected again"));
        assert!(!conns.to_string().contains("access_token"));

        // Reconnecting fixes it.
        t.connect(json!({"connector": "api", "shared": true})).await;
        assert_eq!(t.whoami().await["ok"], true, "{label}");
        let (_, conn) = t.hub.get("/api/connectors/api").await;
        assert_eq!(
            conn["data"]["account"],
            json!({"uses": "shared", "status": "connected", "statusReason": null}),
            "{label}"
        );
        // The viewer's own account comes first, for calls and in the view.
        t.connect(json!({"connector": "api"})).await;
        let (_, list) = t.hub.get("/api/connectors").await;
        let api = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "api")
            .unwrap();
        assert_eq!(api["account"]["uses"], "own", "{label}: {api}");
        assert_eq!(api["account"]["status"], "connected", "{label}: {api}");
    }
}

#[tokio::test]
async fn bad_callbacks_are_refused_and_store_nothing() {
    if !provider_available() {
        return;
    }
    let backend = backends().await.remove(0);
    let t = setup(backend, 3600, Duration::from_secs(60)).await;

    // Forged state.
    let (s, page) = t
        .callback(&t.hub.url("/api/oauth/callback?state=forged&code=abc"))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("not valid or was already used"), "{page}");

    // The user denies.
    t.http
        .post(format!("{}/test/deny-next", t.provider.issuer))
        .send()
        .await
        .unwrap();
    let auth = t.start(json!({"connector": "api"})).await;
    let back = t.authorize(&auth).await;
    assert!(back.contains("error=access_denied"), "{back}");
    let (s, page) = t.callback(&back).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("Access was not granted"), "{page}");

    // A code redeemed with another authorization's verifier: the provider refuses (PKCE).
    let a = t
        .authorize(&t.start(json!({"connector": "api"})).await)
        .await;
    let b = t
        .authorize(&t.start(json!({"connector": "api"})).await)
        .await;
    let q = |u: &str, k: &str| {
        reqwest::Url::parse(u)
            .unwrap()
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let crossed = reqwest::Url::parse_with_params(
        &t.hub.url("/api/oauth/callback"),
        &[("code", q(&a, "code")), ("state", q(&b, "state"))],
    )
    .unwrap();
    let (s, page) = t.callback(crossed.as_str()).await;
    assert_eq!(s, StatusCode::BAD_GATEWAY, "{page}");
    assert!(page.contains("invalid_grant"), "{page}");
    assert!(!page.contains(&q(&a, "code")), "the code is not echoed");
    let (_, conns) = t.hub.get("/api/connectors/api/oauth").await;
    assert_eq!(conns["data"], json!([]), "nothing stored: {conns}");

    // Replaying a state: refused the second time.
    let (s, page) = t.callback(&a).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let (s, page) = t.callback(&a).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("already used"), "{page}");

    // An expired state.
    let c = t
        .authorize(&t.start(json!({"connector": "api"})).await)
        .await;
    sqlx_expire_states(&t).await;
    let (s, page) = t.callback(&c).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(page.contains("expired"), "{page}");

    // The per-user connection made above serves the admin's calls.
    let env = t.whoami().await;
    assert_eq!(env["ok"], true, "{env}");
    let (_, conns) = t.hub.get("/api/connectors/api/oauth").await;
    assert_eq!(conns["data"].as_array().unwrap().len(), 1);
    assert!(conns["data"][0]["userId"].is_string(), "per-user: {conns}");

    // Disconnecting revokes at the provider (RFC 7009): the refresh token stops working.
    let user = conns["data"][0]["userId"].as_str().unwrap().to_string();
    let tokens = t.stored_tokens(&user).await;
    let resp = t
        .http
        .delete(t.hub.url("/api/connectors/api/oauth"))
        .bearer_auth(&t.hub.admin_key)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let (_, conns) = t.hub.get("/api/connectors/api/oauth").await;
    assert_eq!(conns["data"], json!([]));
    let resp = t
        .http
        .post(format!("{}/token", t.provider.issuer))
        .basic_auth("switchboard", Some("switchboard-test-secret"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "revoked at the provider");
    let env = t.whoami().await;
    assert_eq!(env["error"]["code"], "unauthorized", "{env}");
}

async fn sqlx_expire_states(t: &Setup) {
    t.hub
        .db
        .store
        .expire_oauth_states_for_tests()
        .await
        .unwrap();
}

/// A client-credentials access token from the provider for `resource`.
async fn client_token(issuer: &str, resource: &str, scope: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{issuer}/token"))
        .basic_auth("mcp-client", Some("mcp-client-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", resource),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "token request: {status}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn mcp_initialize(hub: &TestHub, token: Option<&str>) -> reqwest::Response {
    let mut rb = hub
        .client
        .post(hub.url("/mcp"))
        .header("accept", "application/json, text/event-stream")
        .json(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "oauth-test", "version": "1"}}}),
        );
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb.send().await.unwrap()
}

fn www_authenticate(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn mcp_accepts_the_providers_tokens_for_its_audience_only() {
    if !provider_available() {
        return;
    }
    let backend = backends().await.remove(0);
    let provider = start_provider("http://127.0.0.1:9/unused", 3600).await;
    let issuer = provider.issuer.clone();
    let policy = NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    let hub = TestHub::start_full(backend, policy, HubSettings::default(), |base| {
        let mut rs = switchboard_server::ResourceServerSettings::new(
            issuer.clone(),
            format!("{base}/mcp"),
            format!("{issuer}/jwks"),
        );
        rs.required_scopes = vec!["mcp:tools".into()];
        rs.user_claim = "user".into();
        switchboard_server::McpSettings {
            resource_server: Some(rs),
            ..Default::default()
        }
    })
    .await;
    let audience = hub.url("/mcp");
    let (s, u) = hub
        .post("/api/users", json!({"name": "mcp-agent", "role": "member"}))
        .await;
    assert!(s.is_success(), "{u}");

    // RFC 9728 metadata, at the root and per path.
    for path in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        let meta: Value = reqwest::get(hub.url(path))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(meta["resource"], audience, "{meta}");
        assert_eq!(meta["authorization_servers"], json!([issuer]));
        assert_eq!(meta["scopes_supported"], json!(["mcp:tools"]));
    }

    // No token: 401 pointing at the metadata.
    let resp = mcp_initialize(&hub, None).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = www_authenticate(&resp);
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{}\"",
            hub.url("/.well-known/oauth-protected-resource/mcp")
        )),
        "{challenge}"
    );

    // A token the provider issued for this resource: accepted, as user mcp-agent.
    let good = client_token(&issuer, &audience, "mcp:tools").await;
    let resp = mcp_initialize(&hub, Some(&good)).await;
    assert_eq!(resp.status(), StatusCode::OK, "{}", www_authenticate(&resp));

    // API keys still work.
    let resp = mcp_initialize(&hub, Some(&hub.admin_key)).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Another audience: 401 invalid_token with the metadata pointer.
    let other = client_token(&issuer, "http://other.example/mcp", "mcp:tools").await;
    let resp = mcp_initialize(&hub, Some(&other)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let challenge = www_authenticate(&resp);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains("resource_metadata="), "{challenge}");
    assert!(challenge.contains("audience"), "{challenge}");
    let body = resp.text().await.unwrap();
    assert!(!body.contains(&other), "the token is not echoed");

    // Missing scope: 403 insufficient_scope naming the scope.
    let narrow = client_token(&issuer, &audience, "api:read").await;
    let resp = mcp_initialize(&hub, Some(&narrow)).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let challenge = www_authenticate(&resp);
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(challenge.contains("scope=\"mcp:tools\""), "{challenge}");

    // A forged signature, and a key the provider no longer publishes.
    let parts: Vec<&str> = good.split('.').collect();
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[0] ^= 0xff;
    let forged = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    let resp = mcp_initialize(&hub, Some(&forged)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        www_authenticate(&resp).contains("signature"),
        "{}",
        www_authenticate(&resp)
    );
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"retired-key","typ":"at+jwt"}"#);
    let stale = format!("{header}.{}.{}", parts[1], parts[2]);
    let resp = mcp_initialize(&hub, Some(&stale)).await;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(
        www_authenticate(&resp).contains("does not publish"),
        "{}",
        www_authenticate(&resp)
    );
}

#[tokio::test]
async fn a_provider_that_is_down_or_answers_garbage_is_refused() {
    let backend = backends().await.remove(0);
    let policy = NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    let hub = TestHub::start_with(backend, policy, HubSettings::default()).await;
    let rs = start_resource_server().await;
    // Down: nothing listens on the port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let (s, v) = hub
        .post(
            "/api/oauth/apps",
            json!({"name": "down", "provider": "x", "issuer": format!("http://{closed}"), "clientId": "c", "clientSecret": "never-shown-123"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("discovery failed"),
        "{v}"
    );
    // Garbage: a server that is not an authorization server.
    let (s, v) = hub
        .post(
            "/api/oauth/apps",
            json!({"name": "garbage", "provider": "x", "issuer": rs.url, "clientId": "c", "clientSecret": "never-shown-123"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(!v.to_string().contains("never-shown-123"));
    let (_, apps) = hub.get("/api/oauth/apps").await;
    assert_eq!(apps["data"], json!([]), "nothing stored");
    // Presets need no endpoints.
    let (s, v) = hub
        .post(
            "/api/oauth/apps",
            json!({"name": "gh", "provider": "github", "clientId": "Iv1.abc", "clientSecret": "s3cret-value"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        v["data"]["tokenUrl"],
        "https://github.com/login/oauth/access_token"
    );
    assert!(!v.to_string().contains("s3cret-value"));
}

/// A hub whose /mcp accepts the provider's access tokens (an MCP server behind OAuth),
/// naming the user by `user_claim`.
async fn protected_mcp_hub(issuer: &str, user_claim: &str) -> TestHub {
    let backend = backends().await.remove(0);
    let policy = NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    let issuer = issuer.to_string();
    let user_claim = user_claim.to_string();
    TestHub::start_full(backend, policy, HubSettings::default(), |base| {
        let mut rs = switchboard_server::ResourceServerSettings::new(
            issuer.clone(),
            format!("{base}/mcp"),
            format!("{issuer}/jwks"),
        );
        rs.user_claim = user_claim.clone();
        switchboard_server::McpSettings {
            resource_server: Some(rs),
            ..Default::default()
        }
    })
    .await
}

/// The library for MCP upstreams: discovery from a protected MCP server (here a hub
/// whose /mcp trusts oidc-provider), dynamic registration, then the connect flow with
/// the registered client gives a token that server accepts.
#[tokio::test]
async fn upstream_mcp_discovery_and_dynamic_registration() {
    if !provider_available() {
        return;
    }
    // The client hub first (the provider needs its redirect URI for the static client).
    let t = setup(backends().await.remove(0), 3600, Duration::from_secs(60)).await;
    let issuer = t.provider.issuer.clone();
    let upstream = protected_mcp_hub(&issuer, "sub").await;
    let caller = t
        .hub
        .hub
        .authenticate(&t.hub.admin_key)
        .await
        .unwrap()
        .unwrap();
    let app = t
        .hub
        .hub
        .register_upstream_oauth_app(
            &caller,
            "upstream",
            &upstream.url("/mcp"),
            Some(
                switchboard_runtime::oauth::upstream::ClientRegistration::Dynamic {
                    client_name: "switchboard test".into(),
                },
            ),
        )
        .await
        .expect("discovered and registered");
    assert_eq!(app.issuer.as_deref(), Some(issuer.as_str()));
    assert_eq!(app.resource.as_deref(), Some(upstream.url("/mcp").as_str()));
    assert_eq!(app.token_url, format!("{issuer}/token"));
    assert!(app.has_client_secret);
    assert_ne!(app.client_id, "switchboard", "a new client was registered");

    // The connect flow with the registered client works end to end.
    let auth = t
        .start(json!({"connector": "api", "app": "upstream", "scopes": ["openid", "mcp:tools"]}))
        .await;
    assert!(
        auth.contains(&format!("client_id={}", app.client_id)),
        "{auth}"
    );
    let back = t.authorize(&auth).await;
    let (s, page) = t.callback(&back).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let tokens = t.stored_tokens(&caller.user_id).await;
    let payload = tokens["access_token"]
        .as_str()
        .unwrap()
        .split('.')
        .nth(1)
        .unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        claims["aud"],
        upstream.url("/mcp"),
        "audience-bound to the upstream"
    );

    // Discovery against something that is not a protected MCP server is refused.
    let err = t
        .hub
        .hub
        .register_upstream_oauth_app(
            &caller,
            "nothing",
            &format!("{}/whoami", t.rs.url),
            Some(
                switchboard_runtime::oauth::upstream::ClientRegistration::Dynamic {
                    client_name: "x".into(),
                },
            ),
        )
        .await
        .unwrap_err();
    assert!(
        err.message.contains("protected-resource metadata") || err.message.contains("HTTP"),
        "{}",
        err.message
    );
}

/// Runs a command of `connector` on the hub by REST and returns the envelope.
async fn execute(hub: &TestHub, connector: &str, command: &str, params: Value) -> Value {
    let (_, env) = hub
        .post(
            &format!("/api/connectors/{connector}/execute"),
            json!({"command": command, "params": params}),
        )
        .await;
    env
}

/// An `mcp` connector whose server sits behind OAuth (another hub whose /mcp trusts
/// oidc-provider), end to end: the app is registered from the server's metadata by the
/// API, the shared account is connected, and calls reach the server with its token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_connector_behind_oauth_calls_its_server_with_the_shared_account() {
    if !provider_available() {
        return;
    }
    // Tokens live 3 s and are refreshed when less than 1 s is left.
    let t = setup(backends().await.remove(0), 3, Duration::from_millis(1000)).await;
    let issuer = t.provider.issuer.clone();
    let upstream = protected_mcp_hub(&issuer, "user").await;
    // The provider's user is "alice"; she has a directory on the upstream hub.
    let (s, u) = upstream
        .post("/api/users", json!({"name": "alice", "role": "member"}))
        .await;
    assert!(s.is_success(), "{u}");
    let (s, c) = upstream
        .post(
            "/api/connectors",
            json!({"name": "people", "type": "directory"}),
        )
        .await;
    assert!(s.is_success(), "{c}");

    let server_url = upstream.url("/mcp?naming=underscore");
    let (s, c) = t
        .hub
        .post(
            "/api/connectors",
            json!({"name": "remote", "type": "mcp", "config": {"url": server_url, "authType": "oauth"}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");

    // Before an account is connected, the view and a call say what to do.
    let (_, conn) = t.hub.get("/api/connectors/remote").await;
    assert_eq!(conn["data"]["account"]["status"], "not_connected", "{conn}");
    let env = execute(&t.hub, "remote", "directory_list", json!({})).await;
    assert_eq!(env["ok"], false, "{env}");
    assert!(env.to_string().contains("no account is connected"), "{env}");

    // The OAuth app, discovered from the server (RFC 9728 → RFC 8414 → RFC 7591).
    let (s, app) = t
        .hub
        .post(
            "/api/oauth/apps/mcp",
            json!({"name": "upstream", "url": server_url}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{app}");
    assert_eq!(app["data"]["issuer"], issuer);
    assert_eq!(app["data"]["resource"], upstream.url("/mcp"));
    assert_eq!(app["data"]["provider"], "mcp");

    // The hub's client ID metadata document, for servers that take URL client ids.
    let (s, doc) = t.hub.get_anon("/oauth/client-metadata.json").await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(doc["client_id"], t.hub.url("/oauth/client-metadata.json"));
    assert_eq!(
        doc["redirect_uris"],
        json!([t.hub.url("/api/oauth/callback")])
    );
    assert_eq!(doc["token_endpoint_auth_method"], "none");

    // One session per server: a personal connection is refused with the reason.
    let (s, v) = t
        .hub
        .post(
            "/api/oauth/start",
            json!({"connector": "remote", "app": "upstream"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("shared"), "{v}");

    let auth = t
        .start(json!({"connector": "remote", "app": "upstream", "shared": true, "scopes": ["openid", "mcp:tools"]}))
        .await;
    let back = t.authorize(&auth).await;
    let (s, page) = t.callback(&back).await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page.contains("'remote'"), "{page}");

    // The upstream session starts with the token; the tool answers as alice's directory.
    let mut env = Value::Null;
    for _ in 0..100 {
        env = execute(&t.hub, "remote", "directory_list", json!({})).await;
        if env["ok"] == true {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(env["ok"], true, "{env}");
    assert!(env.to_string().contains("@acme.example"), "{env}");
    let (_, conn) = t.hub.get("/api/connectors/remote").await;
    assert_eq!(conn["data"]["status"], "connected", "{conn}");
    let tokens = t.hub.db.store.clone();
    let record = tokens
        .get_connector_by_name(&t.hub.tenant_id, "remote")
        .await
        .unwrap()
        .unwrap();
    let set = tokens
        .oauth_tokens(&t.hub.tenant_id, &record.id, "")
        .await
        .unwrap()
        .expect("the shared token set is stored");
    let access = set["access_token"].as_str().unwrap().to_string();
    assert!(
        !conn.to_string().contains(&access) && !env.to_string().contains(&access),
        "the token is never shown"
    );

    // The token expires; the session's next request carries a refreshed one.
    assert_eq!(count(&t.counts().await, "refresh_token"), 0);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let env = execute(&t.hub, "remote", "directory_list", json!({})).await;
    assert_eq!(env["ok"], true, "{env}");
    assert_eq!(
        count(&t.counts().await, "refresh_token"),
        1,
        "refreshed once"
    );
    let (_, conn) = t.hub.get("/api/connectors/remote").await;
    assert_eq!(conn["data"]["status"], "connected", "{conn}");

    // Disconnecting stops the session; calls say how to connect again.
    let (s, v) = t
        .hub
        .req_with(
            "DELETE",
            "/api/connectors/remote/oauth?shared=true",
            &t.hub.admin_key,
            None,
        )
        .await;
    assert!(s.is_success(), "{v}");
    let mut env = Value::Null;
    for _ in 0..100 {
        env = execute(&t.hub, "remote", "directory_list", json!({})).await;
        if env["ok"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(env["ok"], false, "{env}");
    assert!(env.to_string().contains("no account is connected"), "{env}");
}

/// GitHub does not do RFC 7009: disconnecting deletes the grant with
/// `DELETE /applications/{client_id}/grant`, Basic credentials and the token in JSON.
#[tokio::test]
async fn disconnecting_a_github_account_deletes_its_grant() {
    use switchboard_store::oauth::OAuthConnectionRecord;
    let backend = backends().await.remove(0);
    let policy = NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]);
    let hub = TestHub::start_with(backend, policy, HubSettings::default()).await;
    let seen: Arc<std::sync::Mutex<Vec<(String, String, Value)>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().route(
        "/applications/{client_id}/grant",
        axum::routing::delete(
            move |axum::extract::Path(id): axum::extract::Path<String>,
                  headers: axum::http::HeaderMap,
                  axum::Json(body): axum::Json<Value>| {
                let log = log.clone();
                async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string();
                    log.lock().unwrap().push((id, auth, body));
                    axum::http::StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let github = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let (s, v) = hub
        .post(
            "/api/oauth/apps",
            json!({"name": "gh", "provider": "github", "clientId": "Iv1.abc", "clientSecret": "gh-secret",
                   "revocationUrl": format!("{github}/applications/{{client_id}}/grant")}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let app_id = v["data"]["id"].as_str().unwrap().to_string();
    let (s, c) = hub
        .post(
            "/api/connectors",
            json!({"name": "gh", "type": "github", "config": {}}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let connector_id = c["data"]["id"].as_str().unwrap().to_string();
    hub.db
        .store
        .save_oauth_connection(
            &OAuthConnectionRecord {
                tenant_id: hub.tenant_id.clone(),
                connector_id,
                user_id: String::new(),
                app_id,
                status: "connected".into(),
                status_reason: None,
                scope: Some("repo".into()),
                resource: None,
                expires_at: None,
                connected_at: 0,
                updated_at: 0,
            },
            &json!({"access_token": "gho_live_token", "token_type": "bearer"}),
        )
        .await
        .unwrap();

    let (s, v) = hub
        .req_with(
            "DELETE",
            "/api/connectors/gh/oauth?shared=true",
            &hub.admin_key,
            None,
        )
        .await;
    assert!(s.is_success(), "{v}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one grant deletion: {seen:?}");
    let (id, auth, body) = &seen[0];
    assert_eq!(id, "Iv1.abc");
    assert_eq!(
        auth,
        &format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("Iv1.abc:gh-secret")
        )
    );
    assert_eq!(body, &json!({"access_token": "gho_live_token"}));
    let (_, conns) = hub.get("/api/connectors/gh/oauth").await;
    assert_eq!(conns["data"], json!([]), "the connection is forgotten");
}
