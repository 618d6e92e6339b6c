//! MCP at /mcp over real HTTP: both protocol revisions, naming modes, auth, Host and
//! Origin checks, errors, tenant isolation, progress.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};

use common::mcp_client::{Mcp, CURRENT, LEGACY};
use common::{backends, TestHub};

async fn hub_with_directory() -> TestHub {
    let h = TestHub::start(backends().await.remove(0)).await;
    let (s, _) = h
        .post(
            "/api/connectors",
            json!({"name": "people", "type": "directory"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    h
}

#[tokio::test]
async fn both_revisions_list_and_call_with_both_spellings() {
    let h = hub_with_directory().await;
    for version in [LEGACY, CURRENT] {
        let mut mcp = Mcp::new(&h, "/mcp", version);
        if version == LEGACY {
            let init = mcp.initialize().await;
            assert_eq!(init["result"]["serverInfo"]["name"], "switchboard");
        } else {
            let d = mcp.send("server/discover", json!({}), &[]).await;
            assert_eq!(d.status, StatusCode::OK);
            assert!(d.result()["supportedVersions"]
                .as_array()
                .unwrap()
                .contains(&json!(CURRENT)));
        }
        let names = mcp.tool_names().await;
        for t in [
            "directory.health",
            "directory.lookup",
            "directory.list",
            "directory.create",
            "directory.echo",
        ] {
            assert!(names.contains(&t.to_string()), "{version}: {names:?}");
        }
        // Either spelling calls the tool.
        for name in ["directory.lookup", "directory_lookup"] {
            let a = mcp
                .send(
                    "tools/call",
                    json!({"name": name, "arguments": {"id": "E007"}}),
                    &[],
                )
                .await;
            let r = a.result();
            assert_eq!(
                r["structuredContent"]["ok"], true,
                "{version} {name}: {:?}",
                a.messages
            );
            assert_eq!(r["structuredContent"]["data"]["id"], "E007");
            assert!(!r.get("isError").and_then(Value::as_bool).unwrap_or(false));
            let text: Value =
                serde_json::from_str(r["content"][0]["text"].as_str().unwrap()).unwrap();
            assert_eq!(text, r["structuredContent"]);
        }
        // Underscore naming lists underscore names only.
        let mut under = Mcp::new(&h, "/mcp?naming=underscore", version);
        if version == LEGACY {
            under.initialize().await;
        }
        let names = under.tool_names().await;
        assert!(
            names.contains(&"directory_lookup".to_string())
                && names.iter().all(|n| !n.contains('.')),
            "{names:?}"
        );
    }
}

#[tokio::test]
async fn tool_metadata_carries_schemas_and_annotations() {
    let h = hub_with_directory().await;
    let mcp = Mcp::new(&h, "/mcp", CURRENT);
    let a = mcp.send("tools/list", json!({}), &[]).await;
    let tools = a.result()["tools"].as_array().unwrap().clone();
    let create = tools
        .iter()
        .find(|t| t["name"] == "directory.create")
        .unwrap();
    assert_eq!(create["annotations"]["readOnlyHint"], false);
    assert!(create["inputSchema"]["properties"]
        .get("idempotencyKey")
        .is_some());
    assert_eq!(
        create["inputSchema"]["required"],
        json!(["name", "email", "department"])
    );
    assert!(create["outputSchema"]["properties"].get("ok").is_some());
    let lookup = tools
        .iter()
        .find(|t| t["name"] == "directory.lookup")
        .unwrap();
    assert_eq!(lookup["annotations"]["readOnlyHint"], true);
    assert_eq!(a.result()["cacheScope"], "private");
}

#[tokio::test]
async fn errors_take_the_shape_the_spec_names() {
    let h = hub_with_directory().await;
    for version in [LEGACY, CURRENT] {
        let mut mcp = Mcp::new(&h, "/mcp", version);
        if version == LEGACY {
            mcp.initialize().await;
        }
        // Arguments that break the schema: a result with isError, the envelope says why.
        let a = mcp
            .send(
                "tools/call",
                json!({"name": "directory.lookup", "arguments": {"id": 7}}),
                &[],
            )
            .await;
        assert_eq!(a.result()["isError"], true, "{:?}", a.messages);
        assert_eq!(
            a.result()["structuredContent"]["error"]["code"],
            "invalid_input"
        );
        // An unknown tool: a JSON-RPC error -32602.
        let a = mcp
            .send(
                "tools/call",
                json!({"name": "nope.nothing", "arguments": {}}),
                &[],
            )
            .await;
        assert_eq!(a.response()["error"]["code"], -32602, "{:?}", a.messages);
        assert!(a.response()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tools/list"));
    }
    // No key, or a bad one: 401 with WWW-Authenticate.
    for key in [None, Some("sb_nope_nope".to_string())] {
        let mut mcp = Mcp::new(&h, "/mcp", CURRENT);
        mcp.key = key;
        let a = mcp.send("tools/list", json!({}), &[]).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let resp = h
        .client
        .post(h.url("/mcp"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("www-authenticate").is_some());
    // A foreign Origin or Host: 403 (DNS-rebinding defence).
    let mcp = Mcp::new(&h, "/mcp", CURRENT);
    let a = mcp
        .send(
            "tools/list",
            json!({}),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = mcp
        .send("tools/list", json!({}), &[("host", "evil.example")])
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = mcp
        .send(
            "tools/list",
            json!({}),
            &[("origin", "http://localhost:3000")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK);
    // Mismatched Mcp-Method: 400 with -32020.
    let a = mcp
        .send("tools/list", json!({}), &[("mcp-method", "tools/call")])
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    // A stale session id: 404 so the client re-initializes.
    let mut stale = Mcp::new(&h, "/mcp", LEGACY);
    stale.session = Some("00000000-0000-0000-0000-000000000000".into());
    let a = stale.send("tools/list", json!({}), &[]).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_tenants_tools_are_invisible_and_uncallable() {
    let h = hub_with_directory().await;
    let (_, t2) = h.post("/api/tenants", json!({"name": "globex"})).await;
    let mut other = Mcp::new(&h, "/mcp", CURRENT);
    other.key = Some(t2["data"]["apiKey"].as_str().unwrap().to_string());
    // Only the hub's own discovery tools: none of tenant 1's connectors.
    assert!(other
        .tool_names()
        .await
        .iter()
        .all(|n| n.starts_with("switchboard.")));
    let a = other
        .send(
            "tools/call",
            json!({"name": "directory.lookup", "arguments": {"id": "E001"}}),
            &[],
        )
        .await;
    assert_eq!(a.response()["error"]["code"], -32602);
}

#[tokio::test]
async fn progress_notifications_reach_the_client() {
    let h = TestHub::start(backends().await.remove(0)).await;
    let (s, _) = h
        .post("/api/connectors", json!({"name": "wait", "type": "delay"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mut mcp = Mcp::new(&h, "/mcp", LEGACY);
    mcp.initialize().await;
    let a = mcp
        .send("tools/call", json!({"name": "delay.wait", "arguments": {"delayMs": 300}, "_meta": {"progressToken": "p-1"}}), &[])
        .await;
    let progress: Vec<&Value> = a
        .messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert!(progress.len() >= 2, "{:?}", a.messages);
    assert!(progress
        .iter()
        .all(|p| p["params"]["progressToken"] == "p-1"));
    assert_eq!(a.result()["structuredContent"]["data"]["delayedMs"], 300);
}

#[tokio::test]
async fn list_changes_reach_open_sessions() {
    let h = hub_with_directory().await;
    let mut mcp = Mcp::new(&h, "/mcp", LEGACY);
    mcp.initialize().await;
    // Open the session's GET stream, then change the connectors.
    let mut stream = h
        .client
        .get(h.url("/mcp"))
        .bearer_auth(&h.admin_key)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", mcp.session.clone().unwrap())
        .header("mcp-protocol-version", LEGACY)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let (s, _) = h
        .post("/api/connectors", json!({"name": "wait", "type": "delay"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !seen.contains("notifications/tools/list_changed") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("list_changed in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(mcp.tool_names().await.contains(&"delay.wait".to_string()));
}

#[tokio::test]
async fn discovery_tools_find_connectors_and_tools() {
    let h = hub_with_directory().await;
    let mcp = Mcp::new(&h, "/mcp", CURRENT);
    let names = mcp.tool_names().await;
    assert!(
        names.contains(&"switchboard.tools.search".to_string())
            && names.contains(&"switchboard.connectors.list".to_string())
    );

    let a = mcp.send("tools/call", json!({"name": "switchboard.tools.search", "arguments": {"task": "find an employee by their email address", "limit": 3}}), &[]).await;
    let tools = a.result()["structuredContent"]["data"]["tools"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(tools[0]["name"], "directory.lookup", "{tools:?}");
    assert!(tools[0]["inputSchema"]["properties"].get("email").is_some());

    let under = Mcp::new(&h, "/mcp?naming=underscore", CURRENT);
    let a = under
        .send(
            "tools/call",
            json!({"name": "switchboard_tools_search", "arguments": {"task": "list employees"}}),
            &[],
        )
        .await;
    assert_eq!(
        a.result()["structuredContent"]["data"]["tools"][0]["name"],
        "directory_list"
    );

    let a = mcp
        .send(
            "tools/call",
            json!({"name": "switchboard.tools.search", "arguments": {}}),
            &[],
        )
        .await;
    assert_eq!(a.result()["isError"], true);
    assert!(a.result()["structuredContent"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("task"));

    let a = mcp
        .send(
            "tools/call",
            json!({"name": "switchboard.connectors.list", "arguments": {}}),
            &[],
        )
        .await;
    let connectors = a.result()["structuredContent"]["data"]["connectors"]
        .as_array()
        .unwrap()
        .clone();
    let dir = connectors
        .iter()
        .find(|c| c["connector_id"] == "directory")
        .unwrap();
    assert_eq!(dir["tool_prefix"], "directory");
    assert_eq!(dir["configured"][0]["name"], "people");
}

#[tokio::test]
async fn profiles_serve_exactly_their_set_with_their_naming() {
    let h = hub_with_directory().await;
    // A keyed profile with underscore naming over two tools.
    let (s, p) = h.post("/api/profiles", json!({"name": "readers", "connectors": ["people"], "tools": ["directory.l*"], "naming": "underscore"})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    assert_eq!(
        p["data"]["toolNames"],
        json!(["directory_list", "directory_lookup"])
    );
    let mcp = Mcp::new(&h, "/mcp/readers", CURRENT);
    assert_eq!(
        mcp.tool_names().await,
        vec!["directory_list", "directory_lookup"]
    );
    let a = mcp
        .send(
            "tools/call",
            json!({"name": "directory.lookup", "arguments": {"id": "E001"}}),
            &[],
        )
        .await;
    assert_eq!(a.result()["structuredContent"]["ok"], true);
    // A tool outside the profile is unknown there.
    let a = mcp
        .send(
            "tools/call",
            json!({"name": "directory_create", "arguments": {}}),
            &[],
        )
        .await;
    assert_eq!(a.response()["error"]["code"], -32602);
    // Without a key, a keyed profile is closed.
    let mut anon = Mcp::new(&h, "/mcp/readers", CURRENT);
    anon.key = None;
    assert_eq!(
        anon.send("tools/list", json!({}), &[]).await.status,
        StatusCode::UNAUTHORIZED
    );

    // Anonymous profiles: refused when they would expose writes, unless forced.
    let (s, e) = h
        .post(
            "/api/profiles",
            json!({"name": "open", "connectors": ["people"], "naming": "none", "anonymous": true}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("directory.create"));
    let (s, p) = h.post("/api/profiles", json!({"name": "open", "tools": ["directory.lookup", "directory.list"], "naming": "none", "anonymous": true})).await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let mut anon = Mcp::new(&h, "/mcp/open", CURRENT);
    anon.key = None;
    assert_eq!(anon.tool_names().await, vec!["list", "lookup"]);
    let a = anon
        .send(
            "tools/call",
            json!({"name": "lookup", "arguments": {"id": "E002"}}),
            &[],
        )
        .await;
    assert_eq!(
        a.result()["structuredContent"]["data"]["id"],
        "E002",
        "{:?}",
        a.messages
    );

    // Naming none refuses collisions; unknown profiles are 404 for keyed callers.
    let (s, _) = h
        .post(
            "/api/connectors",
            json!({"name": "people2", "type": "directory", "toolPrefix": "directory-two"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, e) = h
        .post("/api/profiles", json!({"name": "clash", "naming": "none"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("naming 'none'"));
    let a = Mcp::new(&h, "/mcp/nope", CURRENT)
        .send("tools/list", json!({}), &[])
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let (s, _) = h.post("/api/profiles", json!({"name": "Bad Name"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = h.post("/api/profiles", json!({"name": "readers"})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, list) = h.get("/api/profiles").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let (s, _) = h
        .req_with("DELETE", "/api/profiles/open", &h.admin_key, None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        anon.send("tools/list", json!({}), &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
}

/// Reads SSE events (`event`, `data`) from a streaming response until `want` of them arrive.
async fn read_events(
    resp: &mut reqwest::Response,
    buf: &mut String,
    want: usize,
) -> Vec<(String, String)> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let events: Vec<(String, String)> = buf
            .split("\n\n")
            .filter(|block| block.contains("data:"))
            .map(|block| {
                let event = block
                    .lines()
                    .find_map(|l| l.strip_prefix("event:"))
                    .unwrap_or("message")
                    .trim()
                    .to_string();
                let data = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join("\n");
                (event, data)
            })
            .collect();
        if events.len() >= want {
            return events;
        }
        let chunk = tokio::time::timeout_at(deadline, resp.chunk())
            .await
            .expect("events in time")
            .unwrap()
            .expect("stream open");
        buf.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn legacy_sse_transport_lists_and_calls() {
    let h = hub_with_directory().await;
    let mut stream = h
        .client
        .get(h.url("/sse"))
        .bearer_auth(&h.admin_key)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut buf = String::new();
    let events = read_events(&mut stream, &mut buf, 1).await;
    assert_eq!(events[0].0, "endpoint");
    let endpoint = h.url(&events[0].1);
    let post = |body: Value| {
        h.client
            .post(&endpoint)
            .bearer_auth(&h.admin_key)
            .json(&body)
            .send()
    };
    assert_eq!(post(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}}})).await.unwrap().status(), StatusCode::ACCEPTED);
    let events = read_events(&mut stream, &mut buf, 2).await;
    let init: Value = serde_json::from_str(&events[1].1).unwrap();
    assert_eq!(init["result"]["serverInfo"]["name"], "switchboard");
    post(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await
        .unwrap();
    post(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "directory.lookup", "arguments": {"id": "E004"}}})).await.unwrap();
    let events = read_events(&mut stream, &mut buf, 3).await;
    let call: Value = serde_json::from_str(&events[2].1).unwrap();
    assert_eq!(
        call["result"]["structuredContent"]["data"]["id"], "E004",
        "{call}"
    );

    // Someone else's key cannot write into the session; bad bodies are refused.
    let (_, other) = h
        .post("/api/users", json!({"name": "eve", "role": "member"}))
        .await;
    let eve = other["data"]["apiKey"].as_str().unwrap().to_string();
    let r = h
        .client
        .post(&endpoint)
        .bearer_auth(&eve)
        .json(&json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = h
        .client
        .post(&endpoint)
        .bearer_auth(&h.admin_key)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = h
        .client
        .post(h.url("/message?sessionId=nope"))
        .bearer_auth(&h.admin_key)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Without a key, or from a foreign Host: refused.
    let r = h.client.get(h.url("/sse")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = h
        .client
        .get(h.url("/sse"))
        .bearer_auth(&h.admin_key)
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn subscriptions_listen_carries_list_changes_to_stateless_clients() {
    let h = hub_with_directory().await;
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": CURRENT,
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let mut stream = h
        .client
        .post(h.url("/mcp"))
        .bearer_auth(&h.admin_key)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", CURRENT)
        .header("mcp-method", "subscriptions/listen")
        .json(
            &json!({"jsonrpc": "2.0", "id": 7, "method": "subscriptions/listen",
            "params": {"_meta": meta, "notifications": {"toolsListChanged": true}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    // The acknowledgement arrives first, then changes.
    while !seen.contains("notifications/subscriptions/acknowledged") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("ack in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let (s, _) = h
        .post("/api/connectors", json!({"name": "wait", "type": "delay"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    while !seen.contains("notifications/tools/list_changed") {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .expect("list_changed in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}
