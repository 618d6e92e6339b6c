//! The `jira` connector over MCP against the Jira Cloud simulator: every command,
//! paging with nextCursor, idempotent creates, and each failure an agent can meet.

mod common;

use serde_json::{json, Value};
use switchboard_simulators::jira::{self, JiraSim};

use common::{backends, TestHub};

fn config(sim: &JiraSim) -> Value {
    json!({"apiBaseUrl": sim.base_url, "siteUrl": "https://acme.atlassian.net",
           "email": jira::EMAIL, "apiToken": jira::API_TOKEN})
}

fn ok_data(env: &Value) -> &Value {
    assert_eq!(env["ok"], true, "{env}");
    &env["data"]
}

fn error(env: &Value) -> &Value {
    assert_eq!(env["ok"], false, "{env}");
    &env["error"]
}

#[tokio::test]
async fn every_jira_command_works_over_mcp() {
    for backend in backends().await {
        let sim = JiraSim::start().await;
        let h = TestHub::start_for_simulators(backend).await;
        h.create_connector("jira", "jira", config(&sim)).await;
        let label = h.label();

        let env = h.mcp_call("jira.health", json!({})).await;
        assert_eq!(ok_data(&env)["user"], "Agent Smith", "{label}");
        assert_eq!(env["data"]["authMode"], "apiToken");
        assert_eq!(env["meta"]["rateLimit"]["limit"], 100, "{env}");

        let env = h.mcp_call("jira.whoami", json!({})).await;
        assert_eq!(ok_data(&env)["emailAddress"], jira::EMAIL);

        // Projects: 12, five per page → three pages.
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        for page in 0.. {
            let mut args = json!({"limit": 5});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let env = h.mcp_call("jira.list_projects", args).await;
            for p in ok_data(&env)["items"].as_array().unwrap() {
                keys.push(p["key"].as_str().unwrap().to_string());
            }
            cursor = env["nextCursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                assert_eq!(page, 2, "{label}: three pages of projects");
                break;
            }
        }
        assert_eq!(keys.len(), 12);
        assert_eq!(keys[0], "ENG");

        // Search: 120 issues in ENG, 50 per page → 50, 50, 20, keys never repeated.
        let jql = "project = ENG ORDER BY created ASC";
        let mut seen = std::collections::HashSet::new();
        let mut sizes = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut args = json!({"jql": jql, "limit": 50});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let env = h.mcp_call("jira.search_issues", args).await;
            let items = ok_data(&env)["items"].as_array().unwrap().clone();
            sizes.push(items.len());
            for i in &items {
                assert!(seen.insert(i["key"].as_str().unwrap().to_string()));
                assert!(i["summary"].as_str().unwrap().starts_with("ENG issue"));
                assert!(i["status"].is_string() && i["issueType"].is_string());
            }
            cursor = env["nextCursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                break;
            }
            // The vendor's page token stays inside the hub's signed cursor.
            assert!(!env.to_string().contains("jira-page"), "{env}");
        }
        assert_eq!(sizes, [50, 50, 20], "{label}");
        assert_eq!(seen.len(), jira::ENG_ISSUES);

        // Projection: only the asked fields come back.
        let env = h
            .mcp_call(
                "jira.search_issues",
                json!({"jql": "project = OPS", "fields": ["key", "status"]}),
            )
            .await;
        let first = &ok_data(&env)["items"][0];
        assert_eq!(first.as_object().unwrap().len(), 2, "{first}");

        let env = h
            .mcp_call("jira.get_issue", json!({"issueKey": "ENG-7"}))
            .await;
        let issue = ok_data(&env);
        assert_eq!(issue["key"], "ENG-7");
        assert_eq!(issue["description"], "Details of ENG-7.");
        assert_eq!(issue["url"], "https://acme.atlassian.net/browse/ENG-7");

        // Create with an idempotency key, twice: one issue at the vendor.
        let before = sim.issue_count("OPS");
        let args = json!({"projectKey": "OPS", "issueType": "Bug", "summary": "Disk full on db-1",
            "description": "## Impact\n\n- writes **fail**\n- reads ok\n\n```sh\ndf -h\n```",
            "fields": {"labels": ["ops"]}, "idempotencyKey": "create-ops-1"});
        let first = h.mcp_call("jira.create_issue", args.clone()).await;
        let second = h.mcp_call("jira.create_issue", args).await;
        let key = ok_data(&first)["key"].as_str().unwrap().to_string();
        assert_eq!(ok_data(&second)["key"], key.as_str());
        assert_eq!(second["meta"]["replayed"], true, "{second}");
        assert_eq!(sim.issue_count("OPS"), before + 1, "{label}: one create");
        assert_eq!(sim.count("POST", "/rest/api/3/issue"), 1);
        let (fields, _, _) = sim.issue(&key).unwrap();
        let doc = &fields["description"];
        assert_eq!(doc["type"], "doc");
        assert_eq!(doc["content"][0]["type"], "heading");
        assert_eq!(doc["content"][1]["type"], "bulletList");
        assert_eq!(doc["content"][2]["type"], "codeBlock");
        assert_eq!(fields["labels"], json!(["ops"]));

        let env = h
            .mcp_call(
                "jira.update_issue",
                json!({"issueKey": key, "summary": "Disk full on db-1 (again)", "idempotencyKey": "u1"}),
            )
            .await;
        assert_eq!(ok_data(&env)["updated"], json!(["summary"]));
        assert_eq!(
            sim.issue(&key).unwrap().0["summary"],
            "Disk full on db-1 (again)"
        );

        let env = h
            .mcp_call(
                "jira.add_comment",
                json!({"issueKey": key, "body": "Looking into it *now*."}),
            )
            .await;
        assert!(ok_data(&env)["id"].is_string());
        let comments = sim.issue(&key).unwrap().2;
        assert_eq!(comments.len(), 1);
        assert_eq!(
            comments[0]["body"]["content"][0]["content"][1]["marks"][0]["type"],
            "em"
        );

        let env = h
            .mcp_call("jira.list_transitions", json!({"issueKey": key}))
            .await;
        assert_eq!(ok_data(&env)["items"].as_array().unwrap().len(), 3);

        let env = h
            .mcp_call(
                "jira.transition_issue",
                json!({"issueKey": key, "transition": "done"}),
            )
            .await;
        assert_eq!(ok_data(&env)["status"], "Done");
        assert_eq!(sim.issue(&key).unwrap().1, "Done");
        let env = h
            .mcp_call(
                "jira.transition_issue",
                json!({"issueKey": key, "transition": "Teleport"}),
            )
            .await;
        assert!(error(&env)["message"]
            .as_str()
            .unwrap()
            .contains("available: To Do (11)"));
    }
}

#[tokio::test]
async fn jira_failures_get_contract_codes_and_vendor_codes() {
    let sim = JiraSim::start().await;
    let h = TestHub::start_for_simulators(backends().await.remove(0)).await;
    h.create_connector("jira", "jira", config(&sim)).await;

    // 429 with Retry-After: rate_limited with the hint (too long to wait for in the call).
    sim.inject_rate_limit(30);
    let env = h
        .mcp_call("jira.search_issues", json!({"jql": "project = ENG"}))
        .await;
    assert_eq!(error(&env)["code"], "rate_limited");
    assert_eq!(env["error"]["retryAfterMs"], 30_000);
    assert_eq!(env["error"]["vendorCode"], "429");
    assert_eq!(env["meta"]["rateLimit"]["remaining"], 0, "{env}");

    // A short Retry-After on a read is waited for and retried by the hub.
    sim.inject_rate_limit(0);
    let env = h
        .mcp_call("jira.get_issue", json!({"issueKey": "ENG-1"}))
        .await;
    assert_eq!(ok_data(&env)["key"], "ENG-1");

    // 404.
    let env = h
        .mcp_call("jira.get_issue", json!({"issueKey": "ENG-9999"}))
        .await;
    assert_eq!(error(&env)["code"], "not_found");
    assert_eq!(env["error"]["vendorCode"], "404");
    assert!(env["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Issue does not exist"));

    // JQL syntax error, unknown project, unbounded query.
    for (jql, expect) in [
        ("project = ", "Error in the JQL Query"),
        ("project = NOPE", "The value 'NOPE' does not exist"),
        ("ORDER BY created", "Unbounded JQL"),
    ] {
        let env = h.mcp_call("jira.search_issues", json!({"jql": jql})).await;
        assert_eq!(error(&env)["code"], "invalid_input", "{jql}");
        assert_eq!(env["error"]["vendorCode"], "400");
        let msg = env["error"]["message"].as_str().unwrap();
        assert!(msg.contains(expect), "{jql}: {msg}");
        assert!(msg.contains("Fix the JQL"), "{msg}");
    }

    // Vendor validation: an unknown project, a field Jira refuses.
    let env = h
        .mcp_call(
            "jira.create_issue",
            json!({"projectKey": "NOPE", "issueType": "Task", "summary": "x"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert_eq!(env["error"]["vendorCode"], "400:project");
    let env = h
        .mcp_call(
            "jira.create_issue",
            json!({"projectKey": "ENG", "issueType": "Task", "summary": "x", "fields": {"storyPoints": 3}}),
        )
        .await;
    assert_eq!(env["error"]["vendorCode"], "400:storyPoints", "{env}");
    assert!(env["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot be set"));
    // A failed create with an idempotency key is not replayed as success.
    assert_eq!(sim.issue_count("ENG"), jira::ENG_ISSUES);

    // A forged cursor is refused before any request; so is one from another query.
    let before = sim.seen().len();
    let env = h
        .mcp_call(
            "jira.search_issues",
            json!({"jql": "project = ENG", "cursor": "eyJzIjp7InRva2VuIjoiYSJ9fQ.AAAA"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert_eq!(sim.seen().len(), before, "no request for a forged cursor");
    let env = h
        .mcp_call(
            "jira.search_issues",
            json!({"jql": "project = ENG", "limit": 10}),
        )
        .await;
    let cursor = env["nextCursor"].as_str().unwrap().to_string();
    let before = sim.seen().len();
    let env = h
        .mcp_call(
            "jira.search_issues",
            json!({"jql": "project = OPS", "cursor": cursor}),
        )
        .await;
    assert!(error(&env)["message"]
        .as_str()
        .unwrap()
        .contains("different jql"));
    assert_eq!(sim.seen().len(), before);

    // An expired or wrong token: unauthorized, so the hub may refresh and retry.
    h.create_connector(
        "jira-bad",
        "jira",
        json!({"apiBaseUrl": sim.base_url, "email": jira::EMAIL, "apiToken": "revoked"}),
    )
    .await;
    let env = h.mcp_call("jira-bad.health", json!({})).await;
    assert_eq!(error(&env)["code"], "unauthorized");
    assert_eq!(env["error"]["vendorCode"], "401");
    assert!(!env.to_string().contains("revoked"));

    // OAuth access token (pasted, or put there by the sign-in flow).
    h.create_connector(
        "jira-oauth",
        "jira",
        json!({"apiBaseUrl": sim.base_url, "accessToken": jira::ACCESS_TOKEN, "cloudId": "abc"}),
    )
    .await;
    let env = h.mcp_call("jira-oauth.health", json!({})).await;
    assert_eq!(ok_data(&env)["authMode"], "oauth");

    // A network timeout: the vendor answers after the connector's timeout.
    h.create_connector(
        "jira-slow",
        "jira",
        json!({"apiBaseUrl": sim.base_url, "email": jira::EMAIL, "apiToken": jira::API_TOKEN, "timeoutMs": 200}),
    )
    .await;
    sim.set_delay(Some(std::time::Duration::from_millis(1500)));
    let env = h
        .mcp_call(
            "jira-slow.create_issue",
            json!({"projectKey": "ENG", "issueType": "Task", "summary": "slow"}),
        )
        .await;
    sim.set_delay(None);
    assert_eq!(error(&env)["code"], "timeout", "{env}");
    // No config at all: a clear message naming what to set.
    h.create_connector("jira-empty", "jira", json!({})).await;
    let env = h.mcp_call("jira-empty.whoami", json!({})).await;
    assert!(
        error(&env)["message"]
            .as_str()
            .unwrap()
            .contains("has no credentials"),
        "{env}"
    );
}
