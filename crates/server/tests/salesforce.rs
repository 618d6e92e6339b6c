//! The `salesforce` connector over MCP against the Salesforce REST simulator: every
//! command, SOQL paging behind nextCursor, idempotent creates, error arrays.

mod common;

use serde_json::{json, Value};
use switchboard_simulators::salesforce::{self, SalesforceSim};

use common::{backends, TestHub};

fn config(sim: &SalesforceSim) -> Value {
    json!({"instanceUrl": sim.base_url, "accessToken": salesforce::ACCESS_TOKEN})
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
async fn every_salesforce_command_works_over_mcp() {
    for backend in backends().await {
        let sim = SalesforceSim::start().await;
        let h = TestHub::start_for_simulators(backend).await;
        h.create_connector("salesforce", "salesforce", config(&sim))
            .await;

        let env = h.mcp_call("salesforce.health", json!({})).await;
        assert_eq!(ok_data(&env)["dailyApiRequests"]["remaining"], 14975);
        // Sforce-Limit-Info: api-usage=25/15000.
        assert_eq!(
            env["meta"]["rateLimit"],
            json!({"limit": 15000, "remaining": 14975}),
            "{env}"
        );
        let env = h.mcp_call("salesforce.whoami", json!({})).await;
        assert_eq!(ok_data(&env)["username"], "agent@acme.example");
        let env = h.mcp_call("salesforce.list_objects", json!({})).await;
        let names: Vec<&str> = ok_data(&env)["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Account", "Contact"]);
        let env = h
            .mcp_call("salesforce.describe_object", json!({"object": "Account"}))
            .await;
        let name_field = ok_data(&env)["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == "Name")
            .unwrap()
            .clone();
        assert_eq!(name_field["required"], true);

        // 450 accounts, batch 200: 200, 200, 50 with no record twice.
        let soql = "SELECT Id, Name FROM Account";
        let mut sizes = Vec::new();
        let mut ids = std::collections::HashSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut args = json!({"soql": soql, "limit": 200});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let env = h.mcp_call("salesforce.search_records", args).await;
            let items = ok_data(&env)["items"].as_array().unwrap().clone();
            assert_eq!(env["data"]["totalSize"], salesforce::ACCOUNTS);
            sizes.push(items.len());
            for r in &items {
                assert!(r.get("attributes").is_none());
                assert!(ids.insert(r["Id"].as_str().unwrap().to_string()));
            }
            cursor = env["nextCursor"].as_str().map(str::to_string);
            if cursor.is_none() {
                break;
            }
            assert!(
                !env.to_string().contains("/services/data"),
                "the vendor URL stays inside the signed cursor"
            );
        }
        assert_eq!(sizes, [200, 200, 50]);

        let env = h
            .mcp_call(
                "salesforce.search_records",
                json!({"soql": "SELECT Name FROM Account WHERE Industry = 'Energy' LIMIT 5"}),
            )
            .await;
        assert_eq!(ok_data(&env)["items"].as_array().unwrap().len(), 5);

        let id = "001000000000000007";
        let env = h
            .mcp_call(
                "salesforce.get_record",
                json!({"object": "Account", "id": id, "fields": ["Name"]}),
            )
            .await;
        assert_eq!(ok_data(&env), &json!({"Name": "Account 007"}));

        let args = json!({"object": "Account", "fields": {"Name": "Globex", "Industry": "Energy"}, "idempotencyKey": "sf-1"});
        let first = h.mcp_call("salesforce.create_record", args.clone()).await;
        let second = h.mcp_call("salesforce.create_record", args).await;
        let new_id = ok_data(&first)["id"].as_str().unwrap().to_string();
        assert_eq!(ok_data(&second)["id"], new_id.as_str());
        assert_eq!(second["meta"]["replayed"], true);
        assert_eq!(sim.record_count("Account"), salesforce::ACCOUNTS + 1);
        assert_eq!(
            sim.count("POST", "/services/data/v60.0/sobjects/Account"),
            1
        );

        let env = h
            .mcp_call(
                "salesforce.update_record",
                json!({"object": "Account", "id": new_id, "fields": {"BillingCity": "Oslo"}}),
            )
            .await;
        assert_eq!(ok_data(&env)["updated"], json!(["BillingCity"]));
        assert_eq!(
            sim.record("Account", &new_id).unwrap()["BillingCity"],
            "Oslo"
        );
    }
}

#[tokio::test]
async fn salesforce_errors_map_to_contract_codes() {
    let sim = SalesforceSim::start().await;
    let h = TestHub::start_for_simulators(backends().await.remove(0)).await;
    h.create_connector("salesforce", "salesforce", config(&sim))
        .await;

    let cases = [
        (json!({"soql": "SELEC Id FROM Account"}), "MALFORMED_QUERY"),
        (json!({"soql": "SELECT Nme FROM Account"}), "INVALID_FIELD"),
        (json!({"soql": "SELECT Id FROM Nope__c"}), "INVALID_TYPE"),
    ];
    for (args, vendor) in cases {
        let env = h.mcp_call("salesforce.search_records", args).await;
        assert_eq!(error(&env)["code"], "invalid_input", "{env}");
        assert_eq!(env["error"]["vendorCode"], vendor);
        assert!(env["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Fix the SOQL"));
    }
    let env = h
        .mcp_call(
            "salesforce.create_record",
            json!({"object": "Account", "fields": {"Industry": "Energy"}}),
        )
        .await;
    assert_eq!(error(&env)["vendorCode"], "REQUIRED_FIELD_MISSING");
    assert!(
        env["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[fields: Name]"),
        "{env}"
    );
    let env = h
        .mcp_call(
            "salesforce.create_record",
            json!({"object": "Account", "fields": {"Name": "x", "Colour": "red"}}),
        )
        .await;
    assert_eq!(error(&env)["vendorCode"], "INVALID_FIELD");
    let env = h
        .mcp_call("salesforce.describe_object", json!({"object": "Nope__c"}))
        .await;
    assert_eq!(error(&env)["code"], "not_found");
    assert_eq!(env["error"]["vendorCode"], "NOT_FOUND");
    let env = h
        .mcp_call(
            "salesforce.get_record",
            json!({"object": "Account", "id": "001000000000999999"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "not_found");
    let env = h
        .mcp_call(
            "salesforce.get_record",
            json!({"object": "Account/../x", "id": "001000000000999999"}),
        )
        .await;
    assert_eq!(error(&env)["code"], "invalid_input");

    // REQUEST_LIMIT_EXCEEDED (403) is rate_limited.
    sim.inject_request_limit();
    let env = h.mcp_call("salesforce.list_objects", json!({})).await;
    assert_eq!(error(&env)["code"], "rate_limited");
    assert_eq!(env["error"]["vendorCode"], "REQUEST_LIMIT_EXCEEDED");
    assert!(env["error"]["retryAfterMs"].as_u64().unwrap() > 0);
    assert_eq!(env["meta"]["rateLimit"]["remaining"], 0);
    // A 429 with Retry-After.
    sim.inject(429, &[("retry-after", "20")], "");
    let env = h.mcp_call("salesforce.list_objects", json!({})).await;
    assert_eq!(error(&env)["code"], "rate_limited");
    assert_eq!(env["error"]["retryAfterMs"], 20_000);

    // A nextRecordsUrl on another host is never followed (nor put in a cursor).
    sim.set_next_url_override(Some(
        "http://127.0.0.2:9/services/data/v60.0/query/steal-200",
    ));
    let env = h
        .mcp_call(
            "salesforce.search_records",
            json!({"soql": "SELECT Id FROM Account", "limit": 200}),
        )
        .await;
    assert!(env.get("nextCursor").is_none(), "{env}");
    assert!(env["warnings"].to_string().contains("not followed"));
    sim.set_next_url_override(None);
    // A forged cursor never reaches the vendor.
    let before = sim.seen().len();
    let env = h.mcp_call("salesforce.search_records", json!({"soql": "SELECT Id FROM Account", "cursor": "eyJzIjp7Im5leHQiOiJodHRwOi8vZXZpbC9zZXJ2aWNlcy9kYXRhLyJ9fQ.AAAA"})).await;
    assert_eq!(error(&env)["code"], "invalid_input");
    assert_eq!(sim.seen().len(), before);

    // Expired token.
    h.create_connector(
        "salesforce-bad",
        "salesforce",
        json!({"instanceUrl": sim.base_url, "accessToken": "expired"}),
    )
    .await;
    let env = h.mcp_call("salesforce-bad.whoami", json!({})).await;
    assert_eq!(error(&env)["code"], "unauthorized");
    assert_eq!(env["error"]["vendorCode"], "INVALID_SESSION_ID");

    // Timeout.
    h.create_connector("salesforce-slow", "salesforce", json!({"instanceUrl": sim.base_url, "accessToken": salesforce::ACCESS_TOKEN, "timeoutMs": 200})).await;
    sim.set_delay(Some(std::time::Duration::from_millis(1500)));
    let env = h
        .mcp_call(
            "salesforce-slow.create_record",
            json!({"object": "Account", "fields": {"Name": "slow"}}),
        )
        .await;
    sim.set_delay(None);
    assert_eq!(error(&env)["code"], "timeout");
}
