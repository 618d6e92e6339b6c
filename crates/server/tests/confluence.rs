//! The `confluence` connector over MCP against the Confluence Cloud simulator.

mod common;

use serde_json::{json, Value};
use switchboard_simulators::confluence::{self, ConfluenceSim};

use common::{backends, TestHub};

fn config(sim: &ConfluenceSim) -> Value {
    json!({"apiBaseUrl": sim.base_url, "siteUrl": "https://acme.atlassian.net",
           "email": confluence::EMAIL, "apiToken": confluence::API_TOKEN})
}

fn ok_data(env: &Value) -> &Value {
    assert_eq!(env["ok"], true, "{env}");
    &env["data"]
}

fn error(env: &Value) -> &Value {
    assert_eq!(env["ok"], false, "{env}");
    &env["error"]
}

async fn page_sizes(h: &TestHub, tool: &str, args: Value) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut a = args.clone();
        if let Some(c) = &cursor {
            a["cursor"] = json!(c);
        }
        let env = h.mcp_call(tool, a).await;
        sizes.push(ok_data(&env)["items"].as_array().unwrap().len());
        cursor = env["nextCursor"].as_str().map(str::to_string);
        if cursor.is_none() || sizes.len() > 20 {
            return sizes;
        }
    }
}

#[tokio::test]
async fn every_confluence_command_works_over_mcp() {
    for backend in backends().await {
        let sim = ConfluenceSim::start().await;
        let h = TestHub::start_for_simulators(backend).await;
        h.create_connector("confluence", "confluence", config(&sim))
            .await;

        let env = h.mcp_call("confluence.health", json!({})).await;
        assert_eq!(ok_data(&env)["user"], "Agent Smith");
        assert_eq!(
            page_sizes(&h, "confluence.list_spaces", json!({"limit": 3})).await,
            [3, 3, 2]
        );
        assert_eq!(
            page_sizes(
                &h,
                "confluence.search",
                json!({"cql": "type = page AND space = ENG", "limit": 12})
            )
            .await,
            [12, 12, 6]
        );
        let env = h
            .mcp_call(
                "confluence.search",
                json!({"cql": "title ~ \"Runbook 07\""}),
            )
            .await;
        let hit = &ok_data(&env)["items"][0];
        assert_eq!(hit["title"], "Runbook 07");
        assert_eq!(
            hit["url"],
            "https://acme.atlassian.net/wiki/spaces/ENG/pages/100007"
        );

        let env = h
            .mcp_call("confluence.get_page", json!({"pageId": "100007"}))
            .await;
        assert_eq!(ok_data(&env)["version"], 1);
        assert_eq!(env["data"]["body"], "<p>Steps for runbook 7.</p>");

        let args = json!({"spaceId": "65001", "title": "On-call", "body": "# On-call\n\n- page **twice**", "idempotencyKey": "cf-1"});
        let first = h.mcp_call("confluence.create_page", args.clone()).await;
        let second = h.mcp_call("confluence.create_page", args).await;
        let id = ok_data(&first)["id"].as_str().unwrap().to_string();
        assert_eq!(ok_data(&second)["id"], id.as_str());
        assert_eq!(sim.page_count(), confluence::ENG_PAGES + 1);
        assert_eq!(
            sim.page(&id).unwrap().body,
            "<h1>On-call</h1>\n<ul>\n<li>page <strong>twice</strong></li>\n</ul>\n"
        );

        // Update without a version: the current one is read first.
        let env = h
            .mcp_call(
                "confluence.update_page",
                json!({"pageId": id, "body": "v2"}),
            )
            .await;
        assert_eq!(ok_data(&env)["version"], 2);
        // With the version read: version + 1.
        let env = h
            .mcp_call(
                "confluence.update_page",
                json!({"pageId": id, "body": "v3", "version": 2, "title": "On-call rota"}),
            )
            .await;
        assert_eq!(ok_data(&env)["version"], 3);
        assert_eq!(sim.page(&id).unwrap().title, "On-call rota");
        // A stale version: conflict.
        let env = h
            .mcp_call(
                "confluence.update_page",
                json!({"pageId": id, "body": "late", "version": 1, "title": "x"}),
            )
            .await;
        assert_eq!(error(&env)["code"], "conflict");
        assert_eq!(env["error"]["vendorCode"], "CONFLICT");
        assert_eq!(sim.page(&id).unwrap().version, 3);
    }
}

#[tokio::test]
async fn confluence_failures_get_contract_codes() {
    let sim = ConfluenceSim::start().await;
    let h = TestHub::start_for_simulators(backends().await.remove(0)).await;
    h.create_connector("confluence", "confluence", config(&sim))
        .await;

    let env = h
        .mcp_call("confluence.search", json!({"cql": "space = \"ENG"}))
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert!(
        env["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Could not parse cql"),
        "{env}"
    );
    assert!(env["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Fix the CQL"));
    let env = h
        .mcp_call("confluence.get_page", json!({"pageId": "999"}))
        .await;
    assert_eq!(error(&env)["code"], "not_found");
    assert_eq!(env["error"]["vendorCode"], "NOT_FOUND");
    let env = h
        .mcp_call(
            "confluence.create_page",
            json!({"spaceId": "1", "title": "x", "body": "y"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert_eq!(env["error"]["vendorCode"], "INVALID_REQUEST_PARAMETER");
    let env = h
        .mcp_call("confluence.get_page", json!({"pageId": "../1"}))
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");

    sim.inject(429, &[("retry-after", "15")], "");
    let env = h.mcp_call("confluence.list_spaces", json!({})).await;
    assert_eq!(error(&env)["code"], "rate_limited");
    assert_eq!(env["error"]["retryAfterMs"], 15_000);

    let before = sim.seen().len();
    let env = h
        .mcp_call(
            "confluence.search",
            json!({"cql": "type = page", "cursor": "eyJzIjp7fX0.AAAA"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert_eq!(sim.seen().len(), before);

    h.create_connector(
        "confluence-bad",
        "confluence",
        json!({"apiBaseUrl": sim.base_url, "email": confluence::EMAIL, "apiToken": "nope"}),
    )
    .await;
    let env = h.mcp_call("confluence-bad.health", json!({})).await;
    assert_eq!(error(&env)["code"], "unauthorized");

    h.create_connector("confluence-slow", "confluence", json!({"apiBaseUrl": sim.base_url, "email": confluence::EMAIL, "apiToken": confluence::API_TOKEN, "timeoutMs": 200})).await;
    sim.set_delay(Some(std::time::Duration::from_millis(1500)));
    let env = h
        .mcp_call(
            "confluence-slow.create_page",
            json!({"spaceId": "65000", "title": "slow", "body": "x"}),
        )
        .await;
    sim.set_delay(None);
    assert_eq!(error(&env)["code"], "timeout");
}
