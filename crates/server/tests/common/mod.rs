//! A real hub on a free 127.0.0.1 port over a throw-away store; stops when dropped.

#![allow(dead_code)]

pub mod mcp_client;

use reqwest::StatusCode;
use serde_json::Value;
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{CursorSigner, Hub, HubSettings};
use switchboard_server::McpSettings;
use switchboard_store::testing::TestDb;
pub use switchboard_store::testing::{backends as store_backends, TestBackend};
use tokio::sync::oneshot;

pub async fn backends() -> Vec<TestBackend> {
    store_backends()
}

pub struct TestHub {
    pub hub: Hub,
    pub base: String,
    pub admin_key: String,
    pub tenant_id: String,
    pub client: reqwest::Client,
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
}

impl TestHub {
    pub async fn start(backend: TestBackend) -> TestHub {
        Self::start_with_policy(backend, NetworkPolicy::new(Vec::new())).await
    }

    pub async fn start_with_policy(backend: TestBackend, policy: NetworkPolicy) -> TestHub {
        Self::start_with(backend, policy, HubSettings::default()).await
    }

    /// With chosen settings; `public_url` is set to the hub's address.
    pub async fn start_with(
        backend: TestBackend,
        policy: NetworkPolicy,
        settings: HubSettings,
    ) -> TestHub {
        Self::start_full(backend, policy, settings, |_| McpSettings::default()).await
    }

    /// With chosen hub settings and MCP settings built from the hub's base URL.
    pub async fn start_full(
        backend: TestBackend,
        policy: NetworkPolicy,
        mut settings: HubSettings,
        mcp: impl FnOnce(&str) -> McpSettings,
    ) -> TestHub {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        settings.public_url = Some(base.clone());
        let db = TestDb::open(backend).await;
        let http = OutboundClient::new(policy, OutboundConfig::default()).expect("client");
        let hub = Hub::new(
            db.store.clone(),
            switchboard_connectors::registry(),
            http,
            CursorSigner::new([9; 32]),
            settings,
        );
        hub.seed_catalog().await.expect("seed");
        let admin_key = hub
            .bootstrap()
            .await
            .expect("bootstrap")
            .expect("fresh store");
        let tenant_id = hub
            .authenticate(&admin_key)
            .await
            .unwrap()
            .unwrap()
            .tenant_id;
        let (tx, rx) = oneshot::channel::<()>();
        let mcp = mcp(&base);
        tokio::spawn(switchboard_server::serve_with(
            listener,
            hub.clone(),
            mcp,
            async {
                let _ = rx.await;
            },
        ));
        TestHub {
            hub,
            base,
            admin_key,
            tenant_id,
            client: reqwest::Client::new(),
            db,
            stop: Some(tx),
        }
    }

    pub fn label(&self) -> &'static str {
        self.db.backend.label()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn req_with(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.client.request(method, self.url(path)).bearer_auth(key);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.expect("request");
        let status = resp.status();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.req_with("GET", path, &self.admin_key, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.req_with("POST", path, &self.admin_key, Some(body))
            .await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.req_with("PATCH", path, &self.admin_key, Some(body))
            .await
    }
    pub async fn get_anon(&self, path: &str) -> (StatusCode, Value) {
        let resp = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        (resp.status(), resp.json().await.unwrap_or(Value::Null))
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

impl TestHub {
    /// A hub whose connectors may reach 127.0.0.1 (where the vendor simulators listen).
    pub async fn start_for_simulators(backend: TestBackend) -> TestHub {
        let policy = NetworkPolicy::new(vec!["127.0.0.0/8".parse().expect("cidr")]);
        Self::start_with_policy(backend, policy).await
    }

    /// Creates a connector through the REST API, asserting it was accepted.
    pub async fn create_connector(&self, name: &str, type_id: &str, config: Value) {
        let (s, body) = self
            .post(
                "/api/connectors",
                serde_json::json!({"name": name, "type": type_id, "config": config}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{body}");
    }

    /// Calls a tool over MCP (2026-07-28, stateless) and returns the envelope
    /// (`structuredContent`), checking `isError` agrees with `ok`.
    pub async fn mcp_call(&self, tool: &str, arguments: Value) -> Value {
        const REVISION: &str = "2026-07-28";
        let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": tool, "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": REVISION,
            "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}
        }}});
        let resp = self
            .client
            .post(self.url("/mcp"))
            .bearer_auth(&self.admin_key)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", REVISION)
            .header("mcp-method", "tools/call")
            .header("mcp-name", tool)
            .json(&body)
            .send()
            .await
            .expect("mcp request");
        assert_eq!(resp.status(), StatusCode::OK, "tools/call {tool}");
        let text = resp.text().await.unwrap_or_default();
        let message: Value = serde_json::from_str(&text)
            .ok()
            .or_else(|| {
                text.lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
                    .find(|m| m.get("result").is_some() || m.get("error").is_some())
            })
            .unwrap_or(Value::Null);
        let result = &message["result"];
        let envelope = result["structuredContent"].clone();
        assert!(envelope.is_object(), "{tool}: no envelope in {message}");
        let is_error = result["isError"].as_bool().unwrap_or(false);
        assert_eq!(is_error, envelope["ok"] == false, "{tool}: {message}");
        envelope
    }
}
