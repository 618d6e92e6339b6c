//! MCP figures, printed not asserted (`cargo bench -p switchboard-server --bench mcp`):
//! - `tools/call` of `directory.lookup` over Streamable HTTP (2026-07-28, stateless) next
//!   to the same lookup through `POST /api/connectors/:id/execute`, same client, same run;
//! - `tools/list` with 1,000 and 10,000 tools registered (first page, and every page);
//! - resident memory added by 1,000 idle 2025-11-25 sessions.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{Caller, CursorSigner, Hub, HubSettings};
use switchboard_store::testing::{TestBackend, TestDb};

const CALLS: usize = 2000;

fn pct(lat: &mut [Duration], q: f64) -> Duration {
    lat.sort();
    lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Client {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Client {
    async fn mcp(&self, path: &str, method: &str, params: Value) -> Value {
        let mut params = params;
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {}
        });
        let mut rb = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method);
        if let Some(name) = params["name"].as_str() {
            rb = rb.header("mcp-name", name);
        }
        let text = rb
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body");
        serde_json::from_str(&text)
            .ok()
            .or_else(|| {
                text.lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .find_map(|d| serde_json::from_str(d.trim()).ok())
            })
            .unwrap_or(Value::Null)
    }

    async fn rest(&self, path: &str, body: &Value) -> Value {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json")
    }
}

async fn timed<F, Fut>(n: usize, mut f: F) -> (Duration, Duration, f64)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..n / 10 {
        f().await;
    }
    let mut lat = Vec::with_capacity(n);
    let started = Instant::now();
    for _ in 0..n {
        let t = Instant::now();
        f().await;
        lat.push(t.elapsed());
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    (pct(&mut lat, 0.5), pct(&mut lat, 0.99), rate)
}

async fn add_directories(hub: &Hub, caller: &Caller, from: usize, to: usize) {
    for i in from..to {
        let input = serde_json::from_value(json!({"name": format!("dir-{i}"), "type": "directory", "toolPrefix": format!("directory-n{i}")})).unwrap();
        hub.create_connector(caller, input).await.expect("create");
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let db = TestDb::open(TestBackend::Sqlite).await;
    let http =
        OutboundClient::new(NetworkPolicy::new(Vec::new()), OutboundConfig::default()).unwrap();
    let settings = HubSettings {
        // Long enough that a listing measures rendering, not the store.
        connector_cache_ttl: Duration::from_secs(600),
        ..HubSettings::default()
    };
    let hub = Hub::new(
        db.store.clone(),
        switchboard_connectors::registry(),
        http,
        CursorSigner::new([4; 32]),
        settings,
    );
    hub.seed_catalog().await.unwrap();
    let key = hub.bootstrap().await.unwrap().unwrap();
    let caller = hub.authenticate(&key).await.unwrap().unwrap();
    let people = hub
        .create_connector(
            &caller,
            serde_json::from_value(json!({"name": "people", "type": "directory"})).unwrap(),
        )
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(switchboard_server::serve(
        listener,
        hub.clone(),
        std::future::pending(),
    ));
    let c = Client {
        http: reqwest::Client::new(),
        base,
        key,
    };

    // Sanity: both paths answer the same lookup.
    let r = c
        .mcp(
            "/mcp",
            "tools/call",
            json!({"name": "directory.lookup", "arguments": {"id": "E007"}}),
        )
        .await;
    assert_eq!(
        r["result"]["structuredContent"]["data"]["id"], "E007",
        "{r}"
    );
    let exec = format!("/api/connectors/{}/execute", people.id);
    let body = json!({"command": "lookup", "params": {"id": "E007"}});

    println!("tools/call directory.lookup vs REST execute, {CALLS} sequential calls each");
    println!("{:<34} {:>10} {:>10} {:>10}", "", "p50", "p99", "calls/s");
    let (rp50, rp99, rrate) = timed(CALLS, || async {
        c.rest(&exec, &body).await;
    })
    .await;
    let (mp50, mp99, mrate) = timed(CALLS, || async {
        c.mcp(
            "/mcp",
            "tools/call",
            json!({"name": "directory.lookup", "arguments": {"id": "E007"}}),
        )
        .await;
    })
    .await;
    println!(
        "{:<34} {:>10} {:>10} {:>10.0}",
        "REST /execute",
        ms(rp50),
        ms(rp99),
        rrate
    );
    println!(
        "{:<34} {:>10} {:>10} {:>10.0}",
        "MCP tools/call (2026-07-28)",
        ms(mp50),
        ms(mp99),
        mrate
    );
    let over = mp50.saturating_sub(rp50);
    println!(
        "MCP p50 over REST: {} (target within 0.300 ms) -> {}",
        ms(over),
        if over <= Duration::from_micros(300) {
            "MET"
        } else {
            "NOT MET"
        }
    );

    println!();
    println!("tools/list (500 tools a page)");
    let mut registered = 1;
    for target in [1_000usize, 10_000] {
        let connectors = target / 5;
        add_directories(&hub, &caller, registered, connectors).await;
        registered = connectors;
        let first = c.mcp("/mcp", "tools/list", json!({})).await;
        assert!(first["result"]["tools"]
            .as_array()
            .is_some_and(|t| !t.is_empty()));
        let (p50, p99, _) = timed(200, || async {
            c.mcp("/mcp", "tools/list", json!({})).await;
        })
        .await;
        let t = Instant::now();
        let mut cursor: Option<String> = None;
        let mut total = 0;
        loop {
            let params = match &cursor {
                Some(cur) => json!({"cursor": cur}),
                None => json!({}),
            };
            let page = c.mcp("/mcp", "tools/list", params).await;
            total += page["result"]["tools"].as_array().map_or(0, Vec::len);
            match page["result"]["nextCursor"].as_str() {
                Some(n) => cursor = Some(n.to_string()),
                None => break,
            }
        }
        let all = t.elapsed();
        println!(
            "{target:>6} tools registered: a tools/list request p50 {} p99 {} (target under 20 ms) -> {}; walking all {total} tools page by page: {}",
            ms(p50),
            ms(p99),
            if p99 <= Duration::from_millis(20) { "MET" } else { "NOT MET" },
            ms(all)
        );
    }

    println!();
    let before = rss_kb();
    let mut sessions = Vec::new();
    for _ in 0..1000 {
        let resp = c
            .http
            .post(format!("{}/mcp", c.base))
            .bearer_auth(&c.key)
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "idle", "version": "1"}}}))
            .send()
            .await
            .unwrap();
        sessions.push(
            resp.headers()
                .get("mcp-session-id")
                .map(|v| v.to_str().unwrap().to_string()),
        );
        let _ = resp.bytes().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kb();
    let open = sessions.iter().filter(|s| s.is_some()).count();
    let added_mb = after.saturating_sub(before) as f64 / 1024.0;
    println!(
        "{open} idle 2025-11-25 sessions add {added_mb:.1} MB resident (target under 50 MB) -> {}",
        if added_mb < 50.0 { "MET" } else { "NOT MET" }
    );
    hub.flush().await;
}
