//! A minimal JSON-RPC MCP client over HTTP that speaks either revision and reads SSE
//! or JSON answers.

#![allow(dead_code)]

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::TestHub;

pub const LEGACY: &str = "2025-11-25";
pub const CURRENT: &str = "2026-07-28";

/// A minimal JSON-RPC client that speaks either revision and reads SSE or JSON answers.
pub struct Mcp<'a> {
    pub h: &'a TestHub,
    pub path: String,
    pub key: Option<String>,
    pub session: Option<String>,
    pub version: &'static str,
}

pub struct Answer {
    pub status: StatusCode,
    /// Every JSON-RPC message in the answer (notifications, then the response).
    pub messages: Vec<Value>,
}

impl Answer {
    pub fn response(&self) -> &Value {
        self.messages
            .iter()
            .find(|m| {
                m.get("id").is_some() && (m.get("result").is_some() || m.get("error").is_some())
            })
            .unwrap_or(&Value::Null)
    }
    pub fn result(&self) -> &Value {
        &self.response()["result"]
    }
}

pub fn parse_body(body: &str) -> Vec<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        return vec![v];
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .collect()
}

impl<'a> Mcp<'a> {
    pub fn new(h: &'a TestHub, path: &str, version: &'static str) -> Self {
        Mcp {
            h,
            path: path.into(),
            key: Some(h.admin_key.clone()),
            session: None,
            version,
        }
    }

    pub async fn send(&self, method: &str, params: Value, extra: &[(&str, &str)]) -> Answer {
        let mut params = params;
        if self.version == CURRENT && method != "initialize" {
            params["_meta"] = json!({
                "io.modelcontextprotocol/protocolVersion": CURRENT,
                "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": {}
            });
        }
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut rb = self
            .h
            .client
            .post(self.h.url(&self.path))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", self.version);
        if self.version == CURRENT {
            rb = rb.header("mcp-method", method);
            if let Some(name) = body["params"]["name"].as_str() {
                rb = rb.header("mcp-name", name);
            }
        }
        if let Some(k) = &self.key {
            rb = rb.bearer_auth(k);
        }
        if let Some(s) = &self.session {
            rb = rb.header("mcp-session-id", s);
        }
        for (k, v) in extra {
            rb = rb.header(*k, *v);
        }
        let resp = rb.json(&body).send().await.expect("request");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        Answer {
            status,
            messages: parse_body(&text),
        }
    }

    /// The 2025-11-25 handshake: initialize, keep the session id, send initialized.
    pub async fn initialize(&mut self) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}});
        let resp = self
            .h
            .client
            .post(self.h.url(&self.path))
            .bearer_auth(self.key.as_deref().unwrap_or(""))
            .header("accept", "application/json, text/event-stream")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        self.session = resp
            .headers()
            .get("mcp-session-id")
            .map(|v| v.to_str().unwrap().to_string());
        assert!(
            self.session.is_some(),
            "2025-11-25 sessions get an Mcp-Session-Id"
        );
        let messages = parse_body(&resp.text().await.unwrap());
        let mut note = self
            .h
            .client
            .post(self.h.url(&self.path))
            .bearer_auth(self.key.as_deref().unwrap_or(""))
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", LEGACY);
        if let Some(s) = &self.session {
            note = note.header("mcp-session-id", s);
        }
        let r = note
            .json(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        messages.into_iter().next().unwrap_or(Value::Null)
    }

    pub async fn tool_names(&self) -> Vec<String> {
        let a = self.send("tools/list", json!({}), &[]).await;
        assert_eq!(a.status, StatusCode::OK);
        a.result()["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_string())
            .collect()
    }
}
