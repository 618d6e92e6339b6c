//! Script connector call overhead: the sample script connector's `echo` next to the
//! built-in `directory.echo`, both through `Hub::execute` (the path REST and MCP take)
//! in the same run, with a warm runtime pool; then 16 concurrent callers; then peak
//! memory. Prints figures; asserts nothing. Run: `cargo bench -p switchboard-server --bench script`.

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::hub::ExecuteRequest;
use switchboard_runtime::{Caller, CursorSigner, Hub, HubSettings};
use switchboard_store::testing::{TestBackend, TestDb};

const WARMUP: usize = 500;
const SEQUENTIAL: usize = 5000;
const CONCURRENCY: usize = 16;
const THROUGHPUT_WINDOW: Duration = Duration::from_secs(3);

struct Figures {
    p50: Duration,
    p99: Duration,
    mean: Duration,
    rps: f64,
}

fn request(message: &str) -> ExecuteRequest {
    serde_json::from_value(json!({"command": "echo", "params": {"message": message}}))
        .expect("request")
}

async fn measure(hub: &Hub, caller: &Caller, connector: &str) -> Figures {
    let call = |hub: Hub, caller: Caller, connector: String| async move {
        let env = hub
            .execute(&caller, &connector, request("hello"), None)
            .await;
        assert!(env.ok, "{:?}", env.error);
    };
    for _ in 0..WARMUP {
        call(hub.clone(), caller.clone(), connector.to_string()).await;
    }
    let mut lat = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let t = Instant::now();
        call(hub.clone(), caller.clone(), connector.to_string()).await;
        lat.push(t.elapsed());
    }
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    let mean = lat.iter().sum::<Duration>() / lat.len() as u32;

    let deadline = Instant::now() + THROUGHPUT_WINDOW;
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (hub, caller, connector) = (hub.clone(), caller.clone(), connector.to_string());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while Instant::now() < deadline {
                call(hub.clone(), caller.clone(), connector.clone()).await;
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

/// `VmHWM` (peak RSS) and `VmRSS` of this process, in kB (Linux).
fn memory_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let db = TestDb::open(TestBackend::Sqlite).await;
    let http = OutboundClient::new(NetworkPolicy::new(Vec::new()), OutboundConfig::default())
        .expect("client");
    let settings = HubSettings::default();
    let workers = settings.script.workers;
    let hub = Hub::new(
        db.store.clone(),
        switchboard_connectors::registry(),
        http,
        CursorSigner::new([5; 32]),
        settings,
    );
    hub.seed_catalog().await.expect("seed");
    let key = hub.bootstrap().await.expect("bootstrap").expect("key");
    let caller = hub.authenticate(&key).await.unwrap().unwrap();
    for (name, ty) in [("people", "directory"), ("staff", "sample-script")] {
        hub.create_connector(
            &caller,
            serde_json::from_value(json!({"name": name, "type": ty})).unwrap(),
        )
        .await
        .expect("create");
    }
    let (hwm_before, rss_before) = memory_kb();

    // The script runs first so the peak it reaches is its own: the built-in's far higher
    // call rate queues audit entries in memory faster than they are written.
    let script = measure(&hub, &caller, "staff").await;
    hub.flush().await;
    let (hwm_script, rss_script) = memory_kb();
    let builtin = measure(&hub, &caller, "people").await;
    hub.flush().await;
    let (hwm_after, rss_after) = memory_kb();

    println!(
        "echo through Hub::execute (SQLite store), {SEQUENTIAL} sequential calls after {WARMUP} warm-up, \
         then {CONCURRENCY} concurrent for {}s; script pool: {workers} warm runtimes",
        THROUGHPUT_WINDOW.as_secs()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>10} {:>12}",
        "", "p50", "p99", "mean", "calls/s"
    );
    for (name, f) in [
        ("built-in directory.echo", &builtin),
        ("script sample-script.echo", &script),
    ] {
        println!(
            "{:<34} {:>10} {:>10} {:>10} {:>12.0}",
            name,
            ms(f.p50),
            ms(f.p99),
            ms(f.mean),
            f.rps
        );
    }
    let overhead = script.p50.saturating_sub(builtin.p50);
    println!(
        "script p50: {} (target under 1 ms) -> {}; over the built-in: {}",
        ms(script.p50),
        if script.p50 < Duration::from_millis(1) {
            "MET"
        } else {
            "NOT MET"
        },
        ms(overhead)
    );
    println!(
        "memory: peak RSS {} MB before the calls, {} MB after the script runs (RSS {} MB -> {} MB), \
         {} MB after the built-in runs (RSS {} MB)",
        hwm_before / 1024,
        hwm_script / 1024,
        rss_before / 1024,
        rss_script / 1024,
        hwm_after / 1024,
        rss_after / 1024
    );
    hub.flush().await;
}
