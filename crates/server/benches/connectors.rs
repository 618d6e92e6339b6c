//! The hub's own cost per vendor call: `jira.search_issues` returning 50 issues from the
//! Jira simulator, through the hub (in process, and over REST), next to the same search
//! sent to the simulator directly, in the same run with the same HTTP client settings.
//! Prints p50/p99 and the added cost; asserts nothing. Run: `cargo bench -p
//! switchboard-server --bench connectors`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard_runtime::http::{NetworkPolicy, OutboundClient, OutboundConfig};
use switchboard_runtime::{CursorSigner, Hub, HubSettings};
use switchboard_simulators::jira::{self, JiraSim};
use switchboard_store::testing::{TestBackend, TestDb};

const WARMUP: usize = 200;
const CALLS: usize = 2000;
const ISSUES: usize = 50;

struct Figures {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

async fn timed<F, Fut>(mut call: F) -> Figures
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for _ in 0..WARMUP {
        call().await;
    }
    let mut lat = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let t = Instant::now();
        call().await;
        lat.push(t.elapsed());
    }
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
    Figures {
        p50: p(0.50),
        p99: p(0.99),
        mean: lat.iter().sum::<Duration>() / lat.len() as u32,
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
    let sim = JiraSim::start().await;
    let db = TestDb::open(TestBackend::Sqlite).await;
    let http = OutboundClient::new(
        NetworkPolicy::new(vec!["127.0.0.0/8".parse().expect("cidr")]),
        OutboundConfig::default(),
    )
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
            serde_json::from_value(json!({"name": "jira", "type": "jira", "config": {
                "apiBaseUrl": sim.base_url, "email": jira::EMAIL, "apiToken": jira::API_TOKEN}}))
            .unwrap(),
        )
        .await
        .expect("create");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rest_url = format!(
        "http://{}/api/connectors/{}/execute",
        listener.local_addr().unwrap(),
        created.id
    );
    tokio::spawn(switchboard_server::serve(
        listener,
        hub.clone(),
        std::future::pending(),
    ));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let params =
        json!({"command": "search_issues", "params": {"jql": "project = ENG", "limit": ISSUES}});

    // Sanity: the hub returns 50 reshaped issues and a cursor.
    let env = hub
        .execute(
            &caller,
            &created.id,
            serde_json::from_value(params.clone()).unwrap(),
            None,
        )
        .await;
    let env = serde_json::to_value(&env).unwrap();
    assert_eq!(
        env["data"]["items"].as_array().map(Vec::len),
        Some(ISSUES),
        "{env}"
    );

    // 1. The simulator, called directly with the request the connector sends.
    let direct_url = format!("{}/rest/api/3/search/jql", sim.base_url);
    let direct_body = json!({"jql": "project = ENG", "maxResults": ISSUES, "fields": [
        "summary", "status", "issuetype", "priority", "assignee", "reporter", "project", "labels", "created", "updated"]});
    let direct = timed(|| {
        let (client, url, body) = (client.clone(), direct_url.clone(), direct_body.clone());
        async move {
            let resp = client
                .post(&url)
                .basic_auth(jira::EMAIL, Some(jira::API_TOKEN))
                .json(&body)
                .send()
                .await
                .expect("direct");
            let v: Value = resp.json().await.expect("json");
            assert_eq!(v["issues"].as_array().map(Vec::len), Some(ISSUES));
        }
    })
    .await;

    // 2. Through the hub, in process: key → connector → dispatch → outbound → reshape → envelope.
    let in_process = timed(|| {
        let (hub, caller, id, p) = (
            hub.clone(),
            caller.clone(),
            created.id.clone(),
            params.clone(),
        );
        async move {
            let env = hub
                .execute(&caller, &id, serde_json::from_value(p).unwrap(), None)
                .await;
            assert!(env.ok);
        }
    })
    .await;

    // 3. Through the hub's REST surface (adds the caller → hub HTTP hop).
    let rest = timed(|| {
        let (client, url, key, p) = (
            client.clone(),
            rest_url.clone(),
            key.clone(),
            params.clone(),
        );
        async move {
            let resp = client
                .post(&url)
                .bearer_auth(&key)
                .json(&p)
                .send()
                .await
                .expect("rest");
            assert!(resp.status().is_success());
            let _ = resp.bytes().await.expect("body");
        }
    })
    .await;

    println!("jira.search_issues returning {ISSUES} issues from the Jira simulator, {CALLS} sequential calls each");
    println!("{:<34} {:>10} {:>10} {:>10}", "", "p50", "p99", "mean");
    for (name, f) in [
        ("simulator called directly", &direct),
        ("hub in process (Hub::execute)", &in_process),
        ("hub over REST execute", &rest),
    ] {
        println!(
            "{:<34} {:>10} {:>10} {:>10}",
            name,
            ms(f.p50),
            ms(f.p99),
            ms(f.mean)
        );
    }
    let added = in_process.p50.saturating_sub(direct.p50);
    println!(
        "hub's own cost at p50 (in process − direct): {} (target: under 0.500 ms) -> {}",
        ms(added),
        if added < Duration::from_micros(500) {
            "MET"
        } else {
            "NOT MET"
        }
    );
    println!(
        "hub's own cost at p99: {}; in mean: {}; over REST at p50: {}",
        ms(in_process.p99.saturating_sub(direct.p99)),
        ms(in_process.mean.saturating_sub(direct.mean)),
        ms(rest.p50.saturating_sub(direct.p50))
    );
    hub.flush().await;
}
