//! Latency and throughput of `directory.lookup` through `POST /api/connectors/:id/execute`,
//! next to a bare axum endpoint returning the same JSON, measured in the same run with the
//! same client. Prints figures; asserts nothing. Run: `cargo bench -p switchboard-server`.

use std::time::{Duration, Instant};

use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{CursorSigner, Hub, HubSettings};
use switchboard_store::testing::{TestBackend, TestDb};

const WARMUP: usize = 300;
const SEQUENTIAL: usize = 3000;
const CONCURRENCY: usize = 16;
const THROUGHPUT_WINDOW: Duration = Duration::from_secs(3);

struct Figures {
    p50: Duration,
    p99: Duration,
    mean: Duration,
    rps: f64,
}

async fn measure(
    client: &reqwest::Client,
    url: String,
    key: Option<String>,
    body: Value,
) -> Figures {
    let send = move |client: reqwest::Client| {
        let url = url.clone();
        let key = key.clone();
        let body = body.clone();
        async move {
            let mut rb = client.post(&url).json(&body);
            if let Some(k) = &key {
                rb = rb.bearer_auth(k);
            }
            let resp = rb.send().await.expect("request");
            assert!(resp.status().is_success(), "status {}", resp.status());
            let _ = resp.bytes().await.expect("body");
        }
    };
    for _ in 0..WARMUP {
        send(client.clone()).await;
    }
    let mut lat = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let t = Instant::now();
        send(client.clone()).await;
        lat.push(t.elapsed());
    }
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    let mean = lat.iter().sum::<Duration>() / lat.len() as u32;

    let deadline = Instant::now() + THROUGHPUT_WINDOW;
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let c = client.clone();
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                send(c.clone()).await;
                n += 1;
            }
            n
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await.expect("task");
    }
    Figures {
        p50: p(0.50),
        p99: p(0.99),
        mean,
        rps: total as f64 / THROUGHPUT_WINDOW.as_secs_f64(),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let db = TestDb::open(TestBackend::Sqlite).await;
    let http = OutboundClient::new(NetworkPolicy::new(Vec::new()), OutboundConfig::default())
        .expect("client");
    let hub = Hub::new(
        db.store.clone(),
        switchboard_connectors::registry(),
        http,
        CursorSigner::new([3; 32]),
        HubSettings::default(),
    );
    hub.seed_catalog().await.expect("seed");
    let key = hub.bootstrap().await.expect("bootstrap").expect("key");
    let caller = hub.authenticate(&key).await.unwrap().unwrap();
    let created = hub
        .create_connector(
            &caller,
            serde_json::from_value(json!({"name": "people", "type": "directory"})).unwrap(),
        )
        .await
        .expect("create");

    let hub_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hub_url = format!(
        "http://{}/api/connectors/{}/execute",
        hub_listener.local_addr().unwrap(),
        created.id
    );
    tokio::spawn(switchboard_server::serve(
        hub_listener,
        hub.clone(),
        std::future::pending(),
    ));

    // The baseline: the same answer from a bare axum handler.
    let reference = hub
        .execute(
            &caller,
            &created.id,
            serde_json::from_value(json!({"command": "lookup", "params": {"id": "E007"}})).unwrap(),
            None,
        )
        .await;
    let canned = serde_json::to_value(&reference).unwrap();
    let bare = Router::new().route(
        "/lookup",
        post(move |Json(_b): Json<Value>| {
            let canned = canned.clone();
            async move { Json(canned) }
        }),
    );
    let bare_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_url = format!("http://{}/lookup", bare_listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(bare_listener, bare).await });

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let body = json!({"command": "lookup", "params": {"id": "E007"}});
    let bare_f = measure(&client, bare_url, None, body.clone()).await;
    let hub_f = measure(&client, hub_url, Some(key.clone()), body).await;

    println!("directory.lookup via POST /api/connectors/:id/execute (SQLite store), {SEQUENTIAL} sequential calls, then {CONCURRENCY} concurrent for {}s", THROUGHPUT_WINDOW.as_secs());
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>12}",
        "", "p50", "p99", "mean", "req/s"
    );
    for (name, f) in [("bare axum endpoint", &bare_f), ("switchboard hub", &hub_f)] {
        println!(
            "{:<22} {:>10} {:>10} {:>10} {:>12.0}",
            name,
            ms(f.p50),
            ms(f.p99),
            ms(f.mean),
            f.rps
        );
    }
    let overhead = hub_f.p50.saturating_sub(bare_f.p50);
    println!(
        "hub p50 overhead: {} (target: within 0.300 ms) -> {}",
        ms(overhead),
        if overhead <= Duration::from_micros(300) {
            "MET"
        } else {
            "NOT MET"
        }
    );
    hub.flush().await;
}
