//! The `github` connector over MCP against the GitHub REST simulator: every command,
//! `Link` paging behind nextCursor, idempotent creates, rate limits and failures.

mod common;

use serde_json::{json, Value};
use switchboard_simulators::github::{self, GitHubSim};

use common::{backends, TestHub};

fn config(sim: &GitHubSim) -> Value {
    json!({"apiBaseUrl": sim.base_url, "accessToken": github::TOKEN})
}

fn ok_data(env: &Value) -> &Value {
    assert_eq!(env["ok"], true, "{env}");
    &env["data"]
}

fn error(env: &Value) -> &Value {
    assert_eq!(env["ok"], false, "{env}");
    &env["error"]
}

/// Every page of a paged tool: the number of items on each.
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
        if cursor.is_none() {
            return sizes;
        }
        assert!(sizes.len() < 20, "runaway paging");
    }
}

#[tokio::test]
async fn every_github_command_works_over_mcp() {
    for backend in backends().await {
        let sim = GitHubSim::start().await;
        let h = TestHub::start_for_simulators(backend).await;
        h.create_connector("github", "github", config(&sim)).await;

        let env = h.mcp_call("github.health", json!({})).await;
        assert_eq!(ok_data(&env)["login"], github::LOGIN);
        assert_eq!(env["meta"]["rateLimit"]["limit"], 5000, "{env}");
        assert!(env["meta"]["rateLimit"]["resetAt"].is_string());
        let env = h.mcp_call("github.whoami", json!({})).await;
        assert_eq!(ok_data(&env)["name"], "The Octocat");

        assert_eq!(
            page_sizes(&h, "github.list_repos", json!({"limit": 10})).await,
            [10, 10, 10, 5]
        );
        assert_eq!(
            page_sizes(
                &h,
                "github.search_issues",
                json!({"query": "repo:octo-org/hello is:issue state:open", "limit": 25})
            )
            .await,
            [25, 15]
        );
        assert_eq!(
            page_sizes(
                &h,
                "github.list_pull_requests",
                json!({"repo": github::REPO, "state": "all", "limit": 10})
            )
            .await,
            [10, 10, 5]
        );

        let env = h
            .mcp_call(
                "github.get_issue",
                json!({"repo": github::REPO, "number": 4}),
            )
            .await;
        assert_eq!(ok_data(&env)["title"], "Bug 4: crash on start");
        assert_eq!(env["data"]["labels"], json!(["bug"]));

        let args = json!({"repo": github::REPO, "title": "New crash", "body": "**boom**", "labels": ["bug"], "idempotencyKey": "gh-1"});
        let first = h.mcp_call("github.create_issue", args.clone()).await;
        let second = h.mcp_call("github.create_issue", args).await;
        let n = ok_data(&first)["number"].as_u64().unwrap();
        assert_eq!(ok_data(&second)["number"], n);
        assert_eq!(second["meta"]["replayed"], true);
        assert_eq!(sim.issue_count(), github::ISSUES + 1);
        assert_eq!(sim.count("POST", "/repos/octo-org/hello/issues"), 1);

        let env = h
            .mcp_call(
                "github.update_issue",
                json!({"repo": github::REPO, "number": n, "state": "closed"}),
            )
            .await;
        assert_eq!(ok_data(&env)["state"], "closed");
        assert_eq!(sim.issue(n).unwrap().state, "closed");

        let env = h
            .mcp_call(
                "github.add_comment",
                json!({"repo": github::REPO, "number": n, "body": "Fixed."}),
            )
            .await;
        assert!(ok_data(&env)["id"].is_u64());
        assert_eq!(sim.issue(n).unwrap().comments, ["Fixed."]);

        let env = h
            .mcp_call(
                "github.get_file",
                json!({"repo": github::REPO, "path": "src/main.rs"}),
            )
            .await;
        assert_eq!(
            ok_data(&env)["content"],
            "fn main() {\n    println!(\"hello\");\n}\n"
        );
        assert_eq!(env["data"]["encoding"], "utf-8");
    }
}

#[tokio::test]
async fn github_rate_limits_and_failures() {
    let sim = GitHubSim::start().await;
    let h = TestHub::start_for_simulators(backends().await.remove(0)).await;
    h.create_connector("github", "github", config(&sim)).await;

    // Primary limit: 403 with remaining 0 → rate_limited until the reset.
    sim.inject_primary_limit(120);
    let env = h.mcp_call("github.whoami", json!({})).await;
    assert_eq!(error(&env)["code"], "rate_limited");
    let wait = env["error"]["retryAfterMs"].as_u64().unwrap();
    assert!((100_000..=121_000).contains(&wait), "{wait}");
    assert_eq!(env["meta"]["rateLimit"]["remaining"], 0);
    // Secondary limits: 403 and 429 with Retry-After.
    for status in [403, 429] {
        sim.inject_secondary_limit(status, 60);
        let env = h.mcp_call("github.whoami", json!({})).await;
        assert_eq!(error(&env)["code"], "rate_limited", "{status}");
        assert_eq!(env["error"]["retryAfterMs"], 60_000);
        assert!(env["error"]["message"]
            .as_str()
            .unwrap()
            .contains("secondary rate limit"));
    }

    // 404, 422 (validation and search syntax), unknown repository in a search.
    let env = h
        .mcp_call(
            "github.get_issue",
            json!({"repo": github::REPO, "number": 999}),
        )
        .await;
    assert_eq!(error(&env)["code"], "not_found");
    assert_eq!(env["error"]["vendorCode"], "404");
    let env = h
        .mcp_call(
            "github.create_issue",
            json!({"repo": github::REPO, "title": "x", "assignees": ["ghost"]}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert_eq!(env["error"]["vendorCode"], "invalid");
    assert!(
        env["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Issue.assignees 'ghost'"),
        "{env}"
    );
    let env = h
        .mcp_call(
            "github.search_issues",
            json!({"query": "repo:nope/nope crash"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert!(env["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cannot be searched"));
    let env = h
        .mcp_call("github.search_issues", json!({"query": "bogus:x crash"}))
        .await;
    assert_eq!(env["error"]["vendorCode"], "invalid");
    let env = h
        .mcp_call(
            "github.get_file",
            json!({"repo": "octo-org/hello", "path": "../../etc/passwd"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    let env = h
        .mcp_call(
            "github.get_issue",
            json!({"repo": "octo-org/../x", "number": 1}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");

    // A Link to another host is never followed: the page comes back without a cursor.
    sim.set_link_override(Some("http://127.0.0.2:9/steal?page=2"));
    let env = h.mcp_call("github.list_repos", json!({"limit": 5})).await;
    assert_eq!(ok_data(&env)["items"].as_array().unwrap().len(), 5);
    assert!(env.get("nextCursor").is_none(), "{env}");
    assert!(env["warnings"].to_string().contains("not followed"));
    sim.set_link_override(None);
    // A forged cursor: refused before any request.
    let before = sim.seen().len();
    let env = h
        .mcp_call(
            "github.list_repos",
            json!({"cursor": "eyJzIjp7Im5leHQiOiJodHRwOi8vZXZpbCJ9fQ.AAAA"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert_eq!(sim.seen().len(), before);

    // Bad token: unauthorized with GitHub's message, token never echoed.
    h.create_connector(
        "github-bad",
        "github",
        json!({"apiBaseUrl": sim.base_url, "accessToken": "ghp_revoked"}),
    )
    .await;
    let env = h.mcp_call("github-bad.health", json!({})).await;
    assert_eq!(error(&env)["code"], "unauthorized");
    assert!(env["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Bad credentials"));
    assert!(!env.to_string().contains("ghp_revoked"));

    // Timeout.
    h.create_connector(
        "github-slow",
        "github",
        json!({"apiBaseUrl": sim.base_url, "accessToken": github::TOKEN, "timeoutMs": 200}),
    )
    .await;
    sim.set_delay(Some(std::time::Duration::from_millis(1500)));
    let env = h
        .mcp_call(
            "github-slow.create_issue",
            json!({"repo": github::REPO, "title": "slow"}),
        )
        .await;
    sim.set_delay(None);
    assert_eq!(error(&env)["code"], "timeout", "{env}");
}
